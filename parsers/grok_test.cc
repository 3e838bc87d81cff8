// Unit tests of the grok compiler, matcher and processor. The Logstash
// conformance cases are in grok_conformance_test.cc.

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "parsers/grok.h"
#include "parsers/grok_patterns.h"
#include "parsers/grok_processor.h"

namespace sluice::parsers {
namespace {

struct Run {
  EventBatch batch;
  Event event;
  ProcessResult result = ProcessResult::kFailed;

  std::vector<std::string> values(std::string_view name) const {
    std::vector<std::string> out;
    const Field *fields = batch.fields.data() + event.first_field;
    for (uint32_t i = 0; i < event.field_count; ++i) {
      if (fields[i].name == name)
        out.emplace_back(fields[i].value);
    }
    return out;
  }
  FieldType type(std::string_view name) const {
    const Field *fields = batch.fields.data() + event.first_field;
    for (uint32_t i = 0; i < event.field_count; ++i) {
      if (fields[i].name == name)
        return fields[i].type;
    }
    return FieldType::kBool; // "absent" in these tests
  }
};

std::unique_ptr<Processor>
make(std::vector<std::string> patterns, std::vector<std::string> overwrite = {},
     std::vector<std::pair<std::string, std::string>> definitions = {}) {
  config::GrokOptions options;
  for (auto &p : patterns)
    options.patterns.push_back({p, {"sluice.yaml", 3, 7}});
  options.overwrite = std::move(overwrite);
  for (auto &[name, definition] : definitions) {
    options.pattern_definitions.push_back(
        {name, {definition, {"sluice.yaml", 9, 5}}});
  }
  auto processor = GrokProcessor::create(options, PatternLibrary::builtin());
  REQUIRE_MESSAGE(processor.has_value(),
                  (processor ? "" : processor.error().message()));
  return std::move(processor).value();
}

void run(const Processor &processor, Run &r, std::string_view message) {
  r.event.message = message;
  r.event.first_field = static_cast<uint32_t>(r.batch.fields.size());
  EventContext context{r.event, r.batch};
  auto scratch = processor.make_scratch();
  r.result = processor.process(context, *scratch);
}

std::string compile_error(std::string_view expression) {
  auto compiled = GrokPattern::compile(expression, PatternLibrary::builtin());
  if (compiled)
    return {};
  return compiled.error().message();
}

TEST_CASE("grok: reference syntax and captures") {
  auto p = make({"%{WORD:verb} %{NOTSPACE} (?<rest>.*)"});
  Run r;
  run(*p, r, "GET /index.html tail of line");
  CHECK(r.result == ProcessResult::kOk);
  CHECK(r.values("verb") == std::vector<std::string>{"GET"});
  CHECK(r.values("rest") == std::vector<std::string>{"tail of line"});
  CHECK(r.event.field_count ==
        2); // %{NOTSPACE} and plain groups capture nothing
}

TEST_CASE("grok: ignored text after the name, (?P<>) and ('') captures") {
  auto p = make({"%{INT:n - a comment} (?P<a>x)(?'b'y) %{INT - ignored}"});
  Run r;
  run(*p, r, "42 xy 7");
  CHECK(r.values("n") == std::vector<std::string>{"42"});
  CHECK(r.values("a") == std::vector<std::string>{"x"});
  CHECK(r.values("b") == std::vector<std::string>{"y"});
}

TEST_CASE("grok: nested field names become dotted, odd names are allowed") {
  auto p = make({"%{WORD:[http][verb]} %{INT:@status} %{INT:src-port}"});
  Run r;
  run(*p, r, "GET 200 8080");
  CHECK(r.values("http.verb") == std::vector<std::string>{"GET"});
  CHECK(r.values("@status") == std::vector<std::string>{"200"});
  CHECK(r.values("src-port") == std::vector<std::string>{"8080"});
}

TEST_CASE("grok: nested references through custom definitions") {
  auto p = make({"%{OUTER:o}"}, {},
                {{"INNER", "%{INT:i}"}, {"OUTER", "<%{INNER}>"}});
  Run r;
  run(*p, r, "x <17> y");
  CHECK(r.values("o") == std::vector<std::string>{"<17>"});
  CHECK(r.values("i") == std::vector<std::string>{"17"});
}

TEST_CASE("grok: custom definitions override built-ins") {
  auto p = make({"%{WORD:w}"}, {}, {{"WORD", "[0-9]+"}});
  Run r;
  run(*p, r, "abc 123");
  CHECK(r.values("w") == std::vector<std::string>{"123"});
}

TEST_CASE("grok: errors name the pattern and the position") {
  CHECK(compile_error("%{WORD} %{FOO:x}") ==
        "unknown pattern name FOO in %{FOO:x} at column 9");
  CHECK(compile_error("%{INT:x:bogus}").find("unknown type \"bogus\"") !=
        std::string::npos);
  CHECK(compile_error("(?<=a)b").find(
            "lookbehind (?<= is not supported by RE2 at column 1") == 0);
  CHECK(compile_error("a(?!b)").find("lookahead (?! is not supported") == 0);
  CHECK(compile_error("(a)\\1").find("backreferences") == 0);
  CHECK(compile_error("%{WORD").find("unterminated") == 0);
  CHECK(compile_error("(abc").find("bad regex: missing )") == 0);

  PatternLibrary library = PatternLibrary::builtin().with(
      {{"A", "x%{B}"}, {"B", "y%{A}"}, {"C", "%{NOPE}"}});
  auto recursive = GrokPattern::compile("%{A:a}", library);
  REQUIRE(!recursive);
  CHECK(recursive.error().message() ==
        "recursive pattern: %{A} -> %{B} -> %{A} in %{A:a} at column 1");
  auto nested_unknown = GrokPattern::compile("z %{C}", library);
  REQUIRE(!nested_unknown);
  CHECK(nested_unknown.error().message() ==
        "unknown pattern name NOPE in %{NOPE} in %{C} at column 3");

  config::GrokOptions options;
  options.patterns.push_back({"%{FOO:x}", {"sluice.yaml", 12, 9}});
  auto processor = GrokProcessor::create(options, PatternLibrary::builtin());
  REQUIRE(!processor);
  CHECK(processor.error().message() ==
        "sluice.yaml:12:9: grok: unknown pattern name FOO in %{FOO:x} at "
        "column 1");
}

TEST_CASE("grok: int and float captures, with Ruby's to_i/to_f") {
  auto p = make({"%{NUMBER:a:int} %{NUMBER:b:float} %{NOTSPACE:c:int} "
                 "%{NOTSPACE:d:float} %{INT:e:int}"});
  Run r;
  run(*p, r, "3.75 .5 abc -0012x +7");
  REQUIRE(r.result == ProcessResult::kOk);
  CHECK(r.values("a") == std::vector<std::string>{"3"});
  CHECK(r.type("a") == FieldType::kInt);
  CHECK(r.values("b") == std::vector<std::string>{"0.5"});
  CHECK(r.type("b") == FieldType::kFloat);
  CHECK(r.values("c") == std::vector<std::string>{"0"});
  CHECK(r.values("d") == std::vector<std::string>{"-12"});
  CHECK(r.values("e") == std::vector<std::string>{"7"});

  Arena arena;
  CHECK(convert_capture("-5", FieldType::kInt, arena) == "-5");
  CHECK(convert_capture("-0", FieldType::kInt, arena) == "0");
  CHECK(convert_capture("-007", FieldType::kInt, arena) == "-7");
  CHECK(convert_capture("1.25e3", FieldType::kFloat, arena) == "1.25e3");
  CHECK(convert_capture("-", FieldType::kFloat, arena) == "0.0");
  CHECK(convert_capture("+2.5", FieldType::kFloat, arena) == "2.5");
  CHECK(convert_capture("text", FieldType::kString, arena) == "text");
}

TEST_CASE("grok: a field captured twice becomes an array, in order") {
  auto p = make({"%{WORD:w} %{WORD:w} %{WORD:message}"});
  Run r;
  run(*p, r, "one two three");
  CHECK(r.values("w") == std::vector<std::string>{"one", "two"});
  // message: the slot keeps the input and a field of the same name follows.
  CHECK(r.event.message == "one two three");
  CHECK(r.values("message") == std::vector<std::string>{"three"});
}

TEST_CASE("grok: empty and non-participating captures are not set") {
  auto p = make({"a(?<x>b*)c(?:%{INT:n}|%{WORD:w})"});
  Run r;
  run(*p, r, "ac42");
  REQUIRE(r.result == ProcessResult::kOk);
  CHECK(r.values("x").empty());
  CHECK(r.values("w").empty());
  CHECK(r.values("n") == std::vector<std::string>{"42"});
}

TEST_CASE("grok: dot matches newline; Ruby (?m) is dotall; ^ and $ are line "
          "anchors") {
  auto p = make({"^%{WORD:first} (?<rest>.*)$"});
  Run r;
  run(*p, r, "hello multi\nline\ntext");
  CHECK(r.values("rest") == std::vector<std::string>{"multi\nline\ntext"});

  auto anchors = make({"^%{INT:n}$"});
  Run r2;
  run(*anchors, r2,
      "header\n42\nfooter"); // Ruby: ^ and $ match at line boundaries
  CHECK(r2.values("n") == std::vector<std::string>{"42"});
  Run r3;
  run(*anchors, r3, "x 42");
  CHECK(r3.result == ProcessResult::kFailed);

  auto flags = make({"(?m)a.b"});
  Run r4;
  run(*flags, r4, "a\nb");
  CHECK(r4.result == ProcessResult::kOk);
}

TEST_CASE("grok: Onigmo classes: \\h, nested brackets, Unicode POSIX classes") {
  auto p = make({"(?<hex>\\h+) (?<path>[[[:alnum:]]/_]+)"});
  Run r;
  run(*p, r, "deadBEEF /opt/Čierný_x");
  CHECK(r.values("hex") == std::vector<std::string>{"deadBEEF"});
  CHECK(r.values("path") == std::vector<std::string>{"/opt/Čierný_x"});
}

TEST_CASE("grok: overwrite replaces instead of appending") {
  auto p = make({"%{SYSLOGBASE} %{GREEDYDATA:message}"}, {"message"});
  Run r;
  run(*p, r,
      "Mar 16 00:01:25 evita postfix/smtpd[1713]: connect from camomile");
  REQUIRE(r.result == ProcessResult::kOk);
  CHECK(r.event.message == "connect from camomile");
  CHECK(r.values("message").empty());
  CHECK(r.values("program") == std::vector<std::string>{"postfix/smtpd"});
  CHECK(r.values("pid") == std::vector<std::string>{"1713"});
  CHECK(r.values("logsource") == std::vector<std::string>{"evita"});
}

TEST_CASE("grok: patterns are tried in order, first match wins") {
  auto p = make({"^%{INT:num}$", "^%{WORD:word}$"});
  Run r;
  run(*p, r, "abc");
  CHECK(r.values("word") == std::vector<std::string>{"abc"});
  CHECK(r.values("num").empty());
  Run r2;
  run(*p, r2, "a b");
  CHECK(r2.result == ProcessResult::kFailed);
  CHECK(r2.event.field_count == 0);
}

TEST_CASE("grok: COMBINEDAPACHELOG fields") {
  auto p = make({"%{COMBINEDAPACHELOG}"});
  Run r;
  run(*p, r,
      "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif "
      "HTTP/1.0\" 200 2326 "
      "\"http://www.example.com/start.html\" \"Mozilla/4.08 [en] (Win98; I "
      ";Nav)\"");
  REQUIRE(r.result == ProcessResult::kOk);
  CHECK(r.values("clientip") == std::vector<std::string>{"127.0.0.1"});
  CHECK(r.values("auth") == std::vector<std::string>{"frank"});
  CHECK(r.values("timestamp") ==
        std::vector<std::string>{"10/Oct/2000:13:55:36 -0700"});
  CHECK(r.values("request") == std::vector<std::string>{"/apache_pb.gif"});
  CHECK(r.values("response") == std::vector<std::string>{"200"});
  CHECK(r.values("agent") ==
        std::vector<std::string>{"\"Mozilla/4.08 [en] (Win98; I ;Nav)\""});
  CHECK(r.values("port").empty());
}

TEST_CASE(
    "grok: a 1 MiB non-matching line returns (RE2 is linear by construction)") {
  // Nested quantifiers that make a backtracking engine exponential.
  auto p = make(
      {"^(?:%{WORD}\\s*)*%{INT:n}$", "%{COMBINEDAPACHELOG}", "%{SYSLOGLINE}"});
  std::string line;
  while (line.size() < (1 << 20))
    line += "aaaa bbbb cccc ";
  line += "!";
  Run r;
  auto start = std::chrono::steady_clock::now();
  run(*p, r, line);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  CHECK(r.result == ProcessResult::kFailed);
  CHECK(seconds < 30.0); // sanity only (sanitizer builds are slow); linearity
                         // is RE2's guarantee
}

TEST_CASE("grok: pattern library text and copies") {
  PatternLibrary library;
  CHECK(library.load_text(
      "# comment\n\nMYNUM [0-9]+\nMYPAIR %{MYNUM}-%{MYNUM}\n", "inline"));
  CHECK(library.size() == 2);
  REQUIRE(library.find("MYPAIR") != nullptr);
  CHECK(*library.find("MYPAIR") == "%{MYNUM}-%{MYNUM}");
  Status bad = library.load_text("NODEF\n", "extra");
  CHECK(bad.message() == "extra:1: pattern NODEF has no definition");
  auto compiled = GrokPattern::compile("%{MYPAIR:p}", library);
  REQUIRE(compiled);
  std::vector<re2::StringPiece> groups;
  CHECK(compiled->match("id 12-34", groups));
  CHECK(std::string(groups[1].data(), groups[1].size()) == "12-34");
  CHECK(!compiled->match("nothing", groups));
  CHECK(PatternLibrary::builtin().size() ==
        builtin_pattern_definitions().size());
}

} // namespace
} // namespace sluice::parsers
