#include "server/cli.h"

#include <charconv>
#include <filesystem>
#include <limits>
#include <optional>
#include <cstdio>
#include <string_view>

#include <unistd.h>

#include <iostream>
#include <iterator>

#include "parsers/pipeline.h"
#include "server/base/clock.h"
#include "server/base/time_format.h"
#include "server/grok_debugger.h"
#include "server/reindex.h"
#include "server/search_cli.h"
#include "server/server.h"
#include "storage/segment_archive.h"

namespace sluice::server {
namespace {

constexpr const char* kUsage =
    "sluice - one-binary log aggregation: syslog and JSON in, search out\n"
    "\n"
    "Usage:\n"
    "  sluice serve [flags]    receive, store and serve logs (runs until SIGTERM/SIGINT)\n"
    "  sluice check-config FILE\n"
    "                          validate a config file as serve --config would, pipelines\n"
    "                          included: prints \"FILE: ok\" (exit 0) or one\n"
    "                          \"FILE:LINE:COL: message\" line per error (exit 1)\n"
    "  sluice grok 'PATTERN' < LINES\n"
    "                          grok debugger: prints, per input line, a JSON object with\n"
    "                          the fields PATTERN extracts or \"matched\":false\n"
    "  sluice reindex [--config FILE] [--data DIR] [--from TIME --to TIME]\n"
    "                 [--source DIR | --archive] [--metrics-file FILE]\n"
    "                          rebuild the store's day partitions from raw segments with\n"
    "                          the current pipelines (server stopped); default source\n"
    "                          DATA/raw, --archive: the S3 archive's segments of the range;\n"
    "                          default range the days the segments span;\n"
    "                          progress as a bar on a terminal, and in FILE in the\n"
    "                          Prometheus text format (node_exporter's textfile collector)\n"
    "  sluice archive ls [--config FILE] [--from TIME --to TIME]\n"
    "                          list the segments in the S3 archive (archive.* settings)\n"
    "  sluice archive restore --from TIME --to TIME [--config FILE] [--dir DIR]\n"
    "                          download the archived segments overlapping the range into\n"
    "                          DIR (default DATA/restore), checked against their sha256;\n"
    "                          then: sluice reindex --source DIR\n"
    "  sluice search 'QUERY' [--from TIME] [--to TIME] [--limit N] [--json] [--server URL]\n"
    "                          the newest N (default 100) matches from a running server\n"
    "                          (default http://127.0.0.1:8080, or $SLUICE_URL), printed\n"
    "                          oldest first: TIME HOST APP[SEVERITY]: MESSAGE; --json: one\n"
    "                          API event object per line. Exit 2 on a query syntax error\n"
    "  sluice tail 'QUERY' [--json] [--server URL]\n"
    "                          follow new matching events (GET /api/tail) until interrupted\n"
    "  sluice version          print the version\n"
    "  sluice help             this text\n"
    "\n"
    "Flags of serve (each overrides the config file):\n"
    "  --config FILE       YAML config file (see config/sluice.yaml); without it the\n"
    "                      built-in defaults apply\n"
    "  --data DIR          data directory (default ./data)\n"
    "  --syslog HOST:PORT  syslog over TCP and UDP (default 0.0.0.0:5514)\n"
    "  --http HOST:PORT    web viewer, HTTP API and /metrics (default 0.0.0.0:8080)\n"
    "  --syslog-tls HOST:PORT\n"
    "                      syslog over TLS, RFC5425 (off by default; usual port 6514);\n"
    "                      needs --tls-cert and --tls-key\n"
    "  --relp HOST:PORT    RELP for rsyslog's omrelp (off by default; usual port 2514)\n"
    "  --json-tcp HOST:PORT\n"
    "                      JSON lines over TCP, one object per line (off by default)\n"
    "  --gelf HOST:PORT    GELF (Graylog) over UDP and TCP (off by default; usual\n"
    "                      port 12201); POST /gelf on --http is always on\n"
    "  --tls-cert FILE     PEM certificate chain of the TLS listener\n"
    "  --tls-key FILE      PEM private key of the TLS listener\n"
    "  --tls-client-ca FILE\n"
    "                      PEM CAs to verify client certificates against\n"
    "  --tls-require-client-cert\n"
    "                      refuse TLS clients without a valid certificate\n"
    "  --workers N         parse worker threads (default: one per core)\n"
    "  -h, --help          this text\n"
    "\n"
    "IPv6 addresses are written [ADDR]:PORT. Open http://HOST:PORT/ for the viewer.\n"
    "TIME is RFC3339 (2026-11-22T10:00:00Z), a date (2026-11-22, midnight UTC) or\n"
    "relative to now (now-2h, now-7d; units s m h d).\n";

Status flag_error(const std::string& message) {
  return Status::error(message + " (see 'sluice serve --help')");
}

// Prints each line of `message` (config errors come one per line) to stderr.
void print_lines(std::string_view prefix, std::string_view message) {
  while (!message.empty()) {
    const size_t end = message.find('\n');
    const std::string_view line = message.substr(0, end);
    std::fprintf(stderr, "%.*s%.*s\n", static_cast<int>(prefix.size()), prefix.data(),
                 static_cast<int>(line.size()), line.data());
    if (end == std::string_view::npos) break;
    message.remove_prefix(end + 1);
  }
}

// `sluice check-config FILE`: the same load as `serve --config FILE`, then
// the checks run_server makes before it starts anything.
int run_check_config(const std::vector<std::string>& args) {
  if (args.size() == 1 && (args[0] == "-h" || args[0] == "--help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args.size() != 1 || args[0].empty() || args[0][0] == '-') {
    std::fprintf(stderr, "sluice: check-config needs exactly one FILE (see 'sluice help')\n");
    return 2;
  }
  const std::string& path = args[0];
  auto command = parse_serve_flags({"--config", path});
  if (!command) {
    print_lines("", command.error().message());
    return 1;
  }
  const std::vector<std::string> errors = check_config(command->options);
  if (!errors.empty()) {
    for (const std::string& error : errors) print_lines("", error);
    return 1;
  }
  std::printf("%s: ok\n", path.c_str());
  return 0;
}

// RFC3339, a bare date, or now-N[smhd].
std::optional<int64_t> parse_time_arg(std::string_view text) {
  if (text == "now") return wall_now_ns();
  if (text.starts_with("now-") && text.size() > 5) {
    int64_t amount = 0;
    auto [end, ec] = std::from_chars(text.data() + 4, text.data() + text.size() - 1, amount);
    if (ec != std::errc() || end != text.data() + text.size() - 1) return std::nullopt;
    int64_t unit = 0;
    switch (text.back()) {
      case 's': unit = 1000000000LL; break;
      case 'm': unit = 60 * 1000000000LL; break;
      case 'h': unit = 3600 * 1000000000LL; break;
      case 'd': unit = kNanosPerDay; break;
      default: return std::nullopt;
    }
    return wall_now_ns() - amount * unit;
  }
  if (text.size() == 10) return parse_rfc3339(std::string(text) + "T00:00:00Z");
  return parse_rfc3339(text);
}

// Flags shared by reindex and archive: --config and --data first (the
// config file is read before flags override it), then the command's own.
struct OfflineCommand {
  config::ServerOptions options;
  int64_t from_ns = 0, to_ns = 0;
  std::string source_dir, restore_dir, metrics_file;
  bool from_archive = false;
};

Expected<OfflineCommand> parse_offline_flags(const std::vector<std::string>& flags, bool allow_source,
                                             bool allow_dir) {
  OfflineCommand command;
  for (size_t i = 0; i + 1 < flags.size(); ++i) {
    if (flags[i] == "--config") {
      Status loaded = config::load_config_file(flags[i + 1], command.options);
      if (!loaded) return loaded;
      command.options.config_file = flags[i + 1];
    }
  }
  for (size_t i = 0; i < flags.size(); ++i) {
    const std::string& flag = flags[i];
    if (allow_source && flag == "--archive") {
      command.from_archive = true;
      continue;
    }
    const bool known = flag == "--config" || flag == "--data" || flag == "--from" || flag == "--to" ||
                       (allow_source && (flag == "--source" || flag == "--metrics-file")) ||
                       (allow_dir && flag == "--dir");
    if (!known) return Status::error("unknown flag '" + flag + "' (see 'sluice help')");
    if (i + 1 >= flags.size()) return Status::error(flag + " needs a value");
    const std::string& value = flags[++i];
    if (flag == "--data") command.options.store.data_dir = value;
    if (flag == "--source") command.source_dir = value;
    if (flag == "--dir") command.restore_dir = value;
    if (flag == "--metrics-file") command.metrics_file = value;
    if (flag == "--from" || flag == "--to") {
      auto time = parse_time_arg(value);
      if (!time) return Status::error(flag + ": '" + value + "' is not RFC3339, YYYY-MM-DD or now-N[smhd]");
      (flag == "--from" ? command.from_ns : command.to_ns) = *time;
    }
  }
  if ((command.from_ns == 0) != (command.to_ns == 0)) return Status::error("give both --from and --to, or neither");
  if (command.from_ns > command.to_ns) return Status::error("--from is after --to");
  if (Status valid = config::validate(command.options); !valid) return valid;
  return command;
}

std::string format_time(int64_t ns) {
  char text[40];
  const size_t length = format_rfc3339_ns(ns, text);
  return std::string(text, length);
}

// Progress in the Prometheus text format, for node_exporter's textfile
// collector (the usual way a batch job reaches Prometheus): written to a
// temporary file and renamed, so a scrape never reads half of it.
void write_reindex_metrics(const std::string& path, const ReindexProgress& p, bool running) {
  std::string text;
  auto metric = [&](const char* name, const char* type, const char* help, uint64_t value) {
    text += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
            std::to_string(value) + "\n";
  };
  metric("sluice_reindex_running", "gauge", "1 while sluice reindex runs.", running ? 1 : 0);
  metric("sluice_reindex_segments", "gauge", "Raw segments this reindex reads.", p.segments_total);
  metric("sluice_reindex_segments_done", "gauge", "Raw segments read so far.", p.segments_done);
  metric("sluice_reindex_bytes", "gauge", "Bytes of raw segments this reindex reads.", p.bytes_total);
  metric("sluice_reindex_bytes_done", "gauge", "Bytes of raw segments read so far.", p.bytes_done);
  metric("sluice_reindex_events", "gauge", "Events stored so far.", p.events);
  const std::string temporary = path + ".tmp";
  if (FILE* out = std::fopen(temporary.c_str(), "w")) {
    std::fwrite(text.data(), 1, text.size(), out);
    std::fclose(out);
    std::rename(temporary.c_str(), path.c_str());
  }
}

int run_reindex(const std::vector<std::string>& args) {
  auto command = parse_offline_flags(args, /*allow_source=*/true, /*allow_dir=*/false);
  if (!command) {
    print_lines("sluice: reindex: ", command.error().message());
    return 2;
  }
  if (command->from_archive && !command->source_dir.empty()) {
    std::fprintf(stderr, "sluice: reindex: give --archive or --source, not both\n");
    return 2;
  }
  // From the archive: the segments of the range are restored into a
  // temporary directory first, then read like a local --source.
  std::string restored_dir;
  if (command->from_archive) {
    if (!command->options.archive.enabled()) {
      std::fprintf(stderr, "sluice: reindex --archive: no archive configured (archive.endpoint)\n");
      return 2;
    }
    restored_dir = command->options.store.data_dir + "/reindex-restore";
    std::error_code ignored;
    std::filesystem::remove_all(restored_dir, ignored);
    const int64_t from = command->to_ns != 0 ? command->from_ns : std::numeric_limits<int64_t>::min();
    const int64_t to = command->to_ns != 0 ? command->to_ns : std::numeric_limits<int64_t>::max();
    auto restored = storage::restore_archive(command->options.archive, from, to, restored_dir,
                                             [](size_t done, size_t total) {
                                               std::fprintf(stderr, "restore: %zu/%zu segments\n", done, total);
                                             });
    if (!restored) {
      print_lines("sluice: reindex --archive: ", restored.error().message());
      return 1;
    }
    command->source_dir = restored_dir;
  }
  const bool terminal = isatty(STDERR_FILENO) == 1;
  ReindexRequest request{command->source_dir, command->from_ns, command->to_ns};
  const std::string metrics_file = command->metrics_file;
  auto done = reindex(command->options, request, [terminal, &metrics_file](const ReindexProgress& p) {
    if (!metrics_file.empty()) write_reindex_metrics(metrics_file, p, true);
    const double fraction = p.bytes_total == 0 ? 1.0 : static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total);
    if (terminal) {
      constexpr int kWidth = 30;
      const int filled = static_cast<int>(fraction * kWidth);
      std::fprintf(stderr, "\rreindex [%.*s%*s] %3.0f%%  %llu/%llu segments  %llu events", filled,
                   "##############################", kWidth - filled, "", fraction * 100,
                   static_cast<unsigned long long>(p.segments_done), static_cast<unsigned long long>(p.segments_total),
                   static_cast<unsigned long long>(p.events));
    } else {
      std::fprintf(stderr, "reindex: %llu/%llu segments, %llu events\n",
                   static_cast<unsigned long long>(p.segments_done), static_cast<unsigned long long>(p.segments_total),
                   static_cast<unsigned long long>(p.events));
    }
  });
  if (terminal) std::fputc('\n', stderr);
  if (!done) {
    print_lines("sluice: ", done.error().message());
    return 1;
  }
  if (!metrics_file.empty()) write_reindex_metrics(metrics_file, *done, false);
  if (!restored_dir.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(restored_dir, ignored);
  }
  std::printf("reindexed %llu events from %llu segments into days %s to %s (%llu events outside the range left alone)\n",
              static_cast<unsigned long long>(done->events), static_cast<unsigned long long>(done->segments_done),
              format_time(done->first_day * kNanosPerDay).substr(0, 10).c_str(),
              format_time(done->last_day * kNanosPerDay).substr(0, 10).c_str(),
              static_cast<unsigned long long>(done->events_outside_range));
  return 0;
}

int run_archive(const std::vector<std::string>& args) {
  if (args.empty() || (args[0] != "ls" && args[0] != "restore")) {
    std::fprintf(stderr, "sluice: archive needs 'ls' or 'restore' (see 'sluice help')\n");
    return 2;
  }
  const bool restore = args[0] == "restore";
  auto command = parse_offline_flags(std::vector<std::string>(args.begin() + 1, args.end()), false, restore);
  if (!command) {
    print_lines("sluice: archive: ", command.error().message());
    return 2;
  }
  const config::ArchiveOptions& archive = command->options.archive;
  if (!archive.enabled()) {
    std::fprintf(stderr, "sluice: archive: no archive configured (archive.endpoint in the --config file)\n");
    return 2;
  }
  if (!restore) {
    auto entries = storage::list_archive(archive);
    if (!entries) {
      print_lines("sluice: archive ls: ", entries.error().message());
      return 1;
    }
    std::printf("%-30s %-30s %12s %10s  %s\n", "FIRST RECEIVED", "LAST RECEIVED", "BYTES", "RECORDS", "KEY");
    for (const storage::ManifestEntry& entry : *entries) {
      if (command->to_ns != 0 && (entry.max_received_ns < command->from_ns || entry.min_received_ns > command->to_ns)) {
        continue;
      }
      std::printf("%-30s %-30s %12llu %10llu  %s\n", format_time(entry.min_received_ns).c_str(),
                  format_time(entry.max_received_ns).c_str(), static_cast<unsigned long long>(entry.bytes),
                  static_cast<unsigned long long>(entry.records), entry.key.c_str());
    }
    return 0;
  }
  if (command->to_ns == 0) {
    std::fprintf(stderr, "sluice: archive restore needs --from and --to\n");
    return 2;
  }
  const std::string dir = command->restore_dir.empty()
                              ? command->options.store.data_dir + "/restore"
                              : command->restore_dir;
  auto restored = storage::restore_archive(archive, command->from_ns, command->to_ns, dir, [](size_t done, size_t total) {
    std::fprintf(stderr, "restore: %zu/%zu segments\n", done, total);
  });
  if (!restored) {
    print_lines("sluice: archive restore: ", restored.error().message());
    return 1;
  }
  std::printf("restored %zu segment(s) into %s; next: sluice reindex --source %s\n", restored->size(), dir.c_str(),
              dir.c_str());
  return 0;
}

}  // namespace

std::vector<std::string> check_config(const config::ServerOptions& options) {
  std::vector<std::string> errors;
  if (Status valid = config::validate(options); !valid) {
    // Cross-key errors have no single position; name the file.
    errors.push_back(options.config_file.empty() ? valid.message()
                                                 : options.config_file + ": " + valid.message());
  }
  // Compiles every grok pattern, regex, date format and condition; each
  // error carries the FILE:LINE:COL recorded when the config was read.
  for (std::string& error : parsers::PipelineSet::check(options.pipelines)) errors.push_back(std::move(error));
  return errors;
}

Expected<ServeCommand> parse_serve_flags(const std::vector<std::string>& flags) {
  ServeCommand command;
  // The config file is read first so that flags override it, wherever
  // --config appears.
  for (size_t i = 0; i < flags.size(); ++i) {
    if (flags[i] == "--config") {
      if (i + 1 >= flags.size()) return flag_error("--config needs a FILE");
      Status loaded = config::load_config_file(flags[i + 1], command.options);
      if (!loaded) return loaded;
      command.options.config_file = flags[i + 1];
    }
  }
  for (size_t i = 0; i < flags.size(); ++i) {
    const std::string& flag = flags[i];
    if (flag == "-h" || flag == "--help") {
      command.show_help = true;
      continue;
    }
    if (flag == "--tls-require-client-cert") {
      command.options.tls.require_client_cert = true;
      continue;
    }
    const bool takes_value = flag == "--config" || flag == "--data" || flag == "--syslog" ||
                             flag == "--http" || flag == "--workers" || flag == "--syslog-tls" ||
                             flag == "--relp" || flag == "--gelf" || flag == "--json-tcp" || flag == "--tls-cert" || flag == "--tls-key" ||
                             flag == "--tls-client-ca";
    if (!takes_value) return flag_error("unknown flag '" + flag + "'");
    if (i + 1 >= flags.size()) return flag_error(flag + " needs a value");
    const std::string& value = flags[++i];
    if (flag == "--data") {
      if (value.empty()) return flag_error("--data needs a directory");
      command.options.store.data_dir = value;
    } else if (flag == "--syslog" || flag == "--http" || flag == "--syslog-tls" || flag == "--relp" ||
               flag == "--gelf" || flag == "--json-tcp") {
      auto address = config::parse_listen_address(value);
      if (!address) return address.error().with_context(flag);
      if (flag == "--syslog") command.options.syslog = address.value();
      if (flag == "--http") command.options.http = address.value();
      if (flag == "--syslog-tls") command.options.syslog_tls = address.value();
      if (flag == "--relp") command.options.relp = address.value();
      if (flag == "--json-tcp") command.options.json_tcp = address.value();
      if (flag == "--gelf") command.options.gelf = address.value();
    } else if (flag == "--tls-cert") {
      command.options.tls.cert_file = value;
    } else if (flag == "--tls-key") {
      command.options.tls.key_file = value;
    } else if (flag == "--tls-client-ca") {
      command.options.tls.client_ca_file = value;
    } else if (flag == "--workers") {
      uint32_t workers = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), workers);
      if (ec != std::errc() || end != value.data() + value.size() || workers > 256) {
        return flag_error("--workers: '" + value + "' is not a number from 0 to 256");
      }
      command.options.ingest.workers = workers;
    }
  }
  return command;
}

int run_cli(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "version" || args[0] == "--version") {
    std::printf("sluice %s\n", SLUICE_VERSION);
    return 0;
  }
  if (args[0] == "serve") {
    auto command = parse_serve_flags(std::vector<std::string>(args.begin() + 1, args.end()));
    if (!command) {
      print_lines("sluice: ", command.error().message());
      return 2;
    }
    if (command->show_help) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    // Refuse a bad config before the store is opened or a port bound, with
    // the messages check-config prints.
    if (const std::vector<std::string> errors = check_config(command->options); !errors.empty()) {
      for (const std::string& error : errors) print_lines("sluice: ", error);
      return 1;
    }
    return run_server(command->options);
  }
  if (args[0] == "grok") {
    if (args.size() != 2) {
      std::fprintf(stderr, "sluice: grok needs exactly one PATTERN, lines on stdin (see 'sluice help')\n");
      return 2;
    }
    std::string lines((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    std::string out;
    if (Status status = grok_debug(args[1], lines, "\n", out); !status) {
      std::fprintf(stderr, "sluice: grok: %s\n", status.message().c_str());
      return 2;
    }
    if (!out.empty()) out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  if (args[0] == "search") return run_search_command(std::vector<std::string>(args.begin() + 1, args.end()));
  if (args[0] == "tail") return run_tail_command(std::vector<std::string>(args.begin() + 1, args.end()));
  if (args[0] == "reindex") return run_reindex(std::vector<std::string>(args.begin() + 1, args.end()));
  if (args[0] == "archive") return run_archive(std::vector<std::string>(args.begin() + 1, args.end()));
  if (args[0] == "check-config") {
    return run_check_config(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  std::fprintf(stderr, "sluice: unknown command '%s' (see 'sluice help')\n", args[0].c_str());
  return 2;
}

}  // namespace sluice::server
