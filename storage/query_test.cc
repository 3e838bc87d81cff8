#include "storage/query.h"

#include <doctest/doctest.h>

using namespace sluice;
using namespace sluice::storage;

namespace {
EventView sample_event() {
  EventView event;
  event.host = "Web-1";
  event.app = "sshd";
  event.message = "Failed password for root from 10.0.0.1";
  event.raw = "<35>1 - Web-1 sshd 4242 - - Failed password for root from 10.0.0.1";
  event.severity = 3;
  event.facility = 4;
  event.input = static_cast<uint8_t>(InputId::kSyslogTcp);
  event.fields = {{"procid", "4242"}, {"sd.origin.ip", "10.0.0.1"}};
  return event;
}

bool matches(std::string_view text) {
  auto query = parse_query(text);
  REQUIRE_MESSAGE(query.has_value(), text);
  return query_matches(query.value(), sample_event());
}

std::string error_of(std::string_view text) {
  auto query = parse_query(text);
  REQUIRE_FALSE(query.has_value());
  return query.error().message();
}
}  // namespace

TEST_CASE("words and phrases match the message, ignoring case") {
  CHECK(matches(""));
  CHECK(matches("failed"));
  CHECK(matches("FAILED ROOT"));
  CHECK(matches("\"password for root\""));
  CHECK_FALSE(matches("\"password root\""));
  CHECK_FALSE(matches("failed accepted"));
  CHECK(matches("failed AND root"));
}

TEST_CASE("field:value matches whole values of known and parsed fields") {
  CHECK(matches("host:web-1"));
  CHECK(matches("host:WEB-1 app:sshd"));
  CHECK_FALSE(matches("host:web"));
  CHECK(matches("severity:err"));
  CHECK(matches("severity:3"));
  CHECK(matches("facility:auth"));
  CHECK(matches("input:syslog_tcp"));
  CHECK(matches("procid:4242"));
  CHECK(matches("sd.origin.ip:10.0.0.1"));
  CHECK(matches("message:\"failed password for root from 10.0.0.1\""));
  CHECK_FALSE(matches("procid:1"));
  CHECK_FALSE(matches("nosuchfield:x"));
  CHECK(matches("_truncated:false"));
  CHECK(matches("raw:\"password for\""));
  CHECK_FALSE(matches("raw:accepted"));
  CHECK_FALSE(matches("_truncated:true"));
  CHECK(matches("_parse_failure:FALSE"));
}

TEST_CASE("flags are searchable as fields") {
  EventView event = sample_event();
  event.flags = kFlagTruncated;
  CHECK(query_matches(parse_query("_truncated:true").value(), event));
  CHECK_FALSE(query_matches(parse_query("_parse_failure:true").value(), event));
}

TEST_CASE("negation") {
  CHECK(matches("-accepted"));
  CHECK_FALSE(matches("-failed"));
  CHECK(matches("NOT host:web-2"));
  CHECK_FALSE(matches("NOT app:sshd"));
  CHECK(matches("failed -app:cron"));
}

TEST_CASE("syntax errors name the position and what was expected") {
  CHECK(error_of("host:") == "position 6: expected a value after 'host:'");
  CHECK(error_of("a \"unclosed") == "position 3: unterminated quote; expected a closing \"");
  CHECK(error_of("a OR b") == "position 3: OR is not supported yet; terms are ANDed");
  CHECK(error_of("(a)") == "position 1: parentheses are not supported; expected a word or field:value");
  CHECK(error_of(":x") == "position 1: expected a field name before ':'");
  CHECK(error_of("a NOT") == "position 3: expected a term after the negation");
  CHECK(error_of("ho$t:x") == "position 3: invalid character in field name");
}
