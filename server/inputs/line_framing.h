// LF framing of a byte stream, for JSON lines over TCP: one frame per line,
// LF-terminated, a CR before the LF stripped, empty lines skipped. Unlike
// SyslogFramer there is no octet counting and NUL is content.
//
// Pure: no sockets, no libuv, so every split of a stream is unit-tested
// (line_framing_test.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "server/base/assert.h"

namespace sluice::server {

// Memory: at most max_frame_bytes + 1 bytes are buffered per connection (the
// extra byte tells whether a line of exactly max_frame_bytes ends in a CR).
// Thread: one connection, on the ingest loop.
class LineFramer {
 public:
  explicit LineFramer(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {
    SLUICE_ASSERT(max_frame_bytes > 0, "max_frame_bytes is validated as positive");
  }

  // Calls on_frame(std::string_view frame, bool truncated) for each complete
  // line; views are valid only during the call. Lines within `bytes` are
  // passed without a copy; a line split across calls is buffered. A line
  // longer than max_frame_bytes is delivered cut to max_frame_bytes with
  // truncated=true as soon as it is known to be too long, and the rest of it
  // is skipped unbuffered.
  template <typename OnFrame>
  void feed(std::string_view bytes, OnFrame&& on_frame) {
    size_t pos = 0;
    while (pos < bytes.size()) {
      const void* found = std::memchr(bytes.data() + pos, '\n', bytes.size() - pos);
      const size_t end = found == nullptr ? bytes.size() : static_cast<const char*>(found) - bytes.data();
      const std::string_view piece = bytes.substr(pos, end - pos);
      pos = found == nullptr ? bytes.size() : end + 1;
      if (skipping_) {
        if (found != nullptr) skipping_ = false;
        continue;
      }
      if (found != nullptr) {
        if (buffer_.empty()) {
          emit(piece, piece.size(), on_frame);
        } else {
          const size_t total = buffer_.size() + piece.size();
          append_capped(piece);
          emit(buffer_, total, on_frame);
          buffer_.clear();
        }
        continue;
      }
      // An unterminated tail: buffer it, unless it is already too long.
      const size_t total = buffer_.size() + piece.size();
      append_capped(piece);
      if (total > max_frame_bytes_ + 1 ||
          (total == max_frame_bytes_ + 1 && buffer_[max_frame_bytes_] != '\r')) {
        ++stats_.oversize_frames;
        on_frame(std::string_view(buffer_).substr(0, max_frame_bytes_), true);
        buffer_.clear();
        skipping_ = true;
      }
    }
  }

  // At connection close: delivers an unterminated last line, if any (a
  // sender need not end the last line), then is ready for a new stream.
  template <typename OnFrame>
  void finish(OnFrame&& on_frame) {
    if (!buffer_.empty() && !skipping_) emit(buffer_, buffer_.size(), on_frame);
    buffer_.clear();
    skipping_ = false;
  }

  size_t buffered_bytes() const { return buffer_.size(); }

  struct Stats {
    uint32_t oversize_frames = 0;  // lines cut at max_frame_bytes
  };
  Stats take_stats() {
    Stats taken = stats_;
    stats_ = Stats();
    return taken;
  }

 private:
  void append_capped(std::string_view piece) {
    if (buffer_.size() < max_frame_bytes_ + 1) {
      buffer_.append(piece.substr(0, max_frame_bytes_ + 1 - buffer_.size()));
    }
  }

  // `line` holds the first bytes of a complete line; `line_bytes` its length.
  template <typename OnFrame>
  void emit(std::string_view line, size_t line_bytes, OnFrame& on_frame) {
    if (line.size() > max_frame_bytes_ + 1) line = line.substr(0, max_frame_bytes_ + 1);
    if (line_bytes == line.size() && !line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
      --line_bytes;
    }
    const bool truncated = line_bytes > max_frame_bytes_;
    if (truncated) {
      line = line.substr(0, max_frame_bytes_);
      ++stats_.oversize_frames;
    }
    if (!line.empty()) on_frame(line, truncated);
  }

  const size_t max_frame_bytes_;
  std::string buffer_;
  bool skipping_ = false;  // inside the rest of an oversize line
  Stats stats_;
};

}  // namespace sluice::server
