// The protocol handlers stacked on StreamListener connections:
//   SyslogStreamHandler  RFC6587 framing -> BatchBuilder   (syslog over TCP)
//   TlsHandler           TLS (RFC5425) around any inner handler
// RELP has its own input (relp_input.h) because it acknowledges.
// Thread: ingest loop only.
#pragma once

#include <memory>
#include <string_view>

#include "server/inputs/batch_builder.h"
#include "server/inputs/stream_listener.h"
#include "server/inputs/syslog_framing.h"
#include "server/inputs/tls_session.h"

namespace sluice::server {

class SyslogStreamHandler final : public ConnectionHandler {
 public:
  SyslogStreamHandler(BatchBuilder& batches, PerInput& counters, std::string_view peer,
                      size_t max_message_bytes);
  bool on_bytes(std::string_view bytes) override;
  void on_end() override;

 private:
  void count_framing_anomalies();

  BatchBuilder& batches_;
  PerInput& counters_;
  std::string_view peer_;
  SyslogFramer framer_;
};

// Decrypts for an inner handler and encrypts what the inner handler sends.
class TlsHandler final : public ConnectionHandler, public ByteSink {
 public:
  TlsHandler(const TlsContext& context, ByteSink& socket, PerInput& counters);
  // The inner handler is built with `this` as its sink, so it comes after.
  void set_inner(std::unique_ptr<ConnectionHandler> inner) { inner_ = std::move(inner); }

  bool on_bytes(std::string_view bytes) override;
  void on_end() override;
  bool established() const override { return session_.handshake_done(); }
  void send(std::string_view plaintext) override;
  void close() override;

 private:
  void flush_output();

  TlsSession session_;
  ByteSink& socket_;
  PerInput& counters_;
  std::unique_ptr<ConnectionHandler> inner_;
  bool failed_ = false;
};

}  // namespace sluice::server
