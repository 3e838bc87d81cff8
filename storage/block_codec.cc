#include "storage/block_codec.h"

#include <zstd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "server/base/assert.h"
#include "server/base/time_format.h"
#include "storage/token_filter.h"

namespace sluice::storage {
namespace {

constexpr char kMagic[4] = {'S', 'L', 'B', 'K'};
constexpr size_t kHeaderBytes = 26;
constexpr size_t kDirectoryEntryBytes = 9;
constexpr uint8_t kStoredFlag = 0x80;
constexpr size_t kColumnSlots = 12;  // ids 1..11; slot 0 unused
constexpr uint32_t kNoSlice = std::numeric_limits<uint32_t>::max();

// Encodings of a field name's cut values (column 9).
enum ValueEncoding : uint8_t {
  kValuesNone = 0,
  kValuesPlain = 1,
  kValuesDict = 2,
  kValuesInt = 3,
  kValuesDelta = 4,
  kValuesIpv4 = 5,
  kValuesTemplate = 6,
};

// How column 8 holds the events' records.
constexpr uint8_t kRecordsInline = 0;
constexpr uint8_t kRecordsDictionary = 1;

// Message tags in a record, low two bits.
constexpr uint64_t kMessageLiteral = 0;
constexpr uint64_t kMessageSlice = 1;
constexpr uint64_t kMessageField = 2;

// Field tags in a record, low two bits.
constexpr uint64_t kTagLiteral = 0;
constexpr uint64_t kTagSlice = 1;
constexpr uint64_t kTagCut = 2;

constexpr size_t slot(BlockColumnId id) { return static_cast<size_t>(id); }

const char* column_name(size_t id) {
  static constexpr const char* kNames[kColumnSlots] = {
      "?",        "timestamps", "received", "attrs",        "host",           "app",
      "skeleton_lengths", "skeleton",   "records",  "field_values", "field_literals", "message_literals"};
  return id < kColumnSlots ? kNames[id] : "?";
}

// --- integers -----------------------------------------------------------

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Differences modulo 2^64, so that any two int64s (received times far from
// their timestamps, times before 1970) round-trip without overflow.
int64_t wrapping_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

void put_le(char* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

uint64_t get_le(const char* in, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

// Reads a column. Failure is sticky and every value read after it is 0,
// which spares a check per value: callers check failed() before acting on
// what they read, and bound anything they index with.
class Cursor {
 public:
  Cursor() = default;
  explicit Cursor(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}

  uint64_t varint() {
    if (p_ != end_ && static_cast<unsigned char>(*p_) < 0x80) return static_cast<unsigned char>(*p_++);
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return fail();
      const auto byte = static_cast<unsigned char>(*p_++);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        if (shift == 63 && byte > 1) return fail();  // more than 64 bits
        return v;
      }
    }
    return fail();
  }

  uint8_t byte() {
    if (p_ == end_) return static_cast<uint8_t>(fail());
    return static_cast<unsigned char>(*p_++);
  }

  std::string_view bytes(uint64_t n) {
    if (n > remaining()) {
      fail();
      return {};
    }
    std::string_view out(p_, static_cast<size_t>(n));
    p_ += n;
    return out;
  }

  // Skips `count` varints (count <= remaining(), or it fails at once).
  void skip_varints(uint64_t count) {
    if (count > remaining()) {
      fail();
      return;
    }
    for (uint64_t i = 0; i < count && !failed_; ++i) varint();
  }

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  bool at_end() const { return p_ == end_; }
  bool failed() const { return failed_; }
  const char* position() const { return p_; }

 private:
  uint64_t fail() {
    failed_ = true;
    p_ = end_;
    return 0;
  }

  const char* p_ = nullptr;
  const char* end_ = nullptr;
  bool failed_ = false;
};

// --- canonical numbers --------------------------------------------------
// A value is number-coded only when rendering the number gives back exactly
// its text, so the rebuilt raw line is byte-identical.

bool parse_canonical_int(std::string_view text, int64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  const size_t digits_at = text[0] == '-' ? 1 : 0;
  if (digits_at == text.size()) return false;
  if (text[digits_at] == '0' && (text.size() > digits_at + 1 || digits_at == 1)) return false;  // "01", "-0"
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool parse_canonical_ipv4(std::string_view text, unsigned char out[4]) {
  if (text.size() < 7 || text.size() > 15) return false;
  size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= text.size() || text[pos] != '.') return false;
      ++pos;
    }
    const size_t start = pos;
    unsigned value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - start < 3) {
      value = value * 10 + static_cast<unsigned>(text[pos] - '0');
      ++pos;
    }
    const size_t digits = pos - start;
    if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0')) return false;
    out[part] = static_cast<unsigned char>(value);
  }
  return pos == text.size();
}

// Writes a.b.c.d (at most 15 bytes) and returns its length.
size_t render_ipv4(const char* octets, char* out) {
  size_t length = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) out[length++] = '.';
    const unsigned value = static_cast<unsigned char>(octets[part]);
    if (value >= 100) out[length++] = static_cast<char>('0' + value / 100);
    if (value >= 10) out[length++] = static_cast<char>('0' + value / 10 % 10);
    out[length++] = static_cast<char>('0' + value % 10);
  }
  return length;
}

// --- templates ------------------------------------------------------------
// A value's text with its free-standing decimal numbers taken out: paths
// like "/api/v1/orders/123456" share one template "/api/v1/orders/\x01" and
// the numbers become varints, where zstd would code their digits one by
// one. A number is a run of digits with no letter, digit, '_' or non-ASCII
// byte on either side (so hex ids and "v1" stay text), at most 19 digits and
// without a leading zero, so rendering it gives back its text.

constexpr char kTemplateNumber = '\x01';
constexpr char kTemplateEscape = '\x02';  // the next byte is text
constexpr size_t kMaxTemplateDigits = 19;   // below 2^64

bool is_word_byte(char c) { return token_detail::is_token_byte(c); }

// Appends the template of `value` to `out` and its numbers to `numbers`;
// returns how many numbers it took out.
size_t make_template(std::string_view value, std::string& out, std::vector<uint64_t>& numbers) {
  size_t taken = 0;
  size_t i = 0;
  while (i < value.size()) {
    const char c = value[i];
    if (c >= '0' && c <= '9' && (i == 0 || !is_word_byte(value[i - 1]))) {
      size_t end = i;
      while (end < value.size() && value[end] >= '0' && value[end] <= '9') ++end;
      const size_t digits = end - i;
      if ((end == value.size() || !is_word_byte(value[end])) && digits <= kMaxTemplateDigits &&
          (digits == 1 || c != '0')) {
        uint64_t number = 0;
        for (size_t j = i; j < end; ++j) number = number * 10 + static_cast<uint64_t>(value[j] - '0');
        numbers.push_back(number);
        out.push_back(kTemplateNumber);
        ++taken;
      } else {
        out.append(value.substr(i, digits));
      }
      i = end;
      continue;
    }
    if (c == kTemplateNumber || c == kTemplateEscape) out.push_back(kTemplateEscape);
    out.push_back(c);
    ++i;
  }
  return taken;
}

bool valid_template(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == kTemplateEscape && ++i == text.size()) return false;
  }
  return true;
}

// --- the event's own time, as text --------------------------------------
// Most lines carry their timestamp as RFC 3339 text (the syslog header, a
// JSON "ts"), which the timestamps column already holds: rendered again
// from timestamp_ns, it costs a format byte instead of its digits.

constexpr uint8_t kTimeHasOffset = 0x10;  // format byte: ±hh:mm instead of 'Z'
constexpr int64_t kMaxOffsetMinutes = 24 * 60 - 1;
constexpr size_t kTimeSearchBytes = 1024;  // where in a line to look: bounds the cost of long lines

void write_digits(char* out, uint64_t value, int count) {
  for (int i = count - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Writes unix_ns as "YYYY-MM-DDThh:mm:ss[.f…]" with `digits` fraction digits
// (truncated) and "Z", or the local time at `offset_minutes` and "±hh:mm".
// Returns the length (at most 35 bytes), or 0 when the time has no such
// text (a year outside 0..9999, or an offset beyond a day).
size_t render_time(int64_t unix_ns, unsigned digits, bool has_offset, int64_t offset_minutes, char* out) {
  if (digits > 9 || offset_minutes < -kMaxOffsetMinutes || offset_minutes > kMaxOffsetMinutes) return 0;
  int64_t local;
  if (__builtin_add_overflow(unix_ns, offset_minutes * 60'000'000'000, &local)) return 0;
  int64_t seconds = local / 1'000'000'000;
  int64_t nanos = local % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    seconds -= 1;
  }
  const int64_t days = days_from_seconds(seconds);
  const int64_t second_of_day = seconds - days * 86400;
  const CivilDate date = civil_from_days(days);
  if (date.year < 0 || date.year > 9999) return 0;
  write_digits(out, static_cast<uint64_t>(date.year), 4);
  out[4] = '-';
  write_digits(out + 5, date.month, 2);
  out[7] = '-';
  write_digits(out + 8, date.day, 2);
  out[10] = 'T';
  write_digits(out + 11, static_cast<uint64_t>(second_of_day / 3600), 2);
  out[13] = ':';
  write_digits(out + 14, static_cast<uint64_t>(second_of_day / 60 % 60), 2);
  out[16] = ':';
  write_digits(out + 17, static_cast<uint64_t>(second_of_day % 60), 2);
  size_t length = 19;
  if (digits > 0) {
    out[length++] = '.';
    uint64_t fraction = static_cast<uint64_t>(nanos);
    for (unsigned i = digits; i < 9; ++i) fraction /= 10;
    write_digits(out + length, fraction, static_cast<int>(digits));
    length += digits;
  }
  if (!has_offset) {
    out[length++] = 'Z';
    return length;
  }
  const int64_t magnitude = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  out[length++] = offset_minutes < 0 ? '-' : '+';
  write_digits(out + length, static_cast<uint64_t>(magnitude / 60), 2);
  out[length + 2] = ':';
  write_digits(out + length + 3, static_cast<uint64_t>(magnitude % 60), 2);
  return length + 5;
}

struct TimeText {
  uint32_t offset = 0;  // in the raw line
  uint32_t length = 0;
  uint8_t format = 0;   // fraction digits | kTimeHasOffset
  int64_t offset_minutes = 0;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Finds the first RFC 3339 text in the start of `raw` that render_time()
// reproduces byte for byte from `unix_ns`.
bool find_time_text(std::string_view raw, int64_t unix_ns, TimeText& found) {
  const std::string_view head = raw.substr(0, kTimeSearchBytes);
  char rendered[40];
  for (size_t t = head.find('T', 10); t != std::string_view::npos; t = head.find('T', t + 1)) {
    // "YYYY-MM-DDThh:mm:ss" around the 'T'.
    const size_t start = t - 10;
    if (t + 9 > head.size() || head[start + 4] != '-' || head[start + 7] != '-' || head[t + 3] != ':' ||
        head[t + 6] != ':') {
      continue;
    }
    bool digits_ok = true;
    for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) digits_ok &= is_digit(head[start + i]);
    if (!digits_ok) continue;
    size_t pos = start + 19;
    unsigned digits = 0;
    if (pos < head.size() && head[pos] == '.') {
      while (pos + 1 + digits < head.size() && is_digit(head[pos + 1 + digits]) && digits < 10) ++digits;
      if (digits == 0 || digits > 9) continue;
      pos += 1 + digits;
    }
    if (pos >= head.size()) continue;
    bool has_offset = false;
    int64_t offset_minutes = 0;
    if (head[pos] == 'Z') {
      ++pos;
    } else if ((head[pos] == '+' || head[pos] == '-') && pos + 6 <= head.size() && is_digit(head[pos + 1]) &&
               is_digit(head[pos + 2]) && head[pos + 3] == ':' && is_digit(head[pos + 4]) && is_digit(head[pos + 5])) {
      has_offset = true;
      offset_minutes = ((head[pos + 1] - '0') * 10 + (head[pos + 2] - '0')) * 60 + (head[pos + 4] - '0') * 10 +
                       (head[pos + 5] - '0');
      if (head[pos] == '-') offset_minutes = -offset_minutes;
      pos += 6;
    } else {
      continue;
    }
    const size_t length = render_time(unix_ns, digits, has_offset, offset_minutes, rendered);
    if (length == pos - start && head.substr(start, length) == std::string_view(rendered, length)) {
      found.offset = static_cast<uint32_t>(start);
      found.length = static_cast<uint32_t>(length);
      found.format = static_cast<uint8_t>(digits | (has_offset ? kTimeHasOffset : 0));
      found.offset_minutes = offset_minutes;
      return true;
    }
  }
  return false;
}

// --- dictionary indexes -------------------------------------------------
// Packed at the fewest of 0, 1, 2, 4 or 8 bits that hold every index of the
// dictionary (low bits first within a byte), or varints past 256 entries.
// zstd's entropy coder spends at least a bit per byte, so an index per byte
// would cost a two-valued field 8 times its entropy; packed, zstd sees a
// few values per byte and gets close to it.

constexpr unsigned kVarintIndexes = 255;

unsigned index_width(uint64_t dictionary_size) {
  return dictionary_size <= 1 ? 0 : dictionary_size <= 2 ? 1 : dictionary_size <= 4 ? 2 : dictionary_size <= 16 ? 4
         : dictionary_size <= 256 ? 8 : kVarintIndexes;
}

void put_indexes(std::string& out, const std::vector<uint32_t>& indexes, uint64_t dictionary_size) {
  const unsigned width = index_width(dictionary_size);
  if (width == 0) return;
  if (width == kVarintIndexes) {
    for (uint32_t index : indexes) put_varint(out, index);
    return;
  }
  const unsigned per_byte = 8 / width;
  for (size_t i = 0; i < indexes.size(); i += per_byte) {
    unsigned byte = 0;
    for (unsigned j = 0; j < per_byte && i + j < indexes.size(); ++j) byte |= indexes[i + j] << (j * width);
    out.push_back(static_cast<char>(byte));
  }
}

// Reads indexes written by put_indexes, each checked against the dictionary.
class IndexReader {
 public:
  // Takes `count` indexes' bytes from `in`; false if they are not there.
  bool init(Cursor& in, uint64_t count, uint64_t dictionary_size) {
    dictionary_size_ = dictionary_size;
    width_ = index_width(dictionary_size);
    next_ = 0;
    if (width_ == kVarintIndexes) {
      const char* start = in.position();
      in.skip_varints(count);
      varints_ = Cursor(std::string_view(start, static_cast<size_t>(in.position() - start)));
    } else if (width_ != 0) {
      if (count / 8 > in.remaining()) return false;
      packed_ = in.bytes((count * width_ + 7) / 8);
    }
    return !in.failed();
  }

  // The next index; false if it is missing or beyond the dictionary.
  bool next(uint32_t& index) {
    uint64_t value = 0;
    if (width_ == kVarintIndexes) {
      value = varints_.varint();
      if (varints_.failed()) return false;
    } else if (width_ != 0) {
      const uint64_t bit = next_ * width_;
      if (bit / 8 >= packed_.size()) return false;
      value = (static_cast<unsigned char>(packed_[bit / 8]) >> (bit % 8)) & ((1u << width_) - 1);
    }
    ++next_;
    if (value >= dictionary_size_) return false;
    index = static_cast<uint32_t>(value);
    return true;
  }

  // True once every index was read (for varints: no bytes left over).
  bool consumed(uint64_t count) const {
    return next_ == count && (width_ != kVarintIndexes || varints_.at_end());
  }

 private:
  uint64_t dictionary_size_ = 0;
  unsigned width_ = 0;
  uint64_t next_ = 0;
  std::string_view packed_;
  Cursor varints_;
};

// --- a string interning table -------------------------------------------

// Distinct strings with dense indexes in order of first appearance; the
// block's dictionaries (hosts, apps, field names, a field's values).
class StringTable {
 public:
  uint32_t intern(std::string_view text) {
    if ((size() + 1) * 2 > slots_.size()) grow();
    const uint64_t hash = hash_bytes(text);
    const size_t mask = slots_.size() - 1;
    size_t i = static_cast<size_t>(hash) & mask;
    while (slots_[i] != 0) {
      const uint32_t index = slots_[i] - 1;
      if (hashes_[index] == hash && at(index) == text) return index;
      i = (i + 1) & mask;
    }
    const auto index = static_cast<uint32_t>(size());
    slots_[i] = index + 1;
    hashes_.push_back(hash);
    bytes_.append(text);
    ends_.push_back(bytes_.size());
    return index;
  }

  size_t size() const { return ends_.size(); }
  std::string_view at(size_t i) const {
    const size_t start = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(bytes_).substr(start, ends_[i] - start);
  }

  void clear() {
    std::fill(slots_.begin(), slots_.end(), 0);
    hashes_.clear();
    bytes_.clear();
    ends_.clear();
  }

  // Writes the dictionary layout of block_codec.h.
  void write(std::string& out) const {
    put_varint(out, size());
    for (size_t i = 0; i < size(); ++i) put_varint(out, at(i).size());
    out.append(bytes_);
  }

 private:
  void grow() {
    slots_.assign(slots_.empty() ? 64 : slots_.size() * 2, 0);
    const size_t mask = slots_.size() - 1;
    for (size_t index = 0; index < hashes_.size(); ++index) {
      size_t i = static_cast<size_t>(hashes_[index]) & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = static_cast<uint32_t>(index + 1);
    }
  }

  std::vector<uint32_t> slots_;  // index + 1; 0 is empty
  std::vector<uint64_t> hashes_;
  std::string bytes_;
  std::vector<size_t> ends_;
};

bool contains_upper(std::string_view text) {
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

// `text` ASCII-lowercased, in `scratch` only when it has to change.
std::string_view lowercased(std::string_view text, std::string& scratch) {
  if (!contains_upper(text)) return text;
  scratch.assign(text);
  for (char& c : scratch) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return scratch;
}

}  // namespace

// =========================================================================
// BlockBuilder

namespace {

// A string of an added event: a slice of its raw line (offset relative to
// the line) or bytes in the builder's literal arena.
struct Ref {
  uint64_t offset = 0;
  uint32_t length = 0;
  bool in_raw = false;
};

struct PendingEvent {
  int64_t timestamp_ns;
  int64_t received_ns;
  size_t raw_offset;  // into raw_text
  uint32_t raw_length;
  uint32_t host;        // index into hosts
  uint32_t app;         // index into apps
  uint32_t host_slice;  // offset in the raw line, or kNoSlice
  uint32_t app_slice;
  Ref message;
  size_t first_field;  // into fields
  uint32_t field_count;
  uint8_t severity, facility, flags, input;
};

struct PendingField {
  uint32_t name;  // index into names
  FieldType type;
  Ref value;
};

// A value cut out of its raw line, waiting to be written with its name's
// other values.
struct CutValue {
  uint32_t name;
  std::string_view value;
};

struct ZstdCCtxDeleter {
  void operator()(ZSTD_CCtx* cctx) const { ZSTD_freeCCtx(cctx); }
};
struct ZstdDCtxDeleter {
  void operator()(ZSTD_DCtx* dctx) const { ZSTD_freeDCtx(dctx); }
};

}  // namespace

struct BlockBuilder::State {
  std::vector<PendingEvent> events;
  std::vector<PendingField> fields;
  std::string raw_text;  // every raw line, in insertion order
  std::string literals;  // strings that were not slices of their raw line
  StringTable hosts, apps, names;
  std::bitset<256> severities, facilities, inputs;
  int64_t min_timestamp = 0;
  int64_t max_timestamp = 0;

  // finish()'s working memory, kept for the next block.
  std::vector<std::pair<int64_t, uint32_t>> order;
  std::array<std::string, kColumnSlots> columns;
  std::array<std::string, kColumnSlots> compressed;
  std::string received_alternative;
  std::string compressed_alternative;
  std::vector<CutValue> cuts;
  std::vector<uint32_t> cut_counts, cut_starts, cuts_by_name;
  StringTable value_dictionary, attr_tuples, records, template_dictionary;
  std::vector<uint32_t> indexes, template_indexes;
  std::vector<uint64_t> template_numbers;
  std::string template_text;
  std::string record, inline_records;
  std::vector<int64_t> value_numbers;
  BloomFilterBuilder filter;
  std::string lower, value_lower;
  std::vector<uint64_t> name_seeds;
  std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter> cctx;

  std::string_view raw_of(const PendingEvent& e) const {
    return std::string_view(raw_text).substr(e.raw_offset, e.raw_length);
  }
  std::string_view text_of(const PendingEvent& e, const Ref& ref) const {
    return ref.in_raw ? raw_of(e).substr(ref.offset, ref.length)
                      : std::string_view(literals).substr(ref.offset, ref.length);
  }

  Status compress(size_t id, std::string_view input, std::string& output, int level, bool& stored);
  void encode_timestamps();
  void encode_received();
  void encode_attrs();
  void encode_dictionary_column(size_t id, const StringTable& table, bool host);
  void encode_raw_parts();
  void encode_field_values();
  void build_filter(uint32_t bits_per_key, std::string& filter_out);
};

BlockBuilder::BlockBuilder() : state_(std::make_unique<State>()) {}
BlockBuilder::~BlockBuilder() = default;
BlockBuilder::BlockBuilder(BlockBuilder&&) noexcept = default;
BlockBuilder& BlockBuilder::operator=(BlockBuilder&&) noexcept = default;

void BlockBuilder::add(const EventView& event) {
  State& s = *state_;
  // Lines are limited by max_line_bytes long before this.
  SLUICE_ASSERT(event.raw.size() < kNoSlice, "a raw line of 4 GiB or more");
  const std::string_view raw = event.raw;
  // Offset of `text` in the raw line if it is a non-empty slice of it.
  auto slice_of = [&](std::string_view text) -> uint32_t {
    std::less_equal<const char*> le;
    if (text.empty() || raw.empty() || !le(raw.data(), text.data()) ||
        !le(text.data() + text.size(), raw.data() + raw.size())) {
      return kNoSlice;
    }
    return static_cast<uint32_t>(text.data() - raw.data());
  };
  auto ref_of = [&](std::string_view text) {
    Ref ref;
    ref.length = static_cast<uint32_t>(text.size());
    const uint32_t offset = slice_of(text);
    if (offset != kNoSlice) {
      ref.offset = offset;
      ref.in_raw = true;
    } else {
      ref.offset = s.literals.size();
      s.literals.append(text);
    }
    return ref;
  };

  PendingEvent e;
  e.timestamp_ns = event.timestamp_ns;
  e.received_ns = event.received_ns;
  e.raw_offset = s.raw_text.size();
  e.raw_length = static_cast<uint32_t>(raw.size());
  e.host = s.hosts.intern(event.host);
  e.app = s.apps.intern(event.app);
  e.host_slice = slice_of(event.host);
  e.app_slice = slice_of(event.app);
  e.message = ref_of(event.message);
  e.first_field = s.fields.size();
  e.field_count = static_cast<uint32_t>(event.fields.size());
  e.severity = event.severity;
  e.facility = event.facility;
  e.flags = event.flags;
  e.input = event.input;
  for (const Field& field : event.fields) {
    SLUICE_ASSERT(field.type <= FieldType::kBool, "a FieldType out of range");
    s.fields.push_back({s.names.intern(field.name), field.type, ref_of(field.value)});
  }
  s.raw_text.append(raw);

  if (s.events.empty() || e.timestamp_ns < s.min_timestamp) s.min_timestamp = e.timestamp_ns;
  if (s.events.empty() || e.timestamp_ns > s.max_timestamp) s.max_timestamp = e.timestamp_ns;
  s.severities.set(e.severity);
  s.facilities.set(e.facility);
  s.inputs.set(e.input);
  s.events.push_back(e);
}

size_t BlockBuilder::size() const { return state_->events.size(); }
size_t BlockBuilder::raw_bytes() const { return state_->raw_text.size(); }
int64_t BlockBuilder::min_timestamp() const { return state_->min_timestamp; }
int64_t BlockBuilder::max_timestamp() const { return state_->max_timestamp; }
size_t BlockBuilder::host_count() const { return state_->hosts.size(); }
std::string_view BlockBuilder::host(size_t i) const { return state_->hosts.at(i); }
size_t BlockBuilder::app_count() const { return state_->apps.size(); }
std::string_view BlockBuilder::app(size_t i) const { return state_->apps.at(i); }
const std::bitset<256>& BlockBuilder::severities() const { return state_->severities; }
const std::bitset<256>& BlockBuilder::facilities() const { return state_->facilities; }
const std::bitset<256>& BlockBuilder::inputs() const { return state_->inputs; }

void BlockBuilder::clear() {
  State& s = *state_;
  s.events.clear();
  s.fields.clear();
  s.raw_text.clear();
  s.literals.clear();
  s.hosts.clear();
  s.apps.clear();
  s.names.clear();
  s.severities.reset();
  s.facilities.reset();
  s.inputs.reset();
  s.min_timestamp = 0;
  s.max_timestamp = 0;
}

void BlockBuilder::State::encode_timestamps() {
  std::string& out = columns[slot(BlockColumnId::kTimestamps)];
  if (order.empty()) return;
  uint64_t unit = 0;
  for (size_t i = 1; i < order.size(); ++i) {
    unit = std::gcd(unit, static_cast<uint64_t>(order[i].first) - static_cast<uint64_t>(order[i - 1].first));
  }
  if (unit == 0) unit = 1;
  put_varint(out, zigzag(order[0].first));
  put_varint(out, unit);
  for (size_t i = 1; i < order.size(); ++i) {
    put_varint(out, (static_cast<uint64_t>(order[i].first) - static_cast<uint64_t>(order[i - 1].first)) / unit);
  }
}

void BlockBuilder::State::encode_received() {
  // Both modes are written; finish() keeps the one that compresses smaller.
  received_alternative.clear();
  if (order.empty()) return;
  for (uint8_t mode : {0, 1}) {
    std::string& out = mode == 0 ? columns[slot(BlockColumnId::kReceived)] : received_alternative;
    out.push_back(static_cast<char>(mode));
    int64_t previous = 0;
    uint64_t zeros = 0;  // differences of 0 after the last one written
    for (size_t i = 0; i < order.size(); ++i) {
      const PendingEvent& e = events[order[i].second];
      const int64_t base = (mode == 0 || i == 0) ? e.timestamp_ns : previous;
      const int64_t difference = wrapping_sub(e.received_ns, base);
      previous = e.received_ns;
      if (difference == 0 && i != 0) {
        ++zeros;
        continue;
      }
      if (i != 0) put_varint(out, zeros);
      put_varint(out, zigzag(difference));
      zeros = 0;
    }
    put_varint(out, zeros);
  }
}

void BlockBuilder::State::encode_attrs() {
  std::string& out = columns[slot(BlockColumnId::kAttrs)];
  if (order.empty()) return;
  // The four attributes go together (a source's lines share them), so one
  // index into the block's distinct combinations stands for all four.
  attr_tuples.clear();
  indexes.clear();
  for (const auto& [timestamp, index] : order) {
    const PendingEvent& e = events[index];
    const char tuple[4] = {static_cast<char>(e.severity), static_cast<char>(e.facility), static_cast<char>(e.flags),
                           static_cast<char>(e.input)};
    indexes.push_back(attr_tuples.intern(std::string_view(tuple, 4)));
  }
  put_varint(out, attr_tuples.size());
  for (size_t i = 0; i < attr_tuples.size(); ++i) out.append(attr_tuples.at(i));
  put_indexes(out, indexes, attr_tuples.size());
}

void BlockBuilder::State::encode_dictionary_column(size_t id, const StringTable& table, bool host) {
  std::string& out = columns[id];
  if (order.empty()) return;
  table.write(out);
  indexes.clear();
  for (const auto& [timestamp, index] : order) indexes.push_back(host ? events[index].host : events[index].app);
  put_indexes(out, indexes, table.size());
}

void BlockBuilder::State::encode_raw_parts() {
  std::string& skeleton_lengths = columns[slot(BlockColumnId::kSkeletonLengths)];
  std::string& skeleton = columns[slot(BlockColumnId::kSkeleton)];
  std::string& message_literals = columns[slot(BlockColumnId::kMessageLiterals)];
  std::string& structure = columns[slot(BlockColumnId::kRecords)];
  std::string& field_literals = columns[slot(BlockColumnId::kFieldLiterals)];
  cuts.clear();
  if (order.empty()) return;
  names.write(structure);
  records.clear();
  inline_records.clear();
  indexes.clear();

  for (const auto& [timestamp, index] : order) {
    const PendingEvent& e = events[index];
    record.clear();
    const std::string_view raw = raw_of(e);
    uint32_t position = 0;  // end of the last cut in the raw line
    uint32_t cut_bytes = 0;
    // Moves the skeleton up to `offset` and skips the cut value; returns
    // the skeleton bytes between the previous cut and this one.
    auto cut = [&](uint32_t offset, uint32_t length) {
      skeleton.append(raw.substr(position, offset - position));
      const uint32_t gap = offset - position;
      position = offset + length;
      cut_bytes += length;
      return gap;
    };
    TimeText time;
    if (find_time_text(raw, e.timestamp_ns, time)) {
      put_varint(record, uint64_t{1} + cut(time.offset, time.length));
      record.push_back(static_cast<char>(time.format));
      if (time.format & kTimeHasOffset) put_varint(record, zigzag(time.offset_minutes));
    } else {
      put_varint(record, 0);
    }
    for (const auto& [slice, length] : {std::pair{e.host_slice, hosts.at(e.host).size()},
                                        std::pair{e.app_slice, apps.at(e.app).size()}}) {
      if (slice != kNoSlice && slice >= position) {
        put_varint(record, uint64_t{1} + cut(slice, static_cast<uint32_t>(length)));
      } else {
        put_varint(record, 0);
      }
    }
    // A message that is one of the event's fields (a JSON "msg") is named
    // by the field's position: the same few bytes for every such line,
    // where an offset and tail would vary with the lengths around it.
    uint64_t same_field = e.field_count;
    const std::string_view message_text = text_of(e, e.message);
    for (uint32_t f = 0; f < e.field_count && same_field == e.field_count && !message_text.empty(); ++f) {
      const Ref& value = fields[e.first_field + f].value;
      if (value.length == e.message.length && value.in_raw == e.message.in_raw &&
          (value.in_raw ? value.offset == e.message.offset : text_of(e, value) == message_text)) {
        same_field = f;
      }
    }
    if (same_field != e.field_count) {
      put_varint(record, (same_field << 2) | kMessageField);
    } else if (e.message.in_raw) {
      put_varint(record, (e.message.offset << 2) | kMessageSlice);
      put_varint(record, raw.size() - e.message.offset - e.message.length);
    } else {
      put_varint(record, (uint64_t{e.message.length} << 2) | kMessageLiteral);
      message_literals.append(literals, e.message.offset, e.message.length);
    }
    put_varint(record, e.field_count);
    for (size_t f = e.first_field; f < e.first_field + e.field_count; ++f) {
      const PendingField& field = fields[f];
      put_varint(record, field.name);
      record.push_back(static_cast<char>(field.type));
      const Ref& value = field.value;
      if (!value.in_raw) {
        put_varint(record, (uint64_t{value.length} << 2) | kTagLiteral);
        field_literals.append(literals, value.offset, value.length);
      } else if (value.offset >= position) {
        const auto offset = static_cast<uint32_t>(value.offset);
        const uint32_t gap = cut(offset, value.length);
        put_varint(record, (uint64_t{gap} << 2) | kTagCut);
        cuts.push_back({field.name, raw.substr(offset, value.length)});
      } else {
        put_varint(record, (uint64_t{value.length} << 2) | kTagSlice);
        put_varint(record, value.offset);
      }
    }
    skeleton.append(raw.substr(position));
    put_varint(skeleton_lengths, raw.size() - cut_bytes);

    inline_records.append(record);
    indexes.push_back(records.intern(record));
  }
  // Lines of one source share their record (cuts at the same gaps, the
  // same fields): a dictionary of the distinct records and a packed index
  // per event beat zstd matching each record, when there are few.
  if (records.size() * 4 <= order.size()) {
    structure.push_back(static_cast<char>(kRecordsDictionary));
    records.write(structure);
    put_indexes(structure, indexes, records.size());
  } else {
    structure.push_back(static_cast<char>(kRecordsInline));
    structure.append(inline_records);
  }
  encode_field_values();
}

void BlockBuilder::State::encode_field_values() {
  std::string& out = columns[slot(BlockColumnId::kFieldValues)];
  // Group the cut values by name, keeping block order within a name.
  cut_counts.assign(names.size(), 0);
  for (const CutValue& cut : cuts) ++cut_counts[cut.name];
  cut_starts.assign(names.size() + 1, 0);
  for (size_t k = 0; k < names.size(); ++k) cut_starts[k + 1] = cut_starts[k] + cut_counts[k];
  cuts_by_name.resize(cuts.size());
  {
    std::vector<uint32_t>& next = cut_counts;  // reused as write positions
    for (size_t k = 0; k < names.size(); ++k) next[k] = cut_starts[k];
    for (size_t i = 0; i < cuts.size(); ++i) cuts_by_name[next[cuts[i].name]++] = static_cast<uint32_t>(i);
  }

  for (size_t k = 0; k < names.size(); ++k) {
    const uint32_t begin = cut_starts[k];
    const uint32_t count = cut_starts[k + 1] - begin;
    auto value = [&](uint32_t i) { return cuts[cuts_by_name[begin + i]].value; };
    if (count == 0) {
      out.push_back(static_cast<char>(kValuesNone));
      put_varint(out, 0);
      continue;
    }

    value_dictionary.clear();
    indexes.clear();
    for (uint32_t i = 0; i < count; ++i) indexes.push_back(value_dictionary.intern(value(i)));
    const size_t distinct = value_dictionary.size();
    // A dictionary pays when values repeat: each repeat costs an index of a
    // few bits instead of a zstd match of two or three bytes.
    const bool repetitive = distinct * 2 <= count || distinct <= 16;
    auto write_dictionary = [&] {
      out.push_back(static_cast<char>(kValuesDict));
      put_varint(out, count);
      value_dictionary.write(out);
      put_indexes(out, indexes, value_dictionary.size());
    };

    // Numbers and addresses as binary, unless they repeat (status codes).
    value_numbers.clear();
    bool numbers = true;
    for (uint32_t i = 0; i < count && numbers; ++i) {
      int64_t number = 0;
      numbers = parse_canonical_int(value(i), number);
      value_numbers.push_back(number);
    }
    bool ipv4 = !numbers;
    unsigned char octets[4];
    for (uint32_t i = 0; i < count && ipv4; ++i) ipv4 = parse_canonical_ipv4(value(i), octets);
    if ((numbers || ipv4) && repetitive) {
      write_dictionary();
      continue;
    }
    if (numbers) {
      size_t plain_bytes = 0, delta_bytes = 0;
      int64_t previous = 0;
      for (int64_t number : value_numbers) {
        plain_bytes += varint_size(zigzag(number));
        delta_bytes += varint_size(zigzag(wrapping_sub(number, previous)));
        previous = number;
      }
      const bool delta = delta_bytes < plain_bytes;
      out.push_back(static_cast<char>(delta ? kValuesDelta : kValuesInt));
      put_varint(out, count);
      previous = 0;
      for (int64_t number : value_numbers) {
        put_varint(out, zigzag(delta ? wrapping_sub(number, previous) : number));
        previous = number;
      }
      continue;
    }
    if (ipv4) {
      out.push_back(static_cast<char>(kValuesIpv4));
      put_varint(out, count);
      for (uint32_t i = 0; i < count; ++i) {
        const bool ok = parse_canonical_ipv4(value(i), octets);
        SLUICE_ASSERT(ok, "an IPv4 value that parsed a moment ago");
        out.append(reinterpret_cast<const char*>(octets), 4);
      }
      continue;
    }

    // Templates pay when taking the numbers out leaves far fewer distinct
    // texts (request paths with ids); user agents, with version numbers in
    // a few fixed strings, gain nothing.
    if (distinct > 16) {
      template_dictionary.clear();
      template_indexes.clear();
      template_numbers.clear();
      size_t taken = 0;
      for (uint32_t i = 0; i < count; ++i) {
        template_text.clear();
        taken += make_template(value(i), template_text, template_numbers);
        template_indexes.push_back(template_dictionary.intern(template_text));
      }
      if (taken != 0 && template_dictionary.size() * 2 <= distinct && template_dictionary.size() * 2 <= count) {
        out.push_back(static_cast<char>(kValuesTemplate));
        put_varint(out, count);
        template_dictionary.write(out);
        put_indexes(out, template_indexes, template_dictionary.size());
        template_text.clear();
        for (uint64_t number : template_numbers) put_varint(template_text, number);
        put_varint(out, template_text.size());
        out.append(template_text);
        continue;
      }
    }

    if (repetitive) {
      write_dictionary();
      continue;
    }
    out.push_back(static_cast<char>(kValuesPlain));
    put_varint(out, count);
    for (uint32_t i = 0; i < count; ++i) put_varint(out, value(i).size());
    for (uint32_t i = 0; i < count; ++i) out.append(value(i));
  }
}

Status BlockBuilder::State::compress(size_t id, std::string_view input, std::string& output, int level,
                                     bool& stored) {
  if (input.size() > kMaxBlockColumnBytes) {
    return Status::error("block: column " + std::string(column_name(id)) + " would be " +
                         std::to_string(input.size()) + " bytes, over the format's limit");
  }
  if (!cctx) cctx.reset(ZSTD_createCCtx());
  SLUICE_ASSERT(cctx != nullptr, "ZSTD_createCCtx failed (out of memory)");
  output.resize(ZSTD_compressBound(input.size()));
  ZSTD_CCtx_reset(cctx.get(), ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
  const size_t written = ZSTD_compress2(cctx.get(), output.data(), output.size(), input.data(), input.size());
  if (ZSTD_isError(written)) {
    return Status::error("block: column " + std::string(column_name(id)) + ": zstd: " + ZSTD_getErrorName(written));
  }
  stored = written >= input.size();
  if (stored) {
    output.assign(input);
  } else {
    output.resize(written);
  }
  return Status::ok();
}

Status BlockBuilder::finish(int zstd_level, uint32_t filter_bits_per_key, std::string& block_out,
                            std::string& filter_out) {
  State& s = *state_;
  const size_t n = s.events.size();
  if (n > std::numeric_limits<uint32_t>::max()) return Status::error("block: more than 2^32 events");
  if (s.fields.size() > kMaxBlockFields) {
    return Status::error("block: " + std::to_string(s.fields.size()) + " fields, over the format's limit");
  }
  if (s.raw_text.size() > kMaxBlockColumnBytes) {
    return Status::error("block: " + std::to_string(s.raw_text.size()) + " bytes of raw text, over the format's limit");
  }
  // Equal timestamps keep insertion order: the index breaks ties, and the
  // keys are unique, so std::sort is as stable as stable_sort here.
  s.order.clear();
  for (size_t i = 0; i < n; ++i) s.order.emplace_back(s.events[i].timestamp_ns, static_cast<uint32_t>(i));
  std::sort(s.order.begin(), s.order.end());

  for (std::string& column : s.columns) column.clear();
  s.encode_timestamps();
  s.encode_received();
  s.encode_attrs();
  s.encode_dictionary_column(slot(BlockColumnId::kHost), s.hosts, true);
  s.encode_dictionary_column(slot(BlockColumnId::kApp), s.apps, false);
  s.encode_raw_parts();

  struct Entry {
    uint8_t id;
    bool stored;
    uint32_t stored_length;
    uint32_t uncompressed_length;
  };
  std::array<Entry, kColumnSlots> entries;
  size_t entry_count = 0;
  for (size_t id = 1; id < kColumnSlots; ++id) {
    std::string& input = s.columns[id];
    if (input.empty()) continue;
    bool stored = false;
    Status status = s.compress(id, input, s.compressed[id], zstd_level, stored);
    if (!status) return status;
    if (id == slot(BlockColumnId::kReceived)) {
      bool alternative_stored = false;
      status = s.compress(id, s.received_alternative, s.compressed_alternative, zstd_level, alternative_stored);
      if (!status) return status;
      if (s.compressed_alternative.size() < s.compressed[id].size()) {
        input.swap(s.received_alternative);
        s.compressed[id].swap(s.compressed_alternative);
        stored = alternative_stored;
      }
    }
    entries[entry_count++] = {static_cast<uint8_t>(id), stored, static_cast<uint32_t>(s.compressed[id].size()),
                              static_cast<uint32_t>(input.size())};
  }

  block_out.clear();
  block_out.append(kMagic, 4);
  char header[kHeaderBytes - 4];
  header[0] = static_cast<char>(kBlockFormatVersion);
  put_le(header + 1, n, 4);
  put_le(header + 5, static_cast<uint64_t>(n == 0 ? 0 : s.order.front().first), 8);
  put_le(header + 13, static_cast<uint64_t>(n == 0 ? 0 : s.order.back().first), 8);
  header[21] = static_cast<char>(entry_count);
  block_out.append(header, sizeof header);
  for (size_t i = 0; i < entry_count; ++i) {
    char entry[kDirectoryEntryBytes];
    entry[0] = static_cast<char>(entries[i].id | (entries[i].stored ? kStoredFlag : 0));
    put_le(entry + 1, entries[i].stored_length, 4);
    put_le(entry + 5, entries[i].uncompressed_length, 4);
    block_out.append(entry, sizeof entry);
  }
  for (size_t i = 0; i < entry_count; ++i) block_out.append(s.compressed[entries[i].id]);

  s.build_filter(filter_bits_per_key, filter_out);
  return Status::ok();
}

void BlockBuilder::State::build_filter(uint32_t bits_per_key, std::string& filter_out) {
  filter.clear();
  auto add_text = [&](std::string_view text) {
    for_each_token(text, lower, [&](std::string_view token) { filter.add(text_token_hash(token)); });
  };
  for (const PendingEvent& e : events) {
    add_text(raw_of(e));
    if (!e.message.in_raw) add_text(text_of(e, e.message));
  }
  std::string& value_scratch = value_lower;
  const uint64_t host_seed = field_token_seed("host");
  for (size_t i = 0; i < hosts.size(); ++i) filter.add(hash_bytes(lowercased(hosts.at(i), value_scratch), host_seed));
  const uint64_t app_seed = field_token_seed("app");
  for (size_t i = 0; i < apps.size(); ++i) filter.add(hash_bytes(lowercased(apps.at(i), value_scratch), app_seed));
  auto add_code = [&](std::string_view field, const std::bitset<256>& seen, std::string_view (*name_of)(uint8_t)) {
    const uint64_t seed = field_token_seed(field);
    for (unsigned v = 0; v < 256; ++v) {
      if (!seen.test(v)) continue;
      char digits[4];
      const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
      filter.add(hash_bytes(std::string_view(digits, static_cast<size_t>(end - digits)), seed));
      const std::string_view name = name_of(static_cast<uint8_t>(v));
      if (!name.empty()) filter.add(hash_bytes(lowercased(name, value_scratch), seed));
    }
  };
  add_code("severity", severities, &severity_name);
  add_code("facility", facilities, &facility_name);
  const uint64_t input_seed = field_token_seed("input");
  for (unsigned v = 0; v < kInputCount; ++v) {
    if (inputs.test(v)) filter.add(hash_bytes(input_name(static_cast<InputId>(v)), input_seed));
  }
  name_seeds.resize(names.size());
  for (size_t k = 0; k < names.size(); ++k) name_seeds[k] = field_token_seed(names.at(k));
  for (const PendingEvent& e : events) {
    for (size_t f = e.first_field; f < e.first_field + e.field_count; ++f) {
      const PendingField& field = fields[f];
      filter.add(hash_bytes(lowercased(text_of(e, field.value), value_scratch), name_seeds[field.name]));
    }
  }
  filter_out.clear();
  filter.finish(bits_per_key, filter_out);
}

// =========================================================================
// BlockReader

namespace {

// A growable byte buffer that does not zero what it is about to overwrite
// (std::string::resize would, for every decompressed column).
class Buffer {
 public:
  char* reset(size_t size) {
    if (size > capacity_) {
      data_.reset(new char[size]);
      capacity_ = size;
    }
    size_ = size;
    return data_.get();
  }
  void clear() { size_ = 0; }
  void append(const char* bytes, size_t count) {
    if (count == 0) return;
    if (size_ + count > capacity_) {
      const size_t capacity = std::max(size_ + count, capacity_ * 2);
      std::unique_ptr<char[]> grown(new char[capacity]);
      if (size_ != 0) std::memcpy(grown.get(), data_.get(), size_);
      data_ = std::move(grown);
      capacity_ = capacity;
    }
    std::memcpy(data_.get() + size_, bytes, count);
    size_ += count;
  }
  void append(std::string_view text) { append(text.data(), text.size()); }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

struct ColumnSlot {
  bool present = false;
  bool stored = false;
  bool ready = false;  // `data` holds the decompressed bytes
  uint32_t stored_length = 0;
  uint32_t uncompressed_length = 0;
  size_t offset = 0;  // in the block
  std::string_view data;
  Buffer buffer;
};

// A decoded field: its value is in the event's raw line, or in the
// field_literals column.
struct FieldRecord {
  uint32_t name;
  uint32_t offset;
  uint32_t length;
  FieldType type;
  bool literal;
};

struct MessageRecord {
  enum Source : uint8_t { kRaw, kMessageLiterals, kFieldLiterals };
  uint32_t offset;  // in the event's raw line, or in one of the literal columns
  uint32_t length;
  Source source;
};

// Where the rebuild takes a field name's next cut value from.
struct ValueGroup {
  uint8_t encoding = kValuesNone;
  uint64_t total = 0;
  uint64_t remaining = 0;
  Cursor lengths;  // plain
  Cursor values;   // plain: the bytes; numbers; ipv4
  IndexReader indexes;  // dict
  uint32_t dictionary_start = 0;
  uint32_t dictionary_size = 0;
  int64_t previous = 0;  // delta
};

Status corrupt(std::string_view what) { return Status::error("block: " + std::string(what)); }

Status corrupt_column(size_t id, std::string_view what) {
  return Status::error("block: column " + std::to_string(id) + " (" + column_name(id) + "): " + std::string(what));
}

// Reads a dictionary into `entries` (appended).
bool read_dictionary(Cursor& in, std::vector<std::string_view>& entries, std::vector<uint64_t>& lengths) {
  const uint64_t count = in.varint();
  if (in.failed() || count > in.remaining()) return false;  // a length is at least a byte
  lengths.resize(count);
  uint64_t total = 0;
  for (uint64_t& length : lengths) {
    length = in.varint();
    if (length > kMaxBlockColumnBytes) return false;
    total += length;
  }
  const std::string_view bytes = in.bytes(total);
  if (in.failed()) return false;
  size_t at = 0;
  for (uint64_t length : lengths) {
    entries.push_back(bytes.substr(at, length));
    at += length;
  }
  return true;
}

}  // namespace

struct BlockReader::State {
  std::string_view block;
  uint32_t size = 0;
  int64_t min_timestamp = 0;
  int64_t max_timestamp = 0;
  uint32_t loaded = 0;
  std::array<ColumnSlot, kColumnSlots> columns;
  std::unique_ptr<ZSTD_DCtx, ZstdDCtxDeleter> dctx;

  std::vector<int64_t> timestamps, received;
  std::string_view attr_tuples;  // 4 bytes each: severity, facility, flags, input
  std::vector<uint32_t> attr_index;
  std::vector<std::string_view> host_dictionary, app_dictionary, names;
  std::vector<uint32_t> host_index, app_index;
  Buffer raw;
  std::vector<uint32_t> raw_offsets;  // n + 1
  std::vector<FieldRecord> fields;
  std::vector<uint32_t> field_starts;  // n + 1
  std::string_view field_literals, message_literals;
  std::vector<MessageRecord> messages;
  // Rebuild scratch.
  std::vector<ValueGroup> groups;
  std::vector<std::string_view> record_dictionary;
  std::vector<std::string_view> group_dictionaries;
  std::vector<uint64_t> lengths;

  Status column(BlockColumnId id, std::string_view& out);
  Status load_timestamps();
  Status load_received();
  Status load_attrs();
  Status load_dictionary_column(BlockColumnId id, std::vector<std::string_view>& dictionary,
                                std::vector<uint32_t>& index);
  Status load_raw();
  Status read_value_groups(std::string_view values);
};

BlockReader::BlockReader() : state_(std::make_unique<State>()) {}
BlockReader::~BlockReader() = default;
BlockReader::BlockReader(BlockReader&&) noexcept = default;
BlockReader& BlockReader::operator=(BlockReader&&) noexcept = default;

uint32_t BlockReader::size() const { return state_->size; }
int64_t BlockReader::min_timestamp() const { return state_->min_timestamp; }
int64_t BlockReader::max_timestamp() const { return state_->max_timestamp; }
uint32_t BlockReader::loaded() const { return state_->loaded; }

Status BlockReader::open(std::string_view block) {
  State& s = *state_;
  s.block = {};
  s.size = 0;
  s.min_timestamp = 0;
  s.max_timestamp = 0;
  s.loaded = 0;
  for (ColumnSlot& column : s.columns) {
    column.present = false;
    column.ready = false;
    column.data = {};
  }
  if (block.size() < kHeaderBytes) return corrupt("truncated header (" + std::to_string(block.size()) + " bytes)");
  if (std::memcmp(block.data(), kMagic, 4) != 0) return corrupt("bad magic");
  const auto version = static_cast<uint8_t>(block[4]);
  if (version != kBlockFormatVersion) return corrupt("unsupported version " + std::to_string(version));
  const auto size = static_cast<uint32_t>(get_le(block.data() + 5, 4));
  const auto min_timestamp = static_cast<int64_t>(get_le(block.data() + 9, 8));
  const auto max_timestamp = static_cast<int64_t>(get_le(block.data() + 17, 8));
  if (min_timestamp > max_timestamp) return corrupt("min timestamp after max timestamp");
  const size_t column_count = static_cast<uint8_t>(block[25]);
  size_t offset = kHeaderBytes + column_count * kDirectoryEntryBytes;
  if (offset > block.size()) return corrupt("truncated directory");
  for (size_t i = 0; i < column_count; ++i) {
    const char* entry = block.data() + kHeaderBytes + i * kDirectoryEntryBytes;
    const auto id_byte = static_cast<uint8_t>(entry[0]);
    const size_t id = id_byte & ~kStoredFlag;
    if (id == 0 || id >= kColumnSlots) return corrupt("unknown column id " + std::to_string(id));
    ColumnSlot& column = s.columns[id];
    if (column.present) return corrupt("column " + std::to_string(id) + " twice");
    column.present = true;
    column.stored = (id_byte & kStoredFlag) != 0;
    column.stored_length = static_cast<uint32_t>(get_le(entry + 1, 4));
    column.uncompressed_length = static_cast<uint32_t>(get_le(entry + 5, 4));
    column.offset = offset;
    if (column.uncompressed_length > kMaxBlockColumnBytes) {
      return corrupt("column " + std::to_string(id) + " length " + std::to_string(column.uncompressed_length) +
                     " over the limit");
    }
    if (column.stored_length > block.size() - offset) {
      return corrupt("column " + std::to_string(id) + " length beyond end");
    }
    if (column.stored && column.stored_length != column.uncompressed_length) {
      return corrupt("column " + std::to_string(id) + " stored with two lengths");
    }
    offset += column.stored_length;
  }
  if (offset != block.size()) return corrupt(std::to_string(block.size() - offset) + " bytes after the last column");
  // Each event takes a byte of the timestamps column at least: this bounds
  // what a reader allocates per event by the column limit.
  if (size != 0 && s.columns[slot(BlockColumnId::kTimestamps)].uncompressed_length < uint64_t{size} + 1) {
    return corrupt("event count beyond the timestamps column");
  }
  s.block = block;
  s.size = size;
  s.min_timestamp = min_timestamp;
  s.max_timestamp = max_timestamp;
  return Status::ok();
}

Status BlockReader::State::column(BlockColumnId id_enum, std::string_view& out) {
  const size_t id = slot(id_enum);
  ColumnSlot& column = columns[id];
  out = {};
  if (!column.present) return Status::ok();
  if (!column.ready) {
    const std::string_view stored = block.substr(column.offset, column.stored_length);
    if (column.stored) {
      column.data = stored;
    } else {
      const unsigned long long content_size = ZSTD_getFrameContentSize(stored.data(), stored.size());
      if (content_size != column.uncompressed_length) {
        return corrupt_column(id, "zstd frame size does not match the directory");
      }
      if (!dctx) dctx.reset(ZSTD_createDCtx());
      SLUICE_ASSERT(dctx != nullptr, "ZSTD_createDCtx failed (out of memory)");
      char* target = column.buffer.reset(column.uncompressed_length);
      const size_t written = ZSTD_decompressDCtx(dctx.get(), target, column.uncompressed_length, stored.data(),
                                                 stored.size());
      if (ZSTD_isError(written)) return corrupt_column(id, std::string("zstd: ") + ZSTD_getErrorName(written));
      if (written != column.uncompressed_length) return corrupt_column(id, "zstd frame shorter than its size");
      column.data = column.buffer.view();
    }
    column.ready = true;
  }
  out = column.data;
  return Status::ok();
}

Status BlockReader::State::load_timestamps() {
  constexpr size_t id = slot(BlockColumnId::kTimestamps);
  std::string_view data;
  if (Status status = column(BlockColumnId::kTimestamps, data); !status) return status;
  timestamps.clear();
  if (size == 0) return data.empty() ? Status::ok() : corrupt_column(id, "bytes in an empty block");
  if (data.size() < size) return corrupt_column(id, "shorter than one byte per event");
  timestamps.resize(size);
  Cursor in(data);
  const int64_t first = unzigzag(in.varint());
  const uint64_t unit = in.varint();
  if (unit == 0) return corrupt_column(id, "unit 0");
  // Times biased by 2^63 compare as unsigned, so overflow is a wrap.
  uint64_t biased = static_cast<uint64_t>(first) ^ (uint64_t{1} << 63);
  timestamps[0] = first;
  for (uint32_t i = 1; i < size; ++i) {
    uint64_t step;
    if (__builtin_mul_overflow(in.varint(), unit, &step) || biased + step < biased) {
      return corrupt_column(id, "timestamp out of range");
    }
    biased += step;
    timestamps[i] = static_cast<int64_t>(biased ^ (uint64_t{1} << 63));
  }
  if (in.failed()) return corrupt_column(id, "truncated");
  if (!in.at_end()) return corrupt_column(id, "trailing bytes");
  if (timestamps.front() != min_timestamp || timestamps.back() != max_timestamp) {
    return corrupt_column(id, "does not match the header's time bounds");
  }
  return Status::ok();
}

Status BlockReader::State::load_received() {
  constexpr size_t id = slot(BlockColumnId::kReceived);
  std::string_view data;
  if (Status status = column(BlockColumnId::kReceived, data); !status) return status;
  received.clear();
  if (size == 0) return data.empty() ? Status::ok() : corrupt_column(id, "bytes in an empty block");
  received.resize(size);
  Cursor in(data);
  const uint8_t mode = in.byte();
  if (mode > 1) return corrupt_column(id, "unknown mode " + std::to_string(mode));
  for (uint32_t i = 0; i < size;) {
    const int64_t difference = unzigzag(in.varint());
    const uint64_t zeros = in.varint();
    if (in.failed()) return corrupt_column(id, "truncated");
    if (zeros > size - i - 1) return corrupt_column(id, "run beyond the events");
    for (uint64_t k = 0; k <= zeros; ++k, ++i) {
      const int64_t base = (mode == 0 || i == 0) ? timestamps[i] : received[i - 1];
      received[i] = wrapping_add(base, k == 0 ? difference : 0);
    }
  }
  if (!in.at_end()) return corrupt_column(id, "trailing bytes");
  return Status::ok();
}

Status BlockReader::State::load_attrs() {
  constexpr size_t id = slot(BlockColumnId::kAttrs);
  std::string_view data;
  if (Status status = column(BlockColumnId::kAttrs, data); !status) return status;
  attr_index.clear();
  attr_tuples = {};
  if (size == 0) return data.empty() ? Status::ok() : corrupt_column(id, "bytes in an empty block");
  Cursor in(data);
  const uint64_t tuples = in.varint();
  if (in.failed() || tuples > in.remaining() / 4) return corrupt_column(id, "bad dictionary");
  attr_tuples = in.bytes(tuples * 4);
  IndexReader indexes;
  if (!indexes.init(in, size, tuples)) return corrupt_column(id, "truncated");
  attr_index.resize(size);
  for (uint32_t& entry : attr_index) {
    if (!indexes.next(entry)) return corrupt_column(id, "index beyond the dictionary");
  }
  if (!indexes.consumed(size) || !in.at_end()) return corrupt_column(id, "trailing bytes");
  return Status::ok();
}

Status BlockReader::State::load_dictionary_column(BlockColumnId id_enum, std::vector<std::string_view>& dictionary,
                                                  std::vector<uint32_t>& index) {
  const size_t id = slot(id_enum);
  std::string_view data;
  if (Status status = column(id_enum, data); !status) return status;
  dictionary.clear();
  index.clear();
  if (size == 0) return data.empty() ? Status::ok() : corrupt_column(id, "bytes in an empty block");
  Cursor in(data);
  if (!read_dictionary(in, dictionary, lengths)) return corrupt_column(id, "bad dictionary");
  IndexReader indexes;
  if (!indexes.init(in, size, dictionary.size())) return corrupt_column(id, "truncated");
  index.resize(size);
  for (uint32_t& entry : index) {
    if (!indexes.next(entry)) return corrupt_column(id, "index beyond the dictionary");
  }
  if (!indexes.consumed(size) || !in.at_end()) return corrupt_column(id, "trailing bytes");
  return Status::ok();
}

Status BlockReader::State::read_value_groups(std::string_view values) {
  constexpr size_t id = slot(BlockColumnId::kFieldValues);
  groups.assign(names.size(), ValueGroup());
  group_dictionaries.clear();
  Cursor in(values);
  for (ValueGroup& group : groups) {
    group.encoding = in.byte();
    group.total = group.remaining = in.varint();
    if (in.failed()) return corrupt_column(id, "truncated");
    // Every encoding takes at least a byte per value, except packed
    // dictionary indexes: at least a bit, or none for a one-entry
    // dictionary (the cuts of column 8 bound those counts).
    if (group.encoding != kValuesDict && group.encoding != kValuesTemplate && group.remaining > in.remaining()) {
      return corrupt_column(id, "count beyond the column");
    }
    const char* start = in.position();
    switch (group.encoding) {
      case kValuesNone:
        if (group.remaining != 0) return corrupt_column(id, "values with encoding none");
        break;
      case kValuesPlain: {
        uint64_t total = 0;
        for (uint64_t i = 0; i < group.remaining; ++i) {
          const uint64_t length = in.varint();
          if (length > kMaxBlockColumnBytes) return corrupt_column(id, "value length over the limit");
          total += length;
        }
        const char* bytes_start = in.position();
        group.lengths = Cursor(std::string_view(start, static_cast<size_t>(bytes_start - start)));
        group.values = Cursor(in.bytes(total));
        break;
      }
      case kValuesDict: {
        group.dictionary_start = static_cast<uint32_t>(group_dictionaries.size());
        if (!read_dictionary(in, group_dictionaries, lengths)) return corrupt_column(id, "bad dictionary");
        group.dictionary_size = static_cast<uint32_t>(group_dictionaries.size() - group.dictionary_start);
        if (!group.indexes.init(in, group.remaining, group.dictionary_size)) return corrupt_column(id, "truncated");
        break;
      }
      case kValuesTemplate: {
        group.dictionary_start = static_cast<uint32_t>(group_dictionaries.size());
        if (!read_dictionary(in, group_dictionaries, lengths)) return corrupt_column(id, "bad dictionary");
        group.dictionary_size = static_cast<uint32_t>(group_dictionaries.size() - group.dictionary_start);
        for (uint32_t t = 0; t < group.dictionary_size; ++t) {
          if (!valid_template(group_dictionaries[group.dictionary_start + t])) {
            return corrupt_column(id, "bad template");
          }
        }
        if (!group.indexes.init(in, group.remaining, group.dictionary_size)) return corrupt_column(id, "truncated");
        group.values = Cursor(in.bytes(in.varint()));  // the numbers; the rebuild checks all are used
        break;
      }
      case kValuesInt:
      case kValuesDelta:
        in.skip_varints(group.remaining);
        group.values = Cursor(std::string_view(start, static_cast<size_t>(in.position() - start)));
        break;
      case kValuesIpv4:
        if (group.remaining > in.remaining() / 4) return corrupt_column(id, "truncated");
        group.values = Cursor(in.bytes(group.remaining * 4));
        break;
      default:
        return corrupt_column(id, "unknown encoding " + std::to_string(group.encoding));
    }
    if (in.failed()) return corrupt_column(id, "truncated");
  }
  if (!in.at_end()) return corrupt_column(id, "trailing bytes");
  return Status::ok();
}

Status BlockReader::State::load_raw() {
  constexpr size_t skeleton_lengths_id = slot(BlockColumnId::kSkeletonLengths);
  constexpr size_t fields_id = slot(BlockColumnId::kRecords);
  constexpr size_t values_id = slot(BlockColumnId::kFieldValues);
  std::string_view skeleton_lengths_data, skeleton_data, structure_data, values_data;
  for (auto [id, out] : {std::pair{BlockColumnId::kSkeletonLengths, &skeleton_lengths_data},
                         std::pair{BlockColumnId::kSkeleton, &skeleton_data},
                         std::pair{BlockColumnId::kRecords, &structure_data},
                         std::pair{BlockColumnId::kFieldValues, &values_data},
                         std::pair{BlockColumnId::kFieldLiterals, &field_literals},
                         std::pair{BlockColumnId::kMessageLiterals, &message_literals}}) {
    if (Status status = column(id, *out); !status) return status;
  }
  raw.clear();
  raw_offsets.assign(1, 0);
  fields.clear();
  field_starts.assign(1, 0);
  messages.clear();
  names.clear();
  if (size == 0) {
    if (!skeleton_lengths_data.empty() || !skeleton_data.empty() || !structure_data.empty() ||
        !values_data.empty() || !field_literals.empty() || !message_literals.empty()) {
      return corrupt("raw columns in an empty block");
    }
    return Status::ok();
  }
  if (skeleton_lengths_data.size() < size) {
    return corrupt_column(skeleton_lengths_id, "shorter than one byte per event");
  }
  Cursor structure(structure_data);
  if (!read_dictionary(structure, names, lengths)) return corrupt_column(fields_id, "bad name dictionary");
  const uint8_t records_mode = structure.byte();
  record_dictionary.clear();
  IndexReader record_indexes;
  if (records_mode == kRecordsDictionary) {
    if (!read_dictionary(structure, record_dictionary, lengths) ||
        !record_indexes.init(structure, size, record_dictionary.size())) {
      return corrupt_column(fields_id, "bad record dictionary");
    }
  } else if (records_mode == kRecordsInline) {
    // Five bytes per event at least: time, host and app cuts, message, field count.
    if (structure.remaining() / 5 < size) return corrupt_column(fields_id, "shorter than five bytes per event");
  } else {
    return corrupt_column(fields_id, "unknown record mode");
  }
  if (Status status = read_value_groups(values_data); !status) return status;
  raw_offsets.resize(size + size_t{1});
  field_starts.resize(size + size_t{1});
  messages.resize(size);

  Cursor skeleton_lengths(skeleton_lengths_data);
  Cursor skeleton(skeleton_data);
  uint64_t literal_used = 0;
  uint64_t message_literal_used = 0;
  char number_text[40];  // a number, an address or a time
  for (uint32_t i = 0; i < size; ++i) {
    const size_t raw_start = raw.size();
    const uint64_t skeleton_length = skeleton_lengths.varint();
    const std::string_view event_skeleton = skeleton.bytes(skeleton_length);
    if (skeleton_lengths.failed() || skeleton.failed()) {
      return corrupt_column(skeleton_lengths_id, "beyond the skeleton");
    }
    size_t skeleton_used = 0;
    // The event's record: its own bytes in the column, or a shared entry.
    Cursor shared_record;
    if (records_mode == kRecordsDictionary) {
      uint32_t entry;
      if (!record_indexes.next(entry)) return corrupt_column(fields_id, "record index beyond the dictionary");
      shared_record = Cursor(record_dictionary[entry]);
    }
    Cursor& record = records_mode == kRecordsDictionary ? shared_record : structure;
    // Copies the skeleton bytes before a cut value.
    auto copy_gap = [&](uint64_t gap) {
      if (gap > event_skeleton.size() - skeleton_used) return false;
      raw.append(event_skeleton.data() + skeleton_used, gap);
      skeleton_used += gap;
      return true;
    };
    const uint64_t time_cut = record.varint();
    if (time_cut != 0) {
      const uint8_t format = record.byte();
      const int64_t offset_minutes = (format & kTimeHasOffset) ? unzigzag(record.varint()) : 0;
      if (record.failed() || (format & ~kTimeHasOffset) > 9) return corrupt_column(fields_id, "bad time format");
      if (!copy_gap(time_cut - 1)) return corrupt_column(fields_id, "time cut beyond the skeleton");
      const size_t length = render_time(timestamps[i], format & 0x0f, (format & kTimeHasOffset) != 0, offset_minutes,
                                        number_text);
      if (length == 0) return corrupt_column(fields_id, "time without RFC 3339 text");
      raw.append(number_text, length);
    }
    const uint64_t host_cut = record.varint();
    if (host_cut != 0) {
      if (!copy_gap(host_cut - 1)) return corrupt_column(fields_id, "host cut beyond the skeleton");
      raw.append(host_dictionary[host_index[i]]);
    }
    const uint64_t app_cut = record.varint();
    if (app_cut != 0) {
      if (!copy_gap(app_cut - 1)) return corrupt_column(fields_id, "app cut beyond the skeleton");
      raw.append(app_dictionary[app_index[i]]);
    }
    // The message ref; resolved once the line and its fields are known.
    const uint64_t message_tag = record.varint();
    const uint64_t message_tail = (message_tag & 3) == kMessageSlice ? record.varint() : 0;
    const uint64_t field_count = record.varint();
    if (record.failed() || field_count > record.remaining() / 3) {
      return corrupt_column(fields_id, "truncated");
    }
    for (uint64_t f = 0; f < field_count; ++f) {
      const uint64_t name = record.varint();
      const uint8_t type = record.byte();
      const uint64_t tag = record.varint();
      if (record.failed()) return corrupt_column(fields_id, "truncated");
      if (name >= names.size()) return corrupt_column(fields_id, "name index beyond the dictionary");
      if (type > static_cast<uint8_t>(FieldType::kBool)) return corrupt_column(fields_id, "unknown field type");
      FieldRecord field{static_cast<uint32_t>(name), 0, 0, static_cast<FieldType>(type), false};
      switch (tag & 3) {
        case kTagLiteral:
          if ((tag >> 2) > field_literals.size() - literal_used) {
            return corrupt_column(fields_id, "literal beyond field_literals");
          }
          field.literal = true;
          field.offset = static_cast<uint32_t>(literal_used);
          field.length = static_cast<uint32_t>(tag >> 2);
          literal_used += tag >> 2;
          break;
        case kTagSlice: {
          const uint64_t offset = record.varint();
          // Checked against the rebuilt line's length below.
          if (record.failed() || offset > kMaxBlockColumnBytes || (tag >> 2) > kMaxBlockColumnBytes) {
            return corrupt_column(fields_id, "bad slice");
          }
          field.offset = static_cast<uint32_t>(offset);
          field.length = static_cast<uint32_t>(tag >> 2);
          break;
        }
        case kTagCut: {
          if (!copy_gap(tag >> 2)) return corrupt_column(fields_id, "cut beyond the skeleton");
          ValueGroup& group = groups[name];
          if (group.remaining == 0) return corrupt_column(values_id, "fewer values than cuts");
          --group.remaining;
          const size_t value_start = raw.size();
          switch (group.encoding) {
            case kValuesPlain:
              raw.append(group.values.bytes(group.lengths.varint()));
              break;
            case kValuesDict: {
              uint32_t index;
              if (!group.indexes.next(index)) return corrupt_column(values_id, "index beyond the dictionary");
              raw.append(group_dictionaries[group.dictionary_start + index]);
              break;
            }
            case kValuesTemplate: {
              uint32_t index;
              if (!group.indexes.next(index)) return corrupt_column(values_id, "index beyond the dictionary");
              const std::string_view text = group_dictionaries[group.dictionary_start + index];
              size_t piece = 0;  // start of the text not yet copied
              for (size_t t = 0; t < text.size(); ++t) {
                if (text[t] == kTemplateNumber) {
                  raw.append(text.data() + piece, t - piece);
                  const auto [end, ec] = std::to_chars(number_text, number_text + sizeof number_text,
                                                       group.values.varint());
                  raw.append(number_text, static_cast<size_t>(end - number_text));
                  piece = t + 1;
                  // A long template of placeholders must not outgrow the
                  // limit before the check after the value.
                  if (group.values.failed() || raw.size() > kMaxBlockColumnBytes) break;
                } else if (text[t] == kTemplateEscape) {
                  raw.append(text.data() + piece, t - piece);
                  piece = ++t;  // valid_template() checked a byte follows
                }
              }
              raw.append(text.data() + piece, text.size() - piece);
              break;
            }
            case kValuesInt:
            case kValuesDelta: {
              int64_t number = unzigzag(group.values.varint());
              if (group.encoding == kValuesDelta) number = group.previous = wrapping_add(group.previous, number);
              const auto [end, ec] = std::to_chars(number_text, number_text + sizeof number_text, number);
              raw.append(number_text, static_cast<size_t>(end - number_text));
              break;
            }
            case kValuesIpv4: {
              const std::string_view octets = group.values.bytes(4);
              if (group.values.failed()) break;
              raw.append(number_text, render_ipv4(octets.data(), number_text));
              break;
            }
            default:
              return corrupt_column(values_id, "cut of a name without values");
          }
          if (group.values.failed() || group.lengths.failed()) return corrupt_column(values_id, "truncated");
          // Checked per value: a few bytes of dictionary indexes can name a
          // long entry many times.
          if (raw.size() > kMaxBlockColumnBytes) return corrupt("raw text over the limit");
          field.offset = static_cast<uint32_t>(value_start - raw_start);
          field.length = static_cast<uint32_t>(raw.size() - value_start);
          break;
        }
        default:
          return corrupt_column(fields_id, "unknown field tag");
      }
      if (fields.size() >= kMaxBlockFields) return corrupt_column(fields_id, "too many fields");
      fields.push_back(field);
    }
    if (records_mode == kRecordsDictionary && !shared_record.at_end()) {
      return corrupt_column(fields_id, "trailing bytes in a record");
    }
    raw.append(event_skeleton.data() + skeleton_used, event_skeleton.size() - skeleton_used);
    if (raw.size() > kMaxBlockColumnBytes) return corrupt("raw text over the limit");
    const size_t raw_length = raw.size() - raw_start;
    for (size_t f = field_starts[i]; f < fields.size(); ++f) {
      const FieldRecord& field = fields[f];
      if (!field.literal && (field.offset > raw_length || field.length > raw_length - field.offset)) {
        return corrupt_column(fields_id, "slice beyond the raw line");
      }
    }
    MessageRecord& message = messages[i];
    switch (message_tag & 3) {
      case kMessageLiteral: {
        const uint64_t length = message_tag >> 2;
        if (length > message_literals.size() - message_literal_used) {
          return corrupt_column(fields_id, "literal beyond message_literals");
        }
        message = {static_cast<uint32_t>(message_literal_used), static_cast<uint32_t>(length),
                   MessageRecord::kMessageLiterals};
        message_literal_used += length;
        break;
      }
      case kMessageSlice: {
        const uint64_t offset = message_tag >> 2;
        if (offset > raw_length || message_tail > raw_length - offset) {
          return corrupt_column(fields_id, "message beyond the raw line");
        }
        message = {static_cast<uint32_t>(offset), static_cast<uint32_t>(raw_length - offset - message_tail),
                   MessageRecord::kRaw};
        break;
      }
      case kMessageField: {
        const uint64_t field = message_tag >> 2;
        if (field >= fields.size() - field_starts[i]) {
          return corrupt_column(fields_id, "message field beyond the event's");
        }
        const FieldRecord& same = fields[field_starts[i] + field];
        message = {same.offset, same.length, same.literal ? MessageRecord::kFieldLiterals : MessageRecord::kRaw};
        break;
      }
      default:
        return corrupt_column(fields_id, "unknown message tag");
    }
    raw_offsets[i + 1] = static_cast<uint32_t>(raw.size());
    field_starts[i + 1] = static_cast<uint32_t>(fields.size());
  }
  if (!skeleton_lengths.at_end()) return corrupt_column(skeleton_lengths_id, "trailing bytes");
  if (!skeleton.at_end()) return corrupt_column(slot(BlockColumnId::kSkeleton), "trailing bytes");
  if (!structure.at_end() || (records_mode == kRecordsDictionary && !record_indexes.consumed(size))) {
    return corrupt_column(fields_id, "trailing bytes");
  }
  if (literal_used != field_literals.size()) {
    return corrupt_column(slot(BlockColumnId::kFieldLiterals), "trailing bytes");
  }
  if (message_literal_used != message_literals.size()) {
    return corrupt_column(slot(BlockColumnId::kMessageLiterals), "trailing bytes");
  }
  for (const ValueGroup& group : groups) {
    const bool indexes_done =
        (group.encoding != kValuesDict && group.encoding != kValuesTemplate) || group.indexes.consumed(group.total);
    if (group.remaining != 0 || !group.values.at_end() || !group.lengths.at_end() || !indexes_done) {
      return corrupt_column(values_id, "more values than cuts");
    }
  }
  return Status::ok();
}

Status BlockReader::load(uint32_t columns) {
  State& s = *state_;
  uint32_t wanted = columns & kColAll;
  if (wanted & (kColMessage | kColFields)) wanted |= kColRaw;
  // Cut times, hosts and apps come from their columns.
  if (wanted & kColRaw) wanted |= kColTimestamps | kColHost | kColApp;
  if (wanted & kColReceived) wanted |= kColTimestamps;
  // In dependency order: each loader may use what the earlier ones built.
  static constexpr std::pair<uint32_t, Status (State::*)()> kSteps[] = {
      {kColTimestamps, &State::load_timestamps},
      {kColReceived, &State::load_received},
      {kColAttrs, &State::load_attrs},
      {kColRaw, &State::load_raw},
  };
  for (uint32_t bit : {uint32_t{kColHost}, uint32_t{kColApp}}) {
    if (!(wanted & bit) || (s.loaded & bit)) continue;
    Status status = bit == kColHost
                        ? s.load_dictionary_column(BlockColumnId::kHost, s.host_dictionary, s.host_index)
                        : s.load_dictionary_column(BlockColumnId::kApp, s.app_dictionary, s.app_index);
    if (!status) return status;
    s.loaded |= bit;
  }
  for (const auto& [bit, step] : kSteps) {
    if (!(wanted & bit) || (s.loaded & bit)) continue;
    if (Status status = (s.*step)(); !status) return status;
    s.loaded |= bit;
    // Messages and fields are decoded with the raw line.
    if (bit == kColRaw) s.loaded |= kColMessage | kColFields;
  }
  return Status::ok();
}

int64_t BlockReader::timestamp(uint32_t i) const {
  SLUICE_ASSERT((state_->loaded & kColTimestamps) && i < state_->size, "timestamp() without kColTimestamps");
  return state_->timestamps[i];
}

void BlockReader::decode(uint32_t i, EventView& out) const {
  const State& s = *state_;
  SLUICE_ASSERT(i < s.size, "decode() beyond the block");
  const uint32_t loaded = s.loaded;
  out.timestamp_ns = (loaded & kColTimestamps) ? s.timestamps[i] : 0;
  out.received_ns = (loaded & kColReceived) ? s.received[i] : 0;
  if (loaded & kColAttrs) {
    const char* tuple = s.attr_tuples.data() + size_t{4} * s.attr_index[i];
    out.severity = static_cast<uint8_t>(tuple[0]);
    out.facility = static_cast<uint8_t>(tuple[1]);
    out.flags = static_cast<uint8_t>(tuple[2]);
    out.input = static_cast<uint8_t>(tuple[3]);
  } else {
    out.severity = kUnknownSeverity;
    out.facility = kUnknownFacility;
    out.flags = 0;
    out.input = 0;
  }
  out.host = (loaded & kColHost) ? s.host_dictionary[s.host_index[i]] : std::string_view();
  out.app = (loaded & kColApp) ? s.app_dictionary[s.app_index[i]] : std::string_view();
  out.raw = {};
  out.message = {};
  out.fields.clear();
  if (!(loaded & kColRaw)) return;
  out.raw = s.raw.view().substr(s.raw_offsets[i], s.raw_offsets[i + 1] - s.raw_offsets[i]);
  if (loaded & kColMessage) {
    const MessageRecord& message = s.messages[i];
    const std::string_view source = message.source == MessageRecord::kRaw               ? out.raw
                                    : message.source == MessageRecord::kMessageLiterals ? s.message_literals
                                                                                        : s.field_literals;
    out.message = source.substr(message.offset, message.length);
  }
  for (uint32_t f = s.field_starts[i]; f < s.field_starts[i + 1]; ++f) {
    const FieldRecord& record = s.fields[f];
    out.fields.push_back({s.names[record.name],
                          (record.literal ? s.field_literals : out.raw).substr(record.offset, record.length),
                          record.type});
  }
}

}  // namespace sluice::storage
