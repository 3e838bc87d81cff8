// The segmented grok plan (grok_segments.h) must give exactly the captures
// of one RE2 submatch search: checked against GrokMatcher(pattern, false)
// on the conformance cases, on generated patterns and lines built to hit
// every boundary rule (delimiters inside fields, optional pieces, branches
// whose first choice fails late), and on real access-log lines.

#include <doctest/doctest.h>
#include <simdjson.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/grok.h"
#include "parsers/grok_patterns.h"
#include "parsers/grok_segments.h"

namespace sluice::parsers {
namespace {

// Both matchers on one line: same verdict, same capture positions.
struct Differential {
  explicit Differential(const GrokPattern &pattern)
      : segmented(pattern, true), reference(pattern, false) {}

  void check(std::string_view line) {
    const bool a = segmented.match(line);
    const bool b = reference.match(line);
    INFO("pattern: " << segmented.pattern().expression());
    INFO("line: " << line);
    REQUIRE(a == b);
    if (!a)
      return;
    ++matched;
    for (size_t i = 0; i < segmented.pattern().captures().size(); ++i) {
      INFO("capture " << i << " (" << segmented.pattern().captures()[i].field
                      << ")");
      // Offsets into the line (-1: not set), which doctest can print.
      auto offset = [&](std::string_view capture) -> ptrdiff_t {
        return capture.data() == nullptr ? -1 : capture.data() - line.data();
      };
      std::string_view x = segmented.capture(i);
      std::string_view y = reference.capture(i);
      CHECK(offset(x) == offset(y));
      CHECK(x.size() == y.size());
    }
  }

  GrokMatcher segmented;
  GrokMatcher reference;
  int matched = 0;
};

GrokPattern compile(const std::string &expression) {
  auto pattern = GrokPattern::compile(expression, PatternLibrary::builtin());
  INFO(expression);
  REQUIRE(pattern.has_value());
  return std::move(pattern).value();
}

std::string pattern_of(const GrokSegments &plan) {
  std::string out;
  for (const GrokSegment &step : plan.steps) {
    if (step.kind == GrokSegment::Kind::kRest) {
      out += "R:" + step.text;
      continue;
    }
    out += step.kind == GrokSegment::Kind::kLiteral ? "L:" : "P:";
    out += step.text;
    out += step.alternatives.empty()
               ? ""
               : "{" + std::to_string(step.alternatives.size()) + "}";
    out += ' ';
  }
  return out;
}

TEST_CASE("grok segments: the plan splits at literals and stops where it "
          "must") {
  CHECK(pattern_of(plan_segments(R"((\w+) (\d+))", 2)) ==
        R"(P:(\w+) L:  P:(\d+) )");
  // Plain groups are flattened; escaped punctuation is literal.
  CHECK(pattern_of(plan_segments(R"((?:(\w+)\[(\d+)\]):)", 2)) ==
        R"(P:(\w+) L:[ P:(\d+) L:]: )");
  // A piece not followed by a literal starts the rest.
  CHECK(pattern_of(plan_segments(R"((\w+) (\d+)(\w*) x)", 3)) ==
        R"(P:(\w+) L:  R:(\d+)(\w*) x)");
  // Branches are kept for pieces that capture inside.
  CHECK(pattern_of(plan_segments(R"((?:-|(\d+)) x)", 1)) ==
        R"(P:(?:-|(\d+)){2} L: x )");
  // Top-level alternation or a flag group: no plan.
  CHECK_FALSE(plan_segments(R"((\w+) x|(\d+))", 2).useful());
  CHECK(pattern_of(plan_segments(R"((\w+) (?i)x(\d+))", 2)) ==
        R"(P:(\w+) L:  R:(?i)x(\d+))");
  // Quantified literals are not literals.
  CHECK(pattern_of(plan_segments(R"((\w+) +(\d+))", 2)) == R"(R:(\w+) +(\d+))");
  // A miscount never yields a plan.
  CHECK_FALSE(plan_segments(R"((\w+) (\d+))", 3).useful());
}

TEST_CASE("grok segments: COMBINEDAPACHELOG is matched without a submatch "
          "search of the whole line") {
  GrokPattern pattern = compile("%{COMBINEDAPACHELOG}");
  REQUIRE(pattern.segments().useful());
  Differential d(pattern);
  const std::vector<std::string> lines = {
      "83.149.9.216 - - [17/May/2015:10:05:03 +0000] \"GET "
      "/presentations/logstash-monitorama-2013/images/kibana-search.png "
      "HTTP/1.1\" 200 203023 "
      "\"http://semicomplete.com/presentations/logstash-monitorama-2013/\" "
      "\"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 "
      "(KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36\"",
      "2001:db8::17 - alice [22/Nov/2026:06:38:26 +0100] \"GET "
      "/static/app.js HTTP/2.0\" 304 - \"-\" \"curl/8.5.0\"",
      "10.0.0.1 - - [22/Nov/2026:06:38:26 +0100] \"\\x16\\x03\\x01\" 400 0 "
      "\"-\" \"-\"",
      "10.0.0.1 - - [22/Nov/2026:06:38:26 +0100] \"GET /a b\" 400 0 \"-\" "
      "\"-\"",
      "fe80::1%eth0 - - [22/Nov/2026:06:38:26 +0100] \"GET / HTTP/1.1\" 200 "
      "5 \"x y\" \"z\"",
      "prefix junk web-1.example.com - - [22/Nov/2026:06:38:26 +0100] \"GET "
      "/q?a=\\\"b\\\" HTTP/1.0\" 200 5 \"-\" \"a \\\"quoted\\\" agent\"",
  };
  for (int round = 0; round < 40; ++round) {
    for (const std::string &line : lines)
      d.check(line);
  }
  CHECK(d.matched == 40 * static_cast<int>(lines.size()));
  // The plan decided most lines; lines it could not decide were answered
  // by the search over the match, identically.
  CHECK(d.segmented.segmented_matches() >= d.segmented.fallback_matches());
  CHECK(d.segmented.segmented_matches() > 0);
}

TEST_CASE("grok segments: a piece that can also end at an earlier delimiter "
          "is not placed by its longest match") {
  // `a` is preferred over `a"b`, so leftmost-first ends the field at the
  // first quote although the longest match ends at the second.
  for (const char *expression :
       {"(?<x>a|a\"b)\"%{GREEDYDATA:rest}", "(?<x>a\"b|a)\"%{GREEDYDATA:rest}",
        "(?<x>[a-z\"]*?)\" %{WORD:w}"}) {
    GrokPattern pattern = compile(expression);
    Differential d(pattern);
    for (const char *line : {"a\"b\"c", "a\"b\"", "a\"", "a\"b\" w", "xy\" w"})
      d.check(line);
    CHECK(d.matched > 0);
  }
}

TEST_CASE("grok segments: the conformance cases match identically") {
  std::ifstream in(std::string(SLUICE_TEST_DATA_DIR) + "/grok/cases.jsonl");
  REQUIRE(in.good());
  simdjson::dom::parser parser;
  std::string line;
  int compared = 0;
  while (std::getline(in, line)) {
    simdjson::dom::element record;
    if (parser.parse(line).get(record) != simdjson::SUCCESS)
      continue;
    std::string_view pattern_text, input;
    if (record["pattern"].get(pattern_text) != simdjson::SUCCESS ||
        record["input"].get(input) != simdjson::SUCCESS)
      continue;
    auto pattern = GrokPattern::compile(pattern_text, PatternLibrary::builtin());
    if (!pattern)
      continue;
    Differential d(*pattern);
    d.check(input);
    ++compared;
  }
  CHECK(compared > 200);
}

// Random patterns over fields whose languages overlap the delimiters in
// every way (DATA and QS contain spaces, NOTSPACE contains quotes, NUMBER
// can start with '-', optional and alternative pieces) against lines built
// from the same pattern, with values that contain the delimiters, and
// mutated so that some lines match only in another way or not at all.
TEST_CASE("grok segments: generated patterns and lines match identically") {
  struct FieldKind {
    std::string pattern;
    std::vector<std::string> samples;
  };
  const std::vector<FieldKind> fields = {
      {"%{WORD:w}", {"abc", "a_b"}},
      {"%{INT:i}", {"12", "-7"}},
      {"%{NOTSPACE:ns}", {"q\"x", "a]b", "x:y", "-"}},
      {"%{DATA:d}", {"a b", "", "x\" y", "] z"}},
      {"%{GREEDYDATA:g}", {"rest of \" line", ""}},
      {"%{QS:q}", {"\"a b\"", "\"x\\\"y\"", "''"}},
      {"%{IPORHOST:h}", {"1.2.3.4", "::1", "fe80::1%e x", "web-1"}},
      {"%{NUMBER:n}", {"3.5", "-1", "12"}},
      {"(?:%{INT:oi}|-)", {"-", "5"}},
      {"(?:-|%{NUMBER:on})", {"-", "-5", "7"}},
      {"(?:x%{WORD:xw})?", {"", "xab"}},
      {"\\[%{DATA:bd}\\]", {"[a b]", "[]", "[x] y]"}},
      {"(?:%{WORD:a1} %{NOTSPACE:a2}|%{DATA:a3})", {"GET /x", "a b c", "\"q"}},
      {"%{USER:u}", {"alice", "a.b"}},
      {"(?<inline>[a-z]+)", {"abc"}},
      {"%{SPACE}", {"", " ", "  "}},
  };
  // As regex text, and as the text they match.
  const std::vector<std::pair<std::string, std::string>> separators = {
      {" ", " "},     {" - ", " - "}, {"\"", "\""}, {": ", ": "},
      {"\\[", "["},   {"\\] ", "] "}, {",", ","},   {"x", "x"}};
  const std::vector<std::string> noise = {" ", "\"", "-", "x", "]", "a b",
                                          ":", "1"};
  std::mt19937 rng(20261201);
  auto below = [&](size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
  };
  uint64_t segmented = 0, total_matched = 0, lines = 0;
  for (int p = 0; p < 400; ++p) {
    std::vector<size_t> parts(2 + below(4));
    std::vector<size_t> seps(parts.size());
    std::string expression;
    for (size_t k = 0; k < parts.size(); ++k) {
      parts[k] = below(fields.size());
      seps[k] = below(separators.size());
      if (k > 0)
        expression += separators[seps[k]].first;
      expression += fields[parts[k]].pattern;
    }
    const bool anchored = below(4) == 0;
    if (anchored)
      expression = "^" + expression;
    if (below(5) == 0)
      expression += "$";
    auto pattern = GrokPattern::compile(expression, PatternLibrary::builtin());
    INFO(expression << ": " << (pattern ? "" : pattern.error().message()));
    REQUIRE(pattern.has_value());
    Differential d(*pattern);
    for (int l = 0; l < 60; ++l) {
      std::string text = below(3) == 0 ? noise[below(noise.size())] : "";
      for (size_t k = 0; k < parts.size(); ++k) {
        if (k > 0)
          text += separators[seps[k]].second;
        const auto &samples = fields[parts[k]].samples;
        text += samples[below(samples.size())];
      }
      if (below(3) == 0) {
        text.insert(below(text.size() + 1), noise[below(noise.size())]);
      }
      if (below(4) == 0)
        text += noise[below(noise.size())];
      d.check(text);
      ++lines;
    }
    segmented += d.segmented.segmented_matches();
    total_matched += d.matched;
  }
  // The generator must reach the plan, not only its fallbacks.
  MESSAGE("generated: " << lines << " lines, " << total_matched
                        << " matched, " << segmented << " by the plan");
  CHECK(total_matched > lines / 3);
  CHECK(segmented > total_matched / 4);
}

} // namespace
} // namespace sluice::parsers
