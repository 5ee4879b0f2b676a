// core/base/result.hpp: expected failures as values.
//
// The core reports what can go wrong with its input (a bad configuration
// line, an expansion that fails, a lookup that defers) as a Result<T>: a
// value or an Error. Exceptions are kept for bugs and exhaustion.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace tern {

// What went wrong, in words a user can act on. `kind` separates the
// outcomes that callers treat differently (Exim's forced failure and
// deferred lookups are not ordinary errors).
struct Error {
  enum class Kind {
    kFailed,      // an ordinary failure; message says why
    kForcedFail,  // the configuration asked for failure (`fail`)
    kDefer,       // temporary: a lookup or server could not answer now
  };
  Kind kind = Kind::kFailed;
  std::string message;

  static Error failed(std::string m) { return {Kind::kFailed, std::move(m)}; }
  static Error forced(std::string m) { return {Kind::kForcedFail, std::move(m)}; }
  static Error defer(std::string m) { return {Kind::kDefer, std::move(m)}; }
  bool is_defer() const { return kind == Kind::kDefer; }
  bool is_forced() const { return kind == Kind::kForcedFail; }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }
  Error&& take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  Error&& take_error() { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace tern
