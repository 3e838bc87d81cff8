#include "storage/token_filter.h"

#include <doctest/doctest.h>

#include <bit>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using namespace sluice::storage;

namespace {

std::vector<std::string> tokens_of(std::string_view text) {
  std::vector<std::string> out;
  std::string scratch;
  for_each_token(text, scratch, [&](std::string_view token) { out.emplace_back(token); });
  return out;
}

using Tokens = std::vector<std::string>;

}  // namespace

TEST_CASE("tokenizer: words, separators, case and UTF-8") {
  CHECK(tokens_of("GET /index.html HTTP/1.1") == Tokens{"get", "index", "html", "http", "1", "1"});
  CHECK(tokens_of("").empty());
  CHECK(tokens_of(" \t\n-/.,;:!?\"'()[]{}<>=+*&^%$#@~`|\\").empty());
  CHECK(tokens_of("Failed password for Invalid_User root") ==
        Tokens{"failed", "password", "for", "invalid_user", "root"});
  CHECK(tokens_of("a") == Tokens{"a"});
  CHECK(tokens_of("..a..") == Tokens{"a"});
  CHECK(tokens_of("x=1,y=22;z") == Tokens{"x", "1", "y", "22", "z"});
  CHECK(tokens_of("10.0.0.1:8080") == Tokens{"10", "0", "0", "1", "8080"});
  // Non-ASCII bytes stay inside their word, unchanged (no Unicode folding).
  CHECK(tokens_of("Grüße aus Köln") == Tokens{"grüße", "aus", "köln"});
  CHECK(tokens_of("ÄRGER") == Tokens{"Ärger"});  // only ASCII letters are lowered
  CHECK(tokens_of("日本語 テスト") == Tokens{"日本語", "テスト"});
  CHECK(tokens_of(std::string_view("a\0b", 3)) == Tokens{"a", "b"});
  CHECK(tokens_of("\xff\xfe") == Tokens{"\xff\xfe"});  // invalid UTF-8 is still bytes of a word
  CHECK(tokens_of("MiXeD CaSe lower UPPER") == Tokens{"mixed", "case", "lower", "upper"});
}

TEST_CASE("tokenizer: lowercase tokens view the text itself; the scratch is reused") {
  const std::string text = "abc DEF ghi";
  std::string scratch;
  std::vector<bool> in_text;
  for_each_token(text, scratch, [&](std::string_view token) {
    in_text.push_back(token.data() >= text.data() && token.data() < text.data() + text.size());
  });
  CHECK(in_text == std::vector<bool>{true, false, true});
}

TEST_CASE("hash_bytes: fixed values, pinned because filters on disk hold them") {
  // If one of these changes, every stored filter gives false negatives:
  // bump the store format instead of editing the numbers.
  CHECK(hash_bytes("") == 0x83bc097d4367115cull);
  CHECK(hash_bytes("a") == 0x34b7893731c01f5bull);
  CHECK(hash_bytes("abcdefgh") == 0x130dbe40c51044a9ull);
  CHECK(hash_bytes("abcdefghi") == 0xcd2935ef4e3a5bbcull);
  CHECK(hash_bytes("The quick brown fox jumps over the lazy dog") == 0x93fafc40933913e7ull);
  CHECK(hash_bytes("a", 1) == 0x9a7df8a1873585fcull);
  CHECK(text_token_hash("error") == 0xb10bb6688eeebbbeull);
  CHECK(field_token_hash("host", "web-1") == 0x4272737ed44ffc52ull);
  // The bit layout of a filter is stored too.
  BloomFilterBuilder builder;
  for (const char* word : {"error", "web-1", "ssh", "4711"}) builder.add(text_token_hash(word));
  std::string serialized;
  builder.finish(10, serialized);
  CHECK(serialized.size() == 65);
  CHECK(serialized[0] == 6);
  CHECK(hash_bytes(serialized) == 0x10bc4cdad009c764ull);
}

TEST_CASE("hash_word is hash_bytes of up to 8 bytes held in a word") {
  std::mt19937_64 rng(91);
  for (int i = 0; i < 10000; ++i) {
    const size_t n = 1 + rng() % 8;
    char bytes[8];
    uint64_t word = 0;
    for (size_t k = 0; k < n; ++k) {
      bytes[k] = static_cast<char>(rng());
      word |= uint64_t{static_cast<unsigned char>(bytes[k])} << (8 * k);
    }
    const uint64_t seed = rng() % 3 == 0 ? 0 : rng();
    REQUIRE(hash_word(word, n, seed) == hash_bytes(std::string_view(bytes, n), seed));
  }
}

TEST_CASE("hash_bytes: lengths, seeds and namespaces separate keys") {
  CHECK(hash_bytes("a") != hash_bytes(std::string_view("a\0", 2)));
  CHECK(hash_bytes("") != hash_bytes(std::string_view("\0", 1)));
  CHECK(hash_bytes("abc", 1) != hash_bytes("abc", 2));
  CHECK(field_token_hash("ab", "c") != field_token_hash("a", "bc"));
  CHECK(field_token_hash("host", "web") != text_token_hash("web"));
  CHECK(field_token_hash("host", "web-1") == hash_bytes("web-1", field_token_seed("host")));
  // Every single-bit change of a 16-byte input changes about half the bits.
  std::string input = "0123456789abcdef";
  const uint64_t base = hash_bytes(input);
  int total_flipped = 0;
  for (size_t bit = 0; bit < input.size() * 8; ++bit) {
    std::string changed = input;
    changed[bit / 8] = static_cast<char>(changed[bit / 8] ^ (1 << (bit % 8)));
    const int flipped = __builtin_popcountll(base ^ hash_bytes(changed));
    CHECK(flipped > 12);
    total_flipped += flipped;
  }
  const double mean = static_cast<double>(total_flipped) / (input.size() * 8);
  CHECK(mean > 28.0);
  CHECK(mean < 36.0);
}

TEST_CASE("bloom filter: no false negatives, about 1% false positives at 10 bits per key") {
  std::mt19937_64 rng(7);
  BloomFilterBuilder builder;
  std::vector<uint64_t> keys(100'000);
  for (uint64_t& key : keys) key = hash_bytes(std::to_string(rng()));
  for (uint64_t key : keys) builder.add(key);
  for (size_t i = 0; i < keys.size(); i += 3) builder.add(keys[i]);  // duplicates cost nothing
  CHECK(builder.distinct() == keys.size());
  std::string serialized;
  builder.finish(10, serialized);
  // 10 bits per distinct key, rounded up to whole 64-byte blocks.
  CHECK(serialized.size() == 1 + (keys.size() * 10 + 511) / 512 * 64);
  const BloomFilter filter(serialized);
  REQUIRE(filter.valid());
  size_t missing = 0;
  for (uint64_t key : keys) missing += filter.may_contain(key) ? 0 : 1;
  CHECK(missing == 0);
  size_t false_positives = 0;
  constexpr size_t kProbes = 200'000;
  for (size_t i = 0; i < kProbes; ++i) false_positives += filter.may_contain(hash_bytes("absent" + std::to_string(i)));
  const double rate = static_cast<double>(false_positives) / kProbes;
  MESSAGE("false positive rate at 10 bits/key: " << rate * 100 << "%");
  CHECK(rate < 0.02);

  // Fewer bits, more false positives, still no false negatives.
  std::string small;
  builder.finish(4, small);
  const BloomFilter small_filter(small);
  for (uint64_t key : keys) REQUIRE(small_filter.may_contain(key));
}

TEST_CASE("bloom filter: zero keys, the zero hash, clear() and reuse") {
  BloomFilterBuilder builder;
  std::string empty;
  builder.finish(10, empty);
  CHECK(empty.size() == 65);
  CHECK_FALSE(BloomFilter(empty).may_contain(hash_bytes("x")));

  const uint64_t key = hash_bytes("42");
  builder.add(0);
  builder.add(0);
  builder.add(key);
  CHECK(builder.distinct() == 2);
  std::string serialized = "prefix";
  builder.finish(10, serialized);  // appends
  CHECK(serialized.substr(0, 6) == "prefix");
  const BloomFilter filter(std::string_view(serialized).substr(6));
  CHECK(filter.may_contain(0));
  CHECK(filter.may_contain(key));

  builder.clear();
  CHECK(builder.distinct() == 0);
  builder.add(hash_bytes("7"));
  std::string after;
  builder.finish(10, after);
  CHECK(BloomFilter(after).may_contain(hash_bytes("7")));
  CHECK_FALSE(BloomFilter(after).may_contain(key));
}

TEST_CASE("bloom filter: empty or malformed filters answer maybe") {
  for (std::string bytes : {std::string(), std::string(1, '\x07'), std::string(64, '\0'), std::string(66, '\0'),
                            std::string(1, '\0') + std::string(64, '\0'),        // zero probes
                            std::string(1, '\xff') + std::string(64, '\0')}) {  // absurd probe count
    const BloomFilter filter(bytes);
    CHECK_FALSE(filter.valid());
    CHECK(filter.may_contain(hash_bytes("anything")));
  }
}

TEST_CASE("fingerprint filter: no false negatives, about 1 in 65,536 false positives, ~20 bits per key") {
  std::mt19937_64 rng(11);
  for (size_t count : {size_t{0}, size_t{1}, size_t{2}, size_t{100}, size_t{27'000}, size_t{200'000}}) {
    CAPTURE(count);
    BloomFilterBuilder builder;
    std::vector<uint64_t> keys(count);
    for (uint64_t& key : keys) key = hash_bytes(std::to_string(rng()));
    for (uint64_t key : keys) builder.add(key);
    for (size_t i = 0; i < keys.size(); i += 5) builder.add(keys[i]);  // duplicates are one key
    std::string serialized = "prefix";
    builder.finish_fingerprints(10, serialized);  // appends
    REQUIRE(serialized.substr(0, 6) == "prefix");
    const std::string_view filter_bytes = std::string_view(serialized).substr(6);
    CHECK(static_cast<unsigned char>(filter_bytes[0]) == kFingerprintFilterTag);
    const size_t segment = (count * 123 / 100 + 34) / 3;
    CHECK(filter_bytes.size() == 13 + 6 * segment);
    const BlockFilter filter(filter_bytes);
    REQUIRE(filter.valid());
    size_t missing = 0;
    for (uint64_t key : keys) missing += filter.may_contain(key) ? 0 : 1;
    CHECK(missing == 0);
    if (count < 27'000) continue;
    CHECK(static_cast<double>(filter_bytes.size()) * 8 / static_cast<double>(count) < 20.0);
    size_t false_positives = 0;
    constexpr size_t kProbes = 2'000'000;
    for (size_t i = 0; i < kProbes; ++i) false_positives += filter.may_contain(hash_bytes("absent" + std::to_string(i)));
    MESSAGE(count << " keys: " << false_positives << " false positives in " << kProbes << " lookups");
    // Expected 2e6 / 65536 = 30.5; a Bloom filter of the same size errs ~1,000 times.
    CHECK(false_positives < 80);
  }
}

TEST_CASE("fingerprint filter: the zero hash, clear() and reuse of one builder") {
  BloomFilterBuilder builder;
  const uint64_t key = hash_bytes("42");
  builder.add(0);
  builder.add(key);
  std::string first;
  builder.finish_fingerprints(10, first);
  CHECK(BlockFilter(first).may_contain(0));
  CHECK(BlockFilter(first).may_contain(key));
  builder.clear();
  builder.add(hash_bytes("7"));
  std::string second;
  builder.finish_fingerprints(10, second);
  CHECK(BlockFilter(second).may_contain(hash_bytes("7")));
  size_t hits = 0;
  for (int i = 0; i < 10'000; ++i) hits += BlockFilter(second).may_contain(hash_bytes(std::to_string(i) + "-k"));
  CHECK(hits < 5);
}

TEST_CASE("block filter: reads Bloom filters too, and answers maybe for malformed bytes") {
  BloomFilterBuilder builder;
  for (int i = 0; i < 1000; ++i) builder.add(hash_bytes(std::to_string(i)));
  std::string bloom;
  builder.finish(10, bloom);
  const BlockFilter from_bloom(bloom);
  REQUIRE(from_bloom.valid());
  for (int i = 0; i < 1000; ++i) REQUIRE(from_bloom.may_contain(hash_bytes(std::to_string(i))));
  CHECK_FALSE(from_bloom.may_contain(hash_bytes("not a key at all")));

  std::string good;
  builder.finish_fingerprints(10, good);
  std::string zero_length = good.substr(0, 9) + std::string(4, '\0');
  for (std::string bytes : {std::string(), std::string(1, '\x80'), good.substr(0, good.size() - 1), good + "x",
                            zero_length, std::string(13, '\x80')}) {
    const BlockFilter filter(bytes);
    CHECK_FALSE(filter.valid());
    CHECK(filter.may_contain(hash_bytes("anything")));
  }
  // A flipped fingerprint may lose a key but never crashes; the header
  // decides the size.
  std::string flipped = good;
  flipped[20] = static_cast<char>(flipped[20] ^ 0x5a);
  CHECK(BlockFilter(flipped).valid());
}

TEST_CASE("fingerprint filter with parts: a key's one part, or all; about 17 in 65,536 false positives") {
  std::mt19937_64 rng(12);
  BloomFilterBuilder builder;
  constexpr uint32_t kParts = 16;
  std::vector<uint64_t> keys;
  std::vector<uint32_t> parts;  // bit p for each part the key was added from
  for (int i = 0; i < 60'000; ++i) {
    keys.push_back(hash_bytes(std::to_string(rng())));
    parts.push_back(0);
  }
  // Most keys in one part; every tenth also in another; every fiftieth
  // added as "no part in particular".
  for (size_t k = 0; k < keys.size(); ++k) {
    const auto part = static_cast<uint32_t>(rng() % kParts);
    builder.set_part(part + 1);
    builder.add(keys[k]);
    parts[k] |= uint32_t{1} << part;
    if (k % 10 == 0) {
      const auto other = static_cast<uint32_t>(rng() % kParts);
      builder.set_part(other + 1);
      builder.add(keys[k]);
      parts[k] |= uint32_t{1} << other;
    }
    if (k % 50 == 0) {
      builder.set_part(0);
      builder.add(keys[k]);
      parts[k] = kAllParts;
    }
  }
  builder.set_part(5);
  builder.add(0);  // the zero hash keeps its part too
  std::string serialized;
  builder.finish_fingerprints(10, serialized, kParts);
  CHECK(static_cast<unsigned char>(serialized[0]) == kPartedFingerprintFilterTag);
  CHECK(static_cast<unsigned char>(serialized[1]) == kParts);
  const BlockFilter filter(serialized);
  REQUIRE(filter.valid());
  size_t single = 0;
  for (size_t k = 0; k < keys.size(); ++k) {
    const uint32_t got = filter.parts_of(keys[k]);
    // One part exactly when the key is in one part; all when in several.
    REQUIRE(got == (std::popcount(parts[k]) == 1 ? parts[k] : kAllParts));
    single += got != kAllParts ? 1 : 0;
  }
  CHECK(filter.parts_of(0) == uint32_t{1} << 4);
  CHECK(single > keys.size() * 8 / 10);
  size_t false_positives = 0;
  constexpr size_t kProbes = 2'000'000;
  for (size_t i = 0; i < kProbes; ++i) false_positives += filter.parts_of(hash_bytes("absent" + std::to_string(i))) != 0;
  MESSAGE("with 16 parts: " << false_positives << " false positives in " << kProbes << " lookups");
  // Expected 2e6 * 17 / 65536 = 519.
  CHECK(false_positives > 350);
  CHECK(false_positives < 700);
  // The same keys without parts: the plain layout, no part told.
  std::string plain;
  builder.finish_fingerprints(10, plain);
  CHECK(static_cast<unsigned char>(plain[0]) == kFingerprintFilterTag);
  CHECK(plain.size() + 1 == serialized.size());
  for (size_t k = 0; k < keys.size(); k += 97) CHECK(BlockFilter(plain).parts_of(keys[k]) == kAllParts);
  // Malformed part counts answer maybe.
  for (unsigned char count : {0, 17, 255}) {
    std::string bad = serialized;
    bad[1] = static_cast<char>(count);
    CHECK_FALSE(BlockFilter(bad).valid());
    CHECK(BlockFilter(bad).parts_of(keys[0]) == kAllParts);
  }
}
