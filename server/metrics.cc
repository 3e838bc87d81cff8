#include "server/metrics.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace sluice::server {
namespace {

std::string_view drop_reason_name(size_t reason) {
  switch (static_cast<DropReason>(reason)) {
    case DropReason::kQueueFull: return "queue_full";
    case DropReason::kStoreError: return "store_error";
    case DropReason::kPipelineDrop: return "pipeline_drop";
    case DropReason::kShutdown: return "shutdown";
  }
  return "unknown";
}

void family(std::ostringstream& out, std::string_view name, std::string_view type,
            std::string_view help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

// Resident memory and CPU time of this process, from /proc/self/stat.
struct ProcessStats {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double start_time_seconds = 0;
  bool ok = false;
};

ProcessStats read_process_stats() {
  ProcessStats stats;
  std::ifstream in("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold spaces.
  const size_t close = content.rfind(')');
  if (close == std::string::npos) return stats;
  std::istringstream fields(content.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0, start_ticks = 0;
  long long rss_pages = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) stime = std::stoull(field);
    if (index == 22) start_ticks = std::stoull(field);
    if (index == 24) {
      rss_pages = std::stoll(field);
      break;
    }
  }
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  stats.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  stats.resident_bytes = static_cast<double>(rss_pages) * static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ifstream uptime_in("/proc/stat");
  std::string line;
  while (std::getline(uptime_in, line)) {
    if (line.rfind("btime ", 0) == 0) {
      stats.start_time_seconds = std::stod(line.substr(6)) + static_cast<double>(start_ticks) / ticks;
      break;
    }
  }
  stats.ok = true;
  return stats;
}

}  // namespace

std::string_view ingest_error_name(IngestError error) {
  switch (error) {
    case IngestError::kOctetCountInvalid: return "octet_count_invalid";
    case IngestError::kFrameTruncated: return "frame_truncated";
    case IngestError::kFrameIncomplete: return "frame_incomplete";
    case IngestError::kTlsHandshake: return "tls_handshake";
    case IngestError::kTlsError: return "tls_error";
    case IngestError::kHandshakeTimeout: return "handshake_timeout";
    case IngestError::kRelpProtocol: return "relp_protocol";
    case IngestError::kConnectionLimit: return "connection_limit";
    case IngestError::kCount: break;
  }
  return "unknown";
}

void ServerMetrics::count_http_request(std::string_view route, int status_code) {
  std::lock_guard lock(http_mutex_);
  ++http_requests_[{std::string(route), status_code}];
}

std::string ServerMetrics::render() const {
  std::ostringstream out;
  auto per_input = [&](std::string_view name, std::string_view help, auto member) {
    family(out, name, "counter", help);
    for (size_t i = 0; i < kInputCount; ++i) {
      out << name << "{input=\"" << input_name(static_cast<InputId>(i)) << "\"} "
          << (inputs_[i].*member).value() << '\n';
    }
  };
  per_input("sluice_events_received_total", "Events accepted from the network, per input.",
            &PerInput::received);
  per_input("sluice_events_stored_total", "Events committed to the store (searchable), per input.",
            &PerInput::stored);
  per_input("sluice_parse_failures_total",
            "Events that could not be fully parsed; stored with their raw text.",
            &PerInput::parse_failures);
  per_input("sluice_events_rejected_total", "Records refused as invalid (e.g. bad JSON).",
            &PerInput::rejected);
  per_input("sluice_events_truncated_total", "Messages cut at ingest.max_message_bytes.",
            &PerInput::truncated);
  per_input("sluice_received_bytes_total", "Bytes of accepted records, per input.",
            &PerInput::received_bytes);

  family(out, "sluice_events_dropped_total", "counter", "Events dropped, per input and reason.");
  for (size_t i = 0; i < kInputCount; ++i) {
    for (size_t reason = 0; reason < kDropReasonCount; ++reason) {
      out << "sluice_events_dropped_total{input=\"" << input_name(static_cast<InputId>(i))
          << "\",reason=\"" << drop_reason_name(reason) << "\"} "
          << inputs_[i].dropped[reason].value() << '\n';
    }
  }

  family(out, "sluice_json_errors_total", "counter",
         "JSON records that failed to parse, per input and reason: refused (HTTP ingest, reported "
         "per line) or, on json_tcp, stored as raw text flagged _parse_failure.");
  for (size_t i = 0; i < kInputCount; ++i) {
    for (size_t reason = 1; reason < parsers::kJsonErrorCount; ++reason) {
      out << "sluice_json_errors_total{input=\"" << input_name(static_cast<InputId>(i))
          << "\",reason=\"" << parsers::json_error_label(static_cast<parsers::JsonError>(reason)) << "\"} "
          << inputs_[i].json_errors[reason].value() << '\n';
    }
  }

  family(out, "sluice_ingest_errors_total", "counter",
         "Bad input met by an input (the good input around it is kept), per reason.");
  for (size_t i = 0; i < kInputCount; ++i) {
    for (size_t reason = 0; reason < kIngestErrorCount; ++reason) {
      out << "sluice_ingest_errors_total{input=\"" << input_name(static_cast<InputId>(i))
          << "\",reason=\"" << ingest_error_name(static_cast<IngestError>(reason)) << "\"} "
          << inputs_[i].errors[reason].value() << '\n';
    }
  }

  family(out, "sluice_queue_bytes", "gauge", "Bytes of raw batches waiting for a parse worker.");
  out << "sluice_queue_bytes " << queue_bytes.value() << '\n';
  family(out, "sluice_queue_batches", "gauge", "Raw batches waiting for a parse worker.");
  out << "sluice_queue_batches " << queue_batches.value() << '\n';
  family(out, "sluice_tcp_connections_accepted_total", "counter", "Stream connections accepted (syslog TCP/TLS, RELP).");
  out << "sluice_tcp_connections_accepted_total " << tcp_connections_accepted.value() << '\n';
  family(out, "sluice_tcp_connections", "gauge", "Stream connections open (syslog TCP/TLS, RELP).");
  out << "sluice_tcp_connections " << tcp_connections_open.value() << '\n';
  family(out, "sluice_batches_stored_total", "counter", "Event batches written to the store.");
  out << "sluice_batches_stored_total " << batches_stored.value() << '\n';
  family(out, "sluice_store_errors_total", "counter", "Failed writes to the store.");
  out << "sluice_store_errors_total " << store_errors.value() << '\n';
  family(out, "sluice_search_requests_total", "counter", "Searches run.");
  out << "sluice_search_requests_total " << search_requests.value() << '\n';
  family(out, "sluice_search_errors_total", "counter", "Searches that failed in the store.");
  out << "sluice_search_errors_total " << search_errors.value() << '\n';
  family(out, "sluice_search_partial_total", "counter", "Searches cut short by search.timeout_ms (answered partial).");
  out << "sluice_search_partial_total " << search_partial.value() << '\n';
  family(out, "sluice_search_abandoned_total", "counter",
         "Searches, histograms and field summaries stopped because the client hung up first.");
  out << "sluice_search_abandoned_total " << search_abandoned.value() << '\n';
  family(out, "sluice_tail_clients", "gauge", "Live tail streams open.");
  out << "sluice_tail_clients " << tail_clients.value() << '\n';
  family(out, "sluice_tail_events_sent_total", "counter", "Events sent to live tail streams.");
  out << "sluice_tail_events_sent_total " << tail_events_sent.value() << '\n';
  family(out, "sluice_tail_events_dropped_total", "counter", "Matching events not sent to a tail stream that could not keep up.");
  out << "sluice_tail_events_dropped_total " << tail_events_dropped.value() << '\n';

  family(out, "sluice_http_requests_total", "counter", "HTTP requests, per path (a fixed set of routes) and status code.");
  {
    std::lock_guard lock(http_mutex_);
    for (const auto& [key, count] : http_requests_) {
      out << "sluice_http_requests_total{path=\"" << key.first << "\",code=\"" << key.second
          << "\"} " << count << '\n';
    }
  }

  std::string text = out.str();
  for (const Section& section : sections_) section(text);
  out.str(std::string());
  out << text;

  const ProcessStats process = read_process_stats();
  if (process.ok) {
    char number[64];
    family(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
    std::snprintf(number, sizeof number, "%.2f", process.cpu_seconds);
    out << "process_cpu_seconds_total " << number << '\n';
    family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    std::snprintf(number, sizeof number, "%.0f", process.resident_bytes);
    out << "process_resident_memory_bytes " << number << '\n';
    family(out, "process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.");
    std::snprintf(number, sizeof number, "%.2f", process.start_time_seconds);
    out << "process_start_time_seconds " << number << '\n';
  }
  return out.str();
}

}  // namespace sluice::server
