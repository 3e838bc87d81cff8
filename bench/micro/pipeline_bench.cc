// kv and json processor micro-benchmark: events/s and bytes/s per core on
// realistic lines, and heap allocations per event in steady state, next to
// grok_bench's figures for grok.
//
//   build/bench/pipeline_bench --benchmark_repetitions=5
//   --benchmark_report_aggregates_only
//
// Lines are generated once from a fixed seed (256 distinct lines per
// benchmark, so branch predictors cannot learn one line). Every benchmark
// checks each line's result and field count once before timing.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "counting_new.h"
#include "parsers/json_processor.h"
#include "parsers/kv_processor.h"


namespace sluice::parsers {
namespace {

constexpr size_t kLines = 256;

class Rng {
 public:
  explicit Rng(uint64_t seed) : rng_(seed) {}
  uint64_t below(uint64_t n) { return rng_() % n; }
  template <typename T, size_t N>
  const T& pick(const T (&items)[N]) {
    return items[below(N)];
  }
  std::string ip() {
    return std::to_string(1 + below(223)) + "." + std::to_string(below(256)) + "." +
           std::to_string(below(256)) + "." + std::to_string(1 + below(254));
  }
  std::string hex(int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < digits; ++i) out += kHex[below(16)];
    return out;
  }
  std::string time_of_day() {
    char text[16];
    std::snprintf(text, sizeof text, "%02d:%02d:%02d", static_cast<int>(below(24)),
                  static_cast<int>(below(60)), static_cast<int>(below(60)));
    return text;
  }

 private:
  std::mt19937_64 rng_;
};

// FortiGate traffic log: 30 pairs, about half of the values quoted.
std::vector<std::string> firewall_lines() {
  static const char* const kActions[] = {"accept", "accept", "accept", "deny", "close", "timeout"};
  static const char* const kServices[] = {"HTTPS", "HTTP", "DNS", "SSH", "NTP", "SMTP"};
  static const char* const kApps[] = {"HTTPS.BROWSER", "Google.Services", "DNS", "SSH", "Microsoft.Portal"};
  Rng rng(42);
  std::vector<std::string> lines;
  for (size_t i = 0; i < kLines; ++i) {
    const std::string time = rng.time_of_day();
    lines.push_back(
        "date=2025-03-01 time=" + time + " devname=\"FGT60F-edge\" devid=\"FGT60FTK2109BX3\" eventtime=174078" +
        std::to_string(1000000000 + rng.below(999999999)) + " tz=\"+0000\" logid=\"0000000013\" type=\"traffic\" " +
        "subtype=\"forward\" level=\"notice\" vd=\"root\" srcip=10.1." + std::to_string(rng.below(256)) + "." +
        std::to_string(1 + rng.below(254)) + " srcport=" + std::to_string(1024 + rng.below(64511)) +
        " srcintf=\"internal\" srcintfrole=\"lan\" dstip=" + rng.ip() + " dstport=" +
        std::to_string(rng.pick(kServices)[0] == 'D' ? 53 : 443) + " dstintf=\"wan1\" dstintfrole=\"wan\" " +
        "srccountry=\"Reserved\" dstcountry=\"United States\" sessionid=" + std::to_string(rng.below(99999999)) +
        " proto=6 action=\"" + rng.pick(kActions) + "\" policyid=" + std::to_string(1 + rng.below(40)) +
        " policytype=\"policy\" service=\"" + rng.pick(kServices) + "\" trandisp=\"snat\" duration=" +
        std::to_string(rng.below(600)) + " sentbyte=" + std::to_string(rng.below(1000000)) +
        " rcvdbyte=" + std::to_string(rng.below(5000000)) + " sentpkt=" + std::to_string(rng.below(2000)) +
        " rcvdpkt=" + std::to_string(rng.below(4000)) + " app=\"" + rng.pick(kApps) + "\" appcat=\"unscanned\"");
  }
  return lines;
}

// logfmt (Go services, Heroku router, Loki): 10 pairs, one quoted message.
std::vector<std::string> logfmt_lines() {
  static const char* const kLevels[] = {"info", "info", "info", "warn", "error", "debug"};
  static const char* const kMessages[] = {"\"request completed\"", "\"cache miss\"",
                                          "\"upstream timeout, retrying\"", "\"order created\""};
  static const char* const kMethods[] = {"GET", "GET", "POST", "PUT", "DELETE"};
  static const char* const kUsers[] = {"alice", "bob", "carol", "deploy", "svc-orders"};
  Rng rng(43);
  std::vector<std::string> lines;
  for (size_t i = 0; i < kLines; ++i) {
    lines.push_back("ts=2025-03-01T" + rng.time_of_day() + "." + std::to_string(100000 + rng.below(899999)) +
                    "Z level=" + rng.pick(kLevels) + " msg=" + rng.pick(kMessages) + " method=" +
                    rng.pick(kMethods) + " path=/api/v1/orders/" + std::to_string(100000 + rng.below(900000)) +
                    " status=" + std::to_string(rng.below(10) == 0 ? 500 : 200) + " duration_ms=" +
                    std::to_string(rng.below(900)) + "." + std::to_string(rng.below(10)) + " user=" +
                    rng.pick(kUsers) + " remote_addr=" + rng.ip() + " trace_id=" + rng.hex(32));
  }
  return lines;
}

// The load generator's "orders" application: a flat object of 11 members.
std::vector<std::string> orders_lines() {
  static const char* const kUsers[] = {"alice", "bob", "carol", "dave", "erin", "deploy", "ops"};
  static const char* const kCurrencies[] = {"EUR", "USD", "GBP", "CHF", "SEK", "JPY"};
  static const char* const kMessages[] = {"order created", "order created", "order shipped", "payment retry",
                                          "payment declined"};
  static const char* const kLevels[] = {"info", "info", "info", "warn", "error"};
  Rng rng(44);
  std::vector<std::string> lines;
  for (size_t i = 0; i < kLines; ++i) {
    lines.push_back("{\"ts\":\"2025-03-01T" + rng.time_of_day() + "." + std::to_string(100000 + rng.below(899999)) +
                    "Z\",\"level\":\"" + rng.pick(kLevels) + "\",\"msg\":\"" + rng.pick(kMessages) +
                    "\",\"order_id\":\"ord_" + rng.hex(12) + "\",\"customer_id\":" +
                    std::to_string(1 + rng.below(50000)) + ",\"user\":\"" + rng.pick(kUsers) +
                    "\",\"amount\":" + std::to_string(rng.below(2000)) + "." + std::to_string(10 + rng.below(90)) +
                    ",\"currency\":\"" + rng.pick(kCurrencies) + "\",\"items\":" + std::to_string(1 + rng.below(12)) +
                    ",\"duration_ms\":" + std::to_string(1 + rng.below(5000)) + ",\"trace_id\":\"" + rng.hex(32) +
                    "\"}");
  }
  return lines;
}

// An ECS-style access record from a Kubernetes pod: nested objects
// (flattened to dotted names), an array (kept as JSON text), a bool, a
// null and escaped strings; 26 fields.
std::vector<std::string> nested_lines() {
  static const char* const kMethods[] = {"GET", "GET", "POST", "PUT"};
  static const char* const kAgents[] = {
      "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0", "curl/7.88.1",
      "Go-http-client/1.1", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"};
  Rng rng(45);
  std::vector<std::string> lines;
  for (size_t i = 0; i < kLines; ++i) {
    const bool error = rng.below(10) == 0;
    lines.push_back(
        "{\"@timestamp\":\"2025-03-01T" + rng.time_of_day() + ".123Z\",\"log\":{\"level\":\"" +
        (error ? "error" : "info") + "\",\"logger\":\"http.access\"},\"message\":\"" + rng.pick(kMethods) +
        " /api/v1/items/" + std::to_string(rng.below(100000)) + " \\\"ok\\\"\",\"http\":{\"request\":{\"method\":\"" +
        rng.pick(kMethods) + "\",\"bytes\":" + std::to_string(rng.below(4096)) +
        "},\"response\":{\"status_code\":" + (error ? "503" : "200") + ",\"bytes\":" +
        std::to_string(rng.below(100000)) + "}},\"url\":{\"path\":\"/api/v1/items/" +
        std::to_string(rng.below(100000)) + "\",\"query\":null},\"client\":{\"ip\":\"" + rng.ip() +
        "\",\"geo\":{\"country_iso_code\":\"DE\"}},\"user_agent\":{\"original\":\"" + rng.pick(kAgents) +
        "\"},\"event\":{\"duration\":" + std::to_string(rng.below(90000000)) + ",\"outcome\":\"" +
        (error ? "failure" : "success") + "\"},\"kubernetes\":{\"namespace\":\"shop\",\"pod\":{\"name\":\"api-" +
        rng.hex(10) + "-" + rng.hex(5) + "\"},\"labels\":{\"app\":\"api\",\"tier\":\"backend\"}},\"cached\":" +
        (rng.below(2) ? "true" : "false") + ",\"tags\":[\"prod\",\"eu-west-1\"],\"trace\":{\"id\":\"" +
        rng.hex(32) + "\"},\"span\":{\"id\":\"" + rng.hex(16) + "\"}}");
  }
  return lines;
}

ProcessResult process_one(const Processor& processor, Scratch& scratch, EventBatch& batch,
                          const std::string& line) {
  batch.fields.clear();
  batch.arena.reset();
  Event event;
  event.message = line;
  EventContext context{event, batch};
  return processor.process(context, scratch);
}

void run(benchmark::State& state, Expected<std::unique_ptr<Processor>> created, const std::vector<std::string>& lines,
         size_t min_fields) {
  if (!created) {
    state.SkipWithError(created.error().message().c_str());
    return;
  }
  const std::unique_ptr<Processor> processor = std::move(created).value();
  auto scratch = processor->make_scratch();
  EventBatch batch;
  batch.fields.reserve(64);
  size_t fields = 0;
  for (const auto& line : lines) {  // check before timing
    if (process_one(*processor, *scratch, batch, line) != ProcessResult::kOk || batch.fields.size() < min_fields) {
      state.SkipWithError(("unexpected result (" + std::to_string(batch.fields.size()) +
                           " fields) on: " + line.substr(0, 80))
                              .c_str());
      return;
    }
    fields += batch.fields.size();
  }
  size_t bytes = 0;
  size_t i = 0;
  const uint64_t allocations_before = sluice::bench::thread_allocations();
  for (auto _ : state) {
    const std::string& line = lines[i];
    benchmark::DoNotOptimize(process_one(*processor, *scratch, batch, line));
    bytes += line.size();
    if (++i == lines.size()) i = 0;
  }
  const uint64_t allocations = sluice::bench::thread_allocations() - allocations_before;
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["allocs_per_event"] =
      benchmark::Counter(static_cast<double>(allocations) / static_cast<double>(state.iterations()));
  state.counters["fields_per_event"] =
      benchmark::Counter(static_cast<double>(fields) / static_cast<double>(lines.size()));
  state.counters["bytes_per_event"] = benchmark::Counter(static_cast<double>(bytes) /
                                                         static_cast<double>(state.iterations()));
}

config::KvOptions kv_options(std::string target = "", std::string prefix = "") {
  config::KvOptions options;
  options.trim_value = "\"";
  options.target = std::move(target);
  options.prefix = std::move(prefix);
  return options;
}

config::JsonOptions json_options(std::string target = "") {
  config::JsonOptions options;
  options.target = std::move(target);
  return options;
}

// Names and values are views into the line: nothing is copied.
void BM_Kv_Firewall(benchmark::State& state) {
  static const auto lines = firewall_lines();
  run(state, KvProcessor::create(kv_options()), lines, 30);
}
// With a target every name is built in the batch arena ("fw.srcip").
void BM_Kv_Firewall_Target(benchmark::State& state) {
  static const auto lines = firewall_lines();
  run(state, KvProcessor::create(kv_options("fw")), lines, 30);
}
void BM_Kv_Logfmt(benchmark::State& state) {
  static const auto lines = logfmt_lines();
  run(state, KvProcessor::create(kv_options()), lines, 10);
}
void BM_Json_Orders(benchmark::State& state) {
  static const auto lines = orders_lines();
  run(state, JsonProcessor::create(json_options()), lines, 11);
}
// The example config's `json: {target: app}`: dotted names in the arena.
void BM_Json_Orders_Target(benchmark::State& state) {
  static const auto lines = orders_lines();
  run(state, JsonProcessor::create(json_options("app")), lines, 11);
}
void BM_Json_NestedEcs(benchmark::State& state) {
  static const auto lines = nested_lines();
  run(state, JsonProcessor::create(json_options()), lines, 20);
}

BENCHMARK(BM_Kv_Firewall);
BENCHMARK(BM_Kv_Firewall_Target);
BENCHMARK(BM_Kv_Logfmt);
BENCHMARK(BM_Json_Orders);
BENCHMARK(BM_Json_Orders_Target);
BENCHMARK(BM_Json_NestedEcs);

}  // namespace
}  // namespace sluice::parsers

BENCHMARK_MAIN();
