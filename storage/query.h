// The search query language, first version: terms ANDed together.
//
//   word            case-insensitive substring of the message
//   "a phrase"      case-insensitive substring of the message, spaces included
//   field:value     the field equals value, ignoring ASCII case
//   raw:text        the original line contains text, ignoring case
//   field:"a b"     the same with spaces in the value
//   -term, NOT term the term must not match
//   AND             optional between terms (terms are always ANDed)
//
// Fields: host, app, severity (name or number), facility (name or number),
// input, message, raw, the flags _truncated and _parse_failure (true or
// false), and every parsed field (procid, msgid, sd.ID.PARAM,
// JSON keys). OR and parentheses are not part of this version and are
// reported as syntax errors naming their position.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/base/expected.h"
#include "storage/event_codec.h"

namespace sluice::storage {

struct QueryTerm {
  std::string field;  // empty: full text over the message
  std::string value;  // lowercased
  bool negated = false;
};

struct Query {
  std::vector<QueryTerm> terms;  // all must hold
};

// Parses `text`. Errors read "position N: what was expected".
Expected<Query> parse_query(std::string_view text);

// True if `event` satisfies every term of `query`.
bool query_matches(const Query& query, const EventView& event);

}  // namespace sluice::storage
