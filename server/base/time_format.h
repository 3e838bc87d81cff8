// RFC3339 timestamps <-> nanoseconds since the Unix epoch (UTC).
// Pure functions with no locale or time-zone database: they run per event.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil algorithm, re-derived here).
constexpr int64_t days_from_civil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

constexpr bool is_leap_year(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

constexpr unsigned days_in_month(int64_t year, unsigned month) {
  constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

// The day (since 1970-01-01) a second count falls on, also before 1970.
constexpr int64_t days_from_seconds(int64_t seconds) {
  return seconds / 86400 - (seconds % 86400 < 0 ? 1 : 0);
}

struct CivilDate {
  int64_t year;
  unsigned month;
  unsigned day;
};

constexpr CivilDate civil_from_days(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t year = static_cast<int64_t>(year_of_era) + era * 400;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned mp = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {year + (month <= 2), month, day};
}

// Writes "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" (30 bytes) into `out`; returns the
// length written. `out` must hold at least 32 bytes.
size_t format_rfc3339_ns(int64_t unix_ns, char* out);

// Parses an RFC3339 timestamp ("2026-11-22T10:00:00Z", fractions up to 9
// digits, "Z" or "+hh:mm"); also accepts a space instead of "T". Returns
// nanoseconds since the epoch, or nothing if the text is not such a time.
std::optional<int64_t> parse_rfc3339(std::string_view text);

}  // namespace sluice
