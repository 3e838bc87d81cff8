#include "storage/block_codec.h"

#include <doctest/doctest.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <limits>
#include <numeric>
#include <random>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "storage/query.h"
#include "storage/token_filter.h"

using namespace sluice;
using namespace sluice::storage;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// --- owned test events ----------------------------------------------------

// A string of a test event: a slice of its raw line or its own bytes.
struct Text {
  bool slice = false;
  size_t offset = 0;
  size_t length = 0;
  std::string literal;
};

struct TestField {
  std::string name;
  Text value;
  FieldType type = FieldType::kString;
};

struct TestEvent {
  int64_t timestamp_ns = 0;
  int64_t received_ns = 0;
  uint8_t severity = kUnknownSeverity;
  uint8_t facility = kUnknownFacility;
  uint8_t flags = 0;
  uint8_t input = 0;
  std::string raw;
  Text host, app, message;
  Text message_json;  // a slice: the JSON string `message` was decoded from
  std::vector<TestField> fields;

  std::string_view text(const Text& t) const {
    return t.slice ? std::string_view(raw).substr(t.offset, t.length) : std::string_view(t.literal);
  }
  // A view whose slices point into this event's raw line, as a parser's do.
  EventView view() const {
    EventView v;
    v.timestamp_ns = timestamp_ns;
    v.received_ns = received_ns;
    v.severity = severity;
    v.facility = facility;
    v.flags = flags;
    v.input = input;
    v.raw = raw;
    v.host = text(host);
    v.app = text(app);
    v.message = text(message);
    if (message_json.slice) v.message_json = text(message_json);
    for (const TestField& f : fields) v.fields.push_back({f.name, text(f.value), f.type});
    return v;
  }
};

Text literal(std::string s) {
  Text t;
  t.literal = std::move(s);
  return t;
}

Text slice(const std::string& raw, size_t offset, size_t length) {
  REQUIRE(offset + length <= raw.size());
  Text t;
  t.slice = true;
  t.offset = offset;
  t.length = length;
  return t;
}

// Appends `text` to the raw line under construction and returns its slice.
Text put(std::string& raw, std::string_view text) {
  raw.append(text);
  return slice(raw, raw.size() - text.size(), text.size());
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : rng_(seed) {}
  uint64_t below(uint64_t n) { return rng_() % n; }
  uint64_t next() { return rng_(); }
  template <typename T, size_t N>
  const T& pick(const T (&items)[N]) {
    return items[below(N)];
  }
  std::string digits(uint64_t max) { return std::to_string(below(max)); }
  std::string ip() {
    return std::to_string(1 + below(223)) + "." + digits(256) + "." + digits(256) + "." +
           std::to_string(1 + below(254));
  }
  std::string hex(int n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < n; ++i) out += kHex[below(16)];
    return out;
  }
  std::string bytes(size_t n) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(below(256));
    return out;
  }

 private:
  std::mt19937_64 rng_;
};

// --- realistic lines --------------------------------------------------------

constexpr int64_t kBaseSeconds = 1'740'787'200;  // 2025-03-01T00:00:00Z

const char* const kUsers[] = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"};
const char* const kAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 "
    "Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/7.88.1",
    "Go-http-client/1.1",
    "python-requests/2.31.0"};
const char* const kReferrers[] = {"-", "https://shop.example.com/", "https://shop.example.com/cart",
                                  "https://www.google.com/", "https://shop.example.com/products"};
const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string two(int64_t v) {
  std::string out = std::to_string(v);
  if (v < 10) out.insert(out.begin(), '0');
  return out;
}

// Times within the first days of March 2025, which is all the generators use.
std::string rfc3339_micros(int64_t ns) {
  const int64_t micros = ns / 1000;
  const int64_t seconds = micros / 1'000'000 - kBaseSeconds;
  std::string fraction = std::to_string(micros % 1'000'000);
  fraction.insert(0, 6 - fraction.size(), '0');
  return "2025-03-" + two(1 + seconds / 86400) + "T" + two(seconds / 3600 % 24) + ":" + two(seconds / 60 % 60) +
         ":" + two(seconds % 60) + "." + fraction + "Z";
}

std::string clf_time(int64_t ns) {
  const int64_t seconds = ns / 1'000'000'000 - kBaseSeconds;
  return two(1 + seconds / 86400) + "/" + kMonths[2] + "/2025:" + two(seconds / 3600 % 24) + ":" +
         two(seconds / 60 % 60) + ":" + two(seconds % 60) + " +0000";
}

std::string request_path(Rng& rng) {
  switch (rng.below(12)) {
    case 0: return "/";
    case 1: return "/index.html";
    case 2: return "/api/v1/orders";
    case 3: return "/api/v1/orders/" + std::to_string(100000 + rng.below(900000));
    case 4: return "/api/v1/users/" + std::to_string(1 + rng.below(50000));
    case 5: return "/static/js/app." + rng.hex(8) + ".js";
    case 6: return "/static/css/main.css";
    case 7: return "/favicon.ico";
    case 8: return "/login";
    case 9: return "/search?q=item" + rng.digits(5000) + "&page=" + std::to_string(1 + rng.below(9));
    case 10: return "/products/" + std::to_string(1 + rng.below(20000));
    default: return "/wp-login.php";
  }
}

int status_code(Rng& rng) {
  const uint64_t r = rng.below(100);
  return r < 78 ? 200 : r < 84 ? 304 : r < 88 ? 301 : r < 92 ? 404 : r < 95 ? 201 : r < 97 ? 403 : r < 99 ? 500 : 502;
}

// An nginx access line in RFC 5424 framing, parsed as the syslog parser and
// grok's COMBINEDAPACHELOG would: host, app, message and every field are
// slices of the line.
TestEvent access_line(Rng& rng, int64_t timestamp_ns) {
  TestEvent e;
  e.timestamp_ns = timestamp_ns;
  e.severity = 6;
  e.facility = 23;
  e.input = static_cast<uint8_t>(InputId::kSyslogTcp);
  const uint64_t host = 1 + rng.below(20);
  std::string& raw = e.raw;
  raw = "<190>1 " + rfc3339_micros(timestamp_ns) + " ";
  e.host = put(raw, "web-" + two(static_cast<int64_t>(host)));
  raw += ' ';
  e.app = put(raw, "nginx");
  raw += ' ';
  TestField procid{"procid", put(raw, std::to_string(1000 + host * 10 + rng.below(4)))};
  raw += ' ';
  TestField msgid{"msgid", put(raw, "access")};
  raw += " - ";
  const size_t message_at = raw.size();
  e.fields = {procid, msgid, {"clientip", put(raw, rng.ip())}};
  raw += ' ';
  e.fields.push_back({"ident", put(raw, "-")});
  raw += ' ';
  e.fields.push_back({"auth", put(raw, rng.below(10) == 0 ? kUsers[rng.below(10)] : "-")});
  raw += " [";
  e.fields.push_back({"timestamp", put(raw, clf_time(timestamp_ns))});
  raw += "] \"";
  const uint64_t m = rng.below(20);
  e.fields.push_back({"verb", put(raw, m < 15 ? "GET" : m < 18 ? "POST" : m < 19 ? "PUT" : "DELETE")});
  raw += ' ';
  e.fields.push_back({"request", put(raw, request_path(rng))});
  raw += " HTTP/";
  e.fields.push_back({"httpversion", put(raw, rng.below(4) == 0 ? "2.0" : "1.1")});
  raw += "\" ";
  const int status = status_code(rng);
  e.fields.push_back({"response", put(raw, std::to_string(status))});
  raw += ' ';
  e.fields.push_back(
      {"bytes", put(raw, std::to_string(status == 304 || status == 204 ? 0 : 100 + rng.below(250000)))});
  raw += ' ';
  e.fields.push_back({"referrer", put(raw, std::string("\"") + rng.pick(kReferrers) + "\"")});
  raw += ' ';
  e.fields.push_back({"agent", put(raw, std::string("\"") + rng.pick(kAgents) + "\"")});
  e.message = slice(raw, message_at, raw.size() - message_at);
  return e;
}

TestEvent sshd_line(Rng& rng, int64_t timestamp_ns) {
  TestEvent e;
  e.timestamp_ns = timestamp_ns;
  e.facility = 4;
  e.input = static_cast<uint8_t>(InputId::kSyslogUdp);
  std::string& raw = e.raw;
  const uint64_t kind = rng.below(10);
  e.severity = kind < 4 ? 6 : 5;
  raw = "<" + std::to_string(4 * 8 + e.severity) + ">1 " + rfc3339_micros(timestamp_ns) + " ";
  e.host = put(raw, (rng.below(2) ? "app-" : "db-") + two(static_cast<int64_t>(1 + rng.below(20))));
  raw += ' ';
  e.app = put(raw, "sshd");
  raw += ' ';
  e.fields.push_back({"procid", put(raw, std::to_string(2000 + rng.below(60000)))});
  raw += " - - ";
  const size_t message_at = raw.size();
  const std::string user = kUsers[rng.below(10)];
  if (kind < 4) {
    raw += "Accepted publickey for " + user + " from 10." + rng.digits(256) + "." + rng.digits(256) + "." +
           std::to_string(1 + rng.below(254)) + " port " + std::to_string(1024 + rng.below(60000)) +
           " ssh2: ED25519 SHA256:" + rng.hex(43);
  } else if (kind < 8) {
    raw += "Failed password for " + user + " from " + rng.ip() + " port " + std::to_string(1024 + rng.below(60000)) +
           " ssh2";
  } else {
    raw += "Invalid user " + rng.hex(6) + " from " + rng.ip() + " port " + std::to_string(1024 + rng.below(60000));
  }
  e.message = slice(raw, message_at, raw.size() - message_at);
  return e;
}

// An http_ndjson line: raw is the JSON object; host is the peer's address
// (not in the line); strings without escapes are slices, others literals.
TestEvent json_line(Rng& rng, int64_t timestamp_ns) {
  static const char* const kMessages[] = {"order created", "order shipped", "payment retry", "payment declined"};
  static const char* const kCurrencies[] = {"EUR", "USD", "GBP", "CHF"};
  TestEvent e;
  e.timestamp_ns = timestamp_ns;
  e.input = static_cast<uint8_t>(InputId::kHttpNdjson);
  e.host = literal("10.1.0." + std::to_string(1 + rng.below(8)));
  e.app = literal("orders");
  std::string& raw = e.raw;
  raw = "{\"ts\":\"";
  e.fields.push_back({"ts", put(raw, rfc3339_micros(timestamp_ns))});
  raw += "\",\"level\":\"";
  const char* level = rng.below(10) < 8 ? "info" : rng.below(2) ? "warn" : "error";
  e.severity = level[0] == 'i' ? 6 : level[0] == 'w' ? 4 : 3;
  e.fields.push_back({"level", put(raw, level)});
  raw += "\",\"msg\":\"";
  const uint64_t message_kind = rng.below(20);
  if (message_kind == 0) {
    // An escaped string: the parsed value is not in the line.
    raw += "customer said \\\"hi\\\"";
    e.message = literal("customer said \"hi\"");
    e.fields.push_back({"msg", literal("customer said \"hi\"")});
  } else if (message_kind == 1) {
    // The same, but the line's string is named as the message's source
    // (the JSON parser's message_json), as the message key is mapped.
    e.message_json = put(raw, "paid \\\"" + rng.hex(4) + "\\\" by C:\\\\cards\\/" + rng.digits(1000));
    std::string decoded(e.text(e.message_json));
    for (size_t at = 0; (at = decoded.find('\\', at)) != std::string::npos; ++at) decoded.erase(at, 1);
    e.message = literal(decoded);
  } else {
    e.message = put(raw, kMessages[rng.below(4)]);
    e.fields.push_back({"msg", e.message});
  }
  raw += "\",\"order_id\":\"";
  e.fields.push_back({"order_id", put(raw, "ord_" + rng.hex(12))});
  raw += "\",\"customer_id\":";
  e.fields.push_back({"customer_id", put(raw, std::to_string(1 + rng.below(50000))), FieldType::kInt});
  raw += ",\"amount\":";
  const std::string amount = std::to_string(rng.below(2000)) + "." + two(static_cast<int64_t>(rng.below(100)));
  e.fields.push_back({"amount", put(raw, amount), FieldType::kFloat});
  raw += ",\"currency\":\"";
  e.fields.push_back({"currency", put(raw, rng.pick(kCurrencies))});
  raw += "\",\"paid\":";
  e.fields.push_back({"paid", put(raw, rng.below(2) ? "true" : "false"), FieldType::kBool});
  raw += ",\"trace_id\":\"";
  e.fields.push_back({"trace_id", put(raw, rng.hex(32))});
  raw += "\"}";
  return e;
}

// Shapes meant to break things: empty strings, binary bytes, long lines,
// literals everywhere, overlapping and out-of-order slices, many fields
// with repeated names, odd numbers and addresses.
TestEvent odd_event(Rng& rng, int64_t timestamp_ns) {
  TestEvent e;
  e.timestamp_ns = timestamp_ns;
  e.received_ns = static_cast<int64_t>(rng.next());
  e.severity = static_cast<uint8_t>(rng.below(256));
  e.facility = static_cast<uint8_t>(rng.below(256));
  e.flags = static_cast<uint8_t>(rng.below(4));
  e.input = static_cast<uint8_t>(rng.below(6));
  const uint64_t shape = rng.below(8);
  if (shape == 0) return e;  // everything empty
  if (shape == 1) {
    e.raw = rng.below(8) == 0 ? std::string(65536, 'x') + rng.bytes(16) : rng.bytes(rng.below(300));
    e.host = literal(rng.bytes(rng.below(4)));
    e.app = literal("");
    e.message = literal(rng.bytes(rng.below(40)));
    return e;
  }
  e.raw = rng.bytes(1 + rng.below(rng.below(16) == 0 ? 65536 : 200));
  auto random_slice = [&]() {
    const size_t offset = rng.below(e.raw.size() + 1);
    return slice(e.raw, offset, rng.below(e.raw.size() - offset + 1));
  };
  e.host = rng.below(2) ? random_slice() : literal(rng.bytes(rng.below(3)));
  e.app = rng.below(2) ? random_slice() : literal("app" + rng.digits(3));
  e.message = rng.below(2) ? random_slice() : literal(rng.bytes(rng.below(50)));
  static const char* const kNames[] = {"a", "b", "tag", "", "n", "ip", "x.y.z"};
  static const char* const kInts[] = {"0",   "-1",  "42",  "007", "-0", "+5", "9223372036854775807",
                                      "-9223372036854775808", "9223372036854775808", "1e3", ""};
  static const char* const kIps[] = {"0.0.0.0", "255.255.255.255", "10.0.0.1", "01.2.3.4", "1.2.3", "1.2.3.4.5",
                                     "256.1.1.1", "1..2.3"};
  const uint64_t field_count = rng.below(rng.below(8) == 0 ? 60 : 6);
  for (uint64_t f = 0; f < field_count; ++f) {
    TestField field;
    field.name = kNames[rng.below(7)];
    field.type = static_cast<FieldType>(rng.below(4));
    switch (rng.below(5)) {
      case 0: field.value = random_slice(); break;
      case 1: field.value = literal(rng.bytes(rng.below(20))); break;
      case 2: field.value = literal(kInts[rng.below(11)]); break;
      case 3: field.value = literal(kIps[rng.below(8)]); break;
      default: field.value = literal(""); break;
    }
    e.fields.push_back(field);
  }
  return e;
}

// --- checking ---------------------------------------------------------------

std::string describe(const TestEvent& e) { return "event at " + std::to_string(e.timestamp_ns); }

void check_event(const EventView& got, const TestEvent& want, uint32_t columns) {
  INFO(describe(want));
  if (columns & kColTimestamps) CHECK(got.timestamp_ns == want.timestamp_ns);
  if (columns & kColReceived) CHECK(got.received_ns == want.received_ns);
  if (columns & kColAttrs) {
    CHECK(got.severity == want.severity);
    CHECK(got.facility == want.facility);
    CHECK(got.flags == want.flags);
    CHECK(got.input == want.input);
  }
  if (columns & kColHost) CHECK(got.host == want.text(want.host));
  if (columns & kColApp) CHECK(got.app == want.text(want.app));
  if (columns & kColRaw) CHECK(got.raw == want.raw);
  if (columns & kColMessage) CHECK(got.message == want.text(want.message));
  if (columns & kColFields) {
    REQUIRE(got.fields.size() == want.fields.size());
    for (size_t f = 0; f < want.fields.size(); ++f) {
      CHECK(got.fields[f].name == want.fields[f].name);
      CHECK(got.fields[f].value == want.text(want.fields[f].value));
      CHECK(got.fields[f].type == want.fields[f].type);
    }
  }
}

// The block order: by timestamp, ties in insertion order.
std::vector<size_t> sorted_order(const std::vector<TestEvent>& events) {
  std::vector<size_t> order(events.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return events[a].timestamp_ns < events[b].timestamp_ns; });
  return order;
}

struct Encoded {
  std::string block;
  std::string filter;
};

Encoded encode(const std::vector<TestEvent>& events, int level = 3, BlockBuilder* reuse = nullptr) {
  BlockBuilder local;
  BlockBuilder& builder = reuse ? *reuse : local;
  builder.clear();
  for (const TestEvent& e : events) builder.add(e.view());
  Encoded out;
  const Status status = builder.finish(level, FilterSpec{}, out.block, out.filter);
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  return out;
}

void check_block(BlockReader& reader, const std::string& block, const std::vector<TestEvent>& events,
                 uint32_t columns = kColAll) {
  REQUIRE(reader.open(block).is_ok());
  REQUIRE(reader.size() == events.size());
  const Status status = reader.load(columns);
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  const std::vector<size_t> order = sorted_order(events);
  if (!events.empty()) {
    CHECK(reader.min_timestamp() == events[order.front()].timestamp_ns);
    CHECK(reader.max_timestamp() == events[order.back()].timestamp_ns);
  }
  EventView view;
  // Newest first, as a search scans.
  for (size_t i = events.size(); i-- > 0;) {
    reader.decode(static_cast<uint32_t>(i), view);
    check_event(view, events[order[i]], columns);
    if (columns & kColTimestamps) CHECK(reader.timestamp(static_cast<uint32_t>(i)) == events[order[i]].timestamp_ns);
  }
  if (columns != kColAll || reader.part_count() == 1) return;
  // Each part alone, last first as a search reads them, in a reader that
  // just decoded the whole block; then the whole block again.
  CHECK(reader.part_count() <= kMaxFilterParts);
  uint32_t covered = 0;
  for (uint32_t part = reader.part_count(); part-- > 0;) {
    INFO("part " << part);
    const auto [first, last] = reader.part_events(part);
    REQUIRE(first < last);
    covered += last - first;
    REQUIRE(reader.open(block).is_ok());
    const Status loaded = reader.load_part(kColAll, part);
    REQUIRE_MESSAGE(loaded.is_ok(), loaded.message());
    CHECK(reader.raw_range() == std::pair{first, last});
    // Asked again, the part is there already: nothing more is rebuilt.
    REQUIRE(reader.load_part(kColAll, part).is_ok());
    CHECK(reader.raw_range() == std::pair{first, last});
    for (uint32_t i = last; i-- > first;) {
      reader.decode(i, view);
      check_event(view, events[order[i]], columns);
    }
  }
  CHECK(covered == events.size());
  REQUIRE(reader.load(kColAll).is_ok());
  CHECK(reader.raw_range() == std::pair{uint32_t{0}, static_cast<uint32_t>(events.size())});
  reader.decode(0, view);
  check_event(view, events[order[0]], columns);
  // A part of a block loaded whole is served from it.
  REQUIRE(reader.load_part(kColAll, reader.part_count() - 1).is_ok());
  CHECK(reader.raw_range() == std::pair{uint32_t{0}, static_cast<uint32_t>(events.size())});
}

std::vector<TestEvent> mixed_events(size_t count, uint64_t seed) {
  Rng rng(seed);
  std::vector<TestEvent> events;
  int64_t now = (kBaseSeconds + 3600) * 1'000'000'000;
  int64_t received = now;
  for (size_t i = 0; i < count; ++i) {
    now += static_cast<int64_t>(1 + rng.below(1000)) * 1000;
    // Out of order: senders' clocks differ, and some events are late.
    int64_t timestamp = now;
    const uint64_t r = rng.below(100);
    if (r < 5) timestamp -= static_cast<int64_t>(rng.below(10'000'000'000));
    if (r == 5) timestamp = -static_cast<int64_t>(rng.below(4'000'000'000'000'000'000));  // before 1970
    if (r == 6 && i > 0) timestamp = events.back().timestamp_ns;                          // a tie
    if (rng.below(8) == 0) received = now + static_cast<int64_t>(rng.below(2'000'000));
    const uint64_t kind = rng.below(100);
    TestEvent e = kind < 45   ? access_line(rng, std::max<int64_t>(timestamp, kBaseSeconds * 1'000'000'000))
                  : kind < 60 ? sshd_line(rng, std::max<int64_t>(timestamp, kBaseSeconds * 1'000'000'000))
                  : kind < 85 ? json_line(rng, std::max<int64_t>(timestamp, kBaseSeconds * 1'000'000'000))
                              : odd_event(rng, timestamp);
    e.timestamp_ns = timestamp;  // the line's text may say otherwise; the codec does not care
    if (kind < 85) e.received_ns = received;
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace

TEST_CASE("blocks round-trip 10k events of every shape, in time order") {
  const std::vector<TestEvent> events = mixed_events(10'000, 1);
  const Encoded encoded = encode(events);
  BlockReader reader;
  check_block(reader, encoded.block, events);
}

TEST_CASE("blocks round-trip at every level and in small blocks; readers and builders are reused") {
  const std::vector<TestEvent> events = mixed_events(3'000, 2);
  BlockBuilder builder;
  BlockReader reader;
  for (int level : {-5, 1, 3, 9, 19}) {
    INFO("level " << level);
    const Encoded encoded = encode(events, level, &builder);
    check_block(reader, encoded.block, events);
  }
  for (size_t size : {size_t{0}, size_t{1}, size_t{2}, size_t{7}, size_t{100}}) {
    INFO("size " << size);
    for (size_t start = 0; start + size <= 700; start += 350) {
      const std::vector<TestEvent> part(events.begin() + static_cast<long>(start),
                                        events.begin() + static_cast<long>(start + size));
      const Encoded encoded = encode(part, 3, &builder);
      check_block(reader, encoded.block, part);
    }
  }
}

TEST_CASE("extreme times and values round-trip") {
  std::vector<TestEvent> events;
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  for (int64_t t : {kMax, kMin, int64_t{0}, int64_t{-1}, kMax, kMin, int64_t{1}}) {
    TestEvent e;
    e.timestamp_ns = t;
    e.received_ns = t == kMin ? kMax : kMin;
    e.raw = "x";
    e.fields.push_back({"n", literal(std::to_string(t))});
    events.push_back(e);
  }
  // Every value of a name canonical: number- and address-coded groups.
  for (const char* value : {"-9223372036854775808", "9223372036854775807", "0", "-1", "12345"}) {
    TestEvent e;
    e.raw = std::string("v=") + value + " ip=0.0.0.0 ip=255.255.255.255";
    e.fields.push_back({"int", slice(e.raw, 2, std::strlen(value)), FieldType::kInt});
    e.fields.push_back({"ip", slice(e.raw, e.raw.find("0.0.0.0"), 7)});
    e.fields.push_back({"ip", slice(e.raw, e.raw.find("255."), 15)});
    events.push_back(e);
  }
  // Increasing numbers (delta-coded) and a host that is both a slice and
  // repeated inside the message.
  for (int i = 0; i < 50; ++i) {
    TestEvent e;
    e.timestamp_ns = i;
    e.raw = "host-a id=" + std::to_string(1'000'000'000 + i * 3) + " host-a";
    e.host = slice(e.raw, 0, 6);
    e.app = slice(e.raw, e.raw.size() - 6, 6);
    e.message = slice(e.raw, 7, e.raw.size() - 7);
    e.fields.push_back({"id", slice(e.raw, 10, 10), FieldType::kInt});
    e.fields.push_back({"h", slice(e.raw, 0, 6)});  // overlaps the host cut: stays in the skeleton
    events.push_back(e);
  }
  const Encoded encoded = encode(events);
  BlockReader reader;
  check_block(reader, encoded.block, events);
}

namespace {

// The decompressed bytes of column `id` of `block` (the layout of
// block_codec.h), empty if the block has no such column.
std::string column_bytes(const std::string& block, uint8_t id) {
  const size_t count = static_cast<uint8_t>(block[25]);
  size_t offset = 26 + count * 9;
  for (size_t c = 0; c < count; ++c) {
    const char* entry = block.data() + 26 + c * 9;
    uint32_t stored, uncompressed;
    std::memcpy(&stored, entry + 1, 4);  // little-endian test host
    std::memcpy(&uncompressed, entry + 5, 4);
    if ((static_cast<uint8_t>(entry[0]) & 0x7f) == id) {
      if (static_cast<uint8_t>(entry[0]) & 0x80) return block.substr(offset, stored);
      std::string out(uncompressed, '\0');
      REQUIRE(ZSTD_decompress(out.data(), out.size(), block.data() + offset, stored) == uncompressed);
      return out;
    }
    offset += stored;
  }
  return {};
}

// The text of column 7 of a version-2 block: its segments, concatenated
// (for a block of one line without variables, the line's skeleton).
std::string skeleton_text(const std::string& block) {
  const std::string column = column_bytes(block, static_cast<uint8_t>(BlockColumnId::kSkeleton));
  if (column.empty()) return {};
  size_t at = 0;
  auto varint = [&] {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      const auto byte = static_cast<unsigned char>(column.at(at++));
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
  };
  const uint64_t count = varint();
  uint64_t total = 0;
  for (uint64_t i = 0; i < count; ++i) total += varint();
  REQUIRE(at + total == column.size());
  return column.substr(at);
}

}  // namespace

TEST_CASE("each value encoding is chosen where it pays, and round-trips") {
  Rng rng(8);
  struct Case {
    const char* what;
    uint8_t encoding;  // the first byte of column 9 when one field name is in the block
    std::function<std::string(int)> value;
  };
  const std::vector<Case> cases = {
      {"plain", 1, [&](int) {
         std::string v;
         for (int i = 0; i < 12; ++i) v += static_cast<char>('a' + rng.below(26));
         return v;
       }},
      {"dictionary", 2, [&](int) { return std::string(kUsers[rng.below(5)]); }},
      {"int", 3, [&](int) { return std::to_string(static_cast<int64_t>(rng.next() >> 1) - (int64_t{1} << 61)); }},
      {"delta", 4, [&](int i) { return std::to_string(9'000'000'000'000 + i * 7 + static_cast<int>(rng.below(3))); }},
      {"ipv4", 5, [&](int) { return rng.ip(); }},
      {"template", 6, [&](int i) {
         // Escapes too: the template's own marker bytes inside the text.
         return (i % 3 == 0 ? std::string("/a\x01b/") : i % 3 == 1 ? std::string("/c\x02d/") : std::string("/e/")) +
                std::to_string(rng.below(1'000'000)) + "?page=" + std::to_string(rng.below(10)) + " 0 007 x9";
       }},
  };
  BlockReader reader;
  for (const Case& c : cases) {
    INFO(c.what);
    std::vector<TestEvent> events;
    for (int i = 0; i < 200; ++i) {
      TestEvent e;
      e.timestamp_ns = i;
      e.raw = "v=" + c.value(i);
      e.fields.push_back({"v", slice(e.raw, 2, e.raw.size() - 2)});
      events.push_back(e);
    }
    const Encoded encoded = encode(events);
    const std::string values = column_bytes(encoded.block, static_cast<uint8_t>(BlockColumnId::kFieldValues));
    REQUIRE(!values.empty());
    CHECK(static_cast<int>(values[0]) == static_cast<int>(c.encoding));
    check_block(reader, encoded.block, events);
  }
}

TEST_CASE("a line's own time is rebuilt from its timestamp, in the form it had") {
  const int64_t t = (kBaseSeconds + 3600) * 1'000'000'000 + 123'456'789;  // 2025-03-01T01:00:00.123456789Z
  struct Case {
    std::string line;
    bool cut;  // the time text leaves the skeleton
  };
  const std::vector<Case> cases = {
      {"<13>1 2025-03-01T01:00:00.123456Z host app - - - micros", true},
      {"<13>1 2025-03-01T01:00:00.123456789Z host app - - - nanos", true},
      {"<13>1 2025-03-01T01:00:00.1Z host app - - - one digit", true},
      {"<13>1 2025-03-01T02:00:00.123+01:00 host app - - - offset", true},
      {"<13>1 2025-02-28T19:30:00.123456-05:30 host app - - - negative offset", true},
      {"{\"ts\":\"2025-03-01T01:00:00.123Z\",\"msg\":\"json, after a wrong 2025-03-01T01:00:01Z\"}", true},
      {"wrong first: 2025-03-01T01:00:01.123Z, right later: 2025-03-01T01:00:00.123Z", true},
      {"<13>1 2025-03-01T01:00:00Z host app - - - whole second: truncated, as rendered", true},
      {"<13>1 2025-03-01T01:00:00.1234567891Z ten digits", false},
      {"<13>1 2025-03-01T01:00:00.123456z lowercase z", false},
      {"<13>1 2025-03-01T02:00:00.123+0100 offset without colon", false},
      {"<13>1 2025-03-01T01:00:00.123-00:00 minus zero", false},
      {"T at the start, 2025-03-01T01:00:00.12345", false},
      {"", false},
  };
  BlockReader reader;
  for (const Case& c : cases) {
    INFO(c.line);
    TestEvent e;
    e.timestamp_ns = t;
    e.raw = c.line;
    e.message = slice(e.raw, 0, e.raw.size());
    const std::vector<TestEvent> events = {e};
    const Encoded encoded = encode(events);
    check_block(reader, encoded.block, events);
    const std::string skeleton = skeleton_text(encoded.block);
    const bool cut = skeleton.size() < c.line.size();
    CHECK(cut == c.cut);
  }
  // The ends of what int64 nanoseconds hold, and before 1970.
  struct Edge {
    const char* line;
    int64_t ns;
    const char* skeleton;
  };
  for (const Edge& edge : {Edge{"1677-09-21T00:12:43.145224192Z x", std::numeric_limits<int64_t>::min(), " x"},
                           Edge{"2262-04-11T23:47:16.854775807Z x", std::numeric_limits<int64_t>::max(), " x"},
                           Edge{"1969-12-31T23:59:59.5Z x", -500'000'000, " x"},
                           // Local time past the int64 range: left as text.
                           Edge{"2262-04-12T00:47:16.854775807+01:00 x", std::numeric_limits<int64_t>::max(),
                                "2262-04-12T00:47:16.854775807+01:00 x"}}) {
    INFO(edge.line);
    TestEvent e;
    e.timestamp_ns = edge.ns;
    e.raw = edge.line;
    const std::vector<TestEvent> events = {e};
    const Encoded encoded = encode(events);
    check_block(reader, encoded.block, events);
    CHECK(skeleton_text(encoded.block) == edge.skeleton);
  }
}

TEST_CASE("loading subsets of columns decodes only those") {
  const std::vector<TestEvent> events = mixed_events(2'000, 3);
  const Encoded encoded = encode(events);
  BlockReader reader;
  for (uint32_t columns : {uint32_t{kColTimestamps}, uint32_t{kColHost}, uint32_t{kColApp}, uint32_t{kColAttrs},
                           uint32_t{kColReceived}, uint32_t{kColRaw}, uint32_t{kColMessage}, uint32_t{kColFields},
                           uint32_t{kColHost | kColAttrs}}) {
    INFO("columns " << columns);
    check_block(reader, encoded.block, events, columns);
    uint32_t implied = columns;
    if (columns & (kColMessage | kColFields)) implied |= kColRaw;
    if (implied & kColRaw) implied |= kColTimestamps | kColHost | kColApp | kColFields | kColMessage;
    if (columns & kColReceived) implied |= kColTimestamps;
    CHECK(reader.loaded() == implied);
    // What was not loaded is left at the defaults.
    EventView view;
    reader.decode(0, view);
    if (!(implied & kColTimestamps)) CHECK(view.timestamp_ns == 0);
    if (!(implied & kColHost)) CHECK(view.host.empty());
    if (!(implied & kColRaw)) CHECK(view.raw.empty());
    if (!(implied & kColFields)) CHECK(view.fields.empty());
    if (!(implied & kColAttrs)) CHECK(view.severity == kUnknownSeverity);
  }
  // Loading more later adds to what is there.
  REQUIRE(reader.open(encoded.block).is_ok());
  REQUIRE(reader.load(kColHost).is_ok());
  REQUIRE(reader.load(kColTimestamps).is_ok());
  REQUIRE(reader.load(kColHost).is_ok());
  CHECK(reader.loaded() == (kColHost | kColTimestamps));
  REQUIRE(reader.load(kColAll).is_ok());
  check_block(reader, encoded.block, events);
}

TEST_CASE("the token filter holds every token of every event, and tells its part") {
  const std::vector<TestEvent> events = mixed_events(5'000, 4);
  const Encoded encoded = encode(events);
  const BlockFilter filter(encoded.filter);
  REQUIRE(filter.valid());
  BlockReader reader;
  REQUIRE(reader.open(encoded.block).is_ok());
  REQUIRE(reader.part_count() == kMaxFilterParts);
  // Each event's part, by its place in block order.
  const std::vector<size_t> order = sorted_order(events);
  std::vector<uint32_t> part_of(events.size());
  for (size_t i = 0; i < order.size(); ++i) part_of[order[i]] = static_cast<uint32_t>(i / block_part_size(events.size()));
  size_t single_part = 0;
  const TestEvent* current = nullptr;
  // The filter may say "several parts" of a key, never a part without it.
  auto in_its_part = [&](uint64_t hash) {
    const uint32_t parts = filter.parts_of(hash);
    if (parts != kAllParts && std::popcount(parts) == 1) ++single_part;
    return (parts & (uint32_t{1} << part_of[static_cast<size_t>(current - events.data())])) != 0;
  };
  std::string scratch, lowered;
  size_t checked = 0;
  auto lower = [&](std::string_view text) {
    lowered.assign(text);
    for (char& c : lowered) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    return std::string_view(lowered);
  };
  for (const TestEvent& e : events) {
    current = &e;
    // Long numbers are left out (token_filter.h, in_block_filter).
    for_each_token(e.raw, scratch, [&](std::string_view token) {
      if (!in_block_filter(token)) return;
      REQUIRE(in_its_part(text_token_hash(token)));
      ++checked;
    });
    if (!e.message.slice) {
      for_each_token(e.text(e.message), scratch, [&](std::string_view token) {
        if (in_block_filter(token)) REQUIRE(in_its_part(text_token_hash(token)));
      });
    }
    if (in_block_filter(lower(e.text(e.host)))) {
      REQUIRE(filter.may_contain(field_token_hash("host", lower(e.text(e.host)))));
    }
    if (in_block_filter(lower(e.text(e.app)))) {
      REQUIRE(filter.may_contain(field_token_hash("app", lower(e.text(e.app)))));
    }
    REQUIRE(filter.may_contain(field_token_hash("severity", std::to_string(e.severity))));
    REQUIRE(filter.may_contain(field_token_hash("facility", std::to_string(e.facility))));
    if (e.severity < 8) REQUIRE(filter.may_contain(field_token_hash("severity", severity_name(e.severity))));
    if (e.facility < 24) REQUIRE(filter.may_contain(field_token_hash("facility", facility_name(e.facility))));
    if (e.input < kInputCount) {
      REQUIRE(filter.may_contain(field_token_hash("input", input_name(static_cast<InputId>(e.input)))));
    }
    for (const TestField& f : e.fields) {
      const std::string_view value = lower(e.text(f.value));
      if (in_block_filter(value)) REQUIRE(in_its_part(field_token_hash(f.name, value)));
    }
  }
  CHECK(checked > 100'000);
  // Ids, addresses, user names: a good share of the keys are in one part.
  MESSAGE("keys looked up in one part: " << single_part << " of " << checked << " text tokens and the field values");
  CHECK(single_part > checked / 10);
  size_t false_positives = 0;
  for (int i = 0; i < 10'000; ++i) {
    false_positives += filter.may_contain(text_token_hash("absentword" + std::to_string(i))) ? 1 : 0;
    false_positives += filter.may_contain(field_token_hash("host", "absent-" + std::to_string(i))) ? 1 : 0;
  }
  CHECK(false_positives < 400);  // 2% of 20000
  // Case: the filter holds lowercased tokens only.
  CHECK(filter.may_contain(text_token_hash("nginx")));
  CHECK(filter.may_contain(field_token_hash("verb", "get")));
  CHECK(filter.may_contain(field_token_hash("severity", "info")));
  CHECK(filter.may_contain(field_token_hash("input", "http_ndjson")));
}

namespace {

std::vector<TestEvent> generate_log(size_t count, uint64_t seed, uint64_t access_share, uint64_t sshd_share,
                                    uint64_t max_per_read);

// Lines whose words run into their cut values and variables: a host or
// field cut out of the middle of a word, a time or an address followed by
// letters, numbers glued to words, and clean lines of the same shapes.
TestEvent word_edge_event(Rng& rng, int64_t timestamp_ns) {
  static const char* const kGlue[] = {"", " ", "x", "9", "-", "_", "\"", "Z", "\xc3\xa9", ":"};
  TestEvent e;
  e.timestamp_ns = timestamp_ns;
  e.received_ns = timestamp_ns;
  e.severity = static_cast<uint8_t>(rng.below(8));
  auto glue = [&] { return std::string(rng.pick(kGlue)); };
  std::string& raw = e.raw;
  raw = "<14>1 " + glue();
  if (rng.below(2)) raw += rfc3339_micros(timestamp_ns);
  raw += glue();
  e.host = put(raw, "web" + rng.digits(30));
  raw += glue();
  e.app = put(raw, rng.below(2) ? "app" : "Api" + rng.digits(10));
  raw += glue() + " ";
  const size_t message_start = raw.size();
  for (int k = 0, words = 1 + static_cast<int>(rng.below(8)); k < words; ++k) {
    switch (rng.below(9)) {
      case 0: raw += rfc3339_micros(timestamp_ns + static_cast<int64_t>(rng.below(1'000'000'000))); break;
      case 1: raw += clf_time(timestamp_ns).substr(0, 20); break;
      case 2: raw += rng.ip(); break;
      case 3: raw += rng.hex(8 + 2 * static_cast<int>(rng.below(8))); break;
      case 4: raw += rng.digits(100000); break;
      case 5: raw += "0" + rng.digits(1000); break;
      case 6: e.fields.push_back({"f", put(raw, "v" + rng.digits(1000))}); break;
      case 7: e.fields.push_back({"n", put(raw, rng.digits(100000)), FieldType::kInt}); break;
      default: raw += rng.pick(kUsers); break;
    }
    raw += glue();
  }
  e.message = slice(raw, message_start, raw.size() - message_start);
  return e;
}

}  // namespace

TEST_CASE("text keys taken from templates are exactly those of the whole lines") {
  // FilterSpec::text_keys_from_lines is the plain path: every line's words.
  // The filter's bytes depend only on its keys and their parts, so equal
  // bytes mean equal keys (none missing, none extra).
  auto check_same = [](const std::vector<TestEvent>& events, FilterSpec spec) {
    BlockBuilder builder;
    for (const TestEvent& e : events) builder.add(e.view());
    std::string block, filter, plain_block, plain_filter;
    REQUIRE(builder.finish(1, spec, block, filter).is_ok());
    spec.text_keys_from_lines = true;
    REQUIRE(builder.finish(1, spec, plain_block, plain_filter).is_ok());
    CHECK(block == plain_block);
    CHECK(filter == plain_filter);
  };
  Rng rng(77);
  std::vector<TestEvent> edges;
  int64_t now = (kBaseSeconds + 60) * 1'000'000'000;
  for (int i = 0; i < 6'000; ++i) {
    now += static_cast<int64_t>(1 + rng.below(1'000'000));
    edges.push_back(word_edge_event(rng, now));
  }
  for (const auto& [name, events] : {std::pair{"mixed", mixed_events(6'000, 9)},
                                     std::pair{"stream", generate_log(20'000, 10, 55, 75, 64)},
                                     std::pair{"word edges", edges}}) {
    INFO(name);
    check_same(events, FilterSpec{});
    check_same(events, FilterSpec{.fingerprints = false});
    const std::vector<TestEvent> few(events.begin(), events.begin() + 300);  // one part
    check_same(few, FilterSpec{});
  }
}

TEST_CASE("corrupt blocks give errors, never crash") {
  Rng rng(5);
  std::vector<TestEvent> events;
  for (int i = 0; i < 6; ++i) events.push_back(access_line(rng, (kBaseSeconds + i) * 1'000'000'000));
  events.push_back(json_line(rng, kBaseSeconds * 1'000'000'000));
  for (int i = 0; i < 4; ++i) events.push_back(odd_event(rng, i * 1000));
  const Encoded encoded = encode(events);
  const std::string& block = encoded.block;
  BlockReader reader;
  check_block(reader, block, events);

  SUBCASE("truncated at every byte") {
    for (size_t length = 0; length < block.size(); ++length) {
      CHECK_FALSE(reader.open(std::string_view(block).substr(0, length)).is_ok());
    }
    // A byte too many is as wrong as a byte too few.
    CHECK_FALSE(reader.open(block + "x").is_ok());
  }
  SUBCASE("named header errors") {
    std::string bad = block;
    bad[0] = 'X';
    CHECK(reader.open(bad).message() == "block: bad magic");
    bad = block;
    bad[4] = 9;
    CHECK(reader.open(bad).message() == "block: unsupported version 9");
    bad = block;
    bad[26 + 1] = '\xff';  // the first column's stored length
    bad[26 + 2] = '\xff';
    CHECK(reader.open(bad).message().find("length beyond end") != std::string::npos);
    bad = block;
    for (int i = 5; i < 9; ++i) bad[26 + i] = '\xff';  // its uncompressed length
    CHECK(reader.open(bad).message().find("over the limit") != std::string::npos);
    bad = block;
    bad[26] = 0x7f;
    CHECK(reader.open(bad).message() == "block: unknown column id 127");
  }
  SUBCASE("lengths that disagree with the data") {
    // A plausible but wrong uncompressed length: caught before allocating.
    for (size_t entry = 0; entry < static_cast<uint8_t>(block[25]); ++entry) {
      std::string bad = block;
      char* length = bad.data() + 26 + entry * 9 + 5;
      const uint32_t wrong = 100'000'000;
      std::memcpy(length, &wrong, 4);  // little-endian test host
      if (reader.open(bad).is_ok()) {
        CHECK_FALSE(reader.load(kColAll).is_ok());
      }
    }
    // An event count far beyond the columns: refused before anything is
    // allocated per event.
    std::string bad = block;
    bad[5 + 3] = 0x7f;
    CHECK(reader.open(bad).message() == "block: event count beyond the timestamps column");
    // One more event than there are: the columns run short.
    bad = block;
    bad[5] = static_cast<char>(bad[5] + 1);
    REQUIRE(reader.open(bad).is_ok());
    CHECK_FALSE(reader.load(kColAll).is_ok());
  }
  SUBCASE("every byte changed") {
    size_t opened = 0, loaded = 0;
    for (size_t at = 0; at < block.size(); ++at) {
      for (int mask : {0x01, 0x80, 0xff, 0x3c}) {
        std::string bad = block;
        bad[at] = static_cast<char>(bad[at] ^ mask);
        if (!reader.open(bad).is_ok()) continue;
        ++opened;
        if (!reader.load(kColAll).is_ok()) continue;
        ++loaded;
        EventView view;
        for (uint32_t i = 0; i < reader.size(); ++i) reader.decode(i, view);
      }
    }
    MESSAGE("changed blocks that opened: " << opened << ", loaded: " << loaded);
  }
}

TEST_CASE("random column contents give errors, never crash") {
  // Valid headers over stored (uncompressed) columns of random bytes drive
  // every column parser with garbage. Small values make varints parse, so
  // the parsers get deep before they fail.
  Rng rng(6);
  BlockReader reader;
  size_t loaded = 0;
  const int rounds = kSanitized ? 20'000 : 100'000;
  for (int round = 0; round < rounds; ++round) {
    const uint32_t size = static_cast<uint32_t>(rng.below(5));
    const uint8_t version = static_cast<uint8_t>(1 + rng.below(2));
    std::string columns;
    std::string directory;
    int column_count = 0;
    int64_t first = 0, last = 0;
    for (uint8_t id = 1; id <= (version == 1 ? 11 : 13); ++id) {
      if (rng.below(8) == 0) continue;
      std::string bytes(rng.below(24), '\0');
      for (char& c : bytes) c = static_cast<char>(rng.below(4) == 0 ? rng.below(256) : rng.below(4));
      if (id == 1 && !bytes.empty() && rng.below(2)) {
        // A parseable timestamps column, so the header bounds can match.
        bytes.clear();
        bytes.push_back(0);
        bytes.push_back(1);
        for (uint32_t i = 1; i < size; ++i) bytes.push_back(static_cast<char>(rng.below(3)));
        first = 0;
        last = 0;
        for (uint32_t i = 1; i < size; ++i) last += static_cast<uint8_t>(bytes[1 + i]);
      }
      directory.push_back(static_cast<char>(id | 0x80));
      const auto length = static_cast<uint32_t>(bytes.size());
      directory.append(reinterpret_cast<const char*>(&length), 4);
      directory.append(reinterpret_cast<const char*>(&length), 4);
      columns += bytes;
      ++column_count;
    }
    std::string block = "SLBK";
    block.push_back(static_cast<char>(version));
    block.append(reinterpret_cast<const char*>(&size), 4);
    block.append(reinterpret_cast<const char*>(&first), 8);
    block.append(reinterpret_cast<const char*>(&last), 8);
    block.push_back(static_cast<char>(column_count));
    block += directory + columns;
    if (!reader.open(block).is_ok()) continue;
    for (uint32_t columns_wanted : {uint32_t{kColHost}, uint32_t{kColReceived}, uint32_t{kColAttrs},
                                    uint32_t{kColMessage}, uint32_t{kColAll}}) {
      if (!reader.load(columns_wanted).is_ok()) continue;
      ++loaded;
      EventView view;
      for (uint32_t i = 0; i < reader.size(); ++i) reader.decode(i, view);
    }
  }
  MESSAGE("random blocks with a column set that loaded: " << loaded);
}

// --- the measurement the store is judged by ----------------------------------

namespace {

struct Measured {
  size_t block_bytes = 0;
  size_t filter_bytes = 0;
  size_t blocks = 0;
  double encode_seconds = 0;
  double decode_seconds = 0;
  std::array<size_t, 16> column_bytes{};
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Measured measure(const std::vector<TestEvent>& events, int level, size_t block_raw_bytes) {
  Measured m;
  BlockBuilder builder;
  BlockReader reader;
  std::string block, filter;
  EventView view;
  std::vector<EventView> views;
  views.reserve(events.size());
  for (const TestEvent& e : events) views.push_back(e.view());
  size_t next = 0;
  while (next < views.size()) {
    builder.clear();
    const auto start = std::chrono::steady_clock::now();
    while (next < views.size() && builder.raw_bytes() < block_raw_bytes) builder.add(views[next++]);
    REQUIRE(builder.finish(level, FilterSpec{}, block, filter).is_ok());
    m.encode_seconds += seconds_since(start);
    m.block_bytes += block.size();
    m.filter_bytes += filter.size();
    ++m.blocks;
    const size_t column_count = static_cast<uint8_t>(block[25]);
    for (size_t c = 0; c < column_count; ++c) {
      uint32_t stored;
      std::memcpy(&stored, block.data() + 26 + c * 9 + 1, 4);
      m.column_bytes[static_cast<uint8_t>(block[26 + c * 9]) & 0x7f] += stored;
    }
    m.column_bytes[0] += 26 + column_count * 9;
    const auto decode_start = std::chrono::steady_clock::now();
    REQUIRE(reader.open(block).is_ok());
    REQUIRE(reader.load(kColAll).is_ok());
    for (uint32_t i = 0; i < reader.size(); ++i) reader.decode(i, view);
    m.decode_seconds += seconds_since(decode_start);
  }
  return m;
}

// The store's blocks are cut at this much raw text; see measure().
constexpr size_t kMeasureBlockRawBytes = size_t{4} << 20;

// Distinct filter keys per block, by kind: what the filter's size follows.
struct FilterKeys {
  size_t digit_tokens = 0;  // text tokens of digits only
  size_t other_tokens = 0;
  size_t field_tokens = 0;
};

FilterKeys count_filter_keys(const std::vector<TestEvent>& events) {
  FilterKeys keys;
  BloomFilterBuilder digits, others, fields;
  std::string scratch;
  std::string lowered;
  size_t raw_in_block = 0;
  auto flush = [&] {
    keys.digit_tokens += digits.distinct();
    keys.other_tokens += others.distinct();
    keys.field_tokens += fields.distinct();
    digits.clear();
    others.clear();
    fields.clear();
    raw_in_block = 0;
  };
  for (const TestEvent& e : events) {
    for_each_token(e.raw, scratch, [&](std::string_view token) {
      const bool all_digits = token.find_first_not_of("0123456789") == std::string_view::npos;
      (all_digits ? digits : others).add(text_token_hash(token));
    });
    for (const TestField& f : e.fields) {
      lowered.assign(e.text(f.value));
      for (char& c : lowered) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
      fields.add(field_token_hash(f.name, lowered));
    }
    raw_in_block += e.raw.size();
    if (raw_in_block >= kMeasureBlockRawBytes) flush();
  }
  flush();
  return keys;
}

// Prints the table; returns the block bytes at level 3 over zstd -19's.
double report(const char* name, const std::vector<TestEvent>& events, bool extended) {
  std::string all;
  for (const TestEvent& e : events) {
    all += e.raw;
    all += '\n';
  }
  const double n = static_cast<double>(events.size());
  std::string compressed(ZSTD_compressBound(all.size()), '\0');
  auto zstd = [&](int level) {
    const size_t size = ZSTD_compress(compressed.data(), compressed.size(), all.data(), all.size(), level);
    REQUIRE(!ZSTD_isError(size));
    return static_cast<double>(size);
  };
  const double zstd19 = zstd(19);
  std::printf("\n%s: %zu events, raw text %.1f bytes/event (lines joined by \\n)\n", name, events.size(),
              static_cast<double>(all.size()) / n);
  std::printf("  zstd -3 of the text:  %6.2f bytes/event\n", zstd(3) / n);
  std::printf("  zstd -19 of the text: %6.2f bytes/event   <- the bar\n", zstd19 / n);
  std::printf("  %-16s %6s %11s %12s %7s %7s %9s %9s\n", "store", "level", "block B/ev", "filter B/ev", "blocks",
              "vs -19", "enc MB/s", "dec MB/s");
  static const char* const kColumnNames[14] = {"header",  "timestamps", "received", "attrs",   "host",
                                               "app",     "skel_len",   "skeleton", "records", "values",
                                               "fld_lit", "msg_lit",    "skel_val", "skel_seg"};
  double ratio_at_3 = 0;
  for (size_t block_raw : {kMeasureBlockRawBytes, size_t{1} << 30}) {
    if (block_raw != kMeasureBlockRawBytes && !extended) continue;
    for (int level : {1, 3, 9, 19}) {
      if (level == 19 && (!extended || block_raw != kMeasureBlockRawBytes)) continue;
      const Measured m = measure(events, level, block_raw);
      std::printf("  %-16s %6d %11.2f %12.2f %7zu %6.2fx %9.1f %9.1f\n",
                  block_raw == kMeasureBlockRawBytes ? "4 MiB-raw blocks" : "one block", level, m.block_bytes / n,
                  m.filter_bytes / n, m.blocks, m.block_bytes / zstd19, all.size() / 1e6 / m.encode_seconds,
                  all.size() / 1e6 / m.decode_seconds);
      if (level == 3 && block_raw == kMeasureBlockRawBytes) {
        ratio_at_3 = m.block_bytes / zstd19;
        std::printf("    columns at level 3, bytes/event:");
        for (size_t c = 0; c < 14; ++c) std::printf(" %s %.2f", kColumnNames[c], m.column_bytes[c] / n);
        std::printf("\n");
      }
    }
  }
  const FilterKeys keys = count_filter_keys(events);
  std::printf("  distinct filter keys per event: %.2f digit-only words, %.2f other words, %.2f field values\n",
              keys.digit_tokens / n, keys.other_tokens / n, keys.field_tokens / n);
  return ratio_at_3;
}

// Receive times as the server takes them: one clock reading (in ns) per
// read from a connection, shared by the 1 to `max_per_read` lines that read
// returned, a little after the last of them was sent. max_per_read 1 is a
// datagram input, where every event has its own receive time.
void set_receive_times(std::vector<TestEvent>& events, Rng& rng, uint64_t max_per_read) {
  for (size_t i = 0; i < events.size();) {
    const size_t end = std::min(events.size(), i + 1 + rng.below(max_per_read));
    const int64_t received = events[end - 1].timestamp_ns + static_cast<int64_t>(50'000 + rng.below(2'000'000));
    for (; i < end; ++i) events[i].received_ns = received;
  }
}

// `kinds` of 100: access lines below access_share, then sshd below
// sshd_share, then JSON. Times step by 1 to 1000 microseconds.
std::vector<TestEvent> generate_log(size_t count, uint64_t seed, uint64_t access_share, uint64_t sshd_share,
                                    uint64_t max_per_read) {
  Rng rng(seed);
  std::vector<TestEvent> events;
  int64_t now_micros = kBaseSeconds * 1'000'000;
  for (size_t i = 0; i < count; ++i) {
    now_micros += static_cast<int64_t>(1 + rng.below(1000));
    const uint64_t kind = rng.below(100);
    events.push_back(kind < access_share  ? access_line(rng, now_micros * 1000)
                     : kind < sshd_share ? sshd_line(rng, now_micros * 1000)
                                          : json_line(rng, now_micros * 1000));
  }
  set_receive_times(events, rng, max_per_read);
  return events;
}

}  // namespace

TEST_CASE("bytes per event: the store against zstd -19 of the raw text") {
  // The measurement the store is judged by: blocks (filters apart) no
  // larger than zstd -19 of the same lines as text.
  const size_t count = kSanitized ? 10'000 : 100'000;
  const std::vector<TestEvent> access = generate_log(count, 11, 100, 100, 32);
  CHECK(report("access log (nginx combined in RFC 5424, TCP reads of 1-32 lines)", access, false) < 1.0);
  const std::vector<TestEvent> part(access.begin(), access.begin() + 5000);
  BlockReader reader;
  check_block(reader, encode(part).block, part);
}

// Slow (minutes): run with --no-skip.
TEST_CASE("bytes per event: other streams, one block, level 19" * doctest::skip()) {
  const size_t count = 100'000;
  report("access log (nginx combined in RFC 5424, TCP reads of 1-32 lines)", generate_log(count, 11, 100, 100, 32),
         true);
  report("mixed (60% access, 15% sshd, 25% JSON; TCP reads of 1-32 lines)", generate_log(count, 12, 60, 75, 32),
         true);
  report("mixed over UDP (every event its own receive time)", generate_log(count, 13, 60, 75, 1), true);
}

// --- format version 1 ----------------------------------------------------------

namespace {

// The events of the version-1 test vector below: lines of each kind, and
// an odd event with binary bytes, literal and numeric fields.
std::vector<TestEvent> v1_vector_events() {
  Rng rng(77);
  std::vector<TestEvent> events;
  const int64_t base = (kBaseSeconds + 7200) * 1'000'000'000;
  for (int i = 0; i < 3; ++i) events.push_back(access_line(rng, base + i * 1'000'000));
  for (int i = 0; i < 2; ++i) events.push_back(sshd_line(rng, base + (3 + i) * 1'000'000));
  for (int i = 0; i < 2; ++i) events.push_back(json_line(rng, base + (5 + i) * 1'000'000));
  for (TestEvent& e : events) e.received_ns = e.timestamp_ns + 1'000'000;
  TestEvent odd;
  odd.timestamp_ns = base + 3 * 1'000'000;  // a tie
  odd.received_ns = 5;
  odd.severity = 3;
  odd.raw = std::string("bin\x01\x02\xff\x00 007 -12 12345678901234567890 0x1F ", 40) + "n=42 ip=10.0.0.1";
  odd.host = literal("peer");
  odd.app = slice(odd.raw, 0, 3);
  odd.message = slice(odd.raw, 4, 10);
  odd.fields.push_back({"n", slice(odd.raw, odd.raw.find("42"), 2), FieldType::kInt});
  odd.fields.push_back({"ip", slice(odd.raw, odd.raw.find("10.0"), 8)});
  odd.fields.push_back({"lit", literal("not in the line")});
  events.push_back(odd);
  return events;
}

// A block of v1_vector_events() as format version 1 wrote it (zstd level 3,
// the code before version 2), in hex.
constexpr const char* kV1BlockHex =
    "534c424b01080000000040fd9e488b281880cd589f488b28180a811300000013000000021e00000027000000831900000019"
    "000000843e0000003e00000085190000001900000086090000000900000007360100002e020000080c010000a4010000090b"
    "020000b30200008a0f0000000f0000008080eaef93d2c5a830c0843d0101010001010128b52ffd2027ad0000680080897af5"
    "9ad8f293d2c5a8300200398ff3e18805061700010604000003ff00000504000006ff00020010324408060606050608080477"
    "65622d31337765622d31377765622d313264622d31386170702d313031302e312e302e3531302e312e302e38706565721032"
    "476504050406036e67696e78737368646f726465727362696e40a721212188012b48686828b52ffd602e0165090086513d30"
    "80356d033330033330033304f1d9d05b379126d6e8f4d822bbfee5a86265f1312e9f550b2d2dd99982fd206dd0d3ff3f3000"
    "2e003000be38fe4bfb5f9833556dc45085d8d6882314424a1374553ca955512919acb0e2b4264870381acccd0c0b0a7b0183"
    "ae0890cd664e37696b8f8130c6e7686491d3e7cd391472389fc63da3a1c0d09d7b83037efee15e669c7b8d2d5b2b6e2fff4b"
    "6bcb7b4be32824ce696bc4bd719222c26b8a4525f1e2e1128c19745ee398f6ceef0a3fc63820c080c03f299b16cd00baa98c"
    "d6ea245611f9a0d65eb293a7adc755a9d80955ad7bc92935583a6d75b8d4442174eaa4fbe96bf5847f73ff021400650d693c"
    "2586aa80293518cd5c620ece320697a9709fcc06a5d9e4999da199256cc6fc4a6bcb326408446198b989b2ae008c28b52ffd"
    "60a40015080016113b3170b54d07fc87deabaaaa1a020060e44fe44ab4b62b58fb51b613feff3f9ceb73eeed30303030ec23"
    "fee35b6f126a64ef142e002d002a00cb135e8b15a59e1b6157fa925aee83166cb9909a1ea4ccf8e054b1c534e61aa70ac738"
    "cd718e533c0dd438ce518553cbab8a52ac7a5ed38312dec71565466a2d4bcd6eb9148997792196e7f665b25356d65c96159c"
    "dd959e7b450457e8a3e8d0c29dfe615ca33bfa46cf30def44cffc55980d6d4bd216541f9a0642789fb41c9ba4c7299af911b"
    "3c9882c80920cdf1c01a0d1f785c80e18c277e0145bf3a000e4f701c8149b00306d260bffeec6ca2357df4011a06002aca3d"
    "98bbcf60402bd544736968649d6728b52ffd60b3010d1000d6657626b01ad10360eff603ebea20da7e4ee3bb0d8d86c7a37c"
    "61b32979e0f1620119ff8bfc04b0db5066006c0075005fcd8ebb1e0e4f4f99d9664d83c800c2f741610123f8babb1b6237a7"
    "9bf3cda1df3f39ab33bd111ea2083e05a95fdaead24e2ead752aedbf942a5959ff7f49559754bfec4a103000e1ebba8b6196"
    "26820ff305b46dd3ea94ed7777cadd25f70c0683c164322f19d410215cfeccf8ba1a09c61611e26a5796adcd04630bb1259d"
    "96a6652db8b3d9b47449feec7277514e2ef710c2a0ccb26d72c601846f334d3026afb699582b576e18d4cdc9e9b69c419b84"
    "083e053af55ba7263b55ef4a55d76434f061cb77e9103ef814de2b957e5255d71776d5c6fa1af170b8a0e0bde7b9d9ba1c16"
    "05a2f7f0279461a2f72e17854dc6591fcb234a92f219c259c75d90c8804bb06b116f49a645878dcec785c642a42e5dd2ae33"
    "671ad70db9dab64544066964f228123d38226675a27673082342803a9c431966751834930c92195f24524545654ece960397"
    "8bcb962ddb01a2e8fdf4a2e83dff6bc2aab56fed957c72cc6349d47ee864f9e743fbafab5a4fe5a9284fe51f6a9abefbad96"
    "6a5bf7f7db31bef72e0a975fc5c54487840584b49274b2feb2a29246f395562ef9db299379efbde9ba58ad52656b5f4a6907"
    "0d007088a3a8508070cd84c345ef72540bd3448b18da4af8087a301ad50bace7ecfb0351a26e6f7420696e20746865206c69"
    "6e65";

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// A block an older version wrote (its hex above) decodes to its events.
void check_old_block(const char* hex, int version, const std::vector<TestEvent>& events) {
  const std::string block = from_hex(hex);
  REQUIRE(block.size() > 4);
  REQUIRE(block[4] == version);
  BlockReader reader;
  check_block(reader, block, events);
}

}  // namespace

TEST_CASE("a version-1 block still decodes") { check_old_block(kV1BlockHex, 1, v1_vector_events()); }

// --- format version 2: skeleton templates ------------------------------------

namespace {

// An event whose raw line is all skeleton: no cuts but the message, as the
// default config stores a line the syslog parser could not split.
TestEvent text_event(int64_t timestamp_ns, std::string raw) {
  TestEvent e;
  e.timestamp_ns = timestamp_ns;
  e.received_ns = static_cast<int64_t>(static_cast<uint64_t>(timestamp_ns) + 1000);
  e.raw = std::move(raw);
  e.message = slice(e.raw, 0, e.raw.size());
  return e;
}

}  // namespace

TEST_CASE("skeleton templates round-trip every variable and its look-alikes") {
  // Fixed look-alikes: each must come back byte for byte, taken out or not.
  static const char* const kEdges[] = {
      "n=007 m=-12 z=0 zz=00 000 d=1.05 e=10.50 neg=-0 plus=+5",
      "big=12345678901234567890 max=18446744073709551615 19=9999999999999999999 20=99999999999999999999",
      "hex=0123456789abcdef0123456789abcdef upper=0123456789ABCDEF mixed=AbCdEf0123456789 odd=abcdef123",
      "short=deadbee eight=deadbeef letters=abcdefab digits=1234567890123456 x0=0x1F under=_abcdef0123",
      "ips 10.0.0.1 010.0.0.1 256.1.1.1 1.2.3.4.5 1.2.3 255.255.255.255 0.0.0.0 1.2.3.4. 1.2.3.4a 1.2.3.04",
      "times 2025-03-01T10:00:00.123Z 2025-02-30T10:00:00Z 9999-12-31T23:59:59.999999999Z 0000-01-01T00:00:00Z",
      "times 2025-03-01T10:00:00.1234567891Z 2025-03-01T10:00:00+01:00 2025-03-01T24:00:00Z 2025-13-01T00:00:00Z",
      "clf [01/Mar/2025:10:00:00 +0000] [31/Feb/2025:10:00:00 +0000] [01/Foo/2025:10:00:00 +0000] [1/Mar/2025:1:0:0]",
      "markers \x01\x02\x03\x04\x05\x06\x07\x08 a\x05\x10" "b 12\x01 \x03\x09 end\x02",
      "utf8 \xff\xfe\x80 caf\xc3\xa9 123\xc3\xa9 \xc3\xa9" "456 deadbeef\xc3\xa9",
      "",
      "\x02",
      "\x07",
      "1",
      "deadbeefdeadbeef",
  };
  std::vector<TestEvent> events;
  Rng rng(21);
  const int64_t base = (kBaseSeconds + 3600) * 1'000'000'000;
  for (int round = 0; round < 40; ++round) {
    const int64_t t = base + int64_t{round} * 1'234'567'891;
    for (const char* edge : kEdges) events.push_back(text_event(t, edge));
    // Varied values in fixed contexts, so that numbers and addresses are
    // taken out of the text (a context of few values keeps its text).
    events.push_back(text_event(
        t, "id=" + rng.hex(32) + " user_id=" + std::to_string(rng.below(100000)) + " pad=" +
               std::string(1 + rng.below(5), '0') + std::to_string(1 + rng.below(999)) + " ms=" +
               std::to_string(rng.below(100)) + "." + two(static_cast<int64_t>(rng.below(100))) + " ip=" + rng.ip() +
               " up=" + [&] {
                 std::string h = rng.hex(16);
                 for (char& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                 return h;
               }() +
               " neg=-" + std::to_string(rng.below(1000)) + " big=" + std::to_string(rng.next()) +
               " at=" + rfc3339_micros(t + static_cast<int64_t>(rng.below(3'000'000'000))) + " clf=[" +
               clf_time(t - static_cast<int64_t>(rng.below(5'000'000'000))) + "]"));
    // Times far from the event's, and the ends of int64.
    events.push_back(
        text_event(static_cast<int64_t>(rng.next()), "far 2025-03-01T10:00:00.5Z [01/Mar/2025:10:00:00 +0000]"));
  }
  for (int64_t t : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    events.push_back(text_event(t, "edge 1677-09-21T00:12:43.145224192Z 2262-04-11T23:47:16.854775807Z "
                                   "[21/Sep/1677:00:12:43 +0000] [11/Apr/2262:23:47:16 +0000] 9999-12-31T23:59:59Z"));
  }
  const Encoded encoded = encode(events);
  BlockReader reader;
  check_block(reader, encoded.block, events);
  CHECK(static_cast<int>(encoded.block[4]) == kBlockFormatVersion);
  // The varied values were taken out.
  CHECK(column_bytes(encoded.block, static_cast<uint8_t>(BlockColumnId::kSkeletonValues)).size() > 500);
  // At every level and in tiny blocks too.
  BlockBuilder builder;
  for (int level : {-5, 1, 19}) {
    const Encoded again = encode(events, level, &builder);
    check_block(reader, again.block, events);
  }
  for (size_t size : {size_t{1}, size_t{2}, size_t{17}}) {
    for (size_t start = 0; start + size <= events.size(); start += 97) {
      const std::vector<TestEvent> part(events.begin() + static_cast<long>(start),
                                        events.begin() + static_cast<long>(start + size));
      check_block(reader, encode(part, 3, &builder).block, part);
    }
  }
}

TEST_CASE("skeleton templates: empty skeletons, unique lines, many contexts") {
  BlockReader reader;
  Rng rng(22);
  SUBCASE("every skeleton empty: the host and app are the whole line") {
    std::vector<TestEvent> events;
    for (int i = 0; i < 100; ++i) {
      TestEvent e;
      e.timestamp_ns = i;
      e.raw = "host" + std::to_string(i % 3);
      e.host = slice(e.raw, 0, e.raw.size());
      events.push_back(e);
    }
    events.push_back(TestEvent{});
    check_block(reader, encode(events).block, events);
  }
  SUBCASE("every line unique") {
    std::vector<TestEvent> events;
    for (int i = 0; i < 3000; ++i) {
      std::string raw = rng.bytes(1 + rng.below(80));
      raw += " " + rng.hex(static_cast<int>(2 * (1 + rng.below(40)))) + " " + std::to_string(rng.next()) + " " +
             rng.ip() + " " + std::to_string(rng.below(10)) + "." + std::to_string(rng.below(10));
      events.push_back(text_event(i, raw));
    }
    check_block(reader, encode(events).block, events);
  }
  SUBCASE("more contexts than streams") {
    // Thousands of distinct contexts, each with varied numbers: streams
    // overflow into one per marker.
    std::vector<TestEvent> events;
    for (int i = 0; i < 20'000; ++i) {
      const std::string key = "k" + rng.hex(6) + "=";
      events.push_back(text_event(i, key + std::to_string(rng.below(1'000'000)) + " " + key + rng.ip() + " " + key +
                                         rng.hex(8) + " " + key + "0" + std::to_string(rng.below(1000))));
    }
    // The same contexts again, so that each has spread and is taken out.
    for (int i = 0; i < 5'000; ++i) events.push_back(events[rng.below(20'000)]);
    for (int i = 20'000; i < 25'000; ++i) events[static_cast<size_t>(i)].timestamp_ns = i;
    for (TestEvent& e : events) e.message = slice(e.raw, 0, e.raw.size());
    check_block(reader, encode(events).block, events);
  }
  SUBCASE("a stream's dictionary of more than 256 values: varint indexes") {
    std::vector<uint64_t> values;
    for (int k = 0; k < 300; ++k) values.push_back(1'000'000'000 + rng.below(1'000'000'000));
    std::vector<TestEvent> events;
    for (int i = 0; i < 6000; ++i) {
      events.push_back(text_event(i, "job v=" + std::to_string(values[rng.below(values.size())]) + " done"));
    }
    check_block(reader, encode(events).block, events);
  }
  SUBCASE("segments repeat inside a line") {
    std::vector<TestEvent> events;
    for (int i = 0; i < 500; ++i) {
      std::string raw;
      for (int k = 0; k < 20; ++k) raw += "a=" + std::to_string(rng.below(100000)) + " ";
      events.push_back(text_event(i, raw));
    }
    check_block(reader, encode(events).block, events);
  }
}

TEST_CASE("host dictionaries: numbers of few values per host") {
  // Process ids: a few per host, many hosts.
  std::vector<TestEvent> events;
  Rng rng(23);
  std::vector<int64_t> pids;
  for (int h = 0; h < 50; ++h) pids.push_back(static_cast<int64_t>(rng.below(4'000'000)) - (h == 7 ? 5'000'000 : 0));
  for (int i = 0; i < 2000; ++i) {
    TestEvent e;
    e.timestamp_ns = i;
    const int h = static_cast<int>(rng.below(50));
    e.raw = "web-" + std::to_string(h) + " nginx " + std::to_string(pids[h] + static_cast<int64_t>(rng.below(4))) +
            " - GET /";
    e.host = slice(e.raw, 0, e.raw.find(' '));
    const size_t pid_at = e.raw.find(' ', e.raw.find(' ') + 1) + 1;
    e.fields.push_back({"procid", slice(e.raw, pid_at, e.raw.find(' ', pid_at) - pid_at)});
    events.push_back(e);
  }
  const Encoded encoded = encode(events);
  const std::string values = column_bytes(encoded.block, static_cast<uint8_t>(BlockColumnId::kFieldValues));
  REQUIRE(!values.empty());
  CHECK(static_cast<int>(values[0]) == 7);
  BlockReader reader;
  check_block(reader, encoded.block, events);
}

TEST_CASE("long numbers are not in the filter, and no query requires them") {
  Rng rng(24);
  std::vector<TestEvent> events;
  std::vector<std::string> ids;
  for (int i = 0; i < 2000; ++i) {
    ids.push_back(rng.hex(32));
    TestEvent e = text_event(i, "request_id=" + ids.back() + " user_id=" + std::to_string(10000 + rng.below(90000)) +
                                    " status=" + std::to_string(200 + rng.below(3)) + " port 2222");
    e.fields.push_back({"user_id", slice(e.raw, e.raw.find("user_id=") + 8, 5)});
    events.push_back(e);
  }
  const Encoded encoded = encode(events);
  const BlockFilter filter(encoded.filter);
  REQUIRE(filter.valid());
  auto skips = [&](std::string_view text) {
    Expected<Query> query = parse_query(text);
    REQUIRE(query.has_value());
    for (uint64_t hash : required_filter_hashes(query.value())) {
      if (!filter.may_contain(hash)) return true;
    }
    return false;
  };
  // Every event's own terms are found: never a false negative.
  for (size_t i = 0; i < events.size(); i += 37) {
    const std::string user = std::string(events[i].text(events[i].fields[0].value));
    CHECK_FALSE(skips(ids[i]));
    CHECK_FALSE(skips(user));
    CHECK_FALSE(skips("user_id:" + user));
    CHECK_FALSE(skips("request_id " + user + " port 2222"));
  }
  // Long numbers are not required (the filter does not hold them) ...
  auto required = [](std::string_view text) {
    Expected<Query> query = parse_query(text);
    REQUIRE(query.has_value());
    return required_filter_hashes(query.value()).size();
  };
  CHECK(required("12345 user_id:99999") == 0);
  CHECK(required("abc 123456") == 1);
  CHECK(required("2222 404 status:200 severity:3") == 4);
  // ... while a rare request id still skips the block.
  size_t skipped = 0;
  for (int i = 0; i < 200; ++i) skipped += skips(rng.hex(32)) ? 1 : 0;
  CHECK(skipped > 190);
  CHECK(skips("user_id:abcdef"));
}

TEST_CASE("version-3 columns with changed bytes give errors, never crash") {
  // A block with templates, streams of every kind and host dictionaries,
  // re-packed with its columns stored as is, so that changed bytes reach
  // the column parsers instead of failing zstd's checks.
  Rng rng(25);
  std::vector<TestEvent> events;
  // Two parts: the second's load passes over the first's lines.
  for (int i = 0; i < 300; ++i) {
    TestEvent e = text_event(
        (kBaseSeconds + i) * 1'000'000'000,
        "a=" + std::to_string(rng.below(100000)) + " ip=" + rng.ip() + " id=" + rng.hex(16) + " up=ABCDEF" +
            std::to_string(10 + rng.below(90)) + " at=" + rfc3339_micros((kBaseSeconds + i) * 1'000'000'000) +
            " [" + clf_time((kBaseSeconds + i) * 1'000'000'000) + "] pad=00" + std::to_string(rng.below(100)) +
            " \x01\x02 pid=" + std::to_string(100 + rng.below(3)));
    e.host = literal("h" + std::to_string(i % 4));
    const size_t pid_at = e.raw.find("pid=") + 4;
    e.fields.push_back({"pid", slice(e.raw, pid_at, e.raw.size() - pid_at)});
    events.push_back(e);
  }
  const Encoded encoded = encode(events);
  BlockReader reader;
  check_block(reader, encoded.block, events);
  const size_t column_count = static_cast<uint8_t>(encoded.block[25]);
  std::vector<std::pair<uint8_t, std::string>> columns;
  for (size_t c = 0; c < column_count; ++c) {
    const uint8_t id = static_cast<uint8_t>(encoded.block[26 + c * 9]) & 0x7f;
    columns.emplace_back(id, column_bytes(encoded.block, id));
  }
  auto pack = [&](const std::vector<std::pair<uint8_t, std::string>>& parts) {
    std::string block = encoded.block.substr(0, 25);
    block.push_back(static_cast<char>(parts.size()));
    for (const auto& [id, bytes] : parts) {
      block.push_back(static_cast<char>(id | 0x80));
      const auto length = static_cast<uint32_t>(bytes.size());
      block.append(reinterpret_cast<const char*>(&length), 4);
      block.append(reinterpret_cast<const char*>(&length), 4);
    }
    for (const auto& part : parts) block += part.second;
    return block;
  };
  const std::string repacked = pack(columns);
  check_block(reader, repacked, events);
  size_t loaded = 0;
  const int rounds = kSanitized ? 5'000 : 40'000;
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::pair<uint8_t, std::string>> bad = columns;
    auto& [id, bytes] = bad[rng.below(bad.size())];
    if (bytes.empty()) continue;
    for (uint64_t k = 0, changes = 1 + rng.below(3); k < changes; ++k) {
      char& c = bytes[rng.below(bytes.size())];
      c = static_cast<char>(rng.below(2) ? rng.below(256) : c ^ (1 << rng.below(8)));
    }
    if (rng.below(8) == 0) bytes.resize(rng.below(bytes.size()));
    const std::string block = pack(bad);  // the reader views it
    if (!reader.open(block).is_ok()) continue;
    EventView view;
    if (reader.part_count() > 1 && rng.below(2) == 0) {
      const auto part = static_cast<uint32_t>(rng.below(reader.part_count()));
      if (!reader.load_part(kColAll, part).is_ok()) continue;
      ++loaded;
      for (uint32_t i = reader.raw_range().first; i < reader.raw_range().second; ++i) reader.decode(i, view);
      continue;
    }
    if (!reader.load(kColAll).is_ok()) continue;
    ++loaded;
    for (uint32_t i = 0; i < reader.size(); ++i) reader.decode(i, view);
  }
  MESSAGE("changed version-3 blocks that loaded: " << loaded);
}

// --- format version 2, kept readable ------------------------------------------

namespace {

// The events of the version-2 test vector below: the version-1 vector's,
// and text lines with every kind of skeleton variable (numbers, padded
// digits, addresses, hex of both cases, both time forms) in a few contexts.
std::vector<TestEvent> v2_vector_events() {
  std::vector<TestEvent> events = v1_vector_events();
  Rng rng(78);
  const int64_t base = (kBaseSeconds + 9000) * 1'000'000'000;
  for (int i = 0; i < 24; ++i) {
    const int64_t ts = base + i * 1'250'000;
    std::string line = "req ";
    line += rng.hex(32);
    line += " from " + rng.ip();
    line += " user=" + rng.digits(100000);
    line += " pad=000" + rng.digits(10);
    line += " id=" + rng.hex(16) + "ABCDEF";
    line += " at 2023-01-0" + std::to_string(1 + i % 9) + "T10:00:0" + std::to_string(i % 10) + ".123Z";
    line += " [0" + std::to_string(1 + i % 9) + "/Mar/2023:10:00:00 +0000] took " + rng.digits(1000) + "ms";
    events.push_back(text_event(ts, std::move(line)));
  }
  return events;
}

// A block of v2_vector_events() as format version 2 wrote it (zstd level 3),
// in hex.
constexpr const char* kV2BlockHex =
    "534c424b02200000000040fd9e488b2818b04010b9eb8c28180b01270000002e00000002230000006f000000832900000029"
    "00000004450000004b00000085280000002800000007d803000017090000081a01000041010000090b020000b30200008a0f"
    "0000000f0000000c5d020000950200000dd70000001401000028b52ffd202ef50000c08080eaef93d2c5a83090a10f040404"
    "00040404e8b9b70305010028600c28b52ffd206fd50000780080897af59ad8f293d2c5a830d00f0300a34371cee37c382206"
    "061700010604000003ff00000504000006ff0002ffff00000010324455555555555555555555555528b52ffd204be50100f4"
    "02090606060506080804007765622d3133373264622d31386170702d313031302e312e302e35387065657210324765880400"
    "3883ac24837645284b0505040603006e67696e78737368646f726465727362696e0010132244444444444444444444444428"
    "b52ffd601708751e009a41640b36604fd201300cc3300cc3300c0303905ca3462036f27e437f4b29e95964d80c6bdd476849"
    "a694524a499d7ad909c4a60b76e4279f3802c600b7008e001c114a25c20253393df354cffd9a1b8ac4d84492824249253c92"
    "06d7091d201ea6c304aa38e63cf2e6d54493b861fc1c03e08500010104a4afd5bab03fac1963d6547dff53726ee92cd81c95"
    "5153f88ca3392b6ce8601e99134306c391232814b3ccaea632918018753c84799a7907cd8764b2182551662259cc8a466279"
    "9450212086b50a485bab82d9301b4827442470f0e06183311103e2c386410ae77102040c93d120438161b000c338c0300d18"
    "6430c0300d304c06c60073c08181111b3602b878c0219bf7c8a98beb0f7267afeb3c4aef78fe78ddbdaae94a99315ac9d833"
    "d43cec5bc4cb45e86a4955ac532185a797ef68f2e749ac52e71ed58cb38379389f261e22bcf3940f7c644848241503e29c73"
    "2218041fcc8003a6928c860c182e58a8d056ffb21a6f62ee885407f330040674b0046202744c1a25c41c8487070f9d4c50c0"
    "9c68931691485b69528968249015cb449b4c425644832352311122f948118d0f498512b29847884963138908ca478986a295"
    "88684422014a2df2edc1dbe56c7632f5ec7a6d5d5cbc8379bfa85b438a75bf313386f214f19c31112d2b5709b5a69a9ff2f0"
    "6f4ff3577b29d2dfe3c9950f2e8dc78fe78a9d8e2cf56b7386b05943a4072ff3f6f116f3e41ed4c54bae25d92f5e0beffda3"
    "37eace65a12a6ffbf3820ed2fbc663be4699eb8e099db92f5b7cd061e6b9e6b5a2c76ca931576da967da957ec7f150948f5f"
    "b5b842eb38532c97b18678ab78cda7be79d46aa9a85c2da285c7d1f79ee72d27eaff5185c935e1e3b676ef8afabc9fd4b212"
    "ee27f3827ea79d1135847a59cd67bf0e42c7fbcc633fd46e6eb9b445952d8c21eed287f6fa0fb95342ab77ed5ab6df5342f7"
    "7a7a7841a478e9c6122957783a98075e63225c5fcd38b1ef42fd99b0fbe4f5c1ebbc4ce746babe49730571a86120668d310a"
    "9160868456b60ed002191932ed118020662033d28de4673d40098d498032e91b986f2ae27395810cd0d89e1651a29dbc447c"
    "b6446b339dd9b4bf9b37826848d59b48d95c0b05cc36c70d60c5cdbc6a74d26732e131de7648e651b42fefc78e059156d368"
    "68967c44b75c4d4c935d4454a56513514a44feb55080f17a28634c938f1bd444380cf665bfd9d85872221bb91f9e8cd750b5"
    "1aa94b5191230e603288c3aaa7938c357f0a06259a32177dd898d4926f9c60f11d8d5e34eaec4f996b64e3eeb44653d15e62"
    "53a9165a1b4271c39e4b65751c9ac933cb0d25404a70416e499145ec123121d61f28b52ffd604100850800f6d13e3460459b"
    "0e300c9425088220186810e4945a2277b1919dc5da47b29d824af0a1e9f68c6055c520a00aa8fe3fbe6113da24d4c8de2931"
    "002f002e009c5530ad50c66092eaca32f6a533aa27c388c59e1cad0a464b95305617c51ad79ef3767acde39ef7bc097222e7"
    "79cf2604d5644ab3aa6776494a5e5db30a460a65482f4b951663d8aadd932d14654a998269e5ce54b8ce0bab4ce7156bf7a5"
    "6b01fb692f498f14fef650e32bfdd93bfba671b76ffb33de0238b76f1726c7d4b0ada385c50923852b8a368c14960913120e"
    "8eff9317441a82c907240e12d11e0f77442ec0f00624cf88a47f1f008823407ed02c9a412379b47ffff676e1dc42fb060038"
    "d3642a3c98937dc63197db8d58330a28b52ffd60b3010d1000d6657626b01ad10360eff603ebea20da7e4ee3bb0d8d86c7a3"
    "7c61b32979e0f1620119ff8bfc04b0db5066006c0075005fcd8ebb1e0e4f4f99d9664d83c800c2f741610123f8babb1b6237"
    "a79bf3cda1df3f39ab33bd111ea2083e05a95fdaead24e2ead752aedbf942a5959ff7f49559754bfec4a103000e1ebba8b61"
    "9626820ff305b46dd3ea94ed7777cadd25f70c0683c164322f19d410215cfeccf8ba1a09c61611e26a5796adcd04630bb125"
    "9d96a6652db8b3d9b47449feec7277514e2ef710c2a0ccb26d72c601846f334d3026afb699582b576e18d4cdc9e9b69c419b"
    "84083e053af55ba7263b55ef4a55d76434f061cb77e9103ef814de2b957e5255d71776d5c6fa1af170b8a0e0bde7b9d9ba1c"
    "1605a2f7f0279461a2f72e17854dc6591fcb234a92f219c259c75d90c8804bb06b116f49a645878dcec785c642a42e5dd2ae"
    "33671ad70db9dab64544066964f228123d38226675a27673082342803a9c431966751834930c92195f24524545654ece9603"
    "978bcb962ddb01a2e8fdf4a2e83dff6bc2aab56fed957c72cc6349d47ee864f9e743fbafab5a4fe5a9284fe51f6a9abefbad"
    "966a5bf7f7db31bef72e0a975fc5c54487840584b49274b2feb2a29246f395562ef9db299379efbde9ba58ad52656b5f4a69"
    "070d007088a3a8508070cd84c345ef72540bd3448b18da4af8087a301ad50bace7ecfb0351a26e6f7420696e20746865206c"
    "696e6528b52ffd6095019d120094230505001880037d7b00df42a52d8be5d727da2b37f72a358b7d06d9195767a8613b82c2"
    "99af7e1b33ae4868e7b184cd58426ad09e5df8543e1dac5b07d133f00a6151c1f76721f003ae8ac24938f9859263c91305d9"
    "f96cb673c8878fc69a1eeff60c450a096df9c8c2e551ce3f8d5af713ba832d548e03afbca055b07caa809ac31adf248bc687"
    "4c5a2cea77343ad57f67a22cf4f5811bb1c355def9232b53901c934ac9b19a46fe8e9a9af68787bc33628c5316bbb7972f88"
    "edb20a05fb81e572d6630f9711d747b51de81712deeb1353f0046e370cc65cafe05e1a15d4e2607f70b3a4114f730506d9c9"
    "7258da0407a2a7b988d4e77302c509061e0ca64bb3977c7fb9dce1875662ce65c8e202f97f60c2b9cbad4994996c00e172d7"
    "5a1d890d5553df7bc10aaf6e95fe4afdff1654a1a19beb9056d6fc18220013a034e3ab7e122d3377277a91201ca6af97cbfe"
    "d25770e69a5c549d9bccc66a7d1464828041cd306bc9a8afaa52ea7fcc318a3bd104851b651f6f6ef920e8f87bdc2ff08a50"
    "34cce7e97801011740d29d03ff5ad0a002f49302d9d801b0bf0599b3058ab8048d82079bbf01d28c028a8108a79407d78902"
    "d02dea25fa42a89003f49f01cf3ddd870181e00380ab07030218150800010506040209071022235446277772456133750701"
    "187992d6bed8f8079bffe5a4019bffe5a401979b97e4e0ada60adbc6e3d79b08021831098fbc9a3c8ff68f3c8fb0853c8fea"
    "fa3b8fa4f03b8fdee53b8f98db3b8fd2d03b8f8cc63b1032547608214365871032540a00a0485575e002aa0640004b2103c6"
    "801650d77daf320528b52ffd6014006d06004651321410b073a103300cc330281d4d3ec4849d8d02892927002b002d009e29"
    "ef4c3867ea27e59e847752b928df225c8b9a413906e11754ebbc1aa76ea76992a42882a0ff115721acfcc1c21dac3664ce90"
    "f84256a1ca132a1ca1ea01e60688176009a87c80c205a806340728fe69031d3ed25584cb43381c84ebc7967b6c78c7560e2d"
    "dfd0700dad19598e91e117592db0bc02c329b04e5cb9c48507379fdcc683d77c4ae3c96796f134a693c374f0974e5d38790b"
    "0767e174e5cb553e3ce52b8a979f78b889d7922e270900";

}  // namespace

TEST_CASE("a version-2 block still decodes") { check_old_block(kV2BlockHex, 2, v2_vector_events()); }

// --- format version 3, kept readable ------------------------------------------

namespace {

// A block of v2_vector_events() as format version 3 wrote it (zstd level 3),
// in hex.
constexpr const char* kV3BlockHex =
    "534c424b03200000000040fd9e488b2818b04010b9eb8c28180c01270000002e00000002230000006f000000832900000029"
    "00000004450000004b00000085280000002800000007d803000017090000081a01000041010000090b020000b30200008a0f"
    "0000000f0000000c6d020000a90200000d5f000000970000000f75000000ce00000028b52ffd202ef50000c08080eaef93d2"
    "c5a83090a10f04040400040404e8b9b70305010028600c28b52ffd206fd50000780080897af59ad8f293d2c5a830d00f0300"
    "a34371cee37c382206061700010604000003ff00000504000006ff0002ffff00000010324455555555555555555555555528"
    "b52ffd204be50100f402090606060506080804007765622d3133373264622d31386170702d313031302e312e302e35387065"
    "6572103247658804003883ac24837645284b0505040603006e67696e78737368646f726465727362696e0010132244444444"
    "444444444444444428b52ffd601708751e009a41640b36604fd201300cc3300cc3300c0303905ca3462036f27e437f4b29e9"
    "5964d80c6bdd476849a694524a499d7ad909c4a60b76e4279f3802c600b7008e001c114a25c20253393df354cffd9a1b8ac4"
    "d84492824249253c9206d7091d201ea6c304aa38e63cf2e6d54493b861fc1c03e08500010104a4afd5bab03fac1963d6547d"
    "ff53726ee92cd81c955153f88ca3392b6ce8601e99134306c391232814b3ccaea632918018753c84799a7907cd8764b21825"
    "51662259cc8a4662799450212086b50a485bab82d9301b4827442470f0e06183311103e2c386410ae77102040c93d1204381"
    "61b000c338c0300d186430c0300d304c06c60073c08181111b3602b878c0219bf7c8a98beb0f7267afeb3c4aef78fe78ddbd"
    "aae94a99315ac9d833d43cec5bc4cb45e86a4955ac532185a797ef68f2e749ac52e71ed58cb38379389f261e22bcf3940f7c"
    "644848241503e29c732218041fcc8003a6928c860c182e58a8d056ffb21a6f62ee885407f330040674b0046202744c1a25c4"
    "1c8487070f9d4c50c09c68931691485b69528968249015cb449b4c425644832352311122f948118d0f498512b29847884963"
    "138908ca478986a29588684422014a2df2edc1dbe56c7632f5ec7a6d5d5cbc8379bfa85b438a75bf313386f214f19c31112d"
    "2b5709b5a69a9ff2f06f4ff3577b29d2dfe3c9950f2e8dc78fe78a9d8e2cf56b7386b05943a4072ff3f6f116f3e41ed4c54b"
    "ae25d92f5e0beffda337eace65a12a6ffbf3820ed2fbc663be4699eb8e099db92f5b7cd061e6b9e6b5a2c76ca931576da967"
    "da957ec7f150948f5fb5b842eb38532c97b18678ab78cda7be79d46aa9a85c2da285c7d1f79ee72d27eaff5185c935e1e3b6"
    "76ef8afabc9fd4b212ee27f3827ea79d1135847a59cd67bf0e42c7fbcc633fd46e6eb9b445952d8c21eed287f6fa0fb95342"
    "ab77ed5ab6df5342f77a7a7841a478e9c6122957783a98075e63225c5fcd38b1ef42fd99b0fbe4f5c1ebbc4ce746babe4973"
    "0571a86120668d310a9160868456b60ed002191932ed118020662033d28de4673d40098d498032e91b986f2ae27395810cd0"
    "d89e1651a29dbc447cb6446b339dd9b4bf9b37826848d59b48d95c0b05cc36c70d60c5cdbc6a74d26732e131de7648e651b4"
    "2fefc78e059156d36868967c44b75c4d4c935d4454a56513514a44feb55080f17a28634c938f1bd444380cf665bfd9d85872"
    "221bb91f9e8cd750b51aa94b5191230e603288c3aaa7938c357f0a06259a32177dd898d4926f9c60f11d8d5e34eaec4f996b"
    "64e3eeb44653d15e6253a9165a1b4271c39e4b65751c9ac933cb0d25404a70416e499145ec123121d61f28b52ffd60410085"
    "0800f6d13e3460459b0e300c9425088220186810e4945a2277b1919dc5da47b29d824af0a1e9f68c6055c520a00aa8fe3fbe"
    "6113da24d4c8de2931002f002e009c5530ad50c66092eaca32f6a533aa27c388c59e1cad0a464b95305617c51ad79ef3767a"
    "cde39ef7bc097222e779cf2604d5644ab3aa6776494a5e5db30a460a65482f4b951663d8aadd932d14654a998269e5ce54b8"
    "ce0bab4ce7156bf7a56b01fb692f498f14fef650e32bfdd93bfba671b76ffb33de0238b76f1726c7d4b0ada385c50923852b"
    "8a368c14960913120e8eff9317441a82c907240e12d11e0f77442ec0f00624cf88a47f1f008823407ed02c9a412379b47fff"
    "f676e1dc42fb060038d3642a3c98937dc63197db8d58330a28b52ffd60b3010d1000d6657626b01ad10360eff603ebea20da"
    "7e4ee3bb0d8d86c7a37c61b32979e0f1620119ff8bfc04b0db5066006c0075005fcd8ebb1e0e4f4f99d9664d83c800c2f741"
    "610123f8babb1b6237a79bf3cda1df3f39ab33bd111ea2083e05a95fdaead24e2ead752aedbf942a5959ff7f49559754bfec"
    "4a103000e1ebba8b619626820ff305b46dd3ea94ed7777cadd25f70c0683c164322f19d410215cfeccf8ba1a09c61611e26a"
    "5796adcd04630bb1259d96a6652db8b3d9b47449feec7277514e2ef710c2a0ccb26d72c601846f334d3026afb699582b576e"
    "18d4cdc9e9b69c419b84083e053af55ba7263b55ef4a55d76434f061cb77e9103ef814de2b957e5255d71776d5c6fa1af170"
    "b8a0e0bde7b9d9ba1c1605a2f7f0279461a2f72e17854dc6591fcb234a92f219c259c75d90c8804bb06b116f49a645878dce"
    "c785c642a42e5dd2ae33671ad70db9dab64544066964f228123d38226675a27673082342803a9c431966751834930c92195f"
    "24524545654ece9603978bcb962ddb01a2e8fdf4a2e83dff6bc2aab56fed957c72cc6349d47ee864f9e743fbafab5a4fe5a9"
    "284fe51f6a9abefbad966a5bf7f7db31bef72e0a975fc5c54487840584b49274b2feb2a29246f395562ef9db299379efbde9"
    "ba58ad52656b5f4a69070d007088a3a8508070cd84c345ef72540bd3448b18da4af8087a301ad50bace7ecfb0351a26e6f74"
    "20696e20746865206c696e6528b52ffd60a9011d130084240505129a1703001880037d7b00df42a52d8be5d727da2b37f72a"
    "358b7d06d9195767a8613b82c299af7e1b33ae4868e7b184cd58426ad09e5df8543e1dac5b07d133f00a6151c1f76721f003"
    "ae8ac24938f9859263c91305d9f96cb673c8878fc69a1eeff60c450a096df9c8c2e551ce3f8d5af713ba832d548e03afbca0"
    "55b07caa809ac31adf248bc6874c5a2cea77343ad57f67a22cf4f5811bb1c355def9232b53901c934ac9b19a46fe8e9a9af6"
    "8787bc33628c5316bbb7972f88edb20a05fb81e572d6630f9711d747b51de81712deeb1353f0046e370cc65cafe05e1a15d4"
    "e2607f70b3a4114f730506d9c97258da0407a2a7b988d4e77302c509061e0ca64bb3977c7fb9dce1875662ce65c8e202f97f"
    "60c2b9cbad4994996c00e172d75a1d890d5553df7bc10aaf6e95fe4afdff1654a1a19beb9056d6fc18220013a034e3ab7e12"
    "2d3377277a91201ca6af97cbfed25770e69a5c549d9bccc66a7d1464828041cd306bc9a8afaa52ea7fcc318a3bd104851b65"
    "1f6f6ef920e8f87bdc2ff08a5034cce7e97801e1b507c9011740d29d03ff5ad0a002f49302d9d801b0bf0599b3058ab8048d"
    "82079bbf01d28c028a8108a79407d78902d02dea25fa42a89003f49f01cf3ddd870181e00380ab070313532bf60218150800"
    "0105060402090710222354462777724561337507bd87259801187992d6bed8f8079bffe5a401979b97e4e0ada60adbc6e3d7"
    "9b08e41e81da021831098fbc9a3c8ff68f3c8fb0853c8feafa3b8fa4f03b8fdee53b8f98db3b8fd2d03b8f8cc63b10325476"
    "08214365871032540a00a0485575e002aa065f09602964c0322002d8250070490328b52ffd2097b50200328913091088ae0e"
    "0060f7e0538b8acb8a2a2726262322221f1e1e1b1a1a1716161312120f0e0e0b0a0a0706060302023f9f6fa7d3dd6cb6994c"
    "f672b9562ad5bb9f4ca69148f4f178361acd9e123a460d010001400228b52ffd20ce6503000406060001020304050018060b"
    "0e1114171a1d202326292c2f3235383b3e4144474a4d010717080c0f1215181b1e2124272a2d303336393c3f4245484e0109"
    "180a0d101316191c1f2225282b2e3134373a3d404346494c4f00010701094b070109000300209069a0a459411c";

}  // namespace

TEST_CASE("a version-3 block still decodes") { check_old_block(kV3BlockHex, 3, v2_vector_events()); }

// --- format version 4: a message named as a JSON string of its line ----------

TEST_CASE("a message decoded from a JSON string of its line is kept as that string") {
  // Escapes that keep the words (\" \\ \/), at the string's ends too, and
  // enough events for several parts.
  const char* const kEscaped[] = {"GET \\\"/a\\/b\\\" 200", "\\\"quoted\\\"", "C:\\\\dir\\\\file", "plain words"};
  std::vector<TestEvent> events;
  for (int i = 0; i < 700; ++i) {
    TestEvent e;
    e.timestamp_ns = (kBaseSeconds + i) * 1'000'000'000;
    e.raw = "{\"n\":";
    e.fields.push_back({"n", put(e.raw, std::to_string(i)), FieldType::kInt});
    e.raw += ",\"message\":\"";
    std::string escaped = kEscaped[i % 4];
    escaped += " #" + std::to_string(i);
    e.message_json = put(e.raw, escaped);
    e.raw += i % 2 ? "\"}" : "\",\"x\":1}";
    std::string decoded;
    for (size_t k = 0; k < escaped.size(); ++k) {
      if (escaped[k] == '\\') ++k;
      decoded.push_back(escaped[k]);
    }
    e.message = literal(decoded);
    events.push_back(e);
  }
  const Encoded encoded = encode(events);
  CHECK(static_cast<int>(encoded.block[4]) == 4);
  BlockReader reader;
  check_block(reader, encoded.block, events);  // every part alone too
  REQUIRE(reader.part_count() > 1);
  // No second copy: the messages are not literals.
  CHECK(column_bytes(encoded.block, static_cast<uint8_t>(BlockColumnId::kMessageLiterals)).empty());
  // The decoded message's words are in the filter (they are the line's).
  const BlockFilter filter(encoded.filter);
  for (const char* word : {"quoted", "dir", "file", "get"}) CHECK(filter.may_contain(text_token_hash(word)));

  SUBCASE("without message_json the message is a literal as before") {
    std::vector<TestEvent> literal_events = events;
    for (TestEvent& e : literal_events) e.message_json = Text{};
    const Encoded plain = encode(literal_events);
    check_block(reader, plain.block, literal_events);
    CHECK(column_bytes(plain.block, static_cast<uint8_t>(BlockColumnId::kMessageLiterals)).size() > 0);
  }
  SUBCASE("a string with another escape, or not the message's, is kept as a literal") {
    // The JSON parser sends only strings whose escapes keep their words and
    // that decode to the message; the builder checks both cheaply, so that
    // no block holds a string its reader would refuse.
    std::vector<TestEvent> odd(events.begin(), events.begin() + 3);
    odd[1].raw = "{\"message\":\"two\\nlines\"}";
    odd[1].fields.clear();
    odd[1].message_json = slice(odd[1].raw, 12, 10);
    odd[1].message = literal("two\nlines");
    odd[2].message = literal(std::string(odd[2].text(odd[2].message)) + "!");  // one byte more
    const Encoded kept = encode(odd);
    check_block(reader, kept.block, odd);
    CHECK(column_bytes(kept.block, static_cast<uint8_t>(BlockColumnId::kMessageLiterals)).size() > 0);
  }
}
