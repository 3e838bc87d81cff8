#include "parsers/json_event.h"

#include <doctest/doctest.h>

#include <string>

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
