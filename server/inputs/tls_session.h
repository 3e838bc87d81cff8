// TLS for stream inputs (syslog over TLS, RFC 5425; RELP over TLS), as a pure
// state machine on OpenSSL 3 memory BIOs: ciphertext in, plaintext and
// ciphertext out. No sockets, no libuv, no clock, so every handshake outcome
// and every split of a stream is unit-tested in-process.
//
// Use, per connection (the socket code owns the bytes and the socket):
//
//   TlsSession tls(*context);
//   on read:   Status s = tls.feed(bytes, deliver_plaintext);
//              send(tls.take_output());          // handshake, alerts, key updates
//              if (!s) close (after the output is sent);
//              if (tls.peer_closed()) close;
//   to answer: tls.write(response); send(tls.take_output());
//   to close:  tls.shutdown(); send(tls.take_output()); close;
//
// TLS 1.2 and 1.3 only. Client-initiated renegotiation (TLS 1.2) is refused:
// it costs the server a handshake per request and buys syslog nothing.
#pragma once

#include <openssl/types.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "server/base/expected.h"
#include "server/base/status.h"

namespace sluice::server {

struct TlsServerConfig {
  std::string cert_file;       // PEM certificate chain: the server's first, then intermediates
  std::string key_file;        // PEM private key (unencrypted: nobody is there to type a passphrase)
  std::string client_ca_file;  // PEM CA bundle; empty = don't ask for client certificates
  // With client_ca_file: reject clients without a valid certificate. Without
  // it, a client may send none, but one it sends must verify.
  bool require_client_cert = false;
};

// A loaded, checked server certificate and its settings (OpenSSL's SSL_CTX).
// Immutable after create_server(); shared by all sessions on any thread
// (SSL_new on a shared SSL_CTX is thread-safe). Sessions hold their own
// reference to the SSL_CTX, so they may outlive this object.
class TlsContext {
 public:
  // Loads and checks the certificate chain and key (they must match) and the
  // client CA bundle. Errors name the file and OpenSSL's reason, e.g.
  // "tls: key file /x/key.pem: No such file or directory",
  // "tls: certificate /x/cert.pem and key /x/key.pem do not match".
  static Expected<std::shared_ptr<TlsContext>> create_server(const TlsServerConfig& config);

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ~TlsContext();

  SSL_CTX* native() const { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

// One server-side TLS connection over memory BIOs.
// Thread: one thread at a time (the connection's loop).
class TlsSession {
 public:
  explicit TlsSession(const TlsContext& context);
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;
  ~TlsSession();

  // Feeds ciphertext read from the socket, drives the handshake and passes
  // every decrypted plaintext chunk to `on_plaintext`. A chunk is at most one
  // TLS record (16 KiB); record boundaries mean nothing to the application.
  // The view is valid only during the call. `on_plaintext` may call write()
  // and shutdown(), not feed().
  //
  // Returns an error on a fatal TLS error (failed handshake, rejected client
  // certificate, bad record, not TLS at all) with a short reason, e.g.
  // "tls: handshake: peer did not return a certificate". The alert for the
  // peer is then in take_output(); the caller sends it and closes. Every later
  // feed() and write() returns the same error. Data after the peer's
  // close_notify is ignored.
  Status feed(std::string_view ciphertext, const std::function<void(std::string_view)>& on_plaintext);

  // Encrypts application data for the peer (e.g. RELP responses) into the
  // output. Data written before the handshake completes is buffered and
  // encrypted once it does. Fails after a fatal error or after shutdown().
  Status write(std::string_view plaintext);

  // Bytes to send to the peer (handshake messages, alerts, records). The
  // caller takes and sends them after every feed(), write() and shutdown(),
  // in order. Empty if there is nothing to send.
  std::string take_output();
  // The same, appended to `out`, so a caller can reuse its buffers.
  void take_output(std::string& out);

  bool handshake_done() const { return handshake_done_; }
  bool peer_closed() const { return peer_closed_; }  // close_notify received
  // Subject of the verified client certificate in RFC 2253 form
  // ("CN=client,O=sluice"), or "" if the client sent none.
  const std::string& peer_subject() const { return peer_subject_; }
  // Negotiated protocol ("TLSv1.3"), for logs; "" before the handshake.
  std::string_view protocol() const;

  // Queues close_notify into the output. Before the handshake completes (or
  // after a fatal error) there is nothing to close cleanly, so this only
  // stops further writes and drops plaintext still waiting for the handshake.
  void shutdown();

 private:
  Status fail(std::string_view what);
  Status finish_handshake();
  Status write_now(std::string_view plaintext);

  SSL* ssl_ = nullptr;
  BIO* network_in_ = nullptr;   // ciphertext from the peer; owned by ssl_
  BIO* network_out_ = nullptr;  // ciphertext for the peer; owned by ssl_
  bool handshake_done_ = false;
  bool peer_closed_ = false;
  bool shutdown_sent_ = false;
  Status error_;                       // the first fatal error; sticky
  std::string pending_plaintext_;      // write()s before the handshake completed
  std::string peer_subject_;
  // Decrypted records land here and are delivered as views: one allocation
  // per session, none per record. 16 KiB is TLS's largest record plaintext,
  // so one SSL_read_ex() takes a whole record.
  static constexpr size_t kPlaintextBufferBytes = 16 * 1024;
  std::unique_ptr<char[]> plaintext_buffer_;
};

}  // namespace sluice::server
