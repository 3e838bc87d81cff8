#include "parsers/collectd_event.h"

#include <doctest/doctest.h>

#include <string>

namespace sluice::parsers {
namespace {

std::string padded(std::string text) {
  text.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  return text;
}

std::string_view field(const EventBatch& batch, const Event& event, std::string_view name, FieldType* type = nullptr) {
  for (uint32_t i = 0; i < event.field_count; ++i) {
    const Field& f = batch.fields[event.first_field + i];
    if (f.name == name) {
      if (type) *type = f.type;
      return f.value;
    }
  }
  return "<absent>";
}

TEST_CASE("collectd: a value list becomes one event") {
  const std::string text = padded(
      "{\"values\":[12.5],\"dstypes\":[\"gauge\"],\"dsnames\":[\"value\"],\"time\":1280959128.5,"
      "\"interval\":10.000,\"host\":\"leeloo\",\"plugin\":\"cpu\",\"plugin_instance\":\"0\","
      "\"type\":\"percent\",\"type_instance\":\"idle\"}");
  CollectdParser parser;
  EventBatch batch;
  Event event;
  REQUIRE(parser.parse(text, text.capacity(), batch, event).empty());
  CHECK(event.host == "leeloo");
  CHECK(event.app == "collectd");
  CHECK(event.timestamp_ns == 1280959128'500'000'000);
  CHECK(event.message == "cpu-0/percent-idle value=12.5");
  CHECK(field(batch, event, "plugin") == "cpu");
  CHECK(field(batch, event, "plugin_instance") == "0");
  CHECK(field(batch, event, "type") == "percent");
  CHECK(field(batch, event, "type_instance") == "idle");
  FieldType type = FieldType::kString;
  CHECK(field(batch, event, "values.value", &type) == "12.5");
  CHECK(type == FieldType::kFloat);
  CHECK(field(batch, event, "dstypes.value") == "gauge");
  CHECK(field(batch, event, "interval") == "10");
}

TEST_CASE("collectd: several data sources, empty instances, NaN as null") {
  const std::string text = padded(
      "{\"values\":[0.5,1,null],\"dstypes\":[\"gauge\",\"derive\",\"gauge\"],"
      "\"dsnames\":[\"shortterm\",\"midterm\",\"longterm\"],\"time\":1700000000,\"interval\":1,"
      "\"host\":\"h\",\"plugin\":\"load\",\"plugin_instance\":\"\",\"type\":\"load\",\"type_instance\":\"\"}");
  CollectdParser parser;
  EventBatch batch;
  Event event;
  REQUIRE(parser.parse(text, text.capacity(), batch, event).empty());
  CHECK(event.message == "load/load shortterm=0.5,midterm=1,longterm=nan");
  CHECK(field(batch, event, "plugin_instance") == "<absent>");
  FieldType type = FieldType::kString;
  CHECK(field(batch, event, "values.midterm", &type) == "1");
  CHECK(type == FieldType::kInt);
  CHECK(field(batch, event, "values.longterm") == "<absent>");
  CHECK(field(batch, event, "dstypes.midterm") == "derive");
  CHECK(event.timestamp_ns == int64_t{1700000000} * 1'000'000'000);
}

TEST_CASE("collectd: what is no value list is refused") {
  CollectdParser parser;
  EventBatch batch;
  Event event;
  for (const char* bad : {"[1]", "{\"values\":[1]}", "{\"values\":[1,2],\"dsnames\":[\"a\"]}", "{bad"}) {
    const std::string text = padded(bad);
    CHECK_FALSE(parser.parse(text, text.capacity(), batch, event).empty());
    CHECK(batch.fields.empty());
  }
}

}  // namespace
}  // namespace sluice::parsers
