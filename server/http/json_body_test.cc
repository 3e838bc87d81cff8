#include "server/http/json_body.h"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using namespace sluice::server;

namespace {

std::vector<std::pair<uint32_t, std::string>> split(std::string_view body, JsonBodyShape shape) {
  std::vector<std::pair<uint32_t, std::string>> out;
  split_json_body(body, shape, [&](uint32_t n, std::string_view text) { out.emplace_back(n, std::string(text)); });
  return out;
}

using Records = std::vector<std::pair<uint32_t, std::string>>;

}  // namespace

TEST_CASE("content types") {
  for (const char* ok : {"", "application/json", "application/json; charset=utf-8", "application/x-ndjson",
                         "Application/NDJSON", "application/jsonl", "application/vnd.api+json", "text/plain",
                         "application/x-www-form-urlencoded", "application/octet-stream"}) {
    CHECK_MESSAGE(json_content_type_allowed(ok), ok);
  }
  for (const char* bad : {"text/html", "multipart/form-data; boundary=x", "application/xml", "image/png"}) {
    CHECK_MESSAGE(!json_content_type_allowed(bad), bad);
  }
}

TEST_CASE("shape by content type and first byte") {
  CHECK(detect_json_body_shape("application/json", "  [{\"a\":1}]") == JsonBodyShape::kArray);
  CHECK(detect_json_body_shape("", "{\"a\":1}") == JsonBodyShape::kObject);
  CHECK(detect_json_body_shape("", "{\n  \"a\": {\"b\": \"}\"}\n}\n") == JsonBodyShape::kObject);
  CHECK(detect_json_body_shape("", "{\"a\":1}\n{\"a\":2}\n") == JsonBodyShape::kNdjson);
  CHECK(detect_json_body_shape("application/x-ndjson", "[1]\n{\"a\":2}") == JsonBodyShape::kNdjson);
  CHECK(detect_json_body_shape("application/x-ndjson", "{\"a\":1}") == JsonBodyShape::kNdjson);
  CHECK(detect_json_body_shape("", "{\"a\":\n{\"b\":1}\n") == JsonBodyShape::kNdjson);
  CHECK(detect_json_body_shape("", "{\"a\":1") == JsonBodyShape::kObject);
  CHECK(detect_json_body_shape("", "garbage\n{\"a\":1}") == JsonBodyShape::kNdjson);
}

TEST_CASE("NDJSON: line numbers, CRLF, blank lines") {
  CHECK(split("{\"a\":1}\r\n\r\n  \n{\"a\":2}\n{bad", JsonBodyShape::kNdjson) ==
        Records{{1, "{\"a\":1}"}, {4, "{\"a\":2}"}, {5, "{bad"}});
}

TEST_CASE("arrays: element index + 1, strings and nesting respected") {
  CHECK(split(R"( [ {"a":"x,]y"} , {"b":[1,{"c":2}]},{"d":"\"]"} ] )", JsonBodyShape::kArray) ==
        Records{{1, R"({"a":"x,]y"})"}, {2, R"({"b":[1,{"c":2}]})"}, {3, R"({"d":"\"]"})"}});
  CHECK(split("[]", JsonBodyShape::kArray).empty());
  CHECK(split("[ ]", JsonBodyShape::kArray).empty());
  CHECK(split("[{\"a\":1},,2]", JsonBodyShape::kArray) == Records{{1, "{\"a\":1}"}, {2, ""}, {3, "2"}});
  // Unterminated: the last element as it is; trailing bytes one more record.
  CHECK(split("[{\"a\":1},{\"b\":", JsonBodyShape::kArray) == Records{{1, "{\"a\":1}"}, {2, "{\"b\":"}});
  CHECK(split("[{\"a\":1}] x", JsonBodyShape::kArray) == Records{{1, "{\"a\":1}"}, {2, "x"}});
}

TEST_CASE("one object spanning lines") {
  CHECK(split("\n{\n \"a\": 1\n}\n", JsonBodyShape::kObject) == Records{{1, "{\n \"a\": 1\n}"}});
}
