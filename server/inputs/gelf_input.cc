#include "server/inputs/gelf_input.h"

#include <cstring>
#include <string>

#include "server/base/clock.h"
#include "server/inputs/gelf_framing.h"

namespace sluice::server {
namespace {

// As the syslog input: up to 20 datagrams per recvmmsg(2), each in its own
// 64 KiB slot, so no GELF datagram (at most 65,507 bytes) is cut.
constexpr size_t kUdpDatagramsPerRead = 20;
constexpr size_t kUdpBufferBytes = kUdpDatagramsPerRead * 64 * 1024;
// Incomplete chunked messages are looked at this often; with Graylog's 5 s
// timeout a message is held at most 6 s.
constexpr uint64_t kSweepIntervalMs = 1000;

GelfChunkAssembler::Limits assembler_limits(const config::GelfOptions& options) {
  GelfChunkAssembler::Limits limits;
  limits.max_open_messages = options.max_open_messages;
  limits.max_open_bytes = options.max_open_bytes;
  limits.max_message_bytes = options.max_message_bytes;
  return limits;
}

}  // namespace

std::string_view gelf_error_name(GelfError error) {
  switch (error) {
    case GelfError::kChunkExpired: return "chunk_expired";
    case GelfError::kChunkEvicted: return "chunk_evicted";
    case GelfError::kChunkInvalid: return "chunk_invalid";
    case GelfError::kChunkDuplicate: return "chunk_duplicate";
    case GelfError::kMessageTooLarge: return "message_too_large";
    case GelfError::kDecompressFailed: return "decompress_failed";
    case GelfError::kFrameTruncated: return "frame_truncated";
    case GelfError::kFrameIncomplete: return "frame_incomplete";
    case GelfError::kCount: break;
  }
  return "unknown";
}

void GelfCounters::render(std::string& out) const {
  out += "# HELP sluice_gelf_errors_total Bad GELF input, per input and reason (the good input around it is kept).\n";
  out += "# TYPE sluice_gelf_errors_total counter\n";
  for (size_t transport = 0; transport < 2; ++transport) {
    for (size_t reason = 0; reason < kGelfErrorCount; ++reason) {
      out += "sluice_gelf_errors_total{input=\"";
      out += transport == 0 ? "gelf_udp" : "gelf_tcp";
      out += "\",reason=\"";
      out += gelf_error_name(static_cast<GelfError>(reason));
      out += "\"} " + std::to_string(errors[transport][reason].value()) + "\n";
    }
  }
  out += "# HELP sluice_gelf_open_messages Chunked GELF messages waiting for their other chunks.\n";
  out += "# TYPE sluice_gelf_open_messages gauge\n";
  out += "sluice_gelf_open_messages " + std::to_string(open_messages.value()) + "\n";
  out += "# HELP sluice_gelf_open_bytes Bytes of chunks held for incomplete GELF messages.\n";
  out += "# TYPE sluice_gelf_open_bytes gauge\n";
  out += "sluice_gelf_open_bytes " + std::to_string(open_bytes.value()) + "\n";
}

// NUL-framed GELF over one TCP connection.
class GelfInput::StreamHandler final : public ConnectionHandler {
 public:
  StreamHandler(BatchBuilder& batches, GelfCounters& counters, std::string_view peer, size_t max_frame_bytes)
      : batches_(batches), counters_(counters), peer_(peer), framer_(max_frame_bytes) {}

  bool on_bytes(std::string_view bytes) override {
    const int64_t received_ns = wall_now_ns();
    framer_.feed(bytes, [&](std::string_view frame, bool truncated) {
      batches_.add(frame, peer_, RecordFormat::kGelf, truncated, received_ns);
    });
    counters_.count(true, GelfError::kFrameTruncated, framer_.take_oversize_frames());
    return true;
  }
  void on_end() override {
    framer_.finish([&](std::string_view frame, bool truncated) {
      batches_.add(frame, peer_, RecordFormat::kGelf, truncated, wall_now_ns());
    });
    counters_.count(true, GelfError::kFrameIncomplete, framer_.take_incomplete_frames());
  }

 private:
  BatchBuilder& batches_;
  GelfCounters& counters_;
  std::string_view peer_;
  GelfNulFramer framer_;
};

GelfInput::GelfInput(uv_loop_t* loop, IngestQueue& queue, ServerMetrics& metrics,
                     const config::ServerOptions& options)
    : loop_(loop),
      metrics_(metrics),
      options_(options),
      udp_batches_(loop, queue, metrics, options.ingest, InputId::kGelfUdp),
      tcp_batches_(loop, queue, metrics, options.ingest, InputId::kGelfTcp),
      assembler_(assembler_limits(options.gelf_limits)),
      udp_buffer_(new char[kUdpBufferBytes]) {
  for (BatchBuilder* batches : {&udp_batches_, &tcp_batches_}) {
    batches->set_on_backpressure([this] {
      if (on_backpressure_) on_backpressure_();
    });
  }
  const size_t max_frame_bytes = options.gelf_limits.max_message_bytes;
  tcp_ = std::make_unique<StreamListener>(
      loop, metrics, InputId::kGelfTcp,
      [this, max_frame_bytes](const ConnectionInfo& info) -> std::unique_ptr<ConnectionHandler> {
        return std::make_unique<StreamHandler>(tcp_batches_, counters_, info.peer, max_frame_bytes);
      },
      options.ingest.max_connections, options.ingest.handshake_timeout_ms);
}

GelfInput::~GelfInput() = default;

Status GelfInput::listen() {
  const config::ListenAddress& address = options_.gelf;
  if (!address.enabled()) return Status::ok();
  if (Status s = tcp_->listen(address, "gelf tcp"); !s) return s;
  struct sockaddr_storage addr {};
  if (Status s = resolve_listen_address(address, addr); !s) return s.with_context("gelf udp");
  uv_udp_init_ex(loop_, &udp_socket_, UV_UDP_RECVMMSG);
  udp_socket_.data = this;
  udp_open_ = true;
  const std::string where = "gelf udp " + address.to_string();
  int rc = uv_udp_bind(&udp_socket_, reinterpret_cast<sockaddr*>(&addr), 0);
  if (rc < 0) return Status::error(where + ": " + uv_strerror(rc));
  // Chunks of one message arrive back to back: a larger kernel buffer keeps
  // a burst from losing the chunk that would complete a message.
  int receive_buffer = 8 << 20;
  uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(&udp_socket_), &receive_buffer);
  rc = uv_udp_recv_start(&udp_socket_, &GelfInput::on_udp_alloc, &GelfInput::on_udp_read);
  if (rc < 0) return Status::error(where + ": " + uv_strerror(rc));
  uv_timer_init(loop_, &sweep_timer_);
  sweep_timer_.data = this;
  timer_open_ = true;
  uv_timer_start(&sweep_timer_, &GelfInput::on_sweep, kSweepIntervalMs, kSweepIntervalMs);
  return Status::ok();
}

void GelfInput::on_udp_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<GelfInput*>(handle->data);
  buf->base = self->udp_buffer_.get();
  buf->len = kUdpBufferBytes;
}

void GelfInput::on_udp_read(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf,
                            const struct sockaddr* addr, unsigned flags) {
  auto* self = static_cast<GelfInput*>(handle->data);
  if (nread <= 0 || addr == nullptr) return;
  if (self->paused_) {
    self->metrics_.input(InputId::kGelfUdp).dropped[static_cast<size_t>(DropReason::kQueueFull)].add(1);
    return;
  }
  if ((flags & UV_UDP_PARTIAL) != 0) {
    self->counters_.count(false, GelfError::kMessageTooLarge);
    return;
  }
  const size_t addr_length =
      addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  if (addr_length != self->last_peer_addr_length_ ||
      std::memcmp(addr, &self->last_peer_addr_, addr_length) != 0) {
    std::memcpy(&self->last_peer_addr_, addr, addr_length);
    self->last_peer_addr_length_ = addr_length;
    self->last_peer_length_ = format_peer_address(addr, self->last_peer_, sizeof self->last_peer_);
  }
  const std::string_view peer(self->last_peer_, self->last_peer_length_);
  const std::string_view datagram(buf->base, static_cast<size_t>(nread));
  const int64_t received_ns = wall_now_ns();
  if (!is_gelf_chunk(datagram)) return self->take_message(datagram, peer, received_ns);

  using Result = GelfChunkAssembler::Result;
  const Result result = self->assembler_.add(datagram, monotonic_now_ns(), self->reassembled_);
  if (result == Result::kComplete) self->take_message(self->reassembled_, peer, received_ns);
  self->publish_assembler_stats();
}

// One whole GELF payload: decompressed if need be, then batched.
void GelfInput::take_message(std::string_view payload, std::string_view peer, int64_t received_ns) {
  const size_t max_bytes = options_.gelf_limits.max_message_bytes;
  if (gelf_encoding_of(payload) != GelfEncoding::kPlain) {
    const GelfInflater::Result result = inflater_.inflate(payload, max_bytes);
    if (result == GelfInflater::Result::kTooLarge) {
      counters_.count(false, GelfError::kMessageTooLarge);
      return;
    }
    if (result != GelfInflater::Result::kOk) {
      counters_.count(false, GelfError::kDecompressFailed);
      return;
    }
    payload = inflater_.output();
  }
  // Some senders end datagrams with a newline or NUL; it is not content.
  while (!payload.empty() && (payload.back() == '\n' || payload.back() == '\r' || payload.back() == '\0')) {
    payload.remove_suffix(1);
  }
  if (payload.empty()) return;
  if (payload.size() > max_bytes) {
    counters_.count(false, GelfError::kMessageTooLarge);
    return;
  }
  udp_batches_.add(payload, peer, RecordFormat::kGelf, false, received_ns);
}

void GelfInput::publish_assembler_stats() {
  const GelfChunkAssembler::Stats stats = assembler_.take_stats();
  counters_.count(false, GelfError::kChunkExpired, stats.expired);
  counters_.count(false, GelfError::kChunkEvicted, stats.evicted);
  counters_.count(false, GelfError::kChunkInvalid, stats.invalid);
  counters_.count(false, GelfError::kChunkDuplicate, stats.duplicates);
  counters_.count(false, GelfError::kMessageTooLarge, stats.too_large);
  counters_.open_messages.set(static_cast<int64_t>(assembler_.open_messages()));
  counters_.open_bytes.set(static_cast<int64_t>(assembler_.open_bytes()));
}

void GelfInput::on_sweep(uv_timer_t* timer) {
  auto* self = static_cast<GelfInput*>(timer->data);
  self->assembler_.expire(monotonic_now_ns());
  self->publish_assembler_stats();
}

void GelfInput::pause() {
  if (paused_) return;
  paused_ = true;
  tcp_->pause();
}

void GelfInput::resume() {
  if (!paused_ || stopped_) return;
  paused_ = false;
  tcp_->resume();
}

void GelfInput::quiesce() {
  if (stopped_) return;
  stopped_ = true;
  if (udp_open_) {
    uv_udp_recv_stop(&udp_socket_);
    uv_close(reinterpret_cast<uv_handle_t*>(&udp_socket_), nullptr);
  }
  if (timer_open_) uv_close(reinterpret_cast<uv_handle_t*>(&sweep_timer_), nullptr);
  tcp_->quiesce();
  udp_batches_.close();
  tcp_batches_.close();
}

void GelfInput::close() {
  quiesce();
  tcp_->close_connections();
}

}  // namespace sluice::server
