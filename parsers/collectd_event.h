// One collectd value list (an element of the JSON array collectd's
// write_http plugin posts with Format "JSON") -> one event.
//
//   {"values":[0.5],"dstypes":["gauge"],"dsnames":["value"],"time":1280959128.1,
//    "interval":10,"host":"h","plugin":"cpu","plugin_instance":"0",
//    "type":"percent","type_instance":"idle"}
//
// becomes host "h", app "collectd", the time as the event's timestamp, the
// message "cpu-0/percent-idle value=0.5", and the fields plugin,
// plugin_instance, type, type_instance (when not empty), interval, and per
// data source values.<dsname> (a number; NaN, written as null, is left out)
// and dstypes.<dsname> ("gauge", "derive", "counter", "absolute").
#pragma once

#include <simdjson.h>

#include <string_view>

#include "server/base/event.h"

namespace sluice::parsers {

// Thread: one instance per parse worker (reuses its simdjson buffers).
class CollectdParser {
 public:
  // Like JsonEventParser::parse: `readable_bytes` from text.data() include
  // simdjson's padding; names and values go to batch.arena. Returns an empty
  // view on success or a short static reason, leaving no fields behind.
  std::string_view parse(std::string_view text, size_t readable_bytes, EventBatch& batch, Event& event);

 private:
  simdjson::dom::parser parser_;
};

}  // namespace sluice::parsers
