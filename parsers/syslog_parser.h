// Syslog frame -> header fields: RFC5424 and RFC3164 ("BSD"), detected per
// message, because one TCP or UDP listener commonly receives both.
//
// Two answers per message: the best-effort fields, always filled as far as
// the bytes allow, and `well_formed`, which says whether the frame is
// strictly valid under the detected RFC. The pipeline decides what a
// non-well-formed message means (tag it, count it); the parser never drops
// anything.
//
// Deliberate choices, each because real senders need it:
// - RFC3164 accepts an RFC3339 timestamp in place of "Mmm dd hh:mm:ss"
//   (rsyslog's RSYSLOG_ForwardFormat, go-syslog's WithRFC3339) and still
//   counts as well formed. Other RFC3164 timestamp variants that rsyslog
//   accepts (a year "Mar  7 2008 19:06:53", a fraction, a trailing colon,
//   "Mar 7", lower/upper-case months) parse but are not well formed.
// - RFC3164 without a HOSTNAME ("<13>Mar  1 12:00:00 app: msg", as local
//   senders write it) is recognised by a tag right after the timestamp:
//   "app:" or "app[pid]" followed by a space or ':'. It parses but is not
//   well formed. A message whose first word merely looks like a host
//   ("<13>Mar  1 12:00:00 hello world") is read as HOSTNAME "hello".
// - RFC5424 TIME-SECFRAC is 1..6 digits; longer fractions (common from
//   nanosecond clocks) keep 9 digits of precision but are not well formed.
//   Invalid calendar dates (Sep 31, Feb 29 of a non-leap year) roll into the
//   next month and are not well formed; out-of-range hours, minutes,
//   months or offsets give no timestamp at all. Times outside int64
//   nanoseconds (before 1678 or after 2262) give no timestamp.
// - An RFC5424 STRUCTURED-DATA element that cannot be parsed, and everything
//   after it, is left in `message` as text; the params of the complete
//   elements before it are still appended to `fields`.
// - Without a recognisable TIMESTAMP, an RFC3164 message is all MSG (as
//   RFC3164 section 4.3.3 tells relays to treat it); no host or tag is
//   guessed.
//
// Not handled: RFC5424 VERSION other than 1 is parsed with the same grammar
// (go-syslog does the same); the UTF-8 validity of MSG is only checked when
// MSG starts with a BOM (RFC5424 section 6.4); RFC3164's 1024-byte limit is
// left to the framer's max_frame_bytes.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "server/base/arena.h"
#include "server/base/event.h"

namespace sluice::parsers {

enum class SyslogFormat : uint8_t { kRfc5424, kRfc3164, kUnknown };

struct SyslogOptions {
  // Offset applied to timestamps that carry no zone (RFC3164), in seconds east of UTC.
  int32_t default_utc_offset_seconds = 0;
};

struct SyslogMessage {
  SyslogFormat format = SyslogFormat::kUnknown;
  bool well_formed = false;  // strictly valid per the detected RFC
  std::string_view error;    // static text saying what was wrong; empty if well_formed
  uint8_t facility = kUnknownFacility;
  uint8_t severity = kUnknownSeverity;
  bool has_timestamp = false;
  int64_t timestamp_ns = 0;  // UTC nanoseconds since epoch
  std::string_view hostname, app_name, procid, msgid, message;
};

// Parses one syslog frame (no trailing newline). Detects RFC5424 ("<PRI>1 ...") vs RFC3164 per message.
// All views point into `frame` or into `arena`. Each RFC5424 STRUCTURED-DATA param is appended to
// `fields` as {name = "sd.<SD-ID>.<PARAM-NAME>" (built in arena), value = unescaped value (\" \\ \] unescaped,
// in arena only when escapes are present)}.
// NILVALUE "-" gives empty views. A UTF-8 BOM at the start of MSG is stripped. Year-less RFC3164 timestamps
// ("Mar  1 12:00:00") take their year from received_ns, choosing the year that puts the timestamp closest to
// received_ns (so a Dec 31 message received Jan 1 gets the previous year). RFC3164 tags: "app[pid]:" and "app:"
// set app_name/procid; a missing hostname (tag directly after timestamp) is handled; ISO-8601/RFC3339 timestamps
// inside 3164 too.
// Malformed input: best effort — fill what could be parsed, well_formed=false, error set (the first problem
// found), message = the rest of the frame (or the whole frame if nothing parsed). Never throws, never allocates
// on the heap except via arena/fields growth.
// Thread: any; keeps no state between calls.
SyslogMessage parse_syslog(std::string_view frame, int64_t received_ns, const SyslogOptions& options,
                           Arena& arena, std::vector<Field>& fields);

}  // namespace sluice::parsers
