// The event block: the store's unit on disk, format version 1.
//
// A block holds the events of one day partition, sorted by (timestamp_ns,
// insertion order) ascending, stored column by column so that a search
// decompresses only what its query reads, and skips the block altogether by
// its time bounds (in the header) or its token filter (token_filter.h,
// written next to the block by BlockBuilder::finish).
//
// Layout. Fixed-width integers are little-endian. "varint" is unsigned
// LEB128; "zvarint" is a varint of a zigzag-mapped signed value
// ((v << 1) ^ (v >> 63)). n is the event count.
//
//   offset  bytes  field
//   0       4      magic "SLBK"
//   4       1      version = kBlockFormatVersion
//   5       4      n: event count (u32)
//   9       8      min_timestamp_ns (i64): the first event's
//   17      8      max_timestamp_ns (i64): the last event's
//   25      1      c: column count (columns absent from the directory are empty)
//   26      9*c    directory, one entry per column:
//                    id:u8 (bit 7 set: stored as is, not compressed)
//                    stored_length:u32 (bytes in this block)
//                    uncompressed_length:u32
//   26+9c   ...    the columns' stored bytes, in directory order, back to
//                  back, ending exactly at the end of the block. A compressed
//                  column is one zstd frame (with its content size); a column
//                  is stored as is when zstd does not make it smaller.
//
// Columns (ids fixed, append-only), as they are after decompression. All
// per-event sequences run in block order (sorted).
//
//   1 timestamps   zvarint first timestamp | varint unit u (the gcd of the
//                  deltas, 1 if there are none) | n-1 × varint delta/u.
//                  Deltas are >= 0 (sorted); the unit turns the deltas of
//                  second- or microsecond-precision times into small numbers.
//   2 received     mode:u8 | n × zvarint. Mode 0: received_ns - timestamp_ns
//                  (0 when the event had no time of its own); mode 1:
//                  received_ns - the previous event's received_ns (the first
//                  event: - its own timestamp), small when a read's events
//                  share one receive time. The builder keeps the smaller.
//                  Differences are taken modulo 2^64.
//   3 attrs        n severities | n facilities | n flags | n inputs (u8 each;
//                  one plane per attribute, so runs stay runs)
//   4 host         dictionary | n × varint index. A dictionary is varint
//                  count | count × varint length | the strings' bytes.
//   5 app          as host
//   6 skeleton_lengths   n × varint: bytes of each raw line left after its
//                  cut values are removed (see below)
//   7 skeleton     the raw lines without their cut values, concatenated
//   8 message      per event varint tag: tag & 1: the message is the slice
//                  [tag >> 1, raw_length - tail) of the event's raw, with
//                  varint tail following; else a literal of tag >> 1 bytes,
//                  taken in order from column 9
//   9 message_literals
//  10 fields       field-name dictionary | per event: time_cut | varint
//                  host_cut | varint app_cut | varint field count | per
//                  field: varint name index | type:u8 (FieldType) | varint
//                  tag, where
//                    tag & 3 == 0: a literal of tag >> 2 bytes, in order
//                                  from column 12
//                    tag & 3 == 1: a slice of tag >> 2 bytes of the event's
//                                  raw, at the varint offset that follows
//                    tag & 3 == 2: a cut value, tag >> 2 skeleton bytes after
//                                  the previous cut (see below)
//                  host_cut/app_cut: 0, or 1 + the skeleton bytes between the
//                  previous cut and the host (app) text, whose bytes are the
//                  host (app) dictionary entry.
//                  time_cut: varint 0, or varint 1 + the skeleton bytes
//                  before the event's timestamp as RFC 3339 text | format:u8
//                  (bits 0-3: fraction digits 0-9, truncated; bit 4: a
//                  "±hh:mm" offset instead of "Z") | if bit 4, zvarint
//                  offset in minutes (local time = UTC + offset). The text
//                  is rendered from timestamp_ns: "2025-03-01T10:00:00.123456Z".
//  11 field_values for each field name in dictionary order: encoding:u8 |
//                  varint count | payload, holding that name's cut values in
//                  block order:
//                    0 none   (count is 0)
//                    1 plain  count × varint length | the bytes
//                    2 dict   dictionary | count × varint index
//                    3 int    count × zvarint: canonical decimal int64s
//                    4 delta  count × zvarint difference to the previous
//                             value (the first: to 0); canonical int64s
//                    5 ipv4   count × 4 bytes: canonical dotted quads
//  12 field_literals
//
// Cut values. The event's time (its RFC 3339 text, found among the line's
// first 1024 bytes, if timestamp_ns renders to it exactly), the host, the
// app and fields whose value is a non-empty slice of the event's raw line
// are "cut" out of it when they follow the previous cut (in that order:
// time, host, app, fields in order): the raw line is rebuilt
// as skeleton bytes, cut value, skeleton bytes, ... and the rest of the
// skeleton. So each value is stored once, next to the same field's values
// of other events (an IP among IPs), dictionary- or number-coded where that
// is smaller, instead of inside the text. Slices that overlap an earlier cut
// stay in the skeleton (tag & 3 == 1).
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "server/base/event.h"
#include "server/base/status.h"
#include "storage/event_codec.h"

namespace sluice::storage {

constexpr uint32_t kBlockFormatVersion = 1;

// Column ids of the directory; see the layout above. Append-only.
enum class BlockColumnId : uint8_t {
  kTimestamps = 1,
  kReceived = 2,
  kAttrs = 3,
  kHost = 4,
  kApp = 5,
  kSkeletonLengths = 6,
  kSkeleton = 7,
  kRecords = 8,
  kFieldValues = 9,
  kFieldLiterals = 10,
  kMessageLiterals = 11,
};

// A column's decompressed size is bounded so that a block always fits the
// u32 lengths of its directory and offsets, and a corrupt length cannot make
// a reader allocate more than this per column. The store cuts blocks far
// smaller (a few MiB of raw text). A block's raw text, rebuilt, obeys the
// same bound.
constexpr size_t kMaxBlockColumnBytes = size_t{256} << 20;
// Fields per block, for the same reason: a reader keeps 16 bytes per field.
constexpr size_t kMaxBlockFields = size_t{1} << 25;

// What a search needs decoded; a query on host alone touches only kHost.
// kColRaw, kColMessage and kColFields each load the raw line's parts
// (skeleton, timestamps, host, app, field structure and values), since a
// raw line is rebuilt from them.
enum BlockColumns : uint32_t {
  kColTimestamps = 1,
  kColReceived = 2,  // implies timestamps
  kColAttrs = 4,
  kColHost = 8,
  kColApp = 16,
  kColRaw = 32,
  kColMessage = 64,   // implies raw
  kColFields = 128,   // implies raw
  kColAll = 255,
};

// Collects the events of one block and encodes them.
//
// Thread: one thread at a time. Reuse one builder for many blocks: clear()
// keeps its memory.
class BlockBuilder {
 public:
  BlockBuilder();
  ~BlockBuilder();
  BlockBuilder(BlockBuilder&&) noexcept;
  BlockBuilder& operator=(BlockBuilder&&) noexcept;

  // Copies what it needs; the view's strings may die after the call. A
  // message, host, app or field value that points inside event.raw is kept
  // as a reference to it, anything else as its own bytes.
  void add(const EventView& event);

  size_t size() const;
  size_t raw_bytes() const;  // bytes of raw text added: what a block is cut by
  int64_t min_timestamp() const;  // of the events added; 0 when there are none
  int64_t max_timestamp() const;

  // Encodes the block into `block_out` and its token filter into
  // `filter_out` (both replaced). The filter holds text tokens of every raw
  // line and of every message that is not a slice of its raw line, and
  // field tokens of host, app, severity (name and number), facility (name
  // and number), input (name) and every field (name, lowercased value;
  // values are hashed whole, any length). `zstd_level` applies to every
  // column. Fails only if the block is too large for the format (a column
  // over kMaxBlockColumnBytes). The events stay added: clear() starts the
  // next block.
  Status finish(int zstd_level, uint32_t filter_bits_per_key, std::string& block_out,
                std::string& filter_out);

  void clear();  // keeps capacity

  // Distinct values of the indexed attributes among the events added, for
  // the store's postings. Hosts and apps in order of first appearance;
  // views valid until the next add() or clear().
  size_t host_count() const;
  std::string_view host(size_t i) const;
  size_t app_count() const;
  std::string_view app(size_t i) const;
  // Bit v is set when some event has that value (255: unknown).
  const std::bitset<256>& severities() const;
  const std::bitset<256>& facilities() const;
  const std::bitset<256>& inputs() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Reads one encoded block.
//
// Thread: one thread at a time. A reader is meant to be reused for many
// blocks: its buffers keep their memory across open() calls.
class BlockReader {
 public:
  BlockReader();
  ~BlockReader();
  BlockReader(BlockReader&&) noexcept;
  BlockReader& operator=(BlockReader&&) noexcept;

  // Parses the header and the directory only (no decompression). `block`
  // must stay alive and unchanged until the next open(): uncompressed
  // columns are read in place. Errors name the problem ("block: bad magic",
  // "block: column 5 length beyond end").
  Status open(std::string_view block);

  uint32_t size() const;
  int64_t min_timestamp() const;
  int64_t max_timestamp() const;

  // Decompresses and checks the given columns, plus those they imply;
  // columns already loaded since open() are not touched again. After it
  // succeeds, every accessor below is safe for the loaded columns whatever
  // the block's bytes were. On an error the block is unusable.
  Status load(uint32_t columns);
  uint32_t loaded() const;

  // Requires kColTimestamps loaded and i < size().
  int64_t timestamp(uint32_t i) const;

  // Fills `out` with event i (i < size()) from the loaded columns; what is
  // not loaded is left at EventView's defaults. Strings view the reader's
  // buffers or the block, valid until the next open() or load();
  // out.fields is reused.
  void decode(uint32_t i, EventView& out) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sluice::storage
