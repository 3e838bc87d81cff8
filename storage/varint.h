// Unsigned LEB128 varints as the store writes them (raw log records, event
// values, block columns): 7 bits per byte, low bits first, the high bit
// set on every byte but the last. Signed values go through zigzag first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sluice::storage {

constexpr size_t kMaxVarintBytes = 10;  // of a 64-bit value

// Writes v at p, which has room for kMaxVarintBytes; returns the end.
inline char* write_varint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// Appends v to out. Most values fit a byte; longer ones are gathered
// before one append.
inline void put_varint(std::string& out, uint64_t v) {
  if (v < 0x80) {
    out.push_back(static_cast<char>(v));
    return;
  }
  char bytes[kMaxVarintBytes];
  out.append(bytes, static_cast<size_t>(write_varint(bytes, v) - bytes));
}

// Zigzag: small magnitudes of either sign become small unsigned values
// (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...).
inline uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Differences modulo 2^64, so that any two int64s (received times far from
// their timestamps, times before 1970) round-trip without overflow.
inline int64_t wrapping_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
inline int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

}  // namespace sluice::storage
