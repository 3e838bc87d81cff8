// LiveTail: GET /api/tail, Server-Sent Events of newly stored events that
// match a query.
//
// The parse workers call publish() after each commit: only while a tail is
// open, each event of the batch is matched against every tail's query and
// the matches are rendered as JSON into the tail's pending buffer (bounded;
// beyond it matches are counted as dropped, never queued without limit). A
// timer on the HTTP loop sends the pending events every 200 ms as one SSE
// message, `event: events` with `data: {"events":[...]}`, and a `: ping`
// comment when a stream has been quiet for 15 s. A client slower than its
// events backs up its socket; what cannot be sent is dropped and reported
// to it as `event: dropped` with `data: {"dropped":N}`.
// Thread: publish() from any thread; everything else on the HTTP loop.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/base/event.h"
#include "server/http/http_server.h"
#include "server/loop_thread.h"
#include "server/metrics.h"
#include "storage/query.h"

namespace sluice::server {

class LiveTail {
 public:
  LiveTail(LoopThread& loop, ServerMetrics& metrics);
  ~LiveTail();
  LiveTail(const LiveTail&) = delete;
  LiveTail& operator=(const LiveTail&) = delete;

  void attach(HttpServer& http);

  // Starts the stream of request `id` (its headers and a first comment).
  void subscribe(uint64_t id, storage::Query query);
  // The stream's connection closed.
  void unsubscribe(uint64_t id);
  // Ends every stream and stops the timer (before the loop closes).
  void close();

  // Thread-safe; cheap when no tail is open.
  void publish(const EventBatch& batch);

  // Pending JSON per tail is bounded by this; SSE writes wait in the
  // socket up to kMaxQueuedBytes.
  static constexpr size_t kMaxPendingBytes = 1 << 20;
  static constexpr size_t kMaxQueuedBytes = 4 << 20;

 private:
  struct Tail {
    uint64_t id = 0;
    storage::Query query;
    std::string pending;  // events as JSON, comma-separated
    uint64_t pending_events = 0;
    uint64_t dropped = 0;  // not yet reported to the client
    int64_t last_write_ns = 0;
  };
  void on_timer();

  LoopThread& loop_;
  ServerMetrics& metrics_;
  HttpServer* http_ = nullptr;
  std::mutex mutex_;  // guards tails_' pending buffers and the list
  std::vector<std::unique_ptr<Tail>> tails_;
  std::atomic<size_t> open_{0};
  uv_timer_t timer_{};
  bool timer_started_ = false;
};

}  // namespace sluice::server
