#include "server/inputs/syslog_input.h"

#include <cstring>
#include <string>

#include "server/base/clock.h"
#include "server/inputs/syslog_framing.h"

namespace sluice::server {
namespace {

// Large enough for the largest UDP datagram (65,507 bytes of payload), and
// a TCP read of this size amortises the callback over many messages.
constexpr size_t kReadBufferBytes = 64 * 1024;

// Writes "ADDRESS" of `addr` into `out`, returning its length.
size_t format_peer(const struct sockaddr* addr, char* out, size_t size) {
  if (addr == nullptr) return 0;
  if (addr->sa_family == AF_INET) {
    uv_ip4_name(reinterpret_cast<const struct sockaddr_in*>(addr), out, size);
  } else if (addr->sa_family == AF_INET6) {
    uv_ip6_name(reinterpret_cast<const struct sockaddr_in6*>(addr), out, size);
  } else {
    return 0;
  }
  return std::strlen(out);
}

Status resolve(const config::ListenAddress& address, struct sockaddr_storage& out) {
  int rc = uv_ip4_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in*>(&out));
  if (rc < 0) rc = uv_ip6_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in6*>(&out));
  if (rc < 0) return Status::error("address " + address.to_string() + " is not a numeric IP address");
  return Status::ok();
}

}  // namespace

struct SyslogInput::Connection {
  uv_tcp_t handle{};
  SyslogInput* owner = nullptr;
  SyslogFramer framer;
  char peer[64] = {};
  size_t peer_length = 0;
  bool closing = false;
  explicit Connection(size_t max_frame_bytes) : framer(max_frame_bytes) {}
};

SyslogInput::SyslogInput(uv_loop_t* loop, IngestQueue& queue, ServerMetrics& metrics,
                         const config::IngestOptions& options)
    : loop_(loop),
      metrics_(metrics),
      options_(options),
      tcp_batches_(loop, queue, metrics, options, InputId::kSyslogTcp),
      udp_batches_(loop, queue, metrics, options, InputId::kSyslogUdp),
      read_buffer_(new char[kReadBufferBytes]) {
  tcp_batches_.set_on_backpressure([this] { pause(); });
  udp_batches_.set_on_backpressure([this] { pause(); });
}

SyslogInput::~SyslogInput() = default;

Status SyslogInput::listen(const config::ListenAddress& address) {
  struct sockaddr_storage addr {};
  Status resolved = resolve(address, addr);
  if (!resolved) return resolved.with_context("syslog");
  const auto* sa = reinterpret_cast<const struct sockaddr*>(&addr);
  const std::string where = "syslog " + address.to_string();

  uv_tcp_init(loop_, &tcp_listener_);
  tcp_listener_.data = this;
  tcp_open_ = true;
  int rc = uv_tcp_bind(&tcp_listener_, sa, 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&tcp_listener_), 512, &SyslogInput::on_connection);
  if (rc < 0) return Status::error(where + " (tcp): " + uv_strerror(rc));

  uv_udp_init(loop_, &udp_socket_);
  udp_socket_.data = this;
  udp_open_ = true;
  rc = uv_udp_bind(&udp_socket_, sa, 0);
  if (rc < 0) return Status::error(where + " (udp): " + uv_strerror(rc));
  // Bursts from many senders arrive faster than one loop turn: a larger
  // kernel buffer turns them into batches instead of drops.
  int receive_buffer = 8 << 20;
  uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(&udp_socket_), &receive_buffer);
  rc = uv_udp_recv_start(&udp_socket_, &SyslogInput::on_udp_alloc, &SyslogInput::on_udp_read);
  if (rc < 0) return Status::error(where + " (udp): " + uv_strerror(rc));
  return Status::ok();
}

void SyslogInput::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<SyslogInput*>(server->data);
  if (status < 0 || self->stopped_) return;
  auto* connection = new Connection(self->options_.max_message_bytes);
  connection->owner = self;
  uv_tcp_init(self->loop_, &connection->handle);
  connection->handle.data = connection;
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&connection->handle)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&connection->handle),
             [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
    return;
  }
  struct sockaddr_storage peer {};
  int length = sizeof peer;
  if (uv_tcp_getpeername(&connection->handle, reinterpret_cast<sockaddr*>(&peer), &length) == 0) {
    connection->peer_length =
        format_peer(reinterpret_cast<sockaddr*>(&peer), connection->peer, sizeof connection->peer);
  }
  self->connections_.insert(connection);
  self->metrics_.tcp_connections_accepted.add(1);
  self->metrics_.tcp_connections_open.add(1);
  if (!self->paused_) {
    uv_read_start(reinterpret_cast<uv_stream_t*>(&connection->handle), &SyslogInput::on_alloc,
                  &SyslogInput::on_read);
  }
}

void SyslogInput::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* connection = static_cast<Connection*>(handle->data);
  buf->base = connection->owner->read_buffer_.get();
  buf->len = kReadBufferBytes;
}

void SyslogInput::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* connection = static_cast<Connection*>(stream->data);
  SyslogInput* self = connection->owner;
  const std::string_view peer(connection->peer, connection->peer_length);
  const int64_t received_ns = wall_now_ns();
  auto deliver = [&](std::string_view frame, bool truncated) {
    self->tcp_batches_.add(frame, peer, RecordFormat::kSyslog, truncated, received_ns);
  };
  if (nread > 0) {
    connection->framer.feed(std::string_view(buf->base, static_cast<size_t>(nread)), deliver);
    return;
  }
  if (nread < 0) {
    // EOF or a reset: what the peer sent without a final newline still counts.
    connection->framer.finish(deliver);
    self->close_connection(connection);
  }
}

void SyslogInput::on_udp_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<SyslogInput*>(handle->data);
  buf->base = self->read_buffer_.get();
  buf->len = kReadBufferBytes;
}

void SyslogInput::on_udp_read(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf,
                              const struct sockaddr* addr, unsigned flags) {
  auto* self = static_cast<SyslogInput*>(handle->data);
  if (nread <= 0 || addr == nullptr) return;
  if (self->paused_) {
    self->metrics_.input(InputId::kSyslogUdp).dropped[static_cast<size_t>(DropReason::kQueueFull)].add(1);
    return;
  }
  std::string_view message(buf->base, static_cast<size_t>(nread));
  // Some senders end datagrams with a newline or NUL; it is not content.
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r' || message.back() == '\0')) {
    message.remove_suffix(1);
  }
  if (message.empty()) return;
  const bool truncated = (flags & UV_UDP_PARTIAL) != 0 || message.size() > self->options_.max_message_bytes;
  if (message.size() > self->options_.max_message_bytes) message = message.substr(0, self->options_.max_message_bytes);
  char peer[64];
  const size_t peer_length = format_peer(addr, peer, sizeof peer);
  self->udp_batches_.add(message, std::string_view(peer, peer_length), RecordFormat::kSyslog,
                         truncated, wall_now_ns());
}

void SyslogInput::close_connection(Connection* connection) {
  if (connection->closing) return;
  connection->closing = true;
  connections_.erase(connection);
  metrics_.tcp_connections_open.add(-1);
  uv_close(reinterpret_cast<uv_handle_t*>(&connection->handle),
           [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
}

void SyslogInput::pause() {
  if (paused_) return;
  paused_ = true;
  for (Connection* connection : connections_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&connection->handle));
  }
}

void SyslogInput::resume() {
  if (!paused_ || stopped_) return;
  paused_ = false;
  for (Connection* connection : connections_) {
    uv_read_start(reinterpret_cast<uv_stream_t*>(&connection->handle), &SyslogInput::on_alloc,
                  &SyslogInput::on_read);
  }
}

void SyslogInput::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (tcp_open_) uv_close(reinterpret_cast<uv_handle_t*>(&tcp_listener_), nullptr);
  if (udp_open_) {
    uv_udp_recv_stop(&udp_socket_);
    uv_close(reinterpret_cast<uv_handle_t*>(&udp_socket_), nullptr);
  }
  // Copy: close_connection() edits the set.
  std::vector<Connection*> open(connections_.begin(), connections_.end());
  for (Connection* connection : open) {
    const std::string_view peer(connection->peer, connection->peer_length);
    connection->framer.finish([&](std::string_view frame, bool truncated) {
      tcp_batches_.add(frame, peer, RecordFormat::kSyslog, truncated, wall_now_ns());
    });
    close_connection(connection);
  }
  tcp_batches_.close();
  udp_batches_.close();
}

}  // namespace sluice::server
