#include "server/inputs/syslog_framing.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::server {
namespace {

using namespace std::string_literals;

struct Frame {
  std::string text;
  bool truncated;
};

// Frames as one readable string, so that a failing CHECK shows them.
std::string render(const std::vector<Frame>& frames) {
  std::string out;
  for (const Frame& frame : frames) {
    out += '[';
    for (char c : frame.text) {
      if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else {
        out += c;
      }
    }
    out += frame.truncated ? "](truncated) " : "] ";
  }
  return out;
}

// Feeds `chunks` one by one, then finishes; collects every frame.
struct Collector {
  explicit Collector(size_t max_frame_bytes) : framer(max_frame_bytes) {}

  void feed(std::string_view bytes) {
    framer.feed(bytes, [this](std::string_view frame, bool truncated) {
      frames.push_back({std::string(frame), truncated});
    });
    max_buffered = std::max(max_buffered, framer.buffered_bytes());
  }
  void finish() {
    framer.finish([this](std::string_view frame, bool truncated) {
      frames.push_back({std::string(frame), truncated});
    });
  }

  SyslogFramer framer;
  std::vector<Frame> frames;
  size_t max_buffered = 0;
};

std::vector<Frame> frame_all(std::string_view stream, size_t max_frame_bytes) {
  Collector c(max_frame_bytes);
  c.feed(stream);
  c.finish();
  return c.frames;
}

TEST_CASE("framing: LF, CRLF and NUL terminators; empty frames skipped") {
  const std::string stream = "a\nb\r\nc\0d\n\n\r\n\0e\n"s;
  const std::vector<Frame> expected = {{"a", false}, {"b", false}, {"c", false}, {"d", false}, {"e", false}};
  CHECK(render(frame_all(stream, 100)) == render(expected));
}

TEST_CASE("framing: several octet-counted frames in one feed are views into it") {
  SyslogFramer framer(100);
  const std::string stream = "5 hello3 abc11 <13>1 - - x";
  std::vector<std::string> frames;
  framer.feed(stream, [&](std::string_view frame, bool truncated) {
    CHECK_FALSE(truncated);
    CHECK(frame.data() >= stream.data());  // not copied
    CHECK(frame.data() + frame.size() <= stream.data() + stream.size());
    frames.emplace_back(frame);
  });
  CHECK(frames == std::vector<std::string>{"hello", "abc", "<13>1 - - x"});
  CHECK(framer.buffered_bytes() == 0);
}

TEST_CASE("framing: octet-counted bodies keep their bytes, LF included") {
  const std::vector<Frame> expected = {{"a\nb\r", false}, {"x", false}};
  CHECK(render(frame_all("4 a\nb\r\n1 x", 100)) == render(expected));  // the stray LF between frames is skipped
}

// A stream mixing both modes, split into two feeds at every byte position and
// also fed a byte at a time: the frames must not depend on the split.
TEST_CASE("framing: mixed stream split at every position") {
  const std::string stream =
      "26 <34>1 - host app - - - one"
      "<13>Mar  1 12:00:00 host app: two\n"
      "10 0123456789"
      "three\r\n"
      "12abc\n"
      "1 4"
      "four\0"s
      "14 <13>1 - - - -\n\n"
      "5 end!\n";
  const std::vector<Frame> expected = {
      {"<34>1 - host app - - - one", false},
      {"<13>Mar  1 12:00:00 host app: two", false},
      {"0123456789", false},
      {"three", false},
      {"12abc", false},
      {"4", false},
      {"four", false},
      {"<13>1 - - - -\n", false},
      {"end!\n", false},
  };
  REQUIRE(render(frame_all(stream, 100)) == render(expected));
  for (size_t split = 0; split <= stream.size(); ++split) {
    CAPTURE(split);
    Collector c(100);
    c.feed(std::string(stream.substr(0, split)));  // exact-size copies, for ASan
    c.feed(std::string(stream.substr(split)));
    CHECK(c.framer.buffered_bytes() == 0);
    c.finish();
    CHECK(render(c.frames) == render(expected));
  }
  Collector bytewise(100);
  for (char byte : stream) bytewise.feed(std::string(1, byte));
  bytewise.finish();
  CHECK(render(bytewise.frames) == render(expected));
}

TEST_CASE("framing: an octet-counted frame split at every position, three feeds") {
  const std::string stream = "11 hello world22 second frame, longer!";
  const std::vector<Frame> expected = {{"hello world", false}, {"second frame, longer!", false}};
  // The second length is wrong on purpose (22 for 21 bytes): finish delivers
  // what arrived, flagged as truncated.
  std::vector<Frame> short_expected = expected;
  short_expected[1].truncated = true;
  for (size_t a = 0; a <= stream.size(); ++a) {
    for (size_t b = a; b <= stream.size(); ++b) {
      Collector c(100);
      c.feed(std::string(stream.substr(0, a)));
      c.feed(std::string(stream.substr(a, b - a)));
      c.feed(std::string(stream.substr(b)));
      c.finish();
      CHECK(render(c.frames) == render(short_expected));
    }
  }
}

TEST_CASE("framing: oversize LF frame is truncated and the next frame is intact") {
  const std::string stream = "0123456789ABCDEF\nnext\n";
  const std::vector<Frame> expected = {{"0123456789", true}, {"next", false}};
  CHECK(render(frame_all(stream, 10)) == render(expected));

  Collector bytewise(10);
  for (char byte : stream) bytewise.feed(std::string(1, byte));
  bytewise.finish();
  CHECK(render(bytewise.frames) == render(expected));
  CHECK(bytewise.max_buffered <= 11);

  // The CR of a CRLF does not count: exactly max_frame_bytes is not truncated.
  for (size_t split = 0; split <= 12; ++split) {
    CAPTURE(split);
    const std::string exact = "0123456789\r\nok\n";
    Collector c(10);
    c.feed(exact.substr(0, split));
    c.feed(exact.substr(split));
    c.finish();
    CHECK(render(c.frames) == render(std::vector<Frame>{{"0123456789", false}, {"ok", false}}));
  }
  CHECK(render(frame_all("0123456789A\nok\n", 10)) == render(std::vector<Frame>{{"0123456789", true}, {"ok", false}}));
  CHECK(render(frame_all("0123456789\rA\nok\n", 10)) == render(std::vector<Frame>{{"0123456789", true}, {"ok", false}}));
}

TEST_CASE("framing: a huge LF frame is delivered early and never buffered") {
  Collector c(1024);
  const std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 16; ++i) c.feed(chunk);  // 1 MiB without a terminator
  REQUIRE(c.frames.size() == 1);
  CHECK(c.frames[0].truncated);
  CHECK(c.frames[0].text.size() == 1024);
  CHECK(c.framer.buffered_bytes() == 0);
  CHECK(c.max_buffered <= 1025);
  c.feed("tail\nok\n");
  c.finish();
  REQUIRE(c.frames.size() == 2);
  CHECK(c.frames[1].text == "ok");
  CHECK_FALSE(c.frames[1].truncated);
}

TEST_CASE("framing: oversize octet-counted frame is truncated and the next frame is intact") {
  const std::string stream = "20 01234567890123456789" "4 next";
  const std::vector<Frame> expected = {{"0123456789", true}, {"next", false}};
  CHECK(render(frame_all(stream, 10)) == render(expected));
  for (size_t split = 0; split <= stream.size(); ++split) {
    CAPTURE(split);
    Collector c(10);
    c.feed(stream.substr(0, split));
    c.feed(stream.substr(split));
    c.finish();
    CHECK(render(c.frames) == render(expected));
    CHECK(c.max_buffered <= 10);
  }
  // A gigabyte announced: the first bytes are delivered, the rest skipped.
  Collector c(10);
  c.feed("1000000000 ");
  const std::string chunk(1 << 20, 'y');
  for (int i = 0; i < 4; ++i) c.feed(chunk);
  CHECK(render(c.frames) == render(std::vector<Frame>{{"yyyyyyyyyy", true}}));
  CHECK(c.framer.buffered_bytes() == 0);
}

TEST_CASE("framing: a bad length prefix is LF-framed text") {
  CHECK(render(frame_all("12abc\n5 hello", 100)) == render(std::vector<Frame>{{"12abc", false}, {"hello", false}}));
  CHECK(render(frame_all("2024-03-01T12:00:00Z host app: m\n", 100)) ==
        render(std::vector<Frame>{{"2024-03-01T12:00:00Z host app: m", false}}));
  // More digits than any length: text.
  CHECK(render(frame_all("123456789012 x\n", 100)) == render(std::vector<Frame>{{"123456789012 x", false}}));
  CHECK(render(frame_all("0 x\n", 100)) == render(std::vector<Frame>{{"0 x", false}}));  // MSG-LEN starts nonzero
  // Digits split across feeds, then text, with a tiny limit.
  Collector c(4);
  c.feed("123");
  c.feed("456abc\nok\n");
  c.finish();
  CHECK(render(c.frames) == render(std::vector<Frame>{{"1234", true}, {"ok", false}}));
}

TEST_CASE("framing: finish delivers a partial frame") {
  Collector lf(100);
  lf.feed("<13>Mar  1 12:00:00 host app: done\nparti");
  lf.feed("al\r");
  CHECK(lf.framer.buffered_bytes() == 8);
  lf.finish();
  CHECK(render(lf.frames) ==
        render(std::vector<Frame>{{"<13>Mar  1 12:00:00 host app: done", false}, {"partial", false}}));
  CHECK(lf.framer.buffered_bytes() == 0);

  Collector octet(100);
  octet.feed("10 abc");
  octet.finish();
  CHECK(render(octet.frames) == render(std::vector<Frame>{{"abc", true}}));

  Collector digits(100);
  digits.feed("42");
  digits.finish();
  CHECK(render(digits.frames) == render(std::vector<Frame>{{"42", false}}));

  Collector nothing(100);
  nothing.feed("5 hello\n");
  nothing.finish();
  nothing.finish();
  CHECK(render(nothing.frames) == render(std::vector<Frame>{{"hello", false}}));

  // After finish the framer starts a fresh stream.
  Collector reuse(100);
  reuse.feed("7 abc");
  reuse.finish();
  reuse.feed("x\n");
  reuse.finish();
  CHECK(render(reuse.frames) == render(std::vector<Frame>{{"abc", true}, {"x", false}}));
}

}  // namespace
}  // namespace sluice::server
