#include "server/inputs/stream_listener.h"

#include <cstring>
#include <deque>
#include <vector>

#include "server/base/clock.h"

namespace sluice::server {
namespace {

// One read of this size amortises the callback over many messages.
constexpr size_t kStreamReadBytes = 64 * 1024;
// How often connections are checked against the handshake timeout.
constexpr uint64_t kSweepIntervalMs = 1000;

struct WriteRequest {
  uv_write_t request{};
  std::string bytes;
};

}  // namespace

struct StreamListener::Connection final : ByteSink {
  uv_tcp_t handle{};
  StreamListener* owner = nullptr;
  uint64_t id = 0;
  char peer[64] = {};
  size_t peer_length = 0;
  int64_t accepted_ns = 0;
  bool closing = false;
  std::unique_ptr<ConnectionHandler> handler;

  void send(std::string_view bytes) override {
    if (closing || bytes.empty()) return;
    auto* write = new WriteRequest();
    write->bytes.assign(bytes);
    write->request.data = write;
    uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
    if (uv_write(&write->request, reinterpret_cast<uv_stream_t*>(&handle), &buf, 1,
                 [](uv_write_t* request, int) { delete static_cast<WriteRequest*>(request->data); }) < 0) {
      delete write;
    }
  }

  void close() override { owner->close_connection(this, /*graceful=*/true); }
};

Status resolve_listen_address(const config::ListenAddress& address, struct sockaddr_storage& out) {
  int rc = uv_ip4_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in*>(&out));
  if (rc < 0) rc = uv_ip6_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in6*>(&out));
  if (rc < 0) return Status::error("address " + address.to_string() + " is not a numeric IP address");
  return Status::ok();
}

size_t format_peer_address(const struct sockaddr* addr, char* out, size_t size) {
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

StreamListener::StreamListener(uv_loop_t* loop, ServerMetrics& metrics, InputId input,
                               HandlerFactory factory, uint32_t max_connections,
                               uint32_t handshake_timeout_ms)
    : loop_(loop),
      metrics_(metrics),
      input_(input),
      factory_(std::move(factory)),
      max_connections_(max_connections),
      handshake_timeout_ms_(handshake_timeout_ms),
      read_buffer_(new char[kStreamReadBytes]) {}

StreamListener::~StreamListener() = default;

Status StreamListener::listen(const config::ListenAddress& address, std::string_view what) {
  const std::string where = std::string(what) + " " + address.to_string();
  struct sockaddr_storage addr {};
  if (Status s = resolve_listen_address(address, addr); !s) return s.with_context(what);
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  uv_timer_init(loop_, &sweep_timer_);
  sweep_timer_.data = this;
  open_ = true;
  int rc = uv_tcp_bind(&listener_, reinterpret_cast<sockaddr*>(&addr), 0);
  // A deep backlog absorbs reconnect storms (every rsyslog of a fleet
  // reconnecting after a restart).
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 1024, &StreamListener::on_connection);
  if (rc < 0) return Status::error(where + ": " + uv_strerror(rc));
  uv_timer_start(&sweep_timer_, &StreamListener::on_sweep, kSweepIntervalMs, kSweepIntervalMs);
  return Status::ok();
}

void StreamListener::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<StreamListener*>(server->data);
  if (status < 0 || self->stopped_) return;
  auto* connection = new Connection();
  connection->owner = self;
  connection->id = self->next_id_++;
  connection->accepted_ns = monotonic_now_ns();
  uv_tcp_init(self->loop_, &connection->handle);
  connection->handle.data = connection;
  auto discard = [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); };
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&connection->handle)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&connection->handle), discard);
    return;
  }
  if (self->connections_.size() >= self->max_connections_) {
    // Accept-and-close: leaving it in the backlog would let the kernel
    // queue grow and the client hang instead of retrying elsewhere.
    self->metrics_.input(self->input_).count_error(IngestError::kConnectionLimit);
    uv_close(reinterpret_cast<uv_handle_t*>(&connection->handle), discard);
    return;
  }
  struct sockaddr_storage peer {};
  int length = sizeof peer;
  if (uv_tcp_getpeername(&connection->handle, reinterpret_cast<sockaddr*>(&peer), &length) == 0) {
    connection->peer_length =
        format_peer_address(reinterpret_cast<sockaddr*>(&peer), connection->peer, sizeof connection->peer);
  }
  uv_tcp_nodelay(&connection->handle, 1);
  connection->handler = self->factory_(
      ConnectionInfo{connection->id, std::string_view(connection->peer, connection->peer_length), connection});
  self->connections_[connection->id] = connection;
  self->metrics_.tcp_connections_accepted.add(1);
  self->metrics_.tcp_connections_open.add(1);
  if (!self->paused_) {
    uv_read_start(reinterpret_cast<uv_stream_t*>(&connection->handle), &StreamListener::on_alloc,
                  &StreamListener::on_read);
  }
}

void StreamListener::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  // Shared by every connection: libuv calls read right after alloc on this
  // thread, and handlers copy what they keep before returning.
  auto* connection = static_cast<Connection*>(handle->data);
  buf->base = connection->owner->read_buffer_.get();
  buf->len = kStreamReadBytes;
}

void StreamListener::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* connection = static_cast<Connection*>(stream->data);
  StreamListener* self = connection->owner;
  if (nread > 0) {
    const bool keep = connection->handler->on_bytes(std::string_view(buf->base, static_cast<size_t>(nread)));
    if (self->after_read_) self->after_read_();
    if (!keep) self->close_connection(connection, /*graceful=*/true);
    return;
  }
  if (nread < 0) {
    connection->handler->on_end();
    if (self->after_read_) self->after_read_();
    self->close_connection(connection, /*graceful=*/false);
  }
}

void StreamListener::on_sweep(uv_timer_t* timer) {
  auto* self = static_cast<StreamListener*>(timer->data);
  const int64_t deadline = monotonic_now_ns() - int64_t{self->handshake_timeout_ms_} * 1'000'000;
  std::vector<Connection*> expired;
  for (auto& [id, connection] : self->connections_) {
    if (connection->accepted_ns < deadline && !connection->handler->established()) {
      expired.push_back(connection);
    }
  }
  for (Connection* connection : expired) {
    self->metrics_.input(self->input_).count_error(IngestError::kHandshakeTimeout);
    self->close_connection(connection, /*graceful=*/false);
  }
}

void StreamListener::close_connection(Connection* connection, bool graceful) {
  if (connection->closing) return;
  connection->closing = true;
  connections_.erase(connection->id);
  metrics_.tcp_connections_open.add(-1);
  auto finish = [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); };
  if (graceful) {
    // Let queued writes (a final response, a TLS alert) go out first.
    auto* shutdown = new uv_shutdown_t();
    shutdown->data = connection;
    if (uv_shutdown(shutdown, reinterpret_cast<uv_stream_t*>(&connection->handle),
                    [](uv_shutdown_t* request, int) {
                      auto* c = static_cast<Connection*>(request->data);
                      delete request;
                      uv_close(reinterpret_cast<uv_handle_t*>(&c->handle),
                               [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
                    }) == 0) {
      uv_read_stop(reinterpret_cast<uv_stream_t*>(&connection->handle));
      return;
    }
    delete shutdown;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&connection->handle), finish);
}

ConnectionHandler* StreamListener::find(uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second->handler.get();
}

void StreamListener::for_each_handler(const std::function<void(ConnectionHandler&)>& visit) {
  for (auto& [id, connection] : connections_) visit(*connection->handler);
}

void StreamListener::pause() {
  if (paused_) return;
  paused_ = true;
  for (auto& [id, connection] : connections_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&connection->handle));
  }
}

void StreamListener::resume() {
  if (!paused_ || stopped_) return;
  paused_ = false;
  for (auto& [id, connection] : connections_) {
    uv_read_start(reinterpret_cast<uv_stream_t*>(&connection->handle), &StreamListener::on_alloc,
                  &StreamListener::on_read);
  }
}

void StreamListener::quiesce() {
  if (stopped_) return;
  stopped_ = true;
  if (open_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sweep_timer_), nullptr);
  }
  for (auto& [id, connection] : connections_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&connection->handle));
    connection->handler->on_end();
  }
  if (after_read_) after_read_();
}

void StreamListener::close_connections() {
  quiesce();
  std::vector<Connection*> open;
  for (auto& [id, connection] : connections_) open.push_back(connection);
  for (Connection* connection : open) close_connection(connection, /*graceful=*/true);
}

}  // namespace sluice::server
