#include "parsers/condition.h"

#include <re2/re2.h>

#include <charconv>
#include <string>
#include <utility>

#include "parsers/json_event.h"  // severity_from_text
#include "server/base/assert.h"

namespace sluice::parsers {

struct Condition::Operand {
  enum class Kind : uint8_t { kString, kNumber, kMessage, kHost, kApp, kSeverity, kFacility, kInput, kField };
  Kind kind = Kind::kString;
  std::string text;   // literal text, or the field name of kField
  double number = 0;  // kNumber
  int column = 0;
  bool bare = false;  // a kField written as a bare NAME (not fields.NAME or [NAME])

  bool is_literal() const { return kind == Kind::kString || kind == Kind::kNumber; }
};

struct Condition::Node {
  enum class Op : uint8_t {
    kAnd, kOr, kNot, kExists,
    kEq, kNe, kLt, kLe, kGt, kGe, kMatch, kNotMatch, kIn, kNotIn,
  };
  Op op = Op::kAnd;
  int32_t left = -1;   // child node (and/or/not) or operand (comparisons, exists)
  int32_t right = -1;
  int32_t regex = -1;  // kMatch/kNotMatch: index into the regexes
  bool numeric = false;  // kEq/kNe compare numbers
};

namespace {

using Operand = Condition::Operand;
using Node = Condition::Node;
using Op = Node::Op;
using Kind = Operand::Kind;

// Parentheses and `not` nest this deep at most: the parser and evaluator
// recurse, and no sensible condition comes close.
constexpr int kMaxDepth = 64;

std::string column_error(int column, std::string_view message) {
  std::string out = "column " + std::to_string(column) + ": ";
  out += message;
  return out;
}

bool parse_number(std::string_view text, double& out) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), out);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

uint8_t facility_from_text(std::string_view text) {
  double number = 0;
  if (parse_number(text, number)) {
    return number >= 0 && number <= 23 && number == static_cast<int>(number) ? static_cast<uint8_t>(number)
                                                                              : kUnknownFacility;
  }
  for (uint8_t code = 0; code < 24; ++code) {
    if (iequals(text, facility_name(code))) return code;
  }
  return kUnknownFacility;
}

// ---------------------------------------------------------------- lexer

enum class Tok : uint8_t {
  kEnd, kLParen, kRParen, kString, kNumber, kName, kBracketName,
  kEq, kNe, kMatch, kNotMatch, kLt, kLe, kGt, kGe, kAnd, kOr, kNot,
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // names, unescaped strings, numbers, operator spelling
  int column = 0;
};

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '@';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

Expected<std::vector<Token>> lex(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (true) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    Token token;
    token.column = static_cast<int>(i) + 1;
    if (i == text.size()) {
      tokens.push_back(std::move(token));
      return tokens;
    }
    const char c = text[i];
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    auto op = [&](Tok kind, size_t length) {
      token.kind = kind;
      token.text = std::string(text.substr(i, length));
      i += length;
    };
    if (c == '(') {
      op(Tok::kLParen, 1);
    } else if (c == ')') {
      op(Tok::kRParen, 1);
    } else if (c == '=' && next == '=') {
      op(Tok::kEq, 2);
    } else if (c == '=' && next == '~') {
      op(Tok::kMatch, 2);
    } else if (c == '!' && next == '=') {
      op(Tok::kNe, 2);
    } else if (c == '!' && next == '~') {
      op(Tok::kNotMatch, 2);
    } else if (c == '!') {
      op(Tok::kNot, 1);
    } else if (c == '<') {
      next == '=' ? op(Tok::kLe, 2) : op(Tok::kLt, 1);
    } else if (c == '>') {
      next == '=' ? op(Tok::kGe, 2) : op(Tok::kGt, 1);
    } else if (c == '&' && next == '&') {
      op(Tok::kAnd, 2);
    } else if (c == '|' && next == '|') {
      op(Tok::kOr, 2);
    } else if (c == '"' || c == '\'') {
      const char quote = c;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == quote || text[i + 1] == '\\')) {
          token.text += text[i + 1];
          i += 2;
        } else if (text[i] == quote) {
          ++i;
          closed = true;
          break;
        } else {
          token.text += text[i++];
        }
      }
      if (!closed) return Status::error(column_error(token.column, "unterminated string"));
      token.kind = Tok::kString;
    } else if (is_digit(c) || (c == '-' && is_digit(next))) {
      size_t end = i + 1;
      while (end < text.size() && is_digit(text[end])) ++end;
      if (end + 1 < text.size() && text[end] == '.' && is_digit(text[end + 1])) {
        end += 2;
        while (end < text.size() && is_digit(text[end])) ++end;
      }
      if (end < text.size() && is_name_char(text[end])) {
        return Status::error(column_error(token.column, "invalid number \"" +
                                                            std::string(text.substr(i, end + 1 - i)) + "\""));
      }
      op(Tok::kNumber, end - i);
    } else if (is_name_start(c)) {
      size_t end = i + 1;
      while (end < text.size() && is_name_char(text[end])) ++end;
      op(Tok::kName, end - i);
    } else if (c == '[') {
      // Logstash's [a][b] field references.
      while (i < text.size() && text[i] == '[') {
        const size_t close = text.find(']', i + 1);
        if (close == std::string_view::npos || close == i + 1) {
          return Status::error(column_error(static_cast<int>(i) + 1, "expected a field name and ] after ["));
        }
        if (!token.text.empty()) token.text += '.';
        token.text += text.substr(i + 1, close - i - 1);
        i = close + 1;
      }
      token.kind = Tok::kBracketName;
    } else {
      return Status::error(column_error(token.column, std::string("unexpected character '") + c + "'"));
    }
    tokens.push_back(std::move(token));
  }
}

std::string_view op_spelling(Op op) {
  switch (op) {
    case Op::kEq: return "==";
    case Op::kNe: return "!=";
    case Op::kLt: return "<";
    case Op::kLe: return "<=";
    case Op::kGt: return ">";
    case Op::kGe: return ">=";
    case Op::kMatch: return "=~";
    case Op::kNotMatch: return "!~";
    case Op::kIn: return "in";
    case Op::kNotIn: return "not in";
    default: return "?";
  }
}

bool is_keyword(const Token& token, std::string_view word) {
  return token.kind == Tok::kName && token.text == word;
}

}  // namespace

// ---------------------------------------------------------------- parser

class ConditionParser {
 public:
  ConditionParser(std::vector<Token> tokens, Condition& out) : tokens_(std::move(tokens)), out_(out) {}

  Status parse() {
    if (peek().kind == Tok::kEnd) return error(peek().column, "expected a condition");
    int32_t root = -1;
    if (Status status = parse_or(0, root); !status) return status;
    if (peek().kind != Tok::kEnd) {
      return error(peek().column, "expected and, or, ) or the end of the condition");
    }
    out_.root_ = root;
    return Status::ok();
  }

 private:
  const Token& peek(size_t ahead = 0) const {
    const size_t index = pos_ + ahead;
    return index < tokens_.size() ? tokens_[index] : tokens_.back();
  }
  const Token& take() {
    const Token& token = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return token;
  }
  static Status error(int column, std::string_view message) {
    return Status::error(column_error(column, message));
  }

  int32_t add_node(Node node) {
    out_.nodes_.push_back(node);
    return static_cast<int32_t>(out_.nodes_.size() - 1);
  }
  int32_t add_operand(Operand operand) {
    out_.operands_.push_back(std::move(operand));
    return static_cast<int32_t>(out_.operands_.size() - 1);
  }

  Status parse_or(int depth, int32_t& result) {
    if (Status status = parse_and(depth, result); !status) return status;
    while (peek().kind == Tok::kOr || is_keyword(peek(), "or")) {
      take();
      int32_t right = -1;
      if (Status status = parse_and(depth, right); !status) return status;
      result = add_node(Node{Op::kOr, result, right});
    }
    return Status::ok();
  }

  Status parse_and(int depth, int32_t& result) {
    if (Status status = parse_unary(depth, result); !status) return status;
    while (peek().kind == Tok::kAnd || is_keyword(peek(), "and")) {
      take();
      int32_t right = -1;
      if (Status status = parse_unary(depth, right); !status) return status;
      result = add_node(Node{Op::kAnd, result, right});
    }
    return Status::ok();
  }

  Status parse_unary(int depth, int32_t& result) {
    if (depth > kMaxDepth) return error(peek().column, "conditions nest at most 64 deep");
    const Token& token = peek();
    if (token.kind == Tok::kNot || is_keyword(token, "not")) {
      take();
      int32_t child = -1;
      if (Status status = parse_unary(depth + 1, child); !status) return status;
      result = add_node(Node{Op::kNot, child});
      return Status::ok();
    }
    if (token.kind == Tok::kLParen) {
      const int open_column = token.column;
      take();
      if (Status status = parse_or(depth + 1, result); !status) return status;
      if (peek().kind != Tok::kRParen) {
        return error(peek().column, "expected ) to close the ( at column " + std::to_string(open_column));
      }
      take();
      return Status::ok();
    }
    if (is_keyword(token, "exists") && peek(1).kind == Tok::kLParen) return parse_exists(result);
    return parse_comparison(result);
  }

  Status parse_exists(int32_t& result) {
    take();  // exists
    take();  // (
    Operand operand;
    const Token& name = peek();
    if (!reference(name, operand)) return error(name.column, "expected a field name in exists()");
    take();
    if (peek().kind != Tok::kRParen) return error(peek().column, "expected ) after exists(" + name.text);
    take();
    result = add_node(Node{Op::kExists, add_operand(std::move(operand))});
    return Status::ok();
  }

  // A field or slot reference from a name token; false if it is none.
  static bool reference(const Token& token, Operand& operand) {
    operand.column = token.column;
    if (token.kind == Tok::kBracketName) {
      operand.kind = Kind::kField;
      operand.text = token.text;
      return true;
    }
    if (token.kind != Tok::kName) return false;
    const std::string& name = token.text;
    if (name == "and" || name == "or" || name == "not" || name == "in" || name == "exists") return false;
    if (name == "message") {
      operand.kind = Kind::kMessage;
    } else if (name == "host") {
      operand.kind = Kind::kHost;
    } else if (name == "app") {
      operand.kind = Kind::kApp;
    } else if (name == "severity") {
      operand.kind = Kind::kSeverity;
    } else if (name == "facility") {
      operand.kind = Kind::kFacility;
    } else if (name == "input") {
      operand.kind = Kind::kInput;
    } else if (name.starts_with("fields.")) {
      if (name.size() == 7) return false;
      operand.kind = Kind::kField;
      operand.text = name.substr(7);
    } else {
      operand.kind = Kind::kField;
      operand.text = name;
      operand.bare = true;
    }
    return true;
  }

  Status parse_value(std::string_view what, Operand& operand) {
    const Token& token = peek();
    operand.column = token.column;
    if (token.kind == Tok::kString) {
      operand.kind = Kind::kString;
      operand.text = token.text;
    } else if (token.kind == Tok::kNumber) {
      operand.kind = Kind::kNumber;
      operand.text = token.text;
      if (!parse_number(token.text, operand.number)) return error(token.column, "invalid number");
    } else if (!reference(token, operand)) {
      return error(token.column, what);
    }
    take();
    return Status::ok();
  }

  Status parse_comparison(int32_t& result) {
    Operand left;
    if (Status status = parse_value("expected a field, string or number", left); !status) return status;
    const Token& op_token = peek();
    Node node;
    switch (op_token.kind) {
      case Tok::kEq: node.op = Op::kEq; break;
      case Tok::kNe: node.op = Op::kNe; break;
      case Tok::kLt: node.op = Op::kLt; break;
      case Tok::kLe: node.op = Op::kLe; break;
      case Tok::kGt: node.op = Op::kGt; break;
      case Tok::kGe: node.op = Op::kGe; break;
      case Tok::kMatch: node.op = Op::kMatch; break;
      case Tok::kNotMatch: node.op = Op::kNotMatch; break;
      default:
        if (is_keyword(op_token, "in")) {
          node.op = Op::kIn;
        } else if (is_keyword(op_token, "not") && is_keyword(peek(1), "in")) {
          node.op = Op::kNotIn;
          take();
        } else {
          return error(op_token.column,
                       "expected a comparison (==, !=, =~, !~, <, <=, >, >=, in) after " + describe(left));
        }
    }
    take();
    const std::string after = "after " + std::string(op_spelling(node.op));
    if (node.op == Op::kMatch || node.op == Op::kNotMatch) {
      const Token& pattern = peek();
      if (pattern.kind != Tok::kString) return error(pattern.column, "expected a string " + after);
      RE2::Options options;
      options.set_log_errors(false);
      auto regex = std::make_unique<RE2>(pattern.text, options);
      if (!regex->ok()) {
        return error(pattern.column, "invalid regular expression \"" + pattern.text + "\": " + regex->error());
      }
      take();
      node.regex = static_cast<int32_t>(out_.regexes_.size());
      out_.regexes_.push_back(std::move(regex));
      node.left = add_operand(std::move(left));
      result = add_node(node);
      return Status::ok();
    }
    Operand right;
    if (Status status = parse_value("expected a field, string or number " + after, right); !status) return status;
    if (left.is_literal() && right.is_literal()) {
      return error(left.column, "compares two constants; one side of " + std::string(op_spelling(node.op)) +
                                    " must be a field");
    }
    if (node.op != Op::kIn && node.op != Op::kNotIn) {
      if (Status status = fix_enum_literal(left, right); !status) return status;
      if (Status status = fix_enum_literal(right, left); !status) return status;
    }
    const bool ordering = node.op == Op::kLt || node.op == Op::kLe || node.op == Op::kGt || node.op == Op::kGe;
    if (ordering) {
      for (Operand* side : {&left, &right}) {
        if (side->kind == Kind::kString) {
          if (!parse_number(side->text, side->number)) {
            return error(side->column, "expected a number " + after);
          }
          side->kind = Kind::kNumber;
        }
      }
    }
    auto numeric = [](const Operand& o) {
      return o.kind == Kind::kNumber || o.kind == Kind::kSeverity || o.kind == Kind::kFacility;
    };
    node.numeric = numeric(left) || numeric(right);
    node.left = add_operand(std::move(left));
    node.right = add_operand(std::move(right));
    result = add_node(node);
    return Status::ok();
  }

  // `severity == "err"`, `severity <= warning`, `facility == local0`: the
  // name becomes its number when the condition is compiled.
  static Status fix_enum_literal(const Operand& enum_side, Operand& other) {
    if (enum_side.kind != Kind::kSeverity && enum_side.kind != Kind::kFacility) return Status::ok();
    const bool severity = enum_side.kind == Kind::kSeverity;
    std::string_view name;
    if (other.kind == Kind::kString) {
      name = other.text;
    } else if (other.kind == Kind::kField && other.bare) {
      // A bare name that is a severity/facility name; other fields stay fields.
      const uint8_t code = severity ? severity_from_text(other.text) : facility_from_text(other.text);
      if (code == (severity ? kUnknownSeverity : kUnknownFacility)) return Status::ok();
      name = other.text;
    } else {
      return Status::ok();
    }
    const uint8_t code = severity ? severity_from_text(name) : facility_from_text(name);
    if (code == (severity ? kUnknownSeverity : kUnknownFacility)) {
      return error(other.column, std::string("unknown ") + (severity ? "severity" : "facility") + " \"" +
                                     std::string(name) + "\" (expected " +
                                     (severity ? "0-7 or emerg, alert, crit, err, warning, notice, info, debug"
                                               : "0-23 or kern, user, ..., local7") +
                                     ")");
    }
    other.kind = Kind::kNumber;
    other.number = code;
    other.text = std::to_string(code);
    return Status::ok();
  }

  static std::string describe(const Operand& operand) {
    switch (operand.kind) {
      case Kind::kString: return "\"" + operand.text + "\"";
      case Kind::kNumber: return operand.text;
      case Kind::kMessage: return "message";
      case Kind::kHost: return "host";
      case Kind::kApp: return "app";
      case Kind::kSeverity: return "severity";
      case Kind::kFacility: return "facility";
      case Kind::kInput: return "input";
      case Kind::kField: return operand.text;
    }
    return "?";
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  Condition& out_;
};

// ---------------------------------------------------------------- Condition

ConditionScratch::ConditionScratch() = default;
ConditionScratch::~ConditionScratch() = default;
ConditionScratch::ConditionScratch(ConditionScratch&&) noexcept = default;
ConditionScratch& ConditionScratch::operator=(ConditionScratch&&) noexcept = default;

Condition::Condition() = default;
Condition::~Condition() = default;
Condition::Condition(Condition&&) noexcept = default;
Condition& Condition::operator=(Condition&&) noexcept = default;

Expected<Condition> Condition::compile(std::string_view text) {
  auto tokens = lex(text);
  if (!tokens) return tokens.error();
  Condition condition;
  condition.text_ = std::string(text);
  ConditionParser parser(std::move(*tokens), condition);
  if (Status status = parser.parse(); !status) return status;
  return condition;
}

std::unique_ptr<ConditionScratch> Condition::make_scratch() const {
  auto scratch = std::make_unique<ConditionScratch>();
  scratch->regexes_.reserve(regexes_.size());
  for (const auto& regex : regexes_) {
    scratch->regexes_.push_back(std::make_unique<RE2>(regex->pattern(), regex->options()));
  }
  return scratch;
}

bool Condition::evaluate(const EventContext& context, ConditionScratch& scratch) const {
  if (root_ < 0) return true;
  SLUICE_ASSERT(scratch.regexes_.size() == regexes_.size(), "a ConditionScratch from another condition");
  return eval_node(root_, context, scratch.regexes_);
}

bool Condition::evaluate(const EventContext& context) const {
  if (root_ < 0) return true;
  return eval_node(root_, context, regexes_);
}

namespace {

// One value of an operand; the number is parsed from the text on demand.
struct Value {
  std::string_view text;
  double number = 0;
  enum class NumberState : uint8_t { kUnparsed, kYes, kNo } state = NumberState::kUnparsed;

  bool get_number(double& out) {
    if (state == NumberState::kUnparsed) state = parse_number(text, number) ? NumberState::kYes : NumberState::kNo;
    out = number;
    return state == NumberState::kYes;
  }
};

Value text_value(std::string_view text) { return Value{text}; }
Value number_value(std::string_view text, double number) { return Value{text, number, Value::NumberState::kYes}; }

// Calls `visit(Value)` on each value of `operand` until it returns true;
// returns whether one did. A missing field or empty slot has no value.
template <typename Visit>
bool any_value(const Operand& operand, const EventContext& context, Visit&& visit) {
  const Event& event = context.event;
  switch (operand.kind) {
    case Kind::kString: return visit(text_value(operand.text));
    case Kind::kNumber: return visit(number_value(operand.text, operand.number));
    case Kind::kMessage: return !event.message.empty() && visit(text_value(event.message));
    case Kind::kHost: return !event.host.empty() && visit(text_value(event.host));
    case Kind::kApp: return !event.app.empty() && visit(text_value(event.app));
    case Kind::kSeverity:
      return event.severity < 8 && visit(number_value(severity_name(event.severity), event.severity));
    case Kind::kFacility:
      return event.facility < 24 && visit(number_value(facility_name(event.facility), event.facility));
    case Kind::kInput:
      return visit(number_value(input_name(event.input), static_cast<double>(static_cast<uint8_t>(event.input))));
    case Kind::kField: {
      const Field* fields = context.batch.fields.data() + event.first_field;
      for (uint32_t i = 0; i < event.field_count; ++i) {
        if (fields[i].name == operand.text && visit(text_value(fields[i].value))) return true;
      }
      return false;
    }
  }
  return false;
}

bool compare(Op op, bool numeric, Value& left, Value& right) {
  double a = 0, b = 0;
  switch (op) {
    case Op::kEq:
      if (numeric && left.get_number(a) && right.get_number(b)) return a == b;
      return left.text == right.text;
    case Op::kLt: return left.get_number(a) && right.get_number(b) && a < b;
    case Op::kLe: return left.get_number(a) && right.get_number(b) && a <= b;
    case Op::kGt: return left.get_number(a) && right.get_number(b) && a > b;
    case Op::kGe: return left.get_number(a) && right.get_number(b) && a >= b;
    case Op::kIn: return right.text.find(left.text) != std::string_view::npos;
    default: return false;
  }
}

}  // namespace

bool Condition::eval_node(int32_t index, const EventContext& context,
                          const std::vector<std::unique_ptr<RE2>>& regexes) const {
  const Node& node = nodes_[static_cast<size_t>(index)];
  switch (node.op) {
    case Op::kAnd: return eval_node(node.left, context, regexes) && eval_node(node.right, context, regexes);
    case Op::kOr: return eval_node(node.left, context, regexes) || eval_node(node.right, context, regexes);
    case Op::kNot: return !eval_node(node.left, context, regexes);
    case Op::kExists:
      return any_value(operands_[static_cast<size_t>(node.left)], context, [](const Value&) { return true; });
    default: return eval_comparison(node, context, regexes);
  }
}

bool Condition::eval_comparison(const Node& node, const EventContext& context,
                                const std::vector<std::unique_ptr<RE2>>& regexes) const {
  const Operand& left = operands_[static_cast<size_t>(node.left)];
  if (node.op == Op::kMatch || node.op == Op::kNotMatch) {
    const RE2& regex = *regexes[static_cast<size_t>(node.regex)];
    const bool matched = any_value(left, context, [&](const Value& value) {
      return RE2::PartialMatch(re2::StringPiece(value.text.data(), value.text.size()), regex);
    });
    return node.op == Op::kMatch ? matched : !matched;
  }
  Op positive = node.op;
  bool negate = false;
  if (node.op == Op::kNe) {
    positive = Op::kEq;
    negate = true;
  } else if (node.op == Op::kNotIn) {
    positive = Op::kIn;
    negate = true;
  }
  const Operand& right = operands_[static_cast<size_t>(node.right)];
  const bool any = any_value(left, context, [&](Value left_value) {
    return any_value(right, context, [&](Value right_value) {
      return compare(positive, node.numeric, left_value, right_value);
    });
  });
  return negate ? !any : any;
}

}  // namespace sluice::parsers
