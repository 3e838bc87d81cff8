// SyslogInput: the syslog listeners — UDP, TCP and (optionally) TLS.
//
// UDP takes one message per datagram. TCP and TLS connections run on
// StreamListeners with a SyslogStreamHandler (RFC6587 framing), TLS with a
// TlsHandler around it. Frames go to one BatchBuilder per transport. Under
// backpressure the stream listeners stop reading (senders buffer, as
// rsyslog's queues are built to) and UDP drops, counted as
// reason="queue_full".
// Thread: ingest loop only, except listen(), which runs before the loop does.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>

#include "config/options.h"
#include "server/inputs/batch_builder.h"
#include "server/inputs/stream_listener.h"
#include "server/inputs/tls_session.h"

namespace sluice::server {

class SyslogInput {
 public:
  SyslogInput(uv_loop_t* loop, IngestQueue& queue, ServerMetrics& metrics,
              const config::ServerOptions& options);
  ~SyslogInput();

  // Binds UDP and TCP on options.syslog, and TLS on options.syslog_tls if
  // enabled. The error names the listener, the address and why.
  Status listen();

  // Called when a hand-over finds the queue full; the owner pauses every
  // input (this one included) until the queue drains.
  void set_on_backpressure(std::function<void()> callback) { on_backpressure_ = std::move(callback); }

  // Backpressure from the queue: stop reading; resume once it drained.
  void pause();
  void resume();

  // Shutdown, step 1: closes the listeners, stops reading, and hands over
  // every buffered frame.
  void quiesce();
  // Shutdown, step 2 (after the queue drained): closes every connection.
  void close();

 private:
  static void on_udp_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_udp_read(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf,
                          const struct sockaddr* addr, unsigned flags);

  uv_loop_t* loop_;
  ServerMetrics& metrics_;
  std::function<void()> on_backpressure_;
  const config::ServerOptions options_;
  BatchBuilder tcp_batches_;
  BatchBuilder udp_batches_;
  BatchBuilder tls_batches_;
  std::shared_ptr<TlsContext> tls_context_;
  std::unique_ptr<StreamListener> tcp_;
  std::unique_ptr<StreamListener> tls_;
  uv_udp_t udp_socket_{};
  bool udp_open_ = false;
  bool paused_ = false;
  bool stopped_ = false;
  std::unique_ptr<char[]> udp_buffer_;
  // The previous datagram's sender, and its address as text.
  struct sockaddr_storage last_peer_addr_ {};
  size_t last_peer_addr_length_ = 0;
  char last_peer_[64] = {};
  size_t last_peer_length_ = 0;
};

}  // namespace sluice::server
