#include "storage/query.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <regex>
#include <set>

#include "server/base/clock.h"
#include "server/base/raw_batch.h"
#include "server/base/time_format.h"
#include "storage/event_store.h"
#include "storage/token_filter.h"
#include "tests/temp_dir.h"

using namespace sluice;
using namespace sluice::storage;

namespace {

EventView sample_event() {
  EventView event;
  event.timestamp_ns = *parse_rfc3339("2026-11-22T10:00:00Z");
  event.host = "Web-1";
  event.app = "sshd";
  event.message = "Failed password for root from 10.0.0.1";
  event.raw = "<35>1 - Web-1 sshd 4242 - - Failed password for root from 10.0.0.1";
  event.severity = 3;
  event.facility = 4;
  event.input = static_cast<uint8_t>(InputId::kSyslogTcp);
  event.fields = {{"procid", "4242"},
                  {"sd.origin.ip", "10.0.0.1"},
                  {"status", "503"},
                  {"bytes", "1500"},
                  {"when", "2026-11-22T09:00:00Z"},
                  {"tag", "blue"},
                  {"tag", "Green"}};
  return event;
}

bool matches(std::string_view text) {
  auto query = parse_query(text);
  REQUIRE_MESSAGE(query.has_value(), text, ": ", query.error().message());
  return query_matches(query.value(), sample_event());
}

std::string error_of(std::string_view text) {
  QueryError error;
  auto query = parse_query(text, &error);
  REQUIRE_MESSAGE(!query.has_value(), text);
  CHECK(query.error().message() == error.message());
  return query.error().message();
}

std::string tree(std::string_view text) {
  auto query = parse_query(text);
  REQUIRE_MESSAGE(query.has_value(), text, ": ", query.error().message());
  return storage::to_string(query.value());
}

}  // namespace

TEST_CASE("query: words and phrases match the message, ignoring case") {
  CHECK(matches(""));
  CHECK(matches("   "));
  CHECK(matches("*"));
  CHECK(matches("failed"));
  CHECK(matches("FAILED ROOT"));
  CHECK(matches("\"password for root\""));
  CHECK_FALSE(matches("\"password root\""));
  CHECK_FALSE(matches("failed accepted"));
  CHECK(matches("failed AND root"));
  CHECK_FALSE(matches("fail"));
  CHECK(matches("10.0.0.1"));
  CHECK_FALSE(matches("and"));  // lowercase: a word, not the keyword
  CHECK_FALSE(matches("failed and root"));
}

TEST_CASE("query: field:value matches whole values of known and parsed fields") {
  CHECK(matches("host:web-1"));
  CHECK(matches("host:WEB-1 app:sshd"));
  CHECK_FALSE(matches("host:web"));
  CHECK(matches("severity:err"));
  CHECK(matches("severity:3"));
  CHECK(matches("severity:03"));
  CHECK_FALSE(matches("severity:error"));
  CHECK(matches("facility:auth"));
  CHECK(matches("facility:4"));
  CHECK(matches("input:syslog_tcp"));
  CHECK(matches("procid:4242"));
  CHECK(matches("sd.origin.ip:10.0.0.1"));
  CHECK(matches("message:\"failed password for root from 10.0.0.1\""));
  CHECK_FALSE(matches("message:failed"));
  CHECK_FALSE(matches("procid:1"));
  CHECK_FALSE(matches("nosuchfield:x"));
  CHECK(matches("_truncated:false"));
  CHECK(matches("raw:\"password for\""));
  CHECK(matches("raw:4242"));
  CHECK_FALSE(matches("raw:accepted"));
  CHECK_FALSE(matches("_truncated:true"));
  CHECK(matches("_parse_failure:FALSE"));
  CHECK(matches("tag:green"));
  CHECK(matches("tag:blue"));
  CHECK(matches("timestamp:2026-11-22T10:00:00Z"));
  CHECK(matches("timestamp:\"2026-11-22 11:00:00+01:00\""));
  CHECK_FALSE(matches("timestamp:2026-11-22T10:00:01Z"));
}

TEST_CASE("query: flags are searchable as fields") {
  EventView event = sample_event();
  event.flags = kFlagTruncated;
  CHECK(query_matches(parse_query("_truncated:true").value(), event));
  CHECK_FALSE(query_matches(parse_query("_parse_failure:true").value(), event));
}

TEST_CASE("query: negation") {
  CHECK(matches("-accepted"));
  CHECK_FALSE(matches("-failed"));
  CHECK(matches("NOT host:web-2"));
  CHECK_FALSE(matches("NOT app:sshd"));
  CHECK(matches("failed -app:cron"));
  CHECK(matches("--failed"));
  CHECK(matches("NOT NOT failed"));
  CHECK(matches("-nosuchfield:x"));
  CHECK(matches("+failed +root"));
  CHECK_FALSE(matches("+failed +accepted"));
}

TEST_CASE("query: OR, AND, NOT and parentheses") {
  CHECK(matches("accepted OR failed"));
  CHECK_FALSE(matches("accepted OR rejected"));
  CHECK(matches("accepted rejected OR root"));  // (accepted AND rejected) OR root
  CHECK_FALSE(matches("accepted (rejected OR root)"));
  CHECK(matches("(accepted OR failed) AND (root OR admin)"));
  CHECK_FALSE(matches("NOT (failed OR accepted)"));
  CHECK(matches("-(accepted OR rejected) host:web-1"));
  CHECK(matches("((((failed))))"));
  CHECK(matches("host:(web-2 OR web-1)"));
  CHECK_FALSE(matches("host:(web-2 OR web-3)"));
  CHECK(matches("host:(web-* -db)"));
  CHECK(matches("status:(>=500 <600)"));
  CHECK_FALSE(matches("status:(>=500 -503)"));
  CHECK(matches("a OR failed OR b"));
  CHECK_FALSE(matches("failed AND (NOT root)"));
}

TEST_CASE("query: wildcards") {
  CHECK(matches("host:web-*"));
  CHECK(matches("host:WEB-?"));
  CHECK(matches("host:*-1"));
  CHECK(matches("host:w*1"));
  CHECK_FALSE(matches("host:web-??"));
  CHECK_FALSE(matches("host:db*"));
  CHECK(matches("fail*"));
  CHECK(matches("*word"));
  CHECK(matches("pass?ord"));
  CHECK_FALSE(matches("fail?"));
  CHECK(matches("10.0.*"));  // tokens 10, 0, then any token
  CHECK(matches("f*d p*d"));
  CHECK_FALSE(matches("\"fail*\""));  // quoted: no wildcard (the word "fail")
  CHECK(matches("raw:ssh*"));
  CHECK(matches("severity:e*"));     // the name
  CHECK(matches("severity:3*"));     // the number
  CHECK(matches("timestamp:2026-11-22T10*"));
  CHECK(matches("tag:gr*"));
  CHECK(matches("message:*root*"));
  CHECK_FALSE(matches("message:root*"));
  // An escaped wildcard is literal.
  EventView event = sample_event();
  event.host = "web*";
  CHECK(query_matches(parse_query("host:web\\*").value(), event));
  CHECK_FALSE(query_matches(parse_query("host:w\\*").value(), event));
}

TEST_CASE("query: regular expressions are anchored and case sensitive") {
  CHECK(matches("host:/Web-[0-9]+/"));
  CHECK_FALSE(matches("host:/web-[0-9]+/"));
  CHECK(matches("host:/(?i)web-[0-9]+/"));
  CHECK_FALSE(matches("host:/Web/"));  // anchored
  CHECK(matches("/Failed.*/"));
  CHECK(matches("/.*root.*/"));
  CHECK_FALSE(matches("/root/"));
  CHECK(matches("raw:/<35>.*/"));
  CHECK(matches("procid:/\\d{4}/"));
  CHECK(matches("severity:/err|crit/"));
  CHECK(matches("tag:/G.*/"));
  CHECK(matches("sd.origin.ip:/10\\.0\\.0\\.1/"));
  EventView event = sample_event();
  event.message = "a/b\nnext line";
  CHECK(query_matches(parse_query("/a\\/b.*line/").value(), event));  // `.` crosses lines
}

TEST_CASE("query: comparisons and ranges") {
  CHECK(matches("status:>=500"));
  CHECK(matches("status:>500"));
  CHECK(matches("status:<=503"));
  CHECK_FALSE(matches("status:<503"));
  CHECK(matches("status:[500 TO 503]"));
  CHECK_FALSE(matches("status:[500 TO 503}"));
  CHECK_FALSE(matches("status:{503 TO 600]"));
  CHECK(matches("status:[503 TO *]"));
  CHECK(matches("status:[* TO 503]"));
  CHECK(matches("bytes:>999.5"));  // numbers, not text: "1500" > "999.5"
  CHECK(matches("bytes:[1000 TO 5000]"));
  CHECK_FALSE(matches("bytes:{1500 TO 5000}"));
  CHECK(matches("severity:<=warning"));
  CHECK(matches("severity:[err TO 3]"));
  CHECK_FALSE(matches("severity:>err"));
  CHECK(matches("facility:<10"));
  CHECK(matches("timestamp:>=2026-11-22T10:00:00Z"));
  CHECK_FALSE(matches("timestamp:>2026-11-22T10:00:00Z"));
  CHECK(matches("timestamp:[2026-11-22T00:00:00Z TO 2026-11-23T00:00:00Z}"));
  CHECK(matches("when:<2026-11-22T09:00:00.5Z"));   // times, not text
  CHECK(matches("when:>\"2026-11-22 09:59:59+01:00\""));
  CHECK(matches("host:[w TO x]"));  // text, ignoring case
  CHECK(matches("host:>WEB"));
  CHECK(matches("tag:<c"));  // "blue"
  CHECK_FALSE(matches("nosuchfield:>0"));
  CHECK(matches("input:[r TO t]"));
}

TEST_CASE("query: _exists_") {
  CHECK(matches("_exists_:procid"));
  CHECK(matches("_exists_:host"));
  CHECK(matches("_exists_:severity"));
  CHECK_FALSE(matches("_exists_:user"));
  CHECK(matches("procid:*"));
  CHECK(matches("-_exists_:user"));
  EventView event = sample_event();
  event.host = "";
  event.severity = kUnknownSeverity;
  CHECK_FALSE(query_matches(parse_query("_exists_:host").value(), event));
  CHECK_FALSE(query_matches(parse_query("severity:*").value(), event));
  CHECK_FALSE(query_matches(parse_query("severity:<9").value(), event));
}

TEST_CASE("query: the tree") {
  CHECK(tree("") == "*");
  CHECK(tree("*") == "*");
  CHECK(tree("Failed") == "(words message failed)");
  CHECK(tree("web-01") == "(words message web 01)");
  CHECK(tree("\"Connection  reset\"") == "(words message connection reset)");
  CHECK(tree("\"->\"") == "(substring message ->)");
  CHECK(tree("--") == "(not (substring message -))");
  CHECK(tree("a - b") == "(and (words message a) (substring message -) (words message b))");
  CHECK(tree("a b c") == "(and (words message a) (words message b) (words message c))");
  CHECK(tree("a AND b") == "(and (words message a) (words message b))");
  CHECK(tree("a b OR c") == "(or (and (words message a) (words message b)) (words message c))");
  CHECK(tree("a OR b c") == "(or (words message a) (and (words message b) (words message c)))");
  CHECK(tree("a OR b OR c") == "(or (words message a) (words message b) (words message c))");
  CHECK(tree("NOT a b") == "(and (not (words message a)) (words message b))");
  CHECK(tree("-a +b") == "(and (not (words message a)) (words message b))");
  CHECK(tree("NOT (a OR b)") == "(not (or (words message a) (words message b)))");
  CHECK(tree("(a OR b) c") == "(and (or (words message a) (words message b)) (words message c))");
  CHECK(tree("((a))") == "(words message a)");
  CHECK(tree("host:Web-1") == "(= host web-1)");
  CHECK(tree("app:\"my app\"") == "(= app \"my app\")");
  CHECK(tree("raw:\"a b\"") == "(words raw a b)");
  CHECK(tree("raw:x") == "(words raw x)");
  CHECK(tree("host:web-*") == "(wildcard host web-*)");
  CHECK(tree("host:web\\*") == "(= host web*)");
  CHECK(tree("web-*") == "(patterns message web *)");
  CHECK(tree("*.Example.com") == "(patterns message * example com)");
  CHECK(tree("user:*") == "(exists user)");
  CHECK(tree("_exists_:user") == "(exists user)");
  CHECK(tree("host:/web-\\d+/") == "(regex host /web-\\d+/)");
  CHECK(tree("/a\\/b/") == "(regex message /a/b/)");
  CHECK(tree("status:>=500") == "(range status [500 TO *])");
  CHECK(tree("status:>500") == "(range status {500 TO *])");
  CHECK(tree("status:<500") == "(range status [* TO 500})");
  CHECK(tree("status:<=500") == "(range status [* TO 500])");
  CHECK(tree("bytes:[1000 TO 5000]") == "(range bytes [1000 TO 5000])");
  CHECK(tree("bytes:{1000 TO 5000}") == "(range bytes {1000 TO 5000})");
  CHECK(tree("bytes:[1000 TO 5000}") == "(range bytes [1000 TO 5000})");
  CHECK(tree("bytes:{* TO 5000]") == "(range bytes [* TO 5000])");
  CHECK(tree("severity:[ERR TO warning]") == "(range severity [3 TO 4])");
  CHECK(tree("host:(a OR b*)") == "(or (= host a) (wildcard host b*))");
  CHECK(tree("host:(a -(b c))") == "(and (= host a) (not (and (= host b) (= host c))))");
  CHECK(tree("sd.id@1.p:x") == "(= sd.id@1.p x)");
  CHECK(tree("url:http://x/y") == "(= url http://x/y)");
  CHECK(tree("a\\:b") == "(words message a b)");
  CHECK(tree("NOT:x") == "(= NOT x)");
  CHECK(tree("ORACLE and") == "(and (words message oracle) (words message and))");
  CHECK(tree("NOT(a)") == "(not (words message a))");
  CHECK(tree("a (b)") == "(and (words message a) (words message b))");
}

TEST_CASE("query: syntax errors name the position and what was expected") {
  CHECK(error_of("host:") == "position 5: expected a value after 'host:'");
  CHECK(error_of("host: x") == "position 5: expected a value after 'host:'");
  CHECK(error_of("a \"unclosed") == "position 11: expected '\"' to close the quote at position 2");
  CHECK(error_of("(a OR b") == "position 7: expected ')' to close the '(' at position 0");
  CHECK(error_of("a (b (c)") == "position 8: expected ')' to close the '(' at position 2");
  CHECK(error_of("a)") == "position 1: expected the end of the query (this ')' closes nothing)");
  CHECK(error_of("()") == "position 1: expected a term");
  CHECK(error_of(":x") == "position 0: expected a field name before ':'");
  CHECK(error_of("a NOT") == "position 5: expected a term after NOT");
  CHECK(error_of("a OR") == "position 4: expected a term after OR");
  CHECK(error_of("a AND ") == "position 6: expected a term after AND");
  CHECK(error_of("a AND OR b") == "position 6: expected a term after AND");
  CHECK(error_of("OR b") == "position 0: expected a term");
  CHECK(error_of("(a OR)") == "position 5: expected a term after OR");
  CHECK(error_of("ho$t:x") == "position 2: expected a field name (letters, digits, '_', '.', '@', '-')");
  CHECK(error_of("x:[1 5]") == "position 5: expected TO");
  CHECK(error_of("x:[1 TO") == "position 7: expected a range bound");
  CHECK(error_of("x:[1 TO ]") == "position 8: expected a range bound");
  CHECK(error_of("x:[ TO 5]") == "position 4: expected a range bound");
  CHECK(error_of("x:[1 TO 5") == "position 9: expected ']' or '}' to close the range at position 2");
  CHECK(error_of("x:[1 TO 5 6]") == "position 10: expected ']' or '}'");
  CHECK(error_of("[1 TO 5]") == "position 0: expected a field name before a range");
  CHECK(error_of("x:/a(/") == "position 2: expected a valid regular expression: missing ): a(");
  CHECK(error_of("x:/abc") == "position 6: expected '/' to close the regular expression at position 2");
  CHECK(error_of("status:>=") == "position 9: expected a value after '>='");
  CHECK(error_of("status:> 5") == "position 8: expected a value after '>'");
  CHECK(error_of("timestamp:>yesterday") == "position 11: expected an RFC3339 time");
  CHECK(error_of("timestamp:today") == "position 10: expected an RFC3339 time");
  CHECK(error_of("severity:>loud") == "position 10: expected a severity name or number");
  CHECK(error_of("_exists_:a*") == "position 9: expected a field name after '_exists_:'");
  CHECK(error_of(std::string(70, '(') + "a" + std::string(70, ')')) ==
        "position 64: expected at most 64 nested groups and operators");
  CHECK(error_of(std::string(100, '-') + "a") == "position 64: expected at most 64 nested groups and operators");
  CHECK(error_of(std::string(5000, 'a')) == "position 4096: expected a query of at most 4096 bytes");
  // 64 levels are fine.
  CHECK(tree(std::string(64, '(') + "a" + std::string(64, ')')) == "(words message a)");
  // The error's parts.
  QueryError error;
  REQUIRE_FALSE(parse_query("a OR (b", &error).has_value());
  CHECK(error.position == 7);
  CHECK(error.expected == "')' to close the '(' at position 5");
}

TEST_CASE("query: required filter hashes and postings come from the top-level AND chain") {
  auto hashes = [](std::string_view text) {
    auto query = parse_query(text);
    REQUIRE(query.has_value());
    std::vector<uint64_t> h = required_filter_hashes(query.value());
    std::sort(h.begin(), h.end());
    return h;
  };
  auto text = [](std::string_view token) { return storage::text_token_hash(token); };
  auto field = [](std::string_view name, std::string_view value) { return storage::field_token_hash(name, value); };
  auto sorted = [](std::vector<uint64_t> h) {
    std::sort(h.begin(), h.end());
    return h;
  };
  CHECK(hashes("").empty());
  CHECK(hashes("Error") == sorted({text("error")}));
  CHECK(hashes("\"web 01\" host:DB") == sorted({text("web"), text("01"), field("host", "db")}));
  CHECK(hashes("a OR b").empty());
  CHECK(hashes("-a NOT b").empty());
  CHECK(hashes("(a OR b) c") == sorted({text("c")}));
  CHECK(hashes("(a c) OR c").empty());
  CHECK(hashes("(a b) c") == sorted({text("a"), text("b"), text("c")}));
  CHECK(hashes("web-* *x") == sorted({text("web")}));
  CHECK(hashes("host:web-* host:/x/ status:>5 _exists_:a a:*").empty());
  CHECK(hashes("severity:03 facility:auth") == sorted({field("severity", "3"), field("facility", "auth")}));
  CHECK(hashes("_truncated:true timestamp:2026-01-01T00:00:00Z").empty());
  CHECK(hashes("message:\"a b\"") == sorted({text("a"), text("b")}));
  CHECK(hashes("123456 user:999999").empty());  // long numbers are not in filters
  CHECK(hashes("+a") == sorted({text("a")}));
  CHECK(hashes("host:\"\" \"\"").empty());

  auto postings = [](std::string_view text) {
    auto query = parse_query(text);
    REQUIRE(query.has_value());
    return required_posting_terms(query.value());
  };
  using Terms = std::vector<std::pair<std::string, std::string>>;
  CHECK(postings("host:Web-1 a severity:err facility:04 input:relp user:Bob") ==
        Terms{{"host", "web-1"}, {"severity", "3"}, {"facility", "4"}, {"input", "relp"}, {"user", "bob"}});
  CHECK(postings("host:a OR host:b").empty());
  CHECK(postings("-host:a host:b*").empty());
  CHECK(postings("severity:loud") == Terms{{"severity", "loud"}});
  CHECK(postings("message:x raw:y _truncated:true timestamp:2026-01-01T00:00:00Z").empty());
}

// ---------------------------------------------------------------------------
// Random queries against an independent, simple evaluator.

namespace {

struct TestEvent {
  int64_t ts = 0;
  std::string host, app, message, raw;
  uint8_t severity = kUnknownSeverity;
  std::vector<std::pair<std::string, std::string>> fields;

  EventView view() const {
    EventView v;
    v.timestamp_ns = ts;
    v.received_ns = ts;
    v.host = host;
    v.app = app;
    v.message = message;
    v.raw = raw;
    v.severity = severity;
    for (const auto& [name, value] : fields) v.fields.push_back({name, value});
    return v;
  }
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> simple_tokens(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '_' || u >= 0x80) {
      current.push_back(static_cast<char>(std::tolower(u)));
    } else if (!current.empty()) {
      out.push_back(current);
      current.clear();
    }
  }
  if (!current.empty()) out.push_back(current);
  return out;
}

bool simple_glob(const std::string& pattern, const std::string& text, size_t p = 0, size_t t = 0) {
  if (p == pattern.size()) return t == text.size();
  if (pattern[p] == '*') {
    for (size_t k = t; k <= text.size(); ++k) {
      if (simple_glob(pattern, text, p + 1, k)) return true;
    }
    return false;
  }
  if (t == text.size()) return false;
  if (pattern[p] != '?' && std::tolower(static_cast<unsigned char>(pattern[p])) !=
                               std::tolower(static_cast<unsigned char>(text[t]))) {
    return false;
  }
  return simple_glob(pattern, text, p + 1, t + 1);
}

// A query as the generator builds it: the text and an evaluator.
struct Expr {
  std::string text;
  std::function<bool(const TestEvent&)> eval;
};

const std::vector<std::string> kWords = {"alpha", "beta", "gamma", "error", "web", "01", "GET", "Timeout"};
const std::vector<std::string> kHosts = {"web-1", "web-2", "db", "Cache"};
const std::vector<std::string> kApps = {"sshd", "nginx", "cron"};
const std::vector<std::string> kUsers = {"bob", "Alice"};
const int64_t kBaseTs = 100 * 86400 * int64_t{1'000'000'000};

const std::string* field_value(const TestEvent& e, const std::string& name) {
  for (const auto& [n, v] : e.fields) {
    if (n == name) return &v;
  }
  return nullptr;
}

bool has_phrase(const std::vector<std::string>& tokens, const std::vector<std::string>& phrase) {
  if (phrase.empty()) return true;
  for (size_t i = 0; i + phrase.size() <= tokens.size(); ++i) {
    if (std::equal(phrase.begin(), phrase.end(), tokens.begin() + static_cast<long>(i))) return true;
  }
  return false;
}

std::string random_case(std::mt19937& rng, std::string s) {
  for (char& c : s) {
    if (rng() % 3 == 0) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

Expr random_clause(std::mt19937& rng) {
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  switch (rng() % 12) {
    case 0:
    case 1: {
      const std::string w = pick(kWords);
      return {random_case(rng, w),
              [w = lower(w)](const TestEvent& e) { return has_phrase(simple_tokens(e.message), {w}); }};
    }
    case 2: {
      const std::string a = pick(kWords), b = pick(kWords);
      return {"\"" + random_case(rng, a) + " " + b + "\"", [a = lower(a), b = lower(b)](const TestEvent& e) {
                return has_phrase(simple_tokens(e.message), {a, b});
              }};
    }
    case 3: {
      // A wildcard word: one token.
      static const std::vector<std::string> patterns = {"al*", "*ta", "?eta", "g*a", "*e*", "t?meout", "0*"};
      const std::string p = pick(patterns);
      return {p, [p](const TestEvent& e) {
                for (const std::string& t : simple_tokens(e.message)) {
                  if (simple_glob(p, t)) return true;
                }
                return false;
              }};
    }
    case 4: {
      const std::string h = pick(kHosts);
      return {"host:" + random_case(rng, h), [h = lower(h)](const TestEvent& e) { return lower(e.host) == h; }};
    }
    case 5: {
      static const std::vector<std::string> patterns = {"web-*", "*b*", "?b", "C*", "*-?"};
      const std::string p = pick(patterns);
      return {"host:" + p, [p](const TestEvent& e) { return simple_glob(p, e.host); }};
    }
    case 6: {
      static const std::vector<std::string> patterns = {"web-[0-9]", "[a-z]+", "(?i)c.*", "d.", "w.*"};
      const std::string p = pick(patterns);
      return {"host:/" + p + "/", [p](const TestEvent& e) {
                std::string pattern = p;
                auto flags = std::regex::ECMAScript;
                if (pattern.rfind("(?i)", 0) == 0) {
                  pattern = pattern.substr(4);
                  flags |= std::regex::icase;
                }
                return std::regex_match(e.host, std::regex(pattern, flags));
              }};
    }
    case 7: {
      const int a = static_cast<int>(rng() % 700), b = static_cast<int>(rng() % 700);
      const bool li = rng() % 2, ui = rng() % 2;
      const bool open_low = rng() % 5 == 0, open_high = rng() % 5 == 0;
      std::string text = "status:" + std::string(li ? "[" : "{") + (open_low ? "*" : std::to_string(a)) + " TO " +
                         (open_high ? "*" : std::to_string(b)) + (ui ? "]" : "}");
      return {text, [=](const TestEvent& e) {
                const std::string* v = field_value(e, "status");
                if (!v) return false;
                const int x = std::stoi(*v);
                if (!open_low && (li ? x < a : x <= a)) return false;
                if (!open_high && (ui ? x > b : x >= b)) return false;
                return true;
              }};
    }
    case 8: {
      static const std::vector<std::string> ops = {">", ">=", "<", "<="};
      const std::string op = pick(ops);
      const int n = static_cast<int>(rng() % 8);
      return {"severity:" + op + std::to_string(n), [=](const TestEvent& e) {
                if (e.severity == kUnknownSeverity) return false;
                const int s = e.severity;
                return op == ">" ? s > n : op == ">=" ? s >= n : op == "<" ? s < n : s <= n;
              }};
    }
    case 9: {
      if (rng() % 2) {
        return {"_exists_:user", [](const TestEvent& e) { return field_value(e, "user") != nullptr; }};
      }
      const std::string u = pick(kUsers);
      return {"user:" + random_case(rng, u), [u = lower(u)](const TestEvent& e) {
                const std::string* v = field_value(e, "user");
                return v && lower(*v) == u;
              }};
    }
    case 10: {
      const int64_t t = kBaseTs + static_cast<int64_t>(rng() % 3000) * 1'000'000'000;
      char text[32];
      const std::string time(text, format_rfc3339_ns(t, text));
      const bool greater = rng() % 2;
      return {std::string("timestamp:") + (greater ? ">=" : "<") + time,
              [=](const TestEvent& e) { return greater ? e.ts >= t : e.ts < t; }};
    }
    default: {
      const std::string a = pick(kApps);
      const bool wild = rng() % 2;
      if (wild) {
        return {"app:" + a.substr(0, 2) + "*",
                [p = a.substr(0, 2)](const TestEvent& e) { return e.app.rfind(p, 0) == 0; }};
      }
      return {"app:" + a, [a](const TestEvent& e) { return e.app == a; }};
    }
  }
}

Expr random_expr(std::mt19937& rng, int depth);

Expr random_unary(std::mt19937& rng, int depth) {
  Expr inner;
  if (depth > 0 && rng() % 4 == 0) {
    Expr group = random_expr(rng, depth - 1);
    inner = {"(" + group.text + ")", group.eval};
  } else {
    inner = random_clause(rng);
  }
  switch (rng() % 8) {
    case 0:
      return {"NOT " + inner.text, [f = inner.eval](const TestEvent& e) { return !f(e); }};
    case 1:
      return {"-" + inner.text, [f = inner.eval](const TestEvent& e) { return !f(e); }};
    case 2:
      return {"+" + inner.text, inner.eval};
    default:
      return inner;
  }
}

Expr random_expr(std::mt19937& rng, int depth) {
  const int ors = 1 + static_cast<int>(rng() % 3 == 0 ? 1 + rng() % 2 : 0);
  Expr result{"", [](const TestEvent&) { return false; }};
  for (int o = 0; o < ors; ++o) {
    const int ands = 1 + static_cast<int>(rng() % 3);
    Expr conj{"", [](const TestEvent&) { return true; }};
    for (int a = 0; a < ands; ++a) {
      Expr term = random_unary(rng, depth);
      conj.text += (a == 0 ? "" : (rng() % 2 ? " AND " : " ")) + term.text;
      conj.eval = [f = conj.eval, g = term.eval](const TestEvent& e) { return f(e) && g(e); };
    }
    result.text += (o == 0 ? "" : " OR ") + conj.text;
    result.eval = [f = result.eval, g = conj.eval](const TestEvent& e) { return f(e) || g(e); };
  }
  return result;
}

std::vector<TestEvent> random_events(std::mt19937& rng, size_t count) {
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  static const std::vector<std::string> separators = {" ", " ", "-", ": ", ", ", "/"};
  std::vector<TestEvent> events;
  for (size_t i = 0; i < count; ++i) {
    TestEvent e;
    e.ts = kBaseTs + static_cast<int64_t>(rng() % 3000) * 1'000'000'000 + static_cast<int64_t>(i);
    e.host = pick(kHosts);
    e.app = pick(kApps);
    const int words = 2 + static_cast<int>(rng() % 5);
    for (int w = 0; w < words; ++w) e.message += (w ? pick(separators) : "") + random_case(rng, pick(kWords));
    if (rng() % 6 != 0) e.severity = static_cast<uint8_t>(rng() % 8);
    e.raw = "<13>1 " + e.host + " " + e.app + ": " + e.message;
    if (rng() % 4 != 0) e.fields.emplace_back("status", std::to_string(100 + rng() % 500));
    if (rng() % 2 != 0) e.fields.emplace_back("user", random_case(rng, pick(kUsers)));
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace

TEST_CASE("query: random queries agree with a simple evaluator") {
  std::mt19937 rng(20261122);
  const std::vector<TestEvent> events = random_events(rng, 300);
  std::vector<EventView> views;
  for (const TestEvent& e : events) views.push_back(e.view());
  size_t queries = 0, matched_some = 0, matched_all = 0;
  for (int q = 0; q < 400; ++q) {
    const Expr expr = random_expr(rng, 2);
    CAPTURE(expr.text);
    auto query = parse_query(expr.text);
    REQUIRE_MESSAGE(query.has_value(), query.error().message());
    size_t hits = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      const bool expected = expr.eval(events[i]);
      CAPTURE(events[i].message);
      CAPTURE(events[i].host);
      REQUIRE(query_matches(query.value(), views[i]) == expected);
      hits += expected;
    }
    ++queries;
    matched_some += hits > 0;
    matched_all += hits == events.size();
  }
  CHECK(queries == 400);
  // The vocabulary is small enough that most queries match something, and
  // not everything.
  CHECK(matched_some > 200);
  CHECK(matched_all < 100);
}

TEST_CASE("query: arbitrary text parses or fails cleanly") {
  std::mt19937 rng(99);
  const std::string alphabet = "ab1 :*?\"\\/()[]{}<>=-+TONRDA_.";
  size_t parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const size_t n = rng() % 24;
    for (size_t k = 0; k < n; ++k) text.push_back(alphabet[rng() % alphabet.size()]);
    CAPTURE(text);
    QueryError error;
    auto query = parse_query(text, &error);
    if (query.has_value()) {
      ++parsed;
      query_matches(query.value(), sample_event());
      required_filter_hashes(query.value());
      required_posting_terms(query.value());
      CHECK_FALSE(storage::to_string(query.value()).empty());
    } else {
      CHECK(error.position <= text.size());
      CHECK(query.error().message().rfind("position ", 0) == 0);
    }
  }
  CHECK(parsed > 1000);
}

TEST_CASE("query: random queries through EventStore::search agree with a simple evaluator") {
  // Events across buffers, blocks of a few days and a reopen; postings on
  // two parsed fields. The filters and postings may skip blocks, never a
  // matching event.
  sluice::testing::TempDir dir;
  config::StoreOptions options;
  options.data_dir = dir.path;
  options.retention_days = 0;
  options.block_max_events = 32;
  options.indexed_fields = {"status", "user"};
  std::mt19937 rng(4242);
  std::vector<TestEvent> events = random_events(rng, 480);
  for (size_t i = 0; i < events.size(); ++i) events[i].ts += static_cast<int64_t>(i % 3) * kNanosPerDay;

  auto store = storage::EventStore::open(options);
  REQUIRE(store.has_value());
  uint64_t seq = 0;
  for (size_t first = 0; first < events.size(); first += 40) {
    EventBatch batch;
    for (size_t i = first; i < first + 40 && i < events.size(); ++i) {
      const TestEvent& e = events[i];
      Event& event = batch.events.emplace_back();
      event.timestamp_ns = e.ts;
      event.received_ns = e.ts;
      event.host = batch.arena.copy(e.host);
      event.app = batch.arena.copy(e.app);
      event.raw = batch.arena.copy(e.raw);
      event.message = batch.arena.copy(e.message);
      event.severity = e.severity;
      event.first_field = static_cast<uint32_t>(batch.fields.size());
      for (const auto& [name, value] : e.fields) {
        batch.fields.push_back({batch.arena.copy(name), batch.arena.copy(value)});
      }
      event.field_count = static_cast<uint32_t>(e.fields.size());
    }
    REQUIRE((*store)->append(batch, ++seq).is_ok());
    if (first % 120 == 40) REQUIRE((*store)->flush().is_ok());
  }

  // Random queries with their independent evaluator, and a few fixed ones
  // (no evaluator: the library's own, query_matches, is the reference)
  // that the filters and postings can skip blocks for.
  std::vector<Expr> queries;
  for (int q = 0; q < 150; ++q) queries.push_back(random_expr(rng, 2));
  for (const char* text : {"user:nobody", "host:db status:200", "gamma -beta", "web-*", "\"web 01\" OR alpha"}) {
    queries.push_back({text, nullptr});
  }
  uint64_t blocks_skipped = 0;
  auto check = [&](storage::EventStore& s) {
    for (const Expr& expr : queries) {
      CAPTURE(expr.text);
      auto query = parse_query(expr.text);
      REQUIRE(query.has_value());
      std::vector<int64_t> expected;
      for (const TestEvent& e : events) {
        const bool match = expr.eval ? expr.eval(e) : query_matches(query.value(), e.view());
        if (match) expected.push_back(e.ts);
      }
      std::sort(expected.rbegin(), expected.rend());
      storage::SearchRequest request;
      request.query = std::move(query.value());
      request.limit = 100000;
      auto result = s.search(request);
      REQUIRE(result.has_value());
      std::vector<int64_t> got;
      for (const auto& event : result->events) got.push_back(event.timestamp_ns);
      CHECK(got == expected);
      blocks_skipped += result->blocks_skipped;
    }
  };
  check(**store);
  REQUIRE((*store)->flush().is_ok());
  check(**store);
  store->reset();
  auto reopened = storage::EventStore::open(options);
  REQUIRE(reopened.has_value());
  check(**reopened);
  CHECK(blocks_skipped > 0);
}

TEST_CASE("contains_ignore_case agrees with a byte-by-byte search") {
  auto naive = [](std::string_view haystack, std::string_view needle) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (needle.size() > haystack.size()) return false;
    for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
      size_t j = 0;
      while (j < needle.size() && lower(haystack[i + j]) == needle[j]) ++j;
      if (j == needle.size()) return true;
    }
    return false;
  };
  std::mt19937 rng(5);
  // A small alphabet with both cases and the bytes that equal a letter once
  // 0x20 is set ('@' and 'a', '[' and '{'), so candidates often fail.
  const std::string alphabet = "aAbB@`[{1 \x01\xc3-";
  size_t found = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string haystack(rng() % 70, ' ');
    for (char& c : haystack) c = alphabet[rng() % alphabet.size()];
    std::string needle(1 + rng() % 6, ' ');
    for (char& c : needle) {
      c = alphabet[rng() % alphabet.size()];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    if (rng() % 3 == 0 && haystack.size() >= needle.size()) {
      // Plant the needle, randomly cased, at a random place (both ends too).
      const size_t at = rng() % (haystack.size() - needle.size() + 1);
      for (size_t j = 0; j < needle.size(); ++j) {
        char c = needle[j];
        if (c >= 'a' && c <= 'z' && rng() % 2) c = static_cast<char>(c - 32);
        haystack[at + j] = c;
      }
    }
    const bool expected = naive(haystack, needle);
    found += expected;
    REQUIRE_MESSAGE(detail::contains_ignore_case(haystack, needle) == expected,
                    "haystack '" << haystack << "' needle '" << needle << "'");
  }
  CHECK(found > 5000);
  CHECK(detail::contains_ignore_case("anything", ""));
  CHECK_FALSE(detail::contains_ignore_case("", "a"));
  const std::string long_line = std::string(1000, 'x') + "Needle" + std::string(33, 'y');
  CHECK(detail::contains_ignore_case(long_line, "needle"));
  CHECK_FALSE(detail::contains_ignore_case(long_line, "needles"));
}
