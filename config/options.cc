#include "config/options.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <sstream>

namespace sluice::config {

// Defined in config/pipeline_options.cc. Reports each error, already
// positioned ("FILE:LINE:COL: message"), into `errors`.
void read_pipelines(const YAML::Node& value, std::string_view source, std::vector<PipelineSpec>& out,
                    std::vector<std::string>& errors);

namespace {

// Converts a scalar node; the error names what was expected.
template <typename Int>
Status read_int(const YAML::Node& node, Int& out) {
  if (!node.IsScalar()) return Status::error("expected an integer");
  const std::string& text = node.Scalar();
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Status::error("expected an integer, got '" + text + "'");
  }
  if (value < static_cast<long long>(std::numeric_limits<Int>::min()) ||
      static_cast<unsigned long long>(value) > std::numeric_limits<Int>::max()) {
    return Status::error("value " + text + " is out of range");
  }
  out = static_cast<Int>(value);
  return Status::ok();
}

Status read_string(const YAML::Node& node, std::string& out) {
  if (!node.IsScalar()) return Status::error("expected a string");
  out = node.Scalar();
  return Status::ok();
}

Status read_bool(const YAML::Node& node, bool& out) {
  if (!node.IsScalar()) return Status::error("expected true or false");
  const std::string& text = node.Scalar();
  if (text == "true" || text == "yes" || text == "on") {
    out = true;
  } else if (text == "false" || text == "no" || text == "off") {
    out = false;
  } else {
    return Status::error("expected true or false, got '" + text + "'");
  }
  return Status::ok();
}

Status read_string_list(const YAML::Node& node, std::vector<std::string>& out) {
  if (!node.IsSequence()) return Status::error("expected a list of strings");
  out.clear();
  for (const auto& element : node) {
    if (!element.IsScalar() || element.Scalar().empty()) return Status::error("expected a list of strings");
    out.push_back(element.Scalar());
  }
  return Status::ok();
}

Status read_choice(const YAML::Node& node, std::initializer_list<std::string_view> choices, std::string& out) {
  if (!node.IsScalar()) return Status::error("expected a string");
  for (std::string_view choice : choices) {
    if (node.Scalar() == choice) {
      out = node.Scalar();
      return Status::ok();
    }
  }
  std::string expected;
  for (std::string_view choice : choices) expected += (expected.empty() ? "" : " or ") + std::string(choice);
  return Status::error("expected " + expected + ", got '" + node.Scalar() + "'");
}

Status read_address(const YAML::Node& node, ListenAddress& out) {
  if (!node.IsScalar()) return Status::error("expected HOST:PORT");
  auto parsed = parse_listen_address(node.Scalar());
  if (!parsed) return parsed.error();
  out = std::move(parsed.value());
  return Status::ok();
}

std::string position_of(std::string_view source, const YAML::Mark& mark) {
  std::ostringstream out;
  out << source << ":" << mark.line + 1 << ":" << mark.column + 1;
  return out.str();
}

// Values that parsers/ compiles later keep their Position, so their readers
// see the source name and report their own positioned errors.
using ApplyLocated = void (*)(const YAML::Node& value, std::string_view source, ServerOptions&,
                              std::vector<std::string>& errors);

void read_grok_patterns_dirs(const YAML::Node& value, std::string_view source, ServerOptions& options,
                             std::vector<std::string>& errors) {
  options.grok.patterns_dirs.clear();
  if (value.IsNull()) return;
  if (!value.IsSequence()) {
    errors.push_back(position_of(source, value.Mark()) + ": grok.patterns_dir: expected a list of strings");
    return;
  }
  for (const auto& element : value) {
    if (!element.IsScalar() || element.Scalar().empty()) {
      errors.push_back(position_of(source, element.Mark()) + ": grok.patterns_dir: expected a list of strings");
      continue;
    }
    const YAML::Mark mark = element.Mark();
    options.grok.patterns_dirs.push_back({element.Scalar(), {std::string(source), mark.line + 1, mark.column + 1}});
  }
}

struct KeyEntry {
  KeyInfo info;
  Status (*apply)(const YAML::Node&, ServerOptions&);  // null when apply_located is set
  ApplyLocated apply_located = nullptr;
};

// The one table of configuration keys. config/sluice.yaml documents each.
const std::vector<KeyEntry>& key_table() {
  static const std::vector<KeyEntry> kTable = {
      {{"data_dir", "path", "./data", "Directory of the store; created if missing."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string(n, o.store.data_dir); }},
      {{"store.block_max_events", "integer", "16384", "Events of one partition per block."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.store.block_max_events); }},
      {{"store.max_buffered_bytes", "bytes", "33554432", "Bound of events buffered in memory before blocks."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.store.max_buffered_bytes); }},
      {{"store.block_max_raw_bytes", "bytes", "4194304", "Raw bytes of one partition per block."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.store.block_max_raw_bytes); }},
      {{"store.block_max_age_ms", "milliseconds", "30000", "Longest an event waits in memory for its block."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.store.block_max_age_ms); }},
      {{"store.zstd_level", "integer", "1", "zstd level of block columns (1-19)."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.store.zstd_level); }},
      {{"store.filter", "fingerprint|bloom", "fingerprint", "Kind of block filters (see below)."},
       [](const YAML::Node& n, ServerOptions& o) { return read_choice(n, {"fingerprint", "bloom"}, o.store.filter); }},
      {{"store.filter_bits_per_key", "integer", "10", "Bits per token of Bloom block filters (~1% false hits)."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.store.filter_bits_per_key); }},
      {{"store.filter_cache_bytes", "bytes", "67108864", "Block filters searches keep in memory (the newest blocks')."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.store.filter_cache_bytes); }},
      {{"store.indexed_fields", "list of names", "[]", "Fields with postings, besides host, app, severity, facility, input."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string_list(n, o.store.indexed_fields); }},
      {{"store.retention_days", "integer", "30", "Partitions older than this are dropped; 0 = never."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.store.retention_days); }},
      {{"store.max_disk_bytes", "bytes", "0", "Above this, the oldest partitions are dropped; 0 = no cap."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.store.max_disk_bytes); }},
      {{"store.retention_check_interval_s", "seconds", "60", "How often retention is checked."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.store.retention_check_interval_s); }},
      {{"raw.fsync", "always|interval", "always", "When the raw log is fsynced (see below)."},
       [](const YAML::Node& n, ServerOptions& o) { return read_choice(n, {"always", "interval"}, o.raw.fsync); }},
      {{"raw.fsync_interval_ms", "milliseconds", "1000", "With fsync: interval, the longest between fsyncs."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.raw.fsync_interval_ms); }},
      {{"raw.segment_max_bytes", "bytes", "268435456", "A raw segment is closed at this size."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.raw.segment_max_bytes); }},
      {{"raw.segment_max_age_s", "seconds", "3600", "A raw segment is closed at this age."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.raw.segment_max_age_s); }},
      {{"raw.retention_days", "integer", "7", "Closed segments kept locally this long; 0 = forever."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.raw.retention_days); }},
      {{"raw.max_bytes", "bytes", "0", "Cap on local closed segments; 0 = no cap."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.raw.max_bytes); }},
      {{"archive.endpoint", "url", "\"\"", "S3-compatible endpoint URL; \"\" = no archive."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string(n, o.archive.endpoint); }},
      {{"archive.bucket", "string", "\"\"", "Bucket of the archive."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string(n, o.archive.bucket); }},
      {{"archive.prefix", "string", "sluice", "Key prefix of every archived object."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string(n, o.archive.prefix); }},
      {{"archive.region", "string", "us-east-1", "Region used in request signatures."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string(n, o.archive.region); }},
      {{"archive.path_style", "bool", "true", "Path-style URLs; false = virtual-host style."},
       [](const YAML::Node& n, ServerOptions& o) { return read_bool(n, o.archive.path_style); }},
      {{"archive.access_key_id", "string", "\"\"", "\"\" = AWS_ACCESS_KEY_ID."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string(n, o.archive.access_key_id); }},
      {{"archive.secret_access_key", "string", "\"\"", "\"\" = AWS_SECRET_ACCESS_KEY."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string(n, o.archive.secret_access_key); }},
      {{"archive.node", "string", "\"\"", "This server's name in object keys; \"\" = host name."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string(n, o.archive.node); }},
      {{"archive.max_pending_bytes", "bytes", "10737418240", "Waiting segments above this are at risk."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.archive.max_pending_bytes); }},
      {{"archive.multipart_threshold_bytes", "bytes", "67108864", "Larger segments upload in parts."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.archive.multipart_threshold_bytes); }},
      {{"archive.part_size_bytes", "bytes", "16777216", "Size of one multipart part (>= 5 MiB)."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.archive.part_size_bytes); }},
      {{"archive.shutdown_deadline_s", "seconds", "30", "On SIGTERM, the longest spent uploading."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.archive.shutdown_deadline_s); }},
      {{"listen.syslog", "address", "0.0.0.0:5514", "Syslog over TCP and UDP on this address."},
       [](const YAML::Node& n, ServerOptions& o) { return read_address(n, o.syslog); }},
      {{"listen.http", "address", "0.0.0.0:8080", "HTTP API, web viewer and /metrics."},
       [](const YAML::Node& n, ServerOptions& o) { return read_address(n, o.http); }},
      {{"listen.syslog_tls", "address", "\"\"", "Syslog over TLS (RFC5425); \"\" = off."},
       [](const YAML::Node& n, ServerOptions& o) { return read_address(n, o.syslog_tls); }},
      {{"listen.relp", "address", "\"\"", "RELP (rsyslog omrelp); \"\" = off."},
       [](const YAML::Node& n, ServerOptions& o) { return read_address(n, o.relp); }},
      {{"listen.gelf", "address", "\"\"", "GELF (Graylog) over UDP and TCP; \"\" = off."},
       [](const YAML::Node& n, ServerOptions& o) { return read_address(n, o.gelf); }},
      {{"listen.json_tcp", "address", "\"\"", "JSON lines over TCP; \"\" = off."},
       [](const YAML::Node& n, ServerOptions& o) { return read_address(n, o.json_tcp); }},
      {{"json_tcp.max_line_bytes", "bytes", "1048576", "Longer JSON lines are cut, flagged and counted."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.json_tcp_limits.max_line_bytes); }},
      {{"json.message_keys", "list of names", "[message, msg, log, short_message]",
        "Keys of the message, in priority order."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string_list(n, o.ingest.json.message_keys); }},
      {{"json.timestamp_keys", "list of names", "[\"@timestamp\", timestamp, time, ts]",
        "Keys of the event time, in priority order."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string_list(n, o.ingest.json.timestamp_keys); }},
      {{"json.timestamp_format", "string", "auto",
        "auto, rfc3339, unix_s, unix_ms, unix_us, unix_ns or a strftime-style pattern."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string(n, o.ingest.json.timestamp_format); }},
      {{"json.host_keys", "list of names", "[host, hostname, host.name]", "Keys of the host."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string_list(n, o.ingest.json.host_keys); }},
      {{"json.app_keys", "list of names", "[app, program, service, appname, service.name]", "Keys of the app."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string_list(n, o.ingest.json.app_keys); }},
      {{"json.severity_keys", "list of names", "[severity, level, log.level]", "Keys of the severity."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string_list(n, o.ingest.json.severity_keys); }},
      {{"json.facility_keys", "list of names", "[facility]", "Keys of the syslog facility."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string_list(n, o.ingest.json.facility_keys); }},
      {{"tls.cert_file", "path", "\"\"", "PEM certificate chain of the TLS listener."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string(n, o.tls.cert_file); }},
      {{"tls.key_file", "path", "\"\"", "PEM private key of the TLS listener."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string(n, o.tls.key_file); }},
      {{"tls.client_ca_file", "path", "\"\"", "PEM CAs for client certificates; \"\" = none asked."},
       [](const YAML::Node& n, ServerOptions& o) { return read_string(n, o.tls.client_ca_file); }},
      {{"tls.require_client_cert", "bool", "false", "Refuse clients without a valid certificate."},
       [](const YAML::Node& n, ServerOptions& o) { return read_bool(n, o.tls.require_client_cert); }},
      {{"ingest.workers", "integer", "0", "Parse worker threads; 0 = one per core."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.ingest.workers); }},
      {{"ingest.max_message_bytes", "bytes", "65536", "Longer messages are truncated and flagged."},
       [](const YAML::Node& n, ServerOptions& o) {
         return read_int(n, o.ingest.max_message_bytes);
       }},
      {{"ingest.queue_max_bytes", "bytes", "16777216", "Bound of the ingest queue (backpressure)."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.ingest.queue_max_bytes); }},
      {{"ingest.batch_max_events", "integer", "4096", "Events per batch handed to the workers."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.ingest.batch_max_events); }},
      {{"ingest.batch_max_bytes", "bytes", "1048576", "Bytes per batch handed to the workers."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.ingest.batch_max_bytes); }},
      {{"ingest.batch_max_age_ms", "milliseconds", "20", "Longest a received message waits to be batched."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.ingest.batch_max_age_ms); }},
      {{"ingest.max_connections", "integer", "10000", "Open stream connections per listener."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.ingest.max_connections); }},
      {{"ingest.handshake_timeout_ms", "milliseconds", "10000", "Deadline of a TLS handshake."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.ingest.handshake_timeout_ms); }},
      {{"ingest.default_utc_offset_seconds", "seconds", "0", "Zone of syslog timestamps without one."},
       [](const YAML::Node& n, ServerOptions& o) {
         return read_int(n, o.ingest.default_utc_offset_seconds);
       }},
      {{"http.max_body_bytes", "bytes", "33554432", "Larger request bodies get 413."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.http_limits.max_body_bytes); }},
      {{"http.max_decompressed_bytes", "bytes", "67108864", "Larger bodies once decompressed get 413."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.http_limits.max_decompressed_bytes); }},
      {{"gelf.max_open_messages", "integer", "1024", "Incomplete chunked GELF messages held at once."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.gelf_limits.max_open_messages); }},
      {{"gelf.max_open_bytes", "bytes", "33554432", "Bytes of chunks held for incomplete GELF messages."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.gelf_limits.max_open_bytes); }},
      {{"gelf.max_message_bytes", "bytes", "1048576", "One GELF message, reassembled and decompressed."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.gelf_limits.max_message_bytes); }},
      {{"search.max_results", "integer", "10000", "Cap on `limit` of one search."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.search.max_results); }},
      {{"search.default_limit", "integer", "100", "Results of a search that names no limit."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.search.default_limit); }},
      {{"search.timeout_ms", "milliseconds", "10000", "A search past this returns partial results."},
       [](const YAML::Node& n, ServerOptions& o) { return read_int(n, o.search.timeout_ms); }},
      {{"grok.patterns_dir", "list of paths", "[]",
        "Pattern file directories every grok processor loads before its own."},
       nullptr, &read_grok_patterns_dirs},
      {{"pipelines", "list", "[]", "Processing pipelines (grok, kv, json, date, mutate, drop); see below."},
       nullptr,
       [](const YAML::Node& n, std::string_view source, ServerOptions& o, std::vector<std::string>& errors) {
         read_pipelines(n, source, o.pipelines, errors);
       }},
  };
  return kTable;
}

// Closest known key, for "did you mean" suggestions.
std::string_view suggest_key(std::string_view key) {
  std::vector<std::string_view> keys;
  for (const auto& entry : key_table()) keys.push_back(entry.info.key);
  return suggest_name(key, keys);
}

// Applies every key of `node`, collecting one positioned error per bad key.
void apply_mapping(const YAML::Node& node, const std::string& prefix, std::string_view source,
                   ServerOptions& options, std::vector<std::string>& errors) {
  std::vector<std::string> seen;
  for (const auto& item : node) {
    if (!item.first.IsScalar()) {
      errors.push_back(position_of(source, item.first.Mark()) + ": keys must be strings");
      continue;
    }
    const std::string key = prefix + item.first.Scalar();
    const YAML::Node& value = item.second;
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      errors.push_back(position_of(source, item.first.Mark()) + ": duplicate key '" + key + "'");
      continue;
    }
    seen.push_back(key);
    const KeyEntry* entry = nullptr;
    bool is_section = false;
    for (const auto& candidate : key_table()) {
      if (candidate.info.key == key) entry = &candidate;
      if (candidate.info.key.size() > key.size() && candidate.info.key.starts_with(key + ".")) {
        is_section = true;
      }
    }
    if (entry != nullptr && entry->apply_located != nullptr) {
      entry->apply_located(value, source, options, errors);
    } else if (entry != nullptr) {
      Status status = entry->apply(value, options);
      if (!status) {
        // yaml-cpp marks a null value (`key:` and nothing) where the next token is.
        const YAML::Mark mark = value.IsNull() ? item.first.Mark() : value.Mark();
        errors.push_back(position_of(source, mark) + ": " + key + ": " + status.message());
      }
    } else if (is_section && value.IsMap()) {
      apply_mapping(value, key + ".", source, options, errors);
    } else if (is_section && value.IsNull()) {
      // `grok:` with nothing under it sets nothing.
    } else {
      std::string message = position_of(source, item.first.Mark()) + ": unknown key '" + key + "'";
      std::string_view suggestion = suggest_key(key);
      if (!suggestion.empty()) message += " (did you mean '" + std::string(suggestion) + "'?)";
      errors.push_back(std::move(message));
    }
  }
}

// Gives every grok processor the global grok.patterns_dir first, skipping
// directories it already names (so loading twice adds nothing).
void merge_grok_defaults(ServerOptions& options) {
  if (options.grok.patterns_dirs.empty()) return;
  for (PipelineSpec& pipeline : options.pipelines) {
    for (ProcessorSpec& processor : pipeline.processors) {
      if (processor.kind != "grok") continue;
      auto& dirs = processor.grok.patterns_dirs;
      std::vector<Located<std::string>> merged;
      for (const auto& dir : options.grok.patterns_dirs) {
        bool listed = std::any_of(dirs.begin(), dirs.end(), [&](const auto& d) { return d.value == dir.value; });
        if (!listed) merged.push_back(dir);
      }
      merged.insert(merged.end(), dirs.begin(), dirs.end());
      dirs = std::move(merged);
    }
  }
}

}  // namespace

std::string ListenAddress::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Expected<ListenAddress> parse_listen_address(std::string_view text) {
  if (text.empty()) return ListenAddress();
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::error("address '" + std::string(text) + "' is not HOST:PORT");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return Status::error("address '" + std::string(text) + "': write IPv6 hosts as [ADDR]:PORT");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return Status::error("address '" + std::string(text) + "' has no valid port");
  }
  ListenAddress address;
  address.host = host.empty() ? "0.0.0.0" : std::string(host);
  address.port = static_cast<uint16_t>(port);
  return address;
}

Status validate(const ServerOptions& options) {
  if (options.syslog_tls.enabled() && (options.tls.cert_file.empty() || options.tls.key_file.empty())) {
    return Status::error("listen.syslog_tls needs tls.cert_file and tls.key_file (--tls-cert, --tls-key)");
  }
  if (options.tls.require_client_cert && options.tls.client_ca_file.empty()) {
    return Status::error("tls.require_client_cert needs tls.client_ca_file (--tls-client-ca)");
  }
  if (options.ingest.max_message_bytes == 0) return Status::error("ingest.max_message_bytes must be positive");
  if (options.ingest.max_connections == 0) return Status::error("ingest.max_connections must be positive");
  if (options.gelf_limits.max_open_messages == 0 || options.gelf_limits.max_message_bytes == 0 ||
      options.gelf_limits.max_open_bytes < options.gelf_limits.max_message_bytes) {
    return Status::error("gelf.max_open_messages and gelf.max_message_bytes must be positive, and "
                         "gelf.max_open_bytes at least gelf.max_message_bytes");
  }
  if (options.json_tcp_limits.max_line_bytes == 0) return Status::error("json_tcp.max_line_bytes must be positive");
  if (options.http_limits.max_decompressed_bytes == 0) {
    return Status::error("http.max_decompressed_bytes must be positive");
  }
  const std::string& format = options.ingest.json.timestamp_format;
  if (format != "auto" && format != "rfc3339" && format != "unix_s" && format != "unix_ms" &&
      format != "unix_us" && format != "unix_ns" && format.find('%') == std::string::npos) {
    return Status::error("json.timestamp_format: expected auto, rfc3339, unix_s, unix_ms, unix_us, unix_ns "
                         "or a pattern with % directives, got '" + format + "'");
  }
  const StoreOptions& store = options.store;
  if (store.block_max_events == 0 || store.block_max_raw_bytes == 0 || store.max_buffered_bytes == 0) {
    return Status::error("store.block_max_events, store.block_max_raw_bytes and store.max_buffered_bytes must be positive");
  }
  if (store.zstd_level < 1 || store.zstd_level > 19) return Status::error("store.zstd_level must be 1 to 19");
  if (store.filter_bits_per_key == 0 || store.filter_bits_per_key > 64) {
    return Status::error("store.filter_bits_per_key must be 1 to 64");
  }
  if (store.retention_check_interval_s == 0) return Status::error("store.retention_check_interval_s must be positive");
  if (options.raw.segment_max_bytes < (1u << 20)) return Status::error("raw.segment_max_bytes must be at least 1 MiB");
  if (options.raw.segment_max_age_s == 0) return Status::error("raw.segment_max_age_s must be positive");
  if (options.raw.fsync_interval_ms == 0) return Status::error("raw.fsync_interval_ms must be positive");
  const ArchiveOptions& archive = options.archive;
  if (archive.enabled()) {
    if (!archive.endpoint.starts_with("http://") && !archive.endpoint.starts_with("https://")) {
      return Status::error("archive.endpoint must start with http:// or https://, got '" + archive.endpoint + "'");
    }
    if (archive.bucket.empty()) return Status::error("archive.endpoint is set but archive.bucket is empty");
    if (archive.part_size_bytes < (5u << 20)) return Status::error("archive.part_size_bytes must be at least 5 MiB (S3's minimum)");
    if (archive.multipart_threshold_bytes < archive.part_size_bytes) {
      return Status::error("archive.multipart_threshold_bytes must be at least archive.part_size_bytes");
    }
  }
  return Status::ok();
}

std::string_view suggest_name(std::string_view word, const std::vector<std::string_view>& candidates) {
  // Edit distance counting a swap of neighbours as one edit ("nmae"), the
  // commonest typo (optimal string alignment).
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      for (size_t j = 1; j <= b.size(); ++j) {
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.size()][b.size()];
  };
  // Short words are close to too much: 'csv' is two edits from 'kv'.
  const size_t limit = word.size() <= 4 ? 1 : word.size() <= 8 ? 2 : 3;
  std::string_view best;
  size_t best_distance = limit + 1;
  for (std::string_view candidate : candidates) {
    size_t d = distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

const std::vector<KeyInfo>& config_keys() {
  static const std::vector<KeyInfo> kKeys = [] {
    std::vector<KeyInfo> keys;
    for (const auto& entry : key_table()) keys.push_back(entry.info);
    return keys;
  }();
  return kKeys;
}

Status load_config_text(std::string_view text, std::string_view source_name,
                        ServerOptions& options) {
  // yaml-cpp reports errors by exception; this adapter is the only place
  // they are caught.
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (root.IsNull()) return Status::ok();  // an empty file sets nothing
    if (!root.IsMap()) {
      return Status::error(position_of(source_name, root.Mark()) + ": expected a mapping of keys");
    }
    std::vector<std::string> errors;
    apply_mapping(root, "", source_name, options, errors);
    if (!errors.empty()) {
      std::string message;
      for (const std::string& error : errors) {
        if (!message.empty()) message += "\n";
        message += error;
      }
      return Status::error(std::move(message));
    }
    merge_grok_defaults(options);
    return Status::ok();
  } catch (const YAML::Exception& e) {
    return Status::error(position_of(source_name, e.mark) + ": " + e.msg);
  }
}

Status load_config_file(const std::string& path, ServerOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("config " + path + ": cannot open file");
  std::ostringstream content;
  content << in.rdbuf();
  return load_config_text(content.str(), path, options);
}

}  // namespace sluice::config
