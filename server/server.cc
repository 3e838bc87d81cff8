#include "server/server.h"

#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "server/http/api.h"
#include "server/http/http_server.h"
#include "server/ingest_queue.h"
#include "server/inputs/gelf_input.h"
#include "server/inputs/json_tcp_input.h"
#include "server/inputs/relp_input.h"
#include "server/inputs/syslog_input.h"
#include "server/loop_thread.h"
#include "server/metrics.h"
#include "server/base/clock.h"
#include "server/batch_parser.h"
#include "server/event_sink.h"
#include "server/parse_workers.h"
#include "server/pipeline_holder.h"

namespace sluice::server {
namespace {

int fail(const Status& status) {
  std::fprintf(stderr, "sluice: %s\n", status.message().c_str());
  return 1;
}

// Blocks the stop signals in this thread and every thread it starts after,
// so that only sigwait() in the main thread receives them.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A client that disconnects mid-write must not kill the server.
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

// Raises the open-files limit to its hard maximum: every stream connection
// is a descriptor, and the default soft limit (1024) would refuse a fleet.
void raise_open_files_limit() {
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Builds the pipelines of `specs`, printing every error as one line.
std::shared_ptr<const parsers::PipelineSet> build_pipelines_or_report(
    const std::vector<config::PipelineSpec>& specs) {
  auto built = parsers::PipelineSet::build(specs);
  if (built) return std::move(built.value());
  for (const std::string& error : parsers::PipelineSet::check(specs)) {
    std::fprintf(stderr, "sluice: %s\n", error.c_str());
  }
  return nullptr;
}

// SIGHUP: re-reads the config file and swaps in its pipelines; a config
// that fails to load or build is reported and the running one kept.
// Listener and store settings need a restart and are not re-applied.
void reload_pipelines(const config::ServerOptions& running, PipelineHolder& holder) {
  if (running.config_file.empty()) {
    std::fprintf(stderr, "sluice: SIGHUP: no --config file to reload; pipelines unchanged\n");
    return;
  }
  config::ServerOptions fresh;
  if (Status loaded = config::load_config_file(running.config_file, fresh); !loaded) {
    std::fprintf(stderr, "sluice: %s\nsluice: SIGHUP: reload rejected; the running pipelines stay\n",
                 loaded.message().c_str());
    return;
  }
  auto pipelines = build_pipelines_or_report(fresh.pipelines);
  if (!pipelines) {
    std::fprintf(stderr, "sluice: SIGHUP: reload rejected; the running pipelines stay\n");
    return;
  }
  const size_t count = pipelines->size();
  holder.set(std::move(pipelines));
  std::fprintf(stderr, "sluice: SIGHUP: reloaded %zu pipeline(s) from %s\n", count,
               running.config_file.c_str());
}

// Closes loop handles on a loop that never ran, so it can be released.
void drain_unstarted(LoopThread& loop) {
  loop.close_mailbox();
  uv_run(loop.loop(), UV_RUN_DEFAULT);
}

}  // namespace

int run_server(const config::ServerOptions& options) {
  if (Status valid = config::validate(options); !valid) return fail(valid);
  const sigset_t stop_signals = block_stop_signals();
  raise_open_files_limit();

  PipelineHolder pipelines;
  {
    auto built = build_pipelines_or_report(options.pipelines);
    if (!built) return 1;
    pipelines.set(std::move(built));
  }

  ServerMetrics metrics;
  auto sink_or = EventSink::open(options, metrics);
  if (!sink_or) return fail(sink_or.error());
  std::unique_ptr<EventSink> sink = std::move(sink_or.value());
  {
    // Records that were durable in the raw log but not yet in blocks when
    // the last run ended (a crash, a kill) are parsed and stored again.
    BatchParser parser(options.ingest, pipelines);
    auto replayed = sink->replay(parser);
    if (!replayed) return fail(replayed.error());
    for (const std::string& problem : replayed->problems) {
      std::fprintf(stderr, "sluice: replay: %s\n", problem.c_str());
    }
    if (replayed->frames != 0) {
      std::fprintf(stderr, "sluice: replayed %llu records (%llu events) from %llu raw segment(s)\n",
                   static_cast<unsigned long long>(replayed->records),
                   static_cast<unsigned long long>(replayed->events),
                   static_cast<unsigned long long>(replayed->segments));
    }
  }
  storage::EventStore& store = sink->store();
  IngestQueue queue(options.ingest.queue_max_bytes, metrics);

  LoopThread ingest_loop;
  LoopThread http_loop;
  if (Status s = ingest_loop.init(); !s) return fail(s);
  if (Status s = http_loop.init(); !s) return fail(s);

  SyslogInput syslog(ingest_loop.loop(), queue, metrics, options);
  RelpInput relp(ingest_loop, queue, metrics, options);
  JsonTcpInput json_tcp(ingest_loop.loop(), queue, metrics, options);
  GelfInput gelf(ingest_loop.loop(), queue, metrics, options);
  metrics.add_section([&gelf](std::string& out) { gelf.counters().render(out); });
  auto pause_inputs = [&] {
    syslog.pause();
    relp.pause();
    json_tcp.pause();
    gelf.pause();
  };
  syslog.set_on_backpressure(pause_inputs);
  relp.set_on_backpressure(pause_inputs);
  json_tcp.set_on_backpressure(pause_inputs);
  gelf.set_on_backpressure(pause_inputs);
  Api api(http_loop, queue, store, metrics, options, pipelines);
  HttpServer http(http_loop, options.http_limits, [&api](HttpRequest& request) { api.handle(request); });
  api.attach(http);
  sink->set_commit_listener([&api](const EventBatch& batch) { api.publish(batch); });

  // Bind before starting any thread, so a port in use is reported at once.
  Status bound = syslog.listen();
  if (bound) bound = relp.listen();
  if (bound) bound = json_tcp.listen();
  if (bound) bound = gelf.listen();
  if (bound) bound = http.listen(options.http);
  if (!bound) {
    syslog.close();
    relp.close();
    json_tcp.close();
    gelf.close();
    http.close_all();
    drain_unstarted(ingest_loop);
    drain_unstarted(http_loop);
    return fail(bound);
  }

  queue.set_on_drained([&] {
    ingest_loop.post([&] {
      syslog.resume();
      relp.resume();
      json_tcp.resume();
      gelf.resume();
    });
  });
  sink->start();
  ParseWorkers workers(queue, *sink, metrics, options.ingest, pipelines);
  workers.start(options.ingest.workers);
  ingest_loop.start();
  http_loop.start();
  std::string listening = "syslog tcp+udp on " + options.syslog.to_string();
  if (options.syslog_tls.enabled()) listening += ", syslog tls on " + options.syslog_tls.to_string();
  if (options.relp.enabled()) listening += ", relp on " + options.relp.to_string();
  if (options.json_tcp.enabled()) listening += ", json tcp on " + options.json_tcp.to_string();
  if (options.gelf.enabled()) listening += ", gelf udp+tcp on " + options.gelf.to_string();
  listening += ", http on " + options.http.to_string();
  std::fprintf(stderr, "sluice: serving; %s, data in %s\n", listening.c_str(),
               options.store.data_dir.c_str());

  int signal_number = 0;
  while (true) {
    sigwait(&stop_signals, &signal_number);
    if (signal_number != SIGHUP) break;
    reload_pipelines(options, pipelines);
  }
  std::fprintf(stderr, "sluice: %s received; draining\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");

  // 1. Inputs: no new connections or reads; buffered frames become a last
  //    batch. Connections stay open for the acknowledgements.
  http_loop.post([&] {
    http.stop_listening();
    api.close_streams();
  });
  ingest_loop.post([&] {
    syslog.quiesce();
    relp.quiesce();
    json_tcp.quiesce();
    gelf.quiesce();
  });
  // 2. Drain: workers store every queued batch, and post the
  //    acknowledgements (RELP, HTTP ingest) to the still-running loops.
  //    The raw log's last fsync fires the acknowledgements still waiting.
  queue.close();
  workers.join();
  const Status synced = sink->raw_log().sync();
  // 3. The loops send the last acknowledgements, then close.
  ingest_loop.post([&] {
    syslog.close();
    relp.close();
    json_tcp.close();
    gelf.close();
  });
  ingest_loop.close_mailbox();
  ingest_loop.join();
  http_loop.post([&] {
    api.close_streams();
    http.close_all();
  });
  http_loop.close_mailbox();
  http_loop.join();
  // 4. Storage last: buffers become blocks, the current segment is closed,
  //    and the archive gets until its deadline to upload what waits.
  if (!synced) return fail(synced);
  const int64_t archive_deadline =
      monotonic_now_ns() + static_cast<int64_t>(options.archive.shutdown_deadline_s) * 1000000000;
  if (Status closed = sink->close(archive_deadline); !closed) return fail(closed);
  std::fprintf(stderr, "sluice: stopped cleanly\n");
  return 0;
}

}  // namespace sluice::server
