#include "server/inputs/tls_session.h"

#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#ifndef SLUICE_SOURCE_DIR
#error "SLUICE_SOURCE_DIR must name the source tree (for tests/tls_test_ca.sh)"
#endif

namespace sluice::server {
namespace {

// Two throwaway PKIs made by tests/tls_test_ca.sh, once per test binary:
// "main" (the CA the server trusts, its server and client certificates) and
// "other" (a CA the server does not trust, with its own client certificate).
class TestPki {
 public:
  TestPki() {
    char pattern[] = "/tmp/sluice_tls_test_XXXXXX";
    const char* made = mkdtemp(pattern);
    REQUIRE(made != nullptr);
    root_ = made;
    make("main", "sluice test");
    make("other", "other test");
  }
  ~TestPki() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  std::string main(std::string_view file) const { return root_ + "/main/" + std::string(file); }
  std::string other(std::string_view file) const { return root_ + "/other/" + std::string(file); }
  std::string root() const { return root_; }

 private:
  void make(const std::string& dir, const std::string& name) const {
    std::string command = "bash '" SLUICE_SOURCE_DIR "/tests/tls_test_ca.sh' '" + root_ + "/" + dir +
                          "' '" + name + "'";
    REQUIRE_MESSAGE(std::system(command.c_str()) == 0, command);
  }
  std::string root_;
};

const TestPki& pki() {
  static const TestPki instance;
  return instance;
}

TlsServerConfig server_config(std::string client_ca = "", bool require_client_cert = false) {
  return {pki().main("server.pem"), pki().main("server.key"), std::move(client_ca), require_client_cert};
}

std::shared_ptr<TlsContext> make_context(const TlsServerConfig& config) {
  auto context = TlsContext::create_server(config);
  if (!context.has_value()) FAIL(context.error().message());
  return std::move(context).value();
}

// The other end: an OpenSSL client over memory BIOs, as rsyslog's ossl driver
// would be, verifying the server as "localhost" against the main test CA.
class TestClient {
 public:
  struct Options {
    std::string cert_file = {};  // empty: no client certificate
    std::string key_file = {};
    int max_version = 0;  // 0: the library's highest
    int min_version = 0;
  };

  explicit TestClient(const Options& options) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    REQUIRE(ctx_ != nullptr);
    if (options.min_version != 0) {
      // Old protocols need security level 0 on the client to be offered at all.
      SSL_CTX_set_security_level(ctx_, 0);
      REQUIRE(SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0") == 1);
      REQUIRE(SSL_CTX_set_min_proto_version(ctx_, options.min_version) == 1);
    }
    if (options.max_version != 0) REQUIRE(SSL_CTX_set_max_proto_version(ctx_, options.max_version) == 1);
    REQUIRE(SSL_CTX_load_verify_file(ctx_, pki().main("ca.pem").c_str()) == 1);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (!options.cert_file.empty()) {
      REQUIRE(SSL_CTX_use_certificate_chain_file(ctx_, options.cert_file.c_str()) == 1);
      REQUIRE(SSL_CTX_use_PrivateKey_file(ctx_, options.key_file.c_str(), SSL_FILETYPE_PEM) == 1);
    }
    ssl_ = SSL_new(ctx_);
    REQUIRE(ssl_ != nullptr);
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl_, in_, out_);
    REQUIRE(SSL_set1_host(ssl_, "localhost") == 1);
    SSL_set_connect_state(ssl_);
  }
  ~TestClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  SSL* ssl() { return ssl_; }

  void receive(std::string_view ciphertext) {
    if (!ciphertext.empty()) REQUIRE(BIO_write(in_, ciphertext.data(), static_cast<int>(ciphertext.size())) > 0);
  }
  std::string take_output() {
    std::string out(BIO_ctrl_pending(out_), '\0');
    if (!out.empty()) REQUIRE(BIO_read(out_, out.data(), static_cast<int>(out.size())) == static_cast<int>(out.size()));
    return out;
  }

  // Drives the handshake and reads all available plaintext into received.
  void drive() {
    if (!error.empty()) return;
    char buffer[4096];
    for (;;) {
      ERR_clear_error();
      size_t n = 0;
      if (SSL_read_ex(ssl_, buffer, sizeof(buffer), &n) == 1) {
        received.append(buffer, n);
        continue;
      }
      int code = SSL_get_error(ssl_, 0);
      if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) break;
      if (code == SSL_ERROR_ZERO_RETURN) {
        closed = true;
        break;
      }
      unsigned long e = ERR_get_error();
      const char* reason = e ? ERR_reason_error_string(e) : nullptr;
      error = reason ? reason : "client error " + std::to_string(code);
      ERR_clear_error();
      return;
    }
    if (handshake_done() && !pending_.empty()) {
      std::string pending;
      pending.swap(pending_);
      write(pending);
    }
  }

  // Before the client's handshake completes, the data waits for drive().
  void write(std::string_view plaintext) {
    if (!handshake_done()) {
      pending_.append(plaintext);
      return;
    }
    ERR_clear_error();
    size_t written = 0;
    REQUIRE(SSL_write_ex(ssl_, plaintext.data(), plaintext.size(), &written) == 1);
    REQUIRE(written == plaintext.size());
  }

  bool handshake_done() const { return SSL_is_init_finished(ssl_); }

  std::string received;
  std::string error;  // the client's first fatal error, e.g. the alert it got
  bool closed = false;

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;
  BIO* out_ = nullptr;
  std::string pending_;
};

// A server session and a client joined by an in-process "wire".
struct Link {
  Link(const TlsContext& context, const TestClient::Options& options) : server(context), client(options) {}

  // Feeds `ciphertext` to the server in pieces of the given sizes (cycled);
  // keeps the first error.
  void feed_server(std::string_view ciphertext, const std::vector<size_t>& piece_sizes) {
    size_t next = 0;
    while (!ciphertext.empty()) {
      size_t piece = std::min(ciphertext.size(), piece_sizes[next++ % piece_sizes.size()]);
      Status status = server.feed(ciphertext.substr(0, piece), [this](std::string_view plaintext) {
        CHECK(plaintext.size() <= 16 * 1024);
        ++server_chunks;
        server_received.append(plaintext);
        if (echo) server.write(plaintext).ignore_error();  // checked via the client's data
      });
      if (!status && server_status.is_ok()) server_status = status;
      ciphertext.remove_prefix(piece);
    }
  }

  // Moves bytes both ways until neither side has anything to send.
  void pump(const std::vector<size_t>& piece_sizes = {SIZE_MAX}) {
    for (int round = 0; round < 1000; ++round) {
      client.drive();
      std::string to_server = client.take_output();
      feed_server(to_server, piece_sizes);
      std::string to_client = server.take_output();
      if (to_server.empty() && to_client.empty()) return;
      client.receive(to_client);
    }
    FAIL("pump did not settle");
  }

  TlsSession server;
  TestClient client;
  Status server_status;
  std::string server_received;
  size_t server_chunks = 0;
  bool echo = false;
};

std::string pattern_bytes(size_t size, uint32_t seed) {
  std::string bytes(size, '\0');
  uint32_t state = seed;
  for (char& byte : bytes) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<char>(state >> 24);
  }
  return bytes;
}

void check_error_contains(const Status& status, std::string_view text) {
  REQUIRE_FALSE(status.is_ok());
  INFO(status.message());
  CHECK(status.message().find(text) != std::string::npos);
}

TEST_CASE("TlsContext::create_server loads a matching certificate and key") {
  auto context = make_context(server_config());
  CHECK(context->native() != nullptr);
  auto with_ca = make_context(server_config(pki().main("ca.pem"), true));
  CHECK(with_ca->native() != nullptr);
}

TEST_CASE("TlsContext::create_server errors name the file and the reason") {
  const std::string missing = pki().root() + "/missing.pem";
  const std::string garbage = pki().root() + "/garbage.pem";
  std::ofstream(garbage) << "this is not PEM\n";

  SUBCASE("missing key file") {
    TlsServerConfig config = server_config();
    config.key_file = missing;
    auto context = TlsContext::create_server(config);
    REQUIRE_FALSE(context.has_value());
    CHECK(context.error().message() == "tls: key file " + missing + ": No such file or directory");
  }
  SUBCASE("missing certificate file") {
    TlsServerConfig config = server_config();
    config.cert_file = missing;
    auto context = TlsContext::create_server(config);
    REQUIRE_FALSE(context.has_value());
    CHECK(context.error().message() == "tls: certificate file " + missing + ": No such file or directory");
  }
  SUBCASE("certificate file that is not PEM") {
    TlsServerConfig config = server_config();
    config.cert_file = garbage;
    auto context = TlsContext::create_server(config);
    REQUIRE_FALSE(context.has_value());
    CHECK(context.error().message() == "tls: certificate file " + garbage + ": no start line");
  }
  SUBCASE("key file that is not PEM") {
    TlsServerConfig config = server_config();
    config.key_file = garbage;
    auto context = TlsContext::create_server(config);
    REQUIRE_FALSE(context.has_value());
    CHECK(context.error().message() == "tls: key file " + garbage + ": no PEM private key found");
  }
  SUBCASE("encrypted key") {
    const std::string encrypted = pki().root() + "/encrypted.key";
    std::string command = "openssl pkey -in '" + pki().main("server.key") +
                          "' -aes128 -passout pass:secret -out '" + encrypted + "'";
    REQUIRE(std::system(command.c_str()) == 0);
    TlsServerConfig config = server_config();
    config.key_file = encrypted;
    auto context = TlsContext::create_server(config);
    REQUIRE_FALSE(context.has_value());
    CHECK(context.error().message() ==
          "tls: key file " + encrypted + ": key is encrypted; a server needs an unencrypted key");
  }
  SUBCASE("key of another certificate") {
    TlsServerConfig config = server_config();
    config.key_file = pki().main("client.key");
    auto context = TlsContext::create_server(config);
    REQUIRE_FALSE(context.has_value());
    CHECK(context.error().message() == "tls: certificate " + config.cert_file + " and key " +
                                           config.key_file + " do not match");
  }
  SUBCASE("missing client CA file") {
    auto context = TlsContext::create_server(server_config(missing, true));
    REQUIRE_FALSE(context.has_value());
    CHECK(context.error().message() == "tls: client CA file " + missing + ": No such file or directory");
  }
  SUBCASE("client CA file without certificates") {
    auto context = TlsContext::create_server(server_config(garbage, true));
    REQUIRE_FALSE(context.has_value());
    CHECK(context.error().message() == "tls: client CA file " + garbage + ": no certificate or crl found");
  }
  SUBCASE("require_client_cert without a CA") {
    auto context = TlsContext::create_server(server_config("", true));
    REQUIRE_FALSE(context.has_value());
    check_error_contains(context.error(), "require_client_cert needs client_ca_file");
  }
  // Nothing of the failed loads lingers in this thread's error queue.
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("TlsSession: handshake and data both ways") {
  auto context = make_context(server_config());
  struct Case {
    int max_version;
    std::string_view protocol;
  };
  for (Case c : {Case{0, "TLSv1.3"}, Case{TLS1_2_VERSION, "TLSv1.2"}}) {
    CAPTURE(c.protocol);
    Link link(*context, {.max_version = c.max_version});
    CHECK_FALSE(link.server.handshake_done());
    CHECK(link.server.protocol().empty());
    link.pump();
    REQUIRE(link.server_status.is_ok());
    CHECK(link.server.handshake_done());
    CHECK(link.client.handshake_done());
    CHECK(link.client.error.empty());
    CHECK(SSL_get_verify_result(link.client.ssl()) == X509_V_OK);  // the server cert is valid for localhost
    CHECK(link.server.protocol() == c.protocol);
    CHECK(link.server.peer_subject().empty());  // no client certificate asked for

    link.client.write("<13>1 2025-03-01T12:00:00Z host app - - - hello\n");
    link.pump();
    CHECK(link.server_received == "<13>1 2025-03-01T12:00:00Z host app - - - hello\n");

    REQUIRE(link.server.write("1 rsp 6 200 OK\n").is_ok());
    link.pump();
    CHECK(link.client.received == "1 rsp 6 200 OK\n");
    CHECK_FALSE(link.server.peer_closed());
  }
}

TEST_CASE("TlsSession: TLS 1.1 is refused") {
  auto context = make_context(server_config());
  Link link(*context, {.max_version = TLS1_1_VERSION, .min_version = TLS1_VERSION});
  link.pump();
  check_error_contains(link.server_status, "tls: handshake: unsupported protocol");
  CHECK_FALSE(link.server.handshake_done());
  CHECK_FALSE(link.client.error.empty());  // the client got the alert
}

TEST_CASE("TlsSession: a write before the handshake is sent once it completes") {
  auto context = make_context(server_config());
  Link link(*context, {});
  REQUIRE(link.server.write("early ").is_ok());
  REQUIRE(link.server.write("bird").is_ok());
  CHECK(link.server.take_output().empty());  // no ClientHello yet, so nothing to say
  link.pump();
  REQUIRE(link.server_status.is_ok());
  CHECK(link.client.received == "early bird");
}

TEST_CASE("TlsSession: 1 MiB each way in odd-sized chunks") {
  auto context = make_context(server_config());
  Link link(*context, {});
  // Ciphertext reaches the server in pieces that cut records and headers anywhere.
  const std::vector<size_t> pieces = {1, 7, 4093, 2, 16411, 333, 5, 65537, 3, 1021};
  link.pump(pieces);
  REQUIRE(link.server.handshake_done());

  const std::string upload = pattern_bytes(1 << 20, 1);
  const std::vector<size_t> writes = {1, 333, 7777, 16385, 40000, 2, 16384, 99999};
  size_t offset = 0, next = 0;
  while (offset < upload.size()) {
    size_t size = std::min(upload.size() - offset, writes[next++ % writes.size()]);
    link.client.write(std::string_view(upload).substr(offset, size));
    offset += size;
    if (next % 3 == 0) link.pump(pieces);  // sometimes several records wait in one pump
  }
  link.pump(pieces);
  REQUIRE(link.server_status.is_ok());
  CHECK(link.server_received.size() == upload.size());
  CHECK(link.server_received == upload);
  CHECK(link.server_chunks >= upload.size() / (16 * 1024));

  const std::string download = pattern_bytes(1 << 20, 2);
  offset = 0;
  next = 0;
  while (offset < download.size()) {
    size_t size = std::min(download.size() - offset, writes[next++ % writes.size()]);
    REQUIRE(link.server.write(std::string_view(download).substr(offset, size)).is_ok());
    offset += size;
  }
  link.pump(pieces);
  CHECK(link.client.received.size() == download.size());
  CHECK(link.client.received == download);
}

TEST_CASE("TlsSession: one message split across records, and records split across feeds") {
  auto context = make_context(server_config());
  Link link(*context, {});
  link.pump();
  // One syslog frame in three records, the ciphertext fed a byte at a time.
  link.client.write("<13>1 2025-03-01T12:00:00Z ");
  link.client.write("host app - - - ");
  link.client.write("split\n");
  link.pump({1});
  REQUIRE(link.server_status.is_ok());
  CHECK(link.server_received == "<13>1 2025-03-01T12:00:00Z host app - - - split\n");
  CHECK(link.server_chunks == 3);  // one per record, never merged, never more

  // A record whose bytes arrive over two feeds delivers nothing until it is whole.
  link.client.write("whole");
  std::string record = link.client.take_output();
  REQUIRE(record.size() > 10);
  link.feed_server(std::string_view(record).substr(0, record.size() - 1), {SIZE_MAX});
  CHECK(link.server_chunks == 3);
  link.feed_server(std::string_view(record).substr(record.size() - 1), {SIZE_MAX});
  CHECK(link.server_chunks == 4);
  CHECK(link.server_received.ends_with("split\nwhole"));
}

TEST_CASE("TlsSession: on_plaintext may write the answer") {
  auto context = make_context(server_config());
  Link link(*context, {});
  link.echo = true;
  link.pump();
  link.client.write("1 open 0\n");
  link.client.write("2 syslog 5 hello\n");
  link.pump();
  REQUIRE(link.server_status.is_ok());
  CHECK(link.client.received == "1 open 0\n2 syslog 5 hello\n");
}

TEST_CASE("TlsSession: client certificates") {
  const std::string ca = pki().main("ca.pem");
  const TestClient::Options no_cert{};
  const TestClient::Options good_cert{.cert_file = pki().main("client.pem"), .key_file = pki().main("client.key")};
  const TestClient::Options foreign_cert{.cert_file = pki().other("client.pem"),
                                         .key_file = pki().other("client.key")};

  SUBCASE("required and valid") {
    for (int max_version : {0, TLS1_2_VERSION}) {
      CAPTURE(max_version);
      auto context = make_context(server_config(ca, true));
      Link link(*context, good_cert);
      link.client.write("hello");  // queued until the client's handshake completes
      link.pump();
      REQUIRE(link.server_status.is_ok());
      CHECK(link.server.peer_subject() == "CN=sluice test client,O=sluice");
      CHECK(link.server_received == "hello");
    }
  }
  SUBCASE("required and missing") {
    for (int max_version : {0, TLS1_2_VERSION}) {
      CAPTURE(max_version);
      auto context = make_context(server_config(ca, true));
      Link link(*context, {.max_version = max_version});
      link.pump();
      check_error_contains(link.server_status, "tls: handshake: peer did not return a certificate");
      CHECK_FALSE(link.server.handshake_done());
      CHECK(link.server.peer_subject().empty());
      CHECK_FALSE(link.client.error.empty());  // the alert reached the client
      // Sticky: the session stays failed.
      CHECK(link.server.feed("more", [](std::string_view) { FAIL("no plaintext after an error"); }).message() ==
            link.server_status.message());
      CHECK(link.server.write("x").message() == link.server_status.message());
    }
  }
  SUBCASE("required, from another CA") {
    auto context = make_context(server_config(ca, true));
    Link link(*context, foreign_cert);
    link.client.write("must not arrive");
    link.pump();
    check_error_contains(link.server_status,
                         "tls: handshake: certificate verify failed (unable to get local issuer certificate)");
    CHECK(link.server_received.empty());
    CHECK(link.server.peer_subject().empty());
    CHECK_FALSE(link.client.error.empty());
  }
  SUBCASE("optional and missing") {
    auto context = make_context(server_config(ca, false));
    Link link(*context, no_cert);
    link.pump();
    REQUIRE(link.server_status.is_ok());
    CHECK(link.server.handshake_done());
    CHECK(link.server.peer_subject().empty());
  }
  SUBCASE("optional, from another CA: a certificate sent must verify") {
    auto context = make_context(server_config(ca, false));
    Link link(*context, foreign_cert);
    link.pump();
    check_error_contains(link.server_status, "certificate verify failed");
  }
  SUBCASE("not asked for") {
    auto context = make_context(server_config());
    Link link(*context, good_cert);
    link.pump();
    REQUIRE(link.server_status.is_ok());
    CHECK(link.server.peer_subject().empty());
  }
}

TEST_CASE("TlsSession: a resumed session keeps the verified client subject") {
  auto context = make_context(server_config(pki().main("ca.pem"), true));
  for (int max_version : {0, TLS1_2_VERSION}) {
    CAPTURE(max_version);
    const TestClient::Options good_cert{.cert_file = pki().main("client.pem"),
                                        .key_file = pki().main("client.key"),
                                        .max_version = max_version};
    SSL_SESSION* session = nullptr;
    {
      Link first(*context, good_cert);
      first.pump();  // the client reads the TLS 1.3 tickets here
      REQUIRE(first.server_status.is_ok());
      // A connection freed without close_notify makes OpenSSL mark its
      // session non-resumable (it may have been truncated), so close cleanly.
      REQUIRE(SSL_shutdown(first.client.ssl()) >= 0);
      first.pump();
      first.server.shutdown();
      first.pump();
      session = SSL_get1_session(first.client.ssl());
      REQUIRE(session != nullptr);
    }
    REQUIRE(SSL_SESSION_is_resumable(session));
    Link second(*context, good_cert);
    REQUIRE(SSL_set_session(second.client.ssl(), session) == 1);
    SSL_SESSION_free(session);
    second.pump();
    REQUIRE(second.server_status.is_ok());
    CHECK(SSL_session_reused(second.client.ssl()));
    CHECK(second.server.peer_subject() == "CN=sluice test client,O=sluice");
  }
}

TEST_CASE("TlsSession: bytes that are not TLS are an error") {
  auto context = make_context(server_config());
  struct Case {
    std::string_view bytes;
    std::string_view reason;
  };
  for (Case c : {Case{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "http request"},
                 Case{"<13>1 2025-03-01T12:00:00Z host app - - - plain syslog\n", "wrong version number"},
                 Case{std::string_view("\x16\x03\x01\xff\xff\x00\x00\x00\x00\x00", 10), "packet length too long"}}) {
    CAPTURE(c.reason);
    TlsSession session(*context);
    Status status = session.feed(c.bytes, [](std::string_view) { FAIL("no plaintext from garbage"); });
    check_error_contains(status, std::string("tls: handshake: ") + std::string(c.reason));
    session.take_output();  // the alert, if OpenSSL sends one
    CHECK(session.feed("more", [](std::string_view) {}).message() == status.message());
    CHECK(ERR_peek_error() == 0);
  }

  SUBCASE("garbage after the handshake") {
    Link link(*context, {});
    link.pump();
    REQUIRE(link.server.handshake_done());
    link.feed_server(pattern_bytes(100, 3), {SIZE_MAX});
    REQUIRE_FALSE(link.server_status.is_ok());
    CHECK(link.server_status.message().starts_with("tls: read: "));
  }
  SUBCASE("a tampered record") {
    Link link(*context, {});
    link.pump();
    link.client.write("tampered");
    std::string record = link.client.take_output();
    record[record.size() - 3] ^= 1;
    link.feed_server(record, {SIZE_MAX});
    check_error_contains(link.server_status, "tls: read: decryption failed or bad record mac");
    CHECK(link.server_received.empty());
  }
}

TEST_CASE("TlsSession: close_notify") {
  auto context = make_context(server_config());

  SUBCASE("from the peer") {
    Link link(*context, {});
    link.pump();
    link.client.write("last words");
    REQUIRE(SSL_shutdown(link.client.ssl()) >= 0);
    link.pump();
    REQUIRE(link.server_status.is_ok());
    CHECK(link.server_received == "last words");
    CHECK(link.server.peer_closed());
    // Anything after close_notify is ignored.
    CHECK(link.server.feed("ignored", [](std::string_view) { FAIL("data after close_notify"); }).is_ok());
  }
  SUBCASE("from the server") {
    Link link(*context, {});
    link.pump();
    REQUIRE(link.server.write("bye").is_ok());
    link.server.shutdown();
    check_error_contains(link.server.write("too late"), "write after shutdown");
    link.pump();
    CHECK(link.client.received == "bye");
    CHECK(link.client.closed);
    CHECK_FALSE(link.server.peer_closed());
  }
  SUBCASE("before the handshake: nothing to send, writes refused") {
    TlsSession session(*context);
    REQUIRE(session.write("never sent").is_ok());
    session.shutdown();
    CHECK(session.take_output().empty());
    CHECK_FALSE(session.write("x").is_ok());
  }
}

TEST_CASE("TlsSession: TLS 1.3 key update") {
  auto context = make_context(server_config());
  Link link(*context, {});
  link.pump();
  link.client.write("before ");
  REQUIRE(SSL_key_update(link.client.ssl(), SSL_KEY_UPDATE_REQUESTED) == 1);
  link.client.write("after");
  link.pump();
  REQUIRE(link.server_status.is_ok());
  CHECK(link.server_received == "before after");
  REQUIRE(link.server.write("answer").is_ok());
  link.pump();
  CHECK(link.client.received == "answer");
}

TEST_CASE("TlsSession: sessions of one context, interleaved on one thread, stay independent") {
  auto context = make_context(server_config(pki().main("ca.pem"), true));
  Link failing(*context, {});
  Link good(*context, {.cert_file = pki().main("client.pem"), .key_file = pki().main("client.key")});
  for (int round = 0; round < 4; ++round) {
    failing.pump();
    good.client.write("ok ");
    good.pump({5, 301});
  }
  CHECK_FALSE(failing.server_status.is_ok());
  REQUIRE(good.server_status.is_ok());
  CHECK(good.server_received == "ok ok ok ok ");
}

}  // namespace
}  // namespace sluice::server
