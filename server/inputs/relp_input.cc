#include "server/inputs/relp_input.h"

#include "server/base/clock.h"
#include "server/inputs/relp_session.h"

namespace sluice::server {

class RelpInput::Handler final : public ConnectionHandler {
 public:
  Handler(RelpInput& input, const ConnectionInfo& info)
      : input_(input),
        id_(info.id),
        peer_(info.peer),
        sink_(*info.sink),
        session_(input.options_.ingest.max_message_bytes) {}

  bool on_bytes(std::string_view bytes) override {
    const int64_t received_ns = wall_now_ns();
    PerInput& counters = input_.metrics_.input(InputId::kRelp);
    Status status = session_.feed(bytes, [&](uint64_t txnr, std::string_view data, bool truncated) {
      if (truncated) counters.count_error(IngestError::kFrameTruncated);
      input_.pending_acks_.emplace_back(id_, txnr);
      input_.batches_.add(data, peer_, RecordFormat::kSyslog, truncated, received_ns);
    });
    flush();
    if (!status) {
      counters.count_error(IngestError::kRelpProtocol);
      return false;
    }
    return !session_.close_requested();
  }

  void on_end() override {}

  void server_close() {
    session_.server_close();
    flush();
  }

  void acknowledge(uint64_t txnr, bool stored_ok) {
    if (stored_ok) {
      session_.acknowledge(txnr);
    } else if (!closing_) {
      // Not a 500: librelp drops a message answered 500 from its resend
      // list. Closing makes the sender reconnect and resend everything
      // unanswered.
      closing_ = true;
      sink_.close();
      return;
    }
    flush();
    // The reply to `close` waits for earlier messages: it may go out now.
    if (session_.close_requested() && !closing_) {
      closing_ = true;
      sink_.close();
    }
  }

 private:
  void flush() {
    const std::string output = session_.take_output();
    if (!output.empty()) sink_.send(output);
  }

  RelpInput& input_;
  const uint64_t id_;
  const std::string_view peer_;
  ByteSink& sink_;
  RelpSession session_;
  bool closing_ = false;
};

RelpInput::RelpInput(LoopThread& loop, IngestQueue& queue, ServerMetrics& metrics,
                     const config::ServerOptions& options)
    : loop_(loop),
      metrics_(metrics),
      options_(options),
      batches_(loop.loop(), queue, metrics, options.ingest, InputId::kRelp) {
  batches_.set_on_backpressure([this] {
    if (on_backpressure_) on_backpressure_();
  });
  // Each handed-over batch carries the acknowledgements of its records.
  batches_.set_on_handover([this](RawBatch& batch) {
    auto acks = std::make_shared<PendingAcks>(std::move(pending_acks_));
    pending_acks_.clear();
    batch.on_stored = [this, acks](const BatchOutcome& outcome) {
      // Thread: a parse worker; the sessions live on the ingest loop.
      const bool stored_ok = outcome.stored_ok;
      loop_.post([this, acks, stored_ok] { acknowledge(*acks, stored_ok); });
    };
  });
  listener_ = std::make_unique<StreamListener>(
      loop.loop(), metrics, InputId::kRelp,
      [this](const ConnectionInfo& info) -> std::unique_ptr<ConnectionHandler> {
        return std::make_unique<Handler>(*this, info);
      },
      options.ingest.max_connections, options.ingest.handshake_timeout_ms);
  // The sender waits for our acknowledgements: hand over what each read
  // brought instead of waiting for the batch to fill or age.
  listener_->set_after_read([this] { batches_.flush(); });
}

RelpInput::~RelpInput() = default;

Status RelpInput::listen() {
  if (!options_.relp.enabled()) return Status::ok();
  return listener_->listen(options_.relp, "relp");
}

void RelpInput::acknowledge(const PendingAcks& acks, bool stored_ok) {
  for (const auto& [connection_id, txnr] : acks) {
    // A connection that closed meanwhile will have its messages resent.
    if (auto* handler = static_cast<Handler*>(listener_->find(connection_id))) {
      handler->acknowledge(txnr, stored_ok);
    }
  }
}

void RelpInput::pause() { listener_->pause(); }
void RelpInput::resume() {
  if (!stopped_) listener_->resume();
}

void RelpInput::quiesce() {
  if (stopped_) return;
  stopped_ = true;
  listener_->quiesce();
  batches_.close();
}

void RelpInput::close() {
  quiesce();
  listener_->for_each_handler([](ConnectionHandler& handler) { static_cast<Handler&>(handler).server_close(); });
  listener_->close_connections();
}

}  // namespace sluice::server
