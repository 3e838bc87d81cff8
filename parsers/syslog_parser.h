// Syslog frame -> header fields: RFC5424 and RFC3164 ("BSD"), detected per
// message, because one TCP or UDP listener commonly receives both.
//
// Two answers per message: the best-effort fields, always filled as far as
// the bytes allow, and `well_formed`, which says whether the frame reads
// unambiguously under the detected RFC. The pipeline decides what a
// non-well-formed message means (tag it, count it as a parse failure); the
// parser never drops anything.
//
// RFC5424 is held to its ABNF: any deviation makes the frame not well formed
// (tests/data/syslog/rfc5424_cases.jsonl is the reference, run by
// parsers/syslog_conformance_test.cc). Like go-syslog, VERSION may be any of
// 1..999 and is parsed with the same grammar.
//
// RFC3164 is descriptive ("observed behaviour"), so there `well_formed` means
// that every field was found without guessing. Variants that real senders
// produce day after day parse as well formed, and the first of them is named
// in `deviation`:
// - an RFC3339 timestamp in place of "Mmm dd hh:mm:ss" (rsyslog's
//   RSYSLOG_ForwardFormat, syslog-ng's ts-format(iso), go-syslog's WithRFC3339);
// - the timestamp variants rsyslog accepts: a year "Mar  7 2008 19:06:53", a
//   fraction (syslog-ng's frac-digits), a trailing colon, "Mar 7", "Mar 07",
//   upper/lower-case month names; spaces before the timestamp or doubled
//   between fields;
// - no HOSTNAME ("<13>Mar  1 12:00:00 app[42]: msg", as syslog(3) writes to
//   /dev/log and logger(1) to a local socket), recognised by a TAG right after
//   the timestamp: "app:" or "app[pid]" followed by a space, ':' or the end.
//   A HOSTNAME never ends in ':' or "]", so this is not ambiguous. A first word
//   without either ("<13>Mar  1 12:00:00 hello world") is the HOSTNAME "hello".
// Not well formed: no PRI, no recognisable TIMESTAMP (then, as RFC3164 section
// 4.3.3 says, it is all MSG; no host or tag is guessed), an impossible date,
// nothing after the timestamp, or a HOSTNAME with no SP after it (a cut-short
// frame, or a bare word that may not be a host at all).
//
// Timestamps:
// - RFC5424 TIME-SECFRAC is 1..6 digits; longer fractions (common from
//   nanosecond clocks) keep 9 digits of precision but are not well formed.
// - Invalid calendar dates (Sep 31, Feb 29 of a non-leap year) roll into the
//   next month and are not well formed; out-of-range hours, minutes, months
//   or offsets give no timestamp at all.
// - Times outside int64 nanoseconds (before 1678 or after 2262, e.g. crewjam's
//   year 0000) are valid syslog that sluice cannot store: no timestamp, still
//   well formed, `deviation` says so; the caller uses the time of receipt.
// STRUCTURED-DATA: an element that cannot be parsed, and everything after
// it, is left in `message` as text; the params of the complete elements
// before it are still appended to `fields`.
//
// Not handled: the UTF-8 validity of MSG is only checked when MSG starts with
// a BOM (RFC5424 section 6.4, go-syslog's WithCompliantMsg); RFC3164's
// 1024-byte limit is left to the framer's max_frame_bytes; 8-bit bytes are
// kept as received (no rsyslog-style escaping).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "server/base/arena.h"
#include "server/base/event.h"

namespace sluice::parsers {

enum class SyslogFormat : uint8_t { kRfc5424, kRfc3164, kUnknown };

struct SyslogOptions {
  // The zone of timestamps that carry none ("Mar  1 12:00:00", or an RFC3339
  // time without an offset), in seconds east of UTC: the stamp is read as local
  // time there (go-syslog's WithLocaleTimezone, rsyslog's and syslog-ng's
  // sender-zone settings).
  int32_t default_utc_offset_seconds = 0;
};

struct SyslogMessage {
  SyslogFormat format = SyslogFormat::kUnknown;
  bool well_formed = false;  // read unambiguously under the detected RFC: see above
  std::string_view error;    // static text saying what was wrong; empty if well_formed
  // Static text naming the first deviation from the RFC's grammar that was
  // tolerated (RFC3164 variants, an unstorable time); empty if none. Set
  // independently of `well_formed`: for diagnostics, never counted as a failure.
  std::string_view deviation;
  uint8_t facility = kUnknownFacility;
  uint8_t severity = kUnknownSeverity;
  uint16_t version = 0;  // RFC5424 VERSION (1..999); 0 for RFC3164 and unknown
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
// received_ns (so a Dec 31 message received Jan 1 gets the previous year), read in the zone
// options.default_utc_offset_seconds.
// RFC3164 TAGs: "app[pid]:", "app[pid]" and "app:" set app_name/procid; a word without ':' or "[pid]" is
// MSG, not a TAG (go-syslog's reading; rsyslog would take any first word).
// Malformed input: best effort — fill what could be parsed, well_formed=false, error set (the first problem
// found), message = the rest of the frame (or the whole frame if nothing parsed). Never throws, never allocates
// on the heap except via arena/fields growth.
// Thread: any; keeps no state between calls.
SyslogMessage parse_syslog(std::string_view frame, int64_t received_ns, const SyslogOptions& options,
                           Arena& arena, std::vector<Field>& fields);

// Parses one syslog frame into `event`, as a parse worker stores it: the
// header fills the event's slots (time, host, app, message, severity,
// facility), PROCID and MSGID become the fields "procid" and "msgid" after
// the STRUCTURED-DATA fields, and a frame that is not well formed is
// flagged kFlagParseFailure (and kept). The caller sets event.received_ns
// and event.first_field (= batch.fields.size()) first; event.raw is set to
// `frame`. Returns whether the frame was well formed.
bool parse_syslog_event(std::string_view frame, const SyslogOptions& options, EventBatch& batch,
                        Event& event);

}  // namespace sluice::parsers
