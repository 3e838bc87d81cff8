#include "storage/event_codec.h"

#include <doctest/doctest.h>

#include <string>

using namespace sluice;
using namespace sluice::storage;

TEST_CASE("event values round-trip, with slices of raw stored by reference") {
  const std::string raw = "<34>1 2026-11-22T10:00:00Z web-1 sshd 42 - - Failed password";
  std::string unescaped = "value with \"quote\"";
  Field fields[] = {{"procid", std::string_view(raw).substr(raw.find("42"), 2), FieldType::kInt},
                    {"sd.x.y", unescaped}};
  Event event;
  event.timestamp_ns = 1'000;
  event.received_ns = 900;  // received before its own timestamp: clocks differ
  event.raw = raw;
  event.host = std::string_view(raw).substr(raw.find("web-1"), 5);
  event.app = "sshd";  // not a slice: stored inline
  event.message = std::string_view(raw).substr(raw.find("Failed"));
  event.severity = 2;
  event.facility = 4;
  event.flags = kFlagTruncated;
  event.input = InputId::kHttpNdjson;
  event.field_count = 2;

  std::string encoded;
  encode_event_value(event, fields, encoded);
  EventView view;
  view.timestamp_ns = 1'000;
  REQUIRE(decode_event_value(encoded, view));
  CHECK(view.received_ns == 900);
  CHECK(view.raw == raw);
  CHECK(view.host == "web-1");
  CHECK(view.app == "sshd");
  CHECK(view.message == "Failed password");
  CHECK(view.severity == 2);
  CHECK(view.facility == 4);
  CHECK(view.flags == kFlagTruncated);
  CHECK(view.input == static_cast<uint8_t>(InputId::kHttpNdjson));
  REQUIRE(view.fields.size() == 2);
  CHECK(view.fields[0].name == "procid");
  CHECK(view.fields[0].value == "42");
  CHECK(view.fields[0].type == FieldType::kInt);
  CHECK(view.fields[1].type == FieldType::kString);
  CHECK(view.fields[1].value == unescaped);
  // The message is a slice of raw, so it costs a few bytes, not its length.
  std::string copied_message(event.message);
  Event with_copy = event;
  with_copy.message = copied_message;
  std::string encoded_copy;
  encode_event_value(with_copy, fields, encoded_copy);
  CHECK(encoded_copy.size() - encoded.size() + 3 >= copied_message.size());
}

TEST_CASE("corrupt values are rejected, never read out of bounds") {
  Event event;
  event.raw = "hello world";
  event.message = std::string_view(event.raw).substr(6);
  std::string encoded;
  encode_event_value(event, nullptr, encoded);
  EventView view;
  for (size_t cut = 0; cut < encoded.size(); ++cut) {
    CHECK_FALSE(decode_event_value(std::string_view(encoded).substr(0, cut), view));
  }
  std::string wrong_version = encoded;
  wrong_version[0] = 9;
  CHECK_FALSE(decode_event_value(wrong_version, view));
  REQUIRE(decode_event_value(encoded, view));
  CHECK(view.message == "world");
}

TEST_CASE("format version 1 values (no field types) are still read") {
  // Written by hand in the version 1 layout: header, delta 0, raw "ab",
  // host/app/message inline and empty, one field "k"="ab" as a slice of raw.
  const std::string v1 = std::string("\x01\x06\x01\x00\x01", 5) + std::string("\x00", 1) + "\x02" "ab" +
                         std::string("\x00\x00\x00", 3) + "\x01" + "\x02k" + std::string("\x05\x00", 2);
  EventView view;
  REQUIRE(decode_event_value(v1, view));
  CHECK(view.raw == "ab");
  CHECK(view.severity == 6);
  REQUIRE(view.fields.size() == 1);
  CHECK(view.fields[0].name == "k");
  CHECK(view.fields[0].value == "ab");
  CHECK(view.fields[0].type == FieldType::kString);
}

TEST_CASE("format version 2 values (no message_json) are still read") {
  // Written by hand in the version 2 layout: header, delta 0, raw "ab",
  // host/app inline and empty, message "b" as a slice of raw, one field
  // "k"="ab" as a slice of raw, type kInt.
  const std::string v2 = std::string("\x02\x06\x01\x00\x01", 5) + std::string("\x00", 1) + "\x02" "ab" +
                         std::string("\x00\x00", 2) + "\x03\x01" + "\x01" + "\x02k" + std::string("\x05\x00\x01", 3);
  EventView view;
  view.message_json = "left from an earlier decode";
  REQUIRE(decode_event_value(v2, view));
  CHECK(view.message == "b");
  CHECK(view.message_json.empty());
  REQUIRE(view.fields.size() == 1);
  CHECK(view.fields[0].value == "ab");
  CHECK(view.fields[0].type == FieldType::kInt);
}

TEST_CASE("a message's JSON source is kept while the message is the one decoded from it") {
  const std::string raw = R"({"message":"say \"hi\"","n":1})";
  const std::string decoded = "say \"hi\"";
  Event event;
  event.raw = raw;
  event.message = decoded;
  event.message_json = std::string_view(raw).substr(12, 10);
  event.message_json_decoded = event.message;
  REQUIRE(event.json_message() == R"(say \"hi\")");
  std::string encoded;
  encode_event_value(event, nullptr, encoded);
  EventView view;
  REQUIRE(decode_event_value(encoded, view));
  CHECK(view.message == decoded);
  CHECK(view.message_json == R"(say \"hi\")");
  // A slice of raw: the view points into the value's copy of the line.
  CHECK(view.message_json.data() == view.raw.data() + 12);

  // A stage that sets another message (or shortens it) drops the source.
  const std::string changed = "say";
  for (std::string_view message : {std::string_view(changed), std::string_view(event.message).substr(0, 3)}) {
    Event later = event;
    later.message = message;
    CHECK(later.json_message().empty());
    std::string again;
    encode_event_value(later, nullptr, again);
    REQUIRE(decode_event_value(again, view));
    CHECK(view.message == "say");
    CHECK(view.message_json.empty());
  }
}
