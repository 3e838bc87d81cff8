// Expected<T>: a value or a failed Status. GCC 12's C++20 library has no
// std::expected, so this provides the subset we use, spelled the same way.
#pragma once

#include <utility>
#include <variant>

#include "server/base/assert.h"
#include "server/base/status.h"

namespace sluice {

template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Expected(Status error) : state_(std::move(error)) {  // NOLINT: implicit by design
    SLUICE_ASSERT(!std::get<Status>(state_).is_ok(), "Expected built from an OK status");
  }

  bool has_value() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    SLUICE_ASSERT(has_value(), "value() on an error");
    return std::get<T>(state_);
  }
  T&& value() && {
    SLUICE_ASSERT(has_value(), "value() on an error");
    return std::get<T>(std::move(state_));
  }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }

  const Status& error() const {
    SLUICE_ASSERT(!has_value(), "error() on a value");
    return std::get<Status>(state_);
  }

 private:
  std::variant<T, Status> state_;
};

}  // namespace sluice
