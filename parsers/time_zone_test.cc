// TimeZone against the system's zoneinfo (the tzdata package). The expected
// offsets were checked with `TZ=Europe/Berlin date -d @SECONDS` and zdump on
// tzdata 2025b; the sweep compares every zone below with glibc's
// localtime_r, an independent reader of the same files.

#include "parsers/time_zone.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "server/base/time_format.h"

using namespace sluice;
using namespace sluice::parsers;

namespace {

constexpr int64_t kHour = 3600;

// Seconds since the epoch of a calendar time read as UTC: an instant, or a
// wall-clock time for offset_for_local.
int64_t at(int64_t year, unsigned month, unsigned day, int64_t hour = 0, int64_t minute = 0, int64_t second = 0) {
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

TimeZone load(const char* name) {
  Expected<TimeZone> zone = TimeZone::load(name);
  REQUIRE_MESSAGE(zone.has_value(), (zone ? "" : zone.error().message()));
  return std::move(zone.value());
}

TimeZone rule(const char* text) {
  Expected<TimeZone> zone = TimeZone::from_posix_rule(text);
  REQUIRE_MESSAGE(zone.has_value(), (zone ? "" : zone.error().message()));
  return std::move(zone.value());
}

std::string load_error(const std::string& name) {
  Expected<TimeZone> zone = TimeZone::load(name);
  return zone ? "<loaded>" : zone.error().message();
}

std::string file_error(const std::string& path) {
  Expected<TimeZone> zone = TimeZone::load_file(path);
  return zone ? "<loaded>" : zone.error().message();
}

std::string rule_error(const std::string& text) {
  Expected<TimeZone> zone = TimeZone::from_posix_rule(text);
  return zone ? "<loaded>" : zone.error().message();
}

bool has_zone(const char* name) { return std::filesystem::exists(std::string("/usr/share/zoneinfo/") + name); }

// A scratch directory, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("sluice_tz_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::filesystem::path file = path / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << bytes;
    return file.string();
  }
};

// Sets an environment variable for one scope.
struct ScopedEnv {
  std::string name;
  bool had = false;
  std::string old;
  ScopedEnv(const char* variable, const char* value) : name(variable) {
    if (const char* current = std::getenv(variable)) {
      had = true;
      old = current;
    }
    if (value != nullptr) {
      ::setenv(variable, value, 1);
    } else {
      ::unsetenv(variable);
    }
  }
  ~ScopedEnv() {
    if (had) {
      ::setenv(name.c_str(), old.c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string be(uint64_t value, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

// A TZif file written by hand: version 0 (1) or '2'/'3' with both blocks
// and a footer. types are {utoff, isdst}; every type's abbreviation is "ZZZ".
struct Type {
  int32_t utoff;
  uint8_t isdst;
};
std::string tzif(char version, const std::vector<int64_t>& times, const std::vector<uint8_t>& indices,
                 const std::vector<Type>& types, const std::string& footer) {
  const auto block = [&](int time_bytes) {
    std::string out = "TZif";
    out += version;
    out += std::string(15, '\0');
    for (uint64_t count : {uint64_t{0}, uint64_t{0}, uint64_t{0}, uint64_t{times.size()}, uint64_t{types.size()},
                           uint64_t{4}}) {
      out += be(count, 4);
    }
    for (int64_t time : times) out += be(static_cast<uint64_t>(time), time_bytes);
    for (uint8_t index : indices) out += static_cast<char>(index);
    for (const Type& type : types) {
      out += be(static_cast<uint32_t>(type.utoff), 4);
      out += static_cast<char>(type.isdst);
      out += '\0';
    }
    out += std::string("ZZZ\0", 4);
    return out;
  };
  std::string out = block(4);
  if (version >= '2') out += block(8) + "\n" + footer + "\n";
  return out;
}

}  // namespace

// ------------------------------------------------------------------ known facts

TEST_CASE("time zone: Europe/Berlin in 2024 (table) and 2090 (footer rule)") {
  const TimeZone berlin = load("Europe/Berlin");
  CHECK(berlin.name() == "Europe/Berlin");
  // date: 2024-01-15 13:00:00 +0100 CET, 2024-07-15 14:00:00 +0200 CEST.
  CHECK(berlin.offset_for_utc(at(2024, 1, 15, 12)) == kHour);
  CHECK(berlin.offset_for_utc(at(2024, 7, 15, 12)) == 2 * kHour);
  CHECK(berlin.offset_for_local(at(2024, 1, 15, 13)) == kHour);
  CHECK(berlin.offset_for_local(at(2024, 7, 15, 14)) == 2 * kHour);
  // 2090 lies past the fat table (2037): computed from CET-1CEST,M3.5.0,M10.5.0/3.
  CHECK(berlin.offset_for_utc(at(2090, 1, 15, 12)) == kHour);
  CHECK(berlin.offset_for_utc(at(2090, 7, 15, 12)) == 2 * kHour);
  CHECK(berlin.offset_for_local(at(2090, 1, 15, 13)) == kHour);
  CHECK(berlin.offset_for_local(at(2090, 7, 15, 14)) == 2 * kHour);
  // zdump: 2090-03-26 01:00:00 UT -> CEST, 2090-10-29 01:00:00 UT -> CET.
  CHECK(berlin.offset_for_utc(at(2090, 3, 26, 0, 59, 59)) == kHour);
  CHECK(berlin.offset_for_utc(at(2090, 3, 26, 1)) == 2 * kHour);
  CHECK(berlin.offset_for_utc(at(2090, 10, 29, 0, 59, 59)) == 2 * kHour);
  CHECK(berlin.offset_for_utc(at(2090, 10, 29, 1)) == kHour);
  // date: 2024-03-31T01:00:00Z is 03:00 +0200; a second earlier 01:59:59 +0100.
  CHECK(berlin.offset_for_utc(at(2024, 3, 31, 0, 59, 59)) == kHour);
  CHECK(berlin.offset_for_utc(at(2024, 3, 31, 1)) == 2 * kHour);
  CHECK(berlin.offset_for_utc(at(2024, 10, 27, 0, 59, 59)) == 2 * kHour);
  CHECK(berlin.offset_for_utc(at(2024, 10, 27, 1)) == kHour);
}

TEST_CASE("time zone: the 2024-03-31 gap and the 2024-10-27 overlap in Berlin") {
  const TimeZone berlin = load("Europe/Berlin");
  // Gap 02:00-03:00 local: 02:30 takes the offset before (+1), i.e. the
  // instant 01:30Z, which date shows as 03:30 +0200.
  CHECK(berlin.offset_for_local(at(2024, 3, 31, 1, 59, 59)) == kHour);
  CHECK(berlin.offset_for_local(at(2024, 3, 31, 2)) == kHour);
  CHECK(berlin.offset_for_local(at(2024, 3, 31, 2, 30)) == kHour);
  CHECK(at(2024, 3, 31, 2, 30) - berlin.offset_for_local(at(2024, 3, 31, 2, 30)) == 1711848600);
  CHECK(berlin.offset_for_local(at(2024, 3, 31, 2, 59, 59)) == kHour);
  CHECK(berlin.offset_for_local(at(2024, 3, 31, 3)) == 2 * kHour);
  // Overlap 02:00-03:00 local happens at 00:00-01:00Z (+2) and 01:00-02:00Z
  // (+1); date shows 1729989000 and 1729992600 both as 02:30. The earlier
  // one (+2, summer time) wins.
  CHECK(berlin.offset_for_local(at(2024, 10, 27, 1, 59, 59)) == 2 * kHour);
  CHECK(berlin.offset_for_local(at(2024, 10, 27, 2)) == 2 * kHour);
  CHECK(berlin.offset_for_local(at(2024, 10, 27, 2, 30)) == 2 * kHour);
  CHECK(at(2024, 10, 27, 2, 30) - berlin.offset_for_local(at(2024, 10, 27, 2, 30)) == 1729989000);
  CHECK(berlin.offset_for_local(at(2024, 10, 27, 2, 59, 59)) == 2 * kHour);
  CHECK(berlin.offset_for_local(at(2024, 10, 27, 3)) == kHour);
  // The same in 2090, from the rule.
  CHECK(berlin.offset_for_local(at(2090, 3, 26, 2, 30)) == kHour);
  CHECK(berlin.offset_for_local(at(2090, 3, 26, 3)) == 2 * kHour);
  CHECK(berlin.offset_for_local(at(2090, 10, 29, 2, 30)) == 2 * kHour);
  CHECK(berlin.offset_for_local(at(2090, 10, 29, 3)) == kHour);
}

TEST_CASE("time zone: America/New_York") {
  const TimeZone new_york = load("America/New_York");
  CHECK(new_york.offset_for_utc(at(2024, 1, 15, 12)) == -5 * kHour);
  CHECK(new_york.offset_for_utc(at(2024, 7, 15, 12)) == -4 * kHour);
  CHECK(new_york.offset_for_utc(at(2090, 1, 15, 12)) == -5 * kHour);
  CHECK(new_york.offset_for_utc(at(2090, 7, 15, 12)) == -4 * kHour);
  // date: 2024-03-10T07:00:00Z is 03:00 -0400, 06:59:59Z is 01:59:59 -0500.
  CHECK(new_york.offset_for_utc(at(2024, 3, 10, 6, 59, 59)) == -5 * kHour);
  CHECK(new_york.offset_for_utc(at(2024, 3, 10, 7)) == -4 * kHour);
  // Gap: 02:30 -> -5 -> 07:30Z, shown by date as 03:30 -0400.
  CHECK(new_york.offset_for_local(at(2024, 3, 10, 2, 30)) == -5 * kHour);
  CHECK(new_york.offset_for_local(at(2024, 3, 10, 3)) == -4 * kHour);
  // Overlap: 01:30 is 05:30Z (-0400) and 06:30Z (-0500); the earlier wins.
  CHECK(new_york.offset_for_local(at(2024, 11, 3, 1, 30)) == -4 * kHour);
  CHECK(new_york.offset_for_local(at(2024, 11, 3, 2)) == -5 * kHour);
  // 2090 (rule): transitions 2090-03-12T07:00Z and 2090-11-05T06:00Z.
  CHECK(new_york.offset_for_utc(at(2090, 3, 12, 6, 59, 59)) == -5 * kHour);
  CHECK(new_york.offset_for_utc(at(2090, 3, 12, 7)) == -4 * kHour);
  CHECK(new_york.offset_for_utc(at(2090, 11, 5, 5, 59, 59)) == -4 * kHour);
  CHECK(new_york.offset_for_utc(at(2090, 11, 5, 6)) == -5 * kHour);
  CHECK(new_york.offset_for_local(at(2090, 11, 5, 1, 30)) == -4 * kHour);
}

TEST_CASE("time zone: Asia/Kolkata is +05:30 all year") {
  const TimeZone kolkata = load("Asia/Kolkata");
  for (int64_t year : {2024, 2090, 2300}) {
    CHECK(kolkata.offset_for_utc(at(year, 1, 15, 12)) == 19800);
    CHECK(kolkata.offset_for_utc(at(year, 7, 15, 12)) == 19800);
    CHECK(kolkata.offset_for_local(at(year, 7, 15, 17, 30)) == 19800);
  }
}

TEST_CASE("time zone: Australia/Lord_Howe has a 30-minute DST") {
  if (!has_zone("Australia/Lord_Howe")) return;
  const TimeZone lord_howe = load("Australia/Lord_Howe");
  CHECK(lord_howe.offset_for_utc(at(2024, 1, 15, 12)) == 11 * kHour);
  CHECK(lord_howe.offset_for_utc(at(2024, 7, 15, 12)) == 10 * kHour + 1800);
  CHECK(lord_howe.offset_for_utc(at(2090, 1, 15, 12)) == 11 * kHour);
  CHECK(lord_howe.offset_for_utc(at(2090, 7, 15, 12)) == 10 * kHour + 1800);
  // date: 2024-04-06T15:00:00Z is 01:30 +1030 (from 01:59:59 +1100);
  // 2024-10-05T15:30:00Z is 02:30 +1100 (from 01:59:59 +1030).
  CHECK(lord_howe.offset_for_utc(at(2024, 4, 6, 14, 59, 59)) == 11 * kHour);
  CHECK(lord_howe.offset_for_utc(at(2024, 4, 6, 15)) == 10 * kHour + 1800);
  CHECK(lord_howe.offset_for_utc(at(2024, 10, 5, 15, 29, 59)) == 10 * kHour + 1800);
  CHECK(lord_howe.offset_for_utc(at(2024, 10, 5, 15, 30)) == 11 * kHour);
  // Overlap 01:30-02:00 on April 7: the earlier (+11). Gap 02:00-02:30 on
  // October 6: the offset before (+10:30).
  CHECK(lord_howe.offset_for_local(at(2024, 4, 7, 1, 45)) == 11 * kHour);
  CHECK(lord_howe.offset_for_local(at(2024, 4, 7, 2)) == 10 * kHour + 1800);
  CHECK(lord_howe.offset_for_local(at(2024, 10, 6, 2, 15)) == 10 * kHour + 1800);
  CHECK(lord_howe.offset_for_local(at(2024, 10, 6, 2, 30)) == 11 * kHour);
}

// ------------------------------------------------------------------ sweep vs glibc

namespace {

struct RefTransition {
  int64_t utc;
  int64_t before;
  int64_t after;
};

int64_t glibc_offset(int64_t utc) {
  const time_t t = static_cast<time_t>(utc);
  struct tm broken {};
  localtime_r(&t, &broken);
  return broken.tm_gmtoff;
}

// The java.time answer from the reference transitions, by a linear walk:
// the offset before each transition up to the larger of the two wall-clock
// readings of its instant.
int64_t expected_local(const std::vector<RefTransition>& transitions, int64_t first_offset, int64_t local) {
  int64_t offset = first_offset;
  for (const RefTransition& t : transitions) {
    if (local >= t.utc + std::max(t.before, t.after)) offset = t.after;
  }
  return offset;
}

}  // namespace

TEST_CASE("time zone: offsets agree with glibc's localtime_r, 1900-2200") {
  ScopedEnv no_tzdir("TZDIR", nullptr);
  ScopedEnv tz("TZ", "UTC");
  const char* zones[] = {"Europe/Berlin",  "America/New_York", "Australia/Lord_Howe", "Europe/Dublin",
                         "America/Santiago", "Pacific/Chatham", "America/Nuuk",       "Asia/Tehran",
                         "Africa/Casablanca", "America/Sao_Paulo", "Asia/Jerusalem",  "America/St_Johns",
                         "Asia/Kolkata",   "Antarctica/Troll", "Europe/London",      "Australia/Sydney"};
  const int64_t start = at(1900, 1, 1);
  const int64_t end = at(2200, 1, 1);
  // Transitions are months apart; a 6-hour step finds each one.
  const int64_t step = 6 * kHour;
  for (const char* name : zones) {
    if (!has_zone(name)) continue;
    CAPTURE(name);
    const TimeZone zone = load(name);
    ::setenv("TZ", name, 1);
    ::tzset();
    std::vector<RefTransition> transitions;
    const int64_t first_offset = glibc_offset(start);
    int64_t previous = first_offset;
    int mismatches = 0;
    for (int64_t t = start; t < end; t += step) {
      const int64_t offset = glibc_offset(t);
      if (zone.offset_for_utc(t) != offset && ++mismatches <= 3) {
        CAPTURE(t);
        CHECK(zone.offset_for_utc(t) == offset);
      }
      if (offset == previous) continue;
      int64_t low = t - step, high = t;  // offset changes in (low, high]
      while (high - low > 1) {
        const int64_t mid = low + (high - low) / 2;
        (glibc_offset(mid) == previous ? low : high) = mid;
      }
      transitions.push_back({high, previous, offset});
      previous = offset;
    }
    CHECK(mismatches == 0);
    CHECK(transitions.size() > 0);
    for (const RefTransition& t : transitions) {
      CAPTURE(t.utc);
      CHECK(zone.offset_for_utc(t.utc - 1) == t.before);
      CHECK(zone.offset_for_utc(t.utc) == t.after);
      for (const int64_t reading : {t.utc + t.before, t.utc + t.after}) {
        for (const int64_t delta : {-kHour - 1, int64_t{-1}, int64_t{0}, int64_t{1}, int64_t{900}, kHour}) {
          const int64_t local = reading + delta;
          CAPTURE(local);
          const int64_t offset = zone.offset_for_local(local);
          CHECK(offset == expected_local(transitions, first_offset, local));
          // Independently of the walk: the result is a valid reading of
          // `local` (glibc agrees), unless `local` is in a gap.
          const bool in_gap = t.after > t.before && local >= t.utc + t.before && local < t.utc + t.after;
          if (!in_gap) CHECK(glibc_offset(local - offset) == offset);
        }
      }
    }
  }
  ::tzset();
}

// ------------------------------------------------------------------ POSIX rules

TEST_CASE("time zone: POSIX TZ strings parsed directly") {
  // US rule: second Sunday of March 02:00 to first Sunday of November 02:00.
  const TimeZone eastern = rule("EST5EDT,M3.2.0,M11.1.0");
  CHECK(eastern.offset_for_utc(at(2024, 3, 10, 6, 59, 59)) == -5 * kHour);
  CHECK(eastern.offset_for_utc(at(2024, 3, 10, 7)) == -4 * kHour);
  CHECK(eastern.offset_for_utc(at(2024, 11, 3, 5, 59, 59)) == -4 * kHour);
  CHECK(eastern.offset_for_utc(at(2024, 11, 3, 6)) == -5 * kHour);
  CHECK(eastern.offset_for_local(at(2024, 3, 10, 2, 30)) == -5 * kHour);
  CHECK(eastern.offset_for_local(at(2024, 11, 3, 1, 30)) == -4 * kHour);
  // DST without a rule: tzcode's default, the US one.
  const TimeZone implicit = rule("EST5EDT");
  CHECK(implicit.offset_for_utc(at(2024, 3, 10, 7)) == -4 * kHour);
  CHECK(implicit.offset_for_utc(at(2024, 11, 3, 6)) == -5 * kHour);

  // Last Sunday of March 02:00 CET, last Sunday of October 03:00 CEST.
  const TimeZone central = rule("CET-1CEST,M3.5.0,M10.5.0/3");
  CHECK(central.offset_for_utc(at(2024, 3, 31, 1)) == 2 * kHour);
  CHECK(central.offset_for_utc(at(2024, 10, 27, 1)) == kHour);
  // 2026: March 29 and October 25 are the last Sundays (5 = last, not fifth).
  CHECK(central.offset_for_utc(at(2026, 3, 29, 0, 59, 59)) == kHour);
  CHECK(central.offset_for_utc(at(2026, 3, 29, 1)) == 2 * kHour);
  CHECK(central.offset_for_utc(at(2026, 10, 25, 1)) == kHour);

  // Quoted names, offsets with minutes, no DST.
  const TimeZone tehran = rule("<+0330>-3:30");
  CHECK(tehran.offset_for_utc(at(2024, 7, 1)) == 3 * kHour + 1800);
  CHECK(tehran.offset_for_local(at(2024, 7, 1)) == 3 * kHour + 1800);
  CHECK(rule("<-0230>2:30").offset_for_utc(0) == -(2 * kHour + 1800));
  CHECK(rule("XYZ+1:02:03").offset_for_utc(0) == -3723);

  // Negative DST (Europe/Dublin): GMT in winter is the "daylight" time.
  const TimeZone dublin = rule("IST-1GMT0,M10.5.0,M3.5.0/1");
  CHECK(dublin.offset_for_utc(at(2024, 1, 15)) == 0);
  CHECK(dublin.offset_for_utc(at(2024, 7, 15)) == kHour);
  CHECK(dublin.offset_for_utc(at(2024, 3, 31, 0, 59, 59)) == 0);
  CHECK(dublin.offset_for_utc(at(2024, 3, 31, 1)) == kHour);
  CHECK(dublin.offset_for_utc(at(2024, 10, 27, 0, 59, 59)) == kHour);
  CHECK(dublin.offset_for_utc(at(2024, 10, 27, 1)) == 0);

  // Jn: day 60 is March 1 even in a leap year. n: zero-based, counts Feb 29.
  const TimeZone julian = rule("AAA0BBB,J60/0,J300/0");
  CHECK(julian.offset_for_utc(at(2024, 2, 29, 23, 59, 59)) == 0);
  CHECK(julian.offset_for_utc(at(2024, 3, 1)) == kHour);
  const TimeZone zero_based = rule("AAA0BBB,59/0,299/0");
  CHECK(zero_based.offset_for_utc(at(2024, 2, 28, 23, 59, 59)) == 0);
  CHECK(zero_based.offset_for_utc(at(2024, 2, 29)) == kHour);  // day 59 of 2024
  CHECK(zero_based.offset_for_utc(at(2023, 3, 1)) == kHour);   // day 59 of 2023

  // RFC 8536 times: beyond 24 hours (Asia/Jerusalem's M3.4.4/26, i.e.
  // Friday 02:00 after the fourth Thursday) and negative (America/Nuuk).
  const TimeZone jerusalem = rule("IST-2IDT,M3.4.4/26,M10.5.0");
  // 2024: fourth Thursday of March is the 28th; DST from Friday 29th 02:00 IST (00:00Z).
  CHECK(jerusalem.offset_for_utc(at(2024, 3, 28, 23, 59, 59)) == 2 * kHour);
  CHECK(jerusalem.offset_for_utc(at(2024, 3, 29)) == 3 * kHour);
  const TimeZone nuuk = rule("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
  // Saturday 23:00 local (-2) before the last Sunday of March: 2024-03-31T01:00Z.
  CHECK(nuuk.offset_for_utc(at(2024, 3, 31, 0, 59, 59)) == -2 * kHour);
  CHECK(nuuk.offset_for_utc(at(2024, 3, 31, 1)) == -1 * kHour);
  // DST all year, in RFC 8536's spelling: never standard time.
  const TimeZone always = rule("EST5EDT4,0/0,J365/25");
  for (int64_t month = 1; month <= 12; ++month) {
    CHECK(always.offset_for_utc(at(2030, static_cast<unsigned>(month), 1)) == -4 * kHour);
  }
  CHECK(always.offset_for_utc(at(2031, 1, 1, 4, 30)) == -4 * kHour);
  CHECK(always.offset_for_local(at(2030, 6, 1)) == -4 * kHour);
  CHECK(always.offset_for_local(at(2031, 1, 1, 0, 30)) == -4 * kHour);
  // Southern hemisphere: DST spans New Year.
  const TimeZone santiago = rule("<-04>4<-03>,M9.1.6/24,M4.1.6/24");
  CHECK(santiago.offset_for_utc(at(2030, 1, 1)) == -3 * kHour);
  CHECK(santiago.offset_for_utc(at(2030, 7, 1)) == -4 * kHour);
  CHECK(santiago.offset_for_utc(at(2030, 12, 31, 23, 59, 59)) == -3 * kHour);
  // Far from the epoch, nothing overflows and the rule still holds.
  CHECK(central.offset_for_utc(at(9999, 7, 1)) == 2 * kHour);
  for (const int64_t extreme : {INT64_MAX, INT64_MIN}) {
    const int64_t by_utc = central.offset_for_utc(extreme);
    const int64_t by_local = central.offset_for_local(extreme);
    CHECK((by_utc == kHour || by_utc == 2 * kHour));
    CHECK((by_local == kHour || by_local == 2 * kHour));
  }
}

TEST_CASE("time zone: bad POSIX TZ strings") {
  CHECK(rule_error("") == "empty TZ string");
  CHECK(rule_error("CET") == "TZ string \"CET\": bad offset hours at offset 3");
  CHECK(rule_error("C-1") == "TZ string \"C-1\": standard time name of fewer than 3 characters at offset 1");
  CHECK(rule_error("<+0 3>-3") == "TZ string \"<+0 3>-3\": bad character in <quoted> standard time name at offset 3");
  CHECK(rule_error("<+03") == "TZ string \"<+03\": unterminated <quoted> standard time name at offset 4");
  CHECK(rule_error("CET25") != "<loaded>");
  CHECK(rule_error("CET-1CEST,M3.5.0") == "TZ string \"CET-1CEST,M3.5.0\": expected ',' before the end date at offset 16");
  CHECK(rule_error("CET-1CEST,M13.5.0,M10.5.0") != "<loaded>");
  CHECK(rule_error("CET-1CEST,M3.6.0,M10.5.0") != "<loaded>");
  CHECK(rule_error("CET-1CEST,M3.5.7,M10.5.0") != "<loaded>");
  CHECK(rule_error("CET-1CEST,J0,J365") != "<loaded>");
  CHECK(rule_error("CET-1CEST,366,0") != "<loaded>");
  CHECK(rule_error("CET-1CEST,M3.5.0/168,M10.5.0") != "<loaded>");
  CHECK(rule_error("CET-1CEST,M3.5.0,M10.5.0/3x") ==
        "TZ string \"CET-1CEST,M3.5.0,M10.5.0/3x\": unexpected text after the rule at offset 26");
  CHECK(rule_error("CET-1CEST;M3.5.0,M10.5.0") != "<loaded>");
}

// ------------------------------------------------------------------ files and names

TEST_CASE("time zone: bad names are rejected before touching the file system") {
  CHECK(load_error("") == "time zone name is empty");
  CHECK(load_error("/etc/passwd") == "time zone \"/etc/passwd\": must not start with '/'");
  CHECK(load_error("../../etc/passwd") == "time zone \"../../etc/passwd\": must not contain \"..\"");
  CHECK(load_error("Europe/../../etc/passwd").find("must not contain \"..\"") != std::string::npos);
  CHECK(load_error("Europe/Berlin ").find("invalid character") != std::string::npos);
  CHECK(load_error("Europe\\Berlin").find("invalid character") != std::string::npos);
  CHECK(load_error("Europe/Berlin\n").find("invalid character") != std::string::npos);
  CHECK(load_error(std::string("Europe/Berlin\0x", 15)).find("invalid character") != std::string::npos);
  ScopedEnv no_tzdir("TZDIR", nullptr);
  CHECK(load_error("Foo/Bar") == "unknown time zone \"Foo/Bar\" (no /usr/share/zoneinfo/Foo/Bar)");
  CHECK(load_error("Europe") == "unknown time zone \"Europe\" (/usr/share/zoneinfo/Europe is not a file)");
  CHECK(load_error("Europe/Berlin/x").starts_with("unknown time zone \"Europe/Berlin/x\" (no "));
  // Zones with + and - and _ in their names load.
  CHECK(load_error("Etc/GMT+5") == "<loaded>");
  CHECK(load_error("America/Port-au-Prince") == "<loaded>");
  CHECK(load_error("America/New_York") == "<loaded>");
  CHECK(load("Etc/GMT+5").offset_for_utc(0) == -5 * kHour);  // POSIX sign: west
  // Leap-second files count other seconds.
  if (has_zone("right/Europe/Berlin")) {
    CHECK(load_error("right/Europe/Berlin") ==
          "time zone file /usr/share/zoneinfo/right/Europe/Berlin: leap-second (\"right/\") zone files are not "
          "supported");
  }
}

TEST_CASE("time zone: TZDIR, hand-written and corrupt files") {
  TempDir dir;
  ScopedEnv tzdir("TZDIR", dir.path.c_str());

  // A "slim" file: one transition (1996-10-27T01:00Z, to CET), the rest
  // from the footer. It must agree with the real Europe/Berlin.
  const std::string slim =
      tzif('2', {at(1996, 10, 27, 1)}, {0}, {{3600, 0}, {7200, 1}}, "CET-1CEST,M3.5.0,M10.5.0/3");
  dir.write("Test/Slim", slim);
  const TimeZone slim_zone = load("Test/Slim");
  CHECK(slim_zone.name() == "Test/Slim");
  CHECK(slim_zone.offset_for_utc(at(1996, 10, 27, 0, 59, 59)) == kHour);  // before: type 0
  CHECK(slim_zone.offset_for_utc(at(2024, 1, 15, 12)) == kHour);
  CHECK(slim_zone.offset_for_utc(at(2024, 7, 15, 12)) == 2 * kHour);
  CHECK(slim_zone.offset_for_utc(at(2024, 3, 31, 1)) == 2 * kHour);
  CHECK(slim_zone.offset_for_local(at(2024, 3, 31, 2, 30)) == kHour);
  CHECK(slim_zone.offset_for_local(at(2024, 10, 27, 2, 30)) == 2 * kHour);
  CHECK(slim_zone.offset_for_local(at(1997, 1, 1)) == kHour);
  CHECK(slim_zone.offset_for_local(at(1997, 7, 1)) == 2 * kHour);

  // Version 1: 32-bit times, no footer; the last offset holds forever.
  const std::string v1 = tzif('\0', {at(2000, 1, 1), at(2001, 1, 1)}, {1, 0}, {{0, 0}, {-7200, 0}}, "");
  const TimeZone v1_zone = TimeZone::load_file(dir.write("v1", v1)).value();
  CHECK(v1_zone.offset_for_utc(at(1999, 6, 1)) == 0);
  CHECK(v1_zone.offset_for_utc(at(2000, 6, 1)) == -7200);
  CHECK(v1_zone.offset_for_utc(at(2090, 6, 1)) == 0);
  // 2000-01-01T00:00Z goes back 2 hours: 22:00-24:00 on 1999-12-31 happens
  // twice, the earlier reading (offset 0) wins.
  CHECK(v1_zone.offset_for_local(at(1999, 12, 31, 23)) == 0);
  CHECK(v1_zone.offset_for_local(at(2000, 1, 1)) == -7200);
  // 2001-01-01T00:00Z goes forward 2 hours: 22:00-24:00 on 2000-12-31 never
  // happens, and takes the offset before.
  CHECK(v1_zone.offset_for_local(at(2000, 12, 31, 21, 59)) == -7200);
  CHECK(v1_zone.offset_for_local(at(2000, 12, 31, 23)) == -7200);
  CHECK(v1_zone.offset_for_local(at(2001, 1, 1)) == 0);

  // Version 3 with an empty footer: no rule, the table's last offset holds.
  const std::string empty_footer = tzif('3', {at(2000, 1, 1)}, {1}, {{0, 0}, {3600, 0}}, "");
  const TimeZone empty_footer_zone = TimeZone::load_file(dir.write("v3", empty_footer)).value();
  CHECK(empty_footer_zone.offset_for_utc(at(2300, 1, 1)) == 3600);

  // Garbage, truncations of a real file at every length, bad contents.
  const std::string garbage_path = dir.write("Test/Garbage", "this is not a zone file, just some text\n");
  CHECK(load_error("Test/Garbage") == "time zone file " + garbage_path + ": not a TZif file");
  CHECK(file_error(dir.write("empty", "")) == "time zone file " + (dir.path / "empty").string() + ": not a TZif file");
  CHECK(file_error((dir.path / "missing").string()).find("No such file") != std::string::npos);
  const std::string berlin = read_file("/usr/share/zoneinfo/Europe/Berlin");
  REQUIRE(berlin.size() > 100);
  CHECK(TimeZone::load_file(dir.write("whole", berlin)).has_value());
  const std::string cut_path = (dir.path / "cut").string();
  int loaded = 0;
  for (size_t length = 0; length < berlin.size(); ++length) {
    dir.write("cut", berlin.substr(0, length));
    loaded += TimeZone::load_file(cut_path).has_value() ? 1 : 0;
  }
  CHECK(loaded == 0);
  dir.write("cut", berlin.substr(0, 60));
  CHECK(file_error(cut_path) == "time zone file " + cut_path + ": truncated");
  dir.write("cut", berlin.substr(0, berlin.size() - 1));
  CHECK(file_error(cut_path) == "time zone file " + cut_path + ": truncated (unterminated footer)");

  CHECK(file_error(dir.write("no_types", tzif('2', {}, {}, {}, ""))).ends_with(": no local time types"));
  CHECK(file_error(dir.write("bad_index", tzif('2', {0}, {5}, {{0, 0}}, "")))
            .ends_with(": transition refers to a missing local time type"));
  CHECK(file_error(dir.write("unsorted", tzif('2', {10, 5}, {0, 0}, {{0, 0}}, "")))
            .ends_with(": transition times not ascending"));
  CHECK(file_error(dir.write("big_offset", tzif('2', {}, {}, {{100 * 3600, 0}}, "")))
            .ends_with(": UTC offset out of range"));
  CHECK(file_error(dir.write("far_time", tzif('2', {INT64_MAX}, {0}, {{0, 0}}, "")))
            .ends_with(": transition time out of range"));
  CHECK(file_error(dir.write("bad_footer", tzif('2', {0}, {0}, {{0, 0}}, "CET-1CEST,M3.5.0")))
            .find(": footer: TZ string \"CET-1CEST,M3.5.0\": expected ','") != std::string::npos);
}
