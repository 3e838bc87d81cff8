#include "parsers/syslog_parser.h"

#include <array>
#include <cstring>

#include "server/base/clock.h"
#include "server/base/time_format.h"

namespace sluice::parsers {
namespace {

// RFC5424 section 6 field limits.
constexpr size_t kMaxHostnameBytes = 255;
constexpr size_t kMaxAppNameBytes = 48;
constexpr size_t kMaxProcIdBytes = 128;
constexpr size_t kMaxMsgIdBytes = 32;
constexpr size_t kMaxSdNameBytes = 32;

// RFC5424 PRIVAL: facility 0..23 times 8 plus severity 0..7.
constexpr uint32_t kMaxPri = 191;

// RFC5424 section 6.3.5 forbids a repeated SD-ID. Remembering this many per
// message keeps the check on the stack; SD-IDs beyond it go unchecked,
// which only means a strictness check is skipped on absurd input.
constexpr size_t kMaxCheckedSdIds = 16;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Timestamps are int64 nanoseconds: whole seconds outside this range do not fit.
constexpr int64_t kMinSeconds = INT64_MIN / kNanosPerSecond + 1;
constexpr int64_t kMaxSeconds = INT64_MAX / kNanosPerSecond - 1;

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC5424 PRINTUSASCII: %d33-126.
constexpr bool is_print_usascii(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 33 && u <= 126;
}

// RFC5424 SD-NAME characters: PRINTUSASCII except '=', SP, ']', '"'.
constexpr bool is_sd_name_char(char c) {
  return is_print_usascii(c) && c != '=' && c != ']' && c != '"';
}

// Reads `count` ASCII digits at `pos`; false if any is missing or not a digit.
bool read_digits(std::string_view text, size_t pos, size_t count, int& value) {
  if (pos + count > text.size()) return false;
  value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (!is_digit(text[i])) return false;
    value = value * 10 + (text[i] - '0');
  }
  return true;
}

constexpr bool is_leap_year(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

constexpr int days_in_month(int64_t year, int month) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

constexpr int64_t floor_div(int64_t value, int64_t divisor) {
  const int64_t quotient = value / divisor;
  return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient;
}

// Seconds since the epoch of a local civil time `utc_offset_seconds` east of UTC.
// The day may exceed the month's length: days_from_civil rolls it over.
int64_t civil_to_seconds(int64_t year, int month, int day, int64_t second_of_day,
                         int64_t utc_offset_seconds) {
  return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
         second_of_day - utc_offset_seconds;
}

// Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool is_valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t length;
    unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) low = 0xA0;
      if (c == 0xED) high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) low = 0x90;
      if (c == 0xF4) high = 0x8F;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) < length) return false;
    if (p[1] < low || p[1] > high) return false;
    for (size_t i = 2; i < length; ++i) {
      if (p[i] < 0x80 || p[i] > 0xBF) return false;
    }
    p += length;
  }
  return true;
}

struct TimeParse {
  bool usable = false;  // `seconds`/`nanos` hold a time (not yet checked against int64 ns)
  int64_t seconds = 0;
  int64_t nanos = 0;
  // First deviation from RFC5424's TIMESTAMP grammar; empty if none.
  std::string_view rfc5424_error;
  bool invalid_date = false;  // e.g. Sep 31: rolled into the next month
};

// An RFC3339 timestamp token, "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm)", parsed
// leniently: see the header for what is accepted and what stays usable.
TimeParse parse_rfc3339_token(std::string_view token, int32_t default_offset_seconds) {
  TimeParse result;
  auto deviation = [&result](std::string_view why) {
    if (result.rfc5424_error.empty()) result.rfc5424_error = why;
  };
  int year, month, day, hour, minute, second;
  if (!read_digits(token, 0, 4, year) || token.size() < 19 || token[4] != '-' ||
      !read_digits(token, 5, 2, month) || token[7] != '-' || !read_digits(token, 8, 2, day) ||
      (token[10] != 'T' && token[10] != 't') || !read_digits(token, 11, 2, hour) ||
      token[13] != ':' || !read_digits(token, 14, 2, minute) || token[16] != ':' ||
      !read_digits(token, 17, 2, second)) {
    return result;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return result;
  }
  if (token[10] == 't') deviation("lowercase 't' in TIMESTAMP");
  if (day > days_in_month(year, month)) {
    result.invalid_date = true;
    deviation("TIMESTAMP is not a valid date");
  }
  // RFC5424 section 6.2.3: leap seconds MUST NOT be used. A 60 rolls into the next minute.
  if (second == 60) deviation("leap second in TIMESTAMP");

  size_t pos = 19;
  if (pos < token.size() && token[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < token.size() && is_digit(token[pos])) {
      // Nanoseconds are all an int64 timestamp can hold; further digits are dropped.
      if (digits < 9) result.nanos = result.nanos * 10 + (token[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) deviation("empty TIME-SECFRAC");
    if (digits > 6) deviation("TIME-SECFRAC longer than 6 digits");
    for (int i = digits; i < 9; ++i) result.nanos *= 10;
  }

  int64_t offset_seconds = default_offset_seconds;
  if (pos == token.size()) {
    deviation("TIMESTAMP has no time zone");
  } else if (token[pos] == 'Z' || token[pos] == 'z') {
    if (token[pos] == 'z') deviation("lowercase 'z' in TIMESTAMP");
    offset_seconds = 0;
    ++pos;
  } else if (token[pos] == '+' || token[pos] == '-') {
    const bool west = token[pos] == '-';
    int offset_hours, offset_minutes;
    if (!read_digits(token, pos + 1, 2, offset_hours)) return result;
    pos += 3;
    if (pos < token.size() && token[pos] == ':') {
      ++pos;
    } else {
      deviation("TIME-NUMOFFSET without ':'");  // ISO-8601 basic "+0100"
    }
    if (!read_digits(token, pos, 2, offset_minutes)) return result;
    pos += 2;
    if (offset_hours > 23 || offset_minutes > 59) return result;
    offset_seconds = (offset_hours * 3600 + offset_minutes * 60) * (west ? -1 : 1);
  } else {
    return result;
  }
  if (pos != token.size()) return result;

  // Whether it fits int64 nanoseconds is set_time's check.
  result.seconds =
      civil_to_seconds(year, month, day, hour * 3600 + minute * 60 + second, offset_seconds);
  result.usable = true;
  return result;
}

// "Mmm dd hh:mm:ss" and the variants rsyslog accepts.
struct BsdTime {
  size_t end = 0;  // first byte after the timestamp
  int month = 0, day = 0, second_of_day = 0;
  int64_t year = -1;  // -1: not given, to be inferred
  int64_t nanos = 0;
  std::string_view deviation;  // first deviation from RFC3164; empty if none
};

constexpr std::string_view kMonthNames = "JanFebMarAprMayJunJulAugSepOctNovDec";

bool parse_bsd_timestamp(std::string_view text, size_t pos, BsdTime& out) {
  auto deviation = [&out](std::string_view why) {
    if (out.deviation.empty()) out.deviation = why;
  };
  if (pos + 14 > text.size()) return false;  // "Mmm d hh:mm:ss" is the shortest form
  auto lower = [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); };
  for (int m = 0; m < 12 && out.month == 0; ++m) {
    const std::string_view name = kMonthNames.substr(m * 3, 3);
    bool same = true;
    for (size_t i = 0; i < 3; ++i) same = same && lower(text[pos + i]) == lower(name[i]);
    if (!same) continue;
    out.month = m + 1;
    if (text.substr(pos, 3) != name) deviation("month name not in RFC3164 case");
  }
  if (out.month == 0 || text[pos + 3] != ' ') return false;
  pos += 4;
  if (text[pos] == ' ' && is_digit(text[pos + 1])) {
    out.day = text[pos + 1] - '0';  // RFC3164's " 1"
    pos += 2;
  } else if (is_digit(text[pos]) && is_digit(text[pos + 1])) {
    out.day = (text[pos] - '0') * 10 + (text[pos + 1] - '0');
    if (text[pos] == '0') deviation("day of month with a leading zero");
    pos += 2;
  } else if (is_digit(text[pos]) && text[pos + 1] == ' ') {
    out.day = text[pos] - '0';
    deviation("day of month not space-padded");
    pos += 1;
  } else {
    return false;
  }
  if (pos >= text.size() || text[pos] != ' ') return false;
  ++pos;
  // "Mar  7 2008 19:06:53": a year before the time (Cisco, rsyslog's testbench).
  int year;
  if (read_digits(text, pos, 4, year) && pos + 4 < text.size() && text[pos + 4] == ' ') {
    out.year = year;
    deviation("year in RFC3164 TIMESTAMP");
    pos += 5;
  }
  int hour, minute, second;
  if (!read_digits(text, pos, 2, hour) || pos + 8 > text.size() || text[pos + 2] != ':' ||
      !read_digits(text, pos + 3, 2, minute) || text[pos + 5] != ':' ||
      !read_digits(text, pos + 6, 2, second)) {
    return false;
  }
  pos += 8;
  if (out.day < 1 || out.day > 31 || hour > 23 || minute > 59 || second > 60) return false;
  out.second_of_day = hour * 3600 + minute * 60 + second;
  if (pos < text.size() && text[pos] == '.') {
    size_t digits = 0;
    ++pos;
    while (pos < text.size() && is_digit(text[pos])) {
      if (digits < 9) out.nanos = out.nanos * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return false;
    for (size_t i = digits; i < 9; ++i) out.nanos *= 10;
    deviation("fraction in RFC3164 TIMESTAMP");
  }
  // "19:06:53: host": some senders end the timestamp with a colon.
  if (pos < text.size() && text[pos] == ':' && (pos + 1 == text.size() || text[pos + 1] == ' ')) {
    deviation("colon after RFC3164 TIMESTAMP");
    ++pos;
  }
  if (pos < text.size() && text[pos] != ' ') return false;
  out.end = pos;
  return true;
}

// An RFC3164 TAG: "app:" or "app[pid]" optionally followed by ':', then a
// space or the end of the frame. Anything up to ':', '[' or a space is the
// app ("sshd(pam_unix)", "%PIX-7-710005", "postfix/smtpd").
struct Tag {
  std::string_view app;
  std::string_view procid;
  size_t length = 0;  // bytes of the tag, including ':'
};

bool parse_tag(std::string_view text, Tag& out) {
  size_t pos = 0;
  while (pos < text.size() && is_print_usascii(text[pos]) && text[pos] != ':' && text[pos] != '[') {
    ++pos;
  }
  if (pos == 0 || pos == text.size()) return false;
  out.app = text.substr(0, pos);
  out.procid = {};
  if (text[pos] == '[') {
    const size_t open = pos;
    ++pos;
    while (pos < text.size() && is_print_usascii(text[pos]) && text[pos] != ']') ++pos;
    if (pos == text.size() || text[pos] != ']') return false;
    out.procid = text.substr(open + 1, pos - open - 1);
    ++pos;
    if (pos < text.size() && text[pos] == ':') ++pos;
  } else if (text[pos] == ':') {
    ++pos;
  } else {
    return false;  // a space: a plain word, not a tag
  }
  if (pos < text.size() && text[pos] != ' ') return false;
  out.length = pos;
  return true;
}

// One parse; holds the references so that helpers need no long argument lists.
class Parser {
 public:
  Parser(std::string_view frame, int64_t received_ns, const SyslogOptions& options, Arena& arena,
         std::vector<Field>& fields)
      : frame_(frame), received_ns_(received_ns), options_(options), arena_(arena), fields_(fields) {}

  SyslogMessage run() {
    msg_.well_formed = true;
    if (frame_.empty()) {
      fail("empty frame");
      return msg_;
    }
    size_t pos = 0;
    bool has_pri = false;
    if (frame_[0] == '<') {
      size_t end = 1;
      uint32_t value = 0;
      while (end < frame_.size() && is_digit(frame_[end])) {
        if (end <= 4) value = value * 10 + static_cast<uint32_t>(frame_[end] - '0');
        ++end;
      }
      const size_t digits = end - 1;
      if (end < frame_.size() && frame_[end] == '>' && digits > 0) {
        has_pri = true;
        pos = end + 1;
        if (digits > 3 || value > kMaxPri) {
          fail("PRI out of range");
        } else {
          msg_.facility = static_cast<uint8_t>(value >> 3);
          msg_.severity = static_cast<uint8_t>(value & 7);
          if (digits > 1 && frame_[1] == '0') fail("PRI with a leading zero");
        }
      } else {
        fail(end == frame_.size() ? "truncated PRI" : "invalid PRI");
      }
    } else {
      fail("missing PRI");
    }

    // RFC5424 VERSION: NONZERO-DIGIT 0*2DIGIT, then SP. An RFC3164 timestamp
    // starts with a month name or a 4-digit year followed by '-', so this
    // cannot take one of those for a version.
    if (has_pri && pos < frame_.size() && frame_[pos] >= '1' && frame_[pos] <= '9') {
      size_t end = pos + 1;
      while (end < frame_.size() && end - pos < 3 && is_digit(frame_[end])) ++end;
      if (end == frame_.size() || frame_[end] == ' ') {
        for (size_t i = pos; i < end; ++i) {
          msg_.version = static_cast<uint16_t>(msg_.version * 10 + (frame_[i] - '0'));
        }
        parse_rfc5424(end);
        return msg_;
      }
    }
    parse_rfc3164(pos, has_pri);
    return msg_;
  }

 private:
  // Records the first problem; later ones are usually consequences of it.
  void fail(std::string_view why) {
    msg_.well_formed = false;
    if (msg_.error.empty()) msg_.error = why;
  }

  // Records the first tolerated deviation from the RFC's grammar: the reading
  // is still unambiguous, so the message stays well formed.
  void deviate(std::string_view why) {
    if (msg_.deviation.empty()) msg_.deviation = why;
  }

  void set_message(std::string_view text, bool check_utf8_after_bom) {
    if (text.substr(0, kBom.size()) == kBom) {
      text.remove_prefix(kBom.size());
      // RFC5424 section 6.4: a BOM promises that MSG is UTF-8.
      if (check_utf8_after_bom && !is_valid_utf8(text)) fail("MSG after a BOM is not valid UTF-8");
    }
    msg_.message = text;
  }

  // A time outside int64 nanoseconds (before 1678 or after 2262) is valid
  // syslog, but sluice cannot store it: no timestamp, and the caller uses the
  // time of receipt. Not an error: the frame itself is fine.
  void set_time(int64_t seconds, int64_t nanos) {
    if (seconds < kMinSeconds || seconds > kMaxSeconds) {
      deviate("TIMESTAMP outside the representable range");
      return;
    }
    msg_.has_timestamp = true;
    msg_.timestamp_ns = seconds * kNanosPerSecond + nanos;
  }

  // ---- RFC5424 ----

  // `pos` is just after VERSION.
  void parse_rfc5424(size_t pos) {
    msg_.format = SyslogFormat::kRfc5424;
    pos_ = pos;
    std::string_view token;

    if (!next_header_token(token)) return fail("truncated header: no TIMESTAMP");
    if (token != "-") {
      const TimeParse time = parse_rfc3339_token(token, options_.default_utc_offset_seconds);
      if (!time.rfc5424_error.empty()) fail(time.rfc5424_error);
      if (time.usable) {
        set_time(time.seconds, time.nanos);
      } else {
        fail("invalid TIMESTAMP");
      }
    }
    if (!next_header_token(token)) return fail("truncated header: no HOSTNAME");
    msg_.hostname = header_value(token, kMaxHostnameBytes, "HOSTNAME too long");
    if (!next_header_token(token)) return fail("truncated header: no APP-NAME");
    msg_.app_name = header_value(token, kMaxAppNameBytes, "APP-NAME too long");
    if (!next_header_token(token)) return fail("truncated header: no PROCID");
    msg_.procid = header_value(token, kMaxProcIdBytes, "PROCID too long");
    if (!next_header_token(token)) return fail("truncated header: no MSGID");
    msg_.msgid = header_value(token, kMaxMsgIdBytes, "MSGID too long");

    if (!skip_separator()) return fail("truncated header: no STRUCTURED-DATA");
    if (frame_[pos_] == '-') {
      ++pos_;
    } else if (frame_[pos_] == '[') {
      if (!parse_structured_data()) return;
    } else {
      fail("invalid STRUCTURED-DATA");
      msg_.message = frame_.substr(pos_);
      return;
    }
    if (pos_ == frame_.size()) return;  // MSG is optional
    if (frame_[pos_] != ' ') {
      fail("no space after STRUCTURED-DATA");
      msg_.message = frame_.substr(pos_);
      return;
    }
    set_message(frame_.substr(pos_ + 1), /*check_utf8_after_bom=*/true);
  }

  // Consumes the SP at pos_ (tolerating, but flagging, a run of them).
  // False if the frame ends first.
  bool skip_separator() {
    if (pos_ >= frame_.size()) return false;
    ++pos_;
    if (pos_ < frame_.size() && frame_[pos_] == ' ') {
      fail("extra space in header");
      while (pos_ < frame_.size() && frame_[pos_] == ' ') ++pos_;
    }
    return pos_ < frame_.size();
  }

  bool next_header_token(std::string_view& token) {
    if (!skip_separator()) return false;
    size_t end = frame_.find(' ', pos_);
    if (end == std::string_view::npos) end = frame_.size();
    token = frame_.substr(pos_, end - pos_);
    pos_ = end;
    return true;
  }

  // A HOSTNAME/APP-NAME/PROCID/MSGID token: NILVALUE becomes empty; a value
  // that breaks the grammar is kept as it is, but flagged.
  std::string_view header_value(std::string_view token, size_t max_bytes, std::string_view too_long) {
    if (token == "-") return {};
    if (token.size() > max_bytes) fail(too_long);
    for (char c : token) {
      if (!is_print_usascii(c)) {
        fail("header field with a character outside PRINTUSASCII");
        break;
      }
    }
    return token;
  }

  // At '['. On success pos_ is after the last ']'. On a syntax error, drops the
  // broken element's fields, leaves it and the rest of the frame in `message`
  // and returns false.
  bool parse_structured_data() {
    std::array<std::string_view, kMaxCheckedSdIds> seen_ids;
    size_t seen_count = 0;
    while (pos_ < frame_.size() && frame_[pos_] == '[') {
      const size_t element_start = pos_;
      const size_t first_field = fields_.size();
      std::string_view sd_id;
      const std::string_view error = parse_sd_element(sd_id);
      if (!error.empty()) {
        fields_.resize(first_field);
        fail(error);
        msg_.message = frame_.substr(element_start);
        return false;
      }
      for (size_t i = 0; i < seen_count; ++i) {
        if (seen_ids[i] == sd_id) fail("duplicate SD-ID");
      }
      if (seen_count < seen_ids.size()) seen_ids[seen_count++] = sd_id;
    }
    return true;
  }

  // Returns the syntax error that stops parsing, or empty. Problems the
  // element survives (long names, bad escapes) only fail().
  std::string_view parse_sd_element(std::string_view& sd_id) {
    constexpr std::string_view kTruncated = "truncated STRUCTURED-DATA";
    ++pos_;  // '['
    sd_id = scan_sd_name();
    if (pos_ >= frame_.size()) return kTruncated;
    if (sd_id.empty()) return "expected SD-ID";
    if (sd_id.size() > kMaxSdNameBytes) fail("SD-ID longer than 32 characters");
    for (;;) {
      if (pos_ >= frame_.size()) return kTruncated;
      if (frame_[pos_] == ']') {
        ++pos_;
        return {};
      }
      if (frame_[pos_] != ' ') return "invalid character in SD-ELEMENT";
      skip_sd_spaces("extra space in SD-ELEMENT");
      if (pos_ >= frame_.size()) return kTruncated;
      if (frame_[pos_] == ']') {
        fail("space before ']' in SD-ELEMENT");
        ++pos_;
        return {};
      }
      const std::string_view name = scan_sd_name();
      if (name.empty()) {
        if (frame_[pos_] != '=') return "expected PARAM-NAME";
        // "[x@1 =\"v\"]": SD-NAME is 1*32 characters, but the rest of the
        // element still reads unambiguously, so keep the param (as "sd.x@1.").
        fail("empty PARAM-NAME");
      }
      if (name.size() > kMaxSdNameBytes) fail("PARAM-NAME longer than 32 characters");
      skip_sd_spaces("space around '=' in SD-PARAM", /*first_is_extra=*/true);
      if (pos_ >= frame_.size()) return kTruncated;
      if (frame_[pos_] != '=') return "expected '=' after PARAM-NAME";
      ++pos_;
      skip_sd_spaces("space around '=' in SD-PARAM", /*first_is_extra=*/true);
      if (pos_ >= frame_.size()) return kTruncated;
      if (frame_[pos_] != '"') return "expected '\"' before PARAM-VALUE";
      ++pos_;
      const size_t value_start = pos_;
      size_t escapes = 0;
      for (;;) {
        if (pos_ >= frame_.size()) return "unterminated PARAM-VALUE";
        const char c = frame_[pos_];
        if (c == '"') break;
        if (c == '\\') {
          if (pos_ + 1 < frame_.size() &&
              (frame_[pos_ + 1] == '"' || frame_[pos_ + 1] == '\\' || frame_[pos_ + 1] == ']')) {
            ++escapes;
            pos_ += 2;
            continue;
          }
          // RFC5424 section 6.3.3: an invalid escape is kept as it is.
          fail("invalid escape in PARAM-VALUE");
        } else if (c == ']') {
          fail("unescaped ']' in PARAM-VALUE");
        }
        ++pos_;
      }
      const std::string_view raw = frame_.substr(value_start, pos_ - value_start);
      ++pos_;  // closing '"'
      if (!is_valid_utf8(raw)) fail("PARAM-VALUE is not valid UTF-8");
      fields_.push_back(Field{field_name(sd_id, name), escapes ? unescape(raw, escapes) : raw});
    }
  }

  std::string_view scan_sd_name() {
    const size_t start = pos_;
    while (pos_ < frame_.size() && is_sd_name_char(frame_[pos_])) ++pos_;
    return frame_.substr(start, pos_ - start);
  }

  // Skips spaces at pos_; flags them if there is more than the grammar's one
  // (or any at all, if `first_is_extra`).
  void skip_sd_spaces(std::string_view why, bool first_is_extra = false) {
    size_t count = 0;
    while (pos_ < frame_.size() && frame_[pos_] == ' ') {
      ++pos_;
      ++count;
    }
    if (count > (first_is_extra ? 0u : 1u)) fail(why);
  }

  std::string_view field_name(std::string_view sd_id, std::string_view param) {
    constexpr std::string_view kPrefix = "sd.";
    const size_t size = kPrefix.size() + sd_id.size() + 1 + param.size();
    char* out = arena_.allocate(size);
    std::memcpy(out, kPrefix.data(), kPrefix.size());
    std::memcpy(out + kPrefix.size(), sd_id.data(), sd_id.size());
    out[kPrefix.size() + sd_id.size()] = '.';
    std::memcpy(out + kPrefix.size() + sd_id.size() + 1, param.data(), param.size());
    return {out, size};
  }

  // `raw` holds exactly `escapes` valid escapes (\" \\ \]); other backslashes stay.
  std::string_view unescape(std::string_view raw, size_t escapes) {
    const size_t size = raw.size() - escapes;
    char* out = arena_.allocate(size);
    size_t written = 0;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 1 < raw.size() &&
          (raw[i + 1] == '"' || raw[i + 1] == '\\' || raw[i + 1] == ']')) {
        ++i;
      }
      out[written++] = raw[i];
    }
    return {out, written};
  }

  // ---- RFC3164 ----

  // `pos` is just after PRI (0 if there was none).
  void parse_rfc3164(size_t pos, bool has_pri) {
    const size_t after_pri = pos;
    while (pos < frame_.size() && frame_[pos] == ' ') ++pos;
    const bool leading_space = pos != after_pri;

    bool found = false;
    if (pos < frame_.size() && is_digit(frame_[pos])) {
      size_t end = frame_.find(' ', pos);
      if (end == std::string_view::npos) end = frame_.size();
      const TimeParse time =
          parse_rfc3339_token(frame_.substr(pos, end - pos), options_.default_utc_offset_seconds);
      if (time.usable) {
        found = true;
        msg_.format = SyslogFormat::kRfc3164;
        if (time.invalid_date) fail("TIMESTAMP is not a valid date");
        if (!time.rfc5424_error.empty()) deviate(time.rfc5424_error);
        set_time(time.seconds, time.nanos);
        pos = end;
      }
    } else {
      BsdTime time;
      if (parse_bsd_timestamp(frame_, pos, time)) {
        found = true;
        msg_.format = SyslogFormat::kRfc3164;
        if (!time.deviation.empty()) deviate(time.deviation);
        set_bsd_time(time);
        pos = time.end;
      }
    }
    if (!found) {
      // RFC3164 section 4.3.3: without a valid TIMESTAMP, it is all MSG.
      if (has_pri) msg_.format = SyslogFormat::kRfc3164;
      fail("missing TIMESTAMP");
      msg_.message = frame_.substr(after_pri);
      return;
    }
    if (leading_space) deviate("space before TIMESTAMP");

    // At the SP after the timestamp, or the end.
    if (pos < frame_.size()) ++pos;
    pos = skip_extra_spaces(pos, "extra space after TIMESTAMP");
    if (pos >= frame_.size()) return fail("missing HOSTNAME");

    Tag tag;
    if (parse_tag(frame_.substr(pos), tag)) {
      // "Mar  1 12:00:00 app: msg", as syslog(3) writes to /dev/log and
      // logger(1) to a local socket: a TAG where the HOSTNAME belongs. A
      // HOSTNAME never ends in ':' or "[pid]", so this is not ambiguous.
      deviate("no HOSTNAME");
    } else {
      size_t end = frame_.find(' ', pos);
      if (end == std::string_view::npos) end = frame_.size();
      msg_.hostname = frame_.substr(pos, end - pos);
      // RFC3164 section 4.1.2: the HOSTNAME is followed by a SP. Without one the
      // frame may be cut short, and "Mar  1 12:00:00 word" could as well be a
      // bare MSG: the reading is a guess, so not well formed.
      if (end == frame_.size()) return fail("no SP after HOSTNAME");
      pos = skip_extra_spaces(end + 1, "extra space after HOSTNAME");
      if (!parse_tag(frame_.substr(pos), tag)) {
        set_message(frame_.substr(pos), /*check_utf8_after_bom=*/false);
        return;
      }
    }
    msg_.app_name = tag.app;
    msg_.procid = tag.procid;
    pos += tag.length;
    if (pos < frame_.size()) ++pos;  // the space after the tag belongs to neither
    set_message(frame_.substr(pos), /*check_utf8_after_bom=*/false);
  }

  // Skips a run of spaces at `pos` (a deviation if there is any); returns the
  // position after it.
  size_t skip_extra_spaces(size_t pos, std::string_view why) {
    if (pos >= frame_.size() || frame_[pos] != ' ') return pos;
    deviate(why);
    while (pos < frame_.size() && frame_[pos] == ' ') ++pos;
    return pos;
  }

  void set_bsd_time(const BsdTime& time) {
    const int64_t offset = options_.default_utc_offset_seconds;
    if (time.year >= 0) {
      if (time.day > days_in_month(time.year, time.month)) fail("TIMESTAMP is not a valid date");
      set_time(civil_to_seconds(time.year, time.month, time.day, time.second_of_day, offset),
               time.nanos);
      return;
    }
    // No year: of the years around the receiver's local one, take the one that
    // puts the timestamp closest to the time of receipt, so that clocks a bit
    // off either way across New Year still land in the right year. A date that
    // exists in a candidate year (Feb 29) beats one that does not.
    const int64_t received_seconds = floor_div(received_ns_, kNanosPerSecond);
    const int64_t local_year = civil_from_days(floor_div(received_seconds + offset, 86400)).year;
    int64_t best_seconds = 0;
    int64_t best_distance = INT64_MAX;
    bool best_valid = false;
    for (int64_t year = local_year - 1; year <= local_year + 1; ++year) {
      const bool valid = time.day <= days_in_month(year, time.month);
      const int64_t seconds =
          civil_to_seconds(year, time.month, time.day, time.second_of_day, offset);
      const int64_t distance = seconds > received_seconds ? seconds - received_seconds
                                                          : received_seconds - seconds;
      if ((valid && !best_valid) || (valid == best_valid && distance < best_distance)) {
        best_seconds = seconds;
        best_distance = distance;
        best_valid = valid;
      }
    }
    if (!best_valid) fail("TIMESTAMP is not a valid date");
    set_time(best_seconds, time.nanos);
  }

  std::string_view frame_;
  int64_t received_ns_;
  const SyslogOptions& options_;
  Arena& arena_;
  std::vector<Field>& fields_;
  SyslogMessage msg_;
  size_t pos_ = 0;  // RFC5424 cursor
};

}  // namespace

SyslogMessage parse_syslog(std::string_view frame, int64_t received_ns, const SyslogOptions& options,
                           Arena& arena, std::vector<Field>& fields) {
  return Parser(frame, received_ns, options, arena, fields).run();
}

bool parse_syslog_event(std::string_view frame, const SyslogOptions& options, EventBatch& batch,
                        Event& event) {
  const SyslogMessage message = parse_syslog(frame, event.received_ns, options, batch.arena, batch.fields);
  event.raw = frame;
  event.timestamp_ns = message.has_timestamp ? message.timestamp_ns : event.received_ns;
  event.host = message.hostname;
  event.app = message.app_name;
  event.message = message.message;
  event.severity = message.severity;
  event.facility = message.facility;
  if (!message.procid.empty()) batch.fields.push_back({"procid", message.procid});
  if (!message.msgid.empty()) batch.fields.push_back({"msgid", message.msgid});
  event.field_count = static_cast<uint32_t>(batch.fields.size()) - event.first_field;
  if (!message.well_formed) event.flags |= kFlagParseFailure;
  return message.well_formed;
}

}  // namespace sluice::parsers
