// The search query language (Lucene / Graylog style).
//
//   timeout                 the message has the word (token) `timeout`
//   "connection reset"      the message has these tokens, consecutively
//   host:web-1              a field equals a value (whole value)
//   app:"my app"            a value with spaces
//   raw:"<34>1 2026"        the original line has these tokens, consecutively
//   host:web-*  web-*       wildcards: `*` any run, `?` one byte
//   host:/web-[0-9]+/       a regular expression (RE2) over the whole value
//   /.*timed? out.*/        ... over the whole message
//   status:>=500            comparisons: > >= < <=
//   bytes:[1000 TO 5000]    a range, inclusive; {a TO b} exclusive; [a TO b}
//   bytes:[1000 TO *]       `*` is an open end
//   timestamp:>=2026-11-22T10:00:00Z    the event's time
//   _exists_:user  user:*   the event has the field
//   a AND b, a b, +a +b     both (juxtaposition is AND)
//   a OR b                  either
//   NOT a, -a               not
//   (a OR b) -(c d)         grouping, nested
//   host:(web-1 OR web-2)   grouping on one field
//   *  (or nothing)         every event
//
// Precedence: NOT (and - +) binds tightest, then AND (explicit or implied),
// then OR: `a b OR c` is `(a AND b) OR c`, `NOT a b` is `(NOT a) AND b`.
// AND, OR, NOT and TO are keywords only in upper case (`and` is a word).
// A backslash makes the next character literal: `path:\/var\/log`,
// `a\:b` (a word, not a field), `web\*` (no wildcard).
//
// Case: words, phrases, field values, wildcards and range bounds ignore
// ASCII case. Regular expressions are case sensitive unless they say
// (?i): `host:/(?i)web.*/`. They are anchored (like Lucene's): they must
// match the whole value, so a regex looking for a word inside a message is
// `/.*timeout.*/`; `.` matches newlines too.
//
// Text. Tokens are maximal runs of letters, digits, '_' and non-ASCII bytes
// (storage/token_filter.h), lowercased, as Lucene's standard analyser does
// for most log text: `error` finds "Error:" but not "errors", `web-01` finds
// the tokens "web" "01" in that order. A word or phrase with no token
// characters at all (`"->"`) matches as a plain substring. A bare word with
// wildcards is split the same way into token patterns that must match
// consecutive tokens, one token each: `time*` finds "timeout" and "timed",
// `web-*` finds "web" followed by any token ("web-01"). A leading wildcard
// (`*out`) works but is slow: like every wildcard, regex, range and _exists_
// it cannot use the block filters or postings, so unless other terms narrow
// the search every block in the time range is read. (The literal tokens of a
// wildcard word, `web` in `web-*`, do use the filters.) Inside quotes `*` and
// `?` are literal: "web-*" is the phrase "web".
//
// Fields: host, app, severity (name `err` or number `3`), facility (`auth`
// or `4`), input (syslog_tcp, ...), message (the whole message: `message:x`
// is equality, unlike the bare word x), raw (the original line, searched by
// tokens like the message), the flags _truncated and _parse_failure (`true`
// or `false`), timestamp (the event time: equality, comparisons and ranges
// take RFC3339 values; wildcards and regexes see it formatted as
// 2026-11-22T10:00:00.123456789Z), and every parsed field: procid, msgid,
// sd.ID.PARAM, JSON keys (nested ones dotted). A field holding several
// values matches if any value does. A field an event lacks matches nothing
// (so `-user:bob` keeps events without a user).
//
// Comparisons and ranges compare numbers when the field value and the bound
// both parse as numbers (`10 < 9.5` is false), else RFC3339 times when both
// parse as times, else text, byte-wise ignoring ASCII case. severity and
// facility compare their numbers (`severity:<=warning` is 0..4).
//
// Errors: parse_query fails with a Status whose message reads
// "position N: expected X", N the 0-based byte offset in the query text:
//
//   host:                     position 5: expected a value after 'host:'
//   "unclosed                 position 9: expected '"' to close the quote at position 0
//   (a OR b                   position 7: expected ')' to close the '(' at position 0
//   a OR                      position 4: expected a term after OR
//   x:[1 5]                   position 5: expected TO
//   x:/a(/                    position 2: expected a valid regular expression: missing ): a(
//
// Pass a QueryError to get the position and the expected text apart (the
// HTTP API answers {"error", "position", "expected"}). Queries are bounded:
// kMaxQueryBytes of text, kMaxQueryDepth nested groups and operators.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/base/expected.h"
#include "storage/event_codec.h"

namespace re2 {
class RE2;
}

namespace sluice::storage {

constexpr size_t kMaxQueryBytes = 4096;
constexpr size_t kMaxQueryDepth = 64;

// Which value of an event a term looks at, resolved once at parse time.
enum class QueryField : uint8_t {
  kText,  // the message's tokens (a bare word or phrase)
  kRaw,   // the raw line's tokens (raw:...)
  kHost,
  kApp,
  kMessage,  // the whole message (message:...)
  kSeverity,
  kFacility,
  kInput,
  kTruncated,
  kParseFailure,
  kTimestamp,
  kParsed,  // a parsed field, by `field` name
};

// A wildcard pattern over one string, ignoring ASCII case: `*` any run,
// `?` one byte. Matching allocates nothing.
struct Glob {
  std::string pattern;  // lowercased; wildcard bytes are those marked in `wild`
  std::vector<uint8_t> wild;  // per byte: 0 literal, '?' or '*'
  bool matches(std::string_view text) const;
  bool has_wildcard() const;
};

struct RangeBound {
  bool present = false;  // false: open (`*`)
  bool inclusive = true;
  std::string text;  // lowercased
  bool is_number = false;
  double number = 0;
  bool is_time = false;
  int64_t time_ns = 0;
};

struct QueryNode {
  enum class Kind : uint8_t {
    kAll,       // matches every event
    kAnd,       // every child
    kOr,        // some child
    kNot,       // not children[0]
    kWords,     // tokens consecutively (kText, kRaw); no tokens: substring
    kPatterns,  // token patterns consecutively (kText, kRaw)
    kEquals,    // whole value equals `value` ignoring ASCII case
    kWildcard,  // whole value matches `glob`
    kRegex,     // whole value matches `regex`
    kRange,     // lower/upper bounds
    kExists,    // the event has the field
  };
  Kind kind = Kind::kAll;
  QueryField field = QueryField::kText;
  std::string field_name;  // as written ("" for bare text)
  std::string value;       // lowercased value (kWords, kEquals), pattern or regex text
  std::vector<QueryNode> children;

  // kWords: the value's tokens and their Knuth-Morris-Pratt failure table.
  std::vector<std::string> tokens;
  std::vector<uint32_t> token_failure;
  uint32_t longest_token = 0;  // index of the longest token, a prefilter
  // kPatterns
  std::vector<Glob> patterns;
  // kWildcard
  Glob glob;
  // kRegex: compiled once; RE2 matching is thread-safe.
  std::shared_ptr<const re2::RE2> regex;
  // kRange
  RangeBound lower, upper;
  // kEquals on severity/facility: the code (-1: no such code); on timestamp:
  // the time.
  int code = -1;
  int64_t time_ns = 0;
};

struct Query {
  QueryNode root;  // kAll for an empty query
};

// Where and why a query failed to parse.
struct QueryError {
  size_t position = 0;   // 0-based byte offset into the query text
  std::string expected;  // e.g. "')' to close the '(' at position 3"
  std::string message() const { return "position " + std::to_string(position) + ": expected " + expected; }
};

// Parses `text`. On error the Status reads QueryError::message(), and
// `error`, if given, receives the position and the expected text.
Expected<Query> parse_query(std::string_view text, QueryError* error = nullptr);

// True if `event` satisfies `query`. Allocates nothing per event once the
// thread's token scratch has grown.
bool query_matches(const Query& query, const EventView& event);

// Token hashes (storage/token_filter.h) that a block's filter must all
// contain for any event of the block to match. Only the top-level AND chain
// contributes (a child of OR or NOT never does): the tokens of words and
// phrases, the literal tokens of wildcard words, and field=value pairs.
// Wildcards, regexes, ranges and _exists_ contribute nothing; neither do
// tokens and values the filters leave out (in_block_filter).
std::vector<uint64_t> required_filter_hashes(const Query& query);

// (field, lowercased value) pairs every match has, as the postings hold them
// (severity and facility as numbers): the non-negated field:value terms on
// host, app, severity, facility, input and parsed fields of the top-level
// AND chain. The caller keeps those of fields that have postings.
std::vector<std::pair<std::string, std::string>> required_posting_terms(const Query& query);

// A severity or facility value as the filters and postings hold it: a
// number without leading zeros ("03" → "3"), or the name as given.
std::string canonical_code_value(std::string_view field, std::string_view lowered);

// The query's tree, for tests and debugging: `(and (words message failed)
// (or (= host web-1) (not (range status [500 TO *]))))`.
std::string to_string(const Query& query);

namespace detail {
// True if `haystack` holds `needle` (already ASCII-lowercased) with ASCII
// case ignored. Exposed for tests.
bool contains_ignore_case(std::string_view haystack, std::string_view needle);
}  // namespace detail

}  // namespace sluice::storage
