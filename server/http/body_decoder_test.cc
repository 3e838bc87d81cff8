#include "server/http/body_decoder.h"

#include <doctest/doctest.h>
#include <zlib.h>
#include <zstd.h>

#include <string>

using sluice::server::BodyDecodeResult;
using sluice::server::decode_body;

namespace {

// windowBits: 15+16 gzip, 15 zlib, -15 raw deflate.
std::string deflate_with(const std::string& in, int window_bits) {
  z_stream stream{};
  REQUIRE(deflateInit2(&stream, 9, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&stream, in.size()) + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  stream.avail_in = static_cast<uInt>(in.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string zstd_of(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  REQUIRE(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string sample() {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "{\"message\":\"line " + std::to_string(i) + "\"}\n";
  return text;
}

}  // namespace

TEST_CASE("identity and empty encodings leave the body alone") {
  std::string body = "abc";
  CHECK(decode_body("", body, 10).ok());
  CHECK(decode_body("identity", body, 1).ok());
  CHECK(body == "abc");
}

TEST_CASE("gzip, x-gzip, deflate (zlib and raw) and zstd decode") {
  const std::string text = sample();
  for (auto [coding, encoded] : {std::pair<std::string, std::string>{"gzip", deflate_with(text, 15 + 16)},
                                 {"X-GZIP", deflate_with(text, 15 + 16)},
                                 {"deflate", deflate_with(text, 15)},
                                 {"deflate", deflate_with(text, -15)},
                                 {" zstd ", zstd_of(text)}}) {
    std::string body = encoded;
    BodyDecodeResult result = decode_body(coding, body, 1 << 20);
    CHECK_MESSAGE(result.ok(), coding << ": " << result.message);
    CHECK(body == text);
  }
}

TEST_CASE("concatenated gzip members and zstd frames are all decoded") {
  std::string body = deflate_with("one\n", 15 + 16) + deflate_with("two\n", 15 + 16);
  REQUIRE(decode_body("gzip", body, 100).ok());
  CHECK(body == "one\ntwo\n");
  body = zstd_of("one\n") + zstd_of("two\n");
  REQUIRE(decode_body("zstd", body, 100).ok());
  CHECK(body == "one\ntwo\n");
}

TEST_CASE("a zip bomb stops at the cap with 413; exactly the cap is fine") {
  const std::string zeros(10 << 20, '\0');
  for (auto [coding, encoded] : {std::pair<std::string, std::string>{"gzip", deflate_with(zeros, 15 + 16)},
                                 {"deflate", deflate_with(zeros, 15)},
                                 {"zstd", zstd_of(zeros)}}) {
    CHECK(encoded.size() < 100000);
    std::string body = encoded;
    BodyDecodeResult result = decode_body(coding, body, 1 << 20);
    CHECK(result.outcome == BodyDecodeResult::Outcome::kTooLarge);
    CHECK(result.http_status() == 413);
    CHECK(body == encoded);  // untouched on failure
    body = encoded;
    CHECK_MESSAGE(decode_body(coding, body, zeros.size()).ok(), coding);
    CHECK(body.size() == zeros.size());
  }
}

TEST_CASE("corrupt or cut bodies are 400; unknown encodings 415") {
  const std::string text = sample();
  std::string cut = deflate_with(text, 15 + 16);
  cut.resize(cut.size() / 2);
  BodyDecodeResult result = decode_body("gzip", cut, 1 << 20);
  CHECK(result.outcome == BodyDecodeResult::Outcome::kCorrupt);
  CHECK(result.http_status() == 400);
  std::string zcut = zstd_of(text);
  zcut.resize(zcut.size() / 2);
  CHECK(decode_body("zstd", zcut, 1 << 20).outcome == BodyDecodeResult::Outcome::kCorrupt);
  std::string garbage = "this is not compressed";
  CHECK(decode_body("gzip", garbage, 1 << 20).outcome == BodyDecodeResult::Outcome::kCorrupt);
  CHECK(decode_body("zstd", garbage, 1 << 20).outcome == BodyDecodeResult::Outcome::kCorrupt);
  CHECK(decode_body("deflate", garbage, 1 << 20).outcome == BodyDecodeResult::Outcome::kCorrupt);
  BodyDecodeResult unknown = decode_body("br", garbage, 1 << 20);
  CHECK(unknown.outcome == BodyDecodeResult::Outcome::kUnsupported);
  CHECK(unknown.http_status() == 415);
  CHECK(unknown.message.find("'br'") != std::string::npos);
}
