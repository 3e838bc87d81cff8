// Request body decompression for HTTP inputs (POST /api/ingest, _bulk...):
// Content-Encoding gzip (also x-gzip), deflate (zlib-wrapped, or raw deflate
// as some clients send) and zstd, with a cap on the decompressed size so a
// zip bomb costs at most that much memory. Pure: no IO, no libuv.
//
// For other HTTP handlers — the signature to call:
//
//   BodyDecodeResult decode_body(std::string_view content_encoding,
//                                std::string& body, uint64_t max_decoded_bytes);
//
//   content_encoding  the request's Content-Encoding header ("" and "identity"
//                     leave `body` untouched); case-insensitive; one coding.
//   body              in: the received bytes; out (kOk only): the decoded bytes.
//   max_decoded_bytes e.g. options.http_limits.max_decompressed_bytes.
//   Answer per outcome: kUnsupported -> 415, kTooLarge -> 413 (and count it),
//   kCorrupt -> 400; BodyDecodeResult::message says why, for the client.
// Concatenated gzip members and zstd frames are all decoded.
// Thread: any; no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::server {

struct BodyDecodeResult {
  enum class Outcome : uint8_t { kOk, kUnsupported, kTooLarge, kCorrupt };
  Outcome outcome = Outcome::kOk;
  std::string message;  // empty on kOk
  bool ok() const { return outcome == Outcome::kOk; }
  // The HTTP status that fits: 200, 415, 413 or 400.
  int http_status() const;
};

BodyDecodeResult decode_body(std::string_view content_encoding, std::string& body, uint64_t max_decoded_bytes);

}  // namespace sluice::server
