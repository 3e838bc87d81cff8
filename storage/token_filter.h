// Token filters: which words and field values a block holds, so that a
// search skips a block without decompressing it.
//
// The tokenizer, hash_bytes() and the serialized filter are stored on disk
// (a filter is written next to every block and kept for the block's life),
// so they are part of the store's format: a change to any of them makes old
// filters answer "no" for tokens their blocks hold. token_filter_test pins
// fixed hash values and tokenizations; change them only with a new store
// format version.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::storage {

namespace token_detail {

// Bytes that belong to tokens: ASCII letters, digits, '_', and every byte
// >= 0x80, so that UTF-8 sequences (and any non-ASCII bytes) stay inside
// their word instead of splitting it at each multi-byte character.
constexpr std::array<bool, 256> make_token_byte_table() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c >= 0x80;
  }
  return table;
}
inline constexpr std::array<bool, 256> kTokenByte = make_token_byte_table();

inline bool is_token_byte(char c) { return kTokenByte[static_cast<unsigned char>(c)]; }
inline bool is_ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }

// Up to 64 bytes classified at once: bit k of each mask is about byte k;
// bits from n on are clear.
struct ByteClasses {
  uint64_t token = 0;      // is_token_byte
  uint64_t digit = 0;      // 0-9
  uint64_t lower_hex = 0;  // a-f
  uint64_t upper_hex = 0;  // A-F
};
// Inline, so that a caller reading only `token` (the filter's tokenizer)
// costs no more than that mask.
inline ByteClasses classify_bytes(const char* text, size_t n) {
  ByteClasses out;
#if defined(__SSE2__)
  alignas(16) char padded[64];
  const char* bytes = text;
  if (n < 64) {
    std::memset(padded, 0, sizeof padded);  // NUL is no token byte
    std::memcpy(padded, text, n);
    bytes = padded;
  }
  // Unsigned "x - first < count" as a signed compare after moving 0 to -128.
  auto in_range = [](__m128i v, char first, int count) {
    return _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(static_cast<char>(0x80 - first))),
                          _mm_set1_epi8(static_cast<char>(0x80 + count)));
  };
  for (int i = 0; i < 4; ++i) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + 16 * i));
    const __m128i digit = in_range(v, '0', 10);
    const __m128i letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 26);
    const __m128i word = _mm_or_si128(_mm_or_si128(digit, letter), _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
    const int shift = 16 * i;
    // Bytes >= 0x80 are token bytes: their sign bit is the movemask bit.
    out.token |= uint64_t{static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(word, v)))} << shift;
    out.digit |= uint64_t{static_cast<unsigned>(_mm_movemask_epi8(digit))} << shift;
    out.lower_hex |= uint64_t{static_cast<unsigned>(_mm_movemask_epi8(in_range(v, 'a', 6)))} << shift;
    out.upper_hex |= uint64_t{static_cast<unsigned>(_mm_movemask_epi8(in_range(v, 'A', 6)))} << shift;
  }
#else
  for (size_t k = 0; k < n; ++k) {
    const char c = text[k];
    const uint64_t bit = uint64_t{1} << k;
    if (is_token_byte(c)) out.token |= bit;
    if (c >= '0' && c <= '9') out.digit |= bit;
    if (c >= 'a' && c <= 'f') out.lower_hex |= bit;
    if (c >= 'A' && c <= 'F') out.upper_hex |= bit;
  }
#endif
  return out;
}

}  // namespace token_detail

// Calls fn(std::string_view token) for each token of `text`, in order.
// A token is a maximal run of ASCII letters, digits, '_' and bytes >= 0x80,
// ASCII-lowercased; every other byte separates tokens. Non-ASCII bytes are
// kept as they are (no Unicode case folding).
//
// The view passed to fn points into `text` when the token has no ASCII
// uppercase letter, else into `lower_scratch`, which is overwritten by the
// next such token: it is valid only during the call. `lower_scratch` grows
// to the longest uppercase token once and is then reused, so a caller that
// keeps it across calls allocates nothing per token.
template <class Fn>
void for_each_token(std::string_view text, std::string& lower_scratch, Fn&& fn) {
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    while (p < end && !token_detail::is_token_byte(*p)) ++p;
    if (p == end) break;
    const char* const start = p;
    bool has_upper = false;
    while (p < end && token_detail::is_token_byte(*p)) {
      has_upper |= token_detail::is_ascii_upper(*p);
      ++p;
    }
    std::string_view token(start, static_cast<size_t>(p - start));
    if (has_upper) {
      lower_scratch.assign(token);
      for (char& c : lower_scratch) {
        if (token_detail::is_ascii_upper(c)) c = static_cast<char>(c + ('a' - 'A'));
      }
      token = lower_scratch;
    }
    fn(token);
  }
}

namespace hash_detail {

// Odd 64-bit constants drawn at random once; multiplication by an odd
// constant is a bijection, so no step below loses information.
constexpr uint64_t kInit = 0xb0bf94be1e4c5167;
constexpr uint64_t kLength = 0xb5054edfcff927a1;
constexpr uint64_t kWord = 0xc1fdae928961b22b;
constexpr uint64_t kFinal1 = 0xcf36a6d0e034e97d;
constexpr uint64_t kFinal2 = 0xe1cbf418504bde1f;

// For a fixed state the step is a bijection of the word, and for a fixed
// word a bijection of the state: two inputs of one length that differ in a
// single word never collide.
inline uint64_t step(uint64_t state, uint64_t word) {
  state ^= word;
  state *= kWord;
  return state ^ (state >> 29);
}

inline uint64_t finalize(uint64_t state) {
  state ^= state >> 32;
  state *= kFinal1;
  state ^= state >> 29;
  state *= kFinal2;
  return state ^ (state >> 32);
}

}  // namespace hash_detail

// A 64-bit hash of `bytes`: one multiply-xorshift step per 8-byte word
// (read little-endian on every platform) and a final avalanche. Its values
// are stored in filters on disk, so it must never change; it is not meant to
// resist chosen inputs (a flooded filter only costs extra block reads).
uint64_t hash_bytes(std::string_view bytes, uint64_t seed = 0);

// hash_bytes of n (1 to 8) bytes given as one little-endian word, zero above
// them: the same value, inline, for callers that hold the word already.
inline uint64_t hash_word(uint64_t word, size_t n, uint64_t seed) {
  return hash_detail::finalize(hash_detail::step((seed ^ hash_detail::kInit) + uint64_t{n} * hash_detail::kLength, word));
}

// Hash of a text token (a lowercased word of a raw line or message).
uint64_t text_token_hash(std::string_view lowercased_token);

// Hash of a field token: a field name with one whole, lowercased value
// ("host" = "web-1", "status" = "404"). The name is hashed first, length
// included, and seeds the value's hash, so ("ab", "c") and ("a", "bc") are
// different keys, and no field key is built like a text key.
// field_token_hash(n, v) == hash_bytes(v, field_token_seed(n)): a caller
// hashing many values of one name computes the seed once.
uint64_t field_token_seed(std::string_view field_name);
uint64_t field_token_hash(std::string_view field_name, std::string_view lowercased_value);

// Long numbers are left out of block filters: digit-only words of
// kMinUnfilteredDigits or more (a process id, a byte count, a user id) are
// mostly unique to their line, so they would take about half of a filter's
// keys (and bits) while a search for one is rare. Text tokens and field
// values (whole, lowercased) for which this returns false are not in a
// filter, and a query must not require them from one (query.cc,
// required_filter_hashes): such a search reads every block in its time
// range. Shorter numbers (status codes, severities, ports below 10000)
// stay. Filters written before this rule hold such keys too, which is
// harmless.
constexpr size_t kMinUnfilteredDigits = 5;
inline bool in_block_filter(std::string_view lowercased_token) {
  if (lowercased_token.size() < kMinUnfilteredDigits) return true;
  for (char c : lowercased_token) {
    if (c < '0' || c > '9') return true;
  }
  return false;
}

class BloomFilterBuilder;

// True when every token of `text` is a token of `line`, shown by finding
// `text` in `line` between bytes that are not token bytes (or the line's
// ends), as it is or with some of its '"', '\\' and '/' written as JSON
// escapes (\", \\, \/): those only add separators next to separators. A JSON
// message with quotes in it is kept unescaped beside its raw line; its
// words are the line's and need not be added to a filter again. False
// says nothing (other escapes, text not found).
bool tokens_within(std::string_view line, std::string_view text);

// Adds the text keys of lines to a block's filter: text_token_hash() of
// each token (lowercased as for_each_token() does) that in_block_filter()
// keeps; the keys for_each_token() and text_token_hash() give, for a
// fraction of the CPU. Token bytes are found 16 at a time; tokens are
// lowercased and hashed a word at a time without a copy; and most of a
// block's tokens repeat (JSON keys, the words of a few templates), so a
// token of up to 8 bytes seen recently in the block is recognised by its
// bytes, in a small table that stays in L1, before any hashing.
//
// Thread: one thread at a time. Reuse one for many blocks, with clear()
// before each: it keeps its memory.
class TextKeyAdder {
 public:
  void clear();
  void add(std::string_view text, BloomFilterBuilder& filter);
  // The same for a text that is one token (only token bytes): a number or
  // a hex string taken out of a line.
  void add_token(std::string_view token, BloomFilterBuilder& filter);

 private:
  // Texts up to this length are tokenized byte by byte.
  static constexpr size_t kShortText = 24;
  void add_token_at(const char* p, size_t n, const char* end, BloomFilterBuilder& filter);

  // Direct-mapped by a hash of the lowercased token's bytes, zero-padded
  // to a word. Token bytes are never 0, so the word also tells the length,
  // and 0 marks an empty slot.
  std::vector<uint64_t> seen_;
};

// Collects the keys of one block's filter and serializes it.
//
// Serialized filter: num_probes:u8 | bits, where bits is a whole number of
// 64-byte (512-bit) blocks, at least one. A key sets num_probes bits, all in
// one 512-bit block (one cache line per lookup). With H the key's 64-bit
// hash: block = ((H >> 32) * block_count) >> 32; x = uint32(H); d = x rotated
// by 16 bits, | 1; probe i sets bit (x + i * d) >> 23 (mod 2^32 arithmetic)
// of the block, bit b being bit (b & 7) of byte (b >> 3). Keys must be
// hashes: the bits are taken from them as they are.
//
// Thread: one thread at a time.
class BloomFilterBuilder {
 public:
  // Keys may repeat: they are deduplicated when the filter is built, so
  // its size follows the number of distinct keys.
  void add(uint64_t hash);
  // The part of the block (1 to kMaxFilterParts; 0: none in particular)
  // that the keys added next come from. A key added from two parts, or
  // with 0, is "anywhere in the block". Only fingerprint filters with
  // parts keep this; see finish_fingerprints().
  void set_part(uint32_t part) { part_ = static_cast<uint8_t>(part); }
  // Distinct keys added since clear().
  size_t distinct();
  // Appends the serialized filter of every key added since clear() to `out`.
  // bits_per_key 10 gives about 1% false positives; 0 is taken as 1.
  void finish(uint32_t bits_per_key, std::string& out);
  // Appends a fingerprint filter of every key added since clear() to `out`
  // (the layout below): about 19.7 bits per key and 1 false positive in
  // 65,536 lookups, where a Bloom filter of the same size errs ~40 times as
  // often. Builds one in a few retries at most; in the unlikely case it
  // cannot, it appends a Bloom filter of `fallback_bits_per_key` instead, so
  // the result is always a valid filter (BlockFilter reads both).
  // parts > 0 (at most kMaxFilterParts): the filter also tells which of
  // the block's `parts` parts holds a key found in only one of them (the
  // layout with parts, below), for 1 false positive in 65,536 / (parts + 1).
  void finish_fingerprints(uint32_t fallback_bits_per_key, std::string& out, uint32_t parts = 0);
  // Forgets the keys, keeping the memory for the next block.
  void clear();

 private:
  bool build_fingerprints(uint64_t seed, uint32_t segment_length, bool with_parts);

  // Scratch of finish_fingerprints(), kept for the next block.
  std::vector<uint32_t> slot_counts_;
  std::vector<uint64_t> slot_keys_;
  std::vector<uint8_t> slot_parts_;
  std::vector<uint32_t> peel_queue_;
  struct Peeled {
    uint64_t x;
    uint32_t slot;
    uint8_t part;
  };
  std::vector<Peeled> peeled_;
  std::vector<uint16_t> fingerprints_;

  // Keys as added (with their parts), deduplicated by settle() into keys_
  // and key_parts_ (0: anywhere). A zero key is tracked apart.
  void settle();
  std::vector<uint64_t> pending_keys_;
  std::vector<uint8_t> pending_parts_;
  std::vector<uint64_t> keys_;
  std::vector<uint8_t> key_parts_;
  bool settled_ = true;
  // settle()'s scratch, kept for the next block.
  std::vector<size_t> bucket_starts_, bucket_fill_;
  std::vector<uint64_t> spread_keys_;
  std::vector<uint8_t> spread_parts_;
  std::vector<uint32_t> bucket_table_;
  bool has_zero_ = false;
  uint8_t zero_part_ = 0;
  uint8_t part_ = 0;
};

// Serialized fingerprint filter (an xor filter with 16-bit fingerprints):
// 0x80 | seed:u64 LE | L:u32 LE | 3 * L fingerprints, u16 LE. With
// x = mix(H + seed) (fingerprint_mix in token_filter.cc), a key's slots
// are s_j = ((uint32(rotl(x, 21 * j)) * L) >> 32) + j * L for j = 0, 1, 2,
// and the key is "maybe in" when fp[s_0] ^ fp[s_1] ^ fp[s_2] equals
// uint16(x ^ (x >> 32)). Construction peels the keys (every key has a slot
// no other remaining key uses) and assigns fingerprints in reverse peeling
// order; L = (floor(1.23 n) + 32 + 2) / 3 for n keys. The first byte tells
// the two layouts apart: a Bloom filter starts with its probe count (1-24).
//
// With parts: 0x81 | P:u8 (1-16) | seed:u64 LE | L:u32 LE | 3 * L u16 LE,
// the same filter except that a key's three fingerprints xor to its
// fingerprint xor its part code c: 1 + the index of the one part of the
// block (of P, block_codec.h) that holds it, or 0 when several do. A
// lookup computes c; c > P means "not in the block".
constexpr unsigned char kFingerprintFilterTag = 0x80;
constexpr unsigned char kPartedFingerprintFilterTag = 0x81;
constexpr uint32_t kMaxFilterParts = 16;
// BlockFilter::parts_of(): every part may hold the key.
constexpr uint32_t kAllParts = 0xffffffff;

// A view of a serialized Bloom filter; the bytes must outlive it. An empty
// or malformed filter answers "maybe" to everything, so a damaged filter
// costs block reads, never a missed event.
class BloomFilter {
 public:
  explicit BloomFilter(std::string_view serialized);
  bool may_contain(uint64_t hash) const;
  bool valid() const { return block_count_ != 0; }

 private:
  const unsigned char* bits_ = nullptr;
  uint64_t block_count_ = 0;
  uint32_t probes_ = 0;
};

// A view of a block's serialized filter of either layout (Bloom filters
// written by older versions, fingerprint filters since); the bytes must
// outlive it. Malformed bytes answer "maybe" to everything.
class BlockFilter {
 public:
  explicit BlockFilter(std::string_view serialized);
  bool may_contain(uint64_t hash) const { return parts_of(hash) != 0; }
  // Which parts of the block may hold the key: bit p for part p, 0 for
  // none, kAllParts when the filter does not tell parts apart.
  uint32_t parts_of(uint64_t hash) const;
  bool valid() const;

 private:
  BloomFilter bloom_{std::string_view()};
  const unsigned char* fingerprints_ = nullptr;  // 3 * segment_length_ u16 LE
  uint64_t seed_ = 0;
  uint32_t segment_length_ = 0;
  uint32_t parts_ = 0;  // 0: a filter without parts
};

}  // namespace sluice::storage
