// RFC6587 framing of a syslog TCP byte stream: octet counting
// ("MSG-LEN SP SYSLOG-MSG") and non-transparent LF framing, decided per frame
// by its first byte, because senders and relays mix them on one connection.
//
// Pure: no sockets, no libuv, so every split of a stream is unit-tested.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/base/assert.h"

namespace sluice::server {

// Splits a TCP byte stream into syslog frames, RFC6587: octet-counting ("MSG-LEN SP SYSLOG-MSG") when a frame
// starts with a nonzero digit, otherwise non-transparent framing terminated by LF (a trailing CR is stripped;
// a NUL byte also terminates a frame). Mode is decided per frame.
//
// A frame that starts with digits not followed by SP ("12abc", "2024-03-01...")
// is LF-framed text. Octet-counted bodies are delivered exactly as counted
// (no CR/LF stripping); a stray LF between octet-counted frames is an empty
// LF frame and so skipped.
//
// Memory: at most max_frame_bytes + 1 bytes are buffered per connection (the
// extra byte decides whether a frame of exactly max_frame_bytes ends in a CR
// that is stripped), plus up to kMaxLengthDigits of a pending MSG-LEN.
// Thread: one connection, on the ingest loop.
class SyslogFramer {
 public:
  explicit SyslogFramer(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {
    SLUICE_ASSERT(max_frame_bytes > 0, "max_frame_bytes is validated as positive");
  }

  // Feeds bytes; calls on_frame(std::string_view frame, bool truncated) for each complete frame.
  // Views are valid only during the callback. Partial frames are buffered (copied) across calls.
  // A frame longer than max_frame_bytes is delivered truncated to max_frame_bytes with truncated=true
  // and the rest of it is skipped without buffering it (so a huge frame never stalls or balloons memory).
  // The truncated part is delivered as soon as it is known to be too long, not when the frame ends.
  // Empty LF frames are skipped.
  template <typename OnFrame>
  void feed(std::string_view bytes, OnFrame&& on_frame);

  // At connection close: delivers a buffered unterminated frame, if any. An
  // octet-counted frame cut short is delivered with truncated=true, since
  // fewer bytes arrived than its MSG-LEN announced. Then the framer is ready
  // for a new stream.
  template <typename OnFrame>
  void finish(OnFrame&& on_frame);

  size_t buffered_bytes() const { return buffer_.size(); }

  // Anomalies seen since the last take_stats(), for the input's counters.
  struct Stats {
    uint32_t invalid_length_prefixes = 0;  // digits at a frame start that are no MSG-LEN
    uint32_t oversize_frames = 0;          // frames cut at max_frame_bytes
    uint32_t incomplete_frames = 0;        // finish() inside a frame
  };
  Stats take_stats() {
    Stats taken = stats_;
    stats_ = Stats();
    return taken;
  }

 private:
  // MSG-LEN digits beyond this are not a length but text: 10 digits already
  // announce gigabytes, far beyond any max_frame_bytes, and cap the pending
  // bytes a bogus prefix can make us hold.
  static constexpr size_t kMaxLengthDigits = 10;
  static constexpr size_t kNoFrameStart = static_cast<size_t>(-1);

  enum class State : uint8_t {
    kFrameStart,   // between frames
    kLength,       // reading MSG-LEN digits; may turn out to be LF-framed text
    kOctetBody,    // reading an octet-counted body
    kLine,         // reading an LF-framed frame
    kSkipOctets,   // discarding the rest of an oversize octet-counted frame
    kSkipLine,     // discarding the rest of an oversize LF frame
  };

  static size_t find_terminator(std::string_view bytes, size_t from) {
    for (size_t i = from; i < bytes.size(); ++i) {
      if (bytes[i] == '\n' || bytes[i] == '\0') return i;
    }
    return std::string_view::npos;
  }

  // Delivers a complete LF frame. `line` holds its first bytes (at most
  // max_frame_bytes_ + 1 of them matter); `line_bytes` is its true length.
  template <typename OnFrame>
  void emit_line(std::string_view line, size_t line_bytes, OnFrame& on_frame) {
    if (line.size() > max_frame_bytes_ + 1) line = line.substr(0, max_frame_bytes_ + 1);
    // Only the frame's real last byte can be the CR of a CRLF.
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

  size_t max_frame_bytes_;
  State state_ = State::kFrameStart;
  // Bytes of the current frame that arrived in earlier feeds: MSG-LEN digits,
  // the start of an LF frame (up to max_frame_bytes_ + 1), or an octet body
  // (up to max_frame_bytes_).
  std::string buffer_;
  uint64_t octet_length_ = 0;     // MSG-LEN of the current octet-counted frame
  size_t length_digits_ = 0;      // digits of MSG-LEN read so far
  uint64_t octets_to_skip_ = 0;   // rest of an oversize octet-counted frame
  Stats stats_;
};

template <typename OnFrame>
void SyslogFramer::feed(std::string_view bytes, OnFrame&& on_frame) {
  size_t pos = 0;
  // Where the current frame starts in `bytes`, or kNoFrameStart if it started
  // in an earlier feed, in which case its earlier bytes are in buffer_.
  size_t frame_start = kNoFrameStart;
  while (pos < bytes.size()) {
    switch (state_) {
      case State::kFrameStart: {
        const char first = bytes[pos];
        if (first == '\n' || first == '\0') {  // empty frame
          ++pos;
          break;
        }
        frame_start = pos;
        if (first >= '1' && first <= '9') {
          state_ = State::kLength;
          octet_length_ = 0;
          length_digits_ = 0;
        } else {
          // "0 msg" announces an empty frame: no sender does that on purpose.
          if (first == '0') ++stats_.invalid_length_prefixes;
          state_ = State::kLine;
        }
        break;
      }

      case State::kLength: {
        while (pos < bytes.size() && bytes[pos] >= '0' && bytes[pos] <= '9' &&
               length_digits_ < kMaxLengthDigits) {
          octet_length_ = octet_length_ * 10 + static_cast<uint64_t>(bytes[pos] - '0');
          ++length_digits_;
          // Digits of a frame begun earlier join the buffered ones, in case
          // they turn out to be text.
          if (frame_start == kNoFrameStart) buffer_.push_back(bytes[pos]);
          ++pos;
        }
        if (pos == bytes.size()) {
          if (frame_start != kNoFrameStart) buffer_.assign(bytes.substr(frame_start));
          break;
        }
        if (bytes[pos] == ' ') {
          ++pos;
          buffer_.clear();
          frame_start = kNoFrameStart;
          state_ = State::kOctetBody;
        } else {
          state_ = State::kLine;  // "12abc": the digits start a line of text
          ++stats_.invalid_length_prefixes;
        }
        break;
      }

      case State::kOctetBody: {
        const size_t deliver = static_cast<size_t>(std::min<uint64_t>(octet_length_, max_frame_bytes_));
        const bool truncated = octet_length_ > max_frame_bytes_;
        std::string_view frame;
        if (buffer_.empty() && bytes.size() - pos >= deliver) {
          frame = bytes.substr(pos, deliver);  // whole body here: no copy
          pos += deliver;
        } else {
          const size_t take = std::min(deliver - buffer_.size(), bytes.size() - pos);
          buffer_.append(bytes.substr(pos, take));
          pos += take;
          if (buffer_.size() < deliver) break;
          frame = buffer_;
        }
        if (truncated) ++stats_.oversize_frames;
        on_frame(frame, truncated);
        buffer_.clear();
        octets_to_skip_ = octet_length_ - deliver;
        state_ = octets_to_skip_ > 0 ? State::kSkipOctets : State::kFrameStart;
        break;
      }

      case State::kLine: {
        const size_t terminator = find_terminator(bytes, pos);
        const size_t end = terminator == std::string_view::npos ? bytes.size() : terminator;
        std::string_view line;
        size_t line_bytes;
        if (frame_start != kNoFrameStart) {
          line_bytes = end - frame_start;
          line = bytes.substr(frame_start, std::min(line_bytes, max_frame_bytes_ + 1));
        } else {
          line_bytes = buffer_.size() + (end - pos);
          if (buffer_.size() < max_frame_bytes_ + 1) {
            buffer_.append(bytes.substr(pos, std::min(end - pos, max_frame_bytes_ + 1 - buffer_.size())));
          }
          line = buffer_;
        }
        if (terminator != std::string_view::npos) {
          emit_line(line, line_bytes, on_frame);
          buffer_.clear();
          frame_start = kNoFrameStart;
          state_ = State::kFrameStart;
          pos = terminator + 1;
          break;
        }
        pos = bytes.size();
        // Too long whatever comes next (max + 1 bytes are only fine if the last
        // is the CR of a CRLF): deliver now and skip the rest unbuffered.
        if (line_bytes > max_frame_bytes_ + 1 ||
            (line_bytes == max_frame_bytes_ + 1 && line[max_frame_bytes_] != '\r')) {
          ++stats_.oversize_frames;
          on_frame(line.substr(0, max_frame_bytes_), true);
          buffer_.clear();
          state_ = State::kSkipLine;
          break;
        }
        if (frame_start != kNoFrameStart) buffer_.assign(line);
        break;
      }

      case State::kSkipOctets: {
        const size_t skip = static_cast<size_t>(std::min<uint64_t>(octets_to_skip_, bytes.size() - pos));
        pos += skip;
        octets_to_skip_ -= skip;
        if (octets_to_skip_ == 0) state_ = State::kFrameStart;
        break;
      }

      case State::kSkipLine: {
        const size_t terminator = find_terminator(bytes, pos);
        if (terminator == std::string_view::npos) {
          pos = bytes.size();
        } else {
          pos = terminator + 1;
          state_ = State::kFrameStart;
        }
        break;
      }
    }
  }
}

template <typename OnFrame>
void SyslogFramer::finish(OnFrame&& on_frame) {
  switch (state_) {
    case State::kLength:
    case State::kLine:
      emit_line(buffer_, buffer_.size(), on_frame);
      break;
    case State::kOctetBody:
      ++stats_.incomplete_frames;
      if (!buffer_.empty()) on_frame(std::string_view(buffer_), true);
      break;
    case State::kFrameStart:
    case State::kSkipOctets:
    case State::kSkipLine:
      break;
  }
  buffer_.clear();
  state_ = State::kFrameStart;
  octets_to_skip_ = 0;
}

}  // namespace sluice::server
