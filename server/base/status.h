// Status: the error vocabulary at every module boundary.
//
// A Status is either OK or carries one human-readable message that says what
// failed, on what, and why. Callers add context on the way up with
// `with_context("flush block")`, producing "flush block: rocksdb: IO error".
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace sluice {

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message), true); }

  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with `context: `; an OK status stays OK.
  Status with_context(std::string_view context) const {
    if (!failed_) return *this;
    std::string prefixed(context);
    prefixed += ": ";
    prefixed += message_;
    return Status(std::move(prefixed), true);
  }

  // Spelled out so that deliberately ignored errors can be found with grep.
  void ignore_error() const {}

 private:
  Status(std::string message, bool failed) : message_(std::move(message)), failed_(failed) {}
  std::string message_;
  bool failed_ = false;
};

}  // namespace sluice
