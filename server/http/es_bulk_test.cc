#include "server/http/es_bulk.h"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

namespace sluice::server {
namespace {

struct Parsed {
  RawBatch batch;
  BulkParse result;
};

Parsed parse(std::string_view body, std::string_view path_index = "", size_t max_bytes = 1 << 16) {
  Parsed out;
  uint64_t seq = 7;
  simdjson::dom::parser parser;
  out.result = parse_bulk_body(body, path_index, max_bytes, 1000, seq, parser, out.batch);
  return out;
}

simdjson::dom::element parse_json(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element root;
  REQUIRE_FALSE(parser.parse(text).get(root));
  return root;
}

TEST_CASE("es bulk: index and create take the next line; _index from the action or the path") {
  const std::string body =
      "{\"index\":{\"_index\":\"logs-a\",\"_id\":\"x1\"}}\n"
      "{\"message\":\"one\",\"host\":{\"name\":\"h\"}}\n"
      "{\"create\":{}}\r\n"
      "{ }\n"
      "\n";
  Parsed p = parse(body, "from-path");
  REQUIRE(p.result.error.empty());
  REQUIRE(p.result.items.size() == 2);
  REQUIRE(p.batch.records.size() == 2);
  CHECK(p.result.items[0].action == "index");
  CHECK(p.result.items[0].index == "logs-a");
  CHECK(p.result.items[0].id == "x1");
  CHECK(p.result.items[0].record == 0);
  CHECK(p.result.items[0].seq_no == 7);
  CHECK(p.batch.frame(p.batch.records[0]) ==
        "{\"_index\":\"logs-a\",\"_id\":\"x1\",\"message\":\"one\",\"host\":{\"name\":\"h\"}}");
  CHECK(p.batch.records[0].input == InputId::kEsBulk);
  CHECK(p.batch.records[0].format == RecordFormat::kJson);
  CHECK(p.result.items[1].action == "create");
  CHECK(p.result.items[1].index == "from-path");
  CHECK(p.result.items[1].id.empty());  // made up for the answer
  CHECK(item_id(p.result.items[0]) == "x1");
  CHECK(item_id(p.result.items[1]).size() == 20);
  BulkItem next = p.result.items[1];
  ++next.seq_no;
  CHECK(item_id(p.result.items[1]) != item_id(next));
  CHECK(p.result.items[1].seq_no == 8);
  CHECK(p.batch.frame(p.batch.records[1]) == "{\"_index\":\"from-path\" }");
}

TEST_CASE("es bulk: delete and update are refused per item, the batch goes on") {
  const std::string body =
      "{\"delete\":{\"_index\":\"i\",\"_id\":\"1\"}}\n"
      "{\"update\":{\"_index\":\"i\",\"_id\":\"2\"}}\n"
      "{\"doc\":{\"a\":1}}\n"
      "{\"index\":{\"_index\":\"i\"}}\n"
      "{\"message\":\"kept\"}\n"
      "{\"index\":{}}\n"
      "{\"message\":\"no index\"}\n";
  Parsed p = parse(body);
  REQUIRE(p.result.error.empty());
  REQUIRE(p.result.items.size() == 4);
  CHECK(p.batch.records.size() == 1);
  CHECK(p.result.items[0].record == -1);
  CHECK(p.result.items[0].status == 400);
  CHECK(p.result.items[1].record == -1);
  CHECK(p.result.items[2].record == 0);
  CHECK(p.result.items[3].record == -1);
  CHECK(p.result.items[3].error_type == "action_request_validation_exception");
}

TEST_CASE("es bulk: malformed requests fail as a whole") {
  CHECK_FALSE(parse("not json\n{}\n").result.error.empty());
  CHECK_FALSE(parse("{\"index\":{},\"create\":{}}\n{}\n").result.error.empty());
  CHECK_FALSE(parse("{\"upsert\":{}}\n{}\n").result.error.empty());
  CHECK_FALSE(parse("{\"index\":{\"_index\":\"i\"}}\n").result.error.empty());  // no document
  CHECK_FALSE(parse("\n\n").result.error.empty());                              // no requests
}

TEST_CASE("es bulk: action lines read the same on the fast path as by simdjson") {
  // Compact lines take the fast path; the same with spaces is read by
  // simdjson. Both must give the same items, or the same refusal.
  const std::vector<std::pair<std::string, std::string>> lines = {
      {R"({"index":{}})", R"({ "index" : { } })"},
      {R"({"create":{"_index":"logs-2026.12.02"}})", R"({"create": {"_index": "logs-2026.12.02"}})"},
      {R"({"index":{"_id":"a-1","_index":"x"}})", R"({"index": {"_id": "a-1", "_index": "x"}})"},
      {R"({"index":{"_type":"_doc","_index":"x","_index":"y"}})", R"({"index": {"_type": "_doc", "_index": "x", "_index": "y"}})"},
      {R"({"index":{"_index":""}})", R"({"index": {"_index": ""}})"},
      {R"({"index":{"_index":"café"}})", R"({"index": {"_index": "café"}})"},
      {R"({"index":{"_index":"a"b"}})", R"({"index": {"_index": "a"b"}})"},
      {R"({"index":{"_index":7,"_id":"n"}})", R"({"index": {"_index": 7, "_id": "n"}})"},
      {R"({"delete":{"_index":"i","_id":"1"}})", R"({"delete": {"_index": "i", "_id": "1"}})"},
      {R"({"upsert":{}})", R"({"upsert": {}})"},
      {R"({"index":{},"create":{}})", R"({"index": {}, "create": {}})"},
      {R"({"index":"x"})", R"({"index": "x"})"},
      {R"({"index":{"_index":"a"}}})", R"({"index": {"_index": "a"}}})"},
      {R"({"index":{"_index":"a"})", R"({"index": {"_index": "a"})"},
      {R"({"index":{"_index":"a",}})", R"({"index": {"_index": "a",}})"},
  };
  for (size_t k = 0; k < lines.size(); ++k) {
    const auto& [compact, spaced] = lines[k];
    CAPTURE(compact);
    // Escapes, numbers and broken lines need simdjson.
    const bool plain_form = k < 5 || compact.starts_with(R"({"delete")") || compact.starts_with(R"({"upsert")");
    PlainAction plain;
    CHECK(parse_plain_action(compact, plain) == plain_form);
    CHECK_FALSE(parse_plain_action(spaced, plain));
    Parsed fast = parse(compact + "\n{\"message\":\"m\"}\n", "path");
    Parsed slow = parse(spaced + "\n{\"message\":\"m\"}\n", "path");
    CHECK(fast.result.error.empty() == slow.result.error.empty());
    REQUIRE(fast.result.items.size() == slow.result.items.size());
    for (size_t i = 0; i < fast.result.items.size(); ++i) {
      const BulkItem& a = fast.result.items[i];
      const BulkItem& b = slow.result.items[i];
      CHECK(a.action == b.action);
      CHECK(a.index == b.index);
      CHECK(a.id == b.id);
      CHECK(a.record == b.record);
      CHECK(a.status == b.status);
    }
    REQUIRE(fast.batch.records.size() == slow.batch.records.size());
    for (size_t r = 0; r < fast.batch.records.size(); ++r) {
      CHECK(fast.batch.frame(fast.batch.records[r]) == slow.batch.frame(slow.batch.records[r]));
    }
  }
}

TEST_CASE("es bulk: an oversize document is truncated and counted") {
  Parsed p = parse("{\"index\":{\"_index\":\"i\"}}\n{\"message\":\"" + std::string(100, 'x') + "\"}\n", "", 40);
  REQUIRE(p.batch.records.size() == 1);
  CHECK(p.batch.records[0].truncated);
  CHECK(p.batch.records[0].length == 40);
  CHECK(p.result.truncated == 1);
}

TEST_CASE("es bulk: the answer lists every item in order, with errors per item") {
  Parsed p = parse(
      "{\"index\":{\"_index\":\"i\",\"_id\":\"a\"}}\n{\"message\":\"ok\"}\n"
      "{\"index\":{\"_index\":\"i\",\"_id\":\"b\"}}\n{bad json\n"
      "{\"delete\":{\"_index\":\"i\",\"_id\":\"c\"}}\n");
  REQUIRE(p.result.items.size() == 3);
  std::vector<RecordError> rejected{{1, "invalid JSON"}};
  const std::string text = build_bulk_response(p.result.items, rejected, 5);
  simdjson::dom::parser parser;
  simdjson::dom::element root = parse_json(parser, text);
  CHECK(int64_t(root["took"]) == 5);
  CHECK(bool(root["errors"]) == true);
  simdjson::dom::array items = root["items"];
  REQUIRE(items.size() == 3);
  auto first = items.at(0)["index"];
  CHECK(std::string_view(first["_id"]) == "a");
  CHECK(int64_t(first["status"]) == 201);
  CHECK(std::string_view(first["result"]) == "created");
  CHECK(int64_t(first["_shards"]["successful"]) == 1);
  CHECK(int64_t(first["_seq_no"]) == 7);
  auto second = items.at(1)["index"];
  CHECK(int64_t(second["status"]) == 400);
  CHECK(std::string_view(second["error"]["type"]) == "mapper_parsing_exception");
  CHECK(std::string_view(second["error"]["reason"]).find("invalid JSON") != std::string_view::npos);
  auto third = items.at(2)["delete"];
  CHECK(int64_t(third["status"]) == 400);

  const std::string clean = build_bulk_response({p.result.items[0]}, {}, 0);
  CHECK(bool(parse_json(parser, clean)["errors"]) == false);
}

TEST_CASE("es bulk: error and info bodies are ES-shaped JSON") {
  simdjson::dom::parser parser;
  auto error = parse_json(parser, es_error_body(404, "index_not_found_exception", "no such index [x]"));
  CHECK(int64_t(error["status"]) == 404);
  CHECK(std::string_view(error["error"]["type"]) == "index_not_found_exception");
  CHECK(std::string_view(error["error"]["root_cause"].at(0)["reason"]) == "no such index [x]");
  auto info = parse_json(parser, es_info_body("n\"1"));
  CHECK(std::string_view(info["version"]["number"]) == "8.11.0");
  CHECK(std::string_view(info["tagline"]) == "You Know, for Search");
  CHECK(std::string_view(info["name"]) == "n\"1");
}

TEST_CASE("es bulk: GET / is the ES root only for programs") {
  CHECK(looks_like_es_client("", "", true));
  CHECK(looks_like_es_client("application/vnd.elasticsearch+json; compatible-with=8", "", false));
  CHECK(looks_like_es_client("application/json", "Go-http-client/1.1", false));
  CHECK(looks_like_es_client("", "Elastic-Filebeat/8.11.0 (linux; amd64)", false));
  CHECK(looks_like_es_client("*/*", "Vector/0.34.0", false));
  CHECK_FALSE(looks_like_es_client("", "Python-urllib/3.11", false));
  CHECK_FALSE(looks_like_es_client("*/*", "curl/7.88.1", false));
  CHECK_FALSE(looks_like_es_client("text/html,application/xhtml+xml,*/*;q=0.8", "Mozilla/5.0", false));
  CHECK(is_bulk_content_type("application/x-ndjson"));
  CHECK(is_bulk_content_type("application/vnd.elasticsearch+x-ndjson; compatible-with=8"));
  CHECK(is_bulk_content_type("application/json; charset=UTF-8"));
  CHECK_FALSE(is_bulk_content_type("text/plain"));
}

}  // namespace
}  // namespace sluice::server
