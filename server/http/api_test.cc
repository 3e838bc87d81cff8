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
