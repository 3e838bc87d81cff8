// Unsigned LEB128 varints as the store writes them (raw log records, event
// values, block columns): 7 bits per byte, low bits first, the high bit
// set on every byte but the last.
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

}  // namespace sluice::storage
