// RelpInput: RELP, the acknowledged protocol of rsyslog's omrelp.
//
// A message is acknowledged (`rsp 200`) only after the batch holding it is
// in the store, so a server killed at any moment loses nothing that was
// acknowledged; the sender resends the rest. The batch of each read is
// handed over at once (not after batch_max_age_ms), because the sender's
// window of unacknowledged messages is small and waits on our answers.
// Thread: ingest loop only, except listen() before the loop runs and the
// acknowledgement callbacks, which post to the loop.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "config/options.h"
#include "server/inputs/batch_builder.h"
#include "server/inputs/stream_listener.h"
#include "server/loop_thread.h"

namespace sluice::server {

class RelpInput {
 public:
  RelpInput(LoopThread& loop, IngestQueue& queue, ServerMetrics& metrics,
            const config::ServerOptions& options);
  ~RelpInput();

  Status listen();
  void set_on_backpressure(std::function<void()> callback) { on_backpressure_ = std::move(callback); }
  void pause();
  void resume();
  // Shutdown, step 1: no new connections or reads; buffered messages are
  // handed over. Connections stay open for the acknowledgements.
  void quiesce();
  // Shutdown, step 2 (after the queue drained and acknowledgements were
  // sent): tells each sender the server closes, then closes.
  void close();

 private:
  class Handler;
  // (connection id, RELP txnr) of each record of the batch being built.
  using PendingAcks = std::vector<std::pair<uint64_t, uint64_t>>;
  void acknowledge(const PendingAcks& acks, bool stored_ok);

  LoopThread& loop_;
  ServerMetrics& metrics_;
  const config::ServerOptions options_;
  std::function<void()> on_backpressure_;
  BatchBuilder batches_;
  PendingAcks pending_acks_;
  std::unique_ptr<StreamListener> listener_;
  bool stopped_ = false;
};

}  // namespace sluice::server
