#include "parsers/json_event.h"

#include <doctest/doctest.h>

#include <string>
#include <tuple>

using namespace sluice;
using sluice::parsers::JsonEventParser;

namespace {

struct Parsed {
  std::string_view error;
  Event event;
  std::string value_of(EventBatch& batch, std::string_view name) const {
    const Field* fields = batch.fields_of(event);
    for (uint32_t i = 0; i < event.field_count; ++i) {
      if (fields[i].name == name) return std::string(fields[i].value);
    }
    return "<absent>";
  }
};

// The input string's capacity provides the padding simdjson reads.
Parsed parse(JsonEventParser& parser, EventBatch& batch, std::string& text) {
  text.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  Parsed parsed;
  parsed.error = parser.parse(text, text.capacity(), batch, parsed.event);
  return parsed;
}

}  // namespace

TEST_CASE("well-known keys fill the event, others become fields") {
  JsonEventParser parser;
  EventBatch batch;
  std::string text =
      R"({"message":"user login","timestamp":"2026-11-22T10:00:00.5Z","host":"web-1",)"
      R"("app":"auth","level":"WARN","user":"alice","http":{"status":200,"path":"/a\"b"},)"
      R"("tags":["x", "y"],"ok":true,"none":null,"ratio":0.25})";
  Parsed p = parse(parser, batch, text);
  REQUIRE(p.error.empty());
  CHECK(p.event.message == "user login");
  CHECK(p.event.timestamp_ns == 1795341600500000000);
  CHECK(p.event.host == "web-1");
  CHECK(p.event.app == "auth");
  CHECK(p.event.severity == 4);
  CHECK(p.value_of(batch, "user") == "alice");
  CHECK(p.value_of(batch, "http.status") == "200");
  CHECK(batch.fields_of(p.event)[1].type == FieldType::kInt);  // after "user"
  CHECK(p.value_of(batch, "http.path") == "/a\"b");
  CHECK(p.value_of(batch, "tags") == R"(["x","y"])");
  CHECK(p.value_of(batch, "ok") == "true");
  CHECK(p.value_of(batch, "none") == "null");
  CHECK(p.value_of(batch, "ratio") == "0.25");
  CHECK(p.value_of(batch, "message") == "<absent>");
}

TEST_CASE("numeric timestamps in seconds and milliseconds") {
  JsonEventParser parser;
  EventBatch batch;
  std::string seconds = R"({"time":1700000000.25})";
  CHECK(parse(parser, batch, seconds).event.timestamp_ns == 1700000000250000000);
  std::string millis = R"({"time":1700000000250})";
  CHECK(parse(parser, batch, millis).event.timestamp_ns == 1700000000250000000);
  std::string bad = R"({"time":"yesterday"})";
  Parsed p = parse(parser, batch, bad);
  REQUIRE(p.error.empty());
  CHECK(p.event.timestamp_ns == 0);
  CHECK(p.value_of(batch, "time") == "yesterday");
}

TEST_CASE("bad input is rejected with a reason and leaves no fields behind") {
  JsonEventParser parser;
  EventBatch batch;
  for (std::string text : {std::string(R"({"a":)"), std::string("not json"), std::string("[1,2]"),
                           std::string(R"({"a":1} {"b":2})"), std::string(R"({"a":tru})"),
                           std::string("{\"a\":\"\xff\"}"), std::string("")}) {
    const size_t fields_before = batch.fields.size();
    Parsed p = parse(parser, batch, text);
    CHECK_MESSAGE(!p.error.empty(), text);
    CHECK(batch.fields.size() == fields_before);
  }
}

TEST_CASE("a depth bomb is kept as text past the flattening depth") {
  JsonEventParser parser;
  EventBatch batch;
  std::string text;
  for (int i = 0; i < 100; ++i) text += "{\"a\":";
  text += "1";
  for (int i = 0; i < 100; ++i) text += "}";
  Parsed p = parse(parser, batch, text);
  REQUIRE(p.error.empty());
  CHECK(p.event.field_count == 1);
}

TEST_CASE("errors are classified: truncated, invalid UTF-8, depth limit, not an object") {
  JsonEventParser parser;
  EventBatch batch;
  struct Case {
    std::string text;
    sluice::parsers::JsonError error;
  };
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 200; ++i) deep += "}";
  std::string deep_arrays = "{\"a\":" + std::string(300, '[') + std::string(300, ']') + "}";
  const Case cases[] = {
      {R"({"message":"cut here)", sluice::parsers::JsonError::kTruncated},
      {R"({"message":"cut","x":{"y":1)", sluice::parsers::JsonError::kTruncated},
      {"{\"message\":\"bad \xc3\x28 byte\"}", sluice::parsers::JsonError::kInvalidUtf8},
      {"{\"k\xff\":1}", sluice::parsers::JsonError::kInvalidUtf8},
      {deep, sluice::parsers::JsonError::kDepthLimit},
      {deep_arrays, sluice::parsers::JsonError::kDepthLimit},
      {"[1,2]", sluice::parsers::JsonError::kNotObject},
      {"\"text\"", sluice::parsers::JsonError::kNotObject},
      {R"({"a":tru})", sluice::parsers::JsonError::kInvalidJson},
      {R"({"a":1} {"b":2})", sluice::parsers::JsonError::kInvalidJson},
  };
  for (Case c : cases) {
    Parsed p = parse(parser, batch, c.text);
    CHECK_MESSAGE(parser.last_error() == c.error, c.text.substr(0, 60));
    CHECK(p.error == sluice::parsers::json_error_message(c.error));
    CHECK(sluice::parsers::json_error_of(p.error) == c.error);
  }
  std::string ok = R"({"message":"fine"})";
  CHECK(parse(parser, batch, ok).error.empty());
  CHECK(parser.last_error() == sluice::parsers::JsonError::kNone);
}

TEST_CASE("a depth of 100 still parses (flattened to 16 levels, then JSON text)") {
  JsonEventParser parser;
  EventBatch batch;
  std::string text;
  for (int i = 0; i < 100; ++i) text += "{\"a\":";
  text += "1";
  for (int i = 0; i < 100; ++i) text += "}";
  Parsed p = parse(parser, batch, text);
  REQUIRE(p.error.empty());
  REQUIRE(p.event.field_count == 1);
  const Field& field = batch.fields_of(p.event)[0];
  CHECK(field.name.size() == 16 * 2 + 1);  // "a.a. ... a": 17 levels of names
  CHECK(field.value.starts_with("{\"a\":{"));
}

TEST_CASE("default mapping: msg, log, host.name nested, service.name, log.level, @timestamp first") {
  JsonEventParser parser;
  EventBatch batch;
  std::string text =
      R"({"time":"2020-01-01T00:00:00Z","log":"from docker","host":{"name":"node-7","ip":"10.0.0.7"},)"
      R"("service":{"name":"api"},"log.level":"error","@timestamp":"2026-11-22T10:00:00Z"})";
  Parsed p = parse(parser, batch, text);
  REQUIRE(p.error.empty());
  CHECK(p.event.message == "from docker");
  CHECK(p.event.host == "node-7");
  CHECK(p.value_of(batch, "host.ip") == "10.0.0.7");
  CHECK(p.event.app == "api");
  CHECK(p.event.severity == 3);
  // @timestamp is listed before time: it wins, and time is given back as a field.
  CHECK(p.event.timestamp_ns == 1795341600000000000);
  CHECK(p.value_of(batch, "time") == "2020-01-01T00:00:00Z");
  CHECK(p.value_of(batch, "@timestamp") == "<absent>");
}

TEST_CASE("configured keys and timestamp formats") {
  sluice::config::JsonMappingOptions options;
  options.message_keys = {"text"};
  options.host_keys = {"source.host"};
  options.app_keys = {"component"};
  options.timestamp_keys = {"when"};
  options.timestamp_format = "%d/%b/%Y:%H:%M:%S %z";
  JsonEventParser parser(options);
  REQUIRE(parser.mapping_error().empty());
  EventBatch batch;
  std::string text =
      R"({"message":"not the message","text":"the message","source":{"host":"h1"},"component":"c1",)"
      R"("when":"22/Nov/2026:11:00:00 +0100"})";
  Parsed p = parse(parser, batch, text);
  REQUIRE(p.error.empty());
  CHECK(p.event.message == "the message");
  CHECK(p.value_of(batch, "message") == "not the message");
  CHECK(p.event.host == "h1");
  CHECK(p.event.app == "c1");
  CHECK(p.event.timestamp_ns == 1795341600000000000);

  for (auto [format, text_value, expected] : {
           std::tuple<std::string, std::string, int64_t>{"unix_ms", R"({"ts":1700000000250})", 1700000000250000000},
           {"unix_ms", R"({"ts":"1700000000250"})", 1700000000250000000},
           {"unix_s", R"({"ts":1700000000.5})", 1700000000500000000},
           {"unix_us", R"({"ts":1700000000250000})", 1700000000250000000},
           {"unix_ns", R"({"ts":1700000000250000001})", 1700000000250000001},
           {"auto", R"({"ts":1700000000250000})", 1700000000250000000},
           {"rfc3339", R"({"ts":"2026-11-22T10:00:00.5Z"})", 1795341600500000000},
       }) {
    sluice::config::JsonMappingOptions o;
    o.timestamp_format = format;
    JsonEventParser configured(o);
    std::string line = text_value;
    Parsed q = parse(configured, batch, line);
    REQUIRE(q.error.empty());
    CHECK_MESSAGE(q.event.timestamp_ns == expected, format << " " << text_value);
  }
  // rfc3339 refuses numbers: kept as a field, the event keeps no time.
  sluice::config::JsonMappingOptions strict;
  strict.timestamp_format = "rfc3339";
  JsonEventParser rfc(strict);
  std::string number = R"({"ts":1700000000})";
  Parsed r = parse(rfc, batch, number);
  CHECK(r.event.timestamp_ns == 0);
  CHECK(r.value_of(batch, "ts") == "1700000000");
}

TEST_CASE("duplicate keys are all kept; a slot takes the first that fits") {
  JsonEventParser parser;
  EventBatch batch;
  std::string text = R"({"user":"a","user":"b","message":"one","message":"two","host":5,"host":"h"})";
  Parsed p = parse(parser, batch, text);
  REQUIRE(p.error.empty());
  CHECK(p.event.message == "one");
  CHECK(p.event.host == "h");
  int users = 0, messages = 0;
  const Field* fields = batch.fields_of(p.event);
  for (uint32_t i = 0; i < p.event.field_count; ++i) {
    if (fields[i].name == "user") ++users;
    if (fields[i].name == "message") {
      ++messages;
      CHECK(fields[i].value == "two");
    }
  }
  CHECK(users == 2);
  CHECK(messages == 1);
  CHECK(p.value_of(batch, "host") == "5");
}

TEST_CASE("a huge string is kept whole; escapes and unicode are decoded") {
  JsonEventParser parser;
  EventBatch batch;
  std::string big(500000, 'x');
  std::string text = R"({"message":")" + big + R"(","u":"caf\u00e9 \ud83d\ude00"})";
  Parsed p = parse(parser, batch, text);
  REQUIRE(p.error.empty());
  CHECK(p.event.message.size() == big.size());
  CHECK(p.value_of(batch, "u") == "caf\xc3\xa9 \xf0\x9f\x98\x80");
}

TEST_CASE("steady state: the parser's buffers are reused") {
  JsonEventParser parser;
  EventBatch batch;
  std::string text = R"({"message":"m","a":{"b":[1,2]},"n":3})";
  for (int i = 0; i < 1000; ++i) {
    batch.clear();
    Parsed p = parse(parser, batch, text);
    REQUIRE(p.error.empty());
    CHECK(p.value_of(batch, "a.b") == "[1,2]");
  }
}
