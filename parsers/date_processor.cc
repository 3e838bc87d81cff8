#include "parsers/date_processor.h"

#include <chrono>

#include "server/base/time_format.h"

namespace sluice::parsers {
namespace {

using Step = DateProcessor::Step;
using Format = DateProcessor::Format;

// The zone for text that names none: a fixed offset, or a named zone whose
// offset is looked up from the local time (no allocation, no lock).
struct DefaultZone {
  int64_t fixed_offset_seconds = 0;
  const TimeZone* named = nullptr;

  int64_t offset_for_local(int64_t local_seconds) const {
    return named == nullptr ? fixed_offset_seconds : named->offset_for_local(local_seconds);
  }
  int64_t offset_for_utc(int64_t utc_seconds) const {
    return named == nullptr ? fixed_offset_seconds : named->offset_for_utc(utc_seconds);
  }
};

constexpr int64_t kNanosPerSecond = 1'000'000'000;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

constexpr std::string_view kMonthNames[] = {"january", "february", "march",     "april",   "may",      "june",
                                            "july",    "august",   "september", "october", "november", "december"};
constexpr std::string_view kWeekdayNames[] = {"monday", "tuesday",  "wednesday", "thursday",
                                              "friday", "saturday", "sunday"};

// Reads text left to right; every read either consumes and succeeds or
// fails (the whole format then fails, so partial consumption is harmless).
struct Cursor {
  std::string_view text;
  size_t pos = 0;

  bool at_end() const { return pos == text.size(); }
  char peek() const { return pos < text.size() ? text[pos] : '\0'; }
  bool take(char c) {
    if (peek() != c || at_end()) return false;
    ++pos;
    return true;
  }
  // Between min and max decimal digits.
  bool number(int min_digits, int max_digits, int64_t& out) {
    out = 0;
    int digits = 0;
    while (digits < max_digits && pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      out = out * 10 + (text[pos++] - '0');
      ++digits;
    }
    return digits >= min_digits;
  }
  // A fraction's digits as nanoseconds; digits past the ninth are read and
  // dropped.
  bool fraction(int64_t& nanos) {
    nanos = 0;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return false;
    for (int i = digits; i < 9; ++i) nanos *= 10;
    return true;
  }
  // One of `names` (full, or its first three letters), case-insensitively;
  // `index` is its position.
  template <size_t N>
  bool name(const std::string_view (&names)[N], int& index) {
    for (size_t i = 0; i < N; ++i) {
      for (const size_t length : {names[i].size(), size_t{3}}) {
        if (pos + length > text.size()) continue;
        bool same = true;
        for (size_t k = 0; k < length && same; ++k) same = lower(text[pos + k]) == names[i][k];
        if (same) {
          pos += length;
          index = static_cast<int>(i);
          return true;
        }
      }
    }
    return false;
  }
  // Z, +hh, +hhmm or +hh:mm, as seconds east of UTC.
  bool zone(int64_t& offset_seconds) {
    if (take('Z') || take('z')) {
      offset_seconds = 0;
      return true;
    }
    const char sign = peek();
    if (sign != '+' && sign != '-') return false;
    ++pos;
    int64_t hours = 0, minutes = 0;
    if (!number(2, 2, hours)) return false;
    if (take(':')) {
      if (!number(2, 2, minutes)) return false;
    } else if (peek() >= '0' && peek() <= '9') {
      if (!number(2, 2, minutes)) return false;
    }
    if (hours > 23 || minutes > 59) return false;
    offset_seconds = (hours * 3600 + minutes * 60) * (sign == '-' ? -1 : 1);
    return true;
  }
};

// What a pattern found; -1 = absent.
struct Parts {
  int64_t year = -1;
  int64_t month = -1;
  int64_t day = -1;
  int64_t day_of_year = -1;
  int64_t hour = 0;
  int64_t hour12 = -1;
  int pm = -1;
  int64_t minute = 0;
  int64_t second = 0;
  int64_t nanos = 0;
  bool has_offset = false;
  int64_t offset_seconds = 0;
  bool has_unix = false;
  int64_t unix_seconds = 0;
};

bool parse_offset_text(std::string_view text, int64_t& offset_seconds) {
  if (text == "UTC" || text == "GMT" || text == "Z" || text == "Etc/UTC" || text == "UTC+00:00") {
    offset_seconds = 0;
    return true;
  }
  Cursor cursor{text};
  if (cursor.peek() != '+' && cursor.peek() != '-') return false;
  if (!cursor.zone(offset_seconds) || !cursor.at_end()) return false;
  // java.time's limit; real zones span -12:00..+14:00.
  return offset_seconds >= -18 * 3600 && offset_seconds <= 18 * 3600;
}

int64_t received_or_now(int64_t received_ns) {
  if (received_ns != 0) return received_ns;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Local date and time -> nanoseconds since the epoch; false if the date is
// not a real one.
bool to_unix_ns(const Parts& parts, int64_t year, const DefaultZone& zone, int64_t& out_ns) {
  int64_t days = 0;
  if (parts.day_of_year >= 0) {
    if (parts.day_of_year < 1 || parts.day_of_year > (is_leap_year(year) ? 366 : 365)) return false;
    days = days_from_civil(year, 1, 1) + parts.day_of_year - 1;
  } else {
    const int64_t month = parts.month < 0 ? 1 : parts.month;
    const int64_t day = parts.day < 0 ? 1 : parts.day;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, static_cast<unsigned>(month))) return false;
    days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  }
  int64_t hour = parts.hour;
  if (parts.hour12 >= 0) {
    if (parts.hour12 < 1 || parts.hour12 > 12) return false;
    hour = parts.pm < 0 ? parts.hour12 : parts.hour12 % 12 + (parts.pm == 1 ? 12 : 0);
  }
  if (hour > 23 || parts.minute > 59 || parts.second > 60) return false;
  const int64_t local = days * 86400 + hour * 3600 + parts.minute * 60 + parts.second;
  const int64_t offset = parts.has_offset ? parts.offset_seconds : zone.offset_for_local(local);
  out_ns = (local - offset) * kNanosPerSecond + parts.nanos;
  return true;
}

bool finish(const Parts& parts, const DefaultZone& zone, int64_t received_ns, int64_t& out_ns) {
  if (parts.has_unix) {
    out_ns = parts.unix_seconds * kNanosPerSecond + (parts.unix_seconds < 0 ? -parts.nanos : parts.nanos);
    return true;
  }
  if (parts.year >= 0) return to_unix_ns(parts, parts.year, zone, out_ns);
  // No year (syslog's "Nov 22 10:00:00"): the candidate year closest to
  // when the event arrived.
  const int64_t reference_ns = received_or_now(received_ns);
  const int64_t reference_seconds = reference_ns / kNanosPerSecond;
  const int64_t offset = parts.has_offset ? parts.offset_seconds : zone.offset_for_utc(reference_seconds);
  int64_t local_seconds = reference_seconds + offset;
  int64_t reference_days = days_from_seconds(local_seconds);
  const int64_t reference_year = civil_from_days(reference_days).year;
  bool found = false;
  uint64_t best_distance = 0;
  for (int64_t year = reference_year - 1; year <= reference_year + 1; ++year) {
    int64_t candidate = 0;
    if (!to_unix_ns(parts, year, zone, candidate)) continue;
    const uint64_t distance = candidate > reference_ns ? static_cast<uint64_t>(candidate - reference_ns)
                                                       : static_cast<uint64_t>(reference_ns - candidate);
    if (!found || distance < best_distance) {
      found = true;
      best_distance = distance;
      out_ns = candidate;
    }
  }
  return found;
}

bool parse_iso8601(std::string_view text, const DefaultZone& zone, int64_t& out_ns) {
  Cursor cursor{text};
  Parts parts;
  if (!cursor.number(4, 4, parts.year) || !cursor.take('-') || !cursor.number(2, 2, parts.month) ||
      !cursor.take('-') || !cursor.number(2, 2, parts.day)) {
    return false;
  }
  if (!cursor.at_end()) {
    if (!cursor.take('T') && !cursor.take('t') && !cursor.take(' ')) return false;
    if (!cursor.number(2, 2, parts.hour) || !cursor.take(':') || !cursor.number(2, 2, parts.minute)) return false;
    if (cursor.take(':')) {
      if (!cursor.number(2, 2, parts.second)) return false;
      if ((cursor.take('.') || cursor.take(',')) && !cursor.fraction(parts.nanos)) return false;
    }
    if (!cursor.at_end()) {
      cursor.take(' ');
      if (!cursor.zone(parts.offset_seconds)) return false;
      parts.has_offset = true;
    }
  }
  if (!cursor.at_end()) return false;
  return finish(parts, zone, 0, out_ns);
}

// Seconds ("1700000000", "1700000000.25", "-5") or, with `millis`,
// milliseconds ("1700000000123").
bool parse_unix(std::string_view text, bool millis, int64_t& out_ns) {
  Cursor cursor{text};
  const bool negative = cursor.take('-');
  int64_t whole = 0;
  // 12 digits of seconds reach the year 33658; 15 of milliseconds likewise.
  if (!cursor.number(1, millis ? 15 : 12, whole)) return false;
  int64_t nanos = 0;
  if (!millis && cursor.take('.') && !cursor.fraction(nanos)) return false;
  if (!cursor.at_end()) return false;
  out_ns = millis ? whole * 1'000'000 : whole * kNanosPerSecond + nanos;
  if (negative) out_ns = -out_ns;
  return true;
}

bool parse_pattern(const std::vector<Step>& steps, std::string_view text, const DefaultZone& zone,
                   int64_t received_ns, int64_t& out_ns) {
  Cursor cursor{text};
  Parts parts;
  int index = 0;
  for (const Step& step : steps) {
    bool ok = true;
    switch (step.kind) {
      case Step::Kind::kLiteral: ok = cursor.take(step.literal); break;
      case Step::Kind::kSpace:
        ok = cursor.take(' ');
        while (cursor.take(' ')) {
        }
        break;
      case Step::Kind::kYear4: ok = cursor.number(4, 4, parts.year); break;
      case Step::Kind::kYear2:
        ok = cursor.number(2, 2, parts.year);
        parts.year += parts.year < 69 ? 2000 : 1900;
        break;
      case Step::Kind::kMonth: ok = cursor.number(1, 2, parts.month); break;
      case Step::Kind::kMonthName:
        ok = cursor.name(kMonthNames, index);
        parts.month = index + 1;
        break;
      case Step::Kind::kDay: ok = cursor.number(1, 2, parts.day); break;
      case Step::Kind::kDaySpace:
        cursor.take(' ');
        ok = cursor.number(1, 2, parts.day);
        break;
      case Step::Kind::kDayOfYear: ok = cursor.number(1, 3, parts.day_of_year); break;
      case Step::Kind::kHour: ok = cursor.number(1, 2, parts.hour); break;
      case Step::Kind::kHour12: ok = cursor.number(1, 2, parts.hour12); break;
      case Step::Kind::kAmPm: {
        const char c = lower(cursor.peek());
        ok = (c == 'a' || c == 'p') && cursor.pos + 1 < text.size() && lower(text[cursor.pos + 1]) == 'm';
        if (ok) {
          parts.pm = c == 'p' ? 1 : 0;
          cursor.pos += 2;
        }
        break;
      }
      case Step::Kind::kMinute: ok = cursor.number(1, 2, parts.minute); break;
      case Step::Kind::kSecond: ok = cursor.number(1, 2, parts.second); break;
      case Step::Kind::kFraction: ok = cursor.fraction(parts.nanos); break;
      case Step::Kind::kZone:
        ok = cursor.zone(parts.offset_seconds);
        parts.has_offset = true;
        break;
      case Step::Kind::kZoneName: {
        const std::string_view rest = text.substr(cursor.pos);
        size_t length = rest.starts_with("UTC") || rest.starts_with("GMT") ? 3 : rest.starts_with("Z") ? 1 : 0;
        ok = length != 0;
        cursor.pos += length;
        parts.offset_seconds = 0;
        parts.has_offset = true;
        break;
      }
      case Step::Kind::kWeekdayName: ok = cursor.name(kWeekdayNames, index); break;
      case Step::Kind::kUnixSeconds: {
        const bool negative = cursor.take('-');
        ok = cursor.number(1, 12, parts.unix_seconds);
        if (negative) parts.unix_seconds = -parts.unix_seconds;
        parts.has_unix = true;
        break;
      }
    }
    if (!ok) return false;
  }
  if (!cursor.at_end()) return false;
  return finish(parts, zone, received_ns, out_ns);
}

// Compiles a strftime-style pattern; an error message or empty.
std::string compile_pattern(std::string_view pattern, std::vector<Step>& steps) {
  using K = Step::Kind;
  bool has_directive = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c != '%') {
      steps.push_back(c == ' ' ? Step{K::kSpace} : Step{K::kLiteral, c});
      continue;
    }
    if (i + 1 == pattern.size()) return "date format \"" + std::string(pattern) + "\" ends with a lone %";
    const char directive = pattern[++i];
    has_directive = true;
    switch (directive) {
      case 'Y': steps.push_back({K::kYear4}); break;
      case 'y': steps.push_back({K::kYear2}); break;
      case 'm': steps.push_back({K::kMonth}); break;
      case 'b': case 'h': case 'B': steps.push_back({K::kMonthName}); break;
      case 'd': steps.push_back({K::kDay}); break;
      case 'e': steps.push_back({K::kDaySpace}); break;
      case 'j': steps.push_back({K::kDayOfYear}); break;
      case 'H': steps.push_back({K::kHour}); break;
      case 'I': steps.push_back({K::kHour12}); break;
      case 'p': steps.push_back({K::kAmPm}); break;
      case 'M': steps.push_back({K::kMinute}); break;
      case 'S': steps.push_back({K::kSecond}); break;
      case 'f': steps.push_back({K::kFraction}); break;
      case 'z': steps.push_back({K::kZone}); break;
      case 'Z': steps.push_back({K::kZoneName}); break;
      case 'a': case 'A': steps.push_back({K::kWeekdayName}); break;
      case 's': steps.push_back({K::kUnixSeconds}); break;
      case 'T':
        steps.insert(steps.end(), {Step{K::kHour}, Step{K::kLiteral, ':'}, Step{K::kMinute},
                                   Step{K::kLiteral, ':'}, Step{K::kSecond}});
        break;
      case 'F':
        steps.insert(steps.end(), {Step{K::kYear4}, Step{K::kLiteral, '-'}, Step{K::kMonth},
                                   Step{K::kLiteral, '-'}, Step{K::kDay}});
        break;
      case '%': steps.push_back({K::kLiteral, '%'}); break;
      default:
        return std::string("date format \"") + std::string(pattern) + "\": unsupported directive %" + directive +
               " (supported: %Y %y %m %b %B %h %d %e %j %H %I %p %M %S %f %z %Z %a %A %s %T %F %%)";
    }
  }
  if (!has_directive) {
    return "date format \"" + std::string(pattern) +
           "\" has no % directive; expected ISO8601, UNIX, UNIX_MS or a strftime-style pattern";
  }
  return {};
}

std::string at(const config::Position& position, std::string_view message) {
  std::string out = position.to_string();
  out += ": ";
  out += message;
  return out;
}

}  // namespace

Expected<std::unique_ptr<Processor>> DateProcessor::create(const config::DateOptions& options) {
  if (options.source.empty()) return Status::error("date: source must name a field");
  if (options.formats.empty()) return Status::error("date: at least one format is required");
  std::unique_ptr<DateProcessor> processor(new DateProcessor());
  processor->source_ = options.source;
  processor->target_ = options.target;
  for (const auto& located : options.formats) {
    Format format;
    const std::string& text = located.value;
    if (text == "ISO8601") {
      format.kind = Format::Kind::kIso8601;
    } else if (text == "UNIX") {
      format.kind = Format::Kind::kUnix;
    } else if (text == "UNIX_MS") {
      format.kind = Format::Kind::kUnixMs;
    } else {
      format.kind = Format::Kind::kPattern;
      if (text.empty()) return Status::error(at(located.position, "empty date format"));
      const std::string problem = compile_pattern(text, format.steps);
      if (!problem.empty()) return Status::error(at(located.position, problem));
    }
    processor->formats_.push_back(std::move(format));
  }
  const std::string& zone = options.timezone.value;
  if (!zone.empty() && !parse_offset_text(zone, processor->default_offset_seconds_)) {
    if (zone[0] == '+' || zone[0] == '-') {
      return Status::error(at(options.timezone.position,
                              "timezone \"" + zone + "\": expected UTC or an offset +hh:mm / -hh:mm within 18 hours"));
    }
    // Read once here; per event only the in-memory tables are consulted.
    Expected<TimeZone> named = TimeZone::load(zone);
    if (!named) return Status::error(at(options.timezone.position, "timezone: " + named.error().message()));
    processor->named_zone_ = std::move(named.value());
  }
  return std::unique_ptr<Processor>(std::move(processor));
}

std::unique_ptr<Scratch> DateProcessor::make_scratch() const { return std::make_unique<NoScratch>(); }

bool DateProcessor::parse(const Format& format, std::string_view text, int64_t received_ns, int64_t& out_ns) const {
  const DefaultZone zone{default_offset_seconds_, named_zone_ ? &*named_zone_ : nullptr};
  switch (format.kind) {
    case Format::Kind::kIso8601: return parse_iso8601(text, zone, out_ns);
    case Format::Kind::kUnix: return parse_unix(text, false, out_ns);
    case Format::Kind::kUnixMs: return parse_unix(text, true, out_ns);
    case Format::Kind::kPattern:
      return parse_pattern(format.steps, text, zone, received_ns, out_ns);
  }
  return false;
}

ProcessResult DateProcessor::process(EventContext& context, Scratch&) const {
  std::string_view text;
  // Absent (or an empty slot): nothing to do. A present but empty field
  // matches no format and fails, as in Logstash.
  if (!fields::get(context, source_, text)) return ProcessResult::kOk;
  for (const Format& format : formats_) {
    int64_t ns = 0;
    if (!parse(format, text, context.event.received_ns, ns)) continue;
    if (target_.empty()) {
      context.event.timestamp_ns = ns;
    } else {
      char* out = context.batch.arena.allocate(32);
      const size_t length = format_rfc3339_ns(ns, out);
      fields::set(context, context.batch.arena.copy(target_), std::string_view(out, length));
    }
    return ProcessResult::kOk;
  }
  return ProcessResult::kFailed;
}

}  // namespace sluice::parsers
