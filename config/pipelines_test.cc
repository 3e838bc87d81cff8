#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "config/options.h"

using sluice::Status;
using sluice::config::Located;
using sluice::config::PipelineSpec;
using sluice::config::Position;
using sluice::config::ProcessorSpec;
using sluice::config::ServerOptions;

namespace {

std::string at(int line, int column) {
  return Position{SLUICE_EXAMPLE_PIPELINES, line, column}.to_string();
}

// The error message of loading `yaml` as "p.yaml" ("" if it loads).
std::string error_of(const std::string& yaml) {
  ServerOptions options;
  Status status = sluice::config::load_config_text(yaml, "p.yaml", options);
  return status.is_ok() ? std::string() : status.message();
}

// A pipeline whose single processor is `processor` (a YAML flow or block
// mapping written at column 7 of line 4).
std::string with_processor(const std::string& processor) {
  return "pipelines:\n  - name: p\n    processors:\n      - " + processor + "\n";
}

void check_located(const Located<std::string>& located, const std::string& value, int line, int column) {
  CHECK(located.value == value);
  CHECK(located.position.to_string() == at(line, column));
}

}  // namespace

TEST_CASE("Position::to_string") {
  CHECK(Position{"a.yaml", 3, 7}.to_string() == "a.yaml:3:7");
  CHECK(Position{}.to_string() == "<built-in>");
  CHECK(PipelineSpec{}.on_failure.position.to_string() == "<built-in>");
}

TEST_CASE("no pipelines by default") {
  ServerOptions options;
  CHECK(options.pipelines.empty());
  CHECK(error_of("pipelines: []\n").empty());
  CHECK(error_of("pipelines:\n").empty());
}

TEST_CASE("config/examples/pipelines.yaml parses to the expected specs and positions") {
  ServerOptions options;
  Status status = sluice::config::load_config_file(SLUICE_EXAMPLE_PIPELINES, options);
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  REQUIRE(options.pipelines.size() == 4);
  CHECK(options.grok.patterns_dirs.empty());

  const PipelineSpec& nginx = options.pipelines[0];
  CHECK(nginx.name == "nginx");
  CHECK(nginx.position.to_string() == at(10, 5));
  CHECK(nginx.inputs == std::vector<std::string>{"syslog_tcp", "syslog_udp"});
  check_located(nginx.condition, "app == \"nginx\"", 12, 9);
  check_located(nginx.on_failure, "unparsed", 13, 17);
  REQUIRE(nginx.processors.size() == 3);
  {
    const ProcessorSpec& grok = nginx.processors[0];
    CHECK(grok.kind == "grok");
    CHECK(grok.position.to_string() == at(15, 9));
    CHECK(grok.condition.value.empty());
    CHECK(grok.grok.source == "message");
    REQUIRE(grok.grok.patterns.size() == 1);
    check_located(grok.grok.patterns[0], "%{COMBINEDAPACHELOG}", 17, 22);
    CHECK(grok.grok.overwrite.empty());
    CHECK(grok.grok.patterns_dirs.empty());
    CHECK(grok.grok.pattern_definitions.empty());
  }
  {
    const ProcessorSpec& date = nginx.processors[1];
    CHECK(date.kind == "date");
    CHECK(date.position.to_string() == at(18, 9));
    CHECK(date.date.source == "timestamp");
    REQUIRE(date.date.formats.size() == 2);
    check_located(date.date.formats[0], "%d/%b/%Y:%H:%M:%S %z", 20, 21);
    check_located(date.date.formats[1], "ISO8601", 20, 45);
    check_located(date.date.timezone, "UTC", 21, 21);
    CHECK(date.date.target.empty());
  }
  {
    const ProcessorSpec& mutate = nginx.processors[2];
    CHECK(mutate.kind == "mutate");
    REQUIRE(mutate.mutate.convert.size() == 2);
    CHECK(mutate.mutate.convert[0].first == "response");
    check_located(mutate.mutate.convert[0].second, "int", 23, 31);
    CHECK(mutate.mutate.convert[1].first == "bytes");
    check_located(mutate.mutate.convert[1].second, "int", 23, 43);
    CHECK(mutate.mutate.remove == std::vector<std::string>{"timestamp"});
    CHECK(mutate.mutate.rename.empty());
  }

  const PipelineSpec& sshd = options.pipelines[1];
  CHECK(sshd.name == "sshd");
  CHECK(sshd.inputs.empty());
  check_located(sshd.condition, "app == \"sshd\"", 27, 9);
  CHECK(sshd.on_failure.value == "tag");
  CHECK(sshd.on_failure.position.to_string() == "<built-in>");
  REQUIRE(sshd.processors.size() == 3);
  {
    const auto& grok = sshd.processors[0].grok;
    REQUIRE(grok.patterns.size() == 4);
    CHECK(grok.patterns[0].value.rfind("Accepted %{WORD:auth_method} for", 0) == 0);
    CHECK(grok.patterns[0].position.to_string() == at(31, 15));
    check_located(grok.patterns[3], "%{GREEDYDATA:message} \\[preauth\\]", 34, 15);
    REQUIRE(grok.pattern_definitions.size() == 1);
    CHECK(grok.pattern_definitions[0].first == "SSHD_DISCONNECT");
    CHECK(grok.pattern_definitions[0].second.position.to_string() == at(36, 30));
    CHECK(grok.overwrite == std::vector<std::string>{"message"});
    CHECK(grok.source == "message");
  }
  CHECK(sshd.processors[1].mutate.add == std::vector<std::pair<std::string, std::string>>{{"service", "ssh"}});
  CHECK(sshd.processors[1].mutate.lowercase == std::vector<std::string>{"auth_method"});
  CHECK(sshd.processors[2].kind == "drop");
  check_located(sshd.processors[2].condition, "message =~ \"^Connection closed by\"", 42, 20);

  const PipelineSpec& app = options.pipelines[2];
  CHECK(app.inputs == std::vector<std::string>{"http_ndjson"});
  CHECK(app.condition.value.empty());
  REQUIRE(app.processors.size() == 5);
  CHECK(app.processors[0].kind == "json");
  CHECK(app.processors[0].json.source == "message");
  CHECK(app.processors[0].json.target == "app");
  {
    const auto& kv = app.processors[1].kv;
    CHECK(app.processors[1].kind == "kv");
    CHECK(kv.source == "app.context");
    CHECK(kv.field_split == ";");
    CHECK(kv.value_split == "=");
    CHECK(kv.trim_value == "\"");
    CHECK(kv.trim_key.empty());
    CHECK(kv.prefix == "ctx_");
    CHECK(kv.target.empty());
  }
  {
    const auto& mutate = app.processors[2].mutate;
    CHECK(mutate.rename == std::vector<std::pair<std::string, std::string>>{{"app.lvl", "level"}});
    CHECK(mutate.uppercase == std::vector<std::string>{"level"});
    CHECK(mutate.split == std::vector<std::pair<std::string, std::string>>{{"app.tags", ","}});
    REQUIRE(mutate.gsub.size() == 2);
    CHECK(mutate.gsub[0].field == "app.path");
    check_located(mutate.gsub[0].pattern, "/\\d+", 54, 26);
    CHECK(mutate.gsub[0].replacement == "/:id");
    CHECK(mutate.gsub[1].field == "app.user_agent");
    check_located(mutate.gsub[1].pattern, "\\s+", 55, 48);
    CHECK(mutate.gsub[1].replacement == " ");
  }
  {
    const ProcessorSpec& date = app.processors[3];
    CHECK(date.date.source == "app.ts");
    REQUIRE(date.date.formats.size() == 1);
    check_located(date.date.formats[0], "UNIX_MS", 56, 42);
    CHECK(date.date.target == "app.time");
    CHECK(date.date.timezone.value == "UTC");
    CHECK(date.date.timezone.position.to_string() == "<built-in>");
    check_located(date.condition, "exists(app.ts)", 56, 74);
  }
  check_located(app.processors[4].condition, "severity > 6", 57, 20);

  const PipelineSpec& unparsed = options.pipelines[3];
  CHECK(unparsed.name == "unparsed");
  REQUIRE(unparsed.processors.size() == 1);
  CHECK(unparsed.processors[0].mutate.add ==
        std::vector<std::pair<std::string, std::string>>{{"parse_status", "failed"}});
}

TEST_CASE("grok.patterns_dir comes before each grok's own, once, wherever it is written") {
  const std::string yaml =
      "pipelines:\n"
      "  - name: p\n"
      "    processors:\n"
      "      - grok: {patterns: [x], patterns_dir: [/b, /a]}\n"
      "      - kv: {}\n"
      "      - grok: {patterns: [y]}\n"
      "grok:\n"
      "  patterns_dir: [/a, /c]\n";
  ServerOptions options;
  REQUIRE(sluice::config::load_config_text(yaml, "p.yaml", options).is_ok());
  REQUIRE(options.grok.patterns_dirs.size() == 2);
  CHECK(options.grok.patterns_dirs[1].position.to_string() == "p.yaml:8:22");
  auto values = [](const std::vector<Located<std::string>>& dirs) {
    std::vector<std::string> out;
    for (const auto& dir : dirs) out.push_back(dir.value);
    return out;
  };
  const auto& first = options.pipelines[0].processors[0].grok.patterns_dirs;
  CHECK(values(first) == std::vector<std::string>{"/c", "/b", "/a"});
  CHECK(first[0].position.to_string() == "p.yaml:8:22");
  CHECK(first[1].position.to_string() == "p.yaml:4:46");
  CHECK(values(options.pipelines[0].processors[2].grok.patterns_dirs) == std::vector<std::string>{"/a", "/c"});
  CHECK(options.pipelines[0].processors[1].kind == "kv");

  // Loading over the same options replaces the pipelines and adds nothing twice.
  REQUIRE(sluice::config::load_config_text(yaml, "p.yaml", options).is_ok());
  CHECK(options.pipelines.size() == 1);
  CHECK(values(options.pipelines[0].processors[2].grok.patterns_dirs) == std::vector<std::string>{"/a", "/c"});
  REQUIRE(sluice::config::load_config_text("pipelines: []\n", "p.yaml", options).is_ok());
  CHECK(options.pipelines.empty());
}

TEST_CASE("processors with only defaults") {
  ServerOptions options;
  Status status = sluice::config::load_config_text(
      "pipelines:\n  - name: p\n    processors:\n      - json:\n      - kv: {}\n      - drop:\n", "p.yaml",
      options);
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  REQUIRE(options.pipelines[0].processors.size() == 3);
  CHECK(options.pipelines[0].processors[0].json.source == "message");
  CHECK(options.pipelines[0].processors[1].kv.field_split == " ");
  CHECK(options.pipelines[0].processors[2].kind == "drop");
  CHECK(options.pipelines[0].processors[2].position.to_string() == "p.yaml:6:9");
}

TEST_CASE("unknown keys are errors with a suggestion") {
  CHECK(error_of("pipeline: []\n") == "p.yaml:1:1: unknown key 'pipeline' (did you mean 'pipelines'?)");
  CHECK(error_of("grok:\n  pattern_dir: [x]\n") ==
        "p.yaml:2:3: unknown key 'grok.pattern_dir' (did you mean 'grok.patterns_dir'?)");
  CHECK(error_of("pipelines:\n  - name: p\n    input: [relp]\n") ==
        "p.yaml:3:5: unknown key 'input' in pipeline (did you mean 'inputs'?)");
  CHECK(error_of(with_processor("grok: {sorce: message, patterns: [x]}")) ==
        "p.yaml:4:16: unknown key 'sorce' in grok (did you mean 'source'?)");
  CHECK(error_of(with_processor("grok: {patterns: [x], tag_on_failure: [x]}")) ==
        "p.yaml:4:31: unknown key 'tag_on_failure' in grok (known: source, patterns, overwrite, "
        "pattern_definitions, patterns_dir, if)");
  CHECK(error_of(with_processor("mutate: {convrt: {a: int}}")) ==
        "p.yaml:4:18: unknown key 'convrt' in mutate (did you mean 'convert'?)");
  CHECK(error_of(with_processor("grokk: {patterns: [x]}")) ==
        "p.yaml:4:9: unknown processor 'grokk' (did you mean 'grok'?)");
  CHECK(error_of(with_processor("csv: {}")) ==
        "p.yaml:4:9: unknown processor 'csv' (known: grok, kv, json, date, mutate, drop)");
  CHECK(error_of(with_processor("drop: {if: a, unless: b}")) ==
        "p.yaml:4:23: unknown key 'unless' in drop (known: if)");
  CHECK(error_of(with_processor("mutate: {gsub: [{field: a, regex: x, replacement: y}]}")) ==
        "p.yaml:4:36: unknown key 'regex' in mutate.gsub (known: field, pattern, replacement)\n"
        "p.yaml:4:25: mutate.gsub: each entry needs 'field', 'pattern' and 'replacement'");
}

TEST_CASE("wrong types are errors") {
  CHECK(error_of(with_processor("grok: {patterns: '%{IP}'}")) ==
        "p.yaml:4:26: grok.patterns: expected a list of strings");
  CHECK(error_of(with_processor("grok: {patterns: ['%{IP}', [x]]}")) ==
        "p.yaml:4:36: grok.patterns: expected a list of strings");
  CHECK(error_of(with_processor("grok: {patterns: []}")) == "p.yaml:4:26: grok.patterns: needs at least one pattern");
  CHECK(error_of(with_processor("grok: {patterns: [x], source: [a, b]}")) ==
        "p.yaml:4:39: grok.source: expected a string");
  CHECK(error_of(with_processor("grok: {patterns: [x], source: ''}")) == "p.yaml:4:39: grok.source: must not be empty");
  CHECK(error_of(with_processor("grok: {patterns: [x], pattern_definitions: [A]}")) ==
        "p.yaml:4:52: grok.pattern_definitions: expected a mapping of strings, like {name: value}");
  CHECK(error_of(with_processor("grok: {patterns: [x], pattern_definitions: {my-num: '\\d+'}}")) ==
        "p.yaml:4:52: grok.pattern_definitions: pattern name 'my-num' may only use letters, digits and '_'");
  CHECK(error_of(with_processor("mutate: {convert: {a: [int]}}")) ==
        "p.yaml:4:31: mutate.convert.a: expected a string");
  CHECK(error_of(with_processor("mutate: {gsub: [[a, x]]}")) ==
        "p.yaml:4:25: mutate.gsub: expected a list of [field, regex, replacement] or {field, pattern, replacement}");
  CHECK(error_of(with_processor("date: {formats: [ISO8601], timezone: {}}")) ==
        "p.yaml:4:46: date.timezone: expected a string");
  CHECK(error_of(with_processor("kv: {field_split: ''}")) == "p.yaml:4:27: kv.field_split: must not be empty");
  CHECK(error_of(with_processor("json: [message]")) ==
        "p.yaml:4:15: json: expected a mapping of options, like 'json: {...}'");
  // A null value is reported at its key: yaml-cpp marks it where the next token is.
  CHECK(error_of("pipelines:\n  - name: p\n    if:\n    processors: []\n") == "p.yaml:3:5: pipeline.if: expected a string");
  CHECK(error_of("pipelines:\n  - name: p\n    inputs: syslog_tcp\n") ==
        "p.yaml:3:13: pipeline.inputs: expected a list of strings");
  CHECK(error_of("pipelines:\n  - name: p\n    processors: {grok: {}}\n") ==
        "p.yaml:3:17: pipeline.processors: expected a list of processors, like '- grok: {...}'");
  CHECK(error_of("pipelines:\n  name: p\n") ==
        "p.yaml:2:3: pipelines: expected a list of pipelines, each starting '- name: ...'");
  CHECK(error_of("pipelines:\n  - nginx\n") ==
        "p.yaml:2:5: pipelines: each pipeline is a mapping with 'name' and 'processors'");
  CHECK(error_of("grok:\n  patterns_dir: /etc/p\n") == "p.yaml:2:17: grok.patterns_dir: expected a list of strings");
}

TEST_CASE("a processor is a one-key mapping") {
  // Options indented one level too little: the commonest slip.
  CHECK(error_of("pipelines:\n  - name: p\n    processors:\n      - grok:\n        patterns: [x]\n") ==
        "p.yaml:5:9: unexpected key 'patterns' beside 'grok': a processor is a one-key mapping, its kind, "
        "like '- grok: {...}'; indent its options (and 'if') under 'grok:'");
  CHECK(error_of(with_processor("drop: {}\n        if: severity > 6")) ==
        "p.yaml:5:9: unexpected key 'if' beside 'drop': a processor is a one-key mapping, its kind, "
        "like '- grok: {...}'; indent its options (and 'if') under 'drop:'");
  CHECK(error_of(with_processor("drop")) ==
        "p.yaml:4:9: a processor is a one-key mapping, its kind, like '- grok: {...}'; write '- drop: {}'");
  CHECK(error_of(with_processor("[grok]")) ==
        "p.yaml:4:9: a processor is a one-key mapping, its kind, like '- grok: {...}'");
  CHECK(error_of(with_processor("{}")) ==
        "p.yaml:4:9: a processor is a one-key mapping, its kind, like '- grok: {...}'");
}

TEST_CASE("required keys") {
  // A misspelt required key is reported once, as unknown.
  CHECK(error_of("pipelines:\n  - nmae: a\n") == "p.yaml:2:5: unknown key 'nmae' in pipeline (did you mean 'name'?)");
  CHECK(error_of(with_processor("grok: {pattern: [x]}")) ==
        "p.yaml:4:16: unknown key 'pattern' in grok (did you mean 'patterns'?)");
  CHECK(error_of("pipelines:\n  - processors: []\n") == "p.yaml:2:5: pipeline needs a 'name'");
  CHECK(error_of(with_processor("grok: {source: message}")) == "p.yaml:4:9: grok needs 'patterns', a list of grok patterns");
  CHECK(error_of(with_processor("grok:")) == "p.yaml:4:9: grok needs 'patterns', a list of grok patterns");
  CHECK(error_of(with_processor("date: {source: ts}")) ==
        "p.yaml:4:9: date needs 'formats', a list of ISO8601, UNIX, UNIX_MS or strftime patterns");
  CHECK(error_of(with_processor("mutate: {if: a == \"b\"}")) ==
        "p.yaml:4:9: mutate needs at least one of rename, remove, add, lowercase, uppercase, convert, split, gsub");
}

TEST_CASE("pipeline names, inputs and on_failure routes") {
  CHECK(error_of("pipelines:\n  - name: a\n  - name: b\n  - name: a\n") ==
        "p.yaml:4:11: duplicate pipeline name 'a' (first at line 2)");
  CHECK(error_of("pipelines:\n  - name: a\n    on_failure: fallbak\n  - name: fallback\n") ==
        "p.yaml:3:17: on_failure: no pipeline named 'fallbak' (did you mean 'fallback'?)");
  CHECK(error_of("pipelines:\n  - name: a\n    on_failure: elsewhere\n") ==
        "p.yaml:3:17: on_failure: no pipeline named 'elsewhere' (write 'tag' or the name of another pipeline)");
  CHECK(error_of("pipelines:\n  - name: a\n    on_failure: a\n") ==
        "p.yaml:3:17: on_failure: pipeline 'a' cannot route its failures to itself");
  // Routes may point forward.
  CHECK(error_of("pipelines:\n  - name: a\n    on_failure: b\n  - name: b\n    on_failure: tag\n").empty());
  CHECK(error_of("pipelines:\n  - name: web server\n") ==
        "p.yaml:2:11: pipeline.name: 'web server' may only use letters, digits, '_', '-' and '.'");
  CHECK(error_of("pipelines:\n  - name: tag\n") == "p.yaml:2:11: pipeline.name: 'tag' is reserved (on_failure: tag)");
  CHECK(error_of("pipelines:\n  - name: a\n    inputs: [syslog_tcp, sylog_udp]\n") ==
        "p.yaml:3:26: pipeline.inputs: unknown input 'sylog_udp' (did you mean 'syslog_udp'?)");
  CHECK(error_of("pipelines:\n  - name: a\n    inputs: [kafka]\n") ==
        "p.yaml:3:14: pipeline.inputs: unknown input 'kafka' (known: syslog_udp, syslog_tcp, http_ndjson, "
        "syslog_tls, relp, json_tcp, gelf_udp, gelf_tcp, gelf_http, es_bulk, collectd)");
}

TEST_CASE("duplicate keys are errors") {
  CHECK(error_of(with_processor("grok: {patterns: [x], patterns: [y]}")) ==
        "p.yaml:4:31: duplicate key 'patterns' in grok (first at line 4)");
  CHECK(error_of(with_processor("mutate: {convert: {a: int, a: float}}")) ==
        "p.yaml:4:36: mutate.convert: duplicate key 'a'");
  CHECK(error_of("pipelines: []\npipelines: []\n") == "p.yaml:2:1: duplicate key 'pipelines'");
}

TEST_CASE("every error is reported, one per line, in file order") {
  CHECK(error_of("pipelines:\n"
                 "  - name: a\n"
                 "    inptus: [relp]\n"
                 "    processors:\n"
                 "      - grok: {patterns: x}\n"
                 "      - date: {formats: [UNIX], tz: UTC}\n"
                 "  - name: a\n"
                 "ingest:\n"
                 "  workers: many\n") ==
        "p.yaml:3:5: unknown key 'inptus' in pipeline (did you mean 'inputs'?)\n"
        "p.yaml:5:26: grok.patterns: expected a list of strings\n"
        "p.yaml:6:33: unknown key 'tz' in date (known: source, formats, timezone, target, if)\n"
        "p.yaml:7:11: duplicate pipeline name 'a' (first at line 2)\n"
        "p.yaml:9:12: ingest.workers: expected an integer, got 'many'");
}

TEST_CASE("the commented example of config/sluice.yaml parses when uncommented") {
  std::ifstream in(SLUICE_DEFAULT_CONFIG);
  std::string line;
  std::string example;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == "# pipelines:") inside = true;
    if (!inside) continue;
    if (line.rfind("#", 0) != 0) break;
    example += line.size() > 2 ? line.substr(2) : "";
    example += "\n";
  }
  REQUIRE(example.find("COMBINEDAPACHELOG") != std::string::npos);
  ServerOptions options;
  Status status = sluice::config::load_config_text(example, "sluice.yaml example", options);
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  CHECK(options.pipelines.size() == 4);
  CHECK(options.pipelines[0].on_failure.value == "nginx_unparsed");
}
