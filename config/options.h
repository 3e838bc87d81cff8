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
  // A partition's buffered events become one block at whichever limit comes
  // first. Buffered events are searched too, so these bound memory and
  // crash-replay work, not how soon an event is searchable.
  uint32_t block_max_events = 16384;
  uint64_t block_max_raw_bytes = 4ull << 20;
  // Bound of all day buffers together. Above it, a worker writes blocks
  // before it takes its next batch: the backpressure when block writing
  // falls behind, and the store's memory bound.
  uint64_t max_buffered_bytes = 32ull << 20;
  uint32_t block_max_age_ms = 30000;
  // zstd level of block columns; see docs/ARCHITECTURE.md for the measured trade.
  int32_t zstd_level = 1;
  // "fingerprint" (16-bit fingerprints, ~20 bits per token, 1 false hit in
  // 65,536) or "bloom" (filter_bits_per_key bits per token).
  std::string filter = "fingerprint";
  uint32_t filter_bits_per_key = 10;
  // Block filters kept in memory by searches (read once from disk, then
  // probed in place); above this, the newest blocks' filters are kept.
  uint64_t filter_cache_bytes = 64ull << 20;
  // Fields besides host, app, severity, facility and input that get postings.
  std::vector<std::string> indexed_fields;
  // Partitions whose day ended more than this many days ago are dropped; 0 = never.
  uint32_t retention_days = 30;
  // Above this many bytes of partitions, the oldest are dropped; 0 = no cap.
  uint64_t max_disk_bytes = 0;
  uint32_t retention_check_interval_s = 60;
};

// The raw segment log: every accepted record, before parsing.
struct RawLogConfig {
  // "always": acknowledging inputs (RELP, HTTP) answer after an fsync covers
  // their batch, and the sync thread fsyncs whenever there is unsynced data
  // (group commit). "interval": fsync at most every fsync_interval_ms; acks
  // still wait for it, unacknowledged inputs may lose that long on power loss.
  std::string fsync = "always";
  uint32_t fsync_interval_ms = 1000;
  uint64_t segment_max_bytes = 256ull << 20;
  uint32_t segment_max_age_s = 3600;
  // Closed segments older than this are deleted locally, once indexed and
  // (with an archive) uploaded; 0 = never.
  uint32_t retention_days = 7;
  // Above this many bytes of closed segments, the oldest indexed and archived
  // ones are deleted; 0 = no cap.
  uint64_t max_bytes = 0;
};

// The S3-compatible archive of closed raw segments; off while endpoint is "".
struct ArchiveOptions {
  std::string endpoint;
  std::string bucket;
  std::string prefix = "sluice";
  std::string region = "us-east-1";
  bool path_style = true;
  std::string access_key_id;      // "": AWS_ACCESS_KEY_ID
  std::string secret_access_key;  // "": AWS_SECRET_ACCESS_KEY
  // This server's name in object keys; "": the host name.
  std::string node;
  // Segments waiting for upload beyond this many bytes are reported at risk.
  uint64_t max_pending_bytes = 10ull << 30;
  uint64_t multipart_threshold_bytes = 64ull << 20;
  uint64_t part_size_bytes = 16ull << 20;
  // On SIGTERM, how long the server keeps uploading before it exits.
  uint32_t shutdown_deadline_s = 30;
  bool enabled() const { return !endpoint.empty(); }
};

// How a JSON record (json_tcp, POST /api/ingest) becomes an event. Each
// list is tried in its order: the first key present whose value fits fills
// the event's slot (a later-listed key found first is displaced back into an
// ordinary field). Names of nested values are dotted ("host.name" matches
// {"host":{"name":..}} and a literal "host.name" key alike).
struct JsonMappingOptions {
  std::vector<std::string> message_keys{"message", "msg", "log", "short_message"};
  std::vector<std::string> timestamp_keys{"@timestamp", "timestamp", "time", "ts"};
  // auto: RFC3339 strings, Unix numbers scaled by size (s, ms, us or ns);
  // rfc3339; unix_s, unix_ms, unix_us, unix_ns (numbers or numeric strings);
  // or a strftime-style pattern as the date processor reads ("%d/%b/%Y:%H:%M:%S %z").
  std::string timestamp_format = "auto";
  std::vector<std::string> host_keys{"host", "hostname", "host.name"};
  std::vector<std::string> app_keys{"app", "program", "service", "appname", "service.name"};
  std::vector<std::string> severity_keys{"severity", "level", "log.level"};
  std::vector<std::string> facility_keys{"facility"};
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
  // Field mapping of every JSON input (config keys json.*).
  JsonMappingOptions json;
};

// JSON lines over TCP (listen.json_tcp).
struct JsonTcpOptions {
  // Longer lines are cut, flagged truncated and counted (as syslog frames
  // are); a cut object no longer parses, so it is stored as raw text with
  // the parse-failure flag.
  uint32_t max_line_bytes = 1u << 20;
};

struct TlsOptions {
  std::string cert_file;       // PEM chain; required when a TLS listener is on
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM CAs to verify client certificates against
  bool require_client_cert = false;
};

struct HttpOptions {
  uint64_t max_body_bytes = 32ull << 20;
  // Bound of a gzip/zstd/deflate request body once decompressed: larger
  // answers 413 (a zip bomb costs at most this much memory).
  uint64_t max_decompressed_bytes = 64ull << 20;
};

// GELF (Graylog) inputs: UDP chunk reassembly and message size bounds.
struct GelfOptions {
  // Incomplete chunked UDP messages held at once; over it (or over
  // max_open_bytes) the oldest is evicted and counted. Bounds a chunk storm
  // that never completes, with Graylog's 5 s timeout.
  uint32_t max_open_messages = 1024;
  uint64_t max_open_bytes = 32ull << 20;
  // One GELF message after reassembly and decompression (and one TCP
  // frame): 128 chunks of 8 KiB is 1 MiB; larger is refused and counted (a
  // zip bomb stops here).
  uint32_t max_message_bytes = 1u << 20;
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
  ListenAddress gelf;        // Graylog's GELF over UDP and TCP; the usual port is 12201
  GelfOptions gelf_limits;
  ListenAddress json_tcp;    // JSON lines over TCP; off by default
  JsonTcpOptions json_tcp_limits;
  TlsOptions tls;
  StoreOptions store;
  RawLogConfig raw;
  ArchiveOptions archive;
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
