// Parse-stage scaling: what a parse worker does per event (syslog parse,
// then the pipelines; see server/parse_workers.cc), on 1 and on 2 threads,
// each thread with its own PipelineScratch and EventBatch, over the same
// pre-generated nginx access lines. The store is not involved.
//
//   build/bench/scaling_bench            # 5 interleaved repetitions, medians, then the ratio table
//   build/bench/scaling_bench --benchmark_filter=grok
//
// The corpus: 65,536 RFC 5424 frames (app "nginx", MSG in the combined log
// format, like bench/loadgen.cc's nginx share), generated from a fixed seed,
// in one contiguous buffer as a RawBatch holds them. Work is cut into batches
// of 4,096 events (the server's batch_max_events); thread t of T starts at
// batch t*16/T and walks the corpus round. Every thread checks, before
// timing, that each event of its first batch parses well formed and that the
// pipeline matches it with the expected fields.
//
// Counters: events/s (items_per_second) and bytes/s over all threads, wall
// time (UseRealTime); allocs_per_event averaged over the threads; and
// others_cpu_pct, the machine's CPU time not spent by this process during
// the run, as a share of all cores: above a few percent someone else was
// using the machine and the ratio is suspect. After the runs a table gives
// each pipeline's median events/s on 1 and 2 threads and their ratio.

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "config/pipeline_options.h"
#include "counting_new.h"
#include "parsers/pipeline.h"
#include "parsers/syslog_parser.h"


namespace sluice::parsers {
namespace {

constexpr size_t kBatchEvents = 4096;
constexpr size_t kBatches = 16;
constexpr int64_t kReceivedNs = 1740787200'000000000;  // 2025-03-01T00:00:00Z

// ---- The corpus ----

struct Corpus {
  std::string bytes;
  std::vector<std::string_view> frames;
  uint64_t payload_bytes = 0;
};

class NginxLines {
 public:
  explicit NginxLines(uint64_t seed) : rng_(seed) {}

  void next(std::string& out) {
    micros_ += 1 + below(999);
    const int64_t second = micros_ / 1000000;
    const int minute = static_cast<int>(second / 60 % 60), hour = static_cast<int>(second / 3600 % 24);
    const int day = 1 + static_cast<int>(second / 86400 % 28);
    char text[96];
    const uint64_t host = 1 + below(20);
    std::snprintf(text, sizeof text, "<190>1 2025-03-%02dT%02d:%02d:%02d.%06dZ web-%02d nginx %d access - ", day,
                  hour, minute, static_cast<int>(second % 60), static_cast<int>(micros_ % 1000000),
                  static_cast<int>(host), static_cast<int>(1000 + host * 10 + below(4)));
    out = text;
    out += std::to_string(1 + below(223)) + "." + std::to_string(below(256)) + "." + std::to_string(below(256)) +
           "." + std::to_string(1 + below(254));
    out += below(10) == 0 ? std::string(" - ") + pick(kUsers) + " [" : std::string(" - - [");
    std::snprintf(text, sizeof text, "%02d/Mar/2025:%02d:%02d:%02d +0000] \"", day, hour, minute,
                  static_cast<int>(second % 60));
    out += text;
    const uint64_t method = below(20);
    out += method < 15 ? "GET " : method < 18 ? "POST " : method < 19 ? "PUT " : "DELETE ";
    switch (below(8)) {
      case 0: out += "/"; break;
      case 1: out += "/api/v1/orders/" + std::to_string(100000 + below(900000)); break;
      case 2: out += "/api/v1/users/" + std::to_string(1 + below(50000)); break;
      case 3: out += "/static/js/app." + std::to_string(below(1u << 30)) + ".js"; break;
      case 4: out += "/static/css/main.css"; break;
      case 5: out += "/search?q=item" + std::to_string(below(5000)) + "&page=" + std::to_string(1 + below(9)); break;
      case 6: out += "/products/" + std::to_string(1 + below(20000)); break;
      default: out += "/wp-login.php"; break;
    }
    out += below(4) == 0 ? " HTTP/2.0\" " : " HTTP/1.1\" ";
    static constexpr int kStatus[] = {200, 200, 200, 200, 200, 200, 200, 304, 301, 404, 500};
    const int status = kStatus[below(std::size(kStatus))];
    out += std::to_string(status) + " " + std::to_string(status == 304 ? 0 : 100 + below(250000)) + " \"" +
           pick(kReferers) + "\" \"" + pick(kAgents) + "\"";
  }

 private:
  static constexpr const char* kUsers[] = {"alice", "bob", "carol", "deploy", "ops"};
  static constexpr const char* kReferers[] = {"-", "-", "https://shop.example.com/", "https://shop.example.com/cart",
                                              "https://www.google.com/"};
  static constexpr const char* kAgents[] = {
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 "
      "Safari/537.36",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 "
      "Safari/605.1.15",
      "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
      "curl/7.88.1",
      "Go-http-client/1.1",
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"};
  uint64_t below(uint64_t n) { return rng_() % n; }
  template <size_t N>
  const char* pick(const char* const (&items)[N]) {
    return items[below(N)];
  }
  std::mt19937_64 rng_;
  int64_t micros_ = 0;
};

const Corpus& corpus() {
  static const Corpus corpus = [] {
    Corpus out;
    NginxLines lines(42);
    std::string line;
    std::vector<size_t> ends;
    for (size_t i = 0; i < kBatches * kBatchEvents; ++i) {
      lines.next(line);
      out.bytes += line;
      ends.push_back(out.bytes.size());
      out.payload_bytes += line.size();
    }
    size_t begin = 0;
    for (size_t end : ends) {
      out.frames.emplace_back(out.bytes.data() + begin, end - begin);
      begin = end;
    }
    return out;
  }();
  return corpus;
}

// ---- The pipelines, as specs built in code ----

config::ProcessorSpec grok_spec() {
  config::ProcessorSpec grok;
  grok.kind = "grok";
  grok.grok.patterns.push_back({"%{COMBINEDAPACHELOG}", {}});
  return grok;
}

config::PipelineSpec nginx_pipeline() {
  config::PipelineSpec pipeline;
  pipeline.name = "nginx";
  pipeline.inputs = {"syslog_tcp", "syslog_udp"};
  pipeline.condition = {"app == \"nginx\"", {}};
  pipeline.processors.push_back(grok_spec());
  return pipeline;
}

// config/examples/pipelines.yaml's nginx pipeline: grok, date, mutate.
config::PipelineSpec nginx_example_pipeline() {
  config::PipelineSpec pipeline = nginx_pipeline();
  config::ProcessorSpec date;
  date.kind = "date";
  date.date.source = "timestamp";
  date.date.formats = {{"%d/%b/%Y:%H:%M:%S %z", {}}, {"ISO8601", {}}};
  pipeline.processors.push_back(date);
  config::ProcessorSpec mutate;
  mutate.kind = "mutate";
  mutate.mutate.convert = {{"response", {"int", {}}}, {"bytes", {"int", {}}}};
  mutate.mutate.remove = {"timestamp"};
  pipeline.processors.push_back(mutate);
  return pipeline;
}

std::shared_ptr<const PipelineSet> build(const config::PipelineSpec& spec) {
  auto built = PipelineSet::build({spec});
  if (!built) {
    std::fprintf(stderr, "scaling_bench: %s\n", built.error().message().c_str());
    std::exit(1);
  }
  return std::move(built).value();
}

// ---- One worker's batch, as ParseWorkers::run() does it ----

struct BatchResult {
  size_t ok = 0;           // events the pipeline ran to the end on
  size_t well_formed = 0;  // frames that parsed as well-formed syslog
  size_t min_fields = ~size_t{0};
};

BatchResult process_batch(const PipelineSet& pipelines, PipelineScratch& scratch, EventBatch& events,
                          const SyslogOptions& options, size_t batch) {
  const Corpus& lines = corpus();
  BatchResult result;
  events.clear();
  for (size_t i = batch * kBatchEvents, end = i + kBatchEvents; i < end; ++i) {
    const std::string_view frame = lines.frames[i];
    Event event;
    event.received_ns = kReceivedNs;
    event.input = InputId::kSyslogTcp;
    event.first_field = static_cast<uint32_t>(events.fields.size());
    if (parse_syslog_event(frame, options, events, event)) ++result.well_formed;
    EventContext context{event, events};
    const PipelineSet::Outcome outcome = pipelines.run(context, scratch);
    if (outcome == PipelineSet::Outcome::kDropped) {
      events.fields.resize(event.first_field);
      continue;
    }
    if (outcome == PipelineSet::Outcome::kOk) ++result.ok;
    if (outcome == PipelineSet::Outcome::kFailed) event.flags |= kFlagParseFailure;
    result.min_fields = std::min<size_t>(result.min_fields, event.field_count);
    events.events.push_back(event);
  }
  pipelines.publish_counts(scratch);
  return result;
}

// ---- Machine load, for others_cpu_pct ----

struct CpuSample {
  double machine_busy_s = 0;  // all cores: user + nice + system + irq + softirq + steal
  double own_s = 0;           // this process: user + system
  std::chrono::steady_clock::time_point wall;
};

CpuSample sample_cpu() {
  CpuSample sample;
  sample.wall = std::chrono::steady_clock::now();
  std::ifstream stat("/proc/stat");
  std::string cpu;
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  sample.machine_busy_s =
      static_cast<double>(user + nice + system + irq + softirq + steal) / static_cast<double>(sysconf(_SC_CLK_TCK));
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  sample.own_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                 static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  return sample;
}

double others_cpu_pct(const CpuSample& before, const CpuSample& after) {
  const double wall = std::chrono::duration<double>(after.wall - before.wall).count();
  const double others = (after.machine_busy_s - before.machine_busy_s) - (after.own_s - before.own_s);
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return wall > 0 ? std::max(0.0, 100.0 * others / (wall * static_cast<double>(cores))) : 0;
}

// ---- The benchmark ----

void BM_ParseStage(benchmark::State& state, const std::shared_ptr<const PipelineSet>* pipelines, size_t min_fields) {
  const PipelineSet& set = **pipelines;
  std::unique_ptr<PipelineScratch> scratch = set.make_scratch();
  EventBatch events;
  events.events.reserve(kBatchEvents);
  events.fields.reserve(kBatchEvents * 16);
  const SyslogOptions options;
  size_t batch = static_cast<size_t>(state.thread_index()) * kBatches / static_cast<size_t>(state.threads());

  // Check (and warm up) before timing.
  const BatchResult check = process_batch(set, *scratch, events, options, batch);
  if (check.well_formed != kBatchEvents || check.ok != kBatchEvents || check.min_fields < min_fields) {
    state.SkipWithError(("check failed: " + std::to_string(check.well_formed) + " well formed, " +
                         std::to_string(check.ok) + " ok of " + std::to_string(kBatchEvents) + ", min fields " +
                         std::to_string(check.min_fields))
                            .c_str());
    return;
  }

  const bool first = state.thread_index() == 0;
  const CpuSample cpu_before = first ? sample_cpu() : CpuSample{};
  const uint64_t allocations_before = sluice::bench::thread_allocations();
  uint64_t bytes = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(process_batch(set, *scratch, events, options, batch));
    bytes += corpus().payload_bytes / kBatches;  // within 0.1 % of the batch's own size
    if (++batch == kBatches) batch = 0;
  }
  const uint64_t allocations = sluice::bench::thread_allocations() - allocations_before;
  const auto processed = static_cast<int64_t>(state.iterations() * kBatchEvents);
  state.SetItemsProcessed(processed);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["allocs_per_event"] = benchmark::Counter(
      static_cast<double>(allocations) / static_cast<double>(processed), benchmark::Counter::kAvgThreads);
  if (first) state.counters["others_cpu_pct"] = others_cpu_pct(cpu_before, sample_cpu());
}

std::shared_ptr<const PipelineSet> g_grok;
std::shared_ptr<const PipelineSet> g_example;

// syslog gives procid and msgid, COMBINEDAPACHELOG at least 9 more (clientip,
// ident, auth, timestamp, verb, request, httpversion, response, bytes,
// referrer, agent; auth "-" included).
BENCHMARK_CAPTURE(BM_ParseStage, grok, &g_grok, 11)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->MinTime(2.0)
    ->Repetitions(5)
    ->DisplayAggregatesOnly(true);
// The example pipeline removes `timestamp` after the date processor.
BENCHMARK_CAPTURE(BM_ParseStage, grok_date_mutate, &g_example, 10)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->MinTime(2.0)
    ->Repetitions(5)
    ->DisplayAggregatesOnly(true);

// Prints as the console reporter does, and keeps each median for the table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Aggregate || run.aggregate_name != "median") continue;
      Row& row = rows_[run.run_name.function_name + run.run_name.args];
      const auto rate = run.counters.find("items_per_second");
      const auto others = run.counters.find("others_cpu_pct");
      if (rate == run.counters.end()) continue;
      row.events_per_s[run.threads] = rate->second.value;
      if (others != run.counters.end()) row.others_pct = std::max(row.others_pct, others->second.value);
    }
  }

  void print_table() const {
    if (rows_.empty()) return;
    std::printf("\n| parse stage (median of the repetitions) | 1 thread events/s | 2 threads events/s | 2/1 | "
                "others' CPU %% (worst median) |\n| --- | ---: | ---: | ---: | ---: |\n");
    for (const auto& [name, row] : rows_) {
      const auto one = row.events_per_s.find(1), two = row.events_per_s.find(2);
      if (one == row.events_per_s.end() || two == row.events_per_s.end()) continue;
      std::printf("| %s | %.0f | %.0f | %.2f | %.1f |\n", name.c_str(), one->second, two->second,
                  two->second / one->second, row.others_pct);
    }
  }

 private:
  struct Row {
    std::map<int64_t, double> events_per_s;
    double others_pct = 0;
  };
  std::map<std::string, Row> rows_;
};

}  // namespace
}  // namespace sluice::parsers

int main(int argc, char** argv) {
  using namespace sluice::parsers;
  // Repetitions of the 1- and 2-thread runs are interleaved at random, so a
  // slow spell of the machine (a neighbour's build, a throttled vCPU) hits
  // both instead of skewing the ratio. A later flag on the command line wins.
  std::vector<char*> args(argv, argv + argc);
  char interleave[] = "--benchmark_enable_random_interleaving=true";
  args.insert(args.begin() + 1, interleave);
  argc = static_cast<int>(args.size());
  argv = args.data();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  corpus();  // generated before any timing
  g_grok = build(nginx_pipeline());
  g_example = build(nginx_example_pipeline());
  std::printf("corpus: %zu nginx frames, %.1f MiB, %.1f bytes/frame; %ld cores\n", corpus().frames.size(),
              static_cast<double>(corpus().payload_bytes) / (1 << 20),
              static_cast<double>(corpus().payload_bytes) / static_cast<double>(corpus().frames.size()),
              sysconf(_SC_NPROCESSORS_ONLN));
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_table();
  benchmark::Shutdown();
  return 0;
}
