// Status and Result<T>: the one error type of driftwatch.
//
// Every fallible function returns a Status or a Result<T>; both are
// [[nodiscard]]. A Status carries a code and a message that already names its
// context (the path, FILE:LINE:COL, the request field), so callers print it
// as is. errno values become text in exactly one place: ErrnoStatus().
//
// Thread-safety: value types, safe to copy between threads.
#ifndef DRIFTWATCH_CORE_STATUS_H_
#define DRIFTWATCH_CORE_STATUS_H_

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace driftwatch {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad input from a user: rules, flags, requests
  kNotFound,         // ENOENT and friends, or a missing named object
  kAlreadyExists,
  kPermissionDenied,   // EACCES / EPERM
  kIoError,            // any other OS error
  kCorruption,         // a stored or parsed format that is not what it claims
  kUnsupported,        // a format version or feature this build does not know
  kResourceExhausted,  // ENOSPC, caps on sizes and depths
  kUnavailable,        // a peer (collector) could not be reached; retryable
  kInternal,
  kFailedPrecondition,  // the object is not in the state the operation needs
                        // (a command acknowledged before it was handed out)
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "message" for errors, "ok" for success.
  std::string ToString() const { return ok() ? std::string("ok") : message_; }

  // Returns a copy whose message is "prefix: message".
  Status WithContext(std::string_view prefix) const;

  // Marks a deliberately ignored status (for best-effort cleanup paths).
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Builds a Status from an errno value: "context: strerror(err)", with the
// code chosen from err (ENOENT -> kNotFound, EACCES -> kPermissionDenied,
// ENOSPC -> kResourceExhausted, ...).
Status ErrnoStatus(std::string_view context, int err);

// Holds either a T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace driftwatch

// Returns early from the enclosing function when `expr` is not ok.
#define DW_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::driftwatch::Status dw_status_ = (expr); \
    if (!dw_status_.ok()) return dw_status_;  \
  } while (0)

#define DW_CONCAT_INNER_(a, b) a##b
#define DW_CONCAT_(a, b) DW_CONCAT_INNER_(a, b)
#define DW_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

// `DW_ASSIGN_OR_RETURN(auto x, Foo());` assigns the value or returns the error.
#define DW_ASSIGN_OR_RETURN(lhs, expr) \
  DW_ASSIGN_OR_RETURN_IMPL_(DW_CONCAT_(dw_result_, __LINE__), lhs, expr)

#endif  // DRIFTWATCH_CORE_STATUS_H_
