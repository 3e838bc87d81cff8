// The search query language, first version: terms ANDed together.
//
//   word            the message contains the word as a token, ignoring case
//   "a phrase"      the message contains the phrase's tokens, consecutively
//   field:value     the field equals value, ignoring ASCII case
//   raw:text        the original line contains text's tokens, consecutively
//   field:"a b"     the same with spaces in the value
//   -term, NOT term the term must not match
//   AND             optional between terms (terms are always ANDed)
//
// Fields: host, app, severity (name or number), facility (name or number),
// input, message, raw, the flags _truncated and _parse_failure (true or
// false), and every parsed field (procid, msgid, sd.ID.PARAM,
// JSON keys). OR and parentheses are not part of this version and are
// reported as syntax errors naming their position.
//
// Tokens are maximal runs of letters, digits, '_' and non-ASCII bytes
// (storage/token_filter.h), compared without ASCII case, as Lucene's
// standard analyser does for most log text: `error` finds "Error:" but not
// "errors", and `web-01` finds the tokens "web" "01" in that order. A word
// with no token characters at all (`--`) matches as a plain substring.
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
  // Text terms (field empty or "raw"): the value's tokens and their
  // Knuth-Morris-Pratt failure table, to find them consecutively.
  std::vector<std::string> tokens;
  std::vector<uint32_t> token_failure;
};

struct Query {
  std::vector<QueryTerm> terms;  // all must hold
};

// Token hashes (storage/token_filter.h) that a block's filter must all
// contain for any event of the block to match: one per token of each text
// term and one per field term, for terms that are not negated.
std::vector<uint64_t> required_filter_hashes(const Query& query);

// A severity or facility value as the filters and postings hold it: a
// number without leading zeros ("03" → "3"), or the name as given.
std::string canonical_code_value(std::string_view field, std::string_view lowered);

// Parses `text`. Errors read "position N: what was expected".
Expected<Query> parse_query(std::string_view text);

// True if `event` satisfies every term of `query`.
bool query_matches(const Query& query, const EventView& event);

}  // namespace sluice::storage
