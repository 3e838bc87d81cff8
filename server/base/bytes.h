// Small byte comparisons inline. memcmp is a call through the PLT, which
// costs more than the comparison itself for the short strings of the hot
// path (JSON keys, dictionary entries).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace sluice {

// 8 and 4 bytes at p, unaligned, in the machine's byte order (for
// comparing and hashing in memory, not for formats).
inline uint64_t load_u64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t load_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The n bytes at a and b are equal.
inline bool same_bytes(const char* a, const char* b, size_t n) {
  const auto word = load_u64;
  const auto half = load_u32;
  if (n >= 8) {
    for (size_t k = 0; k + 8 < n; k += 8) {
      if (word(a + k) != word(b + k)) return false;
    }
    return word(a + n - 8) == word(b + n - 8);  // overlaps the last word read when n % 8 != 0
  }
  if (n >= 4) return half(a) == half(b) && half(a + n - 4) == half(b + n - 4);
  for (size_t k = 0; k < n; ++k) {
    if (a[k] != b[k]) return false;
  }
  return true;
}

inline bool same_bytes(std::string_view a, std::string_view b) {
  return a.size() == b.size() && same_bytes(a.data(), b.data(), a.size());
}

}  // namespace sluice
