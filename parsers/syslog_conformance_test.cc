// Syslog conformance: the vectors of tests/data/syslog/ (see its README.md)
// run through parse_syslog as one table-driven test per file.
//
// Each record either agrees with its source on every asserted field, or is
// listed in kDifferences below with exactly the fields that differ and why. A
// listed record that starts to agree, or an unlisted one that disagrees, fails
// the test, so the table cannot go stale. Each file ends with a summary line:
//   rfc5424_cases.jsonl: 734 records: 701 agree, 33 differ as listed in kDifferences, 0 unexpected
//
// Mappings applied to every record (sluice's interface, not disagreements):
// - A `null` expectation (nil, NILVALUE "-", empty MSG) is an empty view.
// - PRIVAL is compared as facility = PRI / 8, severity = PRI % 8.
// - Timestamps are compared as instants (sluice stores UTC nanoseconds).
// - STRUCTURED-DATA is compared as the fields "sd.<SD-ID>.<PARAM-NAME>";
//   crewjam keeps source order, so its fields are compared in order, go-syslog's
//   map as a sorted set. An SD-ELEMENT without params yields no field.
// - A BOM at the start of MSG is stripped by sluice (RFC 5424 section 6.4: it
//   marks the encoding, it is not text), so it is stripped from the expectation.
// - Invalid vectors: the caller keeps the raw frame, so the parser only has to
//   say so: well_formed == false and a non-empty error (and not crash: the
//   frame sits in an exact-size heap buffer for ASan).
// - Options sluice does not have: it always reads as go-syslog does with
//   WithCompliantMsg(), WithRFC3339() and WithBestEffort(); go-syslog's
//   WithYear/WithTimezone/WithLocaleTimezone map onto the time of receipt and
//   SyslogOptions::default_utc_offset_seconds (see rfc3164_setup()).
// - rsyslog: a missing hostname (<RS_HOSTNAME>) is an empty one, and the space
//   %msg% keeps after an RFC 3164 TAG is not part of sluice's message.

#include <doctest/doctest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/syslog_parser.h"
#include "server/base/clock.h"
#include "server/base/time_format.h"

#ifndef SLUICE_TEST_DATA_DIR
#error "SLUICE_TEST_DATA_DIR must name tests/data (set in parsers/CMakeLists.txt)"
#endif

namespace sluice::parsers {
namespace {

using namespace std::string_view_literals;

// ---- Deliberate differences ----

struct Difference {
  std::string_view id;      // a record id, or an id prefix ending in '/'
  std::string_view fields;  // the fields that differ, comma-separated, in check order
  std::string_view reason;
};

constexpr Difference kDifferences[] = {
    // -- rfc5424_cases.jsonl --
    {"go-syslog/rfc5424/nonCompliantMsg-default/", "valid",
     "sluice implements go-syslog's WithCompliantMsg() reading, always: RFC 5424 section 6.4 says "
     "a MSG that starts with a BOM MUST be UTF-8, so a BOM followed by invalid UTF-8 is not well "
     "formed. The message is still kept. The twin records nonCompliantMsg-compliant/* agree."},
    {"crewjam-rfc5424/testCases/004", "timestamp",
     "year 0000 is outside sluice's int64-nanosecond range (1678..2262): valid, but no timestamp "
     "(the caller then uses the time of receipt)"},
    {"crewjam-rfc5424/testCases/005", "timestamp", "year 0000: as crewjam-rfc5424/testCases/004"},
    {"crewjam-rfc5424/testCases/006", "valid,timestamp",
     "an empty PARAM-NAME ([x@1 =\"value\"]) breaks RFC 5424 (SD-NAME = 1*32PRINTUSASCII), so it "
     "is not well formed although crewjam accepts it (the corpus flags it with rfc_note); the "
     "param is still kept as field \"sd.x@1.\". Year 0000: as testCases/004"},

    // -- rsyslog_parser_cases.jsonl --
    {"rsyslog/parsertest-parse-nodate/01", "programname,msg",
     "no TIMESTAMP: sluice keeps the whole text as MSG, as RFC 3164 section 4.3.3 says, instead of "
     "guessing a TAG"},
    {"rsyslog/parsertest-parse-nodate/02", "facility,severity,hostname,programname,msg",
     "no PRI: sluice reports facility and severity as unknown rather than RFC 3164's relay default "
     "13 (user.notice), and guesses no HOSTNAME or TAG from plain text"},
    {"rsyslog/parsertest-parse1/05", "programname,msg",
     "a word without ':' or \"[pid]\" is not a TAG (as go-syslog's rfc3164 vectors assert, e.g. "
     "testCases/003 \"ABC-1-234567 Some message here\"); rsyslog takes any first word"},
    {"rsyslog/parsertest-parse1/11", "programname,msg", "bare word: as parsertest-parse1/05"},
    {"rsyslog/parsertest-parse1/12", "programname,msg",
     "bare word \"--\": as parsertest-parse1/05"},
    {"rsyslog/parsertest-parse1/13", "facility,severity,programname,msg",
     "no PRI (as parsertest-parse-nodate/02) and bare word (as parsertest-parse1/05)"},
    {"rsyslog/parsertest-parse1/22", "programname,msg", "bare word: as parsertest-parse1/05"},
    {"rsyslog/parsertest-parse1/27", "programname,msg", "bare word: as parsertest-parse1/05"},
    {"rsyslog/parsertest-parse2/01", "programname",
     "RFC 3164 does not restrict HOSTNAME characters, so sluice reads \"#001\" as the HOSTNAME; "
     "rsyslog rejects '#' in a hostname and takes the word as the TAG"},
    {"rsyslog/parsertest-parse3/01", "programname,msg", "bare word: as parsertest-parse1/05"},
    {"rsyslog/parsertest-parse_8bit_escape/01", "programname,msg",
     "bare word (as parsertest-parse1/05); and the test sets $Escape8BitCharactersOnReceive, which "
     "sluice does not implement: bytes are stored as received"},
};

const Difference* find_difference(std::string_view id) {
  for (const Difference& d : kDifferences) {
    if (d.id == id || (d.id.back() == '/' && id.substr(0, d.id.size()) == d.id)) return &d;
  }
  return nullptr;
}

// ---- Small helpers: base64, files, JSON ----

std::optional<std::string> decode_base64(std::string_view text) {
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t group = 0;
    int padding = 0;
    for (size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        ++padding;
        group <<= 6;
        continue;
      }
      const int v = value_of(c);
      if (v < 0 || padding > 0) return std::nullopt;
      group = (group << 6) | static_cast<uint32_t>(v);
    }
    out.push_back(static_cast<char>(group >> 16));
    if (padding < 2) out.push_back(static_cast<char>((group >> 8) & 0xFF));
    if (padding < 1) out.push_back(static_cast<char>(group & 0xFF));
  }
  return out;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// A string member of a JSON object: not asserted (missing key), asserted absent
// (null), or a value. `<key>_b64` stands in for `<key>` when the value is not UTF-8.
struct Expected {
  bool asserted = false;
  std::string value;  // empty for null
};

Expected expected_string(simdjson::dom::object object, std::string_view key) {
  Expected out;
  simdjson::dom::element element;
  if (object.at_key(key).get(element) == simdjson::SUCCESS) {
    out.asserted = true;
    if (element.is_null()) return out;
    std::string_view text;
    REQUIRE_MESSAGE(element.get(text) == simdjson::SUCCESS, "\"" << key << "\" is not a string");
    out.value = std::string(text);
    return out;
  }
  const std::string b64_key = std::string(key) + "_b64";
  if (object.at_key(b64_key).get(element) == simdjson::SUCCESS) {
    out.asserted = true;
    std::string_view text;
    REQUIRE(element.get(text) == simdjson::SUCCESS);
    const std::optional<std::string> decoded = decode_base64(text);
    REQUIRE_MESSAGE(decoded.has_value(), "bad base64 in " << b64_key);
    out.value = *decoded;
  }
  return out;
}

std::optional<int64_t> optional_int(simdjson::dom::object object, std::string_view key) {
  simdjson::dom::element element;
  if (object.at_key(key).get(element) != simdjson::SUCCESS || element.is_null())
    return std::nullopt;
  int64_t value = 0;
  REQUIRE(element.get(value) == simdjson::SUCCESS);
  return value;
}

std::string string_or_empty(simdjson::dom::object object, std::string_view key) {
  std::string_view text;
  if (object.at_key(key).get(text) != simdjson::SUCCESS) return {};
  return std::string(text);
}

// ---- Time ----

// "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" as written by the corpus: year
// 0000 allowed, so seconds are int64 seconds, not nanoseconds.
struct CivilTime {
  int64_t year = 0;
  int month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t nanos = 0;
  int32_t offset_seconds = 0;  // east of UTC
  bool has_offset = false;

  int64_t utc_seconds() const {
    return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
           hour * 3600 + minute * 60 + second - offset_seconds;
  }
};

std::optional<CivilTime> parse_civil_time(std::string_view text) {
  auto number = [&text](size_t pos, size_t count, auto& out) {
    if (pos + count > text.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  CivilTime t;
  if (!number(0, 4, t.year) || text.size() < 19 || text[4] != '-' || !number(5, 2, t.month) ||
      text[7] != '-' || !number(8, 2, t.day) || (text[10] != 'T' && text[10] != ' ') ||
      !number(11, 2, t.hour) || text[13] != ':' || !number(14, 2, t.minute) || text[16] != ':' ||
      !number(17, 2, t.second)) {
    return std::nullopt;
  }
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    int digits = 0;
    for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
      if (digits < 9) t.nanos = t.nanos * 10 + (text[pos] - '0');
    }
    for (; digits < 9; ++digits) t.nanos *= 10;
  }
  if (pos < text.size() && text[pos] == 'Z') {
    t.has_offset = true;
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int hours = 0, minutes = 0;
    if (!number(pos + 1, 2, hours) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !number(pos + 4, 2, minutes)) {
      return std::nullopt;
    }
    t.offset_seconds = (hours * 3600 + minutes * 60) * (text[pos] == '-' ? -1 : 1);
    t.has_offset = true;
    pos += 6;
  }
  if (pos != text.size()) return std::nullopt;
  return t;
}

// Whole seconds that fit int64 nanoseconds, as the parser's range.
bool representable(int64_t seconds) {
  return seconds > INT64_MIN / kNanosPerSecond + 1 && seconds < INT64_MAX / kNanosPerSecond - 1;
}

// The wall clock "Mmm dd hh:mm:ss" (rsyslog's %timestamp%) of `unix_ns` at `offset_seconds`.
std::string bsd_wall_clock(int64_t unix_ns, int32_t offset_seconds) {
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  int64_t seconds = unix_ns / kNanosPerSecond + offset_seconds;
  if (unix_ns < 0 && unix_ns % kNanosPerSecond != 0) --seconds;
  int64_t days = seconds / 86400, second_of_day = seconds % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    --days;
  }
  const CivilDate date = civil_from_days(days);
  char text[32];
  std::snprintf(text, sizeof text, "%.3s %2u %02d:%02d:%02d",
                kMonths.substr((date.month - 1) * 3, 3).data(), date.day,
                static_cast<int>(second_of_day / 3600), static_cast<int>(second_of_day / 60 % 60),
                static_cast<int>(second_of_day % 60));
  return text;
}

// 2024 is a leap year, so a year-less "Feb 29" exists in it.
constexpr int64_t kYearForYearless = 2024;

// ---- Running one record ----

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F && c != '\\') {
      out.push_back(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", u);
      out += hex;
    }
  }
  return out;
}

// One parse of one record, with the frame in an exact-size heap buffer so that
// ASan sees any read past its end.
struct Run {
  std::vector<char> frame_bytes;
  Arena arena;
  std::vector<Field> fields;
  SyslogMessage message;

  std::string_view frame() const { return {frame_bytes.data(), frame_bytes.size()}; }

  void parse(std::string_view input, int64_t received_ns, const SyslogOptions& options) {
    frame_bytes.assign(input.begin(), input.end());
    frame_bytes.shrink_to_fit();
    fields.clear();
    message = parse_syslog(frame(), received_ns, options, arena, fields);
  }

  // Views must point into the frame (the header fields), and the error must be
  // set exactly when the frame is not well formed.
  void check_invariants(std::vector<std::string>& problems) const {
    if (message.well_formed != message.error.empty()) {
      problems.push_back("well_formed does not match error \"" + std::string(message.error) + "\"");
    }
    const std::string_view f = frame();
    for (std::string_view view :
         {message.hostname, message.app_name, message.procid, message.msgid, message.message}) {
      if (!view.empty() &&
          (view.data() < f.data() || view.data() + view.size() > f.data() + f.size())) {
        problems.push_back("a header view points outside the frame");
      }
    }
  }
};

// Collects the names of mismatching fields, with details for the log.
struct Comparison {
  std::vector<std::string> fields;   // names, in check order
  std::vector<std::string> details;  // one line per mismatch

  void check(std::string_view field, bool agree, const std::string& detail) {
    if (agree) return;
    if (std::find(fields.begin(), fields.end(), field) == fields.end()) fields.emplace_back(field);
    details.push_back(std::string(field) + ": " + detail);
  }
  void check_text(std::string_view field, std::string_view got, std::string_view want) {
    check(field, got == want, "got \"" + printable(got) + "\", want \"" + printable(want) + "\"");
  }
  std::string joined() const {
    std::string out;
    for (const std::string& f : fields) out += (out.empty() ? "" : ",") + f;
    return out;
  }
};

struct Tally {
  explicit Tally(std::string file_name) : file(std::move(file_name)) {}

  std::string file;
  int records = 0, agree = 0, listed = 0, unexpected = 0;
  int validity_agree = 0;  // records whose well_formed matches "valid" (RFC files only)
  bool has_validity = false;
  std::vector<std::string> failures;

  // Judges one record against kDifferences.
  void judge(std::string_view id, const Comparison& comparison,
             const std::vector<std::string>& problems) {
    ++records;
    if (std::find(comparison.fields.begin(), comparison.fields.end(), "valid") ==
        comparison.fields.end()) {
      ++validity_agree;
    }
    const Difference* difference = find_difference(id);
    std::string failure;
    if (!problems.empty()) {
      for (const std::string& p : problems) failure += "\n    " + p;
    } else if (difference == nullptr) {
      if (comparison.fields.empty()) {
        ++agree;
        return;
      }
      for (const std::string& d : comparison.details) failure += "\n    " + d;
    } else {
      if (comparison.joined() == difference->fields) {
        ++listed;
        return;
      }
      failure = "\n    listed as differing in {" + std::string(difference->fields) +
                "}, but differs in {" + comparison.joined() + "}";
      for (const std::string& d : comparison.details) failure += "\n    " + d;
    }
    ++unexpected;
    failures.push_back(std::string(id) + ":" + failure);
  }

  void report() const {
    for (const std::string& f : failures) FAIL_CHECK(f);
    MESSAGE(file << ": " << records << " records: " << agree << " agree, " << listed
                 << " differ as listed in kDifferences, " << unexpected << " unexpected"
                 << (has_validity ? "; valid/invalid agrees for " + std::to_string(validity_agree) +
                                        "/" + std::to_string(records)
                                  : std::string()));
    CHECK(records > 0);
    CHECK(unexpected == 0);
  }
};

std::string data_path(std::string_view name) {
  return std::string(SLUICE_TEST_DATA_DIR) + "/syslog/" + std::string(name);
}

struct Record {
  simdjson::padded_string json;
  simdjson::dom::object object;
  std::string id;
  std::string input;
};

// Parses one JSONL line with `parser`; the object lives until the next parse.
Record load(simdjson::dom::parser& parser, const std::string& line) {
  Record r{simdjson::padded_string(line), {}, {}, {}};
  REQUIRE_MESSAGE(parser.parse(r.json).get(r.object) == simdjson::SUCCESS, "bad JSON: " << line);
  r.id = string_or_empty(r.object, "id");
  const std::optional<std::string> input = decode_base64(string_or_empty(r.object, "input_b64"));
  REQUIRE_MESSAGE(input.has_value(), r.id << ": bad input_b64");
  r.input = *input;
  return r;
}

std::string strip_bom(std::string text) {
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  return text;
}

// Header fields common to the go-syslog and crewjam records.
void compare_header(const Run& run, simdjson::dom::object expect, Comparison& c) {
  const SyslogMessage& m = run.message;
  if (const std::optional<int64_t> pri = optional_int(expect, "priority")) {
    c.check("priority", m.facility == *pri / 8 && m.severity == *pri % 8,
            "got facility " + std::to_string(m.facility) + " severity " +
                std::to_string(m.severity) + ", want PRI " + std::to_string(*pri));
  }
  if (const std::optional<int64_t> facility = optional_int(expect, "facility")) {
    c.check("priority", m.facility == *facility, "facility " + std::to_string(m.facility));
  }
  if (const std::optional<int64_t> severity = optional_int(expect, "severity")) {
    c.check("priority", m.severity == *severity, "severity " + std::to_string(m.severity));
  }
  const std::pair<std::string_view, std::string_view> text_fields[] = {
      {"hostname", m.hostname}, {"appname", m.app_name}, {"procid", m.procid}, {"msgid", m.msgid}};
  for (const auto& [key, got] : text_fields) {
    const Expected want = expected_string(expect, key);
    if (want.asserted) c.check_text(key, got, want.value);
  }
  const Expected message = expected_string(expect, "message");
  if (message.asserted) c.check_text("message", m.message, strip_bom(message.value));
}

// ---- RFC 5424 ----

void compare_rfc5424(const Record& r, const Run& run, Comparison& c) {
  const SyslogMessage& m = run.message;
  simdjson::dom::object expect;
  REQUIRE(r.object.at_key("expect").get(expect) == simdjson::SUCCESS);
  bool valid = false;
  REQUIRE(r.object.at_key("valid").get(valid) == simdjson::SUCCESS);

  c.check("valid", m.well_formed == valid,
          std::string("well_formed=") + (m.well_formed ? "true" : "false") + " error \"" +
              std::string(m.error) + "\"");
  if (!valid) {
    // Invalid: the caller keeps the raw text; the parser must say why.
    c.check("error", !m.error.empty(), "no error text for an invalid frame");
    return;
  }
  // The fields are compared even when well_formed disagrees: a listed
  // difference in validity must not hide one in the fields.
  c.check("format", m.format == SyslogFormat::kRfc5424, "not detected as RFC 5424");
  compare_header(run, expect, c);
  if (const std::optional<int64_t> version = optional_int(expect, "version")) {
    c.check("version", m.version == *version, "got " + std::to_string(m.version));
  }

  const Expected timestamp = expected_string(expect, "timestamp");
  if (timestamp.asserted && timestamp.value.empty()) {
    c.check("timestamp", !m.has_timestamp, "got a timestamp for NILVALUE");
  } else if (timestamp.asserted) {
    const std::optional<CivilTime> t = parse_civil_time(timestamp.value);
    REQUIRE_MESSAGE(t.has_value(), r.id << ": unreadable expected timestamp " << timestamp.value);
    const int64_t seconds = t->utc_seconds();
    if (!representable(seconds)) {
      // Valid, but outside int64 nanoseconds: sluice gives no timestamp. A
      // deliberate difference, so listed; check the policy itself here too.
      c.check("timestamp", false, "year " + std::to_string(t->year) + " is not representable");
      CHECK_MESSAGE(!m.has_timestamp, r.id);
    } else {
      const int64_t want = seconds * kNanosPerSecond + t->nanos;
      c.check("timestamp", m.has_timestamp && m.timestamp_ns == want,
              "got " + (m.has_timestamp ? std::to_string(m.timestamp_ns) : "none") + ", want " +
                  std::to_string(want) + " (" + timestamp.value + ")");
    }
  }

  simdjson::dom::element sd;
  if (expect.at_key("structured_data").get(sd) == simdjson::SUCCESS) {
    std::vector<std::pair<std::string, std::string>> want, got;
    if (!sd.is_null()) {
      simdjson::dom::object elements;
      REQUIRE(sd.get(elements) == simdjson::SUCCESS);
      for (auto [sd_id, params_element] : elements) {
        simdjson::dom::object params;
        REQUIRE(params_element.get(params) == simdjson::SUCCESS);
        for (auto [name, value_element] : params) {
          std::string_view value;
          REQUIRE(value_element.get(value) == simdjson::SUCCESS);
          want.emplace_back("sd." + std::string(sd_id) + "." + std::string(name),
                            std::string(value));
        }
      }
    }
    for (const Field& f : run.fields) got.emplace_back(std::string(f.name), std::string(f.value));
    if (r.id.rfind("crewjam", 0) != 0) {  // go-syslog: a map, so no order
      std::sort(want.begin(), want.end());
      std::sort(got.begin(), got.end());
    }
    std::string got_text, want_text;
    for (const auto& [n, v] : got) got_text += n + "=\"" + printable(v) + "\" ";
    for (const auto& [n, v] : want) want_text += n + "=\"" + printable(v) + "\" ";
    c.check("structured_data", got == want, "got {" + got_text + "}, want {" + want_text + "}");
  }
}

// ---- RFC 3164 (go-syslog) ----

// go-syslog's options, mapped onto sluice's.
struct Rfc3164Setup {
  SyslogOptions options;
  std::optional<int64_t> year;  // WithYear
  bool read_in_zone = false;    // WithLocaleTimezone: the stamp is local time in the zone
};

Rfc3164Setup rfc3164_setup(simdjson::dom::object record) {
  Rfc3164Setup setup;
  simdjson::dom::array options;
  if (record.at_key("options").get(options) != simdjson::SUCCESS) return setup;
  for (simdjson::dom::element e : options) {
    std::string_view option;
    REQUIRE(e.get(option) == simdjson::SUCCESS);
    if (option.rfind("WithYear(Year{YYYY: ", 0) == 0) {
      setup.year = std::stoll(std::string(option.substr(20)));
    } else if (option.rfind("WithTimezone(", 0) == 0) {
      // go-syslog parses "Jan 30 02:08:03" as UTC and only then moves it into
      // the zone (same instant, other rendering): sluice's offset 0 gives that
      // instant. sluice's default_utc_offset_seconds is WithLocaleTimezone.
      // So: nothing to set.
    } else if (option.rfind("WithLocaleTimezone(", 0) == 0) {
      setup.read_in_zone = true;  // the offset comes from the expected timestamp
    } else {
      // WithRFC3339() and WithBestEffort() are always on in sluice.
      REQUIRE_MESSAGE((option == "WithRFC3339()" || option == "WithBestEffort()"),
                      "unmapped go-syslog option " << option);
    }
  }
  return setup;
}

// The instant a go-syslog expectation stands for, and a time of receipt that
// makes sluice infer the same year. go-syslog gives year 0000 when the stamp
// has none: sluice then takes the year from the time of receipt, so the test
// receives the message an hour after the stamp in kYearForYearless.
struct Rfc3164Time {
  int64_t instant_ns;
  int64_t received_ns;
};

Rfc3164Time rfc3164_time(const CivilTime& expected, std::optional<int64_t> year) {
  CivilTime t = expected;
  if (t.year == 0) t.year = year.value_or(kYearForYearless);
  const int64_t seconds = t.utc_seconds();
  return {seconds * kNanosPerSecond + t.nanos, (seconds + 3600) * kNanosPerSecond};
}

void run_rfc3164_record(const Record& r, Run& run, Comparison& c,
                        std::vector<std::string>& problems) {
  Rfc3164Setup setup = rfc3164_setup(r.object);
  bool valid = false;
  REQUIRE(r.object.at_key("valid").get(valid) == simdjson::SUCCESS);
  simdjson::dom::object expect;
  REQUIRE(r.object.at_key("expect").get(expect) == simdjson::SUCCESS);
  simdjson::dom::object best_effort;
  const bool has_best_effort = r.object.at_key("best_effort").get(best_effort) == simdjson::SUCCESS;

  // The time comes from `expect`, or for an invalid record from `best_effort`.
  const Expected timestamp =
      expected_string(valid || !has_best_effort ? expect : best_effort, "timestamp");
  std::optional<CivilTime> expected_time;
  if (timestamp.asserted && !timestamp.value.empty()) {
    expected_time = parse_civil_time(timestamp.value);
    REQUIRE_MESSAGE(expected_time.has_value(),
                    r.id << ": unreadable timestamp " << timestamp.value);
    if (setup.read_in_zone)
      setup.options.default_utc_offset_seconds = expected_time->offset_seconds;
  }
  const Rfc3164Time time =
      expected_time
          ? rfc3164_time(*expected_time, setup.year)
          : Rfc3164Time{0, (days_from_civil(kYearForYearless, 6, 15) * 86400) * kNanosPerSecond};
  run.parse(r.input, time.received_ns, setup.options);
  run.check_invariants(problems);
  const SyslogMessage& m = run.message;

  c.check("valid", m.well_formed == valid,
          std::string("well_formed=") + (m.well_formed ? "true" : "false") + " error \"" +
              std::string(m.error) + "\"");
  if (!valid) {
    c.check("error", !m.error.empty(), "no error text for an invalid frame");
    // The best-effort reading go-syslog gives: at least PRI and time should match.
    if (has_best_effort) {
      if (const std::optional<int64_t> pri = optional_int(best_effort, "priority")) {
        c.check("priority", m.facility == *pri / 8 && m.severity == *pri % 8, "best-effort PRI");
      }
      if (expected_time) {
        c.check("timestamp", m.has_timestamp && m.timestamp_ns == time.instant_ns,
                "best-effort time");
      }
    }
    return;
  }
  c.check("format", m.format == SyslogFormat::kRfc3164, "not detected as RFC 3164");
  compare_header(run, expect, c);
  if (timestamp.asserted) {
    c.check("timestamp",
            expected_time ? m.has_timestamp && m.timestamp_ns == time.instant_ns : !m.has_timestamp,
            "got " + (m.has_timestamp ? bsd_wall_clock(m.timestamp_ns, 0) + "Z" : "none") +
                ", want " + timestamp.value);
  }
}

// ---- rsyslog ----

// rsyslog's reading, as template properties.
struct RsyslogView {
  std::optional<int> pri;
  std::optional<std::string> facility_text, severity_text, timestamp, timestamp_rfc3339, hostname,
      programname, procid, msg;
};

std::optional<std::string> optional_string(simdjson::dom::object object, std::string_view key) {
  std::string_view text;
  if (object.at_key(key).get(text) != simdjson::SUCCESS) return std::nullopt;
  return std::string(text);
}

// Records whose `expect` the corpus leaves out, because their template output
// cannot be split on commas: the properties are written out by hand here and
// checked against `expected_output` by rendering the record's template.
struct HandSplit {
  std::string_view id;
  RsyslogView view;
  std::string_view rendered;  // the template applied to `view`
};

const HandSplit* hand_split(std::string_view id) {
  static const HandSplit kHandSplits[] = {
      {"rsyslog/parsertest-parse1/11",
       {167, "local4", "debug", "Oct  8 23:05:06", std::nullopt, "10.321.1.123",
        "05\",result_code=200,b", std::nullopt, ""},
       // %PRI%,%syslogfacility-text%,%syslogseverity-text%,%timestamp%,%hostname%,%programname%,%syslogtag%,%msg%
       "167,local4,debug,Oct  8 "
       "23:05:06,10.321.1.123,05\",result_code=200,b,05\",result_code=200,b,"},
      {"rsyslog/parsertest-parse3/01",
       {std::nullopt, std::nullopt, "7", std::nullopt, "2009-10-16T23:47:31", "hostname", "tag", "",
        " This is a message"},
       // %timereported:1:19:date-rfc3339,csv%, %hostname:::csv%, %programname:::csv%,
       // %syslogtag:R,ERE,0,BLANK:[0-9]+--end:csv%, %syslogseverity:::csv%,
       // %msg:::drop-last-lf,csv%
       "\"2009-10-16T23:47:31\", \"hostname\", \"tag\", \"\", \"7\", \" This is a message\""},
      {"rsyslog/parsertest-parse3/02",
       {std::nullopt, std::nullopt, "7", std::nullopt, "2009-10-16T23:47:31", "hostname", "tag",
        "1234", " This is a message"},
       "\"2009-10-16T23:47:31\", \"hostname\", \"tag\", \"1234\", \"7\", \" This is a message\""},
  };
  for (const HandSplit& h : kHandSplits) {
    if (h.id == id) return &h;
  }
  return nullptr;
}

std::string render_hand_split(const HandSplit& h) {
  const RsyslogView& v = h.view;
  if (h.id.find("parse3") != std::string_view::npos) {
    return "\"" + *v.timestamp_rfc3339 + "\", \"" + *v.hostname + "\", \"" + *v.programname +
           "\", \"" + *v.procid + "\", \"" + *v.severity_text + "\", \"" + *v.msg + "\"";
  }
  // programname == syslogtag here: the tag has no ':' or "[pid]".
  return std::to_string(*v.pri) + "," + *v.facility_text + "," + *v.severity_text + "," +
         *v.timestamp + "," + *v.hostname + "," + *v.programname + "," + *v.programname + "," +
         *v.msg;
}

RsyslogView rsyslog_view(const Record& r) {
  if (const HandSplit* h = hand_split(r.id)) {
    CHECK_MESSAGE(render_hand_split(*h) == h->rendered, r.id);
    CHECK_MESSAGE(string_or_empty(r.object, "expected_output") == h->rendered, r.id);
    return h->view;
  }
  simdjson::dom::object expect;
  REQUIRE_MESSAGE(r.object.at_key("expect").get(expect) == simdjson::SUCCESS,
                  r.id << ": no expect");
  RsyslogView v;
  if (std::optional<std::string> pri = optional_string(expect, "pri")) v.pri = std::stoi(*pri);
  v.facility_text = optional_string(expect, "facility_text");
  v.severity_text = optional_string(expect, "severity_text");
  v.timestamp = optional_string(expect, "timestamp");
  if (!v.timestamp) v.timestamp = optional_string(expect, "timestamp_buggyday");
  v.hostname = optional_string(expect, "hostname");
  v.programname = optional_string(expect, "programname");
  v.msg = optional_string(expect, "msg");
  return v;
}

bool is_rfc5424_input(std::string_view input) {
  const size_t close = input.find('>');
  return input.size() > 0 && input[0] == '<' && close != std::string_view::npos &&
         input.substr(close + 1, 2) == "1 ";
}

// The UTC offset of the first RFC 3339 token in `input`: rsyslog renders
// %timestamp% as the sender's wall clock, so sluice's instant is shown at it.
int32_t sender_offset(std::string_view input) {
  size_t pos = 0;
  while (pos < input.size()) {
    size_t end = input.find(' ', pos);
    if (end == std::string_view::npos) end = input.size();
    std::string_view token = input.substr(pos, end - pos);
    if (const size_t close = token.find('>');
        token.size() > 0 && token[0] == '<' && close != token.npos) {
      token.remove_prefix(close + 1);
    }
    if (const std::optional<CivilTime> t = parse_civil_time(token); t && t->has_offset) {
      return t->offset_seconds;
    }
    pos = end + 1;
  }
  return 0;
}

void run_rsyslog_record(const Record& r, Run& run, Comparison& c,
                        std::vector<std::string>& problems) {
  const RsyslogView v = rsyslog_view(r);
  // Mid-June: every year-less stamp of the corpus lands in kYearForYearless.
  const int64_t received_ns = days_from_civil(kYearForYearless, 6, 15) * 86400 * kNanosPerSecond;
  run.parse(r.input, received_ns, SyslogOptions{});
  run.check_invariants(problems);
  const SyslogMessage& m = run.message;
  const bool rfc5424 = is_rfc5424_input(r.input);

  if (v.pri) {
    c.check("facility", m.facility == *v.pri / 8, "got " + std::to_string(m.facility));
    c.check("severity", m.severity == *v.pri % 8, "got " + std::to_string(m.severity));
  }
  if (v.facility_text) c.check_text("facility", facility_name(m.facility), *v.facility_text);
  if (v.severity_text) {
    if (!v.severity_text->empty() && (*v.severity_text)[0] >= '0' && (*v.severity_text)[0] <= '9') {
      c.check("severity", m.severity == std::stoi(*v.severity_text),
              "got " + std::to_string(m.severity));
    } else {
      c.check_text("severity", severity_name(m.severity), *v.severity_text);
    }
  }
  if (v.timestamp) {
    // rsyslog drops a year in the stamp and shows "Mmm dd hh:mm:ss" (buggyday: "Mmm 0d").
    std::string want = *v.timestamp;
    if (want.size() == 15 && want[4] == '0') want[4] = ' ';
    c.check_text("timestamp",
                 m.has_timestamp ? bsd_wall_clock(m.timestamp_ns, sender_offset(r.input)) : "none",
                 want);
  }
  if (v.timestamp_rfc3339) {
    const std::optional<CivilTime> t = parse_civil_time(*v.timestamp_rfc3339);
    REQUIRE(t.has_value());
    c.check("timestamp", m.has_timestamp && m.timestamp_ns == t->utc_seconds() * kNanosPerSecond,
            "want " + *v.timestamp_rfc3339);
  }
  // rsyslog writes the receiver's own name for a missing HOSTNAME; sluice
  // leaves it empty and the caller falls back to the peer.
  if (v.hostname)
    c.check_text("hostname", m.hostname, *v.hostname == "<RS_HOSTNAME>" ? "" : *v.hostname);
  if (v.programname) c.check_text("programname", m.app_name, *v.programname);
  if (v.procid) c.check_text("procid", m.procid, *v.procid);
  if (v.msg) {
    // rsyslog's %msg% starts right after the TAG, so in RFC 3164 it keeps the
    // space that separates TAG and CONTENT; sluice's message does not.
    std::string_view want = *v.msg;
    if (!rfc5424 && !want.empty() && want[0] == ' ') want.remove_prefix(1);
    c.check_text("msg", m.message, want);
  }
}

// ---- The tests ----

TEST_CASE("syslog conformance: rfc5424_cases.jsonl") {
  Tally tally("rfc5424_cases.jsonl");
  tally.has_validity = true;
  simdjson::dom::parser parser;
  Run run;
  // 2024-06-15T00:00:00Z; RFC 5424 timestamps carry their own year and zone.
  const int64_t received_ns = days_from_civil(kYearForYearless, 6, 15) * 86400 * kNanosPerSecond;
  for (const std::string& line : read_lines(data_path("rfc5424_cases.jsonl"))) {
    const Record r = load(parser, line);
    run.parse(r.input, received_ns, SyslogOptions{});
    std::vector<std::string> problems;
    run.check_invariants(problems);
    Comparison c;
    compare_rfc5424(r, run, c);
    tally.judge(r.id, c, problems);
    run.arena.reset();
  }
  tally.report();
  CHECK(tally.records == 734);
}

TEST_CASE("syslog conformance: rfc3164_cases.jsonl") {
  Tally tally("rfc3164_cases.jsonl");
  tally.has_validity = true;
  simdjson::dom::parser parser;
  Run run;
  for (const std::string& line : read_lines(data_path("rfc3164_cases.jsonl"))) {
    const Record r = load(parser, line);
    std::vector<std::string> problems;
    Comparison c;
    run_rfc3164_record(r, run, c, problems);
    tally.judge(r.id, c, problems);
    run.arena.reset();
  }
  tally.report();
  CHECK(tally.records == 15);
}

TEST_CASE("syslog conformance: rsyslog_parser_cases.jsonl") {
  Tally tally("rsyslog_parser_cases.jsonl");
  simdjson::dom::parser parser;
  Run run;
  for (const std::string& line : read_lines(data_path("rsyslog_parser_cases.jsonl"))) {
    const Record r = load(parser, line);
    std::vector<std::string> problems;
    Comparison c;
    run_rsyslog_record(r, run, c, problems);
    tally.judge(r.id, c, problems);
    run.arena.reset();
  }
  tally.report();
  CHECK(tally.records == 37);
}

// Every listed difference must name a record of the corpus: a renamed or
// removed record must not leave a dead entry behind.
TEST_CASE("syslog conformance: every listed difference matches a record") {
  std::vector<std::string> ids;
  simdjson::dom::parser parser;
  for (std::string_view file :
       {"rfc5424_cases.jsonl"sv, "rfc3164_cases.jsonl"sv, "rsyslog_parser_cases.jsonl"sv}) {
    for (const std::string& line : read_lines(data_path(file)))
      ids.push_back(load(parser, line).id);
  }
  for (const Difference& d : kDifferences) {
    const bool found = std::any_of(ids.begin(), ids.end(), [&d](const std::string& id) {
      return id == d.id || (d.id.back() == '/' && id.rfind(d.id, 0) == 0);
    });
    CHECK_MESSAGE(found, "no record for difference " << d.id);
  }
}

}  // namespace
}  // namespace sluice::parsers
