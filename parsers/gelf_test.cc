#include "parsers/gelf.h"

#include <doctest/doctest.h>

#include <string>

using namespace sluice;
using sluice::parsers::GelfParser;

namespace {

struct Parsed {
  std::string_view error;
  Event event;
  const Field* field(EventBatch& batch, std::string_view name) const {
    const Field* fields = batch.fields_of(event);
    for (uint32_t i = 0; i < event.field_count; ++i) {
      if (fields[i].name == name) return &fields[i];
    }
    return nullptr;
  }
};

// The input string's capacity provides the padding simdjson reads.
Parsed parse(GelfParser& parser, EventBatch& batch, std::string text) {
  static std::string keep;  // outlives the call, as a raw batch does
  keep = std::move(text);
  keep.reserve(keep.size() + simdjson::SIMDJSON_PADDING);
  Parsed parsed;
  parsed.event.first_field = static_cast<uint32_t>(batch.fields.size());
  parsed.error = parser.parse(keep, keep.capacity(), batch, parsed.event);
  return parsed;
}

}  // namespace

TEST_CASE("GELF: a full message maps as Graylog maps it") {
  GelfParser parser;
  EventBatch batch;
  Parsed p = parse(parser, batch,
                   R"({"version":"1.1","host":"web-1","short_message":"user login",)"
                   R"("full_message":"user login\nstack","timestamp":1700000000.25,"level":4,)"
                   R"("_user":"alice","_status":200,"_ratio":0.5,"_ok":true,"_id":"forged",)"
                   R"("facility":"auth"})");
  REQUIRE(p.error.empty());
  CHECK(p.event.host == "web-1");
  CHECK(p.event.message == "user login");
  CHECK(p.event.timestamp_ns == 1'700'000'000'250'000'000);
  CHECK(p.event.severity == 4);
  REQUIRE(p.field(batch, "full_message"));
  CHECK(p.field(batch, "full_message")->value == "user login\nstack");
  CHECK(p.field(batch, "user")->value == "alice");
  CHECK(p.field(batch, "user")->type == FieldType::kString);
  CHECK(p.field(batch, "status")->value == "200");
  CHECK(p.field(batch, "status")->type == FieldType::kInt);
  CHECK(p.field(batch, "ratio")->type == FieldType::kFloat);
  CHECK(p.field(batch, "ok")->type == FieldType::kBool);
  CHECK(p.field(batch, "facility")->value == "auth");
  // Reserved or mapped keys are no fields.
  CHECK(p.field(batch, "id") == nullptr);
  CHECK(p.field(batch, "_id") == nullptr);
  CHECK(p.field(batch, "version") == nullptr);
  CHECK(p.field(batch, "level") == nullptr);
  CHECK(p.field(batch, "timestamp") == nullptr);
  CHECK(p.field(batch, "host") == nullptr);
  CHECK(p.event.field_count == 6);
}

TEST_CASE("GELF: timestamp forms, and none") {
  GelfParser parser;
  EventBatch batch;
  CHECK(parse(parser, batch, R"({"host":"h","short_message":"m","timestamp":1700000000})").event.timestamp_ns ==
        1'700'000'000'000'000'000);
  CHECK(parse(parser, batch, R"({"host":"h","short_message":"m","timestamp":"1700000000.5"})")
            .event.timestamp_ns == 1'700'000'000'500'000'000);
  // No time, or no valid one: left to the caller (the receive time); an
  // unusable value is kept as a field.
  CHECK(parse(parser, batch, R"({"host":"h","short_message":"m"})").event.timestamp_ns == 0);
  Parsed bad = parse(parser, batch, R"({"host":"h","short_message":"m","timestamp":"yesterday"})");
  CHECK(bad.error.empty());
  CHECK(bad.event.timestamp_ns == 0);
  CHECK(bad.field(batch, "timestamp")->value == "yesterday");
  Parsed level = parse(parser, batch, R"({"host":"h","short_message":"m","level":"3"})");
  CHECK(level.event.severity == 3);
  Parsed odd_level = parse(parser, batch, R"({"host":"h","short_message":"m","level":42})");
  CHECK(odd_level.event.severity == kUnknownSeverity);
  CHECK(odd_level.field(batch, "level")->value == "42");
}

TEST_CASE("GELF: invalid objects are refused with a reason and leave no fields") {
  GelfParser parser;
  EventBatch batch;
  CHECK(parse(parser, batch, "{not json").error == "GELF: invalid JSON");
  CHECK(parse(parser, batch, "[1,2]").error == "GELF: not a JSON object");
  CHECK(parse(parser, batch, R"({"short_message":"m","_a":1})").error == "GELF: missing host");
  CHECK(parse(parser, batch, R"({"host":"","short_message":"m"})").error == "GELF: missing host");
  CHECK(parse(parser, batch, R"({"host":"h","_a":1})").error == "GELF: missing short_message");
  CHECK(parse(parser, batch, R"({"host":"h","short_message":"  "})").error == "GELF: missing short_message");
  CHECK(parse(parser, batch, R"({"host":7,"short_message":"m"})").error == "GELF: host is not a string");
  CHECK(batch.fields.empty());
  // Graylog takes `message` when short_message is absent.
  Parsed fallback = parse(parser, batch, R"({"host":"h","message":"from message"})");
  CHECK(fallback.error.empty());
  CHECK(fallback.event.message == "from message");
  CHECK(fallback.event.field_count == 0);
}

TEST_CASE("GELF: a failure keeps the raw text as the message, flagged") {
  EventBatch batch;
  Event event;
  event.first_field = 0;
  parsers::mark_gelf_failure("{broken", "GELF: invalid JSON", event, batch);
  CHECK((event.flags & kFlagParseFailure) != 0);
  CHECK(event.message == "{broken");
  REQUIRE(event.field_count == 1);
  CHECK(batch.fields[0].name == "gelf_error");
}

TEST_CASE("GELF: a reused parser and batch do not allocate fields anew") {
  GelfParser parser;
  EventBatch batch;
  for (int round = 0; round < 3; ++round) {
    batch.clear();
    Parsed p = parse(parser, batch, R"({"host":"h","short_message":"m","_k":"v"})");
    CHECK(p.error.empty());
    CHECK(p.event.first_field == 0);
    CHECK(p.field(batch, "k")->value == "v");
  }
}
