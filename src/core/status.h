#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace lakeml::core {

// Canonical error codes (Abseil style). src/server maps each to an MLflow error_code and HTTP
// status; nothing else should depend on that mapping.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kAborted,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kUnavailable,
  kDeadlineExceeded,
  kUnimplemented,
  kDataLoss,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

// The outcome of an operation: OK, or a code plus a lower-case message naming the object.
// Cheap to copy when OK. Thread-compatible.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  // Explicitly drops a status whose failure is acceptable (documented at the call site).
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename... Args>
Status InvalidArgument(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kInvalidArgument, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status NotFound(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kNotFound, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status AlreadyExists(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kAlreadyExists, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status FailedPrecondition(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kFailedPrecondition, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status Aborted(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kAborted, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status Unavailable(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kUnavailable, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status Unimplemented(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kUnimplemented, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status ResourceExhausted(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kResourceExhausted, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status PermissionDenied(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kPermissionDenied, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status DataLoss(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kDataLoss, fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Status Internal(fmt::format_string<Args...> f, Args&&... args) {
  return {StatusCode::kInternal, fmt::format(f, std::forward<Args>(args)...)};
}

// A value or an error Status. Construct from T or from a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return status_.ok(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  // Precondition: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  // By value, so `for (auto& x : F().value())` does not dangle once the temporary dies.
  T value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace lakeml::core

#define LAKEML_CONCAT_INNER_(a, b) a##b
#define LAKEML_CONCAT_(a, b) LAKEML_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define LAKEML_RETURN_IF_ERROR(expr)                   \
  do {                                                 \
    ::lakeml::core::Status lakeml_status_ = (expr);    \
    if (!lakeml_status_.ok()) return lakeml_status_;   \
  } while (false)

// `LAKEML_ASSIGN_OR_RETURN(auto x, F());` declares x from F()'s value or returns its Status.
#define LAKEML_ASSIGN_OR_RETURN(lhs, expr) \
  LAKEML_ASSIGN_OR_RETURN_IMPL_(LAKEML_CONCAT_(lakeml_result_, __LINE__), lhs, expr)
#define LAKEML_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                                  \
  if (!result.ok()) return std::move(result).status();   \
  lhs = std::move(result).value()

// Guards internal invariants only, never user input: aborts with a message.
#define LAKEML_CHECK(cond)                                                                   \
  do {                                                                                       \
    if (!(cond)) ::lakeml::core::internal::CheckFailed(#cond, __FILE__, __LINE__);           \
  } while (false)

namespace lakeml::core::internal {
[[noreturn]] void CheckFailed(const char* condition, const char* file, int line);
}  // namespace lakeml::core::internal
