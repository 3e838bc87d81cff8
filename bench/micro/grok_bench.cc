// grok micro-benchmark: events/s and bytes/s per core for typical patterns
// on realistic lines, the cost of a long non-matching line (linear time:
// RE2), and heap allocations per event in steady state (must be 0).
//
//   build/bench/grok_bench --benchmark_repetitions=5
//   --benchmark_report_aggregates_only
//
// Every benchmark checks its result once before timing.

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "counting_new.h"
#include "parsers/grok_patterns.h"
#include "parsers/grok_processor.h"


namespace sluice::parsers {
namespace {

const std::vector<std::string> kApacheLines = {
    "83.149.9.216 - - [17/May/2015:10:05:03 +0000] \"GET "
    "/presentations/logstash-monitorama-2013/images/kibana-search.png "
    "HTTP/1.1\" 200 203023 "
    "\"http://semicomplete.com/presentations/logstash-monitorama-2013/\" "
    "\"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36\"",
    "10.0.12.7 - alice [22/Nov/2026:06:38:25 +0100] \"POST "
    "/api/v1/orders?id=1842&retry=0 HTTP/1.1\" 201 512 \"-\" \"curl/8.5.0\"",
    "2001:db8::17 - - [22/Nov/2026:06:38:26 +0100] \"GET /static/app.3f9a1c.js "
    "HTTP/2.0\" 304 - \"https://shop.example.com/cart\" \"Mozilla/5.0 (X11; "
    "Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\"",
    "192.168.1.20 - - [22/Nov/2026:06:38:27 +0100] \"GET /healthz HTTP/1.1\" "
    "200 2 \"-\" \"kube-probe/1.28\"",
};

const std::vector<std::string> kSyslogLines = {
    "Mar 16 00:01:25 evita postfix/smtpd[1713]: connect from "
    "camomile.cloud9.net[168.100.1.3]",
    "Nov 22 06:38:25 web-11 systemd[1]: Started Session 4123 of user deploy.",
    "Nov 22 06:38:26 db-02 kernel: [3124658.791874] EXT4-fs (sda1): mounted "
    "filesystem with ordered data mode",
    "Nov 22 06:38:27 web-11 CRON[10973]: pam_unix(cron:session): session "
    "opened for user root by (uid=0)",
};

const char kSshdPattern[] =
    "%{SYSLOGBASE} (?:Failed|Accepted) %{WORD:auth_method} for (?:invalid user "
    ")?%{USERNAME:user} "
    "from %{IP:src_ip} port %{INT:src_port:int} ssh2(?:: "
    "%{GREEDYDATA:signature})?";

const std::vector<std::string> kSshdLines = {
    "Nov 22 06:38:25 bastion sshd[2210]: Failed password for invalid user "
    "admin from 203.0.113.54 port 59968 ssh2",
    "Nov 22 06:38:26 bastion sshd[2211]: Accepted publickey for deploy from "
    "10.0.12.7 port 41822 ssh2: ED25519 "
    "SHA256:Xk2v1m9Qy7oKc3wPz0a1b2c3d4e5f6g7h8i9j0kLmNo",
    "Nov 22 06:38:27 bastion sshd[2212]: Failed password for root from "
    "198.51.100.23 port 22 ssh2",
};

std::unique_ptr<Processor> make(const std::string &pattern) {
  config::GrokOptions options;
  options.patterns.push_back({pattern, {}});
  auto processor = GrokProcessor::create(options, PatternLibrary::builtin());
  if (!processor) {
    std::fprintf(stderr, "grok_bench: %s\n",
                 processor.error().message().c_str());
    std::abort();
  }
  return std::move(processor).value();
}

ProcessResult process_one(const Processor &processor, Scratch &scratch,
                          EventBatch &batch, const std::string &line) {
  batch.fields.clear();
  batch.arena.reset();
  Event event;
  event.message = line;
  EventContext context{event, batch};
  return processor.process(context, scratch);
}

void run(benchmark::State &state, const std::string &pattern,
         const std::vector<std::string> &lines, ProcessResult expected,
         size_t min_fields) {
  auto processor = make(pattern);
  auto scratch = processor->make_scratch();
  EventBatch batch;
  batch.fields.reserve(64);
  for (const auto &line : lines) { // check before timing
    if (process_one(*processor, *scratch, batch, line) != expected ||
        batch.fields.size() < min_fields) {
      state.SkipWithError(
          ("unexpected result on: " + line.substr(0, 80)).c_str());
      return;
    }
  }
  size_t bytes = 0;
  size_t i = 0;
  const uint64_t allocations_before = sluice::bench::thread_allocations();
  for (auto _ : state) {
    const std::string &line = lines[i];
    benchmark::DoNotOptimize(process_one(*processor, *scratch, batch, line));
    bytes += line.size();
    if (++i == lines.size())
      i = 0;
  }
  const uint64_t allocations = sluice::bench::thread_allocations() - allocations_before;
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["allocs_per_event"] =
      benchmark::Counter(static_cast<double>(allocations) /
                         static_cast<double>(state.iterations()));
}

void BM_CombinedApacheLog(benchmark::State &state) {
  run(state, "%{COMBINEDAPACHELOG}", kApacheLines, ProcessResult::kOk, 8);
}
void BM_SyslogLine(benchmark::State &state) {
  run(state, "%{SYSLOGLINE}", kSyslogLines, ProcessResult::kOk, 3);
}
void BM_SshdAuth(benchmark::State &state) {
  run(state, kSshdPattern, kSshdLines, ProcessResult::kOk, 7);
}

// The same matching work without captures: RE2 runs only its DFA, so
// allocs_per_event shows what sluice's own code allocates (0). The
// difference to BM_CombinedApacheLog is RE2's submatch engine: its NFA
// allocates its thread lists per call (BitState would not, but RE2 uses it
// only for programs of at most 512 instructions).
void BM_CombinedApacheLog_NoCaptures(benchmark::State &state) {
  run(state,
      "%{IPORHOST} %{HTTPDUSER} %{HTTPDUSER} \\[%{HTTPDATE}\\] \"(?:%{WORD} "
      "%{NOTSPACE}(?: HTTP/%{NUMBER})?|%{DATA})\" (?:-|%{NUMBER}) "
      "(?:-|%{NUMBER}) %{QS} %{QS}",
      kApacheLines, ProcessResult::kOk, 0);
}

// A 64 KiB line that matches nothing: RE2's DFA scans it once.
std::vector<std::string> long_line() {
  std::string line;
  while (line.size() < 64 * 1024)
    line += "aaaa bbbb [cccc] \"dddd\" 1234 ";
  return {line};
}
void BM_CombinedApacheLog_NoMatch64KiB(benchmark::State &state) {
  run(state, "%{COMBINEDAPACHELOG}", long_line(), ProcessResult::kFailed, 0);
}
void BM_SyslogLine_NoMatch64KiB(benchmark::State &state) {
  run(state, "%{SYSLOGLINE}", long_line(), ProcessResult::kFailed, 0);
}
void BM_Anchored_NoMatch64KiB(benchmark::State &state) {
  run(state, "^%{SYSLOGLINE}$", long_line(), ProcessResult::kFailed, 0);
}
// Nested quantifiers that make backtracking engines exponential.
// The line is all words and spaces up to a final '!', so the DFA must scan
// all of it: linear, where a backtracking engine takes exponential time.
void BM_Pathological_NoMatch64KiB(benchmark::State &state) {
  std::string line;
  while (line.size() < 64 * 1024)
    line += "aaaa bbbb cccc ";
  run(state, "^(?:%{WORD}\\s*)*%{INT:n}$", {line + "!"}, ProcessResult::kFailed,
      0);
}

BENCHMARK(BM_CombinedApacheLog);
BENCHMARK(BM_SyslogLine);
BENCHMARK(BM_SshdAuth);
BENCHMARK(BM_CombinedApacheLog_NoCaptures);
BENCHMARK(BM_CombinedApacheLog_NoMatch64KiB);
BENCHMARK(BM_SyslogLine_NoMatch64KiB);
BENCHMARK(BM_Anchored_NoMatch64KiB);
BENCHMARK(BM_Pathological_NoMatch64KiB);

} // namespace
} // namespace sluice::parsers

BENCHMARK_MAIN();
