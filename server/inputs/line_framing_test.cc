#include "server/inputs/line_framing.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using sluice::server::LineFramer;

namespace {

struct Frame {
  std::string text;
  bool truncated;
  bool operator==(const Frame&) const = default;
};

// Feeds `stream` in pieces of `step` bytes, then finishes.
std::vector<Frame> frames_of(const std::string& stream, size_t step, size_t max, uint32_t* oversize = nullptr) {
  LineFramer framer(max);
  std::vector<Frame> out;
  auto sink = [&](std::string_view frame, bool truncated) { out.push_back({std::string(frame), truncated}); };
  for (size_t pos = 0; pos < stream.size(); pos += step) framer.feed(std::string_view(stream).substr(pos, step), sink);
  framer.finish(sink);
  if (oversize != nullptr) *oversize = framer.take_stats().oversize_frames;
  return out;
}

}  // namespace

TEST_CASE("every split of a stream gives the same lines") {
  const std::string stream = "{\"a\":1}\n{\"b\":2}\r\n\n\r\n{\"c\":\"\\u0000\"}\n{\"last\":true}";
  const std::vector<Frame> expected = {
      {"{\"a\":1}", false}, {"{\"b\":2}", false}, {"{\"c\":\"\\u0000\"}", false}, {"{\"last\":true}", false}};
  for (size_t step = 1; step <= stream.size(); ++step) {
    CHECK_MESSAGE(frames_of(stream, step, 1024) == expected, "step " << step);
  }
}

TEST_CASE("over-long lines are cut, flagged and counted; the next line is intact") {
  const std::string stream = std::string(25, 'x') + "\n" + "0123456789\r\nok\n" + std::string(11, 'y') + "\n";
  for (size_t step = 1; step <= stream.size(); ++step) {
    uint32_t oversize = 0;
    const std::vector<Frame> frames = frames_of(stream, step, 10, &oversize);
    const std::vector<Frame> expected = {
        {std::string(10, 'x'), true}, {"0123456789", false}, {"ok", false}, {std::string(10, 'y'), true}};
    CHECK_MESSAGE(frames == expected, "step " << step);
    CHECK(oversize == 2);
  }
}

TEST_CASE("memory stays bounded by a huge line without newline") {
  LineFramer framer(100);
  size_t delivered = 0;
  const std::string chunk(4096, 'z');
  for (int i = 0; i < 1000; ++i) {
    framer.feed(chunk, [&](std::string_view frame, bool truncated) {
      CHECK(truncated);
      CHECK(frame.size() == 100);
      ++delivered;
    });
    CHECK(framer.buffered_bytes() <= 101);
  }
  CHECK(delivered == 1);
}
