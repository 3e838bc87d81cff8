// Grok conformance: tests/data/grok/cases.jsonl (Logstash legacy-mode spec
// examples, see its README.md) run through GrokProcessor as one
// table-driven test, plus a check that every legacy pattern name compiles.
//
// Each case starts as an event whose message slot is the input. The
// observed value of a field is its slot (if non-empty) followed by every
// field of that name, in order, so Logstash's "message": [input, rest] is the
// slot plus one field. A JSON number expects FieldType::kInt (integral JSON)
// or kFloat, compared numerically; a JSON string expects kString.
// The test prints "grok cases.jsonl: N/271 pass" and each failure's reason.

#include <doctest/doctest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/grok.h"
#include "parsers/grok_patterns.h"
#include "parsers/grok_processor.h"

#ifndef SLUICE_TEST_DATA_DIR
#error                                                                         \
    "SLUICE_TEST_DATA_DIR must name tests/data (set in parsers/CMakeLists.txt)"
#endif

namespace sluice::parsers {
namespace {

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Value {
  std::string text;
  FieldType type;
};

std::vector<Value> values_of(const Event &event, const EventBatch &batch,
                             std::string_view name) {
  std::vector<Value> out;
  std::string_view slot;
  if (name == "message")
    slot = event.message;
  if (name == "host")
    slot = event.host;
  if (name == "app")
    slot = event.app;
  if (!slot.empty())
    out.push_back({std::string(slot), FieldType::kString});
  const Field *fields = batch.fields_of(event);
  for (uint32_t i = 0; i < event.field_count; ++i) {
    if (fields[i].name == name)
      out.push_back({std::string(fields[i].value), fields[i].type});
  }
  return out;
}

std::string describe(const std::vector<Value> &values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i)
      out += ", ";
    out += "\"" + values[i].text + "\"";
    if (values[i].type == FieldType::kInt)
      out += ":int";
    if (values[i].type == FieldType::kFloat)
      out += ":float";
  }
  return out + "]";
}

// Empty when `actual` agrees with the expected JSON value, else why not.
std::string compare(simdjson::dom::element expected,
                    const std::vector<Value> &actual) {
  using simdjson::dom::element_type;
  switch (expected.type()) {
  case element_type::STRING: {
    std::string_view want = expected.get_string().value();
    if (actual.size() != 1 || actual[0].text != want ||
        actual[0].type != FieldType::kString) {
      return "expected \"" + std::string(want) + "\", got " + describe(actual);
    }
    return {};
  }
  case element_type::INT64:
  case element_type::UINT64: {
    int64_t want = expected.type() == element_type::INT64
                       ? expected.get_int64().value()
                       : static_cast<int64_t>(expected.get_uint64().value());
    if (actual.size() != 1 || actual[0].type != FieldType::kInt ||
        actual[0].text != std::to_string(want)) {
      return "expected int " + std::to_string(want) + ", got " +
             describe(actual);
    }
    return {};
  }
  case element_type::DOUBLE: {
    double want = expected.get_double().value();
    if (actual.size() != 1 || actual[0].type != FieldType::kFloat) {
      return "expected float " + std::to_string(want) + ", got " +
             describe(actual);
    }
    double got = std::strtod(actual[0].text.c_str(), nullptr);
    if (std::fabs(got - want) > 1e-12 * std::max(1.0, std::fabs(want))) {
      return "expected float " + std::to_string(want) + ", got " +
             describe(actual);
    }
    return {};
  }
  case element_type::ARRAY: {
    std::vector<std::string> want;
    for (auto item : expected.get_array())
      want.emplace_back(item.get_string().value());
    bool same = want.size() == actual.size();
    for (size_t i = 0; same && i < want.size(); ++i)
      same = want[i] == actual[i].text;
    if (!same)
      return "expected an array of " + std::to_string(want.size()) + ", got " +
             describe(actual);
    return {};
  }
  default:
    return "unsupported expectation type";
  }
}

struct Outcome {
  std::string id;
  std::string reason; // empty: pass
};

Outcome run_case(simdjson::dom::element c) {
  Outcome outcome;
  outcome.id = std::string(c["id"].get_string().value());
  std::string pattern(c["pattern"].get_string().value());
  std::string input(c["input"].get_string().value());
  bool expect_match = c["expect_match"].get_bool().value();

  config::GrokOptions options;
  options.patterns.push_back({pattern, {}});
  auto processor = GrokProcessor::create(options, PatternLibrary::builtin());
  if (!processor) {
    outcome.reason = "compile: " + processor.error().message();
    return outcome;
  }
  auto scratch = (*processor)->make_scratch();
  EventBatch batch;
  Event event;
  event.message = input;
  EventContext context{event, batch};
  ProcessResult result = (*processor)->process(context, *scratch);
  bool matched = result == ProcessResult::kOk;
  if (matched != expect_match) {
    outcome.reason = expect_match ? "expected a match, got none"
                                  : "expected no match, got one";
    return outcome;
  }

  std::string reasons;
  simdjson::dom::object fields = c["fields"].get_object().value();
  for (auto [key, value] : fields) {
    std::string why = compare(value, values_of(event, batch, key));
    if (!why.empty())
      reasons += " " + std::string(key) + ": " + why + ";";
  }
  simdjson::dom::array absent;
  if (c["absent_fields"].get(absent) == simdjson::SUCCESS) {
    for (auto name : absent) {
      auto got = values_of(event, batch, name.get_string().value());
      if (!got.empty())
        reasons += " " + std::string(name.get_string().value()) +
                   ": expected absent, got " + describe(got) + ";";
    }
  }
  simdjson::dom::array present;
  if (c["present_fields"].get(present) == simdjson::SUCCESS) {
    for (auto name : present) {
      if (values_of(event, batch, name.get_string().value()).empty()) {
        reasons += " " + std::string(name.get_string().value()) +
                   ": expected present;";
      }
    }
  }
  simdjson::dom::object not_equal;
  if (c["fields_not_equal"].get(not_equal) == simdjson::SUCCESS) {
    for (auto [key, value] : not_equal) {
      if (compare(value, values_of(event, batch, key)).empty()) {
        reasons += " " + std::string(key) + ": expected a different value;";
      }
    }
  }
  simdjson::dom::object contain;
  if (c["fields_contain"].get(contain) == simdjson::SUCCESS) {
    for (auto [key, value] : contain) {
      auto got = values_of(event, batch, key);
      for (auto needle : value.get_array()) {
        std::string_view want = needle.get_string().value();
        bool ok = false;
        if (got.size() == 1)
          ok = got[0].text.find(want) != std::string::npos;
        for (size_t i = 0; got.size() > 1 && i < got.size(); ++i)
          ok = ok || got[i].text == want;
        if (!ok)
          reasons += " " + std::string(key) + ": expected to contain \"" +
                     std::string(want) + "\", got " + describe(got) + ";";
      }
    }
  }
  outcome.reason = reasons;
  return outcome;
}

TEST_CASE("grok conformance: tests/data/grok/cases.jsonl") {
  const std::string text =
      read_file(std::string(SLUICE_TEST_DATA_DIR) + "/grok/cases.jsonl");
  REQUIRE(!text.empty());
  simdjson::dom::parser parser;
  std::vector<Outcome> outcomes;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty())
      continue;
    simdjson::dom::element c;
    REQUIRE(parser.parse(line).get(c) == simdjson::SUCCESS);
    outcomes.push_back(run_case(c));
  }
  size_t passed = 0;
  for (const Outcome &o : outcomes)
    passed += o.reason.empty() ? 1 : 0;
  std::printf("grok cases.jsonl: %zu/%zu pass\n", passed, outcomes.size());
  for (const Outcome &o : outcomes) {
    if (!o.reason.empty())
      std::printf("  FAIL %s:%s\n", o.id.c_str(), o.reason.c_str());
  }
  CHECK(outcomes.size() == 271);
  CHECK(passed == outcomes.size());
}

TEST_CASE("grok: every legacy pattern name compiles") {
  const std::string text =
      read_file(std::string(SLUICE_TEST_DATA_DIR) + "/grok/pattern_names.txt");
  REQUIRE(!text.empty());
  std::istringstream lines(text);
  std::string name;
  size_t count = 0;
  while (std::getline(lines, name)) {
    if (name.empty())
      continue;
    ++count;
    auto compiled =
        GrokPattern::compile("%{" + name + "}", PatternLibrary::builtin());
    if (!compiled)
      std::printf("  %s: %s\n", name.c_str(),
                  compiled.error().message().c_str());
    CHECK_MESSAGE(compiled.has_value(), name);
  }
  CHECK(count == 317);
  CHECK(PatternLibrary::builtin().size() == 317);
}

} // namespace
} // namespace sluice::parsers
