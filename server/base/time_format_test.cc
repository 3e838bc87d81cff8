#include "server/base/time_format.h"

#include <doctest/doctest.h>

#include <string>

using namespace sluice;

TEST_CASE("RFC3339 parsing") {
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339("2026-11-22T10:00:00Z") == int64_t{1795341600} * 1'000'000'000);
  CHECK(parse_rfc3339("2026-11-22T10:00:00.5Z") == int64_t{1795341600} * 1'000'000'000 + 500'000'000);
  CHECK(parse_rfc3339("2026-11-22T11:00:00+01:00") == int64_t{1795341600} * 1'000'000'000);
  CHECK(parse_rfc3339("2026-11-22 09:30:00-00:30") == int64_t{1795341600} * 1'000'000'000);
  CHECK(parse_rfc3339("2026-11-22T10:00:00.1234567891Z") ==
        int64_t{1795341600} * 1'000'000'000 + 123'456'789);
  CHECK(parse_rfc3339("1969-12-31T23:59:59Z") == -1'000'000'000);
  CHECK(parse_rfc3339("2024-02-29T00:00:00Z").has_value());
  for (const char* bad : {"", "2026-11-22", "2026-11-22T10:00:00", "2026-13-01T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T10:00:00.Z",
                          "2026-11-22T10:00:00Zjunk", "2026-11-22T10:00:00+1:00"}) {
    CHECK_MESSAGE(!parse_rfc3339(bad).has_value(), bad);
  }
}

TEST_CASE("RFC3339 formatting round-trips with nanoseconds") {
  char text[32];
  for (int64_t ns : {int64_t{0}, int64_t{1795341600123456789}, int64_t{-1}, int64_t{951782400000000000}}) {
    const size_t length = format_rfc3339_ns(ns, text);
    CHECK(length == 30);
    CHECK(parse_rfc3339(std::string_view(text, length)) == ns);
  }
  format_rfc3339_ns(1795341600123456789, text);
  CHECK(std::string(text, 30) == "2026-11-22T10:00:00.123456789Z");
}

TEST_CASE("civil dates") {
  CHECK(days_from_civil(1970, 1, 1) == 0);
  CHECK(days_from_civil(2000, 3, 1) == 11017);
  for (int64_t day = -800000; day < 800000; day += 997) {
    const CivilDate date = civil_from_days(day);
    CHECK(days_from_civil(date.year, date.month, date.day) == day);
  }
}
