#include "server/http/live_tail.h"

#include <algorithm>

#include "server/base/clock.h"
#include "server/http/api.h"
#include "storage/event_codec.h"

namespace sluice::server {
namespace {

constexpr uint64_t kFlushIntervalMs = 200;
constexpr int64_t kHeartbeatNs = 15 * kNanosPerSecond;

}  // namespace

LiveTail::LiveTail(LoopThread& loop, ServerMetrics& metrics) : loop_(loop), metrics_(metrics) {}

LiveTail::~LiveTail() = default;

void LiveTail::attach(HttpServer& http) { http_ = &http; }

void LiveTail::subscribe(uint64_t id, storage::Query query) {
  if (!timer_started_) {
    uv_timer_init(loop_.loop(), &timer_);
    timer_.data = this;
    uv_timer_start(
        &timer_, [](uv_timer_t* timer) { static_cast<LiveTail*>(timer->data)->on_timer(); }, kFlushIntervalMs,
        kFlushIntervalMs);
    timer_started_ = true;
  }
  auto tail = std::make_unique<Tail>();
  tail->id = id;
  tail->query = std::move(query);
  tail->last_write_ns = monotonic_now_ns();
  HttpResponse head;
  head.content_type = "text/event-stream; charset=utf-8";
  head.body = ": sluice live tail\n\n";
  http_->start_stream(id, std::move(head));
  {
    std::lock_guard lock(mutex_);
    tails_.push_back(std::move(tail));
    open_.store(tails_.size(), std::memory_order_relaxed);
  }
  metrics_.tail_clients.add(1);
}

void LiveTail::unsubscribe(uint64_t id) {
  std::lock_guard lock(mutex_);
  const size_t before = tails_.size();
  std::erase_if(tails_, [id](const std::unique_ptr<Tail>& tail) { return tail->id == id; });
  if (tails_.size() != before) metrics_.tail_clients.add(-1);
  open_.store(tails_.size(), std::memory_order_relaxed);
}

void LiveTail::close() {
  std::vector<uint64_t> ids;
  {
    std::lock_guard lock(mutex_);
    for (const auto& tail : tails_) ids.push_back(tail->id);
  }
  for (uint64_t id : ids) http_->end_stream(id);  // unsubscribes through the listener
  if (timer_started_) {
    uv_timer_stop(&timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
    timer_started_ = false;
  }
}

void LiveTail::publish(const EventBatch& batch) {
  if (open_.load(std::memory_order_relaxed) == 0) return;
  thread_local storage::EventView view;
  std::lock_guard lock(mutex_);
  for (const Event& event : batch.events) {
    view.timestamp_ns = event.timestamp_ns;
    view.received_ns = event.received_ns;
    view.severity = event.severity;
    view.facility = event.facility;
    view.flags = event.flags;
    view.input = static_cast<uint8_t>(event.input);
    view.raw = event.raw;
    view.host = event.host;
    view.app = event.app;
    view.message = event.message;
    const Field* fields = batch.fields_of(event);
    view.fields.assign(fields, fields + event.field_count);
    for (const auto& tail : tails_) {
      if (!storage::query_matches(tail->query, view)) continue;
      if (tail->pending.size() >= kMaxPendingBytes) {
        ++tail->dropped;
        continue;
      }
      if (!tail->pending.empty()) tail->pending.push_back(',');
      append_event_view_json(tail->pending, view);
      ++tail->pending_events;
    }
  }
}

void LiveTail::on_timer() {
  struct Out {
    uint64_t id;
    std::string events;
    uint64_t count;
    uint64_t dropped;
    bool heartbeat;
  };
  std::vector<Out> out;
  const int64_t now = monotonic_now_ns();
  {
    std::lock_guard lock(mutex_);
    for (auto& tail : tails_) {
      const bool heartbeat = now - tail->last_write_ns >= kHeartbeatNs;
      if (tail->pending_events == 0 && tail->dropped == 0 && !heartbeat) continue;
      out.push_back({tail->id, std::move(tail->pending), tail->pending_events, tail->dropped, heartbeat});
      tail->pending.clear();
      tail->pending_events = 0;
      tail->dropped = 0;
      tail->last_write_ns = now;
    }
  }
  std::vector<uint64_t> gone;
  for (Out& o : out) {
    std::string message;
    uint64_t dropped = o.dropped;
    if (o.count != 0) {
      message.reserve(o.events.size() + 64);
      message += "event: events\ndata: {\"events\":[";
      message += o.events;
      message += "]}\n\n";
    }
    auto sent = http_->stream_write(o.id, message, kMaxQueuedBytes);
    if (sent == HttpServer::StreamWrite::kGone) {
      gone.push_back(o.id);
      continue;
    }
    if (sent == HttpServer::StreamWrite::kBackedUp) {
      dropped += o.count;
    } else {
      metrics_.tail_events_sent.add(o.count);
    }
    std::string notice = dropped != 0 ? "event: dropped\ndata: {\"dropped\":" + std::to_string(dropped) + "}\n\n"
                                      : std::string(o.count == 0 ? ": ping\n\n" : "");
    if (!notice.empty()) http_->stream_write(o.id, notice, kMaxQueuedBytes + (1 << 16));
    metrics_.tail_events_dropped.add(dropped);
  }
  for (uint64_t id : gone) unsubscribe(id);
}

}  // namespace sluice::server
