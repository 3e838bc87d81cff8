// Top-level keys and values whose bytes appear unescaped in the JSON text
// are views of it (the store keeps them as slices of the raw line); the
// rest are copies. Either way the values are the decoded ones.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "parsers/json_event.h"

using namespace sluice;
using sluice::parsers::JsonEventParser;

namespace {

struct Parsed {
  Event event;
  std::vector<Field> fields;
};

Parsed parse(JsonEventParser& parser, EventBatch& batch, std::string& text) {
  text.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  Parsed parsed;
  REQUIRE(parser.parse(text, text.capacity(), batch, parsed.event).empty());
  const Field* fields = batch.fields_of(parsed.event);
  parsed.fields.assign(fields, fields + parsed.event.field_count);
  return parsed;
}

bool in(std::string_view part, const std::string& text) {
  return part.data() >= text.data() && part.data() + part.size() <= text.data() + text.size();
}

const Field& field(const Parsed& parsed, std::string_view name) {
  for (const Field& f : parsed.fields) {
    if (f.name == name) return f;
  }
  FAIL("no field " << name);
  return parsed.fields.front();
}

}  // namespace

TEST_CASE("raw views: unescaped top-level strings, numbers as written, and keys") {
  JsonEventParser parser;
  EventBatch batch;
  std::string text =
      R"( { "timestamp" : "2025-03-01T00:00:00.5Z", "host":"web-01","app":"nginx","pid":4242,)"
      R"("ok":true,"none":null,"ratio":1.5,"message":"GET /a 200"})";
  const Parsed parsed = parse(parser, batch, text);
  CHECK(parsed.event.host == "web-01");
  CHECK(in(parsed.event.host, text));
  CHECK(parsed.event.app == "nginx");
  CHECK(in(parsed.event.app, text));
  CHECK(parsed.event.message == "GET /a 200");
  CHECK(in(parsed.event.message, text));
  for (std::string_view name : {"pid", "ok", "none", "ratio"}) {
    CAPTURE(name);
    const Field& f = field(parsed, name);
    CHECK(in(f.name, text));
    CHECK(in(f.value, text));
  }
  CHECK(field(parsed, "pid").value == "4242");
  CHECK(field(parsed, "ok").value == "true");
  CHECK(field(parsed, "none").value == "null");
  CHECK(field(parsed, "ratio").value == "1.5");
}

TEST_CASE("raw views: escaped strings and re-rendered numbers are copies; later members still views") {
  JsonEventParser parser;
  EventBatch batch;
  std::string text =
      R"({"message":"say \"hi\" \\ \/ \u00e9","f\u00f6o":"x","n":1.50,"big":1e2,"host":"h-1","tail":"t"})";
  const Parsed parsed = parse(parser, batch, text);
  CHECK(parsed.event.message == "say \"hi\" \\ / \xc3\xa9");
  CHECK_FALSE(in(parsed.event.message, text));
  // An escaped key cannot be followed: the members after it are copies.
  const Field& foo = field(parsed, "f\xc3\xb6o");
  CHECK_FALSE(in(foo.name, text));
  CHECK(foo.value == "x");
  CHECK(field(parsed, "n").value == "1.5");
  CHECK(field(parsed, "big").value == "100");
  CHECK(parsed.event.host == "h-1");
  CHECK(field(parsed, "tail").value == "t");

  // Escaped values alone do not stop the walk.
  std::string second = R"({"message":"a \"b\"","host":"h-2","n":7})";
  const Parsed later = parse(parser, batch, second);
  CHECK(later.event.message == "a \"b\"");
  CHECK_FALSE(in(later.event.message, second));
  CHECK(later.event.host == "h-2");
  CHECK(in(later.event.host, second));
  CHECK(in(field(later, "n").value, second));
}

TEST_CASE("raw views: the end of an escaped string is found past escaped quotes and backslashes") {
  JsonEventParser parser;
  EventBatch batch;
  std::string text = R"({"a":"x\\","b":"q\\\"\"","c":"\\\\","host":"h"})";
  const Parsed parsed = parse(parser, batch, text);
  CHECK(field(parsed, "a").value == "x\\");
  CHECK(field(parsed, "b").value == "q\\\"\"");
  CHECK(field(parsed, "c").value == "\\\\");
  CHECK(parsed.event.host == "h");
  CHECK(in(parsed.event.host, text));
}

TEST_CASE("raw views: an escaped string's end is searched from its decoded length on") {
  // Escaped quotes and backslashes at and past the decoded length, so that
  // the search starts inside escapes and counts backslashes before it.
  JsonEventParser parser;
  EventBatch batch;
  std::string text =
      R"({"a":"\"\"\"\"x\"","b":"\\\\\\","c":"\u00e9\"","d":"\ud83d\ude00\\\"","host":"h","e":"z"})";
  const Parsed parsed = parse(parser, batch, text);
  CHECK(field(parsed, "a").value == "\"\"\"\"x\"");
  CHECK(field(parsed, "b").value == "\\\\\\");
  CHECK(field(parsed, "c").value == "\xc3\xa9\"");
  CHECK(field(parsed, "d").value == "\xf0\x9f\x98\x80\\\"");
  CHECK(parsed.event.host == "h");
  CHECK(in(parsed.event.host, text));
  CHECK(in(field(parsed, "e").value, text));
}

TEST_CASE("count_word_keeping_escapes: an escape at every position, a backslash at the end") {
  CHECK(count_word_keeping_escapes("") == 0);
  CHECK(count_word_keeping_escapes("no escapes in this text at all") == 0);
  for (size_t at = 0; at < 20; ++at) {
    std::string text(20, 'a');
    text.insert(at, "\\\"");
    CHECK(count_word_keeping_escapes(text) == 1);
    text.insert(at + 2 + (19 - at) / 2, "\\/");  // after the first escape
    CHECK(count_word_keeping_escapes(text) == 2);
    std::string bad(20, 'a');
    bad.insert(at, "\\n");
    CHECK(count_word_keeping_escapes(bad) == -1);
    bad = std::string(at, 'a') + "\\";  // a backslash ends the text
    CHECK(count_word_keeping_escapes(bad) == -1);
  }
  CHECK(count_word_keeping_escapes("\\\\\\\\\\\\\\\\\\\\") == 5);
}

TEST_CASE("raw views: nested objects and arrays end the walk, values stay right") {
  JsonEventParser parser;
  EventBatch batch;
  std::string text = R"({"a":"1","http":{"status":200},"list":[1,2],"host":"h","b":"2","":""})";
  const Parsed parsed = parse(parser, batch, text);
  CHECK(in(field(parsed, "a").value, text));
  CHECK(field(parsed, "http.status").value == "200");
  CHECK(field(parsed, "list").value == "[1,2]");
  CHECK(parsed.event.host == "h");
  CHECK(field(parsed, "b").value == "2");
  CHECK(field(parsed, "").value == "");
}

TEST_CASE("raw views: a message escaped with \\\" \\\\ \\/ only names its string in the line") {
  JsonEventParser parser;
  EventBatch batch;
  std::string text = R"({"n":1,"message":"GET \"/a\/b\" C:\\x","host":"h"})";
  const Parsed parsed = parse(parser, batch, text);
  CHECK(parsed.event.message == R"(GET "/a/b" C:\x)");
  CHECK_FALSE(in(parsed.event.message, text));
  CHECK(parsed.event.json_message() == R"(GET \"/a\/b\" C:\\x)");
  CHECK(in(parsed.event.json_message(), text));
  CHECK(parsed.event.host == "h");

  // Escapes that join or split words (\n, \t, \u...) do not count, nor
  // does an unescaped message (a view of the line already) or an escaped
  // string that is not the message.
  for (std::string line : {std::string(R"({"message":"two\nlines"})"), std::string(R"({"message":"caf\u00e9 \"x\""})"),
                           std::string(R"({"message":"tab\t\"x\""})"), std::string(R"({"message":"plain"})"),
                           std::string(R"({"msg":"plain","other":"a \"b\""})")}) {
    CAPTURE(line);
    const Parsed other = parse(parser, batch, line);
    CHECK(other.event.json_message().empty());
  }
  // After a nested object the walk has stopped: no place in the line is known.
  std::string nested = R"({"o":{"a":1},"message":"a \"b\""})";
  const Parsed after = parse(parser, batch, nested);
  CHECK(after.event.message == "a \"b\"");
  CHECK(after.event.json_message().empty());
  // A better-ranked message key that is not escaped replaces the source.
  std::string both = R"({"msg":"a \"b\"","message":"plain"})";
  const Parsed ranked = parse(parser, batch, both);
  CHECK(ranked.event.message == "plain");
  CHECK(ranked.event.json_message().empty());
}
