// Typed options for every module, with their defaults. Modules receive these
// structs, never YAML nodes, so tests build options directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/pipeline_options.h"
#include "server/base/expected.h"

namespace sluice::config {

struct ListenAddress {
  std::string host;  // empty: the listener is disabled
  uint16_t port = 0;
  bool enabled() const { return !host.empty(); }
  std::string to_string() const;
};

// Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (meaning 0.0.0.0); "" is a
// disabled listener.
Expected<ListenAddress> parse_listen_address(std::string_view text);

struct StoreOptions {
  std::string data_dir = "./data";
};

struct IngestOptions {
  // Frames longer than this are truncated and flagged `_truncated`: RFC5425
  // asks receivers to accept at least 2 KiB, and rsyslog's default
  // maxMessageSize is 8 KiB; 64 KiB covers stack traces in one event.
  uint32_t max_message_bytes = 64 * 1024;
  // The ingest queue's size bound. Above it stream inputs stop reading,
  // HTTP answers 429 and UDP drops (counted); below the low watermark
  // (half of it) everything resumes. 16 MiB is 2-4 batches per worker:
  // larger queues measured no faster, only bigger in peak memory.
  uint64_t queue_max_bytes = 16ull << 20;
  // A batch is handed to the workers at whichever limit comes first.
  uint32_t batch_max_events = 4096;
  uint32_t batch_max_bytes = 1u << 20;
  uint32_t batch_max_age_ms = 20;
  // Parse worker threads; 0 means one per core.
  uint32_t workers = 0;
  // Offset applied to syslog timestamps that carry no zone, seconds east of UTC.
  int32_t default_utc_offset_seconds = 0;
  // Open stream connections per listener; more are closed at once and
  // counted. The process raises its file-descriptor limit to fit.
  uint32_t max_connections = 10000;
  // A TLS connection that has not completed its handshake by then is closed.
  uint32_t handshake_timeout_ms = 10000;
};

struct TlsOptions {
  std::string cert_file;       // PEM chain; required when a TLS listener is on
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM CAs to verify client certificates against
  bool require_client_cert = false;
};

struct HttpOptions {
  uint64_t max_body_bytes = 32ull << 20;
};

// Settings shared by every grok processor.
struct GrokDefaults {
  // Directories of pattern files ("NAME regex" lines) that every grok
  // processor loads before its own patterns_dir. Merged into each grok's
  // GrokOptions::patterns_dirs when the file is loaded, so parsers/ sees
  // only the specs.
  std::vector<Located<std::string>> patterns_dirs;
};

struct SearchOptions {
  uint32_t max_results = 10000;
  uint32_t default_limit = 100;
  uint32_t timeout_ms = 10000;
};

struct ServerOptions {
  ListenAddress syslog{"0.0.0.0", 5514};
  ListenAddress http{"0.0.0.0", 8080};
  ListenAddress syslog_tls;  // RFC5425; the usual port is 6514
  ListenAddress relp;        // rsyslog's omrelp; the usual port is 2514
  TlsOptions tls;
  StoreOptions store;
  IngestOptions ingest;
  HttpOptions http_limits;
  SearchOptions search;
  GrokDefaults grok;
  // Tried in order; an event takes the first whose inputs and condition
  // match. Events matching none are stored with their syslog/JSON fields.
  std::vector<PipelineSpec> pipelines;
  // Where the config was read from ("" = built-in defaults); SIGHUP reloads it.
  std::string config_file;
};

// One documented configuration key: drives parsing, validation and `--help`.
struct KeyInfo {
  std::string_view key;  // dotted path, e.g. "ingest.workers"
  std::string_view type;
  std::string_view default_value;
  std::string_view doc;
};
const std::vector<KeyInfo>& config_keys();

// The candidate closest to `word`, for "did you mean" suggestions: at most
// 1 edit away for words up to 4 characters, 2 up to 8, else 3; "" if none.
std::string_view suggest_name(std::string_view word, const std::vector<std::string_view>& candidates);

// Cross-key checks (a TLS listener needs a certificate and key...).
Status validate(const ServerOptions& options);

// Reads a YAML config file over `options` (keys absent from the file keep
// their current value; `pipelines` is replaced whole). Errors read
// "FILE:LINE:COL: message"; when there are several, the message holds one
// per line, in file order.
Status load_config_file(const std::string& path, ServerOptions& options);

// Parses YAML text (named `source_name` in errors) over `options`.
Status load_config_text(std::string_view text, std::string_view source_name,
                        ServerOptions& options);

}  // namespace sluice::config
