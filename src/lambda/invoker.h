#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/status.h"

// The seam between the engines that call functions (delivery/ for Firehose transforms, event
// source mappings) and the engine that runs them (lambda/). Header-only so that a caller can
// be built and tested with a fake before the runner exists.
namespace salespipe::lambda {

// How a function is invoked (Lambda's X-Amz-Invocation-Type).
enum class InvocationType {
  kRequestResponse,  // run now, wait for the result
  kEvent,            // queue, return at once (no result)
  kDryRun,           // check the function could be invoked, run nothing
};

struct InvokeRequest {
  // A function name, a partial ARN ("<account>:function:<name>") or a full ARN, optionally with
  // ":<qualifier>" (a version or an alias), as the Lambda API accepts in FunctionName.
  std::string function;
  std::string qualifier;  // the separate Qualifier, if any ("" = unqualified)
  std::string account_id = "000000000000";
  std::string region = "us-east-1";
  InvocationType type = InvocationType::kRequestResponse;
  std::string payload;         // the event, JSON text
  std::string client_context;  // base64 (X-Amz-Client-Context), may be empty
  bool tail_logs = false;      // LogType Tail: return the last 4 KB of the logs
  // The payload was written by salespipe itself (Firehose's transform events, event source
  // mappings' batches), so it is not parsed again to validate it.
  bool payload_is_valid_json = false;
};

// The result of an invocation that ran (or was queued). A function error is a successful
// invocation whose `function_error` is set, exactly as Lambda reports it with HTTP 200.
struct InvokeResult {
  std::string payload;  // the function's response (or its error document), JSON text
  // "Unhandled" (exception, timeout, crash, init failure) or "Handled"; nullopt on success.
  std::optional<std::string> function_error;
  std::string executed_version = "$LATEST";
  std::string request_id;
  std::string log_tail;  // base64 of the last 4 KB of logs when tail_logs; else empty
  std::chrono::microseconds duration{0};  // the handler's own time as the runtime reported it
};

// Runs functions. Implementations are thread-safe; Invoke may block for up to the function's
// timeout (kRequestResponse) and must not be called on an io thread.
class Invoker {
 public:
  virtual ~Invoker() = default;

  // Errors (each maps to the Lambda error the API returns):
  //   kNotFound            the function (or qualifier) does not exist (ResourceNotFoundException)
  //   kInvalidArgument     the payload is not JSON (InvalidRequestContentException)
  //   kResourceExhausted   the function's concurrency and queue are full (TooManyRequests)
  //   kFailedPrecondition  the function cannot run now (ResourceConflictException)
  //   kInternal            the platform failed (ServiceException)
  virtual Result<InvokeResult> Invoke(const InvokeRequest& request) = 0;
};

}  // namespace salespipe::lambda
