// block_bytes: bytes on disk per event of the store's blocks, column by
// column, for a file of LF-framed syslog lines (sluice_gen_logs' output).
//
//   block_bytes FILE [--count N] [--level L] [--filter fingerprint|bloom] [--bits B] [--max-events N] [--max-raw-bytes N]
//               [--stop-after parse|encode] [--part-repeats K] [--json 1]
//
// --stop-after stops after parsing, or after encoding every block (no
// decoding), so that `perf stat -e instructions:u` of the runs tells the
// encoder's instructions apart from the rest: CPU seconds on a shared
// machine vary by 20% from run to run.
//
// Each line is parsed as a parse worker does with the default config (the
// syslog header only, no pipelines; with --json 1, a JSON line as the
// json-tcp input maps it), goes through the store's event value
// encoding (encode_event_value, decode_event_value: what the store buffers
// and hands to BlockBuilder), and blocks are cut at the store's default
// limits (16,384 events or 4 MiB of raw text). Events are taken in file
// order; the store also splits them by UTC day, which the generator's
// stream crosses a few times only.
//
// Prints bytes/event per column (the compressed bytes the directory
// records), the header, the filter, the total, the CPU seconds to encode
// (add + finish) and to decode (open, load everything, decode every event)
// per 1M events, and checks that every decoded raw line equals its input,
// and a digest (FNV-1a) of every block's and filter's bytes: a change meant
// to keep the format's output must keep it.
// It also loads each block's last part alone (BlockReader::load_part, what
// a search for a rare key does), --part-repeats times (1), and prints the
// CPU milliseconds of a part next to those of a whole block.
#include <zstd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/json_event.h"
#include "parsers/syslog_parser.h"
#include "server/base/event.h"
#include "storage/block_codec.h"
#include "storage/event_codec.h"

using namespace sluice;
using namespace sluice::storage;

namespace {

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

constexpr size_t kColumnSlots = 16;
const char* const kColumnNames[kColumnSlots] = {
    "header",          "timestamps", "received", "attrs", "host", "app", "skeleton_lengths", "skeleton", "records",
    "field_values", "field_literals", "message_literals", "skeleton_values", "skeleton_segments", "part_restarts",
    "segment_successors"};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: block_bytes FILE [--count N] [--level L] [--filter fingerprint|bloom] [--bits B] [--max-events N] [--max-raw-bytes N] "
                 "[--stop-after parse|encode] [--part-repeats K] [--json 1]\n");
    return 2;
  }
  const char* path = argv[1];
  size_t max_count = SIZE_MAX;
  int level = 3;
  uint32_t bits = 10;  // of a Bloom filter (--filter bloom)
  bool fingerprints = true;
  size_t max_events = 16384;
  size_t max_raw_bytes = size_t{4} << 20;
  std::string_view stop_after;
  int part_repeats = 1;
  bool json = false;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--filter") {
      fingerprints = std::string_view(argv[i + 1]) != "bloom";
      continue;
    }
    if (flag == "--stop-after") {
      stop_after = argv[i + 1];
      continue;
    }
    const unsigned long long value = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--count") max_count = value;
    else if (flag == "--level") level = static_cast<int>(std::strtol(argv[i + 1], nullptr, 10));
    else if (flag == "--bits") bits = static_cast<uint32_t>(value);
    else if (flag == "--max-events") max_events = value;
    else if (flag == "--max-raw-bytes") max_raw_bytes = value;
    else if (flag == "--part-repeats") part_repeats = static_cast<int>(value);
    else if (flag == "--json") json = value != 0;
    else {
      std::fprintf(stderr, "block_bytes: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "block_bytes: cannot open %s\n", path);
    return 1;
  }
  std::string text;
  {
    std::ostringstream whole;
    whole << file.rdbuf();
    text = std::move(whole).str();
  }
  // simdjson reads up to its padding past a line's end.
  const size_t text_bytes = text.size();
  text.resize(text_bytes + 64, '\0');
  text.resize(text_bytes);

  // Parse every line once, as a worker does, into the store's buffered
  // event values.
  std::vector<std::string> values;
  std::vector<int64_t> timestamps;
  std::vector<std::string_view> lines;
  size_t raw_bytes = 0;
  {
    parsers::SyslogOptions options;
    parsers::JsonEventParser json_parser;
    EventBatch batch;
    size_t at = 0;
    int64_t received = 0;
    while (at < text.size() && lines.size() < max_count) {
      size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      const std::string_view line(text.data() + at, end - at);
      at = end + 1;
      batch.clear();
      Event event;
      event.input = json ? InputId::kJsonTcp : InputId::kSyslogTcp;
      event.first_field = 0;
      if (json) {
        event.raw = line;
        if (!json_parser.parse(line, text.capacity() - static_cast<size_t>(line.data() - text.data()), batch, event).empty()) {
          std::fprintf(stderr, "block_bytes: line %zu is not a JSON object\n", lines.size() + 1);
          return 1;
        }
      } else {
        parsers::parse_syslog_event(line, options, batch, event);
      }
      if (event.host.empty()) event.host = "10.0.0.1";
      // One receive time per TCP read of about 64 lines, a little after
      // the last of them was sent.
      if (lines.size() % 64 == 0) received = event.timestamp_ns + 1'500'000;
      event.received_ns = received;
      std::string value;
      encode_event_value(event, batch.fields_of(event), value);
      values.push_back(std::move(value));
      timestamps.push_back(event.timestamp_ns);
      lines.push_back(line);
      raw_bytes += line.size() + 1;
    }
  }
  const size_t n = lines.size();
  if (n == 0) {
    std::fprintf(stderr, "block_bytes: no lines\n");
    return 1;
  }
  if (stop_after == "parse") return 0;

  BlockBuilder builder;
  BlockReader reader;
  std::string block, filter;
  EventView in_view, out_view;
  std::array<size_t, kColumnSlots> column_bytes{};
  size_t block_total = 0, filter_total = 0, blocks = 0, mismatches = 0;
  uint64_t digest = 0xcbf29ce484222325;
  double encode_seconds = 0, decode_seconds = 0, part_seconds = 0;
  size_t parts_read = 0;
  size_t first_in_block = 0;
  size_t next = 0;
  while (next < n) {
    builder.clear();
    first_in_block = next;
    const double encode_start = cpu_seconds();
    while (next < n && builder.size() < max_events && builder.raw_bytes() < max_raw_bytes) {
      in_view.timestamp_ns = timestamps[next];
      if (!decode_event_value(values[next], in_view)) {
        std::fprintf(stderr, "block_bytes: event %zu does not decode\n", next);
        return 1;
      }
      builder.add(in_view);
      ++next;
    }
    const Status status = builder.finish(level, FilterSpec{fingerprints, bits}, block, filter);
    encode_seconds += cpu_seconds() - encode_start;
    if (!status) {
      std::fprintf(stderr, "block_bytes: %s\n", status.message().c_str());
      return 1;
    }
    ++blocks;
    for (const std::string* bytes : {&block, &filter}) {
      for (char c : *bytes) digest = (digest ^ static_cast<unsigned char>(c)) * 0x100000001b3;
    }
    block_total += block.size();
    filter_total += filter.size();
    const size_t column_count = static_cast<uint8_t>(block[25]);
    column_bytes[0] += 26 + column_count * 9;
    for (size_t c = 0; c < column_count; ++c) {
      uint32_t stored;
      std::memcpy(&stored, block.data() + 26 + c * 9 + 1, 4);
      column_bytes[(static_cast<uint8_t>(block[26 + c * 9]) & 0x7f) % kColumnSlots] += stored;
    }

    if (stop_after == "encode") continue;
    const double decode_start = cpu_seconds();
    Status read = reader.open(block);
    if (read) read = reader.load(kColAll);
    if (!read) {
      std::fprintf(stderr, "block_bytes: block %zu: %s\n", blocks, read.message().c_str());
      return 1;
    }
    size_t raw_check = 0;
    for (uint32_t i = 0; i < reader.size(); ++i) {
      reader.decode(i, out_view);
      raw_check += out_view.raw.size();
    }
    decode_seconds += cpu_seconds() - decode_start;
    // One part alone, as a search for a rare key reads it: the last, whose
    // load passes over all the others' lines.
    for (int repeat = 0; repeat < part_repeats && reader.part_count() > 1; ++repeat) {
      const uint32_t part = reader.part_count() - 1;
      const double part_start = cpu_seconds();
      read = reader.open(block);
      if (read) read = reader.load_part(kColAll, part);
      if (!read) {
        std::fprintf(stderr, "block_bytes: block %zu part %u: %s\n", blocks, part, read.message().c_str());
        return 1;
      }
      const auto [first, last] = reader.part_events(part);
      for (uint32_t i = first; i < last; ++i) {
        reader.decode(i, out_view);
        if (out_view.raw != lines[first_in_block + i]) ++mismatches;
      }
      part_seconds += cpu_seconds() - part_start;
      ++parts_read;
      // The round-trip check below reads the whole block.
      read = reader.open(block);
      if (read) read = reader.load(kColAll);
      if (!read) return 1;
    }
    // Byte-exact: the block holds the lines sorted by time (stable); the
    // generator's times never decrease, so the order is the file's.
    size_t expected = 0;
    for (size_t i = first_in_block; i < next; ++i) expected += lines[i].size();
    if (raw_check != expected) ++mismatches;
    for (uint32_t i = 0; i < reader.size(); ++i) {
      reader.decode(i, out_view);
      if (out_view.raw != lines[first_in_block + i]) {
        if (mismatches++ < 3) {
          std::fprintf(stderr, "mismatch at %zu:\n  want %.*s\n  got  %.*s\n", first_in_block + i,
                       static_cast<int>(lines[first_in_block + i].size()), lines[first_in_block + i].data(),
                       static_cast<int>(out_view.raw.size()), out_view.raw.data());
        }
      }
    }
  }

  const double per = static_cast<double>(n);
  if (fingerprints) {
    std::printf("events            %zu in %zu blocks (zstd level %d, fingerprint filters)\n", n, blocks, level);
  } else {
    std::printf("events            %zu in %zu blocks (zstd level %d, Bloom filters of %u bits/key)\n", n, blocks, level, bits);
  }
  std::printf("raw bytes/event   %.2f (lines with their LF)\n", static_cast<double>(raw_bytes) / per);
  std::printf("column            bytes/event\n");
  for (size_t c = 0; c < kColumnSlots; ++c) {
    if (column_bytes[c] == 0) continue;
    std::printf("  %-17s %7.3f\n", kColumnNames[c], static_cast<double>(column_bytes[c]) / per);
  }
  std::printf("block total       %7.3f\n", static_cast<double>(block_total) / per);
  std::printf("filter            %7.3f\n", static_cast<double>(filter_total) / per);
  std::printf("block + filter    %7.3f\n", static_cast<double>(block_total + filter_total) / per);
  std::printf("digest            %016llx\n", static_cast<unsigned long long>(digest));
  std::printf("encode CPU s/1M   %7.3f\n", encode_seconds / per * 1e6);
  std::printf("decode CPU s/1M   %7.3f\n", decode_seconds / per * 1e6);
  if (parts_read != 0) {
    std::printf("block decode ms   %7.3f (open, load everything, decode every event; per block)\n",
                decode_seconds / static_cast<double>(blocks) * 1e3);
    std::printf("last part ms      %7.3f (open, load_part of a block's last part, decode its events; per block)\n",
                part_seconds / static_cast<double>(parts_read) * 1e3);
  }
  if (mismatches != 0) {
    std::printf("ROUND TRIP FAILED: %zu mismatches\n", mismatches);
    return 1;
  }
  std::printf(stop_after == "encode" ? "round trip        not checked\n" : "round trip        byte-exact\n");
  return 0;
}
