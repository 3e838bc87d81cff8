#include "server/inputs/gelf_chunks.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "server/inputs/gelf_framing.h"
#include "server/inputs/gelf_inflate.h"

using namespace sluice::server;

namespace {

std::string chunk(uint64_t id, unsigned seq, unsigned count, std::string_view payload) {
  std::string out = {'\x1e', '\x0f'};
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(id >> (8 * i)));
  out.push_back(static_cast<char>(seq));
  out.push_back(static_cast<char>(count));
  out.append(payload);
  return out;
}

GelfChunkAssembler::Limits limits(size_t messages, size_t open_bytes, size_t message_bytes) {
  GelfChunkAssembler::Limits l;
  l.max_open_messages = messages;
  l.max_open_bytes = open_bytes;
  l.max_message_bytes = message_bytes;
  return l;
}

constexpr int64_t kSecond = 1'000'000'000;

std::string compress(std::string_view text, bool gzip) {
  z_stream stream{};
  deflateInit2(&stream, 6, Z_DEFLATED, gzip ? 15 + 16 : 15, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, text.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

}  // namespace

TEST_CASE("GELF chunks: out of order, with duplicates, reassemble in sequence order") {
  GelfChunkAssembler assembler(limits(10, 1 << 20, 1 << 20));
  std::string out;
  using R = GelfChunkAssembler::Result;
  CHECK(assembler.add(chunk(7, 2, 3, "C"), 0, out) == R::kPending);
  CHECK(assembler.add(chunk(7, 0, 3, "A"), 0, out) == R::kPending);
  CHECK(assembler.add(chunk(7, 0, 3, "A"), 0, out) == R::kDuplicate);
  CHECK(assembler.open_messages() == 1);
  CHECK(assembler.open_bytes() == 2);
  CHECK(assembler.add(chunk(7, 1, 3, "B"), 0, out) == R::kComplete);
  CHECK(out == "ABC");
  CHECK(assembler.open_messages() == 0);
  CHECK(assembler.open_bytes() == 0);
  // An empty last chunk (gelf-pro sends one when the payload divides evenly).
  CHECK(assembler.add(chunk(8, 1, 2, ""), 0, out) == R::kPending);
  CHECK(assembler.add(chunk(8, 0, 2, "xy"), 0, out) == R::kComplete);
  CHECK(out == "xy");
  CHECK(assembler.add(chunk(9, 0, 1, "solo"), 0, out) == R::kComplete);
  CHECK(out == "solo");
  const auto stats = assembler.take_stats();
  CHECK(stats.completed == 3);
  CHECK(stats.duplicates == 1);
}

TEST_CASE("GELF chunks: invalid headers are refused") {
  GelfChunkAssembler assembler(limits(10, 1 << 20, 1 << 20));
  std::string out;
  using R = GelfChunkAssembler::Result;
  CHECK(assembler.add(std::string("\x1e\x0f" "short", 7), 0, out) == R::kInvalid);
  CHECK(assembler.add(chunk(1, 0, 0, "x"), 0, out) == R::kInvalid);    // no chunks
  CHECK(assembler.add(chunk(1, 3, 3, "x"), 0, out) == R::kInvalid);    // seq past count
  CHECK(assembler.add(chunk(1, 0, 129, "x"), 0, out) == R::kInvalid);  // over 128
  CHECK(assembler.add(chunk(1, 0, 2, "x"), 0, out) == R::kPending);
  CHECK(assembler.add(chunk(1, 1, 3, "y"), 0, out) == R::kInvalid);    // another count
  CHECK(assembler.take_stats().invalid == 5);
}

TEST_CASE("GELF chunks: incomplete messages expire after the timeout (injected clock)") {
  GelfChunkAssembler assembler(limits(10, 1 << 20, 1 << 20));
  std::string out;
  (void)assembler.add(chunk(1, 0, 2, "a"), 0, out);
  (void)assembler.add(chunk(2, 0, 2, "b"), 3 * kSecond, out);
  assembler.expire(4 * kSecond);
  CHECK(assembler.open_messages() == 2);
  assembler.expire(5 * kSecond);
  CHECK(assembler.open_messages() == 1);
  CHECK(assembler.take_stats().expired == 1);
  // The late chunk of the expired message starts a new one, which expires too.
  CHECK(assembler.add(chunk(1, 1, 2, "a"), 5 * kSecond, out) == GelfChunkAssembler::Result::kPending);
  assembler.expire(10 * kSecond);
  CHECK(assembler.open_messages() == 0);
  CHECK(assembler.open_bytes() == 0);
  CHECK(assembler.take_stats().expired == 2);
}

TEST_CASE("GELF chunks: a storm that never completes stays within the caps") {
  GelfChunkAssembler assembler(limits(100, 64 * 1024, 16 * 1024));
  std::string out;
  const std::string piece(1000, 'z');
  for (uint64_t id = 0; id < 10000; ++id) {
    (void)assembler.add(chunk(id, 0, 128, piece), 0, out);
    CHECK(assembler.open_messages() <= 100);
    CHECK(assembler.open_bytes() <= 64 * 1024);
  }
  auto stats = assembler.take_stats();
  CHECK(stats.evicted == 10000 - assembler.open_messages());
  // One message growing past max_message_bytes is discarded.
  GelfChunkAssembler one(limits(100, 1 << 20, 2500));
  CHECK(one.add(chunk(5, 0, 4, piece), 0, out) == GelfChunkAssembler::Result::kPending);
  CHECK(one.add(chunk(5, 1, 4, piece), 0, out) == GelfChunkAssembler::Result::kPending);
  CHECK(one.add(chunk(5, 2, 4, piece), 0, out) == GelfChunkAssembler::Result::kTooLarge);
  CHECK(one.open_messages() == 0);
  CHECK(one.open_bytes() == 0);
  CHECK(one.take_stats().too_large == 1);
}

TEST_CASE("GELF inflate: zlib, gzip, corrupt input and the size cap") {
  const std::string json = R"({"host":"h","short_message":")" + std::string(5000, 'x') + "\"}";
  GelfInflater inflater;
  for (bool gzip : {false, true}) {
    const std::string packed = compress(json, gzip);
    CHECK(gelf_encoding_of(packed) == (gzip ? GelfEncoding::kGzip : GelfEncoding::kZlib));
    REQUIRE(inflater.inflate(packed, 1 << 20) == GelfInflater::Result::kOk);
    CHECK(inflater.output() == json);
    CHECK(inflater.inflate(packed.substr(0, packed.size() / 2), 1 << 20) == GelfInflater::Result::kCorrupt);
    CHECK(inflater.inflate(packed, 4096) == GelfInflater::Result::kTooLarge);
  }
  CHECK(gelf_encoding_of(json) == GelfEncoding::kPlain);
  // A zip bomb: 64 MiB of zeros in ~64 KiB stops at the cap.
  const std::string bomb = compress(std::string(64u << 20, '\0'), false);
  CHECK(bomb.size() < 200 * 1024);
  CHECK(inflater.inflate(bomb, 1 << 20) == GelfInflater::Result::kTooLarge);
  CHECK(inflater.inflate(std::string("\x78garbage"), 1 << 20) == GelfInflater::Result::kCorrupt);
}

TEST_CASE("GELF TCP framing: NUL-terminated frames across reads, oversize cut") {
  GelfNulFramer framer(10);
  std::vector<std::pair<std::string, bool>> frames;
  auto emit = [&](std::string_view frame, bool truncated) { frames.emplace_back(frame, truncated); };
  framer.feed(std::string_view("{a}\0{b", 6), emit);
  framer.feed(std::string_view("}\0\0{c}\n\0", 8), emit);
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].first == "{a}");
  CHECK(frames[1].first == "{b}");
  CHECK(frames[2].first == "{c}\n");
  frames.clear();
  framer.feed("0123456789ABCDEF", emit);  // longer than 10, no NUL yet
  framer.feed(std::string_view("GHIJ\0{d}\0", 9), emit);
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].first == "0123456789");
  CHECK(frames[0].second);
  CHECK(frames[1].first == "{d}");
  CHECK(framer.take_oversize_frames() == 1);
  frames.clear();
  framer.feed("{tail}", emit);
  CHECK(frames.empty());
  framer.finish(emit);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].first == "{tail}");
  CHECK(framer.take_incomplete_frames() == 1);
}
