// date: parses a time out of a field, like Logstash's date filter, and sets
// the event's time (target empty) or writes it as an RFC3339 string field
// "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" (target set). The formats are tried in
// order; the first that matches the whole text wins. No match: kFailed.
// A missing source does nothing (as in Logstash); an empty one fails.
//
// Formats:
//   ISO8601  YYYY-MM-DD, optionally followed by T, t or a space and
//            HH:MM[:SS[(.|,)FRACTION]], optionally followed (a space
//            allowed) by Z, +hh, +hhmm or +hh:mm. "2026-11-22T10:00:00Z",
//            "2026-11-22 10:00:00,123", "2026-11-22T10:00:00.5+01:00".
//   UNIX     seconds since the epoch, optionally with a fraction ("1700000000.25").
//   UNIX_MS  milliseconds since the epoch (an integer).
//   anything else is a strftime-style pattern; the documented subset:
//     %Y 4-digit year        %y 2-digit year (69-99 -> 19xx, 00-68 -> 20xx)
//     %m month 1-12          %b %h %B English month name, abbreviated or full
//     %d day 1-31            %e day, optionally space-padded
//     %j day of year 1-366   %H hour 0-23   %I hour 1-12 with %p AM/PM
//     %M minute              %S second (60 allowed)
//     %f fraction: 1-9 digits (more are read and ignored)
//     %z Z, +hh, +hhmm or +hh:mm   %Z UTC, GMT or Z (no other zone names)
//     %a %A English weekday name (read, not checked)
//     %s seconds since the epoch   %T = %H:%M:%S   %F = %Y-%m-%d   %% a '%'
//   One- and two-digit fields accept either width ("5" or "05"). A space in
//   the pattern matches one or more spaces; other characters match
//   themselves. A pattern without a year takes the year that puts the time
//   closest to when the event was received (a December log read in January
//   is last year's); missing month/day are 1, missing time fields 0.
//
// `timezone` applies to text without a zone: "UTC" (also "GMT", "Z",
// "Etc/UTC"), a fixed offset "+hh:mm", "-hh:mm", "+hhmm", or an IANA zone
// name such as "Europe/Paris", whose file create() reads from the zoneinfo
// directory ($TZDIR or /usr/share/zoneinfo; see time_zone.h). A named zone's
// offset follows DST: a wall-clock time in a fall-back overlap takes the
// earlier instant (summer time), one in a spring-forward gap moves forward
// by the gap (02:30 -> 03:30 summer time), as java.time does.
//
// No locale, no strptime, no heap allocation per event.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/pipeline_options.h"
#include "parsers/processor.h"
#include "parsers/time_zone.h"
#include "server/base/expected.h"

namespace sluice::parsers {

// Thread-safe: immutable after create().
class DateProcessor final : public Processor {
 public:
  // Errors (with the option's "FILE:LINE:COL: "): no formats, an unknown or
  // dangling % directive, a pattern with no directive at all, a bad offset
  // or an unknown or unreadable zone name, an empty source.
  static Expected<std::unique_ptr<Processor>> create(const config::DateOptions& options);

  std::unique_ptr<Scratch> make_scratch() const override;
  ProcessResult process(EventContext& context, Scratch& scratch) const override;
  std::string_view kind() const override { return "date"; }

  // One compiled step of a pattern. Public for the implementation.
  struct Step {
    enum class Kind : uint8_t {
      kLiteral, kSpace, kYear4, kYear2, kMonth, kMonthName, kDay, kDaySpace, kDayOfYear, kHour,
      kHour12, kAmPm, kMinute, kSecond, kFraction, kZone, kZoneName, kWeekdayName, kUnixSeconds,
    };
    Kind kind;
    char literal = 0;
  };
  struct Format {
    enum class Kind : uint8_t { kIso8601, kUnix, kUnixMs, kPattern };
    Kind kind;
    std::vector<Step> steps;  // kPattern
  };

  // Parses `text` with each format in order (the first match wins); false
  // if none matches. For other parsers (json_event's timestamp_format).
  bool parse_text(std::string_view text, int64_t received_ns, int64_t& out_ns) const {
    for (const Format& format : formats_) {
      if (parse(format, text, received_ns, out_ns)) return true;
    }
    return false;
  }

  // Parses `text` with `format`; false if it doesn't match. For tests.
  bool parse(const Format& format, std::string_view text, int64_t received_ns, int64_t& out_ns) const;

 private:
  DateProcessor() = default;
  std::string source_;
  std::string target_;
  std::vector<Format> formats_;
  // For text without a zone: named_zone_ when set (a zone name), else the
  // fixed default_offset_seconds_ (UTC or an offset), which needs no lookup.
  int64_t default_offset_seconds_ = 0;  // east of UTC
  std::optional<TimeZone> named_zone_;
};

}  // namespace sluice::parsers
