#include "storage/block_codec.h"

#include <zstd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "server/base/assert.h"
#include "server/base/bytes.h"
#include "server/base/time_format.h"
#include "storage/token_filter.h"
#include "storage/varint.h"

namespace sluice::storage {
namespace {

constexpr char kMagic[4] = {'S', 'L', 'B', 'K'};
constexpr size_t kHeaderBytes = 26;
constexpr size_t kDirectoryEntryBytes = 9;
constexpr uint8_t kStoredFlag = 0x80;
constexpr size_t kColumnSlots = 16;  // ids 1..15; slot 0 unused
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
  kValuesHostDict = 7,
};

// The host-dictionary encoding keeps a list per (name, host) while a block
// is read: a block's names × hosts of that encoding are bounded by this (n
// its events), which the builder keeps to.
uint64_t max_host_dict_entries(uint64_t events) { return 8 * events + 65536; }

// How column 8 holds the events' records.
constexpr uint8_t kRecordsInline = 0;
constexpr uint8_t kRecordsDictionary = 1;

// Message tags in a record, low two bits.
constexpr uint64_t kMessageLiteral = 0;
constexpr uint64_t kMessageSlice = 1;
constexpr uint64_t kMessageField = 2;
constexpr uint64_t kMessageJson = 3;  // format 4: a JSON string of the line, decoded

// Field tags in a record, low two bits.
constexpr uint64_t kTagLiteral = 0;
constexpr uint64_t kTagSlice = 1;
constexpr uint64_t kTagCut = 2;

constexpr size_t slot(BlockColumnId id) { return static_cast<size_t>(id); }

const char* column_name(size_t id) {
  static constexpr const char* kNames[kColumnSlots] = {
      "?",        "timestamps", "received", "attrs",        "host",           "app",
      "skeleton_lengths", "skeleton",   "records",  "field_values", "field_literals", "message_literals",
      "skeleton_values",  "skeleton_segments", "part_restarts", "segment_successors"};
  return id < kColumnSlots ? kNames[id] : "?";
}

// --- integers -----------------------------------------------------------

size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
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

  // One-byte values inline (most of them); longer ones out of line, so
  // that the rebuild's loops stay small.
  uint64_t varint() {
    if (p_ != end_ && static_cast<unsigned char>(*p_) < 0x80) [[likely]] {
      return static_cast<unsigned char>(*p_++);
    }
    return varint_long();
  }

  [[gnu::noinline]] uint64_t varint_long() {
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

// Whether a word of `text` goes on across offset `at` (a word byte on
// both sides), so that cutting `text` there would split it.
bool word_crosses(std::string_view text, size_t at) {
  return at > 0 && at < text.size() && is_word_byte(text[at - 1]) && is_word_byte(text[at]);
}

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
  // "YYYY-MM-DD" of the last day rendered by this thread: a block's lines
  // are mostly of one day, and each line's time is rendered to find it.
  thread_local int64_t last_days = std::numeric_limits<int64_t>::min();
  thread_local char last_date[10];
  if (days != last_days) {
    const CivilDate date = civil_from_days(days);
    if (date.year < 0 || date.year > 9999) return 0;
    write_digits(last_date, static_cast<uint64_t>(date.year), 4);
    last_date[4] = '-';
    write_digits(last_date + 5, date.month, 2);
    last_date[7] = '-';
    write_digits(last_date + 8, date.day, 2);
    last_days = days;
  }
  std::memcpy(out, last_date, 10);
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

  // Passes over `count` indexes (checked when one is read).
  void skip(uint64_t count) {
    if (width_ == kVarintIndexes) {
      varints_.skip_varints(count);
    }
    next_ += count;
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

// Empties a linear-probing table whose slots hold entry index + 1, the
// entry `index` probing from home(index): by its `count` entries when they
// are few (a table grown by one large dictionary is emptied again for each
// of many small ones), else all at once.
template <typename Slot, typename Home>
void clear_slots(std::vector<Slot>& slots, size_t count, Home home) {
  if (count * 8 >= slots.size()) {
    std::fill(slots.begin(), slots.end(), 0);
    return;
  }
  const size_t mask = slots.size() - 1;
  for (size_t index = 0; index < count; ++index) {
    size_t i = home(index) & mask;
    while (static_cast<uint32_t>(slots[i]) != index + 1) i = (i + 1) & mask;
    slots[i] = 0;
  }
}

// How much of the start of `text` holds only words of `seen`: all of it
// when they are equal, else up to the last non-word byte before the first
// byte where they differ (the words before it are the same in both).
size_t shared_words(std::string_view seen, std::string_view text) {
  const size_t n = std::min(seen.size(), text.size());
  size_t d = 0;
  while (d < n && seen[d] == text[d]) ++d;
  if (d == text.size() && d == seen.size()) return d;
  while (d > 0 && is_word_byte(text[d - 1])) --d;
  return d;
}

// Hash of a string for the builder's tables in memory (never stored, so
// free to change): two independent multiply lanes over 16 bytes a step,
// where hash_bytes() chains one multiply after another per 8 bytes, and a
// template's segments are long.
uint64_t table_hash(std::string_view text) {
  const char* p = text.data();
  size_t n = text.size();
  constexpr uint64_t kLaneA = 0xff51afd7ed558ccd, kLaneB = 0xc4ceb9fe1a85ec53;
  uint64_t a = 0x9ae16a3b2f90404f ^ n, b = 0xc3a5c85c97cb3127;
  for (; n >= 16; p += 16, n -= 16) {
    a = (a ^ load_u64(p)) * kLaneA;
    b = (b ^ load_u64(p + 8)) * kLaneB;
    a ^= a >> 32;
    b ^= b >> 29;
  }
  if (n >= 8) {
    a = (a ^ load_u64(p)) * kLaneA;
    b = (b ^ load_u64(p + n - 8)) * kLaneB;  // overlaps the bytes before when n < 16
  } else if (n >= 4) {
    b = (b ^ (uint64_t{load_u32(p)} | (uint64_t{load_u32(p + n - 4)} << 32))) * kLaneB;
  } else if (n > 0) {
    const auto byte = [&](size_t i) { return uint64_t{static_cast<unsigned char>(p[i])}; };
    b = (b ^ (byte(0) | (byte(n >> 1) << 8) | (byte(n - 1) << 16))) * kLaneB;
  }
  uint64_t h = a ^ (b + (b >> 31));
  h ^= h >> 29;
  h *= kLaneA;
  return h ^ (h >> 32);
}

// Distinct strings with dense indexes in order of first appearance; the
// block's dictionaries (hosts, apps, field names, a field's values).
class StringTable {
 public:
  uint32_t intern(std::string_view text) {
    if ((size() + 1) * 2 > slots_.size()) grow();
    const uint64_t hash = table_hash(text);
    const uint64_t tag = hash & kTagBits;
    const size_t mask = slots_.size() - 1;
    size_t i = static_cast<size_t>(hash) & mask;
    while (slots_[i] != 0) {
      if ((slots_[i] & kTagBits) == tag) {
        const auto index = static_cast<uint32_t>(slots_[i]) - 1;
        if (same_bytes(at(index), text)) return index;
      }
      i = (i + 1) & mask;
    }
    const auto index = static_cast<uint32_t>(size());
    slots_[i] = tag | (index + 1);
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
    clear_slots(slots_, hashes_.size(), [&](size_t index) { return static_cast<size_t>(hashes_[index]); });
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
      slots_[i] = (hashes_[index] & kTagBits) | (index + 1);
    }
  }

  // A slot: the hash's high half beside index + 1 (0 is empty), so that a
  // lookup compares bytes only where the hashes agree.
  static constexpr uint64_t kTagBits = 0xffffffff00000000;
  std::vector<uint64_t> slots_;
  std::vector<uint64_t> hashes_;
  std::string bytes_;
  std::vector<size_t> ends_;
};

// Distinct 64-bit keys with dense indexes in order of first appearance: a
// StringTable for integers, without hashing or comparing bytes.
class U64Table {
 public:
  uint32_t intern(uint64_t key) {
    if ((keys_.size() + 1) * 2 > slots_.size()) grow();
    size_t i = slot_of(key);
    while (slots_[i] != 0) {
      const uint32_t index = slots_[i] - 1;
      if (keys_[index] == key) return index;
      i = (i + 1) & (slots_.size() - 1);
    }
    keys_.push_back(key);
    slots_[i] = static_cast<uint32_t>(keys_.size());
    return static_cast<uint32_t>(keys_.size() - 1);
  }
  size_t size() const { return keys_.size(); }
  uint64_t at(size_t i) const { return keys_[i]; }
  void clear() {
    clear_slots(slots_, keys_.size(), [&](size_t index) { return slot_of(keys_[index]); });
    keys_.clear();
  }

 private:
  size_t slot_of(uint64_t key) const { return static_cast<size_t>((key * 0x9e3779b97f4a7c15) >> shift_); }
  void grow() {
    const size_t size = slots_.empty() ? 256 : slots_.size() * 2;
    slots_.assign(size, 0);
    shift_ = 64 - std::countr_zero(size);
    for (size_t index = 0; index < keys_.size(); ++index) {
      size_t i = slot_of(keys_[index]);
      while (slots_[i] != 0) i = (i + 1) & (size - 1);
      slots_[i] = static_cast<uint32_t>(index + 1);
    }
  }

  std::vector<uint32_t> slots_;  // index + 1; 0 is empty
  std::vector<uint64_t> keys_;
  int shift_ = 56;
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

// --- skeleton templates (format version 2) --------------------------------
// The skeleton, the text of a line that no cut took, is stored as a template
// (its static text with placeholders) plus variables: numbers, ids, addresses
// and times taken out of the text. Each variable goes to a stream named by
// its context, the skeleton bytes just before it in its line, so the sizes
// of access lines sit together, user ids together, and the request ids of
// one service together: zstd sees like beside like, and a number costs a
// varint instead of its digits. Templates are then cut into segments, each
// ending after a variable, which a block's lines share: a line is a few
// segment codes (each coded among the segments seen after the previous
// one), where zstd would spend a match of several bytes on each piece of
// text between two variables. Everything is a heuristic except the
// rebuild, which is a plain expansion: a variable is taken out only when
// rendering it gives back exactly its text.

constexpr char kSkelNumber = '\x01';    // decimal, no leading zero, <= 19 digits
constexpr char kSkelEscape = '\x02';    // the next byte is text
constexpr char kSkelDigits = '\x03';    // + width byte: zero-padded decimal
constexpr char kSkelIpv4 = '\x04';      // canonical dotted quad
constexpr char kSkelHexLower = '\x05';  // + byte count: lowercase hex
constexpr char kSkelHexUpper = '\x06';  // + byte count: uppercase hex
constexpr char kSkelTime = '\x07';      // + fraction digits: RFC 3339 UTC time
constexpr char kSkelClfTime = '\x08';   // "dd/Mon/yyyy:hh:mm:ss"
constexpr unsigned kSkelLastMarker = 0x08;
// Context bytes: enough to tell `"status":` from `"user_id":`, few enough
// that a context recurs across lines of different content before it.
constexpr size_t kSkelContextBytes = 8;
// Streams per block: each costs a few bytes of directory, and the decoder
// keeps a table of them.
constexpr size_t kMaxSkelStreams = 1024;
constexpr size_t kSkelOverflowStreams = kSkelLastMarker;  // one per marker once full
constexpr size_t kMinHexBytes = 4;    // 8 hex digits: shorter words are text
constexpr size_t kMaxHexBytes = 127;  // a byte count in the template
constexpr size_t kMaxSkelDigits = 19;  // below 2^64

// Stream encodings.
constexpr uint8_t kSkelPlain = 0;  // numbers: varints; addresses: 4 bytes, big-endian; hex: the bytes
constexpr uint8_t kSkelDelta = 1;  // zvarint differences to the previous value (the first: to 0)
constexpr uint8_t kSkelDict = 2;   // varint d | d values as plain | count indexes

bool is_skel_marker(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 1 && u <= kSkelLastMarker;
}
// The index of the first marker byte of text at or after `from`, or
// text.size(). Templates are mostly plain text, so this scans 16 bytes per
// step where it can: it is the inner loop of rebuilding a block's lines.
size_t next_skel_marker(std::string_view text, size_t from) {
  size_t k = from;
#if defined(__SSE2__)
  const __m128i one = _mm_set1_epi8(1);
  const __m128i highest = _mm_set1_epi8(static_cast<char>(kSkelLastMarker - 1));
  for (; k + 16 <= text.size(); k += 16) {
    // A byte u is a marker when u - 1 (wrapping) is at most kSkelLastMarker - 1.
    const __m128i shifted = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + k)), one);
    const auto mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(shifted, highest), shifted)));
    if (mask != 0) return k + static_cast<size_t>(__builtin_ctz(mask));
  }
#endif
  while (k < text.size() && !is_skel_marker(text[k])) ++k;
  return k;
}

bool skel_marker_has_parameter(char marker) {
  return marker == kSkelDigits || marker == kSkelHexLower || marker == kSkelHexUpper || marker == kSkelTime;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0); }

constexpr int64_t kPowers10[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

constexpr char kMonthNames[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Writes "dd/Mon/yyyy:hh:mm:ss" (20 bytes) for `seconds` since the epoch;
// 0 when the year is outside 0..9999.
size_t render_clf_time(int64_t seconds, char* out) {
  const int64_t days = days_from_seconds(seconds);
  const int64_t second_of_day = seconds - days * 86400;
  const CivilDate date = civil_from_days(days);
  if (date.year < 0 || date.year > 9999) return 0;
  write_digits(out, date.day, 2);
  out[2] = '/';
  std::memcpy(out + 3, kMonthNames[date.month - 1], 3);
  out[6] = '/';
  write_digits(out + 7, static_cast<uint64_t>(date.year), 4);
  out[11] = ':';
  write_digits(out + 12, static_cast<uint64_t>(second_of_day / 3600), 2);
  out[14] = ':';
  write_digits(out + 15, static_cast<uint64_t>(second_of_day / 60 % 60), 2);
  out[17] = ':';
  write_digits(out + 18, static_cast<uint64_t>(second_of_day % 60), 2);
  return 20;
}

unsigned digits_at(std::string_view s, size_t at, size_t count) {
  unsigned value = 0;
  for (size_t k = 0; k < count; ++k) value = value * 10 + static_cast<unsigned>(s[at + k] - '0');
  return value;
}
bool all_digits(std::string_view s, size_t at, size_t count) {
  for (size_t k = 0; k < count; ++k) {
    if (!is_digit(s[at + k])) return false;
  }
  return true;
}

// The RFC 3339 UTC time ("2025-03-01T10:00:00.123Z") at s[at]: its length,
// nanoseconds and fraction digits, when render_time() gives it back exactly.
size_t parse_skel_time(std::string_view s, size_t at, int64_t& ns, unsigned& digits) {
  if (at + 20 > s.size() || s[at + 4] != '-' || s[at + 7] != '-' || s[at + 10] != 'T' || s[at + 13] != ':' ||
      s[at + 16] != ':' || !all_digits(s, at, 4) || !all_digits(s, at + 5, 2) || !all_digits(s, at + 8, 2) ||
      !all_digits(s, at + 11, 2) || !all_digits(s, at + 14, 2) || !all_digits(s, at + 17, 2)) {
    return 0;
  }
  size_t pos = at + 19;
  digits = 0;
  int64_t fraction = 0;
  if (s[pos] == '.') {
    while (pos + 1 + digits < s.size() && is_digit(s[pos + 1 + digits]) && digits < 10) ++digits;
    if (digits == 0 || digits > 9) return 0;
    fraction = digits_at(s, pos + 1, digits);
    pos += 1 + digits;
  }
  if (pos >= s.size() || s[pos] != 'Z') return 0;
  ++pos;
  const unsigned month = digits_at(s, at + 5, 2);
  if (month < 1 || month > 12) return 0;
  const int64_t seconds = days_from_civil(digits_at(s, at, 4), month, digits_at(s, at + 8, 2)) * 86400 +
                          digits_at(s, at + 11, 2) * 3600 + digits_at(s, at + 14, 2) * 60 + digits_at(s, at + 17, 2);
  if (__builtin_mul_overflow(seconds, int64_t{1'000'000'000}, &ns) ||
      __builtin_add_overflow(ns, fraction * kPowers10[9 - digits], &ns)) {
    return 0;
  }
  // Fields in range render back as they are (render_time pads each and
  // truncates the fraction to its digits).
  const unsigned day = digits_at(s, at + 8, 2);
  if (day < 1 || day > days_in_month(digits_at(s, at, 4), month) || digits_at(s, at + 11, 2) > 23 ||
      digits_at(s, at + 14, 2) > 59 || digits_at(s, at + 17, 2) > 59) {
    return 0;
  }
  return pos - at;
}

// "dd/Mon/yyyy:hh:mm:ss" at s[at]: its seconds (read as UTC), when
// render_clf_time() gives it back exactly.
bool parse_clf_time(std::string_view s, size_t at, int64_t& seconds) {
  if (at + 20 > s.size() || s[at + 2] != '/' || s[at + 6] != '/' || s[at + 11] != ':' || s[at + 14] != ':' ||
      s[at + 17] != ':' || !all_digits(s, at, 2) || !all_digits(s, at + 7, 4) || !all_digits(s, at + 12, 2) ||
      !all_digits(s, at + 15, 2) || !all_digits(s, at + 18, 2)) {
    return false;
  }
  unsigned month = 0;
  for (unsigned m = 0; m < 12; ++m) {
    if (std::memcmp(s.data() + at + 3, kMonthNames[m], 3) == 0) month = m + 1;
  }
  if (month == 0) return false;
  seconds = days_from_civil(digits_at(s, at + 7, 4), month, digits_at(s, at, 2)) * 86400 +
            digits_at(s, at + 12, 2) * 3600 + digits_at(s, at + 15, 2) * 60 + digits_at(s, at + 18, 2);
  char rendered[20];
  return render_clf_time(seconds, rendered) == 20 && std::memcmp(rendered, s.data() + at, 20) == 0;
}

int hex_value(char c, bool upper) {
  if (c >= '0' && c <= '9') return c - '0';
  if (!upper && c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (upper && c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Classes of word bytes, OR-ed over a word: a hex id is a word of one
// case of hex letters (with a letter: digits alone are a number), of an
// even length between the bounds.
constexpr unsigned kClassDigit = 1;
constexpr unsigned kClassLowerHex = 2;  // a-f
constexpr unsigned kClassUpperHex = 4;  // A-F
constexpr unsigned kClassOther = 8;
constexpr std::array<uint8_t, 256> make_word_classes() {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = (c >= '0' && c <= '9')   ? kClassDigit
               : (c >= 'a' && c <= 'f') ? kClassLowerHex
               : (c >= 'A' && c <= 'F') ? kClassUpperHex
                                        : kClassOther;
  }
  return table;
}
constexpr std::array<uint8_t, 256> kWordClass = make_word_classes();

// token_detail::classify_bytes kept out of line: inlined into
// find_variables' loop it costs 5% more instructions there (callgrind).
[[gnu::noinline]] token_detail::ByteClasses classify_window(const char* text, size_t n) {
  return token_detail::classify_bytes(text, n);
}

// The stream of a (context, marker), by first appearance; the builder and
// the reader run the same table, so a stream id is never stored.
class SkelContexts {
 public:
  // keep_existing: the rule of format 3, where a context keeps its stream
  // once the table is full and only new ones share; false: format 2's,
  // where every variable goes to its marker's shared stream from then on.
  void clear(bool keep_existing = true) {
    slots_.assign(kSlots, Slot{});
    count_ = 0;
    keep_existing_ = keep_existing;
  }
  size_t size() const { return count_; }
  // The stream id, with `created` set when it is new; `used_context`, if
  // given, is set to the context the stream is keyed by.
  uint32_t find(uint64_t context, char marker, bool& created, uint64_t* used_context = nullptr) {
    // Once the table is nearly full, new contexts share a stream per marker.
    if (count_ >= kMaxSkelStreams - kSkelOverflowStreams) {
      if (keep_existing_) {
        const size_t existing = slot_of(context, marker);
        if (slots_[existing].id_plus_one != 0) {
          if (used_context != nullptr) *used_context = context;
          created = false;
          return slots_[existing].id_plus_one - 1;
        }
      }
      context = static_cast<unsigned char>(marker);
    }
    if (used_context != nullptr) *used_context = context;
    size_t i = slot_of(context, marker);
    if (slots_[i].id_plus_one != 0) {
      created = false;
      return slots_[i].id_plus_one - 1;
    }
    slots_[i] = {context, static_cast<uint32_t>(count_ + 1), marker};
    created = true;
    return static_cast<uint32_t>(count_++);
  }

 private:
  // The slot holding (context, marker), or the empty one where it would go.
  size_t slot_of(uint64_t context, char marker) const {
    size_t i = static_cast<size_t>(context ^ (context >> 29)) & (kSlots - 1);
    while (slots_[i].id_plus_one != 0) {
      if (slots_[i].context == context && slots_[i].marker == marker) return i;
      i = (i + 1) & (kSlots - 1);
    }
    return i;
  }

  static constexpr size_t kSlots = 4 * kMaxSkelStreams;
  struct Slot {
    uint64_t context = 0;
    uint32_t id_plus_one = 0;
    char marker = 0;
  };
  std::vector<Slot> slots_;
  size_t count_ = 0;
  bool keep_existing_ = true;
};

// The context of a variable: the up to kSkelContextBytes bytes of its
// line's skeleton before it, each digit read as '0' (so that "ms=11." and
// "ms=12." share the stream of their fractions).
uint64_t skel_context(std::string_view before, char marker) {
  static_assert(kSkelContextBytes == 8, "the window is one 64-bit word");
  const size_t take = std::min(before.size(), kSkelContextBytes);
  if (take == 8) {
    // Eight bytes at once: a byte is a digit when it xors '0' to below 10.
    uint64_t word;
    std::memcpy(&word, before.data() + before.size() - 8, 8);
    constexpr uint64_t kOnes = 0x0101010101010101;
    const uint64_t t = word ^ (kOnes * '0');
    const uint64_t digit = ~(((t & (kOnes * 0x7f)) + kOnes * 0x76) | t) & (kOnes * 0x80);
    const uint64_t mask = (digit >> 7) * 0xff;
    word = (word & ~mask) | (mask & (kOnes * '0'));
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
    return hash_word(word, 8, static_cast<unsigned char>(marker));
  }
  char window[kSkelContextBytes];
  for (size_t k = 0; k < take; ++k) {
    const char c = before[before.size() - take + k];
    window[k] = is_digit(c) ? '0' : c;
  }
  return hash_bytes(std::string_view(window, take), static_cast<unsigned char>(marker));
}

// Format 3 keys streams by the low 32 bits of their context and stores
// those beside each stream, so that a reader starting in the middle of a
// block knows the streams of contexts first seen before it.
constexpr uint64_t kStoredContextMask = 0xffffffff;

// A candidate variable of a skeleton, found by the builder's first pass.
struct SkelVariable {
  uint32_t offset;  // in its event's skeleton
  uint16_t length;
  char marker;
  uint8_t parameter;
  uint32_t stats;  // index into the builder's SkelStats, or kNoStats
  uint64_t context;
  uint64_t value;  // numbers, times, addresses
};

// How varied the values of a context are in a block: a bit per value hash
// modulo 64, so about 64 × (1 - e^(-d/64)) bits for d distinct values.
struct SkelStats {
  uint64_t seen = 0;
  bool varied = false;  // popcount(seen) >= kSkelMinSpread, once pass 1 is done
};
constexpr uint32_t kNoStats = std::numeric_limits<uint32_t>::max();  // always taken out
// Numbers and addresses are taken out where their context shows about 9
// distinct values or more (8 bits); fewer stay text. Measured on the
// benchmark stream (bench/micro/block_bytes): 4 bits and 20 bits both cost
// 2% more bytes.
constexpr int kSkelMinSpread = 8;

// A stream's values while a block is built.
struct SkelStream {
  char marker = 0;
  uint64_t context = 0;  // kStoredContextMask bits
  std::vector<uint64_t> values;  // numbers, times, addresses
  std::string bytes;             // hex
  uint64_t count = 0;
};

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
  Ref message;  // in_raw with message_json: the JSON string's escaped bytes
  bool message_json;
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
// other values. Its bytes are copied into the builder's cut_text while the
// line is in cache: read later by name, from 4 MiB of lines, each value
// cost a cache miss.
struct CutValue {
  uint32_t name;
  uint32_t host;  // the event's, an index into the block's hosts
  uint32_t offset;  // into cut_text
  uint32_t length;
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
  std::string cut_text;  // the cut values' bytes, in block order
  std::vector<uint32_t> cut_counts, cut_starts, cuts_by_name;
  StringTable value_dictionary, attr_tuples, records, template_dictionary;
  std::vector<uint32_t> indexes, template_indexes;
  std::vector<uint64_t> template_numbers;
  std::string template_text;
  std::string record, inline_records;
  std::vector<int64_t> value_numbers;
  BloomFilterBuilder filter;
  TextKeyAdder text_keys;
  std::string value_lower;
  std::vector<uint64_t> name_seeds;
  std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter> cctx;
  SkelContexts skel_contexts, skel_stat_contexts;
  std::vector<SkelStream> skel_streams;  // ids beyond skel_contexts.size() are spares
  std::vector<SkelStats> skel_stats;
  std::vector<SkelVariable> skel_variables;
  std::string skeleton_texts;  // the events' skeletons, before templating
  std::vector<uint32_t> skeleton_ends, variable_ends;
  std::string stream_payload, event_template;
  StringTable segment_table;
  U64Table segment_pairs, stream_values;
  std::vector<uint32_t> dictionary_counts, dictionary_order, dictionary_rank;
  StringTable host_values;
  std::vector<uint32_t> host_value_counts, host_value_locals;
  uint64_t host_dict_entries = 0;
  std::vector<uint32_t> successor_counts, pair_locals;
  std::vector<std::pair<uint32_t, uint32_t>> declarations;  // (context, segment id), in order of first use
  // Per context (a segment id + 1, 0: a line's start), the segment that
  // last followed it and the index of that pair in segment_pairs.
  struct Successor {
    uint32_t id_plus_one = 0;
    uint32_t pair = 0;
  };
  std::vector<Successor> last_successors;
  std::vector<uint64_t> restart_counts, restart_bytes;  // per stream, at the last part boundary
  size_t restart_codes_bytes = 0;  // of column 13, at the last part boundary
  // Text keys (FilterSpec::text_keys_from_lines): a line's words are those
  // of its template's text, its variables and its cut values as long as
  // no word crosses an edge between them; the words of a template's text
  // are added once per part, by segment.
  bool filter_by_part = false;
  bool text_keys_from_lines = false;
  size_t part_size = 1;  // events per part of the block (block_part_size), whose parts the filter's follow
  uint32_t filter_part_tag = 0;  // 1 + the part being added (1 without parts)
  std::vector<uint8_t> keys_from_line;    // per event in block order: keys taken from the whole line
  std::vector<uint32_t> segment_key_part;  // per segment id: the filter_part_tag of its last keys
  struct CutSpan {
    uint32_t offset, length;  // in the raw line
    uint32_t junction;        // where it was taken out of the skeleton
  };
  std::vector<CutSpan> cut_spans;  // the current event's
  // Earlier events' cut values, by their place among their line's cuts,
  // whose words this part's filter keys hold already (filter_part_tag).
  std::array<std::string_view, 4> previous_cuts;
  uint32_t previous_cuts_tag = 0;

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
  bool find_variables(std::string_view skeleton_text, int64_t timestamp_ns);
  void write_template(std::string_view skeleton_text, size_t first, size_t last, std::string& out, bool add_keys);
  void encode_skeleton_streams();
  void write_restart();
  void enter_filter_part(size_t position);
  void add_cut_keys(std::string_view raw, std::string_view skeleton, size_t position, bool words_split);
  void add_event_keys(const PendingEvent& e);
  bool taken_out(const SkelVariable& variable) const {
    return variable.stats == kNoStats || skel_stats[variable.stats].varied;
  }
  void build_filter(FilterSpec spec, std::string& filter_out);
};

uint32_t block_part_size(uint64_t events) {
  const uint64_t even = (events + kMaxFilterParts - 1) / kMaxFilterParts;
  return static_cast<uint32_t>(std::min<uint64_t>(std::max<uint64_t>(even, kMinPartEvents), 0xffffffff));
}

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
  // A message decoded from a JSON string of its line is that string, named
  // by its place: the line holds it already (EventView::message_json). Its
  // escapes are checked, so that a block never holds one its reader refuses.
  const uint32_t json_offset = slice_of(event.message_json);
  const int64_t json_escapes = json_offset == kNoSlice ? -1 : count_word_keeping_escapes(event.message_json);
  e.message_json = json_escapes >= 0 && event.message.size() + static_cast<uint64_t>(json_escapes) ==
                                            event.message_json.size();
  if (e.message_json) {
    e.message = Ref{json_offset, static_cast<uint32_t>(event.message_json.size()), true};
  } else {
    e.message = ref_of(event.message);
  }
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
  // Column 6 (skeleton lengths) is version 1's; version 2 writes none.
  std::string& skeleton = columns[slot(BlockColumnId::kSkeleton)];
  std::string& message_literals = columns[slot(BlockColumnId::kMessageLiterals)];
  std::string& structure = columns[slot(BlockColumnId::kRecords)];
  std::string& field_literals = columns[slot(BlockColumnId::kFieldLiterals)];
  cuts.clear();
  cut_text.clear();
  if (order.empty()) return;
  names.write(structure);
  records.clear();
  inline_records.clear();
  indexes.clear();

  skel_contexts.clear();
  skel_stat_contexts.clear();
  skel_variables.clear();
  skeleton_texts.clear();
  skeleton_ends.clear();
  variable_ends.clear();
  std::string& event_skeleton = skeleton_texts;  // each event's appended in turn
  keys_from_line.assign(order.size(), 0);
  segment_key_part.clear();
  name_seeds.resize(names.size());
  for (size_t k = 0; k < names.size(); ++k) name_seeds[k] = field_token_seed(names.at(k));
  previous_cuts.fill({});
  previous_cuts_tag = 0;  // no part: the views were into the last block's lines
  size_t event_position = 0;  // in block order
  for (const auto& [timestamp, index] : order) {
    const PendingEvent& e = events[index];
    record.clear();
    cut_spans.clear();
    const size_t event_start = skeleton_texts.size();
    const std::string_view raw = raw_of(e);
    uint32_t position = 0;  // end of the last cut in the raw line
    uint32_t cut_bytes = 0;
    // Moves the skeleton up to `offset` and skips the cut value; returns
    // the skeleton bytes between the previous cut and this one.
    auto cut = [&](uint32_t offset, uint32_t length) {
      event_skeleton.append(raw.substr(position, offset - position));
      cut_spans.push_back({offset, length, static_cast<uint32_t>(event_skeleton.size() - event_start)});
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
    for (uint32_t f = 0; f < e.field_count && same_field == e.field_count && !message_text.empty() && !e.message_json;
         ++f) {
      const Ref& value = fields[e.first_field + f].value;
      if (value.length == e.message.length && value.in_raw == e.message.in_raw &&
          (value.in_raw ? value.offset == e.message.offset : text_of(e, value) == message_text)) {
        same_field = f;
      }
    }
    if (same_field != e.field_count) {
      put_varint(record, (same_field << 2) | kMessageField);
    } else if (e.message_json) {
      put_varint(record, (e.message.offset << 2) | kMessageJson);
      put_varint(record, raw.size() - e.message.offset - e.message.length);
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
        cuts.push_back({field.name, e.host, static_cast<uint32_t>(cut_text.size()), value.length});
        cut_text.append(raw.substr(offset, value.length));
      } else {
        put_varint(record, (uint64_t{value.length} << 2) | kTagSlice);
        put_varint(record, value.offset);
      }
    }
    event_skeleton.append(raw.substr(position));
    const std::string_view skeleton_text = std::string_view(skeleton_texts).substr(event_start);
    const bool time_splits_word = find_variables(skeleton_text, e.timestamp_ns);
    enter_filter_part(event_position);
    if (text_keys_from_lines) {
      text_keys.add(raw, filter);
    } else {
      add_cut_keys(raw, skeleton_text, event_position, time_splits_word);
    }
    add_event_keys(e);
    ++event_position;
    skeleton_ends.push_back(static_cast<uint32_t>(skeleton_texts.size()));
    variable_ends.push_back(static_cast<uint32_t>(skel_variables.size()));

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
  // Templates once every context's values were counted, as segments.
  for (size_t k = 0; k < skel_stat_contexts.size(); ++k) {
    skel_stats[k].varied = std::popcount(skel_stats[k].seen) >= kSkelMinSpread;
  }
  segment_table.clear();
  segment_pairs.clear();
  last_successors.clear();
  successor_counts.clear();
  pair_locals.clear();
  declarations.clear();
  size_t text_start = 0, variable_start = 0;
  restart_counts.clear();
  restart_bytes.clear();
  restart_codes_bytes = 0;
  for (size_t i = 0; i < skeleton_ends.size(); ++i) {
    if (i != 0 && i % part_size == 0) write_restart();
    const std::string_view skeleton_text =
        std::string_view(skeleton_texts).substr(text_start, skeleton_ends[i] - text_start);
    if (!text_keys_from_lines) enter_filter_part(i);
    const bool add_keys = !text_keys_from_lines && keys_from_line[i] == 0;
    write_template(skeleton_text, variable_start, variable_ends[i], event_template, add_keys);
    text_start = skeleton_ends[i];
    variable_start = variable_ends[i];
  }
  segment_table.write(skeleton);
  // Column 15: each context's successor list, in context order.
  {
    std::string& out = columns[slot(BlockColumnId::kSegmentSuccessors)];
    successor_counts.resize(segment_table.size() + size_t{1}, 0);
    std::stable_sort(declarations.begin(), declarations.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    size_t d = 0;
    for (uint32_t context = 0; context < successor_counts.size(); ++context) {
      put_varint(out, successor_counts[context]);
      for (; d < declarations.size() && declarations[d].first == context; ++d) put_varint(out, declarations[d].second);
    }
  }
  encode_field_values();
  encode_skeleton_streams();
}

void BlockBuilder::State::encode_field_values() {
  std::string& out = columns[slot(BlockColumnId::kFieldValues)];
  host_dict_entries = 0;
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
    auto value = [&](uint32_t i) {
      const CutValue& cut = cuts[cuts_by_name[begin + i]];
      return std::string_view(cut_text).substr(cut.offset, cut.length);
    };
    if (count == 0) {
      out.push_back(static_cast<char>(kValuesNone));
      put_varint(out, 0);
      continue;
    }

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

    // For numbers and addresses only whether the values repeat counts, and
    // that is settled once more than half of them (and 16) are distinct:
    // interning a block of unique ids to the end cost a table lookup each.
    // Texts need the exact count (templates are judged against it).
    const bool count_all = !numbers && !ipv4;
    value_dictionary.clear();
    indexes.clear();
    for (uint32_t i = 0; i < count; ++i) {
      indexes.push_back(value_dictionary.intern(value(i)));
      if (!count_all && value_dictionary.size() > 16 && value_dictionary.size() * 2 > count) break;
    }
    const size_t distinct = value_dictionary.size();  // of numbers: at least, when not repetitive
    // A dictionary pays when values repeat: each repeat costs an index of a
    // few bits instead of a zstd match of two or three bytes.
    const bool repetitive = distinct * 2 <= count || distinct <= 16;
    auto write_dictionary = [&] {
      out.push_back(static_cast<char>(kValuesDict));
      put_varint(out, count);
      value_dictionary.write(out);
      put_indexes(out, indexes, value_dictionary.size());
    };

    // Numbers of few values per host (a daemon's process ids) cost an
    // index among their host's values: zstd codes those few small numbers
    // in a bit or two, where an index into the whole block's values would
    // cost its full width.
    // A host's (host, value) pairs are at least its values: below a third
    // of the count only if the values are.
    if (numbers && hosts.size() > 1 && distinct * 3 <= count &&
        host_dict_entries + hosts.size() <= max_host_dict_entries(order.size())) {
      host_values.clear();
      for (uint32_t i = 0; i < count; ++i) {
        const uint32_t host = cuts[cuts_by_name[begin + i]].host;
        char key[12];
        std::memcpy(key, &host, 4);
        std::memcpy(key + 4, &value_numbers[i], 8);
        host_values.intern(std::string_view(key, 12));
      }
      // Values of their own host (few hosts share one), repeating.
      if (host_values.size() * 3 <= count && host_values.size() < distinct * 2) {
        host_dict_entries += hosts.size();
        out.push_back(static_cast<char>(kValuesHostDict));
        put_varint(out, count);
        host_value_counts.assign(hosts.size(), 0);
        host_value_locals.clear();
        host_values.clear();
        stream_payload.clear();
        for (uint32_t i = 0; i < count; ++i) {
          const uint32_t host = cuts[cuts_by_name[begin + i]].host;
          char key[12];
          std::memcpy(key, &host, 4);
          std::memcpy(key + 4, &value_numbers[i], 8);
          const size_t before = host_values.size();
          const uint32_t pair = host_values.intern(std::string_view(key, 12));
          if (host_values.size() != before) {
            const uint32_t local = host_value_counts[host]++;
            host_value_locals.push_back(local);
            put_varint(stream_payload, local);
            put_varint(stream_payload, zigzag(value_numbers[i]));
          } else {
            put_varint(stream_payload, host_value_locals[pair]);
          }
        }
        put_varint(out, stream_payload.size());
        out.append(stream_payload);
        continue;
      }
    }
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

// Pass 1 over one event's skeleton `s`: records its candidate variables
// and counts their values by context, so that pass 2 (write_template) can
// leave text the numbers whose context shows few values.
bool BlockBuilder::State::find_variables(std::string_view s, int64_t timestamp_ns) {
  auto add = [&](size_t at, size_t length, char marker, uint8_t parameter, uint64_t value) {
    SkelVariable v;
    v.offset = static_cast<uint32_t>(at);
    v.length = static_cast<uint16_t>(length);
    v.marker = marker;
    v.parameter = parameter;
    v.value = value;
    v.context = skel_context(s.substr(0, at), marker) & kStoredContextMask;
    v.stats = kNoStats;
    // Times and ids are always taken out; numbers and addresses by the
    // spread of their context's values.
    if (marker == kSkelNumber || marker == kSkelDigits || marker == kSkelIpv4) {
      bool created = false;
      v.stats = skel_stat_contexts.find(v.context, marker, created);
      if (created) {
        if (v.stats >= skel_stats.size()) skel_stats.emplace_back();
        skel_stats[v.stats] = SkelStats{};
      }
      skel_stats[v.stats].seen |= uint64_t{1} << ((value * 0x9e3779b97f4a7c15) >> 58);
    }
    skel_variables.push_back(v);
  };
  const size_t n = s.size();
  // Numbers, hex strings and addresses are whole words; a time may be
  // followed by letters ("...00Zabc"), and then its words are not the line's.
  bool time_splits_word = false;
  // The word [i, j) of the given classes (kWordClass OR-ed over its
  // bytes): a candidate is added. Returns where the next word may start:
  // j, or past a time or an address that begins with the word.
  auto take_word = [&](size_t i, size_t j, unsigned classes) -> size_t {
    const size_t length = j - i;
    const std::string_view word = s.substr(i, length);
    // Times first: they start with digits.
    if (length == 4 && j < n && s[j] == '-') {
      int64_t ns = 0;
      unsigned digits = 0;
      const size_t time_length = parse_skel_time(s, i, ns, digits);
      if (time_length != 0) {
        const int64_t unit = kPowers10[9 - digits];
        add(i, time_length, kSkelTime, static_cast<uint8_t>(digits),
            zigzag(wrapping_sub(ns / unit, floor_div(timestamp_ns, unit))));
        time_splits_word = time_splits_word || word_crosses(s, i + time_length);
        return i + time_length;
      }
    }
    if (length == 2 && j < n && s[j] == '/') {
      int64_t seconds = 0;
      if (parse_clf_time(s, i, seconds)) {
        add(i, 20, kSkelClfTime, 0, zigzag(wrapping_sub(seconds, floor_div(timestamp_ns, 1'000'000'000))));
        time_splits_word = time_splits_word || word_crosses(s, i + 20);
        return i + 20;
      }
    }
    if (classes == kClassDigit) {
      if (j < n && s[j] == '.') {
        size_t k = j;
        while (k < n && k - i < 16 && (is_digit(s[k]) || s[k] == '.')) ++k;
        unsigned char octets[4];
        if ((k == n || !is_word_byte(s[k])) && parse_canonical_ipv4(s.substr(i, k - i), octets)) {
          add(i, k - i, kSkelIpv4, 0, get_le(reinterpret_cast<const char*>(octets), 4));
          return k;
        }
      }
      if (length <= kMaxSkelDigits) {
        uint64_t number = 0;
        for (char d : word) number = number * 10 + static_cast<uint64_t>(d - '0');
        const bool canonical = length == 1 || word[0] != '0';
        add(i, length, canonical ? kSkelNumber : kSkelDigits, canonical ? 0 : static_cast<uint8_t>(length), number);
      }
    } else if ((classes == (kClassDigit | kClassLowerHex) || classes == kClassLowerHex ||
                classes == (kClassDigit | kClassUpperHex) || classes == kClassUpperHex) &&
               length % 2 == 0 && length >= 2 * kMinHexBytes && length <= 2 * kMaxHexBytes) {
      add(i, length, (classes & kClassLowerHex) ? kSkelHexLower : kSkelHexUpper, static_cast<uint8_t>(length / 2), 0);
    }
    return j;
  };
  auto classes_of = [](const token_detail::ByteClasses& m, uint64_t range) {
    unsigned classes = 0;
    if (m.digit & range) classes |= kClassDigit;
    if (m.lower_hex & range) classes |= kClassLowerHex;
    if (m.upper_hex & range) classes |= kClassUpperHex;
    if (m.token & ~(m.digit | m.lower_hex | m.upper_hex) & range) classes |= kClassOther;
    return classes;
  };
  // Windows of 64 bytes, each starting where a word may start (after a
  // non-word byte, at a word, or where a time or address ended). Only the
  // words made of digits and hex letters can be candidates: the others
  // (most of a line's) are passed over together, by masks.
  size_t window = 0;
  while (window < n) {
    const size_t span = std::min<size_t>(64, n - window);
    const token_detail::ByteClasses m = classify_window(s.data() + window, span);
    uint64_t words = m.token;
    size_t next = window + 64;
    if (span == 64 && (words >> 63) != 0) {
      // The last word may go on past the window: the next one starts at it.
      const uint64_t gaps = ~words;
      const auto last_start = static_cast<size_t>(gaps == 0 ? 0 : 64 - std::countl_zero(gaps));
      if (last_start == 0) {
        // One word of 64 bytes or more: its end and classes window by window.
        size_t j = window;
        unsigned classes = 0;
        token_detail::ByteClasses wm = m;
        while (true) {
          const auto run = static_cast<size_t>(std::countr_one(wm.token));
          classes |= classes_of(wm, run == 64 ? ~uint64_t{0} : (uint64_t{1} << run) - 1);
          j += run;
          if (run < 64 || j >= n) break;
          wm = classify_window(s.data() + j, std::min<size_t>(64, n - j));
        }
        window = take_word(window, j, classes);
        continue;
      }
      words &= (uint64_t{1} << last_start) - 1;
      next = window + last_start;
    }
    // Words holding another byte (a letter past f, '_', UTF-8): the carry
    // of adding such a byte's bit runs up to its word's end, which marks
    // the word from that byte on.
    const uint64_t other = words & ~(m.digit | m.lower_hex | m.upper_hex);
    const uint64_t from_other = words & (~(words + other) | other);
    uint64_t clean_ends = words & ~(words >> 1) & ~from_other;
    while (clean_ends != 0) {
      const int end = std::countr_zero(clean_ends);
      clean_ends &= clean_ends - 1;
      const uint64_t gaps_below = ~words & ((uint64_t{1} << end) - 1);
      const int begin = gaps_below == 0 ? 0 : 64 - std::countl_zero(gaps_below);
      const uint64_t range = ((uint64_t{2} << end) - 1) & ~((uint64_t{1} << begin) - 1);
      const size_t j = window + static_cast<size_t>(end) + 1;
      const size_t after = take_word(window + static_cast<size_t>(begin), j, classes_of(m, range));
      if (after != j) {
        // A time or an address took more than its first word: go on from
        // its end, as from a word's start.
        next = after;
        break;
      }
    }
    window = next;
  }
  return time_splits_word;
}

// Pass 2: appends the template of one event's skeleton `s`, whose
// candidates are skel_variables[first, last), to `out`, and the variables
// worth taking out to their streams.
void BlockBuilder::State::write_template(std::string_view s, size_t first, size_t last, std::string& out,
                                         bool add_keys) {
  out.clear();
  // Segments are cut as markers are written: each ends after a marker.
  uint32_t context = 0;  // the previous segment's id + 1; 0 at the start of a line
  size_t segment_start = 0;
  // text_end: where the segment's text ends (its marker follows).
  auto end_segment = [&](size_t text_end) {
    const std::string_view segment = std::string_view(out).substr(segment_start);
    std::string& codes = columns[slot(BlockColumnId::kSkeletonSegments)];
    // Most often a segment is the one that followed its predecessor last
    // time: checked by its bytes before any table lookup.
    uint32_t id;
    if (context < last_successors.size() && last_successors[context].id_plus_one != 0 &&
        same_bytes(segment_table.at(last_successors[context].id_plus_one - 1), segment)) {
      id = last_successors[context].id_plus_one - 1;
      put_varint(codes, pair_locals[last_successors[context].pair]);
    } else {
      id = segment_table.intern(segment);
      const uint64_t key = (uint64_t{context} << 32) | id;
      const size_t pairs_before = segment_pairs.size();
      const uint32_t pair = segment_pairs.intern(key);
      if (segment_pairs.size() != pairs_before) {
        if (successor_counts.size() <= context) successor_counts.resize(context + size_t{1}, 0);
        const uint32_t local = successor_counts[context]++;
        pair_locals.push_back(local);
        put_varint(codes, local);
        declarations.emplace_back(context, id);
      } else {
        put_varint(codes, pair_locals[pair]);
      }
      if (last_successors.size() <= context) last_successors.resize(context + size_t{1});
      last_successors[context] = {id + 1, pair};
    }
    if (add_keys) {
      if (id >= segment_key_part.size()) segment_key_part.resize(size_t{id} + 1, 0);
      if (segment_key_part[id] != filter_part_tag) {
        segment_key_part[id] = filter_part_tag;
        text_keys.add(std::string_view(out).substr(segment_start, text_end - segment_start), filter);
      }
    }
    segment_start = out.size();
    context = id + 1;
  };
  size_t position = 0;
  // Copies the text up to `end`, escaping marker bytes (rare: spans are
  // copied whole between them).
  auto copy_text = [&](size_t end) {
    const std::string_view text = s.substr(0, end);
    size_t span = position;
    for (position = next_skel_marker(text, position); position < end;
         position = next_skel_marker(text, position + 1)) {
      out.append(s.data() + span, position - span);
      out.push_back(kSkelEscape);
      span = position;
    }
    out.append(s.data() + span, end - span);
  };
  for (size_t v = first; v < last; ++v) {
    const SkelVariable& variable = skel_variables[v];
    // A number or address of few values in its context stays text: zstd
    // codes it with the text around it (a user agent's version numbers)
    // for less than a stream would. Times and ids always pay.
    if (!taken_out(variable)) continue;
    copy_text(variable.offset);
    if (add_keys) {
      const std::string_view text = s.substr(variable.offset, variable.length);
      // Numbers and hex strings are one word each; times and addresses several.
      if (variable.marker == kSkelIpv4 || variable.marker == kSkelTime || variable.marker == kSkelClfTime) {
        text_keys.add(text, filter);
      } else {
        text_keys.add_token(text, filter);
      }
    }
    bool created = false;
    uint64_t stream_context = 0;  // an overflow stream's is its marker
    const uint32_t id = skel_contexts.find(variable.context, variable.marker, created, &stream_context);
    if (created) {
      if (id >= skel_streams.size()) skel_streams.emplace_back();
      SkelStream& fresh = skel_streams[id];
      fresh.marker = variable.marker;
      fresh.context = stream_context;
      fresh.values.clear();
      fresh.bytes.clear();
      fresh.count = 0;
    }
    SkelStream& stream = skel_streams[id];
    ++stream.count;
    if (variable.marker == kSkelHexLower || variable.marker == kSkelHexUpper) {
      const bool upper = variable.marker == kSkelHexUpper;
      for (size_t k = variable.offset; k < variable.offset + variable.length; k += 2) {
        stream.bytes.push_back(static_cast<char>(hex_value(s[k], upper) << 4 | hex_value(s[k + 1], upper)));
      }
    } else {
      stream.values.push_back(variable.value);
    }
    const size_t text_end = out.size();
    out.push_back(variable.marker);
    if (skel_marker_has_parameter(variable.marker)) out.push_back(static_cast<char>(variable.parameter));
    end_segment(text_end);
    position = variable.offset + variable.length;
  }
  copy_text(s.size());
  end_segment(out.size());
}

// The filter's part for the event at `position` in block order. At a
// part's start the adder forgets its tokens, so that a token of several
// parts reaches the filter from each (and is marked as in several).
void BlockBuilder::State::enter_filter_part(size_t position) {
  if (position == 0 || (filter_by_part && position % part_size == 0)) {
    filter_part_tag = static_cast<uint32_t>(filter_by_part ? position / part_size + 1 : 1);
    if (filter_by_part) filter.set_part(filter_part_tag);
    text_keys.clear();
  }
}

// The keys of an event that are not its line's words: a message that is
// not in the line (mostly a decoded JSON string with escapes that are not
// word-keeping ones), whose words are checked against the line's, and the
// field values (whole, lowercased; no long numbers, as for words).
void BlockBuilder::State::add_event_keys(const PendingEvent& e) {
  if (!e.message.in_raw && !tokens_within(raw_of(e), text_of(e, e.message))) {
    text_keys.add(text_of(e, e.message), filter);
  }
  for (size_t f = e.first_field; f < e.first_field + e.field_count; ++f) {
    const PendingField& field = fields[f];
    const std::string_view lowered = lowercased(text_of(e, field.value), value_lower);
    if (in_block_filter(lowered)) filter.add(hash_bytes(lowered, name_seeds[field.name]));
  }
}

// Pass 1's share of an event's text keys: the words of its cut values,
// or of its whole line when a word crosses a cut's edge (in the line, or
// where the cut leaves the skeleton: "ab" + cut + "cd" is one word there)
// or a variable's (`words_split`: find_variables()).
void BlockBuilder::State::add_cut_keys(std::string_view raw, std::string_view skeleton, size_t position,
                                       bool words_split) {
  bool crossed = words_split;
  for (const CutSpan& c : cut_spans) {
    if (c.length == 0) continue;
    crossed = crossed || word_crosses(raw, c.offset) || word_crosses(raw, size_t{c.offset} + c.length) ||
              word_crosses(skeleton, c.junction);
  }
  if (crossed) {
    keys_from_line[position] = 1;
    text_keys.add(raw, filter);
    return;
  }
  if (previous_cuts_tag != filter_part_tag) {
    previous_cuts.fill({});
    previous_cuts_tag = filter_part_tag;
  }
  // A cut value mostly shares its start with the last line's at the same
  // place (a time's date and hour, a host name's stem): only the words
  // from where they differ are new.
  for (size_t k = 0; k < cut_spans.size(); ++k) {
    const CutSpan& c = cut_spans[k];
    if (c.length == 0) continue;
    const std::string_view text = raw.substr(c.offset, c.length);
    size_t fresh = 0;
    if (k < previous_cuts.size()) {
      fresh = shared_words(previous_cuts[k], text);
      previous_cuts[k] = text;
    }
    if (fresh < text.size()) text_keys.add(text.substr(fresh), filter);
  }
}

// Column 14: the bytes of segment codes, and how many values (and for hex,
// bytes) each stream, gave the lines of the part that just ended.
void BlockBuilder::State::write_restart() {
  std::string& out = columns[slot(BlockColumnId::kPartRestarts)];
  const size_t codes = columns[slot(BlockColumnId::kSkeletonSegments)].size();
  put_varint(out, codes - restart_codes_bytes);
  restart_codes_bytes = codes;
  const size_t count = skel_contexts.size();
  restart_counts.resize(count, 0);
  restart_bytes.resize(count, 0);
  put_varint(out, count);
  for (size_t id = 0; id < count; ++id) {
    const SkelStream& stream = skel_streams[id];
    put_varint(out, stream.count - restart_counts[id]);
    restart_counts[id] = stream.count;
    if (stream.marker == kSkelHexLower || stream.marker == kSkelHexUpper) {
      put_varint(out, stream.bytes.size() - restart_bytes[id]);
      restart_bytes[id] = stream.bytes.size();
    }
  }
}

// Column 12: the streams of the skeleton's variables, in id order.
void BlockBuilder::State::encode_skeleton_streams() {
  std::string& out = columns[slot(BlockColumnId::kSkeletonValues)];
  if (order.empty()) return;
  const size_t count = skel_contexts.size();
  put_varint(out, count);
  for (size_t id = 0; id < count; ++id) {
    const SkelStream& stream = skel_streams[id];
    out.push_back(stream.marker);
    char context[4];
    put_le(context, stream.context, 4);
    out.append(context, 4);
    stream_payload.clear();
    uint8_t encoding = kSkelPlain;
    const bool address = stream.marker == kSkelIpv4;
    auto put_plain = [&](std::string& to, uint64_t value) {
      if (address) {
        // Big-endian: the leading octets, which repeat, come first.
        for (int shift : {0, 8, 16, 24}) to.push_back(static_cast<char>(value >> shift));
      } else {
        put_varint(to, value);
      }
    };
    if (stream.marker == kSkelHexLower || stream.marker == kSkelHexUpper) {
      stream_payload.append(stream.bytes);
    } else {
      size_t plain_bytes = 0, delta_bytes = 0;
      uint64_t previous = 0;
      for (uint64_t value : stream.values) {
        plain_bytes += address ? 4 : varint_size(value);
        delta_bytes += varint_size(zigzag(static_cast<int64_t>(value - previous)));
        previous = value;
      }
      const size_t values = stream.values.size();
      auto index_bytes = [&](size_t distinct) {
        return distinct > 256 ? 2 * values : (values * index_width(distinct) + 7) / 8;
      };
      // The dictionary's bytes only grow with each new value, so counting
      // stops once they reach the other encodings' (a stream of ids).
      const size_t best_other = std::min(plain_bytes, delta_bytes);
      stream_values.clear();
      indexes.clear();
      size_t entry_bytes = 0;
      bool dictionary = true;
      for (uint64_t value : stream.values) {
        const size_t before = stream_values.size();
        indexes.push_back(stream_values.intern(value));
        if (stream_values.size() != before) {
          entry_bytes += address ? 4 : varint_size(value);
          if (entry_bytes + index_bytes(stream_values.size()) >= best_other) {
            dictionary = false;
            break;
          }
        }
      }
      const size_t distinct = stream_values.size();
      const size_t dict_bytes = varint_size(distinct) + index_bytes(distinct) + entry_bytes;
      // A dictionary when it is clearly smaller: zstd finds repeats in plain
      // values too.
      if (dictionary && dict_bytes < plain_bytes && dict_bytes < delta_bytes) {
        encoding = kSkelDict;
        // Most frequent first: past 128 entries indexes are varints, and
        // the frequent values get the one-byte ones.
        dictionary_counts.assign(distinct, 0);
        for (uint32_t index : indexes) ++dictionary_counts[index];
        dictionary_order.resize(distinct);
        std::iota(dictionary_order.begin(), dictionary_order.end(), 0);
        if (distinct > 128) {
          // Ties in order of first appearance; std::sort needs no buffer.
          std::sort(dictionary_order.begin(), dictionary_order.end(), [&](uint32_t a, uint32_t b) {
            return dictionary_counts[a] != dictionary_counts[b] ? dictionary_counts[a] > dictionary_counts[b] : a < b;
          });
        }
        dictionary_rank.resize(distinct);
        for (size_t d = 0; d < distinct; ++d) dictionary_rank[dictionary_order[d]] = static_cast<uint32_t>(d);
        for (uint32_t& index : indexes) index = dictionary_rank[index];
        put_varint(stream_payload, distinct);
        for (size_t d = 0; d < distinct; ++d) {
          put_plain(stream_payload, stream_values.at(dictionary_order[d]));
        }
        put_indexes(stream_payload, indexes, distinct);
      } else if (delta_bytes < plain_bytes) {
        encoding = kSkelDelta;
        previous = 0;
        for (uint64_t value : stream.values) {
          put_varint(stream_payload, zigzag(static_cast<int64_t>(value - previous)));
          previous = value;
        }
      } else {
        for (uint64_t value : stream.values) put_plain(stream_payload, value);
      }
    }
    out.push_back(static_cast<char>(encoding));
    put_varint(out, stream.count);
    put_varint(out, stream_payload.size());
    out.append(stream_payload);
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

Status BlockBuilder::finish(int zstd_level, FilterSpec filter_spec, std::string& block_out,
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
  // Most blocks arrive in time order already (one sender's stream): the
  // check is cheap next to a sort of 16k pairs.
  if (!std::is_sorted(s.order.begin(), s.order.end())) std::sort(s.order.begin(), s.order.end());

  for (std::string& column : s.columns) column.clear();
  s.filter.clear();
  s.part_size = block_part_size(n);
  s.filter_by_part = filter_spec.fingerprints && (n + s.part_size - 1) / s.part_size > 1;
  s.text_keys_from_lines = filter_spec.text_keys_from_lines;
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

  s.build_filter(filter_spec, filter_out);
  return Status::ok();
}

void BlockBuilder::State::build_filter(FilterSpec spec, std::string& filter_out) {
  // The filter holds each event's keys already (encode_raw_parts: words,
  // field values); the block's attributes are added here.
  std::string& value_scratch = value_lower;
  // Field values obey the rule of text tokens: no long numbers.
  auto add_value = [&](std::string_view value, uint64_t seed) {
    const std::string_view lowered = lowercased(value, value_scratch);
    if (in_block_filter(lowered)) filter.add(hash_bytes(lowered, seed));
  };
  // Attributes: a few values each, in most parts.
  filter.set_part(0);
  const uint64_t host_seed = field_token_seed("host");
  for (size_t i = 0; i < hosts.size(); ++i) add_value(hosts.at(i), host_seed);
  const uint64_t app_seed = field_token_seed("app");
  for (size_t i = 0; i < apps.size(); ++i) add_value(apps.at(i), app_seed);
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
  filter_out.clear();
  if (spec.fingerprints) {
    const auto parts = static_cast<uint32_t>((order.size() + part_size - 1) / part_size);
    filter.finish_fingerprints(spec.bloom_bits_per_key, filter_out, filter_by_part ? parts : 0);
  } else {
    filter.finish(spec.bloom_bits_per_key, filter_out);
  }
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
  void truncate(size_t size) { size_ = std::min(size_, size); }
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
  enum Source : uint8_t { kRaw, kMessageLiterals, kFieldLiterals, kJsonMessages };
  uint32_t offset;  // in the event's raw line, one of the literal columns or json_messages
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
  size_t host_lists_start = 0;  // host dictionary: into the reader's host_lists
};

// A stream of skeleton variables being read (format version 2).
struct SkelStreamReader {
  char marker = 0;
  uint8_t encoding = kSkelPlain;
  uint64_t total = 0;
  uint64_t remaining = 0;
  Cursor values;  // plain and delta values, hex bytes
  IndexReader indexes;
  uint32_t dictionary_start = 0;
  uint32_t dictionary_size = 0;
  uint64_t previous = 0;
};

Status corrupt(std::string_view what) { return Status::error("block: " + std::string(what)); }

// Appends the JSON string bytes `escaped` (between its quotes) decoded to
// `out`; false at an escape other than \", \\ and \/ (the only ones a
// message of tag kMessageJson has).
bool append_unescaped_json(std::string_view escaped, Buffer& out) {
  const char* p = escaped.data();
  const char* const end = p + escaped.size();
  while (p < end) {
    const auto* backslash = static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(end - p)));
    if (backslash == nullptr) {
      out.append(p, static_cast<size_t>(end - p));
      return true;
    }
    out.append(p, static_cast<size_t>(backslash - p));
    if (backslash + 1 == end || !is_word_keeping_escape(backslash[1])) return false;
    out.append(backslash + 1, 1);
    p = backslash + 2;
  }
  return true;
}

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
  std::vector<uint32_t> raw_offsets;  // n + 1; [raw_first, raw_last] set
  uint32_t raw_first = 0, raw_last = 0;  // the events whose lines are in `raw`
  std::vector<FieldRecord> fields;
  std::vector<uint32_t> field_starts;  // n + 1
  std::string_view field_literals, message_literals;
  std::vector<MessageRecord> messages;
  Buffer json_messages;  // the loaded events' JSON string messages, decoded
  // Rebuild scratch.
  std::vector<ValueGroup> groups;
  std::vector<std::string_view> record_dictionary;
  std::vector<std::string_view> group_dictionaries;
  std::vector<uint64_t> lengths;
  std::vector<std::vector<int64_t>> host_lists;  // host dictionaries: per group and host, the values
  size_t host_lists_used = 0;
  uint8_t version = kBlockFormatVersion;
  SkelContexts skel_contexts;
  std::vector<SkelStreamReader> skel_streams;
  std::vector<uint64_t> skel_dictionary;
  Buffer expanded;  // one event's skeleton
  Buffer event_template;
  std::vector<std::string_view> segments;
  std::vector<uint8_t> segment_continues;  // the segment ends with a marker: another follows
  std::vector<std::vector<uint32_t>> successors;  // per context: segment ids by local code
  std::vector<uint64_t> seek_counts, seek_bytes;  // per stream, values before a part
  // What passing over an event of each shared record takes (load_part).
  struct RecordPlan {
    uint8_t state = 0;  // 0: not built, 1: built, 2: corrupt record
    uint64_t field_literal_bytes = 0;
    uint64_t message_literal_bytes = 0;
    uint32_t cuts_start = 0, cut_count = 0;  // into plan_cuts: the names of its cut values
  };
  std::vector<RecordPlan> record_plans;
  std::vector<uint32_t> plan_cuts;

  Status column(BlockColumnId id, std::string_view& out);
  Status load_timestamps();
  Status load_received();
  Status load_attrs();
  Status load_dictionary_column(BlockColumnId id, std::vector<std::string_view>& dictionary,
                                std::vector<uint32_t>& index);
  Status load_raw() { return load_raw_range(0, size); }
  Status load_raw_range(uint32_t first, uint32_t last);
  Status read_value_groups(std::string_view values);
  Status read_skeleton_streams(std::string_view data);
  Status seek_skeleton_streams(uint32_t part, std::string_view codes, Cursor& segment_codes);
  bool skip_cut_value(ValueGroup& group, uint32_t i);
  const RecordPlan& record_plan(uint32_t entry);
  uint32_t part_size() const { return version >= 3 ? block_part_size(size) : std::max<uint32_t>(size, 1); }
  bool next_skel_value(SkelStreamReader& stream, uint64_t& value);
  bool expand_skeleton(std::string_view text, int64_t timestamp_ns, Buffer& out);
  Status read_segments(std::string_view data);
  bool read_template(Cursor& codes, Buffer* out);
};

BlockReader::BlockReader() : state_(std::make_unique<State>()) {}
BlockReader::~BlockReader() = default;
BlockReader::BlockReader(BlockReader&&) noexcept = default;
BlockReader& BlockReader::operator=(BlockReader&&) noexcept = default;

uint32_t BlockReader::size() const { return state_->size; }
int64_t BlockReader::min_timestamp() const { return state_->min_timestamp; }
int64_t BlockReader::max_timestamp() const { return state_->max_timestamp; }
uint32_t BlockReader::loaded() const { return state_->loaded; }

uint32_t BlockReader::part_count() const {
  const State& s = *state_;
  return s.size == 0 ? 1 : static_cast<uint32_t>((uint64_t{s.size} + s.part_size() - 1) / s.part_size());
}

std::pair<uint32_t, uint32_t> BlockReader::part_events(uint32_t part) const {
  const State& s = *state_;
  const uint64_t first = std::min<uint64_t>(uint64_t{part} * s.part_size(), s.size);
  return {static_cast<uint32_t>(first), static_cast<uint32_t>(std::min<uint64_t>(first + s.part_size(), s.size))};
}

std::pair<uint32_t, uint32_t> BlockReader::raw_range() const {
  const State& s = *state_;
  if (!(s.loaded & kColRaw)) return {0, 0};
  return {s.raw_first, s.raw_last};
}

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
  // Version 1 is version 2 without skeleton templates (no column 12);
  // version 2 is version 3 without parts (no column 14, streams without
  // their contexts).
  if (version < 1 || version > kBlockFormatVersion) {
    return corrupt("unsupported version " + std::to_string(version));
  }
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
    if (id == 0 || id >= kColumnSlots || (version == 1 && id >= slot(BlockColumnId::kSkeletonValues)) ||
        (version == 2 && id >= slot(BlockColumnId::kPartRestarts))) {
      return corrupt("unknown column id " + std::to_string(id));
    }
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
  s.version = version;
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
  host_lists_used = 0;
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
      case kValuesHostDict: {
        if (host_lists_used + host_dictionary.size() > max_host_dict_entries(size)) {
          return corrupt_column(id, "too many host dictionaries");
        }
        group.host_lists_start = host_lists_used;
        host_lists_used += host_dictionary.size();
        if (host_lists.size() < host_lists_used) host_lists.resize(host_lists_used);
        for (size_t h = group.host_lists_start; h < host_lists_used; ++h) host_lists[h].clear();
        // Each value is one or two varints, checked as it is read.
        group.values = Cursor(in.bytes(in.varint()));
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

// Column 7 of a version-2 block: the segment dictionary.
Status BlockReader::State::read_segments(std::string_view data) {
  constexpr size_t id = slot(BlockColumnId::kSkeleton);
  segments.clear();
  Cursor in(data);
  if (!read_dictionary(in, segments, lengths) || !in.at_end()) return corrupt_column(id, "bad segment dictionary");
  segment_continues.resize(segments.size());
  for (size_t k = 0; k < segments.size(); ++k) {
    // Whether the last thing in the segment is a marker with its parameter.
    const std::string_view segment = segments[k];
    bool ends_with_marker = false;
    for (size_t t = next_skel_marker(segment, 0); t < segment.size(); t = next_skel_marker(segment, t + 1)) {
      if (segment[t] == kSkelEscape) {
        if (++t == segment.size()) return corrupt_column(id, "escape at the end of a segment");
        ends_with_marker = false;
        continue;
      }
      if (skel_marker_has_parameter(segment[t]) && ++t == segment.size()) {
        return corrupt_column(id, "marker without its parameter");
      }
      ends_with_marker = t + 1 == segment.size();
    }
    segment_continues[k] = ends_with_marker ? 1 : 0;
  }
  if (successors.size() < segments.size() + 1) successors.resize(segments.size() + 1);
  for (std::vector<uint32_t>& list : successors) list.clear();
  if (version < 3) return Status::ok();  // lists grow as the codes name new segments
  // Format 3: every context's list up front (column 15).
  constexpr size_t lists_id = slot(BlockColumnId::kSegmentSuccessors);
  std::string_view lists;
  if (Status status = column(BlockColumnId::kSegmentSuccessors, lists); !status) return status;
  Cursor lists_in(lists);
  for (size_t context = 0; context <= segments.size(); ++context) {
    const uint64_t count = lists_in.varint();
    if (lists_in.failed() || count > lists_in.remaining()) return corrupt_column(lists_id, "truncated");
    std::vector<uint32_t>& list = successors[context];
    for (uint64_t k = 0; k < count; ++k) {
      const uint64_t segment = lists_in.varint();
      if (lists_in.failed() || segment >= segments.size()) return corrupt_column(lists_id, "bad segment id");
      list.push_back(static_cast<uint32_t>(segment));
    }
  }
  if (!lists_in.at_end()) return corrupt_column(lists_id, "trailing bytes");
  return Status::ok();
}

// One event's template from its segment codes into `out` (nullptr: only
// passed over); false if they are corrupt.
bool BlockReader::State::read_template(Cursor& codes, Buffer* out) {
  if (out != nullptr) out->clear();
  uint32_t context = 0;
  while (true) {
    const uint64_t local = codes.varint();
    if (codes.failed()) return false;
    std::vector<uint32_t>& list = successors[context];
    uint64_t segment;
    if (local < list.size()) {
      segment = list[local];
    } else if (local == list.size() && version < 3) {
      segment = codes.varint();
      if (codes.failed() || segment >= segments.size()) return false;
      list.push_back(static_cast<uint32_t>(segment));
    } else {
      return false;
    }
    if (out != nullptr) {
      out->append(segments[segment]);
      if (out->size() > kMaxBlockColumnBytes) return false;
    }
    if (!segment_continues[segment]) return true;
    context = static_cast<uint32_t>(segment + 1);
  }
}

Status BlockReader::State::read_skeleton_streams(std::string_view data) {
  constexpr size_t id = slot(BlockColumnId::kSkeletonValues);
  skel_streams.clear();
  skel_dictionary.clear();
  skel_contexts.clear(version >= 3);
  if (data.empty()) return Status::ok();
  Cursor in(data);
  const uint64_t count = in.varint();
  if (in.failed() || count > kMaxSkelStreams) return corrupt_column(id, "bad stream count");
  skel_streams.resize(count);
  for (size_t k = 0; k < skel_streams.size(); ++k) {
    SkelStreamReader& stream = skel_streams[k];
    stream.marker = static_cast<char>(in.byte());
    if (version >= 3) {
      // Streams by context, as the builder numbered them.
      const std::string_view context = in.bytes(4);
      if (in.failed()) return corrupt_column(id, "truncated");
      bool created = false;
      if (skel_contexts.find(get_le(context.data(), 4), stream.marker, created) != k || !created) {
        return corrupt_column(id, "a stream's context twice");
      }
    }
    stream.encoding = in.byte();
    stream.total = stream.remaining = in.varint();
    const std::string_view payload = in.bytes(in.varint());
    if (in.failed()) return corrupt_column(id, "truncated");
    if (!is_skel_marker(stream.marker) || stream.marker == kSkelEscape) return corrupt_column(id, "bad marker");
    const bool hex = stream.marker == kSkelHexLower || stream.marker == kSkelHexUpper;
    if (stream.encoding > kSkelDict || (hex && stream.encoding != kSkelPlain)) {
      return corrupt_column(id, "unknown encoding " + std::to_string(stream.encoding));
    }
    if (stream.encoding != kSkelDict) {
      stream.values = Cursor(payload);
      continue;
    }
    Cursor dictionary(payload);
    const uint64_t size = dictionary.varint();
    if (dictionary.failed() || size > dictionary.remaining()) return corrupt_column(id, "bad dictionary");
    stream.dictionary_start = static_cast<uint32_t>(skel_dictionary.size());
    stream.dictionary_size = static_cast<uint32_t>(size);
    for (uint64_t d = 0; d < size; ++d) {
      skel_dictionary.push_back(stream.marker == kSkelIpv4 ? get_le(dictionary.bytes(4).data(), 4)
                                                            : dictionary.varint());
      if (dictionary.failed()) return corrupt_column(id, "bad dictionary");
    }
    if (!stream.indexes.init(dictionary, stream.total, size) || !dictionary.at_end()) {
      return corrupt_column(id, "bad indexes");
    }
  }
  if (!in.at_end()) return corrupt_column(id, "trailing bytes");
  return Status::ok();
}

// The plan of shared record `entry`, built on first use: its cut values'
// names and literal bytes, what a passed-over event of it consumes.
const BlockReader::State::RecordPlan& BlockReader::State::record_plan(uint32_t entry) {
  RecordPlan& plan = record_plans[entry];
  if (plan.state != 0) return plan;
  plan.state = 2;
  plan.cuts_start = static_cast<uint32_t>(plan_cuts.size());
  Cursor record(record_dictionary[entry]);
  if (record.varint() != 0) {  // time cut: format, offset
    if (record.byte() & kTimeHasOffset) record.varint();
  }
  record.varint();  // host cut
  record.varint();  // app cut
  const uint64_t message_tag = record.varint();
  if ((message_tag & 3) == kMessageSlice || (message_tag & 3) == kMessageJson) record.varint();
  if ((message_tag & 3) == kMessageLiteral) plan.message_literal_bytes = message_tag >> 2;
  const uint64_t field_count = record.varint();
  if (record.failed() || field_count > record.remaining() / 3) return plan;
  for (uint64_t f = 0; f < field_count; ++f) {
    const uint64_t name = record.varint();
    record.byte();  // type
    const uint64_t tag = record.varint();
    if (record.failed() || name >= names.size()) return plan;
    if ((tag & 3) == kTagLiteral) {
      plan.field_literal_bytes += tag >> 2;
    } else if ((tag & 3) == kTagSlice) {
      record.varint();
    } else if ((tag & 3) == kTagCut) {
      plan_cuts.push_back(static_cast<uint32_t>(name));
    } else {
      return plan;
    }
  }
  if (record.failed() || !record.at_end()) return plan;
  plan.cut_count = static_cast<uint32_t>(plan_cuts.size()) - plan.cuts_start;
  plan.state = 1;
  return plan;
}

// Moves `group` past its next cut value (of event i) without rendering it;
// false if the value is corrupt.
bool BlockReader::State::skip_cut_value(ValueGroup& group, uint32_t i) {
  uint32_t index;
  switch (group.encoding) {
    case kValuesPlain:
      group.values.bytes(group.lengths.varint());
      break;
    case kValuesDict:
      if (!group.indexes.next(index)) return false;
      break;
    case kValuesTemplate: {
      if (!group.indexes.next(index)) return false;
      const std::string_view text = group_dictionaries[group.dictionary_start + index];
      for (size_t t = 0; t < text.size(); ++t) {
        if (text[t] == kTemplateNumber) {
          group.values.varint();
        } else if (text[t] == kTemplateEscape) {
          ++t;  // valid_template() checked a byte follows
        }
      }
      break;
    }
    case kValuesInt:
      group.values.varint();
      break;
    case kValuesDelta:
      group.previous = wrapping_add(group.previous, unzigzag(group.values.varint()));
      break;
    case kValuesHostDict: {
      std::vector<int64_t>& list = host_lists[group.host_lists_start + host_index[i]];
      const uint64_t local = group.values.varint();
      if (local == list.size()) {
        list.push_back(unzigzag(group.values.varint()));
      } else if (local > list.size()) {
        return false;
      }
      break;
    }
    case kValuesIpv4:
      group.values.bytes(4);
      break;
    default:
      return false;
  }
  return !group.values.failed() && !group.lengths.failed();
}

// Moves every skeleton stream past the values of the parts before `part`,
// by the counts of column 14 (format 3).
Status BlockReader::State::seek_skeleton_streams(uint32_t part, std::string_view codes, Cursor& segment_codes) {
  constexpr size_t id = slot(BlockColumnId::kPartRestarts);
  std::string_view data;
  if (Status status = column(BlockColumnId::kPartRestarts, data); !status) return status;
  Cursor in(data);
  seek_counts.assign(skel_streams.size(), 0);
  seek_bytes.assign(skel_streams.size(), 0);
  uint64_t codes_offset = 0;
  for (uint32_t restart = 1; restart <= part; ++restart) {
    const uint64_t codes_bytes = in.varint();
    if (codes_bytes > codes.size() - codes_offset) return corrupt_column(id, "beyond the segment codes");
    codes_offset += codes_bytes;
    const uint64_t count = in.varint();
    if (in.failed() || count > skel_streams.size()) return corrupt_column(id, "bad stream count");
    for (uint64_t k = 0; k < count; ++k) {
      const SkelStreamReader& stream = skel_streams[k];
      const uint64_t values = in.varint();
      if (values > stream.total - seek_counts[k]) return corrupt_column(id, "more values than the stream's");
      seek_counts[k] += values;
      if (stream.marker == kSkelHexLower || stream.marker == kSkelHexUpper) {
        const uint64_t bytes = in.varint();
        if (bytes > stream.values.remaining() - seek_bytes[k]) return corrupt_column(id, "more bytes than the stream's");
        seek_bytes[k] += bytes;
      }
    }
    if (in.failed()) return corrupt_column(id, "truncated");
  }
  for (size_t k = 0; k < skel_streams.size(); ++k) {
    SkelStreamReader& stream = skel_streams[k];
    const uint64_t count = seek_counts[k];
    stream.remaining -= count;
    if (stream.marker == kSkelHexLower || stream.marker == kSkelHexUpper) {
      stream.values.bytes(seek_bytes[k]);
    } else if (stream.encoding == kSkelDict) {
      stream.indexes.skip(count);
    } else if (stream.marker == kSkelIpv4 && stream.encoding == kSkelPlain) {
      stream.values.bytes(count * 4);
    } else if (stream.encoding == kSkelDelta) {
      for (uint64_t v = 0; v < count && !stream.values.failed(); ++v) {
        stream.previous += static_cast<uint64_t>(unzigzag(stream.values.varint()));
      }
    } else {
      stream.values.skip_varints(count);
    }
    if (stream.values.failed()) return corrupt_column(id, "beyond a stream's values");
  }
  segment_codes = Cursor(codes.substr(codes_offset));
  return Status::ok();
}

bool BlockReader::State::next_skel_value(SkelStreamReader& stream, uint64_t& value) {
  if (stream.remaining == 0) return false;
  --stream.remaining;
  const bool address = stream.marker == kSkelIpv4;
  switch (stream.encoding) {
    case kSkelPlain:
      if (address) {
        const std::string_view octets = stream.values.bytes(4);
        value = stream.values.failed() ? 0 : get_le(octets.data(), 4);
      } else {
        value = stream.values.varint();
      }
      break;
    case kSkelDelta:
      stream.previous += static_cast<uint64_t>(unzigzag(stream.values.varint()));
      value = stream.previous;
      break;
    default: {
      uint32_t index;
      if (!stream.indexes.next(index)) return false;
      value = skel_dictionary[stream.dictionary_start + index];
      break;
    }
  }
  return !stream.values.failed() && (!address || value <= 0xffffffff);
}

// Rebuilds one event's skeleton from its template into `out`; false if the
// template or the streams are corrupt.
bool BlockReader::State::expand_skeleton(std::string_view text, int64_t timestamp_ns, Buffer& out) {
  static constexpr char kHexDigits[2][17] = {"0123456789abcdef", "0123456789ABCDEF"};
  out.clear();
  char rendered[2 * kMaxHexBytes + 2];
  size_t piece = 0;  // start of the text not yet copied
  for (size_t k = next_skel_marker(text, 0); k < text.size(); k = next_skel_marker(text, k + 1)) {
    const char marker = text[k];
    out.append(text.data() + piece, k - piece);
    if (marker == kSkelEscape) {
      if (k + 1 == text.size()) return false;
      piece = ++k;  // the escaped byte starts the next piece
      continue;
    }
    const uint64_t context = skel_context(out.view(), marker) & (version >= 3 ? kStoredContextMask : ~uint64_t{0});
    unsigned parameter = 0;
    if (skel_marker_has_parameter(marker)) {
      if (k + 1 == text.size()) return false;
      parameter = static_cast<unsigned char>(text[++k]);
    }
    piece = k + 1;
    bool created = false;
    const uint32_t id = skel_contexts.find(context, marker, created);
    // Format 3 lists every stream up front.
    if (id >= skel_streams.size() || skel_streams[id].marker != marker || (created && version >= 3)) return false;
    SkelStreamReader& stream = skel_streams[id];
    size_t length = 0;
    if (marker == kSkelHexLower || marker == kSkelHexUpper) {
      if (stream.remaining == 0 || parameter > kMaxHexBytes) return false;
      --stream.remaining;
      const std::string_view bytes = stream.values.bytes(parameter);
      if (stream.values.failed()) return false;
      const char* digits = kHexDigits[marker == kSkelHexUpper ? 1 : 0];
      for (size_t b = 0; b < bytes.size(); ++b) {
        rendered[2 * b] = digits[static_cast<unsigned char>(bytes[b]) >> 4];
        rendered[2 * b + 1] = digits[bytes[b] & 0x0f];
      }
      length = 2 * bytes.size();
    } else {
      uint64_t value = 0;
      if (!next_skel_value(stream, value)) return false;
      switch (marker) {
        case kSkelNumber:
          length = static_cast<size_t>(std::to_chars(rendered, rendered + 24, value).ptr - rendered);
          break;
        case kSkelDigits: {
          char digits[24];
          const size_t count = static_cast<size_t>(std::to_chars(digits, digits + sizeof digits, value).ptr - digits);
          if (parameter > kMaxSkelDigits || count > parameter) return false;
          std::memset(rendered, '0', parameter - count);
          std::memcpy(rendered + parameter - count, digits, count);
          length = parameter;
          break;
        }
        case kSkelIpv4: {
          char octets[4];
          put_le(octets, value, 4);
          length = render_ipv4(octets, rendered);
          break;
        }
        case kSkelTime: {
          if (parameter > 9) return false;
          const int64_t unit = kPowers10[9 - parameter];
          int64_t ns;
          if (__builtin_mul_overflow(wrapping_add(floor_div(timestamp_ns, unit), unzigzag(value)), unit, &ns)) {
            return false;
          }
          length = render_time(ns, parameter, false, 0, rendered);
          if (length == 0) return false;
          break;
        }
        default:  // kSkelClfTime
          length = render_clf_time(wrapping_add(floor_div(timestamp_ns, 1'000'000'000), unzigzag(value)), rendered);
          if (length == 0) return false;
          break;
      }
    }
    out.append(rendered, length);
    if (out.size() > kMaxBlockColumnBytes) return false;
  }
  out.append(text.data() + piece, text.size() - piece);
  return true;
}

// Rebuilds the lines of events [first, last) (a whole part's, or all): the
// events before `first` are passed over (their segment codes, records and
// cut values read, not rendered), and the skeleton streams start where the
// part restarts of column 14 say.
Status BlockReader::State::load_raw_range(uint32_t first, uint32_t last) {
  constexpr size_t skeleton_lengths_id = slot(BlockColumnId::kSkeletonLengths);
  constexpr size_t fields_id = slot(BlockColumnId::kRecords);
  constexpr size_t values_id = slot(BlockColumnId::kFieldValues);
  constexpr size_t segments_id = slot(BlockColumnId::kSkeletonSegments);
  std::string_view skeleton_lengths_data, skeleton_data, structure_data, values_data, skeleton_values_data,
      segments_data;
  for (auto [id, out] : {std::pair{BlockColumnId::kSkeletonLengths, &skeleton_lengths_data},
                         std::pair{BlockColumnId::kSkeleton, &skeleton_data},
                         std::pair{BlockColumnId::kRecords, &structure_data},
                         std::pair{BlockColumnId::kFieldValues, &values_data},
                         std::pair{BlockColumnId::kFieldLiterals, &field_literals},
                         std::pair{BlockColumnId::kMessageLiterals, &message_literals},
                         std::pair{BlockColumnId::kSkeletonValues, &skeleton_values_data},
                         std::pair{BlockColumnId::kSkeletonSegments, &segments_data}}) {
    if (Status status = column(id, *out); !status) return status;
  }
  raw.clear();
  raw_offsets.assign(1, 0);
  fields.clear();
  field_starts.assign(1, 0);
  messages.clear();
  json_messages.clear();
  names.clear();
  raw_first = raw_last = 0;
  if (size == 0) {
    if (!skeleton_lengths_data.empty() || !skeleton_data.empty() || !structure_data.empty() ||
        !values_data.empty() || !field_literals.empty() || !message_literals.empty() ||
        !skeleton_values_data.empty() || !segments_data.empty()) {
      return corrupt("raw columns in an empty block");
    }
    return Status::ok();
  }
  // Version 1: a length per event; version 2: a segment code per event at
  // least, and no lengths.
  if (version == 1 && skeleton_lengths_data.size() < size) {
    return corrupt_column(skeleton_lengths_id, "shorter than one byte per event");
  }
  if (version >= 2) {
    if (!skeleton_lengths_data.empty()) return corrupt_column(skeleton_lengths_id, "in a version-2 block");
    if (segments_data.size() < size) return corrupt_column(segments_id, "shorter than one byte per event");
    if (Status status = read_segments(skeleton_data); !status) return status;
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
  if (Status status = read_skeleton_streams(skeleton_values_data); !status) return status;
  record_plans.assign(first != 0 ? record_dictionary.size() : 0, RecordPlan{});
  plan_cuts.clear();
  raw_offsets.resize(size + size_t{1});
  field_starts.resize(size + size_t{1});
  messages.resize(size);
  raw_offsets[first] = 0;
  field_starts[first] = 0;

  Cursor skeleton_lengths(skeleton_lengths_data);
  Cursor skeleton(version == 1 ? skeleton_data : std::string_view());
  Cursor segment_codes(segments_data);
  uint64_t literal_used = 0;
  uint64_t message_literal_used = 0;
  char number_text[40];  // a number, an address or a time
  for (uint32_t i = 0; i < last; ++i) {
    // Events before `first` are read to move the cursors past them only:
    // their cut values are rendered and dropped, their skeletons never.
    const bool render = i >= first;
    if (i == first && first != 0 && version >= 3) {
      if (Status status = seek_skeleton_streams(first / part_size(), segments_data, segment_codes); !status) {
        return status;
      }
    }
    if (!render && version >= 2 && records_mode == kRecordsDictionary) {
      // Passed over by its shared record's plan: its cut values and
      // literals, nothing rendered; format 3 seeks its segment codes.
      if (version < 3 && !read_template(segment_codes, nullptr)) {
        return corrupt_column(segments_id, "bad segment codes");
      }
      uint32_t entry;
      if (!record_indexes.next(entry)) return corrupt_column(fields_id, "record index beyond the dictionary");
      const RecordPlan& plan = record_plan(entry);
      if (plan.state != 1) return corrupt_column(fields_id, "bad record");
      for (uint32_t c = plan.cuts_start; c < plan.cuts_start + plan.cut_count; ++c) {
        ValueGroup& group = groups[plan_cuts[c]];
        if (group.remaining == 0) return corrupt_column(values_id, "fewer values than cuts");
        --group.remaining;
        if (!skip_cut_value(group, i)) return corrupt_column(values_id, "bad value");
      }
      if (plan.field_literal_bytes > field_literals.size() - literal_used) {
        return corrupt_column(fields_id, "literal beyond field_literals");
      }
      literal_used += plan.field_literal_bytes;
      if (plan.message_literal_bytes > message_literals.size() - message_literal_used) {
        return corrupt_column(fields_id, "literal beyond message_literals");
      }
      message_literal_used += plan.message_literal_bytes;
      continue;
    }
    const size_t raw_start = raw.size();
    const size_t fields_start = fields.size();
    std::string_view event_skeleton;
    if (version == 1) {
      event_skeleton = skeleton.bytes(skeleton_lengths.varint());
      if (skeleton_lengths.failed() || skeleton.failed()) {
        return corrupt_column(skeleton_lengths_id, "beyond the skeleton");
      }
    } else if (!render) {
      if (version < 3 && !read_template(segment_codes, nullptr)) {
        return corrupt_column(segments_id, "bad segment codes");
      }
    } else {
      if (!read_template(segment_codes, &event_template)) return corrupt_column(segments_id, "bad segment codes");
      if (!expand_skeleton(event_template.view(), timestamps[i], expanded)) {
        return corrupt_column(slot(BlockColumnId::kSkeletonValues), "bad template or values");
      }
      event_skeleton = expanded.view();
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
      if (!render) return true;
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
      if (render) {
        const size_t length = render_time(timestamps[i], format & 0x0f, (format & kTimeHasOffset) != 0,
                                          offset_minutes, number_text);
        if (length == 0) return corrupt_column(fields_id, "time without RFC 3339 text");
        raw.append(number_text, length);
      }
    }
    const uint64_t host_cut = record.varint();
    if (host_cut != 0) {
      if (!copy_gap(host_cut - 1)) return corrupt_column(fields_id, "host cut beyond the skeleton");
      if (render) raw.append(host_dictionary[host_index[i]]);
    }
    const uint64_t app_cut = record.varint();
    if (app_cut != 0) {
      if (!copy_gap(app_cut - 1)) return corrupt_column(fields_id, "app cut beyond the skeleton");
      if (render) raw.append(app_dictionary[app_index[i]]);
    }
    // The message ref; resolved once the line and its fields are known.
    const uint64_t message_tag = record.varint();
    const uint64_t message_tail =
        (message_tag & 3) == kMessageSlice || (message_tag & 3) == kMessageJson ? record.varint() : 0;
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
          if (!render) {
            if (!skip_cut_value(group, i)) return corrupt_column(values_id, "bad value");
            continue;  // a passed-over event keeps no fields
          }
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
            case kValuesDelta:
            case kValuesHostDict: {
              int64_t number = 0;
              if (group.encoding == kValuesHostDict) {
                std::vector<int64_t>& list = host_lists[group.host_lists_start + host_index[i]];
                const uint64_t local = group.values.varint();
                if (local < list.size()) {
                  number = list[local];
                } else if (local == list.size()) {
                  number = unzigzag(group.values.varint());
                  list.push_back(number);
                } else {
                  return corrupt_column(values_id, "host value index beyond the host's values");
                }
              } else {
                number = unzigzag(group.values.varint());
              }
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
    if (!render) {
      raw.truncate(raw_start);
      fields.resize(fields_start);
      if ((message_tag & 3) == kMessageLiteral) {
        const uint64_t length = message_tag >> 2;
        if (length > message_literals.size() - message_literal_used) {
          return corrupt_column(fields_id, "literal beyond message_literals");
        }
        message_literal_used += length;
      }
      continue;
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
      case kMessageJson: {
        const uint64_t offset = message_tag >> 2;
        if (version < 4) return corrupt_column(fields_id, "unknown message tag");
        if (offset > raw_length || message_tail > raw_length - offset) {
          return corrupt_column(fields_id, "message beyond the raw line");
        }
        const size_t start = json_messages.size();
        if (!append_unescaped_json(raw.view().substr(raw_start + offset, raw_length - offset - message_tail),
                                   json_messages)) {
          return corrupt_column(fields_id, "a JSON message with an unexpected escape");
        }
        message = {static_cast<uint32_t>(start), static_cast<uint32_t>(json_messages.size() - start),
                   MessageRecord::kJsonMessages};
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
  raw_first = first;
  raw_last = last;
  // A part short of the block's end leaves its cursors mid-way.
  if (last != size) return Status::ok();
  if (!skeleton_lengths.at_end()) return corrupt_column(skeleton_lengths_id, "trailing bytes");
  if (!segment_codes.at_end()) return corrupt_column(segments_id, "trailing bytes");
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
  for (const SkelStreamReader& stream : skel_streams) {
    if (stream.remaining != 0 || !stream.values.at_end() ||
        (stream.encoding == kSkelDict && !stream.indexes.consumed(stream.total))) {
      return corrupt_column(slot(BlockColumnId::kSkeletonValues), "more values than templates");
    }
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
  // One part's lines are loaded: the whole block's are wanted now.
  if ((wanted & kColRaw) && (s.loaded & kColRaw) && (s.raw_first != 0 || s.raw_last != s.size)) {
    s.loaded &= ~(kColRaw | kColMessage | kColFields);
  }
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

Status BlockReader::load_part(uint32_t columns, uint32_t part) {
  State& s = *state_;
  const bool raw = (columns & (kColRaw | kColMessage | kColFields)) != 0;
  if (!raw || part_count() == 1) return load(columns);
  SLUICE_ASSERT(part < part_count(), "load_part() beyond the block's parts");
  const auto [first, last] = part_events(part);
  if ((s.loaded & kColRaw) && s.raw_first <= first && last <= s.raw_last) {
    return load(columns & ~(kColRaw | kColMessage | kColFields));  // the part is loaded already
  }
  s.loaded &= ~(kColRaw | kColMessage | kColFields);
  // What the rebuild reads, then the part's lines.
  if (Status status = load((columns & ~(kColRaw | kColMessage | kColFields)) | kColTimestamps | kColHost | kColApp);
      !status) {
    return status;
  }
  if (Status status = s.load_raw_range(first, last); !status) return status;
  s.loaded |= kColRaw | kColMessage | kColFields;
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
  SLUICE_ASSERT(i >= s.raw_first && i < s.raw_last, "decode() outside the loaded part");
  out.raw = s.raw.view().substr(s.raw_offsets[i], s.raw_offsets[i + 1] - s.raw_offsets[i]);
  if (loaded & kColMessage) {
    const MessageRecord& message = s.messages[i];
    const std::string_view source = message.source == MessageRecord::kRaw               ? out.raw
                                    : message.source == MessageRecord::kMessageLiterals ? s.message_literals
                                    : message.source == MessageRecord::kJsonMessages    ? s.json_messages.view()
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
