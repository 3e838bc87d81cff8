// StreamListener: a TCP listener whose connections each feed a protocol
// handler (plain syslog framing, TLS, RELP — stacked as handlers).
//
// It owns the sockets: accepting (up to a connection limit, beyond which a
// connection is closed at once and counted), reading into one shared buffer,
// writing, closing, pausing and resuming reads for backpressure, and closing
// connections whose handler is not established (e.g. no TLS handshake) in
// time.
// Thread: ingest loop only, except listen(), which runs before the loop.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/options.h"
#include "server/metrics.h"

namespace sluice::server {

// Where a protocol layer sends bytes to its peer.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void send(std::string_view bytes) = 0;
  // Closes the connection once what was sent is written. The handler must
  // not be used after its own call to close() returns... it may be destroyed
  // only later, on the loop's next close callback.
  virtual void close() = 0;
};

// One connection's protocol. Handlers are stacked: a TLS handler decrypts
// and passes plaintext to an inner handler, whose sink encrypts.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // Bytes from the peer. Returns false to close the connection (after the
  // bytes already sent are written).
  virtual bool on_bytes(std::string_view bytes) = 0;
  // The peer closed, or the server stops: deliver what is buffered.
  virtual void on_end() = 0;
  // False until the protocol's opening exchange is done (TLS handshake);
  // connections not established within the handshake timeout are closed.
  virtual bool established() const { return true; }
};

struct ConnectionInfo {
  uint64_t id;
  std::string_view peer;  // address as text; valid for the connection's life
  ByteSink* sink;         // valid for the connection's life
};

class StreamListener {
 public:
  using HandlerFactory = std::function<std::unique_ptr<ConnectionHandler>(const ConnectionInfo&)>;

  StreamListener(uv_loop_t* loop, ServerMetrics& metrics, InputId input, HandlerFactory factory,
                 uint32_t max_connections, uint32_t handshake_timeout_ms);
  ~StreamListener();
  StreamListener(const StreamListener&) = delete;
  StreamListener& operator=(const StreamListener&) = delete;

  // `what` names the listener in errors ("syslog tls 0.0.0.0:6514: address already in use").
  Status listen(const config::ListenAddress& address, std::string_view what);

  // Called after every read callback, once the handler has consumed the
  // bytes (e.g. to hand over a batch per read).
  void set_after_read(std::function<void()> after_read) { after_read_ = std::move(after_read); }

  void pause();
  void resume();
  // Shutdown, step 1: closes the listener, stops reading every connection
  // and lets handlers deliver what they buffered; connections stay open so
  // that acknowledgements still reach their senders.
  void quiesce();
  // Shutdown, step 2: closes every connection.
  void close_connections();

  void for_each_handler(const std::function<void(ConnectionHandler&)>& visit);

  // The handler of connection `id`, or nullptr if it has gone.
  ConnectionHandler* find(uint64_t id);

 private:
  struct Connection;
  static void on_connection(uv_stream_t* server, int status);
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_sweep(uv_timer_t* timer);
  void close_connection(Connection* connection, bool graceful);

  uv_loop_t* loop_;
  ServerMetrics& metrics_;
  const InputId input_;
  HandlerFactory factory_;
  const uint32_t max_connections_;
  const uint32_t handshake_timeout_ms_;
  std::function<void()> after_read_;
  uv_tcp_t listener_{};
  uv_timer_t sweep_timer_{};
  bool open_ = false;
  bool paused_ = false;
  bool stopped_ = false;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Connection*> connections_;
  std::unique_ptr<char[]> read_buffer_;
};

// Parses a numeric IP address and port into a sockaddr.
Status resolve_listen_address(const config::ListenAddress& address, struct sockaddr_storage& out);

// The address of `addr` as text ("10.0.0.1", "::1"), written into `out`.
size_t format_peer_address(const struct sockaddr* addr, char* out, size_t size);

}  // namespace sluice::server
