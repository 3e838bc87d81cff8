#include "server/http/es_bulk.h"

#include <charconv>
#include <cstdio>

#include "server/http/json_writer.h"

namespace sluice::server {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    bool match = true;
    for (size_t j = 0; j < needle.size() && match; ++j) {
      char a = haystack[i + j];
      if (a >= 'A' && a <= 'Z') a = static_cast<char>(a + 32);
      match = a == needle[j];
    }
    if (match) return true;
  }
  return false;
}

bool read_plain_string(std::string_view line, size_t& pos, std::string_view& out) {
  if (pos >= line.size() || line[pos] != '"') return false;
  const size_t start = ++pos;
  while (pos < line.size() && line[pos] != '"') {
    const auto c = static_cast<unsigned char>(line[pos]);
    if (c < 0x20 || c >= 0x7f || c == '\\') return false;
    ++pos;
  }
  if (pos >= line.size()) return false;
  out = line.substr(start, pos - start);
  ++pos;
  return true;
}

// Next line of `body` from `pos`, without its line end; advances `pos`.
bool next_line(std::string_view body, size_t& pos, std::string_view& line) {
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    line = body.substr(pos, end - pos);
    pos = end + 1;
    if (!trim(line).empty()) return true;
  }
  return false;
}

}  // namespace

bool parse_plain_action(std::string_view line, PlainAction& out) {
  size_t pos = 1;
  if (line.empty() || line[0] != '{' || !read_plain_string(line, pos, out.action) ||
      line.substr(pos, 2) != ":{") {
    return false;
  }
  pos += 2;
  if (pos < line.size() && line[pos] == '}') {
    ++pos;
  } else {
    while (true) {
      std::string_view key, value;
      if (!read_plain_string(line, pos, key) || pos >= line.size() || line[pos++] != ':' ||
          !read_plain_string(line, pos, value) || pos >= line.size()) {
        return false;
      }
      if (key == "_index" && !out.has_index) {
        out.index = value;
        out.has_index = true;
      } else if (key == "_id" && !out.has_id) {
        out.id = value;
        out.has_id = true;
      }
      const char next = line[pos++];
      if (next == '}') break;
      if (next != ',') return false;
    }
  }
  return pos + 1 == line.size() && line[pos] == '}';
}

void write_made_up_id(const BulkItem& item, char (&out)[kMadeUpIdLength]) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint64_t high = static_cast<uint64_t>(item.id_time_ns);
  uint64_t low = item.seq_no;
  for (int i = 19; i >= 10; --i, low >>= 6) out[i] = kAlphabet[low & 63];
  for (int i = 9; i >= 0; --i, high >>= 6) out[i] = kAlphabet[high & 63];
}

std::string item_id(const BulkItem& item) {
  if (!item.id.empty()) return item.id;
  char made_up[kMadeUpIdLength];
  write_made_up_id(item, made_up);
  return std::string(made_up, kMadeUpIdLength);
}

BulkParse parse_bulk_body(std::string_view body, std::string_view path_index, size_t max_document_bytes,
                          int64_t received_ns, uint64_t& next_seq, simdjson::dom::parser& parser,
                          RawBatch& batch) {
  BulkParse result;
  std::string document;
  size_t pos = 0;
  size_t line_number = 0;
  std::string_view line;
  while (next_line(body, pos, line)) {
    ++line_number;
    BulkItem item;
    PlainAction simple;
    if (parse_plain_action(trim(line), simple)) {
      item.action = simple.action;
      if (simple.has_index) item.index = simple.index;
      if (simple.has_id) item.id = simple.id;
    } else {
      simdjson::dom::element root;
      simdjson::dom::object action_object;
      if (parser.parse(line).get(root) || root.get_object().get(action_object) || action_object.size() != 1) {
        result.error = "Malformed action/metadata line [" + std::to_string(line_number) +
                       "], expected a JSON object with one action";
        return result;
      }
      const auto member = *action_object.begin();
      item.action = std::string(member.key);
      simdjson::dom::object meta;
      if (member.value.get_object().get(meta)) {
        result.error = "Malformed action/metadata line [" + std::to_string(line_number) + "], expected an object";
        return result;
      }
      std::string_view text;
      if (!meta["_index"].get_string().get(text)) item.index = std::string(text);
      simple.has_id = !meta["_id"].get_string().get(text);
      if (simple.has_id) item.id = std::string(text);
    }
    const bool has_id = simple.has_id;
    if (item.index.empty()) item.index = std::string(path_index);
    item.seq_no = next_seq++;
    item.id_time_ns = received_ns;

    const bool takes_document = item.action == "index" || item.action == "create" || item.action == "update";
    if (!takes_document && item.action != "delete") {
      result.error = "Malformed action/metadata line [" + std::to_string(line_number) +
                     "], expected one of [create, delete, index, update] but found [" + item.action + "]";
      return result;
    }
    std::string_view doc;
    if (takes_document) {
      if (!next_line(body, pos, doc)) {
        result.error = "The bulk request must have a document after the action on line [" +
                       std::to_string(line_number) + "]";
        return result;
      }
      ++line_number;
    }
    if (item.action == "delete" || item.action == "update") {
      item.status = 400;
      item.error_type = "illegal_argument_exception";
      item.error_reason = item.action + " is not supported by sluice: events are immutable";
    } else if (item.index.empty()) {
      item.status = 400;
      item.error_type = "action_request_validation_exception";
      item.error_reason = "Validation Failed: 1: index is missing;";
    } else {
      // The index (and the client's id) become the document's first members.
      doc = trim(doc);
      document.clear();
      if (!doc.empty() && doc.front() == '{') {
        document = "{\"_index\":";
        append_json_string(document, item.index);
        if (has_id) {
          document += ",\"_id\":";
          append_json_string(document, item.id);
        }
        std::string_view rest = doc.substr(1);
        if (!trim(rest).starts_with("}")) document.push_back(',');
        document.append(rest);
      } else {
        document.assign(doc);  // not an object: the parser refuses it
      }
      const bool too_long = document.size() > max_document_bytes;
      if (too_long) {
        ++result.truncated;
        document.resize(max_document_bytes);
      }
      item.record = static_cast<int32_t>(batch.records.size());
      batch.append(document, "", InputId::kEsBulk, RecordFormat::kJson, too_long, received_ns);
    }
    result.items.push_back(std::move(item));
  }
  if (result.items.empty()) result.error = "Validation Failed: 1: no requests added;";
  return result;
}

std::string build_bulk_response(const std::vector<BulkItem>& items, const std::vector<RecordError>& rejected,
                                int64_t took_ms) {
  // Reasons by record index.
  std::vector<std::string_view> reasons;
  for (const RecordError& error : rejected) {
    if (reasons.size() <= error.record_index) reasons.resize(error.record_index + 1);
    reasons[error.record_index] = error.reason.empty() ? std::string_view("rejected") : error.reason;
  }
  std::string out;
  out.reserve(64 + items.size() * 220);
  bool errors = false;
  std::string body;
  body.reserve(items.size() * 220);
  char made_up_id[kMadeUpIdLength];
  for (size_t i = 0; i < items.size(); ++i) {
    const BulkItem& item = items[i];
    std::string_view reason;
    if (item.record >= 0 && static_cast<size_t>(item.record) < reasons.size()) reason = reasons[item.record];
    const bool failed = item.record < 0 || !reason.empty();
    errors = errors || failed;
    if (i != 0) body.push_back(',');
    body += "{";
    append_json_string(body, item.action);
    body += ":{\"_index\":";
    append_json_string(body, item.index);
    body += ",\"_id\":";
    if (item.id.empty()) {
      write_made_up_id(item, made_up_id);
      body.push_back('"');
      body.append(made_up_id, kMadeUpIdLength);
      body.push_back('"');
    } else {
      append_json_string(body, item.id);
    }
    if (failed) {
      const int status = item.record < 0 ? item.status : 400;
      const std::string_view type = item.record < 0 ? std::string_view(item.error_type) : "mapper_parsing_exception";
      const std::string reason_text =
          item.record < 0 ? item.error_reason : "failed to parse: " + std::string(reason);
      body += ",\"status\":" + std::to_string(status) + ",\"error\":{\"type\":";
      append_json_string(body, type);
      body += ",\"reason\":";
      append_json_string(body, reason_text);
      body += "}}}";
    } else {
      body += ",\"_version\":1,\"result\":\"created\",\"_shards\":{\"total\":1,\"successful\":1,\"failed\":0}"
              ",\"_seq_no\":";
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof digits, item.seq_no).ptr;
      body.append(digits, end);
      body += ",\"_primary_term\":1,\"status\":201}}";
    }
  }
  out += "{\"took\":" + std::to_string(took_ms) + ",\"errors\":" + (errors ? "true" : "false") + ",\"items\":[";
  out += body;
  out += "]}\n";
  return out;
}

std::string es_error_body(int status, std::string_view type, std::string_view reason) {
  std::string cause = "{\"type\":";
  append_json_string(cause, type);
  cause += ",\"reason\":";
  append_json_string(cause, reason);
  cause += "}";
  std::string out = "{\"error\":{\"root_cause\":[" + cause + "],";
  out += cause.substr(1, cause.size() - 2);
  out += "},\"status\":" + std::to_string(status) + "}\n";
  return out;
}

std::string es_info_body(std::string_view node_name) {
  std::string out = "{\"name\":";
  append_json_string(out, node_name);
  out +=
      ",\"cluster_name\":\"sluice\",\"cluster_uuid\":\"c2x1aWNlLXNsdWljZS1zbA\","
      "\"version\":{\"number\":\"8.11.0\",\"build_flavor\":\"default\",\"build_type\":\"sluice\","
      "\"build_hash\":\"sluice\",\"build_date\":\"2023-11-04T10:04:57.184859352Z\",\"build_snapshot\":false,"
      "\"lucene_version\":\"9.8.0\",\"minimum_wire_compatibility_version\":\"7.17.0\","
      "\"minimum_index_compatibility_version\":\"7.0.0\"},\"tagline\":\"You Know, for Search\"}\n";
  return out;
}

bool looks_like_es_client(std::string_view accept, std::string_view user_agent, bool has_client_meta) {
  if (has_client_meta) return true;
  if (contains_ci(accept, "text/html")) return false;
  if (contains_ci(accept, "json")) return true;
  static constexpr std::string_view kShippers[] = {"elasticsearch", "elastic-", "beat", "vector/", "fluent",
                                                   "logstash", "opensearch"};
  for (std::string_view shipper : kShippers) {
    if (contains_ci(user_agent, shipper)) return true;
  }
  return false;
}

bool is_bulk_content_type(std::string_view content_type) {
  return content_type.empty() || contains_ci(content_type, "ndjson") || contains_ci(content_type, "json");
}

}  // namespace sluice::server
