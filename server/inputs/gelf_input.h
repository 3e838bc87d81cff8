// GelfInput: Graylog's GELF over UDP and TCP, on one address (Graylog's
// usual port is 12201).
//
// UDP: one datagram is one message, or one chunk of one (magic 0x1e 0x0f,
// reassembled by GelfChunkAssembler); a message is zlib, gzip or plain
// JSON (GelfInflater, capped at gelf.max_message_bytes decompressed).
// TCP: NUL-terminated JSON frames on StreamListener connections
// (GelfNulFramer), uncompressed, as Graylog's GELF TCP input reads them.
// Records go to the queue as RecordFormat::kGelf through one BatchBuilder
// per transport; parsing (parsers/gelf) happens on the parse workers.
//
// Bad input is counted in sluice_gelf_errors_total{input,reason}
// (chunk_expired, chunk_evicted, chunk_invalid, chunk_duplicate,
// message_too_large, decompress_failed, frame_truncated, frame_incomplete)
// and the open reassembly state in sluice_gelf_open_messages and
// sluice_gelf_open_bytes. Under backpressure TCP stops reading and UDP
// drops, counted as sluice_events_dropped_total{reason="queue_full"}.
// Thread: ingest loop only, except listen() (before the loop runs) and the
// metrics section (thread-safe: atomics).
#pragma once

#include <uv.h>

#include <array>
#include <functional>
#include <memory>
#include <string>

#include "config/options.h"
#include "server/inputs/batch_builder.h"
#include "server/inputs/gelf_chunks.h"
#include "server/inputs/gelf_inflate.h"
#include "server/inputs/stream_listener.h"

namespace sluice::server {

enum class GelfError : uint8_t {
  kChunkExpired = 0,   // a chunked message incomplete after 5 s
  kChunkEvicted,       // an incomplete message dropped for gelf.max_open_messages/_bytes
  kChunkInvalid,       // a chunk header that is not valid GELF
  kChunkDuplicate,     // a chunk received twice (ignored)
  kMessageTooLarge,    // reassembled or decompressed past gelf.max_message_bytes
  kDecompressFailed,   // corrupt or truncated zlib/gzip
  kFrameTruncated,     // a TCP frame past gelf.max_message_bytes
  kFrameIncomplete,    // a TCP connection ended inside a frame (the frame is kept)
  kCount,
};
constexpr size_t kGelfErrorCount = static_cast<size_t>(GelfError::kCount);
std::string_view gelf_error_name(GelfError error);

// Thread-safe counters of the GELF inputs.
struct GelfCounters {
  std::array<std::array<Counter, kGelfErrorCount>, 2> errors;  // [0] udp, [1] tcp
  Gauge open_messages;
  Gauge open_bytes;
  void count(bool tcp, GelfError error, uint64_t n = 1) {
    if (n != 0) errors[tcp ? 1 : 0][static_cast<size_t>(error)].add(n);
  }
  // Appends the Prometheus families.
  void render(std::string& out) const;
};

class GelfInput {
 public:
  GelfInput(uv_loop_t* loop, IngestQueue& queue, ServerMetrics& metrics,
            const config::ServerOptions& options);
  ~GelfInput();

  // Binds UDP and TCP on options.gelf, if enabled.
  Status listen();

  void set_on_backpressure(std::function<void()> callback) { on_backpressure_ = std::move(callback); }
  void pause();
  void resume();
  // Shutdown step 1: close the listeners, stop reading, hand over what is buffered.
  void quiesce();
  // Shutdown step 2: close every connection.
  void close();

  const GelfCounters& counters() const { return counters_; }

 private:
  class StreamHandler;
  static void on_udp_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_udp_read(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf,
                          const struct sockaddr* addr, unsigned flags);
  static void on_sweep(uv_timer_t* timer);
  void take_message(std::string_view payload, std::string_view peer, int64_t received_ns);
  void publish_assembler_stats();

  uv_loop_t* loop_;
  ServerMetrics& metrics_;
  std::function<void()> on_backpressure_;
  const config::ServerOptions options_;
  GelfCounters counters_;
  BatchBuilder udp_batches_;
  BatchBuilder tcp_batches_;
  std::unique_ptr<StreamListener> tcp_;
  GelfChunkAssembler assembler_;
  GelfInflater inflater_;
  std::string reassembled_;  // reused: one complete chunked message
  uv_udp_t udp_socket_{};
  uv_timer_t sweep_timer_{};
  bool udp_open_ = false;
  bool timer_open_ = false;
  bool paused_ = false;
  bool stopped_ = false;
  std::unique_ptr<char[]> udp_buffer_;
  struct sockaddr_storage last_peer_addr_ {};
  size_t last_peer_addr_length_ = 0;
  char last_peer_[64] = {};
  size_t last_peer_length_ = 0;
};

}  // namespace sluice::server
