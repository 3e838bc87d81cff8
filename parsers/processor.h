// Processor: one step of a pipeline (grok, kv, json, date, mutate, drop).
//
// Built once from validated options, then immutable and shared by every
// parse worker. Per-thread mutable state (RE2 copies, simdjson parser,
// buffers) lives in the Scratch each worker makes once and keeps for life,
// so processing allocates nothing per event in steady state.
#pragma once

#include <memory>
#include <string_view>

#include "server/base/event.h"

namespace sluice::parsers {

class Scratch {
 public:
  virtual ~Scratch() = default;
};

// A Scratch for processors that need none.
class NoScratch final : public Scratch {};

enum class ProcessResult : uint8_t {
  kOk,      // done; continue with the next processor
  kFailed,  // no match / not applicable: the pipeline's failure path runs
  kDrop,    // the event is to be dropped (the drop processor)
};

// The event being processed and the batch that holds its fields.
//
// Invariant: the event's fields are the last `event.field_count` entries of
// `batch.fields` (workers run a pipeline on each event right after parsing
// it), so a processor may append, erase or reorder them freely. New strings
// go into `batch.arena`; views into the raw record stay valid.
struct EventContext {
  Event& event;
  EventBatch& batch;
};

class Processor {
 public:
  virtual ~Processor() = default;
  virtual std::unique_ptr<Scratch> make_scratch() const = 0;
  // Never blocks, never throws, keeps no pointer into the event afterwards.
  virtual ProcessResult process(EventContext& context, Scratch& scratch) const = 0;
  // "grok", "kv"... for metrics labels and errors.
  virtual std::string_view kind() const = 0;
};

// Field access shared by processors. "message", "host" and "app" name the
// event's own slots; everything else is a field.
namespace fields {

// The first value of `name`, or nullopt-like empty + false.
bool get(const EventContext& context, std::string_view name, std::string_view& value);

// Appends a field (several with one name make an array). `name` and `value`
// must outlive the batch (arena, raw record, or static).
void add(EventContext& context, std::string_view name, std::string_view value,
         FieldType type = FieldType::kString);

// Replaces every value of `name` by one value (or sets the slot).
void set(EventContext& context, std::string_view name, std::string_view value,
         FieldType type = FieldType::kString);

// Removes every field named `name` (or clears the slot); true if any was.
bool remove(EventContext& context, std::string_view name);

// Whether `name` is present (a non-empty slot or at least one field).
bool exists(const EventContext& context, std::string_view name);

// Whether `name` is one of the event's own slots (message, host, app).
bool is_slot_name(std::string_view name);

// Logstash's kv and json filters overwrite a field that existed before they
// ran, while values they add themselves under one name form an array. Removes
// `name` if it is among the first `preexisting` fields (those present before
// the processor ran; usually few, so n keys cost O(n * preexisting)) and
// lowers `preexisting` by what was removed.
void remove_preexisting(EventContext& context, std::string_view name, uint32_t& preexisting);

}  // namespace fields

}  // namespace sluice::parsers
