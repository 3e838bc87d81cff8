// On-disk key layout of the event store.
//
// Format version 2 (written by this binary):
//   meta key:        'm' | name                     ("format_version", "open_count": u64;
//                                                    "replay_from": u64, the first raw frame
//                                                    not wholly in blocks)
//   partition keys:  'p' | partition_day:u32 | kind:u8 | ...
//     kind 'b' block descriptor: | block_id:u64 → BlockDescriptor (below)
//     kind 'c' checkpoint:       (nothing more)  → last raw frame seq in this day's blocks:u64
//     kind 'd' block data:       | block_id:u64 → storage/block_codec.h block
//     kind 'f' block filter:     | block_id:u64 → storage/token_filter.h bloom filter
//     kind 'x' posting:          | field | 0 | value | 0 | block_id:u64 → empty
//                                (value "\x01any": the block has more than 1024
//                                values of the field, so it may hold any)
// Format version 1 (still read; dropped with its day):
//   event key:       'e' | partition_day:u32 | timestamp:u64 | sequence:u64   (21 bytes)
//                    → storage/event_codec.h value
//
// Every key of one day shares the prefix 'p'|day (or 'e'|day), so dropping a
// partition is one DeleteRange per prefix. Block ids grow with time of
// writing: the high 24 bits are the store's open count, the low 40 count
// blocks within that run.
//
// All integers are big-endian so that RocksDB's bytewise order is time order
// and a reverse iterator yields newest first. `timestamp` is nanoseconds since
// the epoch plus 2^63, so times before 1970 still sort first. `partition_day`
// (days since the epoch, also biased) leads so that one day's events are one
// contiguous key range: dropping a partition is one DeleteRange. `sequence`
// makes keys unique: the high 24 bits are the store's open count (persisted
// in meta key "open_count"), the low 40 bits count events within that run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server/base/clock.h"

namespace sluice::storage {

constexpr uint32_t kStoreFormatVersion = 2;
constexpr size_t kEventKeyBytes = 21;
constexpr char kEventKeyTag = 'e';
constexpr char kMetaKeyTag = 'm';
constexpr char kPartitionKeyTag = 'p';
constexpr char kBlockDescriptorKind = 'b';
constexpr char kCheckpointKind = 'c';
constexpr char kBlockDataKind = 'd';
constexpr char kBlockFilterKind = 'f';
constexpr char kPostingKind = 'x';
constexpr size_t kPartitionPrefixBytes = 5;  // tag + day
// The posting value meaning "this block holds too many values of the field
// to list": it matches every value. (A real value spelled the same only
// makes a search read a block it could have skipped.)
constexpr std::string_view kAnyPostingValue = "\x01any";

inline int64_t partition_day_of(int64_t timestamp_ns) {
  // Floor division, so 1969-12-31T23:59:59 is day -1, not day 0.
  int64_t day = timestamp_ns / kNanosPerDay;
  if (timestamp_ns % kNanosPerDay < 0) --day;
  return day;
}

namespace detail {
inline void put_be64(char* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}
inline void put_be32(char* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}
inline uint64_t get_be64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}
inline uint32_t get_be32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}
constexpr uint64_t kTimeBias = uint64_t{1} << 63;
constexpr uint32_t kDayBias = uint32_t{1} << 31;
}  // namespace detail

// Writes the 21-byte key of an event into `out`.
inline void encode_event_key(int64_t timestamp_ns, uint64_t sequence, char* out) {
  out[0] = kEventKeyTag;
  detail::put_be32(out + 1, static_cast<uint32_t>(partition_day_of(timestamp_ns)) + detail::kDayBias);
  detail::put_be64(out + 5, static_cast<uint64_t>(timestamp_ns) + detail::kTimeBias);
  detail::put_be64(out + 13, sequence);
}

struct DecodedEventKey {
  int64_t partition_day;
  int64_t timestamp_ns;
  uint64_t sequence;
};

// Returns false if `key` is not an event key of this format.
inline bool decode_event_key(std::string_view key, DecodedEventKey& out) {
  if (key.size() != kEventKeyBytes || key[0] != kEventKeyTag) return false;
  out.partition_day =
      static_cast<int64_t>(static_cast<int32_t>(detail::get_be32(key.data() + 1) - detail::kDayBias));
  out.timestamp_ns = static_cast<int64_t>(detail::get_be64(key.data() + 5) - detail::kTimeBias);
  out.sequence = detail::get_be64(key.data() + 13);
  return true;
}

// 'p'|day, the prefix of every version-2 key of one partition; `tag` 'e'
// gives the version-1 prefix.
inline std::string partition_prefix(int64_t day, char tag = kPartitionKeyTag) {
  std::string key(kPartitionPrefixBytes, '\0');
  key[0] = tag;
  detail::put_be32(key.data() + 1, static_cast<uint32_t>(day) + detail::kDayBias);
  return key;
}

inline int64_t day_of_partition_key(std::string_view key) {
  return static_cast<int64_t>(static_cast<int32_t>(detail::get_be32(key.data() + 1) - detail::kDayBias));
}

inline std::string block_key(int64_t day, char kind, uint64_t block_id) {
  std::string key = partition_prefix(day);
  key.push_back(kind);
  char id[8];
  detail::put_be64(id, block_id);
  key.append(id, 8);
  return key;
}

inline std::string checkpoint_key(int64_t day) {
  std::string key = partition_prefix(day);
  key.push_back(kCheckpointKind);
  return key;
}

// Prefix of the postings of one field value; the block id follows.
inline std::string posting_prefix(int64_t day, std::string_view field, std::string_view value) {
  std::string key = partition_prefix(day);
  key.push_back(kPostingKind);
  key.append(field);
  key.push_back('\0');
  key.append(value);
  key.push_back('\0');
  return key;
}

// The fixed-size value of a block descriptor key.
struct BlockDescriptor {
  int64_t min_timestamp_ns = 0;
  int64_t max_timestamp_ns = 0;
  uint32_t events = 0;
  uint64_t raw_bytes = 0;
  uint64_t block_bytes = 0;
  static constexpr size_t kEncodedBytes = 36;
  std::string encode() const {
    std::string out(kEncodedBytes, '\0');
    detail::put_be64(out.data(), static_cast<uint64_t>(min_timestamp_ns));
    detail::put_be64(out.data() + 8, static_cast<uint64_t>(max_timestamp_ns));
    detail::put_be32(out.data() + 16, events);
    detail::put_be64(out.data() + 20, raw_bytes);
    detail::put_be64(out.data() + 28, block_bytes);
    return out;
  }
  bool decode(std::string_view in) {
    if (in.size() != kEncodedBytes) return false;
    min_timestamp_ns = static_cast<int64_t>(detail::get_be64(in.data()));
    max_timestamp_ns = static_cast<int64_t>(detail::get_be64(in.data() + 8));
    events = detail::get_be32(in.data() + 16);
    raw_bytes = detail::get_be64(in.data() + 20);
    block_bytes = detail::get_be64(in.data() + 28);
    return true;
  }
};

inline std::string meta_key(std::string_view name) {
  std::string key(1, kMetaKeyTag);
  key.append(name);
  return key;
}

}  // namespace sluice::storage
