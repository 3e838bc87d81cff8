#include "parsers/syslog_parser.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::parsers {
namespace {

using namespace std::string_view_literals;

constexpr int64_t kNs = 1'000'000'000;
// 2024-06-15T00:00:00Z: mid-year, so year-less timestamps land in 2024.
constexpr int64_t kReceivedNs = 1718409600 * kNs;

struct Harness {
  Arena arena;
  std::vector<Field> fields;
  SyslogOptions options;
  std::string owned_frame;

  SyslogMessage parse(std::string_view frame, int64_t received_ns = kReceivedNs) {
    fields.clear();
    return parse_syslog(frame, received_ns, options, arena, fields);
  }
  // A built frame is kept until the next parse, as the views need.
  SyslogMessage parse_owned(std::string frame) {
    owned_frame = std::move(frame);
    return parse(std::string_view(owned_frame));
  }

  // The value of the first field called `name`; "<absent>" if there is none.
  std::string_view field(std::string_view name) const {
    for (const Field& f : fields) {
      if (f.name == name) return f.value;
    }
    return "<absent>";
  }
};

bool points_into(std::string_view view, std::string_view frame) {
  return view.data() >= frame.data() && view.data() + view.size() <= frame.data() + frame.size();
}

TEST_CASE("syslog: RFC5424 example with two SD elements and a BOM") {
  Harness h;
  const std::string frame =
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
      "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
      "[examplePriority@32473 class=\"high\"] \xEF\xBB\xBF" "An application event log entry...";
  const SyslogMessage m = h.parse(frame);
  CHECK(m.format == SyslogFormat::kRfc5424);
  CHECK(m.well_formed);
  CHECK(m.error.empty());
  CHECK(m.facility == 20);
  CHECK(m.severity == 5);
  CHECK(m.has_timestamp);
  CHECK(m.timestamp_ns == 1065910455 * kNs + 3'000'000);
  CHECK(m.hostname == "mymachine.example.com");
  CHECK(m.app_name == "evntslog");
  CHECK(m.procid.empty());
  CHECK(m.msgid == "ID47");
  CHECK(m.message == "An application event log entry...");
  REQUIRE(h.fields.size() == 4);
  CHECK(h.fields[0].name == "sd.exampleSDID@32473.iut");
  CHECK(h.fields[0].value == "3");
  CHECK(h.fields[1].name == "sd.exampleSDID@32473.eventSource");
  CHECK(h.fields[1].value == "Application");
  CHECK(h.fields[2].name == "sd.exampleSDID@32473.eventID");
  CHECK(h.fields[2].value == "1011");
  CHECK(h.fields[3].name == "sd.examplePriority@32473.class");
  CHECK(h.fields[3].value == "high");
  // Unescaped values stay in the frame; names are built in the arena.
  CHECK(points_into(h.fields[0].value, frame));
  CHECK_FALSE(points_into(h.fields[0].name, frame));
  CHECK(points_into(m.message, frame));
}

TEST_CASE("syslog: RFC5424 SD escapes") {
  Harness h;
  const std::string frame =
      R"(<14>1 2024-03-01T12:00:00Z host app 42 - [x@1 q="say \"hi\"" b="back\\slash" r="a\]b" plain="ok"] m)";
  const SyslogMessage m = h.parse(frame);
  CHECK(m.well_formed);
  CHECK(m.procid == "42");
  CHECK(m.msgid.empty());
  CHECK(h.field("sd.x@1.q") == R"(say "hi")");
  CHECK(h.field("sd.x@1.b") == R"(back\slash)");
  CHECK(h.field("sd.x@1.r") == "a]b");
  CHECK(h.field("sd.x@1.plain") == "ok");
  CHECK_FALSE(points_into(h.field("sd.x@1.q"), frame));  // unescaped into the arena
  CHECK(points_into(h.field("sd.x@1.plain"), frame));
  CHECK(m.message == "m");

  SUBCASE("an invalid escape is kept as it is, but is not well formed") {
    const SyslogMessage bad = h.parse(R"(<14>1 - - - - - [x@1 path="C:\temp" n="\n"] m)");
    CHECK_FALSE(bad.well_formed);
    CHECK(bad.error == "invalid escape in PARAM-VALUE");
    CHECK(h.field("sd.x@1.path") == R"(C:\temp)");
    CHECK(h.field("sd.x@1.n") == R"(\n)");
    CHECK(bad.message == "m");
  }
  SUBCASE("an unescaped ']' inside quotes is kept, not well formed") {
    const SyslogMessage bad = h.parse(R"(<29>3 2016-01-15T01:00:43Z hn S - - [meta escape="]"] 127.0.0.1 - -)");
    CHECK_FALSE(bad.well_formed);
    CHECK(h.field("sd.meta.escape") == "]");
    CHECK(bad.message == "127.0.0.1 - -");
  }
  SUBCASE("an empty value") {
    const SyslogMessage ok = h.parse(R"(<14>1 - - - - - [a b=""])");
    CHECK(ok.well_formed);
    CHECK(h.field("sd.a.b") == "");
    CHECK(ok.message.empty());
  }
}

TEST_CASE("syslog: RFC5424 SD elements without params and fields appended after existing ones") {
  Harness h;
  h.fields.push_back({"earlier", "field"});
  const SyslogMessage m =
      parse_syslog("<14>1 - - - - - [a][b k=\"v\"] msg", kReceivedNs, h.options, h.arena, h.fields);
  CHECK(m.well_formed);
  REQUIRE(h.fields.size() == 2);
  CHECK(h.fields[0].name == "earlier");
  CHECK(h.fields[1].name == "sd.b.k");
  CHECK(m.message == "msg");
}

TEST_CASE("syslog: RFC5424 NILVALUEs") {
  Harness h;
  SyslogMessage m = h.parse("<34>1 - - - - - -");
  CHECK(m.format == SyslogFormat::kRfc5424);
  CHECK(m.well_formed);
  CHECK_FALSE(m.has_timestamp);
  CHECK(m.hostname.empty());
  CHECK(m.app_name.empty());
  CHECK(m.procid.empty());
  CHECK(m.msgid.empty());
  CHECK(m.message.empty());
  CHECK(h.fields.empty());

  m = h.parse("<34>1 - - - - - - hello world");
  CHECK(m.well_formed);
  CHECK(m.message == "hello world");

  m = h.parse("<0>1 - - - - - - ");  // SP then an empty MSG
  CHECK(m.well_formed);
  CHECK(m.facility == 0);
  CHECK(m.severity == 0);
  CHECK(m.message.empty());
}

TEST_CASE("syslog: RFC5424 BOM handling") {
  Harness h;
  SyslogMessage m = h.parse("<34>1 - - - - - - \xEF\xBB\xBF");
  CHECK(m.well_formed);
  CHECK(m.message.empty());

  m = h.parse("<34>1 - - - - - - \xEF\xBB\xBF" "caf\xC3\xA9");
  CHECK(m.well_formed);
  CHECK(m.message == "caf\xC3\xA9");

  m = h.parse("<34>1 - - - - - - \xEF\xBB\xBF" "bad \xC3(");
  CHECK_FALSE(m.well_formed);
  CHECK(m.error == "MSG after a BOM is not valid UTF-8");
  CHECK(m.message == "bad \xC3(");

  m = h.parse("<34>1 - - - - - - no bom \xFF");  // without a BOM, MSG is any octets
  CHECK(m.well_formed);
}

TEST_CASE("syslog: RFC5424 timestamps: fractions and offsets") {
  Harness h;
  struct Case {
    std::string_view timestamp;
    int64_t expected_ns;
    bool well_formed;
  };
  const Case cases[] = {
      {"2003-10-11T22:14:15Z", 1065910455 * kNs, true},
      {"2003-10-11T22:14:15.1Z", 1065910455 * kNs + 100'000'000, true},
      {"2003-10-11T22:14:15.000003Z", 1065910455 * kNs + 3'000, true},
      {"2003-10-11T22:14:15.123456Z", 1065910455 * kNs + 123'456'000, true},
      // Longer than RFC5424's 6 digits: kept to the nanosecond, then truncated.
      {"2003-10-11T22:14:15.123456789Z", 1065910455 * kNs + 123'456'789, false},
      {"2003-10-11T22:14:15.123456789999Z", 1065910455 * kNs + 123'456'789, false},
      {"2003-08-24T05:14:15.000003-07:00", 1061727255 * kNs + 3'000, true},
      {"2024-03-01T12:00:00+01:00", 1709290800 * kNs, true},
      {"2024-03-01T12:00:00.5+01:00", 1709290800 * kNs + 500'000'000, true},
      {"2024-02-29T10:00:00Z", 1709200800 * kNs, true},  // leap year
      // Sep 31 does not exist: not well formed, rolled into Oct 1.
      {"2003-09-31T22:14:15Z", (1065046455) * kNs, false},
      {"2003-10-11t22:14:15z", 1065910455 * kNs, false},
      {"2003-10-11T22:14:15", 1065910455 * kNs, false},  // no zone: default offset (0)
  };
  for (const Case& c : cases) {
    CAPTURE(c.timestamp);
    const std::string frame = "<14>1 " + std::string(c.timestamp) + " host app - - - msg";
    const SyslogMessage m = h.parse(frame);
    CHECK(m.format == SyslogFormat::kRfc5424);
    CHECK(m.has_timestamp);
    CHECK(m.timestamp_ns == c.expected_ns);
    CHECK(m.well_formed == c.well_formed);
    CHECK(m.hostname == "host");
    CHECK(m.message == "msg");
  }
}

TEST_CASE("syslog: RFC5424 invalid timestamps still give the rest of the header") {
  Harness h;
  const std::string_view bad[] = {
      "2003-09-29T22:99:16Z",  "2003-09-29T25:09:16Z",      "2003-13-29T22:09:16Z",
      "2003-08-24T05:14:15-24:00", "2003-08-24T05:14:15-07:61", "2006-01-02T15:04:05Z+07:00",
      "2003-09-29T22:09:01A",  "notATimestamp",             "2003-09-29",
  };
  for (std::string_view timestamp : bad) {
    CAPTURE(timestamp);
    const std::string frame = "<14>1 " + std::string(timestamp) + " host app 1 ID - msg";
    const SyslogMessage m = h.parse(frame);
    CHECK(m.format == SyslogFormat::kRfc5424);
    CHECK_FALSE(m.well_formed);
    CHECK(m.error == "invalid TIMESTAMP");
    CHECK_FALSE(m.has_timestamp);
    CHECK(m.hostname == "host");
    CHECK(m.app_name == "app");
    CHECK(m.procid == "1");
    CHECK(m.msgid == "ID");
    CHECK(m.message == "msg");
  }
  // Valid per RFC3339 but outside int64 nanoseconds: still well formed, but
  // no timestamp (the caller uses the time of receipt).
  for (std::string_view frame : {"<14>1 9999-12-31T23:59:59Z host app - - - msg"sv,
                                 "<0>1 0000-12-31T00:00:00Z host app - - - msg"sv}) {
    CAPTURE(frame);
    const SyslogMessage far = h.parse(frame);
    CHECK(far.well_formed);
    CHECK(far.error.empty());
    CHECK(far.deviation == "TIMESTAMP outside the representable range");
    CHECK_FALSE(far.has_timestamp);
    CHECK(far.hostname == "host");
    CHECK(far.message == "msg");
  }
}

TEST_CASE("syslog: RFC5424 header limits and truncation") {
  Harness h;
  const std::string long_app(49, 'a');
  SyslogMessage m = h.parse_owned("<14>1 - host " + long_app + " - - - msg");
  CHECK_FALSE(m.well_formed);
  CHECK(m.error == "APP-NAME too long");
  CHECK(m.app_name.size() == 49);  // best effort keeps it
  CHECK(m.message == "msg");

  m = h.parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su");
  CHECK(m.format == SyslogFormat::kRfc5424);
  CHECK_FALSE(m.well_formed);
  CHECK(m.error == "truncated header: no PROCID");
  CHECK(m.hostname == "mymachine.example.com");
  CHECK(m.app_name == "su");
  CHECK(m.has_timestamp);

  m = h.parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47");
  CHECK_FALSE(m.well_formed);
  CHECK(m.error == "truncated header: no STRUCTURED-DATA");
  CHECK(m.msgid == "ID47");

  m = h.parse("<14>1 -  host app - - - msg");  // two spaces
  CHECK_FALSE(m.well_formed);
  CHECK(m.error == "extra space in header");
  CHECK(m.hostname == "host");
  CHECK(m.message == "msg");

  m = h.parse("<14>1 - h\xC3\xA9st app - - - msg");
  CHECK_FALSE(m.well_formed);
  CHECK(m.hostname == "h\xC3\xA9st");
}

TEST_CASE("syslog: RFC5424 broken STRUCTURED-DATA leaves the rest in message") {
  Harness h;
  const std::string_view prefix = "<165>1 2003-10-11T22:14:15.003Z host app - ID47 ";
  struct Case {
    std::string_view sd_and_msg;
    std::string_view message;
    size_t fields;
  };
  const Case cases[] = {
      {"[id name=\"value\"x] msg", "[id name=\"value\"x] msg", 0},
      {"[ok a=\"1\"][bad", "[bad", 1},
      {"[ok a=\"1\"][id name=\"value", "[id name=\"value", 1},
      {"[id name=\"value\\", "[id name=\"value\\", 0},
      {"[id name=", "[id name=", 0},
      {"[", "[", 0},
      {"]", "]", 0},
      {"[=x]", "[=x]", 0},
      {"[id a=1]", "[id a=1]", 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.sd_and_msg);
    const SyslogMessage m = h.parse_owned(std::string(prefix) + std::string(c.sd_and_msg));
    CHECK_FALSE(m.well_formed);
    CHECK_FALSE(m.error.empty());
    CHECK(m.message == c.message);
    CHECK(h.fields.size() == c.fields);
    CHECK(m.app_name == "app");
    CHECK(m.msgid == "ID47");
  }

  SyslogMessage m = h.parse_owned(std::string(prefix) + "[id1][id1]");
  CHECK_FALSE(m.well_formed);
  CHECK(m.error == "duplicate SD-ID");

  m = h.parse_owned(std::string(prefix) + "[id a=\"1\"]msg");
  CHECK_FALSE(m.well_formed);
  CHECK(m.error == "no space after STRUCTURED-DATA");
  CHECK(h.field("sd.id.a") == "1");
  CHECK(m.message == "msg");
}

TEST_CASE("syslog: RFC3164 classic") {
  Harness h;
  // Received 2024-10-12: the year comes from the receiver.
  const SyslogMessage m = h.parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
                                  1728684855 * kNs + kNs * 3600);
  CHECK(m.format == SyslogFormat::kRfc3164);
  CHECK(m.well_formed);
  CHECK(m.error.empty());
  CHECK(m.facility == 4);
  CHECK(m.severity == 2);
  CHECK(m.has_timestamp);
  CHECK(m.timestamp_ns == 1728684855 * kNs);  // 2024-10-11T22:14:15Z
  CHECK(m.hostname == "mymachine");
  CHECK(m.app_name == "su");
  CHECK(m.procid.empty());
  CHECK(m.message == "'su root' failed for lonvick on /dev/pts/8");
  CHECK(h.fields.empty());
}

TEST_CASE("syslog: RFC3164 tags") {
  Harness h;
  SyslogMessage m = h.parse(
      "<85>Jan 24 15:50:41 ip-172-31-30-110 sudo[6040]: ec2-user : TTY=pts/0 ; PWD=/var/log ; "
      "USER=root ; COMMAND=/bin/tail secure");
  CHECK(m.well_formed);
  CHECK(m.timestamp_ns == 1706111441 * kNs);
  CHECK(m.hostname == "ip-172-31-30-110");
  CHECK(m.app_name == "sudo");
  CHECK(m.procid == "6040");
  CHECK(m.message == "ec2-user : TTY=pts/0 ; PWD=/var/log ; USER=root ; COMMAND=/bin/tail secure");

  m = h.parse("<166>Jul  6 20:33:28 ABC-1-234567 Some message here");
  CHECK(m.well_formed);
  CHECK(m.timestamp_ns == 1720298008 * kNs);
  CHECK(m.hostname == "ABC-1-234567");
  CHECK(m.app_name.empty());
  CHECK(m.message == "Some message here");

  m = h.parse("<167>Mar 27 19:06:53 source_server sshd(pam_unix)[12750]: session opened for user foo");
  CHECK(m.app_name == "sshd(pam_unix)");
  CHECK(m.procid == "12750");
  CHECK(m.message == "session opened for user foo");

  m = h.parse("<167>Mar  6 16:57:54 172.20.245.8 %PIX-7-710005: UDP request discarded");
  CHECK(m.hostname == "172.20.245.8");
  CHECK(m.app_name == "%PIX-7-710005");
  CHECK(m.message == "UDP request discarded");

  m = h.parse("<175>Oct 16 23:47:31 hostname tag[1234] This is a message");
  CHECK(m.app_name == "tag");
  CHECK(m.procid == "1234");
  CHECK(m.message == "This is a message");

  m = h.parse("<167>Feb 18 16:01:59 serverX -- MARK --");
  CHECK(m.hostname == "serverX");
  CHECK(m.app_name.empty());
  CHECK(m.message == "-- MARK --");

  m = h.parse("<13>Mar  1 12:00:00 host 12:34:56 is not a tag");
  CHECK(m.app_name.empty());
  CHECK(m.message == "12:34:56 is not a tag");

  m = h.parse("<14>Aug 30 23:00:05 X4711");
  CHECK(m.hostname == "X4711");
  CHECK(m.message.empty());

  m = h.parse("<13>Mar  1 12:00:00 host app: \xEF\xBB\xBFwith bom");
  CHECK(m.message == "with bom");
}

TEST_CASE("syslog: RFC3164 with an RFC3339 timestamp (RSYSLOG_ForwardFormat)") {
  Harness h;
  SyslogMessage m = h.parse("<13>2024-03-01T12:00:00.123456+01:00 host app[123]: msg");
  CHECK(m.format == SyslogFormat::kRfc3164);
  CHECK(m.well_formed);
  CHECK(m.facility == 1);
  CHECK(m.severity == 5);
  CHECK(m.timestamp_ns == 1709290800 * kNs + 123'456'000);
  CHECK(m.hostname == "host");
  CHECK(m.app_name == "app");
  CHECK(m.procid == "123");
  CHECK(m.message == "msg");

  m = h.parse("<28>2019-12-02T16:49:23+02:00 host app[23410]: Test");
  CHECK(m.well_formed);
  CHECK(m.timestamp_ns == 1575298163 * kNs);

  // No zone: the default offset applies.
  h.options.default_utc_offset_seconds = 3600;
  m = h.parse("<13>2024-03-01T12:00:00 host app: msg");
  CHECK(m.timestamp_ns == 1709290800 * kNs);
}

TEST_CASE("syslog: RFC3164 without a hostname") {
  Harness h;
  // syslog(3) to /dev/log, logger(1) to a local socket: well formed, because
  // a HOSTNAME never ends in ':' or "[pid]".
  SyslogMessage m = h.parse("<13>Mar  1 12:00:00 app: msg");
  CHECK(m.format == SyslogFormat::kRfc3164);
  CHECK(m.well_formed);
  CHECK(m.error.empty());
  CHECK(m.deviation == "no HOSTNAME");
  CHECK(m.has_timestamp);
  CHECK(m.timestamp_ns == 1709294400 * kNs);
  CHECK(m.hostname.empty());
  CHECK(m.app_name == "app");
  CHECK(m.message == "msg");

  m = h.parse("<13>Mar  1 12:00:00 app[77]: msg");
  CHECK(m.well_formed);
  CHECK(m.hostname.empty());
  CHECK(m.app_name == "app");
  CHECK(m.procid == "77");
  CHECK(m.message == "msg");

  m = h.parse("<13>Mar  1 12:00:00 app[77] msg");  // "[pid]" without ':'
  CHECK(m.well_formed);
  CHECK(m.hostname.empty());
  CHECK(m.app_name == "app");
  CHECK(m.procid == "77");
  CHECK(m.message == "msg");

  m = h.parse("<13>Mar  1 12:00:00 app:");  // a TAG and an empty MSG
  CHECK(m.well_formed);
  CHECK(m.app_name == "app");
  CHECK(m.message.empty());

  // A HOSTNAME with nothing after it: a cut-short frame, or a bare word that
  // may not be a host at all (go-syslog's Example_besteffort). Best effort
  // keeps rsyslog's reading, the word as HOSTNAME.
  m = h.parse("<14>Aug 30 23:00:05 X4711");
  CHECK_FALSE(m.well_formed);
  CHECK(m.error == "no SP after HOSTNAME");
  CHECK(m.hostname == "X4711");
  CHECK(m.message.empty());

  m = h.parse("<14>Aug 30 23:00:05 X4711 ");  // SP, then an empty MSG
  CHECK(m.well_formed);
  CHECK(m.hostname == "X4711");
  CHECK(m.message.empty());

  m = h.parse("<14>Aug 30 23:00:05");
  CHECK(m.has_timestamp);
  CHECK(m.error == "missing HOSTNAME");
  CHECK(m.message.empty());

  m = h.parse("<14>Aug 30 23:00:05 ");
  CHECK(m.has_timestamp);
  CHECK(m.error == "missing HOSTNAME");
}

TEST_CASE("syslog: RFC3164 year inference and zone") {
  Harness h;
  // Dec 31 received just after New Year (UTC): the previous year.
  SyslogMessage m = h.parse("<13>Dec 31 23:59:59 host app: m", 1735689630 * kNs);
  CHECK(m.timestamp_ns == 1735689599 * kNs);
  // Jan 1 from a clock slightly ahead, received on Dec 31: the next year.
  m = h.parse("<13>Jan  1 00:00:10 host app: m", 1735689590 * kNs);
  CHECK(m.timestamp_ns == 1735689610 * kNs);
  // Mid-year: the receiver's year.
  m = h.parse("<13>Mar  1 12:00:00 host app: m", kReceivedNs);
  CHECK(m.timestamp_ns == 1709294400 * kNs);

  // Feb 29 picks the leap year nearby (received 2027-12-15 -> 2028).
  m = h.parse("<13>Feb 29 12:00:00 host app: m", (1835438400 - 76 * 86400) * kNs);
  CHECK(m.well_formed);
  CHECK(m.timestamp_ns == 1835438400 * kNs);
  // ... and when none is near (received 2026-03-01), rolls over and is not well formed.
  m = h.parse("<13>Feb 29 12:00:00 host app: m", 1772366400 * kNs);
  CHECK_FALSE(m.well_formed);
  CHECK(m.error == "TIMESTAMP is not a valid date");
  CHECK(m.timestamp_ns == 1772366400 * kNs);

  // The default offset: local 12:00 at UTC+1 is 11:00Z.
  h.options.default_utc_offset_seconds = 3600;
  m = h.parse("<13>Mar  1 12:00:00 host app: m", kReceivedNs);
  CHECK(m.timestamp_ns == 1709290800 * kNs);
  // The local year decides: 00:30 local on Jan 1 at UTC+1 is still Dec 31 in UTC.
  m = h.parse("<13>Jan  1 00:30:00 host app: m", (1735689600 - 1800) * kNs);
  CHECK(m.timestamp_ns == (1735689600 - 1800) * kNs);
}

TEST_CASE("syslog: RFC3164 timestamp variants rsyslog accepts") {
  Harness h;
  // Real senders produce these day after day and every field is still found,
  // so they are well formed; `deviation` names what was tolerated.
  struct Case {
    std::string_view frame;
    int64_t expected_ns;
    std::string_view deviation;
  };
  // 2008-03-07T19:06:53Z and 2024-03-07T19:06:53Z.
  constexpr int64_t k2008 = 1204916813 * kNs;
  constexpr int64_t k2024 = (1709294400 - 12 * 3600 + 6 * 86400 + 19 * 3600 + 6 * 60 + 53) * kNs;
  const Case cases[] = {
      {"<167>Mar  7 19:06:53 example tag: m", k2024, ""},
      {"<167>Mar 7 2008 19:06:53: example tag: m", k2008, "day of month not space-padded"},
      {"<167>Mar  7 2008 19:06:53 example tag: m", k2008, "year in RFC3164 TIMESTAMP"},
      {"<167>Mar 7 19:06:53: example tag: m", k2024, "day of month not space-padded"},
      {"<167>Mar 07 19:06:53 example tag: m", k2024, "day of month with a leading zero"},
      {"<167>MAR  7 19:06:53 example tag: m", k2024, "month name not in RFC3164 case"},
      {"<167>Mar  7 19:06:53.250 example tag: m", k2024 + 250'000'000, "fraction in RFC3164 TIMESTAMP"},
      {"<38> Mar  7 19:06:53 example tag: m", k2024, "space before TIMESTAMP"},
      {"<38>Mar  7 19:06:53  example tag: m", k2024, "extra space after TIMESTAMP"},
      {"<38>Mar  7 19:06:53 example  tag: m", k2024, "extra space after HOSTNAME"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.frame);
    const SyslogMessage m = h.parse(c.frame);
    CHECK(m.format == SyslogFormat::kRfc3164);
    CHECK(m.has_timestamp);
    CHECK(m.timestamp_ns == c.expected_ns);
    CHECK(m.well_formed);
    CHECK(m.error.empty());
    CHECK(m.deviation == c.deviation);
    CHECK(m.hostname == "example");
    CHECK(m.app_name == "tag");
    CHECK(m.message == "m");
  }
}

TEST_CASE("syslog: truncated and garbage input") {
  Harness h;
  SyslogMessage m = h.parse("");
  CHECK(m.format == SyslogFormat::kUnknown);
  CHECK_FALSE(m.well_formed);
  CHECK(m.error == "empty frame");
  CHECK(m.message.empty());

  m = h.parse("<13");
  CHECK(m.format == SyslogFormat::kUnknown);
  CHECK_FALSE(m.well_formed);
  CHECK(m.error == "truncated PRI");
  CHECK(m.facility == kUnknownFacility);
  CHECK(m.message == "<13");

  m = h.parse("hello");
  CHECK(m.format == SyslogFormat::kUnknown);
  CHECK(m.error == "missing PRI");
  CHECK(m.message == "hello");
  CHECK(m.severity == kUnknownSeverity);

  m = h.parse("<999>1 2003-10-11T22:14:15.003Z host app - - - msg");
  CHECK(m.format == SyslogFormat::kRfc5424);
  CHECK_FALSE(m.well_formed);
  CHECK(m.error == "PRI out of range");
  CHECK(m.facility == kUnknownFacility);
  CHECK(m.severity == kUnknownSeverity);
  CHECK(m.hostname == "host");
  CHECK(m.message == "msg");

  m = h.parse("<3499999999999999999999999999999999>1 - host app - - - msg");
  CHECK(m.error == "PRI out of range");
  CHECK(m.hostname == "host");

  m = h.parse("<F>1 2003-10-11T22:14:15.003Z host su - ID47 - msg");
  CHECK(m.format == SyslogFormat::kUnknown);
  CHECK(m.error == "invalid PRI");
  CHECK(m.message == "<F>1 2003-10-11T22:14:15.003Z host su - ID47 - msg");

  m = h.parse("<013>1 - - - - - - x");
  CHECK(m.error == "PRI with a leading zero");
  CHECK(m.facility == 1);
  CHECK(m.severity == 5);

  m = h.parse("<13>");
  CHECK(m.format == SyslogFormat::kRfc3164);
  CHECK(m.facility == 1);
  CHECK(m.error == "missing TIMESTAMP");
  CHECK(m.message.empty());

  m = h.parse("<13>1");
  CHECK(m.format == SyslogFormat::kRfc5424);
  CHECK(m.error == "truncated header: no TIMESTAMP");

  // RFC3164 section 4.3.3: no timestamp, so it is all MSG; no tag guessed.
  m = h.parse("<27>xapi: [error|xen3] Connection to master died.");
  CHECK(m.format == SyslogFormat::kRfc3164);
  CHECK(m.facility == 3);
  CHECK(m.severity == 3);
  CHECK(m.error == "missing TIMESTAMP");
  CHECK(m.app_name.empty());
  CHECK(m.message == "xapi: [error|xen3] Connection to master died.");

  m = h.parse("<34>X 2003-10-11T22:14:15.003Z host su - ID47 - msg");
  CHECK(m.error == "missing TIMESTAMP");
  CHECK(m.message == "X 2003-10-11T22:14:15.003Z host su - ID47 - msg");

  // No PRI but a BSD header: parsed as RFC3164, flagged.
  m = h.parse("Feb 18 16:01:59 serverX -- MARK --");
  CHECK(m.format == SyslogFormat::kRfc3164);
  CHECK(m.error == "missing PRI");
  CHECK(m.has_timestamp);
  CHECK(m.hostname == "serverX");
  CHECK(m.message == "-- MARK --");

  m = h.parse("<13>Mar 32 12:00:00 host app: m");
  CHECK(m.error == "missing TIMESTAMP");
  CHECK_FALSE(m.has_timestamp);
  CHECK(m.message == "Mar 32 12:00:00 host app: m");
}

// The frames real senders put on the wire, each read in full and well formed.
TEST_CASE("syslog: what real senders send") {
  Harness h;
  constexpr int64_t k20240301T120000Z = 1709294400 * kNs;
  struct Case {
    std::string_view sender;
    std::string_view frame;
    SyslogFormat format;
    int64_t timestamp_ns;
    std::string_view hostname, app_name, procid, message;
  };
  const Case cases[] = {
      {"rsyslog RSYSLOG_ForwardFormat",
       "<13>2024-03-01T12:00:00.123456+01:00 host app[4242]: hello world", SyslogFormat::kRfc3164,
       k20240301T120000Z - 3600 * kNs + 123'456'000, "host", "app", "4242", "hello world"},
      {"rsyslog RSYSLOG_TraditionalForwardFormat",
       "<13>Mar  1 12:00:00 host app[4242]: hello world", SyslogFormat::kRfc3164, k20240301T120000Z,
       "host", "app", "4242", "hello world"},
      {"rsyslog RSYSLOG_SyslogProtocol23Format",
       "<13>1 2024-03-01T12:00:00.123456+01:00 host app 4242 - - hello world",
       SyslogFormat::kRfc5424, k20240301T120000Z - 3600 * kNs + 123'456'000, "host", "app", "4242",
       "hello world"},
      {"syslog-ng network() default", "<13>Mar  1 12:00:00 host app[4242]: hello world",
       SyslogFormat::kRfc3164, k20240301T120000Z, "host", "app", "4242", "hello world"},
      {"syslog-ng network() without PROGRAM", "<13>Mar  1 12:00:00 host hello world",
       SyslogFormat::kRfc3164, k20240301T120000Z, "host", "", "", "hello world"},
      {"syslog-ng ts-format(iso)", "<13>2024-03-01T12:00:00+00:00 host app[4242]: hello world",
       SyslogFormat::kRfc3164, k20240301T120000Z, "host", "app", "4242", "hello world"},
      {"syslog-ng syslog() (RFC5424)",
       "<13>1 2024-03-01T12:00:00+00:00 host app 4242 - [meta sequenceId=\"1\"] hello world",
       SyslogFormat::kRfc5424, k20240301T120000Z, "host", "app", "4242", "hello world"},
      {"syslog(3) to /dev/log", "<30>Mar  1 12:00:00 sshd[4242]: hello world",
       SyslogFormat::kRfc3164, k20240301T120000Z, "", "sshd", "4242", "hello world"},
      {"logger(1) to a local socket", "<13>Mar  1 12:00:00 alice: hello world",
       SyslogFormat::kRfc3164, k20240301T120000Z, "", "alice", "", "hello world"},
      {"logger(1) --rfc3164 to a remote", "<13>Mar  1 12:00:00 host alice: hello world",
       SyslogFormat::kRfc3164, k20240301T120000Z, "host", "alice", "", "hello world"},
      {"logger(1) to a remote (RFC5424)",
       "<13>1 2024-03-01T12:00:00.000000+00:00 host alice - - "
       "[timeQuality tzKnown=\"1\" isSynced=\"1\" syncAccuracy=\"12345\"] hello world",
       SyslogFormat::kRfc5424, k20240301T120000Z, "host", "alice", "", "hello world"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.sender);
    const SyslogMessage m = h.parse(c.frame);
    CHECK(m.well_formed);
    CHECK(m.error.empty());
    CHECK(m.format == c.format);
    CHECK(m.has_timestamp);
    CHECK(m.timestamp_ns == c.timestamp_ns);
    CHECK(m.hostname == c.hostname);
    CHECK(m.app_name == c.app_name);
    CHECK(m.procid == c.procid);
    CHECK(m.message == c.message);
  }
}

TEST_CASE("syslog: the default time zone applies only to zone-less timestamps") {
  Harness h;
  constexpr int64_t k20240301T120000Z = 1709294400 * kNs;
  h.options.default_utc_offset_seconds = -5 * 3600;  // e.g. EST
  SyslogMessage m = h.parse("<13>Mar  1 12:00:00 host app: m");
  CHECK(m.timestamp_ns == k20240301T120000Z + 5 * 3600 * kNs);
  m = h.parse("<13>2024-03-01T12:00:00 host app: m");  // RFC3339 without an offset
  CHECK(m.well_formed);
  CHECK(m.deviation == "TIMESTAMP has no time zone");
  CHECK(m.timestamp_ns == k20240301T120000Z + 5 * 3600 * kNs);
  m = h.parse("<13>2024-03-01T12:00:00Z host app: m");
  CHECK(m.timestamp_ns == k20240301T120000Z);
  m = h.parse("<13>1 2024-03-01T12:00:00+01:00 host app - - - m");
  CHECK(m.timestamp_ns == k20240301T120000Z - 3600 * kNs);
  // A zone-less RFC5424 time breaks the grammar, but is read in the zone too.
  m = h.parse("<13>1 2024-03-01T12:00:00 host app - - - m");
  CHECK_FALSE(m.well_formed);
  CHECK(m.timestamp_ns == k20240301T120000Z + 5 * 3600 * kNs);

  h.options.default_utc_offset_seconds = 5 * 3600 + 1800;  // India, +05:30
  m = h.parse("<13>Mar  1 12:00:00 host app: m");
  CHECK(m.timestamp_ns == k20240301T120000Z - (5 * 3600 + 1800) * kNs);
}

TEST_CASE("syslog: RFC5424 VERSION and an empty PARAM-NAME") {
  Harness h;
  SyslogMessage m = h.parse("<165>4 - - - - - - m");  // go-syslog: any 1..3-digit VERSION
  CHECK(m.well_formed);
  CHECK(m.version == 4);
  m = h.parse("<1>999 - - - - - -");
  CHECK(m.well_formed);
  CHECK(m.version == 999);
  m = h.parse("<13>Mar  1 12:00:00 host app: m");
  CHECK(m.version == 0);

  // SD-NAME is 1*32 characters, so not well formed, but the param is kept.
  m = h.parse(R"(<0>1 - - - - - [x@1 ="value" b="2"] m)");
  CHECK_FALSE(m.well_formed);
  CHECK(m.error == "empty PARAM-NAME");
  CHECK(h.field("sd.x@1.") == "value");
  CHECK(h.field("sd.x@1.b") == "2");
  CHECK(m.message == "m");
}

// Every prefix of valid messages, and random bytes: nothing may read out of
// bounds (ASan), and every view must point into the frame or the arena.
TEST_CASE("syslog: every prefix and random frames parse safely") {
  Harness h;
  const std::string_view messages[] = {
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 12 ID47 "
      "[exampleSDID@32473 iut=\"3\" e=\"a\\\"b\\]c\"][p@1 class=\"high\"] \xEF\xBB\xBFmsg",
      "<34>Oct 11 22:14:15 mymachine su[12]: 'su root' failed",
      "<13>2024-03-01T12:00:00.123456+01:00 host app[123]: msg",
      "<167>Mar  7 2008 19:06:53.5: example tag: m",
  };
  // Cut anywhere before its first SD-ELEMENT is complete, the RFC5424 frame is invalid.
  const size_t first_sd_param = messages[0].find(" iut");
  for (std::string_view full : messages) {
    for (size_t length = 0; length <= full.size(); ++length) {
      const std::string frame(full.substr(0, length));  // exact-size heap copy for ASan
      CAPTURE(frame);
      const SyslogMessage m = h.parse(frame);
      if (full == messages[0] && length <= first_sd_param) CHECK_FALSE(m.well_formed);
      for (std::string_view v : {m.hostname, m.app_name, m.procid, m.msgid, m.message}) {
        CHECK((v.empty() || points_into(v, frame)));
      }
    }
  }
  std::mt19937 random(12345);
  const std::string_view alphabet = "<>0123456789 -[]=\"\\:TZ.+abcMarJn\xEF\xBB\xBF\xFF";
  for (int round = 0; round < 20000; ++round) {
    std::string frame(random() % 40, ' ');
    for (char& c : frame) c = alphabet[random() % alphabet.size()];
    if (round % 2 == 0) frame = (round % 4 == 0 ? "<14>1 " : "<14>") + frame;
    const SyslogMessage m = h.parse(frame);
    CHECK((m.well_formed == m.error.empty()));
    CHECK((m.message.empty() || points_into(m.message, frame)));
  }
  h.arena.reset();
}

}  // namespace
}  // namespace sluice::parsers
