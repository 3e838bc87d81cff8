#include "server/inputs/syslog_input.h"

#include <cstring>
#include <string>

#include "server/base/clock.h"
#include "server/inputs/stream_handlers.h"

namespace sluice::server {
namespace {

// libuv reads up to this many datagrams per recvmmsg(2) call, each into its
// own 64 KiB slot — so the largest UDP payload (65,507 bytes over IPv4) is
// never cut by the read, and a burst costs one syscall per 20 messages.
constexpr size_t kUdpDatagramsPerRead = 20;
constexpr size_t kUdpBufferBytes = kUdpDatagramsPerRead * 64 * 1024;

}  // namespace

SyslogInput::SyslogInput(uv_loop_t* loop, IngestQueue& queue, ServerMetrics& metrics,
                         const config::ServerOptions& options)
    : loop_(loop),
      metrics_(metrics),
      options_(options),
      tcp_batches_(loop, queue, metrics, options.ingest, InputId::kSyslogTcp),
      udp_batches_(loop, queue, metrics, options.ingest, InputId::kSyslogUdp),
      tls_batches_(loop, queue, metrics, options.ingest, InputId::kSyslogTls),
      udp_buffer_(new char[kUdpBufferBytes]) {
  for (BatchBuilder* batches : {&tcp_batches_, &udp_batches_, &tls_batches_}) {
    batches->set_on_backpressure([this] {
      if (on_backpressure_) on_backpressure_();
    });
  }
  const size_t max_message_bytes = options.ingest.max_message_bytes;
  tcp_ = std::make_unique<StreamListener>(
      loop, metrics, InputId::kSyslogTcp,
      [this, max_message_bytes](const ConnectionInfo& info) -> std::unique_ptr<ConnectionHandler> {
        return std::make_unique<SyslogStreamHandler>(tcp_batches_, metrics_.input(InputId::kSyslogTcp),
                                                     info.peer, max_message_bytes);
      },
      options.ingest.max_connections, options.ingest.handshake_timeout_ms);
  tls_ = std::make_unique<StreamListener>(
      loop, metrics, InputId::kSyslogTls,
      [this, max_message_bytes](const ConnectionInfo& info) -> std::unique_ptr<ConnectionHandler> {
        PerInput& counters = metrics_.input(InputId::kSyslogTls);
        auto tls = std::make_unique<TlsHandler>(*tls_context_, *info.sink, counters);
        tls->set_inner(std::make_unique<SyslogStreamHandler>(tls_batches_, counters, info.peer, max_message_bytes));
        return tls;
      },
      options.ingest.max_connections, options.ingest.handshake_timeout_ms);
}

SyslogInput::~SyslogInput() = default;

Status SyslogInput::listen() {
  const config::ListenAddress& address = options_.syslog;
  if (address.enabled()) {
    if (Status s = tcp_->listen(address, "syslog tcp"); !s) return s;
    struct sockaddr_storage addr {};
    if (Status s = resolve_listen_address(address, addr); !s) return s.with_context("syslog udp");
    uv_udp_init_ex(loop_, &udp_socket_, UV_UDP_RECVMMSG);
    udp_socket_.data = this;
    udp_open_ = true;
    const std::string where = "syslog udp " + address.to_string();
    int rc = uv_udp_bind(&udp_socket_, reinterpret_cast<sockaddr*>(&addr), 0);
    if (rc < 0) return Status::error(where + ": " + uv_strerror(rc));
    // Bursts from many senders arrive faster than one loop turn: a larger
    // kernel buffer turns them into batches instead of drops.
    int receive_buffer = 8 << 20;
    uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(&udp_socket_), &receive_buffer);
    rc = uv_udp_recv_start(&udp_socket_, &SyslogInput::on_udp_alloc, &SyslogInput::on_udp_read);
    if (rc < 0) return Status::error(where + ": " + uv_strerror(rc));
  }
  if (options_.syslog_tls.enabled()) {
    config::TlsOptions tls = options_.tls;
    auto context = TlsContext::create_server(
        TlsServerConfig{tls.cert_file, tls.key_file, tls.client_ca_file, tls.require_client_cert});
    if (!context) return context.error().with_context("syslog tls");
    tls_context_ = std::move(context.value());
    if (Status s = tls_->listen(options_.syslog_tls, "syslog tls"); !s) return s;
  }
  return Status::ok();
}

void SyslogInput::on_udp_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<SyslogInput*>(handle->data);
  buf->base = self->udp_buffer_.get();
  buf->len = kUdpBufferBytes;
}

void SyslogInput::on_udp_read(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf,
                              const struct sockaddr* addr, unsigned flags) {
  auto* self = static_cast<SyslogInput*>(handle->data);
  // With recvmmsg, the final call (UV_UDP_MMSG_FREE) only returns the
  // buffer, which is ours and reused.
  if (nread <= 0 || addr == nullptr) return;
  PerInput& counters = self->metrics_.input(InputId::kSyslogUdp);
  if (self->paused_) {
    counters.dropped[static_cast<size_t>(DropReason::kQueueFull)].add(1);
    return;
  }
  std::string_view message(buf->base, static_cast<size_t>(nread));
  // Some senders end datagrams with a newline or NUL; it is not content.
  while (!message.empty() &&
         (message.back() == '\n' || message.back() == '\r' || message.back() == '\0')) {
    message.remove_suffix(1);
  }
  if (message.empty()) return;
  const size_t limit = self->options_.ingest.max_message_bytes;
  const bool truncated = (flags & UV_UDP_PARTIAL) != 0 || message.size() > limit;
  if (truncated) counters.count_error(IngestError::kFrameTruncated);
  if (message.size() > limit) message = message.substr(0, limit);
  // Most datagrams come from the same few senders: format an address only
  // when it differs from the previous datagram's.
  const size_t addr_length =
      addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  if (addr_length != self->last_peer_addr_length_ ||
      std::memcmp(addr, &self->last_peer_addr_, addr_length) != 0) {
    std::memcpy(&self->last_peer_addr_, addr, addr_length);
    self->last_peer_addr_length_ = addr_length;
    self->last_peer_length_ = format_peer_address(addr, self->last_peer_, sizeof self->last_peer_);
  }
  self->udp_batches_.add(message, std::string_view(self->last_peer_, self->last_peer_length_),
                         RecordFormat::kSyslog, truncated, wall_now_ns());
}

void SyslogInput::pause() {
  if (paused_) return;
  paused_ = true;
  tcp_->pause();
  tls_->pause();
}

void SyslogInput::resume() {
  if (!paused_ || stopped_) return;
  paused_ = false;
  tcp_->resume();
  tls_->resume();
}

void SyslogInput::quiesce() {
  if (stopped_) return;
  stopped_ = true;
  if (udp_open_) {
    uv_udp_recv_stop(&udp_socket_);
    uv_close(reinterpret_cast<uv_handle_t*>(&udp_socket_), nullptr);
  }
  tcp_->quiesce();
  tls_->quiesce();
  tcp_batches_.close();
  udp_batches_.close();
  tls_batches_.close();
}

void SyslogInput::close() {
  quiesce();
  tcp_->close_connections();
  tls_->close_connections();
}

}  // namespace sluice::server
