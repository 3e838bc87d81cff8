#include "server/http/api.h"

#include <doctest/doctest.h>

#include "server/base/clock.h"
#include "server/http/json_writer.h"

using namespace sluice;
using namespace sluice::server;

TEST_CASE("query strings are decoded") {
  CHECK(url_decode("a+b%20c%3A%22") == "a b c:\"");
  CHECK(url_decode("100%") == "100%");
  CHECK(url_decode("%zz") == "%zz");
  CHECK(query_param("q=host%3Aweb-1&limit=5", "q") == "host:web-1");
  CHECK(query_param("q=host%3Aweb-1&limit=5", "limit") == "5");
  CHECK(query_param("q=&x", "x") == "");
  CHECK_FALSE(query_param("q=1", "limit").has_value());
}

TEST_CASE("time bounds: RFC3339, relative, Unix milliseconds") {
  const int64_t now = int64_t{1795341600} * kNanosPerSecond;
  CHECK(parse_time_bound("now", now) == now);
  CHECK(parse_time_bound("now-15m", now) == now - 15 * 60 * kNanosPerSecond);
  CHECK(parse_time_bound("now-2d", now) == now - 2 * kNanosPerDay);
  CHECK(parse_time_bound("2026-11-22T10:00:00Z", 0) == now);
  CHECK(parse_time_bound("1795341600000", 0) == now);
  for (const char* bad : {"now-", "now-m", "now-5y", "now-x5m", "yesterday", "", "now-99999999999999999d"}) {
    CHECK_MESSAGE(!parse_time_bound(bad, now).has_value(), bad);
  }
}

TEST_CASE("JSON strings are escaped and inert") {
  std::string out;
  append_json_string(out, "a\"b\\c\n<script>&\x01");
  CHECK(out == R"("a\"b\\c\n\u003cscript\u003e\u0026\u0001")");
  out.clear();
  append_json_string(out, "caf\xc3\xa9 \xe2\x80\xa8 \xff \xc0\xaf \xed\xa0\x80 \xf0\x9f\x98\x80");
  CHECK(out == "\"caf\xc3\xa9 \\u2028 \\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd \xf0\x9f\x98\x80\"");
}

TEST_CASE("typed field values become JSON numbers and booleans only when valid") {
  auto typed = [](std::string_view value, FieldType type) {
    std::string out;
    append_typed_value(out, value, type);
    return out;
  };
  CHECK(typed("200", FieldType::kInt) == "200");
  CHECK(typed("-1.5e3", FieldType::kFloat) == "-1.5e3");
  CHECK(typed("007", FieldType::kInt) == "\"007\"");
  CHECK(typed("12abc", FieldType::kInt) == "\"12abc\"");
  CHECK(typed("true", FieldType::kBool) == "true");
  CHECK(typed("yes", FieldType::kBool) == "\"yes\"");
  CHECK(typed("200", FieldType::kString) == "\"200\"");
}

TEST_CASE("cursors round-trip and reject anything else") {
  const storage::SearchCursor cursor{int64_t{1795341600} * kNanosPerSecond + 5, 0xfedcba9876543210ull, 3};
  const std::string text = encode_cursor(cursor);
  auto back = decode_cursor(text);
  REQUIRE(back.has_value());
  CHECK(back->timestamp_ns == cursor.timestamp_ns);
  CHECK(back->tiebreak == cursor.tiebreak);
  CHECK(back->skip == 3);
  // Negative timestamps (before 1970) survive too.
  back = decode_cursor(encode_cursor({-5, 1, 0}));
  REQUIRE(back.has_value());
  CHECK(back->timestamp_ns == -5);
  for (const char* bad : {"", "1-2", "1-2-3-4", "x-2-3", "1--3", "1-2-", "11111111111111111-2-3", "1-2-100000000"}) {
    CHECK_MESSAGE(!decode_cursor(bad).has_value(), bad);
  }
}

TEST_CASE("histogram intervals: given and automatic") {
  CHECK(parse_interval("500ms") == 500'000'000);
  CHECK(parse_interval("30s") == 30 * kNanosPerSecond);
  CHECK(parse_interval("5m") == 300 * kNanosPerSecond);
  CHECK(parse_interval("1d") == kNanosPerDay);
  CHECK(parse_interval("1500") == 1'500'000'000);
  for (const char* bad : {"", "0s", "-1s", "1y", "m", "1.5h", "99999999999999w"}) {
    CHECK_MESSAGE(!parse_interval(bad).has_value(), bad);
  }
  CHECK(auto_interval_ns(15 * 60 * kNanosPerSecond) == 10 * kNanosPerSecond);
  CHECK(auto_interval_ns(kNanosPerDay) == 1800 * kNanosPerSecond);
  CHECK(auto_interval_ns(4 * kNanosPerDay) == 3600 * kNanosPerSecond);
  CHECK(auto_interval_ns(0) == kNanosPerSecond);
  for (int64_t span : {int64_t{1}, 59 * kNanosPerSecond, 3 * kNanosPerDay, 400 * kNanosPerDay, 40000 * kNanosPerDay}) {
    CHECK(span / auto_interval_ns(span) < 121);
  }
}

TEST_CASE("the field summary counts events per field and top values") {
  std::vector<storage::StoredEvent> events(3);
  events[0].host = "web-1";
  events[1].host = "web-1";
  events[2].host = "db\"1";
  events[0].fields = {{"status", "200", FieldType::kInt}, {"tag", "a", FieldType::kString}, {"tag", "b", FieldType::kString}};
  events[1].fields = {{"status", "500", FieldType::kInt}};
  std::string out;
  append_field_summary(out, events, 1);
  CHECK(out.find(R"({"name":"host","count":3,"distinct":2,"values":[{"value":"web-1","count":2}]})") != std::string::npos);
  CHECK(out.find(R"({"name":"status","count":2,"distinct":2,"values":[{"value":"200","count":1}]})") != std::string::npos);
  // A field twice in one event counts that event once, and both values.
  CHECK(out.find(R"({"name":"tag","count":1,"distinct":2,)") != std::string::npos);
  CHECK(out.find(R"("sampled":3})") != std::string::npos);
  CHECK(out.find("host") < out.find("status"));  // by count
}

TEST_CASE("query syntax errors carry their position") {
  HttpResponse response = query_error_response("position 7: expected a closing quote");
  CHECK(response.status == 400);
  CHECK(response.body ==
        "{\"error\":\"q: position 7: expected a closing quote\",\"position\":7,\"expected\":\"a closing quote\"}\n");
  response = query_error_response("query too long");
  CHECK(response.body == "{\"error\":\"q: query too long\"}\n");
}
