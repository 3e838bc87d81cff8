// SyslogInput: the syslog listeners, TCP and UDP on one address.
//
// TCP connections are framed per frame (octet-counting or LF/NUL, RFC6587)
// by SyslogFramer; UDP takes one message per datagram. Frames go to one
// BatchBuilder per transport. Under backpressure TCP stops reading (senders
// buffer, as rsyslog's queues are built to) and UDP drops, counted as
// reason="queue_full".
// Thread: ingest loop only, except listen(), which runs before the loop does.
#pragma once

#include <uv.h>

#include <unordered_set>

#include "config/options.h"
#include "server/inputs/batch_builder.h"

namespace sluice::server {

class SyslogInput {
 public:
  SyslogInput(uv_loop_t* loop, IngestQueue& queue, ServerMetrics& metrics,
              const config::IngestOptions& options);
  ~SyslogInput();

  // Binds TCP and UDP on `address`. The error names the address and why.
  Status listen(const config::ListenAddress& address);

  // The queue drained below its low watermark: read again.
  void resume();

  // Closes listeners and connections, and hands over every buffered frame.
  void stop();

 private:
  struct Connection;
  static void on_connection(uv_stream_t* server, int status);
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_udp_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_udp_read(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf,
                          const struct sockaddr* addr, unsigned flags);
  void close_connection(Connection* connection);
  void pause();

  uv_loop_t* loop_;
  ServerMetrics& metrics_;
  const config::IngestOptions options_;
  BatchBuilder tcp_batches_;
  BatchBuilder udp_batches_;
  uv_tcp_t tcp_listener_{};
  uv_udp_t udp_socket_{};
  bool tcp_open_ = false;
  bool udp_open_ = false;
  bool paused_ = false;
  bool stopped_ = false;
  std::unordered_set<Connection*> connections_;
  // One read buffer for every connection: libuv calls read right after
  // alloc on the same thread, and frames are copied out before returning.
  std::unique_ptr<char[]> read_buffer_;
};

}  // namespace sluice::server
