// TextKeyAdder must put exactly the keys of the reference path
// (for_each_token, in_block_filter, text_token_hash) into a filter: filters
// on disk hold those, and a key that differed would be a missed event.
#include <doctest/doctest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/token_filter.h"

using namespace sluice::storage;

namespace {

// The serialized filters of one block's texts, both ways: equal bytes
// mean equal key sets (a filter's bits depend on nothing else).
struct Both {
  std::string reference, fast;
  size_t reference_keys = 0, fast_keys = 0;
};

Both filters_of(const std::vector<std::string>& texts, TextKeyAdder& adder) {
  BloomFilterBuilder reference, fast;
  std::string scratch;
  adder.clear();
  for (const std::string& text : texts) {
    for_each_token(text, scratch, [&](std::string_view token) {
      if (in_block_filter(token)) reference.add(text_token_hash(token));
    });
    adder.add(text, fast);
  }
  Both out;
  reference.finish(10, out.reference);
  fast.finish(10, out.fast);
  out.reference_keys = reference.distinct();
  out.fast_keys = fast.distinct();
  return out;
}

void check_same(const std::vector<std::string>& texts, TextKeyAdder& adder) {
  const Both both = filters_of(texts, adder);
  CHECK(both.fast_keys == both.reference_keys);
  CHECK(both.fast == both.reference);
}

}  // namespace

TEST_CASE("text keys: the reference tokenizer's keys") {
  TextKeyAdder adder;
  const std::vector<std::string> cases = {
      "",
      "a",
      "GET /index.html HTTP/1.1",
      " \t\n-/.,;:!?\"'()[]{}<>=+*&^%$#@~`|\\",
      "Failed password for Invalid_User root from 10.0.0.1 port 22 ssh2",
      "pid 12345 uid 1234 n 123456789012345678901234567890 x12345 12345x 00000 0000 99999999 999999999",
      "Grüße aus Köln ÄRGER 日本語 テスト \xff\xfe",
      "@[`{AZaz09_",
      R"({"timestamp":"2025-03-01T00:00:00.123456Z","host":"web-01","app":"nginx","pid":4242,"severity":"info","message":"10.1.2.3 - - \"GET /cart?id=77 HTTP/1.1\" 200 512 \"Mozilla/5.0 (X11; Linux x86_64)\" rt=0.123 req=9"})",
      std::string("ab\0CD\0\0e", 8),
  };
  for (const std::string& text : cases) {
    CAPTURE(text);
    check_same({text}, adder);
  }
  check_same(cases, adder);
  // A key seen in one block is added again in the next.
  check_same({"alpha beta"}, adder);
  check_same({"alpha beta"}, adder);
}

TEST_CASE("text keys: tokens across 64-byte windows, at the ends, and long") {
  TextKeyAdder adder;
  for (size_t length = 1; length < 150; ++length) {
    for (size_t gap : {0, 1, 7, 63, 64, 65}) {
      std::string text(gap, ' ');
      for (size_t i = 0; i < length; ++i) text.push_back("aB3_\x80z"[i % 6]);
      const std::string digits = std::string(gap, '.') + std::string(length, '7');
      CAPTURE(length);
      CAPTURE(gap);
      check_same({text + " tail"}, adder);
      check_same({text}, adder);  // a token that ends the text
      check_same({digits}, adder);
    }
  }
}

TEST_CASE("text keys: random bytes and random words, many per block") {
  std::mt19937_64 rng(7);
  const std::string alphabet = "abcXYZ0123456789_ -./:\"\\{}\x80\xc3\xa9\t";
  TextKeyAdder adder;
  for (int block = 0; block < 40; ++block) {
    std::vector<std::string> texts;
    for (int line = 0; line < 300; ++line) {
      std::string text;
      const size_t length = rng() % 300;
      const bool bytes = line % 3 == 0;
      for (size_t i = 0; i < length; ++i) {
        text.push_back(bytes ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()]);
      }
      texts.push_back(std::move(text));
    }
    CAPTURE(block);
    check_same(texts, adder);
  }
}

namespace {

std::set<std::string> token_set(std::string_view text) {
  std::set<std::string> out;
  std::string scratch;
  for_each_token(text, scratch, [&](std::string_view token) { out.emplace(token); });
  return out;
}

// `text` as the body of a JSON string, escaping what JSON requires; `slash`
// also escapes '/' (some encoders do).
std::string json_escaped(std::string_view text, bool slash) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\' || (slash && c == '/')) out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

TEST_CASE("tokens_within: JSON escapes of separators keep a message's words the line's") {
  const std::string message = R"(10.1.2.3 - - "GET /cart?id=7 HTTP/1.1" 200 "curl/8" \x)";
  for (bool slash : {false, true}) {
    const std::string line = R"({"host":"h","message":")" + json_escaped(message, slash) + R"("})";
    CAPTURE(line);
    CHECK(tokens_within(line, message));
  }
  CHECK(tokens_within("abc def", "abc def"));
  CHECK(tokens_within("x abc def y", "abc def"));
  CHECK(tokens_within("anything", ""));
  // Inside a longer token at either end: not the line's tokens.
  CHECK_FALSE(tokens_within("xabc def", "abc def"));
  CHECK_FALSE(tokens_within("abc defx", "abc def"));
  // Other escapes (a newline) are not followed.
  CHECK_FALSE(tokens_within(R"({"m":"a\nb"})", "a\nb"));
  CHECK_FALSE(tokens_within("abc", "abd"));
  CHECK_FALSE(tokens_within("abc", "\"abc\""));  // starts with an escapable byte: not looked for
}

TEST_CASE("tokens_within: when it says yes, every token of the text is one of the line") {
  std::mt19937_64 rng(11);
  const std::string alphabet = "ab XY_09\"\\/.-\n\xc3\xa9";
  size_t yes = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const size_t length = 1 + rng() % 40;
    for (size_t i = 0; i < length; ++i) text.push_back(alphabet[rng() % alphabet.size()]);
    std::string line;
    switch (round % 3) {
      case 0: line = "{\"m\":\"" + json_escaped(text, round % 2 == 0) + "\"}"; break;
      case 1: line = "zz" + json_escaped(text, false) + "q"; break;  // glued to tokens
      default:
        for (size_t i = 0; i < 60; ++i) line.push_back(alphabet[rng() % alphabet.size()]);
    }
    if (!tokens_within(line, text)) continue;
    ++yes;
    const std::set<std::string> in_line = token_set(line);
    for (const std::string& token : token_set(text)) {
      CAPTURE(line);
      CAPTURE(text);
      CHECK(in_line.count(token) == 1);
    }
  }
  CHECK(yes > 1000);  // the cases it must find are found often enough to test the rule
}
