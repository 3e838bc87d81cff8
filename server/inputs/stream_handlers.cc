#include "server/inputs/stream_handlers.h"

#include "server/base/clock.h"

namespace sluice::server {

SyslogStreamHandler::SyslogStreamHandler(BatchBuilder& batches, PerInput& counters,
                                         std::string_view peer, size_t max_message_bytes)
    : batches_(batches), counters_(counters), peer_(peer), framer_(max_message_bytes) {}

bool SyslogStreamHandler::on_bytes(std::string_view bytes) {
  const int64_t received_ns = wall_now_ns();
  framer_.feed(bytes, [&](std::string_view frame, bool truncated) {
    batches_.add(frame, peer_, RecordFormat::kSyslog, truncated, received_ns);
  });
  count_framing_anomalies();
  return true;
}

void SyslogStreamHandler::on_end() {
  framer_.finish([&](std::string_view frame, bool truncated) {
    batches_.add(frame, peer_, RecordFormat::kSyslog, truncated, wall_now_ns());
  });
  count_framing_anomalies();
}

void SyslogStreamHandler::count_framing_anomalies() {
  const SyslogFramer::Stats stats = framer_.take_stats();
  if (stats.invalid_length_prefixes != 0) {
    counters_.count_error(IngestError::kOctetCountInvalid, stats.invalid_length_prefixes);
  }
  if (stats.oversize_frames != 0) counters_.count_error(IngestError::kFrameTruncated, stats.oversize_frames);
  if (stats.incomplete_frames != 0) {
    counters_.count_error(IngestError::kFrameIncomplete, stats.incomplete_frames);
  }
}

TlsHandler::TlsHandler(const TlsContext& context, ByteSink& socket, PerInput& counters)
    : session_(context), socket_(socket), counters_(counters) {}

bool TlsHandler::on_bytes(std::string_view bytes) {
  if (failed_) return false;
  const bool was_established = session_.handshake_done();
  Status status = session_.feed(bytes, [&](std::string_view plaintext) {
    if (!failed_ && !inner_->on_bytes(plaintext)) failed_ = true;
  });
  flush_output();
  if (!status) {
    counters_.count_error(was_established ? IngestError::kTlsError : IngestError::kTlsHandshake);
    failed_ = true;
  }
  if (session_.peer_closed()) {
    inner_->on_end();
    session_.shutdown();
    flush_output();
    return false;
  }
  return !failed_;
}

void TlsHandler::on_end() {
  if (session_.handshake_done()) inner_->on_end();
}

void TlsHandler::send(std::string_view plaintext) {
  if (session_.write(plaintext)) flush_output();
}

void TlsHandler::close() {
  session_.shutdown();
  flush_output();
  socket_.close();
}

void TlsHandler::flush_output() {
  const std::string output = session_.take_output();
  if (!output.empty()) socket_.send(output);
}

}  // namespace sluice::server
