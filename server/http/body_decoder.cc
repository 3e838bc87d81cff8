#include "server/http/body_decoder.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <memory>

namespace sluice::server {
namespace {

std::string lowercase_trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

BodyDecodeResult too_large(uint64_t max) {
  return {BodyDecodeResult::Outcome::kTooLarge,
          "the body decompresses to more than " + std::to_string(max) +
              " bytes (http.max_decompressed_bytes)"};
}

BodyDecodeResult corrupt(std::string_view coding, std::string_view why) {
  return {BodyDecodeResult::Outcome::kCorrupt,
          "the body is not valid " + std::string(coding) + " data: " + std::string(why)};
}

// Grows `out` in steps, never past max + 1 bytes (one more than allowed
// tells "too large" from "exactly at the cap").
size_t next_chunk(const std::string& out, uint64_t max) {
  const uint64_t room = max + 1 - std::min<uint64_t>(out.size(), max + 1);
  return static_cast<size_t>(std::min<uint64_t>(room, 256 * 1024));
}

// windowBits: 15+16 gzip, 15 zlib, -15 raw deflate.
BodyDecodeResult inflate_body(const std::string& in, int window_bits, std::string_view coding, uint64_t max,
                              std::string& out) {
  z_stream stream{};
  if (inflateInit2(&stream, window_bits) != Z_OK) return corrupt(coding, "zlib init failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&stream, inflateEnd);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  stream.avail_in = static_cast<uInt>(in.size());
  out.clear();
  while (true) {
    const size_t chunk = next_chunk(out, max);
    if (chunk == 0) return too_large(max);
    const size_t before = out.size();
    out.resize(before + chunk);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + before);
    stream.avail_out = static_cast<uInt>(chunk);
    const int rc = inflate(&stream, Z_NO_FLUSH);
    out.resize(before + (chunk - stream.avail_out));
    if (out.size() > max) return too_large(max);
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (gzip files can be concatenated).
      if (stream.avail_in == 0) return {};
      if (window_bits != 15 + 16) return corrupt(coding, "bytes after the end of the stream");
      if (inflateReset(&stream) != Z_OK) return corrupt(coding, "reset failed");
      continue;
    }
    if (rc == Z_BUF_ERROR && stream.avail_in == 0) return corrupt(coding, "the stream ends early");
    if (rc != Z_OK && rc != Z_BUF_ERROR) return corrupt(coding, stream.msg != nullptr ? stream.msg : "error");
  }
}

BodyDecodeResult zstd_body(const std::string& in, uint64_t max, std::string& out) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!context) return corrupt("zstd", "out of memory");
  // A frame's window beyond the cap is a bomb: refuse before allocating it.
  ZSTD_DCtx_setParameter(context.get(), ZSTD_d_windowLogMax, 27);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  out.clear();
  size_t last = 1;
  while (input.pos < input.size || last != 0) {
    const size_t chunk = next_chunk(out, max);
    if (chunk == 0) return too_large(max);
    const size_t before = out.size();
    out.resize(before + chunk);
    ZSTD_outBuffer output{out.data() + before, chunk, 0};
    last = ZSTD_decompressStream(context.get(), &output, &input);
    out.resize(before + output.pos);
    if (ZSTD_isError(last)) return corrupt("zstd", ZSTD_getErrorName(last));
    if (out.size() > max) return too_large(max);
    if (input.pos == input.size && output.pos < chunk && last != 0) {
      return corrupt("zstd", "the stream ends early");
    }
  }
  return {};
}

}  // namespace

int BodyDecodeResult::http_status() const {
  switch (outcome) {
    case Outcome::kOk: return 200;
    case Outcome::kUnsupported: return 415;
    case Outcome::kTooLarge: return 413;
    case Outcome::kCorrupt: return 400;
  }
  return 400;
}

BodyDecodeResult decode_body(std::string_view content_encoding, std::string& body, uint64_t max_decoded_bytes) {
  const std::string coding = lowercase_trimmed(content_encoding);
  if (coding.empty() || coding == "identity") return {};
  std::string out;
  BodyDecodeResult result;
  if (coding == "gzip" || coding == "x-gzip") {
    result = inflate_body(body, 15 + 16, "gzip", max_decoded_bytes, out);
  } else if (coding == "deflate") {
    // RFC 9110's deflate is zlib-wrapped; some clients send raw deflate.
    const bool zlib_header = body.size() >= 2 && (static_cast<unsigned char>(body[0]) & 0x0f) == 8 &&
                             ((static_cast<unsigned char>(body[0]) << 8) | static_cast<unsigned char>(body[1])) % 31 == 0;
    result = inflate_body(body, zlib_header ? 15 : -15, "deflate", max_decoded_bytes, out);
  } else if (coding == "zstd") {
    result = zstd_body(body, max_decoded_bytes, out);
  } else {
    return {BodyDecodeResult::Outcome::kUnsupported,
            "Content-Encoding '" + std::string(content_encoding) +
                "' is not supported; use gzip, deflate, zstd or identity"};
  }
  if (result.ok()) body = std::move(out);
  return result;
}

}  // namespace sluice::server
