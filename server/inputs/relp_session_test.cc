#include "server/inputs/relp_session.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::server {
namespace {

// What librelp 1.2.16's client (omrelp) sends to open a session, byte for byte
// (librelp issue #129 records it on the wire; relpsess.c and offers.c build it).
constexpr std::string_view kOmrelpOpen =
    "1 open 86 relp_version=0\nrelp_software=librelp,1.2.16,http://librelp.adiscon.com\ncommands=syslog\n";

// Our answer to it: "200 OK", LF, then our offers in librelp's order.
std::string open_response(std::string_view txnr) {
  std::string data = "200 OK\nrelp_version=0\nrelp_software=";
  data += RelpSession::software_offer();
  data += "\ncommands=syslog";
  return std::string(txnr) + " rsp " + std::to_string(data.size()) + " " + data + "\n";
}

std::string syslog_frame(uint64_t txnr, std::string_view message) {
  std::string frame = std::to_string(txnr) + " syslog " + std::to_string(message.size());
  if (!message.empty()) frame += " " + std::string(message);
  return frame + "\n";
}

struct Message {
  uint64_t txnr;
  std::string text;
  bool truncated;
  bool operator==(const Message&) const = default;
};

std::string render(const std::vector<Message>& messages) {
  std::string out;
  for (const Message& message : messages) {
    out += std::to_string(message.txnr) + ":[" + message.text + (message.truncated ? "](truncated) " : "] ");
  }
  return out;
}

struct Collector {
  explicit Collector(size_t max_message_bytes) : session(max_message_bytes) {}

  Status feed(std::string_view bytes) {
    Status status = session.feed(bytes, [this](uint64_t txnr, std::string_view data, bool truncated) {
      messages.push_back({txnr, std::string(data), truncated});
    });
    max_buffered = std::max(max_buffered, session.buffered_bytes());
    return status;
  }
  // Feeds `stream` in chunks that end at each of `cuts`; stops at an error.
  Status feed_cut(std::string_view stream, const std::vector<size_t>& cuts) {
    size_t from = 0;
    for (size_t cut : cuts) {
      if (Status status = feed(stream.substr(from, cut - from)); !status) return status;
      from = cut;
    }
    return feed(stream.substr(from));
  }
  Status feed_bytewise(std::string_view stream) {
    for (char c : stream) {
      if (Status status = feed(std::string_view(&c, 1)); !status) return status;
    }
    return Status::ok();
  }

  RelpSession session;
  std::vector<Message> messages;
  size_t max_buffered = 0;
};

TEST_CASE("relp: omrelp's open, syslog and close exchange, byte for byte") {
  Collector peer(1024);
  REQUIRE(peer.feed(kOmrelpOpen).is_ok());
  CHECK(peer.session.take_output() == open_response("1"));
  CHECK(peer.messages.empty());

  REQUIRE(peer.feed("2 syslog 55 <13>1 2024-03-01T10:00:00Z host app - - - first message\n").is_ok());
  REQUIRE(peer.feed("3 syslog 14 second message\n").is_ok());
  CHECK(render(peer.messages) ==
        "2:[<13>1 2024-03-01T10:00:00Z host app - - - first message] 3:[second message] ");
  CHECK(peer.session.take_output().empty());  // nothing is acknowledged before it is durable
  CHECK(peer.session.unanswered_messages() == 2);

  peer.session.acknowledge(2);
  peer.session.acknowledge(3);
  CHECK(peer.session.take_output() == "2 rsp 6 200 OK\n3 rsp 6 200 OK\n");

  CHECK_FALSE(peer.session.close_requested());
  REQUIRE(peer.feed("4 close 0\n").is_ok());
  CHECK(peer.session.take_output() == "4 rsp 6 200 OK\n");
  CHECK(peer.session.close_requested());
  CHECK(peer.session.buffered_bytes() == 0);
}

TEST_CASE("relp: the open response carries the offers librelp's client parses") {
  // The literal for a known software string, so that a change to the framing
  // of the response shows here, not just in open_response().
  const std::string data = "200 OK\nrelp_version=0\nrelp_software=" + std::string(RelpSession::software_offer()) +
                           "\ncommands=syslog";
  Collector peer(64);
  REQUIRE(peer.feed(kOmrelpOpen).is_ok());
  const std::string output = peer.session.take_output();
  CHECK(output.rfind("1 rsp ", 0) == 0);
  CHECK(output.substr(6, output.find(' ', 6) - 6) == std::to_string(data.size()));
  CHECK(output.substr(output.size() - data.size() - 1) == data + "\n");
  CHECK(RelpSession::software_offer().rfind("sluice", 0) == 0);
}

TEST_CASE("relp: open offers in another order, with extra offers and versions, are accepted") {
  Collector peer(64);
  const std::string offers = "commands=eventlog,syslog\nfuture_feature=a,b\nrelp_version=1\n";
  REQUIRE(peer.feed("1 open " + std::to_string(offers.size()) + " " + offers + "\n").is_ok());
  CHECK(peer.session.take_output() == open_response("1"));  // still relp_version=0
  REQUIRE(peer.feed(syslog_frame(2, "x")).is_ok());
  CHECK(render(peer.messages) == "2:[x] ");
}

// One stream that exercises every state: open, a normal message, an empty one,
// an oversize one, one exactly at the limit, then close.
std::string full_stream() {
  std::string stream(kOmrelpOpen);
  stream += syslog_frame(2, "hello relp");
  stream += syslog_frame(3, "");
  stream += syslog_frame(4, "0123456789abcdefOVERSIZE-TAIL");
  stream += syslog_frame(5, "exactly-16-bytes");
  stream += "6 close 0\n";
  return stream;
}

const std::vector<Message> kFullStreamMessages = {
    {2, "hello relp", false},
    {3, "", false},
    {4, "0123456789abcdef", true},
    {5, "exactly-16-bytes", false},
};

TEST_CASE("relp: several frames in one feed") {
  Collector peer(16);
  REQUIRE(peer.feed(full_stream()).is_ok());
  CHECK(render(peer.messages) == render(kFullStreamMessages));
  CHECK(peer.session.unanswered_messages() == 4);
  CHECK_FALSE(peer.session.close_requested());  // waits for the four answers
  CHECK(peer.session.buffered_bytes() == 0);
}

TEST_CASE("relp: a stream split at every byte position parses the same") {
  const std::string stream = full_stream();
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    CAPTURE(cut);
    Collector peer(16);
    REQUIRE(peer.feed_cut(stream, {cut}).is_ok());
    CHECK(render(peer.messages) == render(kFullStreamMessages));
    CHECK(peer.session.buffered_bytes() == 0);
  }
  for (size_t first = 0; first <= stream.size(); first += 3) {
    for (size_t second = first; second <= stream.size(); second += 5) {
      CAPTURE(first);
      CAPTURE(second);
      Collector peer(16);
      REQUIRE(peer.feed_cut(stream, {first, second}).is_ok());
      CHECK(render(peer.messages) == render(kFullStreamMessages));
    }
  }
}

TEST_CASE("relp: a stream fed one byte at a time buffers no more than the limit") {
  Collector peer(16);
  REQUIRE(peer.feed_bytewise(full_stream()).is_ok());
  CHECK(render(peer.messages) == render(kFullStreamMessages));
  // The open frame's offers are the largest thing held.
  CHECK(peer.max_buffered <= kOmrelpOpen.size());
}

TEST_CASE("relp: a zero-length syslog frame is an empty message") {
  Collector peer(16);
  REQUIRE(peer.feed(kOmrelpOpen).is_ok());
  REQUIRE(peer.feed("2 syslog 0\n").is_ok());
  CHECK(render(peer.messages) == "2:[] ");
  peer.session.acknowledge(2);
  CHECK(peer.session.take_output() == open_response("1") + "2 rsp 6 200 OK\n");
}

TEST_CASE("relp: an oversize message is truncated, skipped unbuffered, and the next frame is intact") {
  Collector peer(100);
  REQUIRE(peer.feed(kOmrelpOpen).is_ok());
  const std::string big(1 << 20, 'x');
  const std::string stream = syslog_frame(2, "HEAD" + big) + syslog_frame(3, "next");
  // In 4 KiB reads, as a socket would deliver it.
  for (size_t from = 0; from < stream.size(); from += 4096) {
    REQUIRE(peer.feed(std::string_view(stream).substr(from, 4096)).is_ok());
  }
  REQUIRE(peer.messages.size() == 2);
  CHECK(peer.messages[0] == Message{2, "HEAD" + std::string(96, 'x'), true});
  CHECK(peer.messages[1] == Message{3, "next", false});
  CHECK(peer.max_buffered <= 100 + 32);

  // Truncated messages are acknowledged like any other.
  peer.session.acknowledge(2);
  peer.session.acknowledge(3);
  CHECK(peer.session.take_output() == open_response("1") + "2 rsp 6 200 OK\n3 rsp 6 200 OK\n");
}

TEST_CASE("relp: a message longer than the limit by one byte is truncated") {
  Collector peer(4);
  REQUIRE(peer.feed(kOmrelpOpen).is_ok());
  REQUIRE(peer.feed(syslog_frame(2, "abcd") + syslog_frame(3, "abcde")).is_ok());
  CHECK(render(peer.messages) == "2:[abcd] 3:[abcd](truncated) ");
}

TEST_CASE("relp: acknowledgements and rejections leave in the order they are made") {
  Collector peer(64);
  REQUIRE(peer.feed(kOmrelpOpen).is_ok());
  peer.session.take_output();
  REQUIRE(peer.feed(syslog_frame(2, "a") + syslog_frame(3, "b") + syslog_frame(4, "c")).is_ok());
  peer.session.acknowledge(4);
  peer.session.reject(2, "disk full\nretry later");
  peer.session.acknowledge(3);
  CHECK(peer.session.take_output() ==
        "4 rsp 6 200 OK\n2 rsp 25 500 disk full retry later\n3 rsp 6 200 OK\n");
  CHECK(peer.session.unanswered_messages() == 0);

  // Reasons are cut to the 80 characters of HUMAN-TEXT; an empty one says "error".
  REQUIRE(peer.feed(syslog_frame(5, "d") + syslog_frame(6, "e")).is_ok());
  peer.session.reject(5, std::string(200, 'r'));
  peer.session.reject(6, "");
  CHECK(peer.session.take_output() == "5 rsp 84 500 " + std::string(80, 'r') + "\n6 rsp 9 500 error\n");
}

TEST_CASE("relp: the close response waits for every earlier message to be answered") {
  Collector peer(64);
  REQUIRE(peer.feed(kOmrelpOpen).is_ok());
  peer.session.take_output();
  REQUIRE(peer.feed(syslog_frame(2, "a") + syslog_frame(3, "b") + "4 close 0\n").is_ok());
  CHECK(peer.session.take_output().empty());
  CHECK_FALSE(peer.session.close_requested());

  peer.session.acknowledge(3);
  CHECK(peer.session.take_output() == "3 rsp 6 200 OK\n");
  CHECK_FALSE(peer.session.close_requested());

  peer.session.reject(2, "no");
  CHECK(peer.session.take_output() == "2 rsp 6 500 no\n4 rsp 6 200 OK\n");
  CHECK(peer.session.close_requested());
}

TEST_CASE("relp: messages can be acknowledged from inside the callback") {
  RelpSession session(64);
  REQUIRE(session.feed(kOmrelpOpen, [](uint64_t, std::string_view, bool) {}).is_ok());
  session.take_output();
  const Status status = session.feed(syslog_frame(2, "a") + "3 close 0\n",
                                     [&session](uint64_t txnr, std::string_view, bool) { session.acknowledge(txnr); });
  REQUIRE(status.is_ok());
  CHECK(session.take_output() == "2 rsp 6 200 OK\n3 rsp 6 200 OK\n");
  CHECK(session.close_requested());
}

TEST_CASE("relp: server_close queues the serverclose hint") {
  Collector peer(64);
  REQUIRE(peer.feed(kOmrelpOpen).is_ok());
  peer.session.take_output();
  peer.session.server_close();
  CHECK(peer.session.take_output() == "0 serverclose 0\n");
}

struct Violation {
  const char* name;
  std::string stream;         // after omrelp's open, unless `before_open`
  std::string error_part;     // a substring of the error message
  std::string output = "";    // the response queued for the offending frame
  bool before_open = false;
};

TEST_CASE("relp: protocol violations are errors") {
  const std::vector<Violation> violations = {
      {"frame starts with a letter", "x syslog 1 a\n", "does not start with a TXNR"},
      {"frame starts with SP", " 2 syslog 1 a\n", "does not start with a TXNR"},
      {"TXNR of 10 digits", "1234567890 syslog 1 a\n", "TXNR longer than 9 digits"},
      {"TXNR glued to the command", "2syslog 1 a\n", "TXNR not followed by SP"},
      {"TXNR 0", "0 syslog 1 a\n", "reserved"},
      {"TXNR repeated", "1 syslog 1 a\n", "TXNR 1 out of sequence, expected 2"},
      {"TXNR skipped", "3 syslog 1 a\n", "TXNR 3 out of sequence, expected 2"},
      {"TXNR with leading zeros but another value", "02 syslog 1 a\n3 syslog 1 b\n4 syslog 1 c\n6 syslog 1 d\n",
       "TXNR 6 out of sequence, expected 5"},
      {"unknown command", "2 eventlog 1 a\n", "unknown command 'eventlog'"},
      {"commands are case-sensitive", "2 SYSLOG 1 a\n", "unknown command 'SYSLOG'"},
      {"rsp from a client", "2 rsp 6 200 OK\n", "unknown command 'rsp'"},
      {"serverclose from a client", "2 serverclose 0\n", "unknown command 'serverclose'"},
      {"command of 33 letters", "2 " + std::string(33, 'a') + " 0\n", "longer than 32"},
      {"empty command", "2  1 a\n", "missing command"},
      {"command glued to a digit", "2 syslog1 a\n", "command not followed by SP"},
      {"DATALEN not numeric", "2 syslog abc\n", "DATALEN is not a number"},
      {"DATALEN missing", "2 syslog \n", "DATALEN is not a number"},
      {"DATALEN negative", "2 syslog -1 a\n", "DATALEN is not a number"},
      {"DATALEN of 10 digits", "2 syslog 1234567890 a\n", "DATALEN longer than 9 digits"},
      {"DATALEN not followed by SP", "2 syslog 3\nabc\n", "DATALEN not followed by SP"},
      {"DATALEN 0 followed by SP", "2 syslog 0 \n", "DATALEN 0 not followed by the LF trailer"},
      {"data longer than DATALEN", "2 syslog 3 abcd\n", "not followed by the LF trailer"},
      {"data shorter than DATALEN", "2 syslog 5 abc\n3 syslog 1 a\n", "not followed by the LF trailer"},
      {"CRLF trailer", "2 syslog 3 abc\r\n", "not followed by the LF trailer"},
      {"frame after close", "2 close 0\n3 syslog 1 a\n", "frame after close", "2 rsp 6 200 OK\n"},
      {"duplicate open", std::string(kOmrelpOpen).replace(0, 1, "2"), "duplicate open",
       "2 rsp 43 500 protocol error: connection already open\n"},
      {"syslog before open", "1 syslog 1 a\n", "syslog before open", "1 rsp 20 500 command disabled\n", true},
      {"open without relp_version", "1 open 15 commands=syslog\n", "relp_version", "1 rsp 30 500 invalid relp_version offer\n",
       true},
      {"open with a non-numeric relp_version", "1 open 32 relp_version=one\ncommands=syslog\n", "relp_version",
       "1 rsp 30 500 invalid relp_version offer\n", true},
      {"open without offers", "1 open 0\n", "relp_version", "1 rsp 30 500 invalid relp_version offer\n", true},
      {"open without the syslog command", "1 open 32 relp_version=0\ncommands=eventlog\n", "syslog command",
       "1 rsp 44 500 required command not supported by client\n", true},
      {"open with oversize offers", "1 open 4097 ", "longer than 4096", "1 rsp 19 500 offers too long\n", true},
  };
  for (const Violation& violation : violations) {
    CAPTURE(violation.name);
    const std::string stream = violation.before_open ? violation.stream : std::string(kOmrelpOpen) + violation.stream;
    const std::string expected_output = (violation.before_open ? "" : open_response("1")) + violation.output;
    for (const bool bytewise : {false, true}) {
      CAPTURE(bytewise);
      Collector peer(64);
      const Status status = bytewise ? peer.feed_bytewise(stream) : peer.feed(stream);
      REQUIRE_FALSE(status.is_ok());
      CHECK(status.message().find(violation.error_part) != std::string::npos);
      CHECK(peer.session.take_output() == expected_output);
      // The session stays failed.
      CHECK_FALSE(peer.feed(syslog_frame(9, "x")).is_ok());
    }
  }
}

TEST_CASE("relp: messages before a violation in the same feed are delivered") {
  Collector peer(64);
  REQUIRE(peer.feed(kOmrelpOpen).is_ok());
  const Status status = peer.feed(syslog_frame(2, "kept") + "3 syslog 2 ab!\n" + syslog_frame(4, "never"));
  CHECK_FALSE(status.is_ok());
  CHECK(render(peer.messages) == "2:[kept] ");
  CHECK(peer.session.unanswered_messages() == 1);
}

TEST_CASE("relp: a close before any message needs no open and closes at once") {
  Collector peer(64);
  REQUIRE(peer.feed("1 close 0\n").is_ok());
  CHECK(peer.session.take_output() == "1 rsp 6 200 OK\n");
  CHECK(peer.session.close_requested());
}

TEST_CASE("relp: TXNR may carry leading zeros, as librelp's parser accepts them") {
  Collector peer(64);
  REQUIRE(peer.feed(kOmrelpOpen).is_ok());
  REQUIRE(peer.feed("002 syslog 01 a\n").is_ok());
  CHECK(render(peer.messages) == "2:[a] ");
}

}  // namespace
}  // namespace sluice::server
