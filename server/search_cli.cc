#include "server/search_cli.h"

#include <curl/curl.h>
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::server {
namespace {

struct CliOptions {
  std::string query;
  std::string from, to;
  uint64_t limit = 100;
  bool json = false;
  std::string server = "http://127.0.0.1:8080";
};

bool parse_args(const std::vector<std::string>& args, bool tail, CliOptions& out) {
  if (const char* url = std::getenv("SLUICE_URL"); url != nullptr && *url != 0) out.server = url;
  bool have_query = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](const char* name) -> const std::string* {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "sluice: %s needs a value\n", name);
        return nullptr;
      }
      return &args[++i];
    };
    if (arg == "--json") {
      out.json = true;
    } else if (arg == "--server") {
      const std::string* v = value("--server");
      if (v == nullptr) return false;
      out.server = *v;
    } else if (!tail && (arg == "--from" || arg == "--to")) {
      const std::string* v = value(arg.c_str());
      if (v == nullptr) return false;
      (arg == "--from" ? out.from : out.to) = *v;
    } else if (!tail && arg == "--limit") {
      const std::string* v = value("--limit");
      if (v == nullptr) return false;
      char* end = nullptr;
      out.limit = std::strtoull(v->c_str(), &end, 10);
      if (v->empty() || *end != 0 || out.limit == 0) {
        std::fprintf(stderr, "sluice: --limit: '%s' is not a positive number\n", v->c_str());
        return false;
      }
    } else if (!arg.empty() && arg[0] == '-' && arg != "-" && !have_query) {
      std::fprintf(stderr, "sluice: unknown flag '%s' (see 'sluice help')\n", arg.c_str());
      return false;
    } else if (!have_query) {
      out.query = arg;
      have_query = true;
    } else {
      std::fprintf(stderr, "sluice: one QUERY only; quote it: sluice %s 'a b'\n", tail ? "tail" : "search");
      return false;
    }
  }
  while (!out.server.empty() && out.server.back() == '/') out.server.pop_back();
  return true;
}

std::string escape(CURL* curl, const std::string& text) {
  char* escaped = curl_easy_escape(curl, text.c_str(), static_cast<int>(text.size()));
  std::string out = escaped != nullptr ? escaped : "";
  curl_free(escaped);
  return out;
}

size_t collect(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Prints one API event object, as text or as its JSON.
void print_event(simdjson::ondemand::object event, bool json) {
  if (json) {
    std::string_view raw_json;
    if (event.raw_json().get(raw_json) == simdjson::SUCCESS) {
      std::fwrite(raw_json.data(), 1, raw_json.size(), stdout);
      std::fputc('\n', stdout);
    }
    return;
  }
  std::string_view timestamp, host, app, severity, message;
  auto get = [&](const char* key, std::string_view& out) {
    if (event.find_field_unordered(key).get_string().get(out) != simdjson::SUCCESS) out = {};
  };
  get("timestamp", timestamp);
  get("host", host);
  get("app", app);
  get("severity", severity);
  get("message", message);
  std::printf("%.*s %.*s %.*s[%.*s]: %.*s\n", static_cast<int>(timestamp.size()), timestamp.data(),
              static_cast<int>(host.size()), host.data(), static_cast<int>(app.size()), app.data(),
              static_cast<int>(severity.size()), severity.data(), static_cast<int>(message.size()), message.data());
}

// The API's error member, or the body itself.
std::string error_of(const std::string& body) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  std::string_view message;
  if (parser.iterate(padded).get(doc) == simdjson::SUCCESS && doc["error"].get_string().get(message) == simdjson::SUCCESS) {
    return std::string(message);
  }
  return body;
}

}  // namespace

int run_search_command(const std::vector<std::string>& args) {
  CliOptions options;
  if (!parse_args(args, false, options)) return 2;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return 1;
  std::vector<std::string> pages;  // raw bodies, newest page first
  std::string cursor;
  uint64_t remaining = options.limit;
  int rc = 0;
  while (remaining > 0) {
    const uint64_t page_size = std::min<uint64_t>(remaining, 1000);
    std::string url = options.server + "/api/search?q=" + escape(curl, options.query) +
                      "&limit=" + std::to_string(page_size);
    if (!options.from.empty()) url += "&from=" + escape(curl, options.from);
    if (!options.to.empty()) url += "&to=" + escape(curl, options.to);
    if (!cursor.empty()) url += "&cursor=" + escape(curl, cursor);
    std::string body;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    const CURLcode code = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK) {
      std::fprintf(stderr, "sluice: search: %s: %s\n", options.server.c_str(), curl_easy_strerror(code));
      rc = 1;
      break;
    }
    if (status != 200) {
      std::fprintf(stderr, "sluice: search: %s\n", error_of(body).c_str());
      rc = status == 400 ? 2 : 1;
      break;
    }
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(body);
    simdjson::ondemand::document doc;
    uint64_t count = 0;
    std::string_view next;
    bool partial = false;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS || doc["count"].get_uint64().get(count) != simdjson::SUCCESS) {
      std::fprintf(stderr, "sluice: search: the server's answer is not the search API's JSON\n");
      rc = 1;
      break;
    }
    if (doc["partial"].get_bool().get(partial) != simdjson::SUCCESS) partial = false;
    const bool more = doc["next_cursor"].get_string().get(next) == simdjson::SUCCESS;
    if (partial) std::fprintf(stderr, "sluice: search: partial results (the server's search.timeout_ms ran out)\n");
    pages.push_back(std::move(body));
    remaining -= std::min(remaining, count);
    if (!more || count == 0) break;
    cursor = std::string(next);
  }
  curl_easy_cleanup(curl);
  // Oldest first: pages in reverse, each page's events in reverse.
  for (auto page = pages.rbegin(); page != pages.rend(); ++page) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(*page).get(doc) != simdjson::SUCCESS) continue;
    simdjson::dom::array events;
    if (doc["events"].get_array().get(events) != simdjson::SUCCESS) continue;
    std::vector<std::string> lines;
    for (simdjson::dom::element event : events) {
      std::string line = simdjson::minify(event);
      lines.push_back(std::move(line));
    }
    for (auto line = lines.rbegin(); line != lines.rend(); ++line) {
      simdjson::ondemand::parser one;
      simdjson::padded_string padded(*line);
      simdjson::ondemand::document doc;
      simdjson::ondemand::object object;
      if (one.iterate(padded).get(doc) != simdjson::SUCCESS || doc.get_object().get(object) != simdjson::SUCCESS) continue;
      print_event(object, options.json);
    }
  }
  std::fflush(stdout);
  return rc;
}

namespace {

struct TailState {
  std::string buffer;
  bool json = false;
};

// Splits the SSE stream into lines; prints the events of each data line.
size_t on_tail_bytes(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TailState*>(user);
  state->buffer.append(data, size * count);
  size_t start = 0;
  while (true) {
    const size_t end = state->buffer.find('\n', start);
    if (end == std::string::npos) break;
    std::string_view line(state->buffer.data() + start, end - start);
    start = end + 1;
    if (line.starts_with("event: dropped")) {
      std::fprintf(stderr, "sluice: tail: the server dropped events this terminal could not keep up with\n");
    }
    if (!line.starts_with("data: ")) continue;
    line.remove_prefix(6);
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(line);
    simdjson::ondemand::document doc;
    simdjson::ondemand::array events;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS || doc["events"].get_array().get(events) != simdjson::SUCCESS) {
      continue;
    }
    for (auto element : events) {
      simdjson::ondemand::object object;
      if (element.get_object().get(object) == simdjson::SUCCESS) print_event(object, state->json);
    }
    std::fflush(stdout);
  }
  state->buffer.erase(0, start);
  return size * count;
}

}  // namespace

int run_tail_command(const std::vector<std::string>& args) {
  CliOptions options;
  if (!parse_args(args, true, options)) return 2;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return 1;
  const std::string url = options.server + "/api/tail?q=" + escape(curl, options.query);
  TailState state;
  state.json = options.json;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_tail_bytes);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 0L);
  const CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (status != 0 && status != 200) {
    std::fprintf(stderr, "sluice: tail: %s\n", error_of(state.buffer).c_str());
    return status == 400 ? 2 : 1;
  }
  if (code != CURLE_OK) {
    std::fprintf(stderr, "sluice: tail: %s: %s\n", options.server.c_str(), curl_easy_strerror(code));
    return 1;
  }
  return 0;  // the server ended the stream (it is shutting down)
}

}  // namespace sluice::server
