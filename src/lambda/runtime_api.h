#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/unique_fd.h"

// The server side of AWS's Lambda Runtime API (spec 7.6), as plain blocking-free pieces: an
// HTTP/1.1 request reader for one loopback connection (Beast's parser: Content-Length and
// chunked bodies, keep-alive) and the responses the runtime gets. environment.cc drives them
// with poll(); nothing here touches processes.
namespace salespipe::lambda {

// The largest response or error document a function may return (6 MB, as AWS).
inline constexpr size_t kMaxResponseBytes = 6 * 1024 * 1024;

// One event as /invocation/next hands it to the runtime.
struct InvocationEvent {
  std::string request_id;
  std::string_view payload;
  int64_t deadline_ms = 0;  // epoch milliseconds (Lambda-Runtime-Deadline-Ms)
  std::string invoked_function_arn;
  std::string trace_id;
  std::string client_context;  // JSON text (decoded from the caller's base64); may be empty
};

// A request the runtime made.
struct RuntimeApiRequest {
  enum class Route {
    kNext,       // GET  /2018-06-01/runtime/invocation/next
    kResponse,   // POST /2018-06-01/runtime/invocation/{id}/response
    kError,      // POST /2018-06-01/runtime/invocation/{id}/error
    kInitError,  // POST /2018-06-01/runtime/init/error
    kUnknown,    // anything else (404)
    kTooLarge,   // a body over kMaxResponseBytes (413, connection closed)
    kMalformed,  // not HTTP (400, connection closed)
  };
  Route route = Route::kUnknown;
  std::string request_id;  // kResponse, kError
  std::string body;
  std::string error_type;  // Lambda-Runtime-Function-Error-Type
};

// Reads requests from one accepted connection. Not thread-safe.
class RuntimeApiConnection {
 public:
  explicit RuntimeApiConnection(UniqueFd fd);
  ~RuntimeApiConnection();

  int fd() const { return fd_.get(); }
  bool closed() const { return !fd_.valid(); }

  // Reads what the socket holds now (non-blocking). Returns the next complete request, if any;
  // call again while it returns one (pipelined requests). Sets closed() at EOF or error.
  std::optional<RuntimeApiRequest> Read();
  // Writes `head` then `body` completely (one sendmsg when the socket takes it all); waits for
  // the socket to drain at most until `deadline`. Closes the connection and returns false on
  // failure.
  bool Write(std::string_view head, std::string_view body,
             std::chrono::steady_clock::time_point deadline);
  void Close() { fd_.Reset(); }

 private:
  struct Parser;
  std::optional<RuntimeApiRequest> Parse();

  UniqueFd fd_;
  std::string input_;  // bytes read but not yet parsed
  std::unique_ptr<Parser> parser_;
};

// The /invocation/next response carrying `event` (headers then the payload).
std::string NextResponseHead(const InvocationEvent& event);
// A small JSON response: 202 {"status":"OK"}, 400, 404, 413 with AWS's error bodies.
std::string AcceptedResponse();
std::string ErrorResponse(int status, std::string_view error_type, std::string_view message,
                          bool close);

}  // namespace salespipe::lambda
