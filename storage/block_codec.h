// The event block: the store's unit on disk, format version 4 (versions 3,
// 2 and 1 are still read: version 3 is version 4 without message tag 3,
// version 2 version 3 without parts, version 1 version 2 without skeleton
// templates; see below).
//
// A block holds the events of one day partition, sorted by (timestamp_ns,
// insertion order) ascending, stored column by column so that a search
// decompresses only what its query reads, and skips the block altogether by
// its time bounds (in the header) or its token filter (token_filter.h,
// written next to the block by BlockBuilder::finish).
//
// Raw lines are not stored as text. Each line is split into the values a
// parser found in it (its time, host, app and fields), which are stored
// with the same values of the other events (an IP among IPs: dictionary-,
// number- or address-coded where that is smaller), and a "skeleton", the
// rest of the line. Reading rebuilds the line byte for byte. On generated
// access logs this stores a line in 0.7x the bytes of `zstd -19` of the
// text at zstd level 3 (block_codec_test prints the figures). Text that no
// parser cut (all of a message with the default config) is stored as
// templates and variables (version 2, below): on the benchmark stream
// (bench/micro/block_bytes, 1M events) 20.8 bytes per event for blocks
// (22.9 with their filters; version 1: 43.3), against 28.7 for `zstd -19
// --long=27` of the whole text.
//
// Layout. Fixed-width integers are little-endian. "varint" is unsigned
// LEB128; "zvarint" a varint of the zigzag-mapped signed value ((v << 1) ^
// (v >> 63)). n is the event count.
//
//   offset  bytes  field
//   0       4      magic "SLBK"
//   4       1      version = kBlockFormatVersion
//   5       4      n: event count (u32)
//   9       8      min_timestamp_ns (i64): the first event's (0 if n is 0)
//   17      8      max_timestamp_ns (i64): the last event's (0 if n is 0)
//   25      1      c: column count; columns absent from the directory are
//                  empty
//   26      9*c    directory, one entry per column:
//                    id:u8 (bit 7 set: stored as is, not compressed)
//                    stored_length:u32 (its bytes in this block)
//                    uncompressed_length:u32
//   26+9c   ...    the columns' stored bytes, in directory order, back to
//                  back, ending exactly at the end of the block. A
//                  compressed column is one zstd frame that records its
//                  content size; a column is stored as is when zstd does not
//                  make it smaller.
//
// Shared pieces:
//   dictionary  varint count | count × varint length | the entries' bytes
//   indexes     indexes into a dictionary of d entries, packed at 0 (d <= 1),
//               1 (d <= 2), 2 (d <= 4), 4 (d <= 16) or 8 (d <= 256) bits
//               each, low bits first within a byte, the last byte padded
//               with zeros; varints when d > 256. zstd spends at least a bit
//               per byte, so a two-valued attribute at a byte per event
//               would cost 8 times its entropy; packed, close to it.
//
// Columns (ids fixed, append-only), after decompression. Per-event
// sequences run in block order.
//
//   1 timestamps        zvarint first timestamp | varint unit u (the gcd of
//                       the deltas; 1 if there are none) | n-1 × varint
//                       delta / u. Deltas are >= 0 (sorted) and taken modulo
//                       2^64; the unit makes deltas of millisecond- or
//                       second-precision times small.
//   2 received          mode:u8 | runs of (zvarint difference | varint z):
//                       an event with that difference, then z events with
//                       difference 0, until n events. Mode 0: received_ns -
//                       timestamp_ns (0 when the event had no time of its
//                       own). Mode 1: received_ns - the previous event's
//                       received_ns (the first event: its own timestamp), 0
//                       within a read, whose events share one receive time.
//                       Modulo 2^64. The builder keeps the mode that
//                       compresses smaller.
//   3 attrs             varint d | d × 4 bytes (severity, facility, flags,
//                       input) | n indexes: a source's lines share all four.
//   4 host              dictionary | n indexes
//   5 app               dictionary | n indexes
//   6 skeleton_lengths  (version 1 only) n × varint: each raw line's length
//                       without its cuts
//   7 skeleton          version 1: the raw lines without their cuts (their
//                       "skeletons"), concatenated. Version 2: the
//                       dictionary of template segments (see below).
//   8 records           field-name dictionary | mode:u8 | mode 0: n records;
//                       mode 1: a dictionary of records | n indexes (lines of
//                       one source mostly have the same record).
//                       A record describes an event's line:
//                         time_cut  varint 0 (none), or varint 1 + gap |
//                                   format:u8 (bits 0-3: fraction digits
//                                   0-9, truncated; bit 4 set: a "±hh:mm"
//                                   offset instead of "Z") | if bit 4,
//                                   zvarint offset in minutes (local time =
//                                   UTC + offset). The cut's text is
//                                   timestamp_ns so rendered, as in
//                                   "2025-03-01T10:00:00.123456Z".
//                         host_cut  varint 0 (none), or 1 + gap; the cut's
//                                   text is the event's host
//                         app_cut   the same for the app
//                         message   varint tag:
//                                     tag & 3 == 0: a literal of tag >> 2
//                                       bytes, in order from column 11
//                                     tag & 3 == 1: the slice [tag >> 2,
//                                       raw length - tail) of the line; the
//                                       varint tail follows
//                                     tag & 3 == 2: the value of the event's
//                                       field number tag >> 2
//                                     tag & 3 == 3 (version 4): the slice
//                                       as for 1 is a JSON string's bytes
//                                       between its quotes, whose only
//                                       escapes are \", \\ and \/; the
//                                       message is that string decoded
//                         varint field count, then per field (in order):
//                           varint name index | type:u8 (a FieldType) |
//                           varint tag:
//                             tag & 3 == 0: a literal of tag >> 2 bytes, in
//                               order from column 10
//                             tag & 3 == 1: the slice of tag >> 2 bytes of
//                               the line at the varint offset that follows
//                             tag & 3 == 2: a cut, gap = tag >> 2; its text
//                               is the next value of the name in column 9
//                       "gap" is the number of skeleton bytes (in version 2,
//                       of the rebuilt skeleton) between the previous cut of
//                       the line (or its start) and this one.
//   9 field_values      per field name, in dictionary order: encoding:u8 |
//                       varint count | payload: that name's cut values in
//                       block order.
//                         0 none      (count 0)
//                         1 plain     count × varint length | the bytes
//                         2 dict      dictionary | count indexes
//                         3 int       count × zvarint: canonical decimal
//                                     int64s ("-12", not "012", "+12", "-0")
//                         4 delta     count × zvarint difference to the
//                                     previous value (the first: to 0)
//                         5 ipv4      count × 4 bytes: canonical dotted quads
//                         6 template  dictionary of templates | count
//                                     indexes | varint byte length | the
//                                     numbers, a varint each, in order.
//                                     Rendering a template copies its bytes,
//                                     except that 0x01 stands for the next
//                                     number in decimal and 0x02 makes the
//                                     byte after it plain text. Numbers are
//                                     runs of at most 19 digits without a
//                                     leading zero, and with no ASCII
//                                     letter, digit, '_' or byte >= 0x80 on
//                                     either side.
//                         7 host dict (version 2) canonical int64s as in
//                                     3 | varint byte length | count ×
//                                     (varint k | if k is the number of
//                                     distinct values of this name seen so
//                                     far on the event's host: zvarint
//                                     value): k indexes the values of the
//                                     name on that host, in order of first
//                                     appearance (a daemon's process ids).
//  10 field_literals    field values that were not slices of their line
//  11 message_literals  messages that were neither slices nor fields
//  12 skeleton_values   (version 2) the variables of the skeletons'
//                       templates: varint stream count (<= 1024) | per
//                       stream: marker:u8 | encoding:u8 | varint value
//                       count | varint payload length | payload. In
//                       version 3, the marker is followed by context:u32,
//                       the low 32 bits of the stream's context hash.
//  13 skeleton_segments (version 2) per event, the codes of its template's
//                       segments (see below).
//  14 part_restarts     (version 3) per part boundary, in order: varint
//                       bytes of column 13 the part before took | varint
//                       s, the streams that existed then | s × (varint
//                       values the part took from the stream | for hex
//                       streams, varint bytes it took). Absent for a block
//                       of one part.
//  15 segment_successors (version 3) for each context c = 0 to the
//                       segment count (see below): varint length | the
//                       list's segment ids, a varint each.
//
// Parts (version 3). Events [p × s, (p + 1) × s) in block order are part
// p, s being block_part_size(n). The block's filter tells which part holds
// a key found in one part only (token_filter.h), and a reader rebuilds
// that part's lines alone (BlockReader::load_part): it seeks column 13 and
// every stream by column 14, and passes over the records and cut values of
// the events before the part without rendering them.
//
// Skeleton templates (version 2). Each event's skeleton is stored as a
// template: the skeleton's bytes, except for these bytes, "markers", which
// stand for a variable:
//   0x01          a decimal number, no leading zero: a value
//   0x02 b        escape: the byte b is text (b is any byte; the builder
//                 escapes the bytes 0x01-0x08 of the skeleton)
//   0x03 w        a decimal number zero-padded to w (1-19) digits: a value
//   0x04          an IPv4 dotted quad without leading zeros: a value, the
//                 octets in its low 32 bits, first octet lowest
//   0x05 c        c (<= 127) bytes as 2c lowercase hex digits: hex bytes
//   0x06 c        the same in uppercase
//   0x07 f        an RFC 3339 UTC time "YYYY-MM-DDThh:mm:ss[.f…]Z" with f
//                 (0-9) fraction digits: a value v, the time being
//                 (floor(t / u) + unzigzag(v)) × u nanoseconds, with u =
//                 10^(9-f) and t the event's timestamp_ns
//   0x08          an nginx/Apache time "dd/Mon/yyyy:hh:mm:ss": a value v,
//                 the time being floor(t / 10^9) + unzigzag(v) seconds
// A template is cut into segments, each ending right after a marker (and
// its parameter byte), except the last, which ends the template and does
// not end with a marker (it may be empty). Column 7 is the dictionary of
// the block's distinct segments. Column 13 holds, for each event in block
// order, for each of its segments in order: varint k, the segment's code
// in its context, where the context is the previous segment of the line
// (or the line's start): 0, or 1 + that segment's id. In version 3 each
// context's list of segment ids is in column 15, and k names its entry k.
// In version 2 the lists are empty at the start of the block: k < the
// list's length names its entry k; k == the length is followed by a varint
// segment id, which is appended to the list. A line's segments end with
// the first one that does not end with a marker.
//
// Each variable is taken from a stream chosen by its context: the hash
// (hash_bytes of token_filter.h, seeded with the marker byte) of the up to
// 8 bytes of the rebuilt skeleton before the variable, each ASCII digit
// replaced by '0'. Streams are numbered in order of first use over the
// block (event order, then position in the line); once 1016 exist, a
// context new to the block uses the stream of context = the marker byte
// itself (those overflow streams count towards the 1024 too). Version 3
// keys streams by the low 32 bits of the context hash, and a context that
// has a stream keeps it once the table is full; in version 2 every
// variable after that point goes to its marker's overflow stream. A stream
// holds one marker's variables. Its encoding, for values (all markers but
// hex):
//   0 plain   count × varint; IPv4: count × 4 bytes, first octet first
//   1 delta   count × zvarint difference to the previous value (the first:
//             to 0), modulo 2^64
//   2 dict    varint d | d values as in plain | count indexes
// Hex streams are plain: the bytes of their variables, in order. A
// variable is only taken out of the text when rendering it gives back its
// exact bytes; the builder looks for them in words (runs of the filter's
// token bytes, token_filter.h) that start after a non-word byte: times;
// dotted quads; digit words of at most 19 digits; hex words of one case,
// with a letter, of an even length of 8 to 254 digits. It leaves as text
// the numbers and addresses of a context that has few distinct values in
// the block (version numbers in user agents), which zstd codes with the
// text around them for less.
//
// Cuts. A line is rebuilt as skeleton bytes, a cut's text, skeleton bytes,
// ..., and the rest of its skeleton. The builder cuts, in this order and
// only forwards (each after the end of the previous cut): the first RFC
// 3339 text among the line's first 1024 bytes that timestamp_ns renders to
// exactly; the host and the app if they are slices of the line; each field
// whose value is a non-empty slice of the line. Fields that overlap an
// earlier cut stay in the skeleton (tag & 3 == 1).
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "server/base/event.h"
#include "server/base/status.h"
#include "storage/event_codec.h"

namespace sluice::storage {

constexpr uint32_t kBlockFormatVersion = 4;

// Format 3 cuts a block of n events into parts of block_part_size(n)
// events in block order (the last may be shorter), at most
// kMaxFilterParts (token_filter.h) of them: the filter tells which part
// holds a rare key, and a reader rebuilds that part's lines alone. Parts
// are no smaller than kMinPartEvents: below that, a part's share of the
// block's fixed costs outweighs what reading it alone saves.
constexpr uint32_t kMinPartEvents = 256;
uint32_t block_part_size(uint64_t events);

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
  kSkeletonValues = 12,
  kSkeletonSegments = 13,
  kPartRestarts = 14,
  kSegmentSuccessors = 15,
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
// kColRaw, kColMessage and kColFields come together: a line is rebuilt from
// its parts (skeleton, records, field values, timestamps, host and app), and
// messages and fields are slices of it.
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

// How a block's token filter is built (token_filter.h).
struct FilterSpec {
  // A fingerprint filter: ~20 bits per key, 1 false hit in 65,536 lookups.
  // false: a Bloom filter of bloom_bits_per_key (10: ~1% false hits), as
  // written before fingerprint filters; also the fallback when a
  // fingerprint filter cannot be built.
  bool fingerprints = true;
  uint32_t bloom_bits_per_key = 10;
  // The builder takes a line's text keys from its template: the words of
  // a template's text once per part, then only each line's variables and
  // cut values (time, host, app, fields), and the whole line where a word
  // crosses one of those edges. true: every line's words, one by one (the
  // plain path; the same filter, for tests to compare).
  bool text_keys_from_lines = false;
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
  // as a reference to it, anything else as its own bytes; so is a message
  // whose event.message_json points inside event.raw (the message must be
  // that JSON string decoded, its only escapes \", \\ and \/).
  void add(const EventView& event);

  size_t size() const;
  size_t raw_bytes() const;  // bytes of raw text added: what a block is cut by
  int64_t min_timestamp() const;  // of the events added; 0 when there are none
  int64_t max_timestamp() const;

  // Encodes the block into `block_out` and its token filter into
  // `filter_out` (both replaced). The filter holds text tokens of every raw
  // line and of every message that is not a slice of its raw line (or its
  // message_json), and
  // field tokens of host, app, severity (name and number), facility (name
  // and number), input (name) and every field (name, lowercased value;
  // values are hashed whole, any length); but no token or value that
  // in_block_filter() (token_filter.h) refuses: numbers of 5 digits or
  // more. `zstd_level` (zstd's levels,
  // negative ones included) applies to every column. Fails only if the
  // block is too large for the format (a column or the raw text over
  // kMaxBlockColumnBytes, more than kMaxBlockFields fields). The events stay
  // added: clear() starts the next block.
  Status finish(int zstd_level, FilterSpec filter_spec, std::string& block_out,
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

  // The block's parts (format 3; older blocks are one part) and the events
  // [first, last) of part p < part_count().
  uint32_t part_count() const;
  std::pair<uint32_t, uint32_t> part_events(uint32_t part) const;

  // Decompresses and checks the given columns, plus those they imply;
  // columns already loaded since open() are not touched again. After it
  // succeeds, every accessor below is safe for the loaded columns whatever
  // the block's bytes were. On an error, what failed stays unloaded; treat
  // the block as corrupt.
  Status load(uint32_t columns);
  // load() for kColRaw, kColMessage and kColFields of the events of one
  // part only (the other columns whole): a line is rebuilt from its part's
  // values, the rest of the block is only passed over. decode() then
  // serves the part's events (raw_range()). Lighter checks than load():
  // the end of the block is only verified when the part is the last one.
  // A later load() of those columns rebuilds the whole block.
  Status load_part(uint32_t columns, uint32_t part);
  // The columns loaded since open(), implied ones included.
  uint32_t loaded() const;
  // The events whose raw line, message and fields are loaded: all of them
  // after load(), a part's after load_part().
  std::pair<uint32_t, uint32_t> raw_range() const;

  // Requires kColTimestamps loaded and i < size().
  int64_t timestamp(uint32_t i) const;

  // Fills `out` with event i (i < size(), and within raw_range() if the
  // raw columns are loaded) from the loaded columns; what is
  // not loaded is set to EventView's defaults. Strings view the reader's
  // buffers or the block, valid until the next open() or load();
  // out.fields is reused.
  void decode(uint32_t i, EventView& out) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sluice::storage
