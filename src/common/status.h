#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace salespipe {

// Canonical error codes. Each says whether and how a caller may retry.
// Engines return these only; services and http/ map them to AWS errors.
enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,     // bad request; never retry as is
  kNotFound,            // the named resource does not exist
  kAlreadyExists,       // the resource to create exists already
  kFailedPrecondition,  // wrong state (a condition failed); don't retry as is
  kAborted,             // conflict; redo the read-modify-write
  kUnavailable,         // retry the call
  kResourceExhausted,   // throttled or over a limit
  kOutOfRange,          // past the data (a trimmed iterator)
  kPermissionDenied,
  kUnauthenticated,
  kUnimplemented,
  kDeadlineExceeded,
  kInternal,            // a bug or corruption; details are logged, not shown
};

std::string_view ErrorCodeName(ErrorCode code);

// The outcome of an operation: OK, or a code, a client-visible message and an optional
// AWS error name (set by a service only where one code could mean several AWS errors).
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {ErrorCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {ErrorCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {ErrorCode::kAlreadyExists, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) {
    return {ErrorCode::kFailedPrecondition, std::move(msg)};
  }
  static Status Aborted(std::string msg) { return {ErrorCode::kAborted, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {ErrorCode::kUnavailable, std::move(msg)}; }
  static Status ResourceExhausted(std::string msg) {
    return {ErrorCode::kResourceExhausted, std::move(msg)};
  }
  static Status OutOfRange(std::string msg) { return {ErrorCode::kOutOfRange, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) {
    return {ErrorCode::kPermissionDenied, std::move(msg)};
  }
  static Status Unauthenticated(std::string msg) {
    return {ErrorCode::kUnauthenticated, std::move(msg)};
  }
  static Status Unimplemented(std::string msg) { return {ErrorCode::kUnimplemented, std::move(msg)}; }
  static Status Internal(std::string msg) { return {ErrorCode::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The AWS error name chosen by a service, or empty to use http/'s default for the code.
  const std::string& aws_code() const { return aws_code_; }

  Status&& WithAwsCode(std::string aws_code) && {
    aws_code_ = std::move(aws_code);
    return std::move(*this);
  }
  Status& WithAwsCode(std::string aws_code) & {
    aws_code_ = std::move(aws_code);
    return *this;
  }

  // Extra members for the JSON error body, as a JSON object text (e.g. DynamoDB's `Item` on a
  // failed condition or `CancellationReasons`). Empty when there are none.
  const std::string& details() const { return details_; }
  Status&& WithDetails(std::string json_object) && {
    details_ = std::move(json_object);
    return std::move(*this);
  }

  // Explicitly drops an error; callers say why in a comment.
  void IgnoreError() const {}

  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::string aws_code_;
  std::string details_;
};

// A T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Status status) : value_(std::in_place_index<1>, std::move(status)) {}  // NOLINT

  bool ok() const { return value_.index() == 0; }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<1>(value_);
  }
  Status TakeStatus() && { return ok() ? Status() : std::move(std::get<1>(value_)); }

  T& value() & { return std::get<0>(value_); }
  const T& value() const& { return std::get<0>(value_); }
  T&& value() && { return std::get<0>(std::move(value_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> value_;
};

namespace internal {
inline Status AsStatus(Status s) { return s; }
template <typename T>
Status AsStatus(Result<T>&& r) {
  return std::move(r).TakeStatus();
}
}  // namespace internal

}  // namespace salespipe

#define SALESPIPE_CONCAT_INNER(a, b) a##b
#define SALESPIPE_CONCAT(a, b) SALESPIPE_CONCAT_INNER(a, b)

// Returns the error of `expr` (a Status or a Result) from the enclosing function.
#define RETURN_IF_ERROR(expr)                                              \
  do {                                                                     \
    ::salespipe::Status _st = ::salespipe::internal::AsStatus((expr));     \
    if (!_st.ok()) return _st;                                             \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return std::move(tmp).TakeStatus(); \
  lhs = std::move(tmp).value()

// Evaluates `expr` (a Result<T>); on error returns it, else assigns the value to `lhs`.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(SALESPIPE_CONCAT(_result_, __LINE__), lhs, expr)
