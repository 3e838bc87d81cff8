// The server side of one RELP connection (rsyslog's Reliable Event Logging
// Protocol, as spoken by omrelp through librelp), as a pure state machine:
// bytes in, messages and response bytes out. No sockets, no libuv, no clock,
// so every split of a stream is unit-tested.
//
// Wire format (librelp doc/relp.md, and librelp's src/relpframe.c, copen.c,
// scsyslog.c, cclose.c, relpsess.c, offers.c, which are what omrelp talks to):
//
//   FRAME   = TXNR SP COMMAND SP DATALEN [SP DATA] LF   ; no SP and no DATA when DATALEN is 0
//   TXNR    = 1*9DIGIT   ; 1 on a new connection, then +1 per frame, 999999999 wraps to 1
//   COMMAND = 1*32ALPHA  ; "open", "syslog", "close" from clients
//   DATALEN = 1*9DIGIT   ; octets of DATA
//
// A session as omrelp runs it (librelp 1.2.16, recorded in librelp issue #129):
//
//   C: 1 open 86 relp_version=0\nrelp_software=librelp,1.2.16,http://librelp.adiscon.com\ncommands=syslog\n
//   S: 1 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.2.16,http://librelp.adiscon.com\ncommands=syslog\n
//   C: 2 syslog 363 <13>1 2024-...\n
//   S: 2 rsp 6 200 OK\n
//   C: 3 close 0\n
//   S: 3 rsp 6 200 OK\n
//
// We answer "open" with our own offers in librelp's order: relp_version=0
// (librelp's clients reject any version above their own, which is 0),
// relp_software=sluice[,version] and commands=syslog. librelp's server answers
// "close" with "rsp 0" (no data), which its own client fails to parse as a
// response (a STATUS is mandatory); "200 OK" lets the client finish the close
// cleanly. librelp's server also sends the "0 serverclose 0" hint whenever it
// drops a session; after a client's "close" that hint is moot, so we do not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <memory>
#include <type_traits>
#include <utility>

#include "server/base/status.h"

namespace sluice::server {

// Protocol violations make feed() return an error and leave the session
// failed: RELP's answer to a framing error is to drop the connection (the
// client resends what was not acknowledged), never to resynchronise.
//
// Responses are queued in the order they are decided, so acks may leave out of
// order: librelp's client looks every "rsp" up by TXNR in its unacked list.
// The one exception is "close": its response waits until every syslog frame
// received before it has been acknowledged or rejected, so that the client
// never closes with messages in flight that we meant to acknowledge.
//
// Memory: at most max_message_bytes of one syslog frame's data are buffered
// (the rest of a longer frame is skipped as it streams past), at most
// kMaxOpenDataBytes of an "open" frame, and up to 32 command letters.
// Response bytes accumulate until take_output().
//
// Thread: one connection, on the ingest loop.
class RelpSession {
 public:
  // librelp's own offers are under 100 bytes; 4 KiB leaves room for any
  // client's extra offers while bounding what a peer can make us hold before
  // the session is open.
  static constexpr size_t kMaxOpenDataBytes = 4096;
  // The spec limits HUMAN-TEXT to 80 characters and librelp's client reads no
  // more than that before the response data, so reject() cuts its reason here.
  static constexpr size_t kMaxReasonBytes = 80;

  // max_message_bytes: syslog payloads longer than this are delivered
  // truncated to it (truncated=true) and still acknowledged as one message.
  explicit RelpSession(size_t max_message_bytes);

  // Our relp_software offer: "sluice,VERSION" (or "sluice" where the version
  // is not compiled in).
  static std::string_view software_offer();

  // Feeds bytes read from the socket. For every complete "syslog" frame calls
  // on_message(uint64_t txnr, std::string_view data, bool truncated); `data`
  // is valid only during the call, which must eventually be answered with
  // acknowledge(txnr) or reject(txnr, ...). Partial frames are copied and
  // completed by later calls. Handles "open" and "close" itself (see
  // take_output(), close_requested()).
  //
  // Returns an error with a short reason on a protocol violation; messages of
  // complete frames before the violation have been delivered. The caller then
  // counts it, sends take_output() (which may hold a 500 response for the
  // offending frame) and closes the connection. Every later feed() fails too.
  template <typename OnMessage>
  Status feed(std::string_view bytes, OnMessage&& on_message) {
    using Callback = std::remove_reference_t<OnMessage>;
    MessageSink sink{
        [](void* context, uint64_t txnr, std::string_view data, bool truncated) {
          (*static_cast<Callback*>(context))(txnr, data, truncated);
        },
        const_cast<void*>(static_cast<const void*>(std::addressof(on_message)))};
    return feed_bytes(bytes, sink);
  }

  // The syslog message `txnr` is durable: queues "TXNR rsp 6 200 OK\n".
  // Any order relative to other acknowledgements.
  void acknowledge(uint64_t txnr);

  // The syslog message `txnr` could not be stored: queues "TXNR rsp N 500
  // reason\n" (LF and CR in `reason` become spaces; cut to kMaxReasonBytes).
  // Note that librelp's client logs the error and drops the message from its
  // resend list; to have it resent instead, close the connection without
  // answering.
  void reject(uint64_t txnr, std::string_view reason);

  // Queues the "0 serverclose 0\n" hint (server-initiated close, e.g. at
  // shutdown or idle timeout); the caller sends it and closes the socket.
  // librelp's client reconnects and resends whatever was not acknowledged.
  void server_close();

  // Bytes to send, in order; the caller sends them after each feed(),
  // acknowledge() and reject().
  std::string take_output();

  // The peer sent "close" and its response is now queued (after every
  // earlier message was answered): after sending take_output(), close the socket.
  bool close_requested() const { return close_requested_; }

  // Bytes of an incomplete frame held across feed() calls.
  size_t buffered_bytes() const { return data_.size() + command_.size(); }

  // Syslog frames delivered but not yet acknowledged or rejected.
  size_t unanswered_messages() const { return unanswered_messages_; }

 private:
  // A non-owning callback, so that the parser lives in the .cc file and
  // calling it allocates nothing.
  struct MessageSink {
    void (*call)(void* context, uint64_t txnr, std::string_view data, bool truncated);
    void* context;
  };

  enum class State : uint8_t {
    kTxnr,     // reading TXNR digits
    kCommand,  // reading COMMAND letters
    kDataLen,  // reading DATALEN digits
    kData,     // reading DATA (keeping the first data_keep_ octets)
    kTrailer,  // expecting the LF trailer
    kFailed,   // a protocol violation was reported; nothing more is parsed
  };

  enum class Command : uint8_t { kOpen, kSyslog, kClose };

  Status feed_bytes(std::string_view bytes, const MessageSink& sink);
  Status on_txnr_end();
  Status on_command_end();
  Status on_datalen_end();
  Status on_frame_end(std::string_view data, const MessageSink& sink);
  Status handle_open(std::string_view offers);
  Status fail(std::string message);
  void queue_response(uint64_t txnr, std::string_view data);
  void answer_message();

  size_t max_message_bytes_;
  State state_ = State::kTxnr;
  bool open_ = false;
  bool close_received_ = false;   // "close" parsed; no command may follow
  bool close_requested_ = false;  // its response is queued
  uint64_t close_txnr_ = 0;
  uint64_t expected_txnr_ = 1;
  size_t unanswered_messages_ = 0;

  // The frame being parsed.
  uint64_t txnr_ = 0;
  size_t field_digits_ = 0;  // digits of TXNR or DATALEN so far
  std::string command_;      // COMMAND letters so far
  Command command_kind_ = Command::kSyslog;
  uint64_t data_len_ = 0;    // DATALEN
  uint64_t data_seen_ = 0;   // octets of DATA consumed so far
  uint64_t data_keep_ = 0;   // octets of DATA kept for dispatch
  // Kept DATA octets that arrived in earlier feed() calls (or, within one
  // call, when the kept part spans more than one call).
  std::string data_;

  std::string output_;
  std::string last_error_;
};

}  // namespace sluice::server
