// kv: splits a field of "key=value" pairs into fields, like Logstash's kv
// filter.
//
// The source is split into pairs at any of `field_split`'s characters and
// each pair at the first of `value_split`'s. A value that starts with " or '
// runs to the matching quote (separators inside are kept) and loses the
// quotes. Keys and values are then trimmed of `trim_key`/`trim_value`
// characters at both ends. Pairs without a separator, with an empty key or
// with an empty value are skipped (Logstash's allow_empty_values: false).
// A repeated key makes an array (several fields with one name). Keys named
// message/host/app at the top level replace the event's slot.
//
// A missing or empty source is not a failure: nothing is added (Logstash does
// the same). Names and values are views into the source; only a name that
// gets a prefix or a target is copied into the batch arena.
#pragma once

#include <memory>
#include <string>

#include "config/pipeline_options.h"
#include "parsers/processor.h"
#include "server/base/expected.h"

namespace sluice::parsers {

// Thread-safe: immutable after create().
class KvProcessor final : public Processor {
 public:
  // Errors: an empty field_split or value_split, or a character in both.
  static Expected<std::unique_ptr<Processor>> create(const config::KvOptions& options);

  std::unique_ptr<Scratch> make_scratch() const override;
  ProcessResult process(EventContext& context, Scratch& scratch) const override;
  std::string_view kind() const override { return "kv"; }

 private:
  explicit KvProcessor(const config::KvOptions& options) : options_(options) {}
  // The prefix put before every key: "target." + prefix.
  std::string name_prefix_;
  config::KvOptions options_;
};

}  // namespace sluice::parsers
