#include "server/inputs/gelf_inflate.h"

#include <algorithm>
#include <cstring>

namespace sluice::server {

GelfEncoding gelf_encoding_of(std::string_view payload) {
  if (payload.size() >= 2 && static_cast<unsigned char>(payload[0]) == 0x1f &&
      static_cast<unsigned char>(payload[1]) == 0x8b) {
    return GelfEncoding::kGzip;
  }
  if (!payload.empty() && static_cast<unsigned char>(payload[0]) == 0x78) return GelfEncoding::kZlib;
  return GelfEncoding::kPlain;
}

GelfInflater::~GelfInflater() {
  if (initialized_) inflateEnd(&stream_);
}

bool GelfInflater::reserve(size_t bytes) {
  if (bytes <= capacity_) return true;
  size_t capacity = std::max<size_t>(capacity_ * 2, 16 * 1024);
  while (capacity < bytes) capacity *= 2;
  auto grown = std::unique_ptr<char[]>(new (std::nothrow) char[capacity]);
  if (!grown) return false;
  if (output_bytes_ != 0) std::memcpy(grown.get(), buffer_.get(), output_bytes_);
  buffer_ = std::move(grown);
  capacity_ = capacity;
  return true;
}

GelfInflater::Result GelfInflater::inflate(std::string_view compressed, size_t max_bytes, size_t padding) {
  output_bytes_ = 0;
  // 15 + 32: a zlib or a gzip header, detected by zlib itself.
  if (!initialized_) {
    if (inflateInit2(&stream_, 15 + 32) != Z_OK) return Result::kCorrupt;
    initialized_ = true;
  } else if (inflateReset2(&stream_, 15 + 32) != Z_OK) {
    return Result::kCorrupt;
  }
  stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream_.avail_in = static_cast<uInt>(compressed.size());
  // Up to one byte past the cap, so that crossing it is seen.
  const size_t limit = max_bytes + 1;
  if (!reserve(std::min(limit, std::max<size_t>(compressed.size() * 4, 4096)) + padding)) {
    return Result::kTooLarge;
  }
  while (true) {
    if (output_bytes_ + padding >= capacity_) {
      if (output_bytes_ >= limit) return Result::kTooLarge;
      if (!reserve(std::min(limit, capacity_ * 2) + padding)) return Result::kTooLarge;
    }
    const size_t room = std::min(capacity_ - padding, limit) - output_bytes_;
    stream_.next_out = reinterpret_cast<Bytef*>(buffer_.get() + output_bytes_);
    stream_.avail_out = static_cast<uInt>(room);
    const int rc = ::inflate(&stream_, Z_NO_FLUSH);
    output_bytes_ += room - stream_.avail_out;
    if (output_bytes_ > max_bytes) return Result::kTooLarge;
    if (rc == Z_STREAM_END) return Result::kOk;
    if (rc == Z_BUF_ERROR && stream_.avail_in == 0) return Result::kCorrupt;  // truncated
    if (rc != Z_OK && rc != Z_BUF_ERROR) return Result::kCorrupt;
    if (stream_.avail_out != 0 && stream_.avail_in == 0) return Result::kCorrupt;  // input ended early
  }
}

}  // namespace sluice::server
