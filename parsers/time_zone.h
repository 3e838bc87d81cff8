// TimeZone: UTC offsets of a named IANA time zone ("Europe/Berlin"), read
// once from its TZif file (RFC 8536: version 1, or 2 and later, whose 64-bit
// section is used) so that the `date` processor can turn a zone-less
// wall-clock time into an instant per event without a lookup that
// allocates, locks or touches the file system.
//
// The file's transitions cover the past and, in "fat" files, up to 2037.
// After the last transition the POSIX TZ string of the file's footer
// ("CET-1CEST,M3.5.0,M10.5.0/3") rules: its transitions for the year asked
// about are computed arithmetically on each call, which keeps "slim" files
// (Debian's may stop at the last rule change) and the year 2090 right.
//
// Not handled: leap-second ("right/...") zone files are rejected, because
// log timestamps count POSIX seconds; abbreviations (CET, CEST) and isdst
// are not kept, since only offsets are needed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/base/expected.h"

namespace sluice::parsers {

// Thread-safe: immutable after load(); lookups only read.
class TimeZone {
 public:
  // Reads `name` below $TZDIR, or /usr/share/zoneinfo when TZDIR is unset or
  // empty. `name` must be relative, without "..", of [A-Za-z0-9/_+-] only,
  // so a config value cannot reach other files.
  // Errors: `unknown time zone "Foo/Bar" (no /usr/share/zoneinfo/Foo/Bar)`,
  // `time zone file PATH: not a TZif file`, `...: truncated`, a bad footer.
  static Expected<TimeZone> load(std::string_view name);
  // The TZif file at `path`, whatever its name; for load() and tests.
  static Expected<TimeZone> load_file(const std::string& path);
  // A zone given by a POSIX TZ string alone, as in a TZif footer, with the
  // RFC 8536 extensions: "EST5EDT,M3.2.0,M11.1.0", "<+0330>-3:30",
  // "IST-1GMT0,M10.5.0,M3.5.0/1", Jn and n dates, /time from -167 to 167
  // hours. A DST name without a rule gets the US rule ",M3.2.0,M11.1.0",
  // as tzcode does.
  static Expected<TimeZone> from_posix_rule(std::string_view rule);

  // The offset (seconds east of UTC) in effect at `utc_seconds`.
  int64_t offset_for_utc(int64_t utc_seconds) const;

  // The offset (seconds east of UTC) to subtract from a wall-clock time,
  // given as seconds since the epoch as if it were UTC, to get the instant.
  // As java.time's ZonedDateTime.ofLocal:
  //  - in a fall-back overlap (02:30 happens twice) the earlier instant: the
  //    offset before the transition, i.e. summer time. Joda, which Logstash's
  //    date filter parses with, picks the same.
  //  - in a spring-forward gap (02:30 never happens) the offset before the
  //    transition, so the time moves forward by the gap: 02:30 becomes 03:30
  //    summer time. (Joda's parser rejects such a time instead; keeping the
  //    line at the instant the old offset gives beats failing it.)
  int64_t offset_for_local(int64_t local_seconds) const;

  // The name given to load(), the path given to load_file() or the rule.
  const std::string& name() const { return name_; }

  // A date of a POSIX TZ rule. Public for the implementation.
  struct RuleDate {
    enum class Kind : uint8_t {
      kJulian,          // Jn: day 1-365, February 29 never counted
      kZeroBased,       // n: day 0-365, February 29 counted
      kMonthWeekDay,    // Mm.w.d: weekday d (0 = Sunday) of week w (5 = last) of month m
    };
    Kind kind = Kind::kMonthWeekDay;
    int32_t day = 0;      // kJulian, kZeroBased
    int32_t month = 0;    // kMonthWeekDay: 1-12
    int32_t week = 0;     // 1-5
    int32_t weekday = 0;  // 0-6
    int32_t time_seconds = 7200;  // local time of day, -167h..167h; default 02:00
  };
  struct PosixRule {
    int32_t std_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    int32_t dst_offset = 0;
    RuleDate start;  // DST starts, in standard local time
    RuleDate end;    // DST ends, in daylight local time
  };

 private:
  TimeZone() = default;
  // Parses the bytes of a TZif file; `path` names it in errors.
  static Expected<TimeZone> parse_tzif(std::string_view bytes, const std::string& path);
  // Derives local_switches_ and the table's end once the transitions are in
  // place; `raw_end` is the file's last transition, `before_raw_end` the
  // offset before it.
  void finish_table(int64_t raw_end, int32_t before_raw_end);

  // The footer rule's latest transition at or before a time: when (UTC
  // seconds, or its wall-clock switch point as in local_switches_) and the
  // offset from then on.
  struct Found {
    bool found = false;
    int64_t at = 0;
    int64_t offset = 0;
  };
  enum class Clock { kUtc, kLocal };
  Found rule_at(int64_t seconds, Clock clock) const;
  int64_t offset_at(int64_t seconds, Clock clock) const;

  std::string name_;
  // Transitions that change the offset, ascending. offsets_after_[i] applies
  // from transitions_utc_[i] on; before the first, initial_offset_ (the
  // file's local time type 0, as RFC 8536 says).
  std::vector<int64_t> transitions_utc_;
  std::vector<int32_t> offsets_after_;
  // Per transition, the first wall-clock time that takes offsets_after_[i]:
  // the transition plus the larger of the offsets before and after it. Below
  // it, the offset before wins both in a gap and in an overlap (see
  // offset_for_local). Non-decreasing, so it can be binary-searched.
  std::vector<int64_t> local_switches_;
  int32_t initial_offset_ = 0;
  // The file's last transition, offset-changing or not, as UTC seconds and
  // as its wall-clock switch point: the footer's rule applies from there on
  // (everywhere when the file has no transitions). last_table_offset_ is the
  // offset the table ends with.
  bool has_table_ = false;
  int64_t table_end_utc_ = 0;
  int64_t table_end_local_ = 0;
  int32_t last_table_offset_ = 0;
  bool has_rule_ = false;
  PosixRule rule_;
};

}  // namespace sluice::parsers
