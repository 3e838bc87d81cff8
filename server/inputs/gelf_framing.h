// GelfNulFramer: GELF over TCP frames, as Graylog reads them: each message
// ends with a NUL byte (\0). Only NUL ends a frame — a newline inside or
// after the JSON is whitespace to the parser, so "{...}\n\0" works, but a
// sender that ends messages with newlines alone (no \0) is read as one
// ever-growing frame, cut at the size limit.
//
// A frame longer than `max_frame_bytes` is delivered truncated (flagged;
// it then fails to parse and is stored as a parse failure with its text)
// and the rest of it is skipped without buffering. Pure: no IO.
// Thread: one per connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace sluice::server {

class GelfNulFramer {
 public:
  explicit GelfNulFramer(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

  // Calls emit(frame, truncated) for each complete frame of `bytes`; the
  // view lives for the call. Empty frames (\0\0) are skipped.
  template <typename Emit>
  void feed(std::string_view bytes, Emit&& emit) {
    while (!bytes.empty()) {
      const size_t nul = bytes.find('\0');
      const std::string_view piece = bytes.substr(0, nul);
      if (skipping_) {
        if (nul == std::string_view::npos) return;
        skipping_ = false;
      } else if (pending_.empty() && nul != std::string_view::npos && piece.size() <= max_frame_bytes_) {
        if (!piece.empty()) emit(piece, false);  // the common case: no copy
      } else if (pending_.size() + piece.size() > max_frame_bytes_) {
        pending_.append(piece.substr(0, max_frame_bytes_ - pending_.size()));
        emit(std::string_view(pending_), true);
        ++oversize_frames_;
        pending_.clear();
        skipping_ = nul == std::string_view::npos;
      } else {
        pending_.append(piece);
        if (nul == std::string_view::npos) return;
        if (!pending_.empty()) emit(std::string_view(pending_), false);
        pending_.clear();
      }
      if (nul == std::string_view::npos) return;
      bytes.remove_prefix(nul + 1);
    }
  }

  // The connection ended: a last frame without its \0 is delivered (it may
  // well be a whole JSON object), and counted as incomplete.
  template <typename Emit>
  void finish(Emit&& emit) {
    if (!pending_.empty() && !skipping_) {
      emit(std::string_view(pending_), false);
      ++incomplete_frames_;
    }
    pending_.clear();
    skipping_ = false;
  }

  uint64_t take_oversize_frames() { return std::exchange(oversize_frames_, 0); }
  uint64_t take_incomplete_frames() { return std::exchange(incomplete_frames_, 0); }

 private:
  const size_t max_frame_bytes_;
  std::string pending_;  // a frame's start, carried to the next read
  bool skipping_ = false;
  uint64_t oversize_frames_ = 0;
  uint64_t incomplete_frames_ = 0;
};

}  // namespace sluice::server
