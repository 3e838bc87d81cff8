#include "storage/token_filter.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "server/base/assert.h"
#include "server/base/event.h"

namespace sluice::storage {

namespace {

using hash_detail::finalize;
using hash_detail::kInit;
using hash_detail::kLength;
using hash_detail::step;
// Namespaces of the two kinds of keys (arbitrary, fixed forever).
constexpr uint64_t kTextSeed = 0xab031e63d694bf41;
constexpr uint64_t kFieldSeed = 0x5f1e1d0c7a3b2e91;

uint64_t load_le64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

// The n (1-7) bytes at p, zero-extended: two overlapping loads instead of
// a loop of n (the overlapping bytes are equal, so OR is exact).
uint64_t load_le_tail(const char* p, size_t n) {
  if (n >= 4) {
    uint32_t low, high;
    std::memcpy(&low, p, 4);
    std::memcpy(&high, p + n - 4, 4);
    if constexpr (std::endian::native == std::endian::big) {
      low = __builtin_bswap32(low);
      high = __builtin_bswap32(high);
    }
    return uint64_t{low} | (uint64_t{high} << (8 * (n - 4)));
  }
  const auto byte = [&](size_t i) { return uint64_t{static_cast<unsigned char>(p[i])} << (8 * i); };
  return byte(0) | byte(n >> 1) | byte(n - 1);
}

constexpr size_t kFilterBlockBytes = 64;
constexpr uint64_t kFilterBlockBits = kFilterBlockBytes * 8;
// More probes than this buy nothing at any sensible bits_per_key, and a
// corrupt probe count must not make a lookup loop for long.
constexpr uint32_t kMaxProbes = 24;

// Where a key's bits go; see the layout in token_filter.h.
struct Probe {
  uint64_t block;
  uint32_t x;
  uint32_t delta;
};

// The high half picks the block and the low half the bits in it, so the two
// are independent; the step is the low half rotated, whose top bits (which
// pick the bit) are other bits of the hash than x's top bits.
Probe probe_of(uint64_t hash, uint64_t block_count) {
  const auto high = static_cast<uint32_t>(hash >> 32);
  const auto low = static_cast<uint32_t>(hash);
  return {(uint64_t{high} * block_count) >> 32, low, ((low >> 16) | (low << 16)) | 1};
}

// Fingerprint filters (see token_filter.h). The key hashes are already
// mixed, but the seed must change every slot on a retry, hence a full
// finalizer over H + seed.
uint64_t fingerprint_mix(uint64_t hash, uint64_t seed) {
  uint64_t x = hash + seed;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccd;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53;
  return x ^ (x >> 33);
}

uint16_t fingerprint_of(uint64_t x) { return static_cast<uint16_t>(x ^ (x >> 32)); }

uint32_t fingerprint_slot(uint64_t x, int way, uint32_t segment_length) {
  const uint64_t r = std::rotl(x, 21 * way);
  return static_cast<uint32_t>((uint64_t{static_cast<uint32_t>(r)} * segment_length) >> 32) +
         static_cast<uint32_t>(way) * segment_length;
}

constexpr size_t kFingerprintHeaderBytes = 1 + 8 + 4;
// Seeds to try, one after the other: a build fails only when some keys
// cannot be peeled, which at 1.23 slots per key happens rarely and for
// another reason with another seed.
constexpr int kFingerprintAttempts = 64;
constexpr uint64_t kFingerprintSeedStep = 0x9e3779b97f4a7c15;

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t get_le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

}  // namespace

uint64_t hash_bytes(std::string_view bytes, uint64_t seed) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  // The length enters first, so zero-padding the tail cannot make "a" and
  // "a\0" collide.
  uint64_t state = (seed ^ kInit) + uint64_t{n} * kLength;
  while (n >= 8) {
    state = step(state, load_le64(p));
    p += 8;
    n -= 8;
  }
  if (n > 0) state = step(state, load_le_tail(p, n));
  return finalize(state);
}

uint64_t text_token_hash(std::string_view lowercased_token) {
  return hash_bytes(lowercased_token, kTextSeed);
}

uint64_t field_token_seed(std::string_view field_name) { return hash_bytes(field_name, kFieldSeed); }

uint64_t field_token_hash(std::string_view field_name, std::string_view lowercased_value) {
  return hash_bytes(lowercased_value, field_token_seed(field_name));
}

namespace {

constexpr uint64_t kOnes = 0x0101010101010101;
constexpr uint64_t kHighBits = kOnes * 0x80;

// ASCII 'A'-'Z' bytes of a word lowered; every other byte kept.
uint64_t lower_ascii_word(uint64_t word) {
  const uint64_t seven = word & (kOnes * 0x7f);
  const uint64_t at_least_a = seven + kOnes * (0x80 - 'A');
  const uint64_t above_z = seven + kOnes * (0x80 - 'Z' - 1);
  const uint64_t upper = at_least_a & ~above_z & ~word & kHighBits;
  return word | (upper >> 2);
}

// High bit of each byte of `word` set where that byte is an ASCII digit.
uint64_t digit_bytes(uint64_t word) {
  const uint64_t t = word ^ (kOnes * '0');
  return ~(((t & (kOnes * 0x7f)) + kOnes * 0x76) | t) & kHighBits;
}

// The token [p, p + n) of a text that ends at `end`: its text hash, and
// whether in_block_filter() keeps it. Reads whole words where the text
// holds 8 bytes from the word's start (past the token: masked off).
bool filter_token_hash(const char* p, size_t n, const char* end, uint64_t& hash) {
  uint64_t state = (kTextSeed ^ kInit) + uint64_t{n} * kLength;
  uint64_t not_digits = n < kMinUnfilteredDigits ? 1 : 0;
  size_t left = n;
  while (left > 0) {
    uint64_t word;
    uint64_t valid;
    if (left >= 8) {
      word = load_le64(p);
      valid = ~uint64_t{0};
    } else {
      word = end - p >= 8 ? load_le64(p) : load_le_tail(p, left);
      valid = (uint64_t{1} << (8 * left)) - 1;
      word &= valid;
    }
    word = lower_ascii_word(word);
    not_digits |= (digit_bytes(word) ^ kHighBits) & valid & kHighBits;
    state = step(state, word);
    p += left >= 8 ? 8 : left;
    left -= left >= 8 ? 8 : left;
  }
  hash = finalize(state);
  return not_digits != 0;
}

// Bit i set where text[i] is a token byte (i < n <= 64); bits from n on clear.
uint64_t token_byte_mask(const char* text, size_t n) { return token_detail::classify_bytes(text, n).token; }

}  // namespace

bool tokens_within(std::string_view line, std::string_view text) {
  if (text.empty()) return true;
  // The text's first bytes, up to one an escape could stand for, locate it.
  size_t anchor = 0;
  while (anchor < text.size() && anchor < 16 && !is_word_keeping_escape(text[anchor])) ++anchor;
  if (anchor == 0) return false;
  const std::string_view prefix = text.substr(0, anchor);
  const bool token_first = token_detail::is_token_byte(text.front());
  const bool token_last = token_detail::is_token_byte(text.back());
  // memmem: string_view::find tries every occurrence of the first byte.
  auto find_prefix = [&](size_t from) -> size_t {
    if (from >= line.size()) return std::string_view::npos;
    const void* found = memmem(line.data() + from, line.size() - from, prefix.data(), prefix.size());
    return found == nullptr ? std::string_view::npos : static_cast<size_t>(static_cast<const char*>(found) - line.data());
  };
  for (size_t at = find_prefix(0); at != std::string_view::npos; at = find_prefix(at + 1)) {
    if (at > 0 && token_first && token_detail::is_token_byte(line[at - 1])) continue;
    size_t i = at, j = 0;
    while (j < text.size()) {
      // Spans without a backslash in the line compare whole.
      const size_t backslash = line.find('\\', i);
      const size_t span = std::min(backslash == std::string_view::npos ? line.size() : backslash, i + (text.size() - j)) - i;
      if (std::memcmp(line.data() + i, text.data() + j, span) != 0) break;
      i += span;
      j += span;
      if (j == text.size()) break;
      if (i + 1 < line.size() && line[i] == '\\' && line[i + 1] == text[j] && is_word_keeping_escape(text[j])) {
        i += 2;
        ++j;
      } else if (i < line.size() && line[i] == text[j]) {
        ++i;
        ++j;
      } else {
        break;
      }
    }
    if (j == text.size() && (i == line.size() || !token_last || !token_detail::is_token_byte(line[i]))) return true;
  }
  return false;
}

// 2^11 slots: 16 KiB, in L1 next to the line being read.
constexpr int kSeenBits = 11;
constexpr uint64_t kSeenMix = 0x9e3779b97f4a7c15;

void TextKeyAdder::clear() { seen_.assign(size_t{1} << kSeenBits, 0); }

// The token [p, p + n) of a text that ends at `end`.
inline void TextKeyAdder::add_token_at(const char* p, size_t n, const char* end, BloomFilterBuilder& filter) {
  uint64_t hash;
  if (n > 8) {
    if (filter_token_hash(p, n, end, hash)) filter.add(hash);
    return;
  }
  uint64_t word = end - p >= 8 ? load_le64(p) & (~uint64_t{0} >> (64 - 8 * n)) : load_le_tail(p, n);
  word = lower_ascii_word(word);
  uint64_t& seen = seen_[(word * kSeenMix) >> (64 - kSeenBits)];
  if (seen == word) return;  // added (or left out) already
  seen = word;
  const uint64_t token_high_bits = (~uint64_t{0} >> (64 - 8 * n)) & kHighBits;
  if (n >= kMinUnfilteredDigits && (digit_bytes(word) & token_high_bits) == token_high_bits) return;
  hash = hash_word(word, n, kTextSeed);
  filter.add(hash);
}

void TextKeyAdder::add_token(std::string_view token, BloomFilterBuilder& filter) {
  if (seen_.empty()) clear();
  if (!token.empty()) add_token_at(token.data(), token.size(), token.data() + token.size(), filter);
}

void TextKeyAdder::add(std::string_view text, BloomFilterBuilder& filter) {
  if (seen_.empty()) clear();
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  // Short texts (a cut value, an address) byte by byte: classifying them
  // 64 bytes at a time would first copy them into a padded window.
  if (text.size() <= kShortText) {
    const char* p = begin;
    while (p < end) {
      while (p < end && !token_detail::is_token_byte(*p)) ++p;
      if (p == end) break;
      const char* const start = p;
      while (p < end && token_detail::is_token_byte(*p)) ++p;
      add_token_at(start, static_cast<size_t>(p - start), end, filter);
    }
    return;
  }
  size_t start = 0;
  bool in_token = false;
  // 64 bytes at a time: a token starts at a set bit after a clear one and
  // ends at the next clear bit; bits below the current position are set
  // (inside a token) or cleared (between tokens) so ctz finds the next edge.
  for (size_t base = 0; base < text.size(); base += 64) {
    uint64_t mask = token_byte_mask(begin + base, std::min<size_t>(64, text.size() - base));
    while (true) {
      if (in_token) {
        const uint64_t separators = ~mask;
        if (separators == 0) break;  // the token goes on into the next 64 bytes
        const int edge = std::countr_zero(separators);
        add_token_at(begin + start, base + static_cast<size_t>(edge) - start, end, filter);
        in_token = false;
        mask &= ~uint64_t{0} << edge;
      } else {
        if (mask == 0) break;
        const int edge = std::countr_zero(mask);
        start = base + static_cast<size_t>(edge);
        in_token = true;
        mask |= (uint64_t{1} << edge) - 1;
      }
    }
  }
  if (in_token) add_token_at(begin + start, text.size() - start, end, filter);
}

void BloomFilterBuilder::add(uint64_t hash) {
  if (hash == 0) {
    zero_part_ = has_zero_ && zero_part_ != part_ ? 0 : part_;
    has_zero_ = true;
    return;
  }
  pending_keys_.push_back(hash);
  pending_parts_.push_back(part_);
  settled_ = false;
}

// Deduplicates the pending keys into keys_ and key_parts_. A hash table of
// a block's keys outgrows the L2 cache, and one random access per key cost
// more than the rest of a key's way; so the keys are first spread into
// buckets by their top bits (sequential writes), then each bucket is
// deduplicated in a table that stays in L1.
void BloomFilterBuilder::settle() {
  if (settled_) return;
  settled_ = true;
  const size_t n = pending_keys_.size();
  keys_.clear();
  key_parts_.clear();
  if (n == 0) return;
  // About 512 keys per bucket.
  unsigned bucket_bits = 0;
  while (bucket_bits < 16 && (n >> bucket_bits) > 512) ++bucket_bits;
  const size_t buckets = size_t{1} << bucket_bits;
  const unsigned shift = 64 - bucket_bits;
  auto bucket_of = [&](uint64_t hash) { return bucket_bits == 0 ? size_t{0} : static_cast<size_t>(hash >> shift); };
  bucket_starts_.assign(buckets + 1, 0);
  for (uint64_t hash : pending_keys_) ++bucket_starts_[bucket_of(hash) + 1];
  for (size_t b = 1; b <= buckets; ++b) bucket_starts_[b] += bucket_starts_[b - 1];
  spread_keys_.resize(n);
  spread_parts_.resize(n);
  bucket_fill_.assign(bucket_starts_.begin(), bucket_starts_.end() - 1);
  for (size_t k = 0; k < n; ++k) {
    const size_t at = bucket_fill_[bucket_of(pending_keys_[k])]++;
    spread_keys_[at] = pending_keys_[k];
    spread_parts_[at] = pending_parts_[k];
  }
  // Within a bucket the top bits are all equal: the low bits pick the slot.
  size_t largest = 0;
  for (size_t b = 0; b < buckets; ++b) largest = std::max<size_t>(largest, bucket_starts_[b + 1] - bucket_starts_[b]);
  size_t table_size = 16;
  while (table_size < 2 * largest) table_size *= 2;
  bucket_table_.resize(table_size);
  for (size_t b = 0; b < buckets; ++b) {
    const size_t first = bucket_starts_[b], last = bucket_starts_[b + 1];
    if (first == last) continue;
    size_t used = 16;
    while (used < 2 * (last - first)) used *= 2;
    const size_t used_mask = used - 1;
    std::fill(bucket_table_.begin(), bucket_table_.begin() + static_cast<std::ptrdiff_t>(used), 0);
    for (size_t k = first; k < last; ++k) {
      const uint64_t hash = spread_keys_[k];
      size_t i = static_cast<size_t>(hash) & used_mask;
      while (true) {
        const uint32_t entry = bucket_table_[i];
        if (entry == 0) {
          keys_.push_back(hash);
          key_parts_.push_back(spread_parts_[k]);
          bucket_table_[i] = static_cast<uint32_t>(keys_.size());
          break;
        }
        if (keys_[entry - 1] == hash) {
          if (key_parts_[entry - 1] != spread_parts_[k]) key_parts_[entry - 1] = 0;
          break;
        }
        i = (i + 1) & used_mask;
      }
    }
  }
}

size_t BloomFilterBuilder::distinct() {
  settle();
  return keys_.size() + (has_zero_ ? 1 : 0);
}

void BloomFilterBuilder::clear() {
  pending_keys_.clear();
  pending_parts_.clear();
  keys_.clear();
  key_parts_.clear();
  settled_ = true;
  has_zero_ = false;
  zero_part_ = 0;
  part_ = 0;
}

void BloomFilterBuilder::finish(uint32_t bits_per_key, std::string& out) {
  bits_per_key = std::max<uint32_t>(bits_per_key, 1);
  const uint64_t bits = uint64_t{distinct()} * bits_per_key;
  const uint64_t block_count = std::max<uint64_t>(1, (bits + kFilterBlockBits - 1) / kFilterBlockBits);
  // A classic filter is best at k = bits_per_key * ln 2 (7 at 10 bits/key,
  // 0.8% false positives). Keeping a key's bits in one cache line costs a
  // little (measured at 10 bits/key: 1.03% with k = 6, 1.05% with k = 7), a
  // price worth one memory access per lookup; the lower k is as good and
  // sets fewer bits.
  const uint32_t probes =
      std::clamp<uint32_t>(static_cast<uint32_t>(bits_per_key * 0.6 + 0.5), 1, kMaxProbes);

  const size_t start = out.size();
  out.push_back(static_cast<char>(probes));
  out.append(block_count * kFilterBlockBytes, '\0');
  auto* filter = reinterpret_cast<unsigned char*>(out.data() + start + 1);
  auto set = [&](uint64_t hash) {
    Probe probe = probe_of(hash, block_count);
    unsigned char* block = filter + probe.block * kFilterBlockBytes;
    for (uint32_t i = 0; i < probes; ++i) {
      const uint32_t bit = probe.x >> 23;
      block[bit >> 3] |= static_cast<unsigned char>(1u << (bit & 7));
      probe.x += probe.delta;
    }
  };
  for (uint64_t hash : keys_) set(hash);
  if (has_zero_) set(0);
}

BloomFilter::BloomFilter(std::string_view serialized) {
  if (serialized.size() < 1 + kFilterBlockBytes || (serialized.size() - 1) % kFilterBlockBytes != 0) return;
  const uint32_t probes = static_cast<unsigned char>(serialized[0]);
  if (probes == 0 || probes > kMaxProbes) return;
  probes_ = probes;
  bits_ = reinterpret_cast<const unsigned char*>(serialized.data() + 1);
  block_count_ = (serialized.size() - 1) / kFilterBlockBytes;
}

bool BloomFilter::may_contain(uint64_t hash) const {
  if (block_count_ == 0) return true;
  Probe probe = probe_of(hash, block_count_);
  const unsigned char* block = bits_ + probe.block * kFilterBlockBytes;
  for (uint32_t i = 0; i < probes_; ++i) {
    const uint32_t bit = probe.x >> 23;
    if ((block[bit >> 3] & (1u << (bit & 7))) == 0) return false;
    probe.x += probe.delta;
  }
  return true;
}

bool BloomFilterBuilder::build_fingerprints(uint64_t seed, uint32_t segment_length, bool with_parts) {
  const size_t slots = size_t{segment_length} * 3;
  slot_counts_.assign(slots, 0);
  slot_keys_.assign(slots, 0);
  slot_parts_.assign(slots, 0);
  size_t keys = 0;
  // Every slot holds how many keys use it and the xor of their mixed
  // hashes (and part codes): a slot used once names its key.
  auto place = [&](uint64_t hash, uint8_t part) {
    const uint64_t x = fingerprint_mix(hash, seed);
    for (int way = 0; way < 3; ++way) {
      const uint32_t s = fingerprint_slot(x, way, segment_length);
      ++slot_counts_[s];
      slot_keys_[s] ^= x;
      slot_parts_[s] ^= part;
    }
    ++keys;
  };
  for (size_t k = 0; k < keys_.size(); ++k) place(keys_[k], with_parts ? key_parts_[k] : 0);
  if (has_zero_) place(0, with_parts ? zero_part_ : 0);

  peel_queue_.clear();
  for (uint32_t s = 0; s < slots; ++s) {
    if (slot_counts_[s] == 1) peel_queue_.push_back(s);
  }
  peeled_.clear();
  while (!peel_queue_.empty()) {
    const uint32_t s = peel_queue_.back();
    peel_queue_.pop_back();
    if (slot_counts_[s] != 1) continue;  // emptied by an earlier peel
    const uint64_t x = slot_keys_[s];
    const uint8_t part = slot_parts_[s];
    peeled_.push_back({x, s, part});
    for (int way = 0; way < 3; ++way) {
      const uint32_t t = fingerprint_slot(x, way, segment_length);
      slot_keys_[t] ^= x;
      slot_parts_[t] ^= part;
      if (--slot_counts_[t] == 1) peel_queue_.push_back(t);
    }
  }
  if (peeled_.size() != keys) return false;
  // In reverse peeling order each key's slot was free of the keys assigned
  // after it, so setting it makes that key's three slots xor to its
  // fingerprint without disturbing keys assigned before.
  fingerprints_.assign(slots, 0);
  for (size_t i = peeled_.size(); i-- > 0;) {
    const auto [x, s, part] = peeled_[i];
    uint16_t value = fingerprint_of(x) ^ part;
    for (int way = 0; way < 3; ++way) {
      const uint32_t t = fingerprint_slot(x, way, segment_length);
      if (t != s) value ^= fingerprints_[t];
    }
    fingerprints_[s] = value;
  }
  return true;
}

void BloomFilterBuilder::finish_fingerprints(uint32_t fallback_bits_per_key, std::string& out, uint32_t parts) {
  SLUICE_ASSERT(parts <= kMaxFilterParts, "finish_fingerprints: too many parts");
  const uint64_t n = distinct();
  const auto segment_length = static_cast<uint32_t>((n * 123 / 100 + 32 + 2) / 3);
  uint64_t seed = kFingerprintSeedStep;
  for (int attempt = 0; attempt < kFingerprintAttempts; ++attempt, seed += kFingerprintSeedStep) {
    if (!build_fingerprints(seed, segment_length, parts != 0)) continue;
    out.reserve(out.size() + kFingerprintHeaderBytes + 1 + fingerprints_.size() * 2);
    if (parts != 0) {
      out.push_back(static_cast<char>(kPartedFingerprintFilterTag));
      out.push_back(static_cast<char>(parts));
    } else {
      out.push_back(static_cast<char>(kFingerprintFilterTag));
    }
    put_le(out, seed, 8);
    put_le(out, segment_length, 4);
    for (uint16_t value : fingerprints_) put_le(out, value, 2);
    return;
  }
  finish(fallback_bits_per_key, out);
}

BlockFilter::BlockFilter(std::string_view serialized) : bloom_(serialized) {
  if (serialized.empty()) return;
  const auto tag = static_cast<unsigned char>(serialized[0]);
  if (tag != kFingerprintFilterTag && tag != kPartedFingerprintFilterTag) return;
  // The parted layout is the plain one with a part count after the tag.
  const size_t skip = tag == kPartedFingerprintFilterTag ? 1 : 0;
  if (serialized.size() < kFingerprintHeaderBytes + skip) return;
  const auto* p = reinterpret_cast<const unsigned char*>(serialized.data()) + skip;
  const uint32_t parts = skip != 0 ? p[0] : 0;
  if (skip != 0 && (parts == 0 || parts > kMaxFilterParts)) return;
  const uint64_t segment_length = get_le(p + 9, 4);
  if (segment_length == 0 || serialized.size() != kFingerprintHeaderBytes + skip + segment_length * 6) return;
  seed_ = get_le(p + 1, 8);
  segment_length_ = static_cast<uint32_t>(segment_length);
  fingerprints_ = p + kFingerprintHeaderBytes;
  parts_ = parts;
}

bool BlockFilter::valid() const { return segment_length_ != 0 || bloom_.valid(); }

uint32_t BlockFilter::parts_of(uint64_t hash) const {
  if (segment_length_ == 0) return bloom_.may_contain(hash) ? kAllParts : 0;
  const uint64_t x = fingerprint_mix(hash, seed_);
  uint16_t value = fingerprint_of(x);
  for (int way = 0; way < 3; ++way) {
    const unsigned char* f = fingerprints_ + size_t{fingerprint_slot(x, way, segment_length_)} * 2;
    value ^= static_cast<uint16_t>(f[0] | (f[1] << 8));
  }
  if (value == 0) return kAllParts;
  return value <= parts_ ? uint32_t{1} << (value - 1) : 0;
}

}  // namespace sluice::storage
