#include "server/inputs/tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>

#include "server/base/assert.h"

namespace sluice::server {
namespace {

// OpenSSL keeps its errors in a thread-local queue. Every call that can fail
// starts from an empty queue (so SSL_get_error() sees only its own errors)
// and leaves it empty (so the next session on this thread starts clean).
//
// Returns the most telling reason in the queue and clears it: the first
// system error if there is one ("No such file or directory" from fopen rather
// than the "system lib" that wraps it), else the first library error.
std::string take_openssl_reason() {
  std::string reason;
  bool have_system_error = false;
  while (unsigned long code = ERR_get_error()) {
    bool is_system = ERR_SYSTEM_ERROR(code);
    if (!reason.empty() && (have_system_error || !is_system)) continue;
    const char* text = ERR_reason_error_string(code);
    if (text != nullptr) {
      reason = text;
    } else if (is_system) {
      reason = std::strerror(ERR_GET_REASON(code));
    } else {
      char buffer[256];
      ERR_error_string_n(code, buffer, sizeof(buffer));
      reason = buffer;
    }
    have_system_error = is_system;
  }
  if (reason.empty()) reason = "unknown OpenSSL error";
  return reason;
}

Status openssl_error(std::string_view what) {
  std::string message = "tls: ";
  message += what;
  message += ": ";
  message += take_openssl_reason();
  return Status::error(std::move(message));
}

// Keys must be unencrypted: a server has nobody to type a passphrase, and
// OpenSSL's default callback would block reading the terminal. `asked`, if
// given, is a bool set when OpenSSL wanted a passphrase.
int refuse_passphrase(char*, int, int, void* asked) {
  if (asked != nullptr) *static_cast<bool*>(asked) = true;
  return -1;
}

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

}  // namespace

Expected<std::shared_ptr<TlsContext>> TlsContext::create_server(const TlsServerConfig& config) {
  ERR_clear_error();
  if (config.require_client_cert && config.client_ca_file.empty()) {
    return Status::error("tls: require_client_cert needs client_ca_file to verify certificates with");
  }
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return openssl_error("create context");

  // TLS 1.0 and 1.1 are deprecated (RFC 8996); rsyslog and syslog-ng speak 1.2+.
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
    return openssl_error("set minimum protocol version");
  }
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                     SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_default_passwd_cb(ctx.get(), refuse_passphrase);

  if (SSL_CTX_use_certificate_chain_file(ctx.get(), config.cert_file.c_str()) != 1) {
    return openssl_error("certificate file " + config.cert_file);
  }

  // The key is read here rather than by SSL_CTX_use_PrivateKey_file, which
  // would report a mismatch as X509's "key values mismatch".
  std::unique_ptr<BIO, BioFree> key_bio(BIO_new_file(config.key_file.c_str(), "r"));
  if (!key_bio) return openssl_error("key file " + config.key_file);
  bool passphrase_asked = false;
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, refuse_passphrase, &passphrase_asked));
  if (!key) {
    // OpenSSL 3's reasons here are "unsupported" and "interrupted or
    // cancelled"; say what they mean.
    ERR_clear_error();
    return Status::error("tls: key file " + config.key_file +
                         (passphrase_asked ? ": key is encrypted; a server needs an unencrypted key"
                                           : ": no PEM private key found"));
  }
  if (X509_check_private_key(SSL_CTX_get0_certificate(ctx.get()), key.get()) != 1) {
    ERR_clear_error();
    return Status::error("tls: certificate " + config.cert_file + " and key " + config.key_file +
                         " do not match");
  }
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return openssl_error("key file " + config.key_file);
  }

  if (!config.client_ca_file.empty()) {
    const char* ca_file = config.client_ca_file.c_str();
    if (SSL_CTX_load_verify_file(ctx.get(), ca_file) != 1) {
      return openssl_error("client CA file " + config.client_ca_file);
    }
    // Tells clients which CAs we accept, so one holding several certificates
    // picks the right one.
    STACK_OF(X509_NAME)* ca_names = SSL_load_client_CA_file(ca_file);
    if (ca_names == nullptr) return openssl_error("client CA file " + config.client_ca_file);
    SSL_CTX_set_client_CA_list(ctx.get(), ca_names);  // takes ownership
    int mode = SSL_VERIFY_PEER;
    if (config.require_client_cert) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx.get(), mode, nullptr);
  }
  // Resuming a session needs a context id when client certificates are
  // verified; without one OpenSSL fails the resumption handshake.
  static constexpr unsigned char kSessionIdContext[] = "sluice";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionIdContext, sizeof(kSessionIdContext) - 1);

  ERR_clear_error();
  return std::shared_ptr<TlsContext>(new TlsContext(ctx.release()));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

TlsSession::TlsSession(const TlsContext& context)
    : plaintext_buffer_(std::make_unique_for_overwrite<char[]>(kPlaintextBufferBytes)) {
  ssl_ = SSL_new(context.native());
  network_in_ = BIO_new(BIO_s_mem());
  network_out_ = BIO_new(BIO_s_mem());
  SLUICE_ASSERT(ssl_ != nullptr && network_in_ != nullptr && network_out_ != nullptr,
                "out of memory creating a TLS session");
  // An empty memory BIO reads as "retry" (not EOF), so OpenSSL reports
  // SSL_ERROR_WANT_READ until the next feed(). This is BIO_s_mem's default
  // for a writable BIO; set anyway, as everything below relies on it.
  BIO_set_mem_eof_return(network_in_, -1);
  SSL_set_bio(ssl_, network_in_, network_out_);  // ssl_ owns both now
  SSL_set_accept_state(ssl_);
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
  ERR_clear_error();
}

Status TlsSession::fail(std::string_view what) {
  std::string message = "tls: ";
  message += what;
  message += ": ";
  message += take_openssl_reason();
  long verify_result = SSL_get_verify_result(ssl_);
  if (verify_result != X509_V_OK) {
    message += " (";
    message += X509_verify_cert_error_string(verify_result);
    message += ")";
  }
  error_ = Status::error(std::move(message));
  pending_plaintext_.clear();
  return error_;
}

Status TlsSession::feed(std::string_view ciphertext,
                        const std::function<void(std::string_view)>& on_plaintext) {
  if (!error_.is_ok()) return error_;
  if (peer_closed_) return Status::ok();

  while (!ciphertext.empty()) {
    int chunk = static_cast<int>(std::min<size_t>(ciphertext.size(), INT_MAX));
    if (BIO_write(network_in_, ciphertext.data(), chunk) != chunk) return fail("buffer input");
    ciphertext.remove_prefix(chunk);
  }

  if (!handshake_done_) {
    ERR_clear_error();
    int result = SSL_do_handshake(ssl_);
    if (result != 1) {
      int error = SSL_get_error(ssl_, result);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return Status::ok();
      return fail("handshake");
    }
    if (Status status = finish_handshake(); !status) return status;
  }

  // Decrypts record by record until the input holds no complete record.
  char* buffer = plaintext_buffer_.get();
  for (;;) {
    ERR_clear_error();
    size_t read_bytes = 0;
    if (SSL_read_ex(ssl_, buffer, kPlaintextBufferBytes, &read_bytes) == 1) {
      on_plaintext(std::string_view(buffer, read_bytes));
      if (!error_.is_ok()) return error_;  // a write() from the callback failed
      continue;
    }
    switch (SSL_get_error(ssl_, 0)) {
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE:
        ERR_clear_error();
        return Status::ok();
      case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        peer_closed_ = true;
        return Status::ok();
      default:
        return fail("read");
    }
  }
}

Status TlsSession::finish_handshake() {
  handshake_done_ = true;
  if (X509* cert = SSL_get0_peer_certificate(ssl_);
      cert != nullptr && SSL_get_verify_result(ssl_) == X509_V_OK) {
    std::unique_ptr<BIO, BioFree> text(BIO_new(BIO_s_mem()));
    if (text && X509_NAME_print_ex(text.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
      char* data = nullptr;
      long size = BIO_get_mem_data(text.get(), &data);
      if (size > 0) peer_subject_.assign(data, static_cast<size_t>(size));
    }
    ERR_clear_error();
  }
  if (pending_plaintext_.empty()) return Status::ok();
  std::string pending;
  pending.swap(pending_plaintext_);  // the buffer is not needed again
  return write_now(pending);
}

Status TlsSession::write(std::string_view plaintext) {
  if (!error_.is_ok()) return error_;
  if (shutdown_sent_) return Status::error("tls: write after shutdown");
  if (plaintext.empty()) return Status::ok();
  if (!handshake_done_) {
    pending_plaintext_.append(plaintext);
    return Status::ok();
  }
  return write_now(plaintext);
}

Status TlsSession::write_now(std::string_view plaintext) {
  ERR_clear_error();
  size_t written = 0;
  // Without SSL_MODE_ENABLE_PARTIAL_WRITE and with a memory BIO that always
  // accepts, a successful write encrypts everything.
  if (SSL_write_ex(ssl_, plaintext.data(), plaintext.size(), &written) != 1) return fail("write");
  SLUICE_ASSERT(written == plaintext.size(), "short SSL_write_ex into a memory BIO");
  return Status::ok();
}

std::string TlsSession::take_output() {
  std::string out;
  take_output(out);
  return out;
}

void TlsSession::take_output(std::string& out) {
  size_t pending = BIO_ctrl_pending(network_out_);
  while (pending > 0) {
    int chunk = static_cast<int>(std::min<size_t>(pending, INT_MAX));
    size_t old_size = out.size();
    out.resize(old_size + static_cast<size_t>(chunk));
    int read_bytes = BIO_read(network_out_, out.data() + old_size, chunk);
    SLUICE_ASSERT(read_bytes == chunk, "short read from a memory BIO");
    pending -= static_cast<size_t>(chunk);
  }
}

std::string_view TlsSession::protocol() const {
  if (!handshake_done_) return {};
  return SSL_get_version(ssl_);
}

void TlsSession::shutdown() {
  if (shutdown_sent_) return;
  shutdown_sent_ = true;
  pending_plaintext_.clear();
  // OpenSSL refuses to shut down mid-handshake, and after a fatal error the
  // alert already told the peer.
  if (!error_.is_ok() || !handshake_done_) return;
  ERR_clear_error();
  // 0 = sent, peer's close_notify not yet seen; 1 = both seen. Either way
  // close_notify is in the output; a failure here leaves nothing to do but close.
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace sluice::server
