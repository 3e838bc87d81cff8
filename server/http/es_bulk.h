// The Elasticsearch bulk API's body and answer, without IO: NDJSON action
// and document line pairs in, raw records and per-item results out.
//
// `index` and `create` take the next line as the document; it becomes one
// kJson record (mapped like POST /api/ingest) with the index name spliced in
// as its first member "_index" (and the action's "_id" as "_id", when given),
// so the event keeps them as fields. `delete` and `update` are answered per
// item with a 400 without breaking the batch.
// Thread: any; pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "server/base/raw_batch.h"

namespace sluice::server {

// One action of a bulk request, in request order.
struct BulkItem {
  std::string action;  // "index", "create", "delete", "update"
  std::string index;
  std::string id;      // the client's; empty: made up for the answer (item_id)
  int32_t record = -1; // its record in the batch; -1 when refused at once
  int status = 0;      // for refused items: the HTTP status of the item
  std::string error_type;
  std::string error_reason;
  uint64_t seq_no = 0;
  int64_t id_time_ns = 0;  // the request's receive time, part of a made-up id
};

// The action line as clients write it: {"ACTION":{}} or
// {"ACTION":{"key":"value",...}} with no spaces and printable ASCII
// strings without escapes. Finds the action and the first _index and _id;
// false for anything else, which parse_bulk_body leaves to simdjson (the
// same answer, slower: a bulk request has an action line per document).
struct PlainAction {
  std::string_view action, index, id;
  bool has_index = false, has_id = false;
};
bool parse_plain_action(std::string_view line, PlainAction& out);

// A made-up _id is like Elasticsearch's: 20 URL-safe characters, from the
// request's receive time and the item's seq_no (unique per process).
constexpr size_t kMadeUpIdLength = 20;
void write_made_up_id(const BulkItem& item, char (&out)[kMadeUpIdLength]);
// The item's _id: the client's, or the made-up one.
std::string item_id(const BulkItem& item);

struct BulkParse {
  std::vector<BulkItem> items;
  // Set when the request as a whole is malformed (ES answers 400): an
  // unparsable action line, an unknown action, a missing document.
  std::string error;
  uint64_t truncated = 0;  // documents cut at max_document_bytes
};

// Parses `body` and appends one record per document to `batch` (input
// es_bulk). `path_index` is the <index> of POST /<index>/_bulk, or empty.
// `next_seq` numbers the items (ES's _seq_no) and makes up their ids.
// `parser` parses the action lines (a reused instance).
BulkParse parse_bulk_body(std::string_view body, std::string_view path_index, size_t max_document_bytes,
                          int64_t received_ns, uint64_t& next_seq, simdjson::dom::parser& parser,
                          RawBatch& batch);

// The answer to a bulk request once its batch is stored:
// {"took":N,"errors":B,"items":[{"index":{...,"status":201}}, ...]}.
// `rejected` pairs record indexes with reasons (BatchOutcome::rejected).
std::string build_bulk_response(const std::vector<BulkItem>& items, const std::vector<RecordError>& rejected,
                                int64_t took_ms);

// The answer Elasticsearch gives for a failed request:
// {"error":{"root_cause":[{"type":..,"reason":..}],"type":..,"reason":..},"status":N}.
std::string es_error_body(int status, std::string_view type, std::string_view reason);

// The root document of GET /: cluster info as a client's version check reads it.
std::string es_info_body(std::string_view node_name);

// An ES request from a program rather than a browser: sent by an Elastic
// client (x-elastic-client-meta), asking for JSON, or naming a known
// shipper in its User-Agent. Decides what GET / serves.
bool looks_like_es_client(std::string_view accept, std::string_view user_agent, bool has_client_meta);

// Content types the bulk endpoint takes: NDJSON or JSON, including the
// clients' vendor types (application/vnd.elasticsearch+x-ndjson).
bool is_bulk_content_type(std::string_view content_type);

}  // namespace sluice::server
