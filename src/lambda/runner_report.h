#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "lambda/environment.h"
#include "lambda/runner.h"

// What the runner reports about an invocation: AWS's error documents, the platform's log
// lines (START / END / REPORT) and the X-Ray-style trace id. Pure functions; used by runner.cc.
namespace salespipe::lambda {

// {"errorMessage":"<message>","errorType":"<type>"} (errorType left out when empty).
std::string ErrorDocument(std::string_view error_type, std::string_view message);

// "Root=1-<8 hex epoch s>-<24 hex>;Parent=<16 hex>;Sampled=0", derived from the request id.
std::string TraceId(std::string_view request_id, std::chrono::system_clock::time_point now);

// "START RequestId: <id> Version: <version>\n".
std::string StartLine(std::string_view request_id, std::string_view version);

// Sets payload, function_error and duration of `result` from `outcome`, with the documents
// AWS returns for timeouts, crashes and oversized responses (spec 7.3).
void FillResult(const FunctionSpec& spec, const InvocationOutcome& outcome, InvokeResult& result);

// The platform's lines after the function's own output: the timeout or exit message, then
// "END RequestId: ..." and "REPORT RequestId: ...\tDuration: ... ms\tBilled Duration: ..." as
// AWS writes them.
std::string PlatformLines(const FunctionSpec& spec, const InvocationOutcome& outcome,
                          const InvokeResult& result, int max_memory_used_mb);

// base64 of the last 4 KB of `logs` (LogType Tail).
std::string LogTail(std::string_view logs);

}  // namespace salespipe::lambda
