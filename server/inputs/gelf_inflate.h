// GelfInflater: GELF payload decompression. Graylog tells the encodings
// apart by their first bytes: zlib (0x78), gzip (0x1f 0x8b), otherwise
// uncompressed JSON. HTTP's "deflate" Content-Encoding is zlib too.
//
// Output is capped: a payload that inflates past `max_bytes` (a zip bomb) is
// refused as soon as the cap is crossed, without inflating the rest.
// Thread: one owner; reuses its zlib state and output buffer, so steady
// state allocates nothing.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <memory>
#include <string_view>

namespace sluice::server {

enum class GelfEncoding { kPlain, kZlib, kGzip };
GelfEncoding gelf_encoding_of(std::string_view payload);

class GelfInflater {
 public:
  enum class Result { kOk, kCorrupt, kTooLarge };

  GelfInflater() = default;
  ~GelfInflater();
  GelfInflater(const GelfInflater&) = delete;
  GelfInflater& operator=(const GelfInflater&) = delete;

  // Inflates zlib or gzip `compressed` (detected by its header). On kOk,
  // output() is the result, valid until the next call. The buffer keeps
  // `padding` readable bytes past the output (for simdjson).
  Result inflate(std::string_view compressed, size_t max_bytes, size_t padding = 64);
  std::string_view output() const { return {buffer_.get(), output_bytes_}; }

 private:
  bool reserve(size_t bytes);

  z_stream stream_{};
  bool initialized_ = false;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
  size_t output_bytes_ = 0;
};

}  // namespace sluice::server
