#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "parsers/date_processor.h"
#include "parsers/drop_processor.h"
#include "parsers/json_processor.h"
#include "parsers/kv_processor.h"
#include "parsers/mutate_processor.h"

using namespace sluice;
using namespace sluice::parsers;

namespace {

constexpr int64_t kSecond = 1'000'000'000;

struct TestEvent {
  EventBatch batch;
  Event event;

  void add(std::string_view name, std::string_view value, FieldType type = FieldType::kString) {
    batch.fields.push_back(Field{name, value, type});
    ++event.field_count;
  }
  std::vector<std::string> values(std::string_view name) const {
    std::vector<std::string> out;
    const Field* fields = batch.fields_of(event);
    for (uint32_t i = 0; i < event.field_count; ++i) {
      if (fields[i].name == name) out.emplace_back(fields[i].value);
    }
    return out;
  }
  std::string value(std::string_view name) const {
    auto all = values(name);
    return all.size() == 1 ? all[0] : all.empty() ? "<absent>" : "<array>";
  }
  FieldType type(std::string_view name) const {
    const Field* fields = batch.fields_of(event);
    for (uint32_t i = 0; i < event.field_count; ++i) {
      if (fields[i].name == name) return fields[i].type;
    }
    return static_cast<FieldType>(99);
  }
};

using Strings = std::vector<std::string>;

// Runs `processor` on `test` with a fresh scratch.
ProcessResult run(const Processor& processor, TestEvent& test) {
  auto scratch = processor.make_scratch();
  EventContext context{test.event, test.batch};
  return processor.process(context, *scratch);
}

template <typename Options, typename Make>
std::unique_ptr<Processor> build(const Options& options, Make make) {
  auto created = make(options);
  REQUIRE_MESSAGE(created.has_value(), (created ? "" : created.error().message()));
  return std::move(created.value());
}

std::unique_ptr<Processor> kv(const config::KvOptions& options) { return build(options, KvProcessor::create); }
std::unique_ptr<Processor> json(const config::JsonOptions& options) { return build(options, JsonProcessor::create); }
std::unique_ptr<Processor> date(const config::DateOptions& options) { return build(options, DateProcessor::create); }
std::unique_ptr<Processor> mutate(const config::MutateOptions& options) {
  return build(options, MutateProcessor::create);
}

template <typename Options, typename Make>
std::string create_error(const Options& options, Make make) {
  auto created = make(options);
  return created ? "<created>" : created.error().message();
}

config::Position where(int line, int column) { return config::Position{"p.yaml", line, column}; }

config::DateOptions date_options(std::vector<std::string> formats, std::string timezone = "UTC") {
  config::DateOptions options;
  options.source = "ts";
  for (auto& format : formats) options.formats.push_back({format, where(3, 5)});
  options.timezone = {timezone, where(4, 13)};
  return options;
}

// The time `text` parses to, or -1 on kFailed.
int64_t parse_time(const Processor& processor, std::string_view text, int64_t received_ns = 0) {
  TestEvent test;
  test.event.received_ns = received_ns;
  test.add("ts", text);
  if (run(processor, test) != ProcessResult::kOk) return -1;
  return test.event.timestamp_ns;
}

}  // namespace

// ------------------------------------------------------------------ kv

TEST_CASE("kv: pairs split on spaces and =, pairs without value skipped") {
  auto processor = kv({});
  TestEvent test;
  test.event.message = "user=alice id=42 flag  dst=10.0.0.1 empty= =novalue a=b=c";
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.value("user") == "alice");
  CHECK(test.value("id") == "42");
  CHECK(test.value("dst") == "10.0.0.1");
  CHECK(test.value("a") == "b=c");  // only the first value separator splits
  CHECK(test.value("flag") == "<absent>");
  CHECK(test.value("empty") == "<absent>");
  CHECK(test.event.field_count == 4);
  // Views into the message, no copies.
  const Field* fields = test.batch.fields_of(test.event);
  const std::string_view message = test.event.message;
  for (uint32_t i = 0; i < test.event.field_count; ++i) {
    CHECK(fields[i].name.data() >= message.data());
    CHECK(fields[i].value.data() + fields[i].value.size() <= message.data() + message.size());
    CHECK(fields[i].type == FieldType::kString);
  }
}

TEST_CASE("kv: several separator characters, trimming, quotes") {
  config::KvOptions options;
  options.source = "query";
  options.field_split = "&;";
  options.value_split = "=:";
  options.trim_key = " <";
  options.trim_value = ">[]";
  auto processor = kv(options);
  TestEvent test;
  test.add("query", "a=1&b:2;  <c =[3]&d=\"x & y\"&e='single quoted'&f=\"unclosed");
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.value("a") == "1");
  CHECK(test.value("b") == "2");
  CHECK(test.value("c") == "3");
  CHECK(test.value("d") == "x & y");
  CHECK(test.value("e") == "single quoted");
  CHECK(test.value("f") == "\"unclosed");
}

TEST_CASE("kv: quoted values keep their separators, empty quotes are skipped") {
  auto processor = kv({});
  TestEvent test;
  test.event.message = R"(msg="hello world" q="" after=1 glued="x"y z=2)";
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.value("msg") == "hello world");
  CHECK(test.value("q") == "<absent>");
  CHECK(test.value("after") == "1");
  CHECK(test.value("glued") == "x");
  CHECK(test.value("z") == "2");
}

TEST_CASE("kv: prefix and target make arena names") {
  config::KvOptions options;
  options.prefix = "kv_";
  options.target = "t";
  auto processor = kv(options);
  TestEvent test;
  test.event.message = "a=1 b=2";
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.value("t.kv_a") == "1");
  CHECK(test.value("t.kv_b") == "2");
  options.target.clear();
  auto prefixed = kv(options);
  TestEvent other;
  other.event.message = "a=1";
  REQUIRE(run(*prefixed, other) == ProcessResult::kOk);
  CHECK(other.value("kv_a") == "1");
}

TEST_CASE("kv: repeated keys make arrays, earlier fields are replaced, slots are set") {
  auto processor = kv({});
  TestEvent test;
  test.add("user", "old");
  test.add("keep", "yes");
  test.event.message = "tag=a user=new tag=b host=web-9";
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.values("tag") == Strings{"a", "b"});
  CHECK(test.values("user") == Strings{"new"});
  CHECK(test.value("keep") == "yes");
  CHECK(test.event.host == "web-9");
  CHECK(test.value("host") == "<absent>");
}

TEST_CASE("kv: a missing or empty source adds nothing and does not fail") {
  config::KvOptions options;
  options.source = "nope";
  auto processor = kv(options);
  TestEvent test;
  test.event.message = "a=1";
  CHECK(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.event.field_count == 0);
  auto on_message = kv({});
  TestEvent empty;
  CHECK(run(*on_message, empty) == ProcessResult::kOk);
  CHECK(empty.event.field_count == 0);
  TestEvent separators_only;
  separators_only.event.message = "   ";
  CHECK(run(*on_message, separators_only) == ProcessResult::kOk);
  CHECK(separators_only.event.field_count == 0);
}

TEST_CASE("kv: option errors") {
  config::KvOptions options;
  options.field_split = "";
  CHECK(create_error(options, KvProcessor::create) == "kv: field_split must not be empty");
  options.field_split = " ";
  options.value_split = "";
  CHECK(create_error(options, KvProcessor::create) == "kv: value_split must not be empty");
  options.value_split = "= ";
  CHECK(create_error(options, KvProcessor::create) == "kv: the character ' ' is in both field_split and value_split");
  CHECK(kv({})->kind() == "kv");
}

// ------------------------------------------------------------------ json

TEST_CASE("json: objects flatten, scalars are typed, arrays stay JSON") {
  auto processor = json({});
  TestEvent test;
  test.event.message =
      R"({"user":"alice","http":{"status":200,"path":"/a\"b","timing":{"ms":1.5}},"ok":true,)"
      R"("none":null,"tags":["x\"y",1,{"a":false},null],"big":18446744073709551615,"neg":-3,"e":{}})";
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.value("user") == "alice");
  CHECK(test.type("user") == FieldType::kString);
  CHECK(test.value("http.status") == "200");
  CHECK(test.type("http.status") == FieldType::kInt);
  CHECK(test.value("http.path") == "/a\"b");
  CHECK(test.value("http.timing.ms") == "1.5");
  CHECK(test.type("http.timing.ms") == FieldType::kFloat);
  CHECK(test.value("ok") == "true");
  CHECK(test.type("ok") == FieldType::kBool);
  CHECK(test.value("none") == "null");
  CHECK(test.value("tags") == R"(["x\"y",1,{"a":false},null])");
  CHECK(test.type("tags") == FieldType::kString);
  CHECK(test.value("big") == "18446744073709551615");
  CHECK(test.type("big") == FieldType::kInt);
  CHECK(test.value("neg") == "-3");
  CHECK(test.value("e") == "<absent>");  // an empty object has no fields
  // The message keeps its text.
  CHECK(test.event.message.starts_with("{\"user\""));
}

TEST_CASE("json: target, top-level slots, overwritten fields") {
  config::JsonOptions options;
  options.source = "payload";
  options.target = "doc";
  auto processor = json(options);
  TestEvent test;
  test.add("payload", R"({"message":"inner","a":{"b":"c"}})");
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.value("doc.message") == "inner");
  CHECK(test.value("doc.a.b") == "c");
  CHECK(test.event.message.empty());

  auto top = json({});
  TestEvent slots;
  slots.add("status", "old");
  slots.event.message = R"({"message":"replaced","host":"h1","status":"new","app":"x"})";
  REQUIRE(run(*top, slots) == ProcessResult::kOk);
  CHECK(slots.event.message == "replaced");
  CHECK(slots.event.host == "h1");
  CHECK(slots.event.app == "x");
  CHECK(slots.values("status") == Strings{"new"});
}

TEST_CASE("json: invalid documents fail, missing or empty sources do nothing") {
  auto processor = json({});
  TestEvent invalid;
  invalid.event.message = R"({"a":)";
  CHECK(run(*processor, invalid) == ProcessResult::kFailed);
  CHECK(invalid.event.field_count == 0);
  TestEvent not_json;
  not_json.event.message = "plain text";
  CHECK(run(*processor, not_json) == ProcessResult::kFailed);
  TestEvent empty;
  CHECK(run(*processor, empty) == ProcessResult::kOk);
  config::JsonOptions missing_options;
  missing_options.source = "missing";
  auto missing = json(missing_options);
  TestEvent test;
  test.event.message = "{}";
  CHECK(run(*missing, test) == ProcessResult::kOk);
  CHECK(test.event.field_count == 0);
}

TEST_CASE("json: a non-object document needs a target") {
  auto processor = json({});
  TestEvent array;
  array.event.message = "[1,2]";
  CHECK(run(*processor, array) == ProcessResult::kFailed);
  config::JsonOptions options;
  options.target = "parsed";
  auto with_target = json(options);
  TestEvent test;
  test.event.message = " [1, \"two\"] ";
  REQUIRE(run(*with_target, test) == ProcessResult::kOk);
  CHECK(test.value("parsed") == R"([1,"two"])");
  TestEvent number;
  number.event.message = "42";
  REQUIRE(run(*with_target, number) == ProcessResult::kOk);
  CHECK(number.value("parsed") == "42");
  CHECK(number.type("parsed") == FieldType::kInt);
}

TEST_CASE("json: one scratch serves documents of any size; values outlive it") {
  auto processor = json({});
  auto scratch = processor->make_scratch();
  TestEvent big;
  std::string text = "{";
  for (int i = 0; i < 200; ++i) text += "\"k" + std::to_string(i) + "\":\"" + std::string(50, 'v') + "\",";
  text += "\"last\":1}";
  big.event.message = text;
  EventContext big_context{big.event, big.batch};
  REQUIRE(processor->process(big_context, *scratch) == ProcessResult::kOk);
  CHECK(big.event.field_count == 201);
  TestEvent small;
  small.event.message = R"({"k0":"small"})";
  EventContext small_context{small.event, small.batch};
  REQUIRE(processor->process(small_context, *scratch) == ProcessResult::kOk);
  CHECK(small.value("k0") == "small");
  CHECK(big.value("k0") == std::string(50, 'v'));  // in big's arena, untouched
}

TEST_CASE("json: objects deeper than 16 levels are kept as text") {
  auto processor = json({});
  TestEvent test;
  std::string text;
  for (int i = 0; i < 20; ++i) text += "{\"a\":";
  text += "1";
  for (int i = 0; i < 20; ++i) text += "}";
  test.event.message = text;
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  REQUIRE(test.event.field_count == 1);
  const Field& field = test.batch.fields_of(test.event)[0];
  std::string name = "a";
  for (int i = 0; i < 16; ++i) name += ".a";
  CHECK(field.name == name);
  CHECK(field.value == R"({"a":{"a":{"a":1}}})");
}

// ------------------------------------------------------------------ date

TEST_CASE("date: ISO8601 and its variants") {
  auto processor = date(date_options({"ISO8601"}));
  CHECK(parse_time(*processor, "2026-11-22T10:00:00Z") == 1795341600 * kSecond);
  CHECK(parse_time(*processor, "2026-11-22T10:00:00.5Z") == 1795341600 * kSecond + 500'000'000);
  CHECK(parse_time(*processor, "2026-11-22 10:00:00,123") == 1795341600 * kSecond + 123'000'000);
  CHECK(parse_time(*processor, "2026-11-22t10:00:00.123456789123z") == 1795341600 * kSecond + 123'456'789);
  CHECK(parse_time(*processor, "2026-11-22T11:00:00+01:00") == 1795341600 * kSecond);
  CHECK(parse_time(*processor, "2026-11-22T11:00:00+0100") == 1795341600 * kSecond);
  CHECK(parse_time(*processor, "2026-11-22T11:00:00+01") == 1795341600 * kSecond);
  CHECK(parse_time(*processor, "2026-11-22T05:30:00-04:30") == 1795341600 * kSecond);
  CHECK(parse_time(*processor, "2026-11-22 10:00:00 +00:00") == 1795341600 * kSecond);
  CHECK(parse_time(*processor, "2026-11-22T10:00") == 1795341600 * kSecond);
  CHECK(parse_time(*processor, "2026-11-22") == 1795305600 * kSecond);
  CHECK(parse_time(*processor, "2024-02-29T12:00:00Z") == 1709208000 * kSecond);
  CHECK(parse_time(*processor, "2026-02-29T12:00:00Z") == -1);
  CHECK(parse_time(*processor, "2026-13-01T00:00:00Z") == -1);
  CHECK(parse_time(*processor, "2026-11-22T24:00:00Z") == -1);
  CHECK(parse_time(*processor, "2026-11-22T10:00:00Zjunk") == -1);
  CHECK(parse_time(*processor, "2026-11-22T10:00:00.Z") == -1);
  CHECK(parse_time(*processor, "22/11/2026") == -1);
  CHECK(parse_time(*processor, "") == -1);
}

TEST_CASE("date: the timezone option applies to zone-less text only") {
  auto plus_two = date(date_options({"ISO8601"}, "+02:00"));
  CHECK(parse_time(*plus_two, "2026-11-22 12:00:00") == 1795341600 * kSecond);
  CHECK(parse_time(*plus_two, "2026-11-22T10:00:00Z") == 1795341600 * kSecond);
  auto minus = date(date_options({"%Y-%m-%d %H:%M:%S"}, "-0530"));
  CHECK(parse_time(*minus, "2026-11-22 04:30:00") == 1795341600 * kSecond);
  for (const char* utc : {"UTC", "GMT", "Z", "Etc/UTC"}) {
    auto processor = date(date_options({"ISO8601"}, utc));
    CHECK(parse_time(*processor, "2026-11-22 10:00:00") == 1795341600 * kSecond);
  }
}

TEST_CASE("date: a named timezone follows daylight saving time") {
  // Expected values from `TZ=Europe/Berlin date -d '2024-07-01 12:00:00' +%s`.
  auto berlin = date(date_options({"%Y-%m-%d %H:%M:%S"}, "Europe/Berlin"));
  CHECK(parse_time(*berlin, "2024-07-01 12:00:00") == 1719828000 * kSecond);  // 10:00:00Z
  CHECK(parse_time(*berlin, "2024-01-15 12:00:00") == 1705316400 * kSecond);  // 11:00:00Z
  // Gap: 02:30 does not exist and moves on to 03:30 CEST (01:30Z); overlap:
  // 02:30 happens twice, the earlier (CEST, 00:30Z) wins.
  CHECK(parse_time(*berlin, "2024-03-31 02:30:00") == 1711848600 * kSecond);
  CHECK(parse_time(*berlin, "2024-10-27 02:30:00") == 1729989000 * kSecond);

  auto new_york = date(date_options({"ISO8601"}, "America/New_York"));
  CHECK(parse_time(*new_york, "2024-07-01T12:00:00") == 1719849600 * kSecond);  // 16:00Z
  CHECK(parse_time(*new_york, "2024-07-01T12:00:00Z") == 1719835200 * kSecond);  // explicit zone wins
  CHECK(parse_time(*new_york, "2024-07-01T12:00:00+02:00") == 1719828000 * kSecond);

  // Without a year, the zone's offset at reception picks the year.
  auto syslog = date(date_options({"%b %e %H:%M:%S"}, "Europe/Berlin"));
  CHECK(parse_time(*syslog, "Jul  1 12:00:00", 1719878400 * kSecond) == 1719828000 * kSecond);

  auto options = date_options({"%Y-%m-%d %H:%M:%S"}, "Europe/Berlin");
  options.target = "when";
  auto with_target = date(options);
  TestEvent test;
  test.add("ts", "2024-07-01 12:00:00");
  REQUIRE(run(*with_target, test) == ProcessResult::kOk);
  CHECK(test.values("when") == Strings{"2024-07-01T10:00:00.000000000Z"});
}

TEST_CASE("date: UNIX and UNIX_MS") {
  auto processor = date(date_options({"UNIX"}));
  CHECK(parse_time(*processor, "1700000000") == 1700000000 * kSecond);
  CHECK(parse_time(*processor, "1700000000.25") == 1700000000 * kSecond + 250'000'000);
  CHECK(parse_time(*processor, "-1.5") == -1'500'000'000);
  CHECK(parse_time(*processor, "17e8") == -1);
  CHECK(parse_time(*processor, "1700000000.") == -1);
  auto millis = date(date_options({"UNIX_MS"}));
  CHECK(parse_time(*millis, "1700000000123") == 1700000000123 * 1'000'000);
  CHECK(parse_time(*millis, "1700000000123.5") == -1);
}

TEST_CASE("date: strftime-style patterns") {
  auto apache = date(date_options({"%d/%b/%Y:%H:%M:%S %z"}));
  CHECK(parse_time(*apache, "22/Nov/2026:11:00:00 +0100") == 1795341600 * kSecond);
  CHECK(parse_time(*apache, "22/nov/2026:10:00:00 Z") == 1795341600 * kSecond);
  CHECK(parse_time(*apache, "22/November/2026:10:00:00 +00:00") == 1795341600 * kSecond);
  CHECK(parse_time(*apache, "22/Nox/2026:10:00:00 +0000") == -1);

  auto compact = date(date_options({"%Y%m%d%H%M%S.%f"}));
  CHECK(parse_time(*compact, "20261122100000.5") == 1795341600 * kSecond + 500'000'000);

  auto short_year = date(date_options({"%y-%m-%d %T"}));
  CHECK(parse_time(*short_year, "26-11-22 10:00:00") == 1795341600 * kSecond);
  CHECK(parse_time(*short_year, "99-12-31 23:00:00") == 946681200 * kSecond);

  auto day_of_year = date(date_options({"%Y.%j"}));
  CHECK(parse_time(*day_of_year, "2026.100") == 1775779200 * kSecond);
  CHECK(parse_time(*day_of_year, "2026.366") == -1);

  auto twelve_hour = date(date_options({"%a, %d %b %Y %I:%M:%S %p %Z"}));
  CHECK(parse_time(*twelve_hour, "Sun, 22 Nov 2026 10:05:07 PM UTC") == 1795385107 * kSecond);
  CHECK(parse_time(*twelve_hour, "Sunday, 22 Nov 2026 10:05:07 pm GMT") == 1795385107 * kSecond);
  CHECK(parse_time(*twelve_hour, "Sun, 22 Nov 2026 12:00:00 AM UTC") == 1795305600 * kSecond);
  CHECK(parse_time(*twelve_hour, "Sun, 22 Nov 2026 10:05:07 PM CET") == -1);

  auto iso_date = date(date_options({"%F"}));
  CHECK(parse_time(*iso_date, "2026-11-22") == 1795305600 * kSecond);
  auto epoch = date(date_options({"@%s"}));
  CHECK(parse_time(*epoch, "@1700000000") == 1700000000 * kSecond);
  auto percent = date(date_options({"%Y%%%m%%%d"}));
  CHECK(parse_time(*percent, "2026%11%22") == 1795305600 * kSecond);
}

TEST_CASE("date: a pattern without a year takes the year closest to reception") {
  auto processor = date(date_options({"%b %e %H:%M:%S"}));
  const int64_t received = 1795341600 * kSecond;  // 2026-11-22T10:00:00Z
  CHECK(parse_time(*processor, "Nov  2 10:00:00", received) == 1793613600 * kSecond);
  CHECK(parse_time(*processor, "Nov 2 10:00:00", received) == 1793613600 * kSecond);
  CHECK(parse_time(*processor, "Nov 02 10:00:00", received) == 1793613600 * kSecond);
  // A December line read just after New Year is last year's...
  CHECK(parse_time(*processor, "Dec 31 23:59:59", 1798761601 * kSecond) == 1798761599 * kSecond);
  // ...and a January line read on New Year's Eve is next year's.
  CHECK(parse_time(*processor, "Jan  1 00:00:01", 1798761599 * kSecond) == 1798761601 * kSecond);
  // Without a reception time, "now" is used: the result is within a year of it.
  CHECK(parse_time(*processor, "Nov  2 10:00:00") > 0);
}

TEST_CASE("date: formats are tried in order; no match fails") {
  auto processor = date(date_options({"UNIX", "ISO8601", "%d.%m.%Y"}));
  CHECK(parse_time(*processor, "1700000000") == 1700000000 * kSecond);
  CHECK(parse_time(*processor, "2026-11-22") == 1795305600 * kSecond);
  CHECK(parse_time(*processor, "22.11.2026") == 1795305600 * kSecond);
  CHECK(parse_time(*processor, "yesterday") == -1);
}

TEST_CASE("date: missing source does nothing, empty source fails, target gets RFC3339") {
  auto processor = date(date_options({"ISO8601"}));
  TestEvent missing;
  missing.event.timestamp_ns = 7;
  CHECK(run(*processor, missing) == ProcessResult::kOk);
  CHECK(missing.event.timestamp_ns == 7);
  TestEvent empty;
  empty.add("ts", "");
  CHECK(run(*processor, empty) == ProcessResult::kFailed);

  auto options = date_options({"UNIX_MS"});
  options.target = "when";
  auto with_target = date(options);
  TestEvent test;
  test.event.timestamp_ns = 7;
  test.add("ts", "1795341600123");
  test.add("when", "old");
  REQUIRE(run(*with_target, test) == ProcessResult::kOk);
  CHECK(test.event.timestamp_ns == 7);
  CHECK(test.values("when") == Strings{"2026-11-22T10:00:00.123000000Z"});

  config::DateOptions defaults;  // source "timestamp"
  defaults.formats.push_back({"ISO8601", {}});
  auto on_timestamp = date(defaults);
  TestEvent by_default;
  by_default.add("timestamp", "2026-11-22T10:00:00Z");
  REQUIRE(run(*on_timestamp, by_default) == ProcessResult::kOk);
  CHECK(by_default.event.timestamp_ns == 1795341600 * kSecond);
}

TEST_CASE("date: option errors carry the option's position") {
  config::DateOptions none;
  CHECK(create_error(none, DateProcessor::create) == "date: at least one format is required");
  CHECK(create_error(date_options({"%Y-%Q"}), DateProcessor::create)
            .starts_with("p.yaml:3:5: date format \"%Y-%Q\": unsupported directive %Q"));
  CHECK(create_error(date_options({"%Y%"}), DateProcessor::create) ==
        "p.yaml:3:5: date format \"%Y%\" ends with a lone %");
  CHECK(create_error(date_options({"ISO8061"}), DateProcessor::create) ==
        "p.yaml:3:5: date format \"ISO8061\" has no % directive; expected ISO8601, UNIX, UNIX_MS or a "
        "strftime-style pattern");
  CHECK(create_error(date_options({"ISO8601"}, "Foo/Bar"), DateProcessor::create).starts_with(
      "p.yaml:4:13: timezone: unknown time zone \"Foo/Bar\" (no "));
  CHECK(create_error(date_options({"ISO8601"}, "../etc/passwd"), DateProcessor::create) ==
        "p.yaml:4:13: timezone: time zone \"../etc/passwd\": must not contain \"..\"");
  CHECK(create_error(date_options({"ISO8601"}, "1:00"), DateProcessor::create)
            .starts_with("p.yaml:4:13: timezone: time zone \"1:00\": invalid character"));
  CHECK(create_error(date_options({"ISO8601"}, "+25:00"), DateProcessor::create) ==
        "p.yaml:4:13: timezone \"+25:00\": expected UTC or an offset +hh:mm / -hh:mm within 18 hours");
  CHECK(create_error(date_options({"ISO8601"}, "+1:00"), DateProcessor::create) != "<created>");
  CHECK(date(date_options({"ISO8601"}))->kind() == "date");
}

// ------------------------------------------------------------------ mutate

TEST_CASE("mutate: rename moves every value and replaces the target") {
  config::MutateOptions options;
  options.rename = {{"src", "dst"}, {"missing", "x"}, {"message", "original"}, {"hostname", "host"}};
  auto processor = mutate(options);
  TestEvent test;
  test.event.message = "text";
  test.add("src", "1", FieldType::kInt);
  test.add("dst", "old");
  test.add("src", "2", FieldType::kInt);
  test.add("hostname", "web-1");
  test.add("hostname", "web-2");
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.values("dst") == Strings{"1", "2"});
  CHECK(test.type("dst") == FieldType::kInt);
  CHECK(test.value("src") == "<absent>");
  CHECK(test.value("x") == "<absent>");
  CHECK(test.event.message.empty());
  CHECK(test.value("original") == "text");
  CHECK(test.event.host == "web-1");
  CHECK(test.value("hostname") == "<absent>");
}

TEST_CASE("mutate: remove fields and slots") {
  config::MutateOptions options;
  options.remove = {"a", "app", "missing"};
  auto processor = mutate(options);
  TestEvent test;
  test.event.app = "nginx";
  test.add("a", "1");
  test.add("b", "2");
  test.add("a", "3");
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.value("a") == "<absent>");
  CHECK(test.value("b") == "2");
  CHECK(test.event.app.empty());
}

TEST_CASE("mutate: add with %{field} references") {
  config::MutateOptions options;
  options.add = {{"where", "%{host}/%{path} (%{nope})"}, {"tag", "b"}, {"app", "set-if-empty"},
                 {"host", "not-replaced"}, {"plain", "x"}, {"empty", ""}};
  auto processor = mutate(options);
  TestEvent test;
  test.event.host = "web-1";
  test.add("path", "/a");
  test.add("tag", "a");
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.value("where") == "web-1//a (%{nope})");
  CHECK(test.values("tag") == Strings{"a", "b"});
  CHECK(test.event.app == "set-if-empty");
  CHECK(test.event.host == "web-1");
  CHECK(test.value("plain") == "x");
  CHECK(test.values("empty") == Strings{""});

  config::MutateOptions bad;
  bad.add = {{"x", "%{unclosed"}};
  CHECK(create_error(bad, MutateProcessor::create) == "mutate: add \"x\": unclosed %{ in \"%{unclosed\"");
  bad.add = {{"x", "a%{}b"}};
  CHECK(create_error(bad, MutateProcessor::create) == "mutate: add \"x\": empty %{} in \"a%{}b\"");
}

TEST_CASE("mutate: uppercase and lowercase") {
  config::MutateOptions options;
  options.uppercase = {"method", "host"};
  options.lowercase = {"level", "tags"};
  auto processor = mutate(options);
  TestEvent test;
  test.event.host = "web-1";
  test.add("method", "get");
  test.add("level", "already lower");
  test.add("tags", "A");
  test.add("tags", "B-é");
  const char* unchanged = test.batch.fields[1].value.data();
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.value("method") == "GET");
  CHECK(test.event.host == "WEB-1");
  CHECK(test.values("tags") == Strings{"a", "b-é"});
  CHECK(test.value("level") == "already lower");
  CHECK(test.batch.fields_of(test.event)[1].value.data() == unchanged);  // no copy
}

TEST_CASE("mutate: convert sets types; what doesn't convert stays") {
  config::MutateOptions options;
  options.convert = {{"i", {"int", {}}},     {"f", {"float", {}}},  {"b", {"boolean", {}}},
                     {"s", {"string", {}}}, {"bad", {"integer", {}}}, {"message", {"int", {}}}};
  auto processor = mutate(options);
  TestEvent test;
  test.event.message = "5";
  test.add("i", "007");
  test.add("i", "3.9");
  test.add("i", "-2");
  test.add("i", "+4");
  test.add("f", ".5");
  test.add("f", "1e3");
  test.add("f", "x");
  test.add("b", "Yes");
  test.add("b", "0");
  test.add("b", "maybe");
  test.add("s", "12", FieldType::kInt);
  test.add("bad", "twelve", FieldType::kString);
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.values("i") == Strings{"7", "3", "-2", "4"});
  CHECK(test.type("i") == FieldType::kInt);
  CHECK(test.values("f") == Strings{"0.5", "1e3", "x"});
  const Field* fields = test.batch.fields_of(test.event);
  CHECK(fields[4].type == FieldType::kFloat);
  CHECK(fields[5].type == FieldType::kFloat);
  CHECK(fields[6].type == FieldType::kString);
  CHECK(test.values("b") == Strings{"true", "false", "maybe"});
  CHECK(fields[7].type == FieldType::kBool);
  CHECK(fields[9].type == FieldType::kString);
  CHECK(test.type("s") == FieldType::kString);
  CHECK(test.value("bad") == "twelve");
  CHECK(test.type("bad") == FieldType::kString);
  CHECK(test.event.message == "5");

  config::MutateOptions bad;
  bad.convert = {{"x", {"integr", where(7, 12)}}};
  CHECK(create_error(bad, MutateProcessor::create) ==
        "p.yaml:7:12: mutate convert \"x\": unknown type \"integr\" (expected int, integer, float, bool, boolean or "
        "string)");
}

TEST_CASE("mutate: split makes an array") {
  config::MutateOptions options;
  options.split = {{"list", ","}, {"words", " :: "}, {"array", ","}, {"message", " "}, {"none", ","}};
  auto processor = mutate(options);
  TestEvent test;
  test.event.message = "a b";
  test.add("list", "a,b,,c,,");
  test.add("words", "x :: y");
  test.add("array", "1,2");
  test.add("array", "3");
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.values("list") == Strings{"a", "b", "", "c"});
  CHECK(test.values("words") == Strings{"x", "y"});
  CHECK(test.values("array") == Strings{"1,2", "3"});
  CHECK(test.event.message == "a b");

  config::MutateOptions bad;
  bad.split = {{"x", ""}};
  CHECK(create_error(bad, MutateProcessor::create) == "mutate: split \"x\": empty separator");
}

TEST_CASE("mutate: gsub with groups, empty matches, slots and arrays") {
  config::MutateOptions options;
  options.gsub = {{"email", {R"((\w+)@(\w+))", {}}, R"(\2 at \1)"},
                  {"digits", {R"(\d)", {}}, "#"},
                  {"empty", {"x*", {}}, "-"},
                  {"message", {"secret=\\S+", {}}, "secret=***"}};
  auto processor = mutate(options);
  TestEvent test;
  test.event.message = "login secret=hunter2 ok";
  test.add("email", "alice@example and bob@host");
  test.add("digits", "a1b22");
  test.add("digits", "none");
  test.add("empty", "abc");
  const char* none = "none";
  (void)none;
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  CHECK(test.value("email") == "example at alice and host at bob");
  CHECK(test.values("digits") == Strings{"a#b##", "none"});
  CHECK(test.value("empty") == "-a-b-c-");
  CHECK(test.event.message == "login secret=*** ok");

  config::MutateOptions bad;
  bad.gsub = {{"x", {"(", where(9, 3)}, ""}};
  CHECK(create_error(bad, MutateProcessor::create).starts_with("p.yaml:9:3: mutate gsub \"x\": invalid regular expression \"(\": "));
  bad.gsub = {{"x", {"(a)", where(9, 3)}, "\\2"}};
  CHECK(create_error(bad, MutateProcessor::create).starts_with("p.yaml:9:3: mutate gsub \"x\": replacement \"\\2\": "));
}

TEST_CASE("mutate: operations run in Logstash's order") {
  config::MutateOptions options;
  // Listed out of order on purpose.
  options.add = {{"status", "%{status}!"}};
  options.split = {{"status", "-"}};
  options.remove = {"status"};
  options.lowercase = {"code"};
  options.uppercase = {"code"};
  options.gsub = {{"code", {"a", {}}, "b"}};
  options.convert = {{"code", {"string", {}}}};
  options.rename = {{"status", "code"}};
  auto processor = mutate(options);
  TestEvent test;
  test.add("status", "Aa-1", FieldType::kInt);
  REQUIRE(run(*processor, test) == ProcessResult::kOk);
  // rename status->code; convert code to string; gsub a->b: "Ab-1";
  // uppercase "AB-1" then lowercase "ab-1"; remove status (gone by then);
  // split status (absent); add status from a missing %{status}.
  CHECK(test.value("code") == "ab-1");
  CHECK(test.type("code") == FieldType::kString);
  CHECK(test.value("status") == "%{status}!");
}

TEST_CASE("mutate: one scratch across events; empty options are a no-op") {
  config::MutateOptions options;
  options.gsub = {{"f", {"o", {}}, "0"}};
  auto processor = mutate(options);
  auto scratch = processor->make_scratch();
  for (const char* text : {"foo", "a much longer value with o's in it", "no match here? yes: o", "xyz"}) {
    TestEvent test;
    test.add("f", text);
    EventContext context{test.event, test.batch};
    REQUIRE(processor->process(context, *scratch) == ProcessResult::kOk);
    std::string expected = text;
    for (char& c : expected) {
      if (c == 'o') c = '0';
    }
    CHECK(test.value("f") == expected);
  }
  auto nothing = mutate({});
  TestEvent test;
  test.add("a", "1");
  CHECK(run(*nothing, test) == ProcessResult::kOk);
  CHECK(test.value("a") == "1");
  CHECK(nothing->kind() == "mutate");
}

// ------------------------------------------------------------------ drop

TEST_CASE("drop: always answers kDrop") {
  auto created = DropProcessor::create({});
  REQUIRE(created);
  TestEvent test;
  CHECK(run(*created.value(), test) == ProcessResult::kDrop);
  CHECK(created.value()->kind() == "drop");
}
