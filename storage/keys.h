// On-disk key layout of the event store, format version 1.
//
//   event key:  'e' | partition_day:u32 | timestamp:u64 | sequence:u64   (21 bytes)
//   meta key:   'm' | name
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

constexpr uint32_t kStoreFormatVersion = 1;
constexpr size_t kEventKeyBytes = 21;
constexpr char kEventKeyTag = 'e';
constexpr char kMetaKeyTag = 'm';

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

inline std::string meta_key(std::string_view name) {
  std::string key(1, kMetaKeyTag);
  key.append(name);
  return key;
}

}  // namespace sluice::storage
