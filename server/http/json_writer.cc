#include "server/http/json_writer.h"

#include <array>

namespace sluice::server {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_unicode_escape(std::string& out, uint32_t code) {
  out += "\\u";
  out.push_back(kHex[(code >> 12) & 0xf]);
  out.push_back(kHex[(code >> 8) & 0xf]);
  out.push_back(kHex[(code >> 4) & 0xf]);
  out.push_back(kHex[code & 0xf]);
}

// Length of the valid UTF-8 sequence at text[i], or 0 if invalid.
size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(i);
  size_t length;
  uint32_t minimum;
  uint32_t code;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, minimum = 0x80, code = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, minimum = 0x800, code = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, minimum = 0x10000, code = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3f);
  }
  if (code < minimum || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return length;
}

// ASCII bytes written as they are: printable, but not '"', '\\' or the
// HTML-sensitive '<', '>', '&'.
constexpr std::array<bool, 256> make_plain_bytes() {
  std::array<bool, 256> plain{};
  for (unsigned c = 0x20; c < 0x7f; ++c) plain[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
  return plain;
}
constexpr std::array<bool, 256> kPlainByte = make_plain_bytes();

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    // Runs of plain bytes (most of any text) are copied at once.
    size_t run = i;
    while (run < text.size() && kPlainByte[static_cast<uint8_t>(text[run])]) ++run;
    if (run != i) {
      out.append(text.data() + i, run - i);
      i = run;
      if (i == text.size()) break;
    }
    const uint8_t c = static_cast<uint8_t>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '<': case '>': case '&': append_unicode_escape(out, c); break;
        default:
          if (c < 0x20 || c == 0x7f) {
            append_unicode_escape(out, c);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    // U+2028 and U+2029 end lines in JavaScript source.
    if (length == 3 && c == 0xe2 && static_cast<uint8_t>(text[i + 1]) == 0x80 &&
        (static_cast<uint8_t>(text[i + 2]) == 0xa8 || static_cast<uint8_t>(text[i + 2]) == 0xa9)) {
      append_unicode_escape(out, static_cast<uint8_t>(text[i + 2]) == 0xa8 ? 0x2028 : 0x2029);
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  out.push_back('"');
}

}  // namespace sluice::server
