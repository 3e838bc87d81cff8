#include "parsers/condition.h"

#include <doctest/doctest.h>

#include <string>

using namespace sluice;
using sluice::parsers::Condition;
using sluice::parsers::EventContext;

namespace {

struct TestEvent {
  EventBatch batch;
  Event event;

  void add(std::string_view name, std::string_view value) {
    batch.fields.push_back(Field{name, value});
    ++event.field_count;
  }
};

// Compiles `text` (which must compile) and evaluates it both with a
// per-worker scratch and with the shared RE2s; the two must agree.
bool eval(const std::string& text, TestEvent& test) {
  auto condition = Condition::compile(text);
  const std::string problem = text + ": " + (condition ? std::string() : condition.error().message());
  REQUIRE_MESSAGE(condition.has_value(), problem);
  EventContext context{test.event, test.batch};
  auto scratch = condition->make_scratch();
  const bool with_scratch = condition->evaluate(context, *scratch);
  CHECK_MESSAGE(with_scratch == condition->evaluate(context), text);
  return with_scratch;
}

std::string error_of(const std::string& text) {
  auto condition = Condition::compile(text);
  if (condition) return "<compiled>";
  return condition.error().message();
}

void fill_nginx(TestEvent& test) {
  test.event.host = "web-12";
  test.event.app = "nginx";
  test.event.message = "GET /index.html error 500 upstream";
  test.event.severity = 3;
  test.event.facility = 16;
  test.event.input = InputId::kSyslogUdp;
  test.add("status", "502");
  test.add("method", "GET");
  test.add("tag", "a");
  test.add("tag", "b");
  test.add("http.path", "/index.html");
  test.add("host", "upstream-1");
}

}  // namespace

TEST_CASE("a default condition is always true") {
  TestEvent test;
  Condition condition;
  CHECK(condition.always_true());
  EventContext context{test.event, test.batch};
  auto scratch = condition.make_scratch();
  CHECK(condition.evaluate(context, *scratch));
}

TEST_CASE("string equality on slots and fields") {
  TestEvent test;
  fill_nginx(test);
  CHECK(eval(R"(app == "nginx")", test));
  CHECK_FALSE(eval(R"(app == "apache")", test));
  CHECK(eval(R"(host != "x")", test));
  CHECK_FALSE(eval(R"(host != "web-12")", test));
  CHECK(eval(R"(method == "GET")", test));
  CHECK(eval(R"(fields.method == 'GET')", test));
  CHECK(eval(R"("GET" == method)", test));
  // fields.host is the parsed field, host the slot.
  CHECK(eval(R"(fields.host == "upstream-1")", test));
  CHECK(eval(R"(host == "web-12")", test));
  CHECK(eval(R"([http][path] == "/index.html")", test));
  CHECK(eval(R"(http.path == "/index.html")", test));
  CHECK(eval(R"(input == "syslog_udp")", test));
  CHECK(eval(R"(host == app)", test) == false);
}

TEST_CASE("missing fields satisfy only the negative forms") {
  TestEvent test;
  fill_nginx(test);
  CHECK_FALSE(eval(R"(nothing == "x")", test));
  CHECK(eval(R"(nothing != "x")", test));
  CHECK_FALSE(eval(R"(nothing =~ ".*")", test));
  CHECK(eval(R"(nothing !~ "x")", test));
  CHECK_FALSE(eval(R"("x" in nothing)", test));
  CHECK(eval(R"("x" not in nothing)", test));
  CHECK_FALSE(eval("nothing < 5", test));
  CHECK_FALSE(eval("nothing >= 5", test));
  TestEvent empty;
  CHECK_FALSE(eval(R"(message == "")", empty));  // an empty slot is absent
  CHECK_FALSE(eval("severity <= 7", empty));     // unknown severity
  CHECK(eval("severity != 3", empty));
}

TEST_CASE("regex matches are partial RE2 matches") {
  TestEvent test;
  fill_nginx(test);
  CHECK(eval(R"(host =~ "^web-")", test));
  CHECK(eval(R"(host =~ "\d+$")", test));
  CHECK(eval(R"(host =~ "^web-\\d+$")", test));  // \\ is one backslash
  CHECK_FALSE(eval(R"(host =~ "^db")", test));
  CHECK(eval(R"(host !~ "^db")", test));
  CHECK_FALSE(eval(R"(host !~ "web")", test));
  CHECK(eval(R"(message =~ "error \d{3}")", test));
}

TEST_CASE("exists") {
  TestEvent test;
  fill_nginx(test);
  CHECK(eval("exists(fields.status)", test));
  CHECK(eval("exists(status)", test));
  CHECK(eval("exists( status )", test));
  CHECK_FALSE(eval("exists(fields.nope)", test));
  CHECK(eval("exists(message)", test));
  CHECK(eval("exists(severity)", test));
  CHECK(eval("not exists(nope)", test));
  TestEvent empty;
  CHECK_FALSE(eval("exists(message)", empty));
  CHECK_FALSE(eval("exists(severity)", empty));
  CHECK_FALSE(eval("exists(facility)", empty));
}

TEST_CASE("numeric comparisons") {
  TestEvent test;
  fill_nginx(test);
  CHECK(eval("status >= 500", test));
  CHECK(eval("status > 501.5", test));
  CHECK_FALSE(eval("status < 500", test));
  CHECK(eval("status == 502", test));
  CHECK(eval("status == 502.0", test));  // numbers, not text
  CHECK_FALSE(eval(R"(status == "502.0")", test));  // text
  CHECK(eval(R"(status >= "500")", test));  // a numeric string literal is a number
  CHECK(eval("500 <= status", test));
  CHECK(eval("status != 404", test));
  CHECK_FALSE(eval("method > 1", test));  // not a number: false
  CHECK(eval("status > -1", test));
}

TEST_CASE("severity and facility by number or name") {
  TestEvent test;
  fill_nginx(test);  // severity 3 (err), facility 16 (local0)
  CHECK(eval("severity <= 3", test));
  CHECK_FALSE(eval("severity < 3", test));
  CHECK(eval(R"(severity == "err")", test));
  CHECK(eval(R"(severity == "error")", test));
  CHECK(eval(R"(severity == "ERR")", test));
  CHECK(eval("severity <= warning", test));
  CHECK(eval(R"(severity < "warning")", test));
  CHECK_FALSE(eval("severity > notice", test));
  CHECK(eval(R"(severity =~ "^er")", test));  // the name's text
  CHECK(eval(R"(facility == "local0")", test));
  CHECK(eval("facility == local0", test));
  CHECK(eval("facility >= 16", test));
  CHECK_FALSE(eval("facility == kern", test));
  // Only a bare name can be a severity name; fields.err is the field.
  TestEvent named;
  named.event.severity = 3;
  named.add("err", "3");
  named.add("level", "info");
  CHECK(eval("severity == fields.err", named));
  CHECK_FALSE(eval("severity == level", named));  // "info" is not 3
  CHECK(eval("severity < level", named) == false);  // not a number
}

TEST_CASE("substring with in") {
  TestEvent test;
  fill_nginx(test);
  CHECK(eval(R"("error" in message)", test));
  CHECK_FALSE(eval(R"("fatal" in message)", test));
  CHECK(eval(R"("fatal" not in message)", test));
  CHECK(eval(R"("web" in host)", test));
  CHECK(eval(R"("b" in tag)", test));
}

TEST_CASE("arrays: any value satisfies the positive forms") {
  TestEvent test;
  fill_nginx(test);
  CHECK(eval(R"(tag == "a")", test));
  CHECK(eval(R"(tag == "b")", test));
  CHECK_FALSE(eval(R"(tag == "c")", test));
  CHECK_FALSE(eval(R"(tag != "b")", test));
  CHECK(eval(R"(tag != "c")", test));
  CHECK(eval(R"(tag =~ "^b$")", test));
}

TEST_CASE("and, or, not, parentheses and precedence") {
  TestEvent test;
  fill_nginx(test);
  CHECK(eval(R"(app == "nginx" and status >= 500)", test));
  CHECK_FALSE(eval(R"(app == "nginx" and status < 500)", test));
  CHECK(eval(R"(app == "x" or status >= 500)", test));
  // and binds tighter than or.
  CHECK(eval(R"(app == "nginx" or app == "x" and app == "y")", test));
  CHECK_FALSE(eval(R"((app == "nginx" or app == "x") and app == "y")", test));
  CHECK(eval(R"(not app == "x")", test));
  CHECK_FALSE(eval(R"(not (app == "nginx"))", test));
  CHECK(eval(R"(not not app == "nginx")", test));
  CHECK(eval(R"(app == "nginx" && !(host == "x") || false_field == "y")", test));
  CHECK(eval(R"(((app == "nginx")))", test));
}

TEST_CASE("string literals and escapes") {
  TestEvent test;
  test.add("quote", "say \"hi\"");
  test.add("path", "C:\\dir");
  test.add("single", "it's");
  CHECK(eval(R"(quote == "say \"hi\"")", test));
  CHECK(eval(R"(path == "C:\\dir")", test));
  CHECK(eval(R"(single == 'it\'s')", test));
  CHECK(eval(R"(single == "it's")", test));
}

TEST_CASE("syntax errors name the column") {
  CHECK(error_of(R"(app == "x" and host =~ 5)") == "column 24: expected a string after =~");
  CHECK(error_of(R"(host !~ message)") == "column 9: expected a string after !~");
  CHECK(error_of("") == "column 1: expected a condition");
  CHECK(error_of("   ") == "column 4: expected a condition");
  CHECK(error_of(R"(app == "x)") == "column 8: unterminated string");
  CHECK(error_of(R"((app == "x")") == "column 12: expected ) to close the ( at column 1");
  CHECK(error_of(R"(app == "x"))") == "column 11: expected and, or, ) or the end of the condition");
  CHECK(error_of(R"(app "x")") ==
        "column 5: expected a comparison (==, !=, =~, !~, <, <=, >, >=, in) after app");
  CHECK(error_of("app ==") == "column 7: expected a field, string or number after ==");
  CHECK(error_of("== 3") == "column 1: expected a field, string or number");
  CHECK(error_of("app == 3 and") == "column 13: expected a field, string or number");
  CHECK(error_of("app $ 3") == "column 5: unexpected character '$'");
  CHECK(error_of("exists(") == "column 8: expected a field name in exists()");
  CHECK(error_of("exists(a b)") == "column 10: expected ) after exists(a");
  CHECK(error_of(R"(severity == "loud")") ==
        "column 13: unknown severity \"loud\" (expected 0-7 or emerg, alert, crit, err, warning, notice, info, debug)");
  CHECK(error_of(R"(status >= "many")") == "column 11: expected a number after >=");
  CHECK(error_of(R"("a" == "a")") == "column 1: compares two constants; one side of == must be a field");
  CHECK(error_of("status > 5x") == "column 10: invalid number \"5x\"");
  CHECK(error_of("[a") == "column 1: expected a field name and ] after [");
  CHECK(error_of("fields. == 1") == "column 1: expected a field, string or number");
  const std::string bad_regex = error_of(R"(host =~ "(")");
  CHECK(bad_regex.starts_with("column 9: invalid regular expression \"(\": "));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "(";
  CHECK(error_of(deep + "a == 1").find("nest at most 64 deep") != std::string::npos);
}

TEST_CASE("keywords need fields. to be used as field names") {
  TestEvent test;
  test.add("and", "1");
  test.add("exists", "yes");
  CHECK(eval("fields.and == 1", test));
  CHECK(eval(R"(fields.exists == "yes")", test));
  CHECK(error_of("exists == 1") != "<compiled>");
}

TEST_CASE("a compiled condition survives moves") {
  auto compiled = Condition::compile(R"(host =~ "^web" and "error" in message)");
  REQUIRE(compiled);
  Condition moved = std::move(compiled.value());
  Condition again;
  again = std::move(moved);
  TestEvent test;
  fill_nginx(test);
  EventContext context{test.event, test.batch};
  auto scratch = again.make_scratch();
  CHECK(again.evaluate(context, *scratch));
  CHECK(again.text() == R"(host =~ "^web" and "error" in message)");
}
