#include "parsers/time_zone.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "server/base/time_format.h"

namespace sluice::parsers {
namespace {

using RuleDate = TimeZone::RuleDate;
using PosixRule = TimeZone::PosixRule;

constexpr std::string_view kDefaultZoneDir = "/usr/share/zoneinfo";

// The largest TZif file in tzdata is under 4 KiB fat; anything far bigger is
// not a zone file, and reading it whole would only waste memory.
constexpr uint64_t kMaxFileBytes = 1 << 20;

// POSIX TZ offsets go up to 24:59:59; a TZif offset beyond that is corrupt
// data (real zones lie within -12:00..+14:00, historic LMT within +-16h).
constexpr int64_t kMaxOffsetSeconds = 25 * 3600 - 1;

// RFC 8536's extension: a rule's /time may be -167..167 hours.
constexpr int64_t kMaxRuleHours = 167;

// Transition times beyond this are corrupt (zic writes at most -2^59 as its
// "big bang"); the bound keeps time + offset arithmetic far from overflow.
constexpr int64_t kMaxTransitionSeconds = int64_t{1} << 60;

constexpr int64_t kSecondsPerDay = 86400;


// ------------------------------------------------------------ POSIX TZ rule

// Reads "std offset [dst [offset] [,start[/time],end[/time]]]" left to right.
struct RuleParser {
  std::string_view text;
  size_t pos = 0;
  std::string problem;

  bool fail(std::string_view what) {
    problem = std::string(what) + " at offset " + std::to_string(pos);
    return false;
  }
  bool at_end() const { return pos == text.size(); }
  char peek() const { return pos < text.size() ? text[pos] : '\0'; }
  bool take(char c) {
    if (at_end() || text[pos] != c) return false;
    ++pos;
    return true;
  }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

  // 1 to max_digits decimal digits.
  bool number(int max_digits, int64_t& out) {
    out = 0;
    int digits = 0;
    while (digits < max_digits && is_digit(peek())) {
      out = out * 10 + (text[pos++] - '0');
      ++digits;
    }
    return digits > 0;
  }

  // An abbreviation: three or more letters, or <...> of letters, digits, +
  // and - ("<+0330>"). Only skipped: offsets are all that is kept.
  bool name(std::string_view which) {
    size_t length = 0;
    if (take('<')) {
      while (!at_end() && peek() != '>') {
        const char c = peek();
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-') {
          return fail("bad character in <quoted> " + std::string(which) + " name");
        }
        ++pos;
        ++length;
      }
      if (!take('>')) return fail("unterminated <quoted> " + std::string(which) + " name");
    } else {
      while (is_alpha(peek())) {
        ++pos;
        ++length;
      }
    }
    if (length < 3) return fail(std::string(which) + " name of fewer than 3 characters");
    return true;
  }

  // [+-]h[h..][:mm[:ss]] as seconds, with the sign as written.
  bool hms(int64_t max_hours, int max_hour_digits, std::string_view what, int64_t& seconds) {
    const bool negative = take('-');
    if (!negative) take('+');
    int64_t hours = 0, minutes = 0, secs = 0;
    if (!number(max_hour_digits, hours) || hours > max_hours) return fail("bad " + std::string(what) + " hours");
    if (take(':')) {
      if (!number(2, minutes) || minutes > 59) return fail("bad " + std::string(what) + " minutes");
      if (take(':') && (!number(2, secs) || secs > 59)) return fail("bad " + std::string(what) + " seconds");
    }
    seconds = hours * 3600 + minutes * 60 + secs;
    if (negative) seconds = -seconds;
    return true;
  }

  // POSIX offsets count west of UTC ("CET-1" is UTC+1): negated here.
  bool offset(std::string_view what, int32_t& east) {
    int64_t west = 0;
    if (!hms(24, 2, what, west)) return false;
    east = static_cast<int32_t>(-west);
    return true;
  }

  bool date(RuleDate& out) {
    int64_t a = 0, b = 0, c = 0;
    if (take('J')) {
      if (!number(3, a) || a < 1 || a > 365) return fail("bad Jn day (1-365)");
      out.kind = RuleDate::Kind::kJulian;
      out.day = static_cast<int32_t>(a);
    } else if (take('M')) {
      if (!number(2, a) || a < 1 || a > 12) return fail("bad Mm.w.d month (1-12)");
      if (!take('.') || !number(1, b) || b < 1 || b > 5) return fail("bad Mm.w.d week (1-5)");
      if (!take('.') || !number(1, c) || c > 6) return fail("bad Mm.w.d weekday (0-6)");
      out.kind = RuleDate::Kind::kMonthWeekDay;
      out.month = static_cast<int32_t>(a);
      out.week = static_cast<int32_t>(b);
      out.weekday = static_cast<int32_t>(c);
    } else if (is_digit(peek())) {
      if (!number(3, a) || a > 365) return fail("bad n day (0-365)");
      out.kind = RuleDate::Kind::kZeroBased;
      out.day = static_cast<int32_t>(a);
    } else {
      return fail("expected a date (Jn, n or Mm.w.d)");
    }
    out.time_seconds = 7200;
    if (take('/')) {
      int64_t time = 0;
      if (!hms(kMaxRuleHours, 3, "time", time)) return false;
      out.time_seconds = static_cast<int32_t>(time);
    }
    return true;
  }

  bool parse(PosixRule& rule) {
    if (!name("standard time") || !offset("offset", rule.std_offset)) return false;
    if (at_end()) return true;
    if (!name("daylight time")) return false;
    rule.has_dst = true;
    rule.dst_offset = rule.std_offset + 3600;
    if (peek() != ',' && !at_end() && !offset("daylight offset", rule.dst_offset)) return false;
    if (at_end()) {
      // POSIX leaves a missing rule to the implementation; tzcode's default.
      rule.start = {RuleDate::Kind::kMonthWeekDay, 0, 3, 2, 0, 7200};
      rule.end = {RuleDate::Kind::kMonthWeekDay, 0, 11, 1, 0, 7200};
      return true;
    }
    if (!take(',')) return fail("expected ',' before the start date");
    if (!date(rule.start)) return false;
    if (!take(',')) return fail("expected ',' before the end date");
    if (!date(rule.end)) return false;
    if (!at_end()) return fail("unexpected text after the rule");
    return true;
  }
};

Expected<PosixRule> parse_posix_rule(std::string_view text) {
  RuleParser parser;
  parser.text = text;
  PosixRule rule;
  if (text.empty()) return Status::error("empty TZ string");
  if (!parser.parse(rule)) return Status::error("TZ string \"" + std::string(text) + "\": " + parser.problem);
  return rule;
}

// Wall-clock seconds (as if UTC) at which `date` happens in `year`.
int64_t rule_local_seconds(const RuleDate& date, int64_t year) {
  const int64_t january_first = days_from_civil(year, 1, 1);
  int64_t day = 0;
  switch (date.kind) {
    case RuleDate::Kind::kJulian:
      day = january_first + date.day - 1 + (date.day >= 60 && is_leap_year(year) ? 1 : 0);
      break;
    case RuleDate::Kind::kZeroBased: day = january_first + date.day; break;
    case RuleDate::Kind::kMonthWeekDay: {
      const int64_t first = days_from_civil(year, static_cast<unsigned>(date.month), 1);
      const int64_t first_weekday = ((first + 4) % 7 + 7) % 7;  // 1970-01-01 was a Thursday
      day = first + (date.weekday - first_weekday + 7) % 7 + (date.week - 1) * 7;
      // Week 5 means the last such weekday, which may be the fourth.
      if (day >= first + days_in_month(year, static_cast<unsigned>(date.month))) day -= 7;
      break;
    }
  }
  return day * kSecondsPerDay + date.time_seconds;
}

struct RuleTransition {
  int64_t utc;
  int64_t before;
  int64_t after;
};

// The rule's transitions in year-1..year+1, so that whatever the hemisphere
// (or a negative DST, as Europe/Dublin's), the latest one before a time in
// `year` is among them. Years ascend: in "DST all year" rules (start January
// 1 00:00, end December 31 24:00 + the DST delta) a year's end coincides
// with the next year's start, and the start, listed later, must win the tie.
void rule_transitions(const PosixRule& rule, int64_t year, RuleTransition (&out)[6]) {
  for (int i = 0; i < 3; ++i) {
    const int64_t y = year - 1 + i;
    // Each date is given in the local time in effect before it.
    out[2 * i] = {rule_local_seconds(rule.end, y) - rule.dst_offset, rule.dst_offset, rule.std_offset};
    out[2 * i + 1] = {rule_local_seconds(rule.start, y) - rule.std_offset, rule.std_offset, rule.dst_offset};
  }
}

// Keeps arithmetic on far-out inputs clear of overflow; a zone's offset
// beyond this (4 * 10^10 years) is the rule's anyway.
int64_t clamp_seconds(int64_t seconds) {
  return std::clamp(seconds, -kMaxTransitionSeconds, kMaxTransitionSeconds);
}

// ------------------------------------------------------------ TZif

// Big-endian reads over the file's bytes; `ok` turns false on reading past
// the end and stays false.
struct ByteReader {
  std::string_view bytes;
  size_t pos = 0;
  bool ok = true;

  bool has(uint64_t n) const { return ok && n <= bytes.size() - pos; }
  uint64_t be(size_t width) {
    if (!has(width)) {
      ok = false;
      return 0;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i) value = value << 8 | static_cast<uint8_t>(bytes[pos + i]);
    pos += width;
    return value;
  }
  int64_t time(size_t width) {
    const uint64_t raw = be(width);
    return width == 4 ? static_cast<int64_t>(static_cast<int32_t>(raw)) : static_cast<int64_t>(raw);
  }
};

struct TzifHeader {
  char version = 0;
  uint64_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

  // Bytes of the data block that follows, with `time_width`-byte times.
  uint64_t block_bytes(uint64_t time_width) const {
    return timecnt * (time_width + 1) + typecnt * 6 + charcnt + leapcnt * (time_width + 4) + isstdcnt + isutcnt;
  }
};

// Reads the 44-byte header; an error message or empty.
std::string read_header(ByteReader& reader, TzifHeader& header) {
  if (!reader.has(44) || reader.bytes.substr(reader.pos, 4) != "TZif") return "not a TZif file";
  reader.pos += 4;
  header.version = reader.bytes[reader.pos];
  reader.pos += 16;  // version and 15 reserved bytes
  header.isutcnt = reader.be(4);
  header.isstdcnt = reader.be(4);
  header.leapcnt = reader.be(4);
  header.timecnt = reader.be(4);
  header.typecnt = reader.be(4);
  header.charcnt = reader.be(4);
  if (header.typecnt == 0) return "no local time types";
  if ((header.isutcnt != 0 && header.isutcnt != header.typecnt) ||
      (header.isstdcnt != 0 && header.isstdcnt != header.typecnt)) {
    return "inconsistent counts in header";
  }
  // Leap-second files count TAI-like seconds; log timestamps are POSIX.
  if (header.leapcnt != 0) return "leap-second (\"right/\") zone files are not supported";
  return {};
}

}  // namespace

// ------------------------------------------------------------ loading

Expected<TimeZone> TimeZone::load(std::string_view name) {
  if (name.empty()) return Status::error("time zone name is empty");
  if (name.front() == '/') return Status::error("time zone \"" + std::string(name) + "\": must not start with '/'");
  if (name.find("..") != std::string_view::npos) {
    return Status::error("time zone \"" + std::string(name) + "\": must not contain \"..\"");
  }
  for (const char c : name) {
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
                         c == '_' || c == '+' || c == '-';
    if (!allowed) {
      return Status::error("time zone \"" + std::string(name) +
                           "\": invalid character (names use A-Z a-z 0-9 / _ + -, e.g. Europe/Berlin)");
    }
  }
  // Read at construction only, like the C library does: not per event.
  const char* tzdir = std::getenv("TZDIR");
  std::string path = tzdir != nullptr && *tzdir != '\0' ? tzdir : std::string(kDefaultZoneDir);
  if (path.back() != '/') path += '/';
  path += name;
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  // libstdc++ also sets `ec` for a missing file, so not_found goes first.
  if (status.type() == std::filesystem::file_type::not_found) {
    return Status::error("unknown time zone \"" + std::string(name) + "\" (no " + path + ")");
  }
  if (ec) return Status::error("time zone \"" + std::string(name) + "\": " + path + ": " + ec.message());
  if (!std::filesystem::is_regular_file(status)) {
    return Status::error("unknown time zone \"" + std::string(name) + "\" (" + path + " is not a file)");
  }
  Expected<TimeZone> zone = load_file(path);
  if (!zone) return zone;
  zone->name_ = std::string(name);
  return zone;
}

Expected<TimeZone> TimeZone::load_file(const std::string& path) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return Status::error("time zone file " + path + ": " + ec.message());
  if (size > kMaxFileBytes) return Status::error("time zone file " + path + ": not a TZif file (too large)");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("time zone file " + path + ": cannot open");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::error("time zone file " + path + ": read error");
  return parse_tzif(bytes, path);
}

Expected<TimeZone> TimeZone::parse_tzif(std::string_view bytes, const std::string& path) {
  const auto error = [&path](std::string_view what) {
    return Status::error("time zone file " + path + ": " + std::string(what));
  };
  ByteReader reader{bytes};
  TzifHeader header;
  if (std::string problem = read_header(reader, header); !problem.empty()) return error(problem);
  size_t time_width = 4;
  if (header.version >= '2') {
    // Skip the 32-bit block: the 64-bit one after it says the same and more.
    if (!reader.has(header.block_bytes(4))) return error("truncated");
    reader.pos += header.block_bytes(4);
    if (std::string problem = read_header(reader, header); !problem.empty()) {
      return error(problem == "not a TZif file" ? "truncated or corrupt second header" : problem);
    }
    time_width = 8;
  }
  if (!reader.has(header.block_bytes(time_width))) return error("truncated");

  TimeZone zone;
  zone.name_ = path;
  std::vector<int64_t> times(header.timecnt);
  for (int64_t& time : times) time = reader.time(time_width);
  std::vector<uint8_t> type_of(header.timecnt);
  for (uint8_t& index : type_of) index = static_cast<uint8_t>(reader.be(1));
  std::vector<int32_t> type_offsets(header.typecnt);
  for (int32_t& offset : type_offsets) {
    offset = static_cast<int32_t>(static_cast<uint32_t>(reader.be(4)));
    reader.pos += 2;  // isdst, abbreviation index: not needed for offsets
    if (offset < -kMaxOffsetSeconds || offset > kMaxOffsetSeconds) return error("UTC offset out of range");
  }
  reader.pos += header.charcnt + header.isstdcnt + header.isutcnt;  // leapcnt is 0
  for (size_t i = 0; i < times.size(); ++i) {
    if (type_of[i] >= header.typecnt) return error("transition refers to a missing local time type");
    if (times[i] < -kMaxTransitionSeconds || times[i] > kMaxTransitionSeconds) {
      return error("transition time out of range");
    }
    if (i > 0 && times[i] <= times[i - 1]) return error("transition times not ascending");
  }

  // Only offset changes matter; abbreviation- or isdst-only transitions
  // would just make lookups longer.
  zone.initial_offset_ = type_offsets[0];
  zone.has_table_ = !times.empty();
  int32_t previous = zone.initial_offset_;
  int32_t before_last = zone.initial_offset_;
  for (size_t i = 0; i < times.size(); ++i) {
    const int32_t offset = type_offsets[type_of[i]];
    before_last = previous;
    if (offset == previous) continue;
    zone.transitions_utc_.push_back(times[i]);
    zone.offsets_after_.push_back(offset);
    previous = offset;
  }

  if (header.version >= '2') {
    // Footer: "\n" TZ string "\n"; an empty string means no rule.
    if (!reader.has(1) || bytes[reader.pos] != '\n') return error("truncated (missing footer)");
    const size_t start = reader.pos + 1;
    const size_t end = bytes.find('\n', start);
    if (end == std::string_view::npos) return error("truncated (unterminated footer)");
    const std::string_view footer = bytes.substr(start, end - start);
    if (!footer.empty()) {
      Expected<PosixRule> rule = parse_posix_rule(footer);
      if (!rule) return error("footer: " + rule.error().message());
      zone.rule_ = *rule;
      zone.has_rule_ = true;
    }
  }
  zone.finish_table(times.empty() ? 0 : times.back(), before_last);
  return zone;
}

Expected<TimeZone> TimeZone::from_posix_rule(std::string_view rule) {
  Expected<PosixRule> parsed = parse_posix_rule(rule);
  if (!parsed) return parsed.error();
  TimeZone zone;
  zone.name_ = std::string(rule);
  zone.rule_ = *parsed;
  zone.has_rule_ = true;
  zone.initial_offset_ = zone.rule_.std_offset;
  zone.finish_table(0, zone.initial_offset_);
  return zone;
}

void TimeZone::finish_table(int64_t raw_end, int32_t before_raw_end) {
  local_switches_.resize(transitions_utc_.size());
  int64_t before = initial_offset_;
  for (size_t i = 0; i < transitions_utc_.size(); ++i) {
    const int64_t after = offsets_after_[i];
    local_switches_[i] = transitions_utc_[i] + std::max(before, after);
    // Transitions closer together than their offset change (none in tzdata)
    // would break the order; keeping it sorted keeps the search defined.
    if (i > 0) local_switches_[i] = std::max(local_switches_[i], local_switches_[i - 1]);
    before = after;
  }
  last_table_offset_ = offsets_after_.empty() ? initial_offset_ : offsets_after_.back();
  table_end_utc_ = raw_end;
  table_end_local_ = raw_end + std::max<int64_t>(before_raw_end, last_table_offset_);
}

// ------------------------------------------------------------ lookups

// UTC seconds are compared with the rule's transitions; wall-clock seconds
// with their switch points, as in local_switches_ (below a switch point the
// offset before the transition applies, in a gap and in an overlap alike).
TimeZone::Found TimeZone::rule_at(int64_t seconds, Clock clock) const {
  const int64_t t = clamp_seconds(seconds);
  const int64_t local = clock == Clock::kUtc ? t + rule_.std_offset : t;
  const int64_t year = civil_from_days(days_from_seconds(local)).year;
  RuleTransition candidates[6];
  rule_transitions(rule_, year, candidates);
  Found best;
  for (const RuleTransition& c : candidates) {
    const int64_t at = clock == Clock::kUtc ? c.utc : c.utc + std::max(c.before, c.after);
    if (at <= t && (!best.found || at >= best.at)) best = {true, at, c.after};
  }
  return best;
}

int64_t TimeZone::offset_at(int64_t seconds, Clock clock) const {
  const bool utc = clock == Clock::kUtc;
  const int64_t table_end = utc ? table_end_utc_ : table_end_local_;
  if (has_rule_ && (!has_table_ || seconds >= table_end)) {
    if (!rule_.has_dst) return rule_.std_offset;
    // The rule's latest transition can only precede the table's last one
    // in a file whose footer disagrees with its table (RFC 8536 forbids
    // that); the later of the two is the better guess.
    const Found rule = rule_at(seconds, clock);
    if (has_table_ && (!rule.found || rule.at < table_end)) return last_table_offset_;
    return rule.found ? rule.offset : rule_.std_offset;
  }
  const std::vector<int64_t>& switches = utc ? transitions_utc_ : local_switches_;
  const auto after = std::upper_bound(switches.begin(), switches.end(), seconds);
  const size_t passed = static_cast<size_t>(after - switches.begin());
  return passed == 0 ? initial_offset_ : offsets_after_[passed - 1];
}

int64_t TimeZone::offset_for_utc(int64_t utc_seconds) const { return offset_at(utc_seconds, Clock::kUtc); }

int64_t TimeZone::offset_for_local(int64_t local_seconds) const { return offset_at(local_seconds, Clock::kLocal); }

}  // namespace sluice::parsers
