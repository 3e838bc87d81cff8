// json: parses a field holding a JSON document into fields, like Logstash's
// json filter.
//
// Members of an object become fields named by their key under `target`
// ("target.key"; top level when target is empty); nested objects are
// flattened to dotted names ("http.status"), up to 16 levels, deeper ones
// kept as JSON text. Arrays are kept as their compact JSON text. Numbers and
// booleans are typed (FieldType::kInt / kFloat / kBool), null is the text
// "null". Top-level keys message/host/app replace the event's slot.
//
// A document that is not an object is stored whole in `target` (typed as
// above), or fails without a target (Logstash: "requires a target").
// Invalid JSON fails (kFailed). A missing or empty source does nothing.
#pragma once

#include <memory>

#include "config/pipeline_options.h"
#include "parsers/processor.h"
#include "server/base/expected.h"

namespace sluice::parsers {

// Thread-safe: immutable after create(); per-worker state in its scratch.
class JsonProcessor final : public Processor {
 public:
  // Errors: an empty source.
  static Expected<std::unique_ptr<Processor>> create(const config::JsonOptions& options);

  std::unique_ptr<Scratch> make_scratch() const override;
  ProcessResult process(EventContext& context, Scratch& scratch) const override;
  std::string_view kind() const override { return "json"; }

 private:
  explicit JsonProcessor(const config::JsonOptions& options) : options_(options) {}
  config::JsonOptions options_;
};

}  // namespace sluice::parsers
