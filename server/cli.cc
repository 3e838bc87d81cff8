#include "server/cli.h"

#include <charconv>
#include <cstdio>
#include <string_view>

#include "parsers/pipeline.h"
#include "server/grok_debugger.h"
#include "server/server.h"

#include <iostream>
#include <iterator>

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
    "  --tls-cert FILE     PEM certificate chain of the TLS listener\n"
    "  --tls-key FILE      PEM private key of the TLS listener\n"
    "  --tls-client-ca FILE\n"
    "                      PEM CAs to verify client certificates against\n"
    "  --tls-require-client-cert\n"
    "                      refuse TLS clients without a valid certificate\n"
    "  --workers N         parse worker threads (default: one per core)\n"
    "  -h, --help          this text\n"
    "\n"
    "IPv6 addresses are written [ADDR]:PORT. Open http://HOST:PORT/ for the viewer.\n";

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
                             flag == "--relp" || flag == "--tls-cert" || flag == "--tls-key" ||
                             flag == "--tls-client-ca";
    if (!takes_value) return flag_error("unknown flag '" + flag + "'");
    if (i + 1 >= flags.size()) return flag_error(flag + " needs a value");
    const std::string& value = flags[++i];
    if (flag == "--data") {
      if (value.empty()) return flag_error("--data needs a directory");
      command.options.store.data_dir = value;
    } else if (flag == "--syslog" || flag == "--http" || flag == "--syslog-tls" || flag == "--relp") {
      auto address = config::parse_listen_address(value);
      if (!address) return address.error().with_context(flag);
      if (flag == "--syslog") command.options.syslog = address.value();
      if (flag == "--http") command.options.http = address.value();
      if (flag == "--syslog-tls") command.options.syslog_tls = address.value();
      if (flag == "--relp") command.options.relp = address.value();
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
  if (args[0] == "check-config") {
    return run_check_config(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  std::fprintf(stderr, "sluice: unknown command '%s' (see 'sluice help')\n", args[0].c_str());
  return 2;
}

}  // namespace sluice::server
