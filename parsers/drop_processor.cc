#include "parsers/drop_processor.h"

namespace sluice::parsers {

Expected<std::unique_ptr<Processor>> DropProcessor::create(const config::DropOptions&) {
  return std::unique_ptr<Processor>(std::make_unique<DropProcessor>());
}

}  // namespace sluice::parsers
