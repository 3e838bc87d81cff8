#include "config/options.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using sluice::Status;

using sluice::config::load_config_text;
using sluice::config::parse_listen_address;
using sluice::config::ServerOptions;

TEST_CASE("listen addresses") {
  auto v4 = parse_listen_address("127.0.0.1:5514");
  REQUIRE(v4);
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 5514);
  auto v6 = parse_listen_address("[::1]:80");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->to_string() == "[::1]:80");
  auto any = parse_listen_address(":9000");
  REQUIRE(any);
  CHECK(any->host == "0.0.0.0");
  auto off = parse_listen_address("");
  REQUIRE(off);
  CHECK_FALSE(off->enabled());
  CHECK_FALSE(parse_listen_address("localhost"));
  CHECK_FALSE(parse_listen_address("host:99999"));
  CHECK_FALSE(parse_listen_address("host:12x"));
  CHECK_FALSE(parse_listen_address("::1:80"));
}

TEST_CASE("config file sets nested keys and keeps defaults") {
  ServerOptions options;
  Status status = load_config_text("data_dir: /var/lib/sluice\nlisten:\n  http: 127.0.0.1:9090\n"
                                   "ingest:\n  workers: 3\n",
                                   "test.yaml", options);
  REQUIRE(status.is_ok());
  CHECK(options.store.data_dir == "/var/lib/sluice");
  CHECK(options.http.port == 9090);
  CHECK(options.syslog.port == 5514);
  CHECK(options.ingest.workers == 3);
}

TEST_CASE("config errors name file, line, column and key") {
  ServerOptions options;
  Status unknown = load_config_text("listen:\n  sylog: 1.2.3.4:5\n", "a.yaml", options);
  REQUIRE_FALSE(unknown.is_ok());
  CHECK(unknown.message() ==
        "a.yaml:2:3: unknown key 'listen.sylog' (did you mean 'listen.syslog'?)");

  Status bad_type = load_config_text("ingest:\n  workers: many\n", "b.yaml", options);
  REQUIRE_FALSE(bad_type.is_ok());
  CHECK(bad_type.message() == "b.yaml:2:12: ingest.workers: expected an integer, got 'many'");

  Status bad_yaml = load_config_text("listen: [\n", "c.yaml", options);
  CHECK_FALSE(bad_yaml.is_ok());
  CHECK(bad_yaml.message().rfind("c.yaml:", 0) == 0);

  Status negative = load_config_text("ingest:\n  workers: -1\n", "d.yaml", options);
  CHECK_FALSE(negative.is_ok());
}

TEST_CASE("the shipped config/sluice.yaml loads and documents every key") {
  ServerOptions options;
  Status status = sluice::config::load_config_file(SLUICE_DEFAULT_CONFIG, options);
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  std::ifstream in(SLUICE_DEFAULT_CONFIG);
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& key : sluice::config::config_keys()) {
    CHECK_FALSE(key.doc.empty());
    // The leaf name appears in the file as "name:" with its default value.
    std::string_view leaf = key.key.substr(key.key.rfind('.') + 1);
    std::string line = std::string(leaf) + ": " + std::string(key.default_value);
    CHECK_MESSAGE(text.str().find(line) != std::string::npos, "missing: " << line);
  }
}

TEST_CASE("cross-key validation") {
  ServerOptions options;
  CHECK(sluice::config::validate(options).is_ok());
  REQUIRE(load_config_text("listen:\n  syslog_tls: 127.0.0.1:6514\n", "t.yaml", options).is_ok());
  CHECK(sluice::config::validate(options).message() ==
        "listen.syslog_tls needs tls.cert_file and tls.key_file (--tls-cert, --tls-key)");
  REQUIRE(load_config_text("tls:\n  cert_file: c.pem\n  key_file: k.pem\n  require_client_cert: yes\n",
                           "t.yaml", options).is_ok());
  CHECK_FALSE(sluice::config::validate(options).is_ok());
  Status bad_bool = load_config_text("tls:\n  require_client_cert: maybe\n", "t.yaml", options);
  CHECK(bad_bool.message() == "t.yaml:2:24: tls.require_client_cert: expected true or false, got 'maybe'");
}
