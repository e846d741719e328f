#include "lambda/runner_report.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <ctime>

#include "common/crypto.h"
#include "fmt/format.h"

namespace salespipe::lambda {
namespace {

using Kind = InvocationOutcome::Kind;

constexpr size_t kLogTailBytes = 4096;

// "2024-05-01T12:00:03.000Z".
std::string IsoTime(std::chrono::system_clock::time_point when) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch());
  std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     ms.count() % 1000);
}

std::string Hex(std::string_view text, size_t length) {
  std::string out;
  for (char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c))) out += c;
    if (out.size() == length) break;
  }
  out.resize(length, '0');
  return out;
}

std::string Millis(std::chrono::microseconds duration) {
  return fmt::format("{:.2f}", static_cast<double>(duration.count()) / 1000.0);
}

std::string TimeoutMessage(const FunctionSpec& spec, std::string_view request_id) {
  return fmt::format("{} {} Task timed out after {:.2f} seconds",
                     IsoTime(std::chrono::system_clock::now()), request_id,
                     static_cast<double>(spec.timeout.count()));
}

std::string ExitMessage(std::string_view request_id, std::string_view description) {
  // AWS words a clean exit (sys.exit(0) in a handler) differently from a failure.
  if (description == "exit status 0") {
    return fmt::format("RequestId: {} Error: Runtime exited without providing a reason",
                       request_id);
  }
  return fmt::format("RequestId: {} Error: Runtime exited with error: {}", request_id, description);
}

}  // namespace

std::string ErrorDocument(std::string_view error_type, std::string_view message) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("errorMessage");
  writer.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  if (!error_type.empty()) {
    writer.Key("errorType");
    writer.String(error_type.data(), static_cast<rapidjson::SizeType>(error_type.size()));
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string TraceId(std::string_view request_id, std::chrono::system_clock::time_point now) {
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::string hex = Hex(request_id, 32);
  return fmt::format("Root=1-{:08x}-{};Parent={};Sampled=0", seconds, hex.substr(0, 24),
                     hex.substr(16, 16));
}

std::string StartLine(std::string_view request_id, std::string_view version) {
  return fmt::format("START RequestId: {} Version: {}\n", request_id, version);
}

void FillResult(const FunctionSpec& spec, const InvocationOutcome& outcome, InvokeResult& result) {
  result.duration = outcome.duration;
  switch (outcome.kind) {
    case Kind::kResponse:
      result.payload = outcome.body;
      return;
    case Kind::kFunctionError:
    case Kind::kInitError:
      result.function_error = "Unhandled";
      result.payload =
          outcome.body.empty()
              ? ErrorDocument(outcome.error_type.empty() ? "Runtime.Unknown" : outcome.error_type,
                              "")
              : outcome.body;
      return;
    case Kind::kTimeout:
      // AWS's document has no errorType here (spec 7.3).
      result.function_error = "Unhandled";
      result.payload = ErrorDocument("", TimeoutMessage(spec, result.request_id));
      return;
    case Kind::kExited:
      result.function_error = "Unhandled";
      result.payload = ErrorDocument("Runtime.ExitError",
                                     ExitMessage(result.request_id, outcome.exit_description));
      return;
    case Kind::kTooLarge:
      result.function_error = "Unhandled";
      result.payload = ErrorDocument(
          "Function.ResponseSizeTooLarge",
          fmt::format("Response payload size exceeded maximum allowed payload size ({} bytes).",
                      kMaxResponseBytes));
      return;
  }
}

std::string PlatformLines(const FunctionSpec& spec, const InvocationOutcome& outcome,
                          const InvokeResult& result, int max_memory_used_mb) {
  std::string lines;
  std::string status;
  switch (outcome.kind) {
    case Kind::kTimeout:
      lines += TimeoutMessage(spec, result.request_id) + "\n";
      status = "\tStatus: timeout";
      break;
    case Kind::kExited:
      lines += ExitMessage(result.request_id, outcome.exit_description) + "\nRuntime.ExitError\n";
      status = "\tStatus: error\tError Type: Runtime.ExitError";
      break;
    case Kind::kInitError:
      status = fmt::format("\tStatus: error\tError Type: {}",
                           outcome.error_type.empty() ? "Runtime.Unknown" : outcome.error_type);
      break;
    case Kind::kTooLarge:
      status = "\tStatus: error\tError Type: Function.ResponseSizeTooLarge";
      break;
    case Kind::kResponse:
    case Kind::kFunctionError:
      break;
  }
  const auto billed_ms = (outcome.duration.count() + 999) / 1000;
  lines += fmt::format("END RequestId: {}\n", result.request_id);
  lines += fmt::format(
      "REPORT RequestId: {}\tDuration: {} ms\tBilled Duration: {} ms\tMemory Size: {} MB\t"
      "Max Memory Used: {} MB",
      result.request_id, Millis(outcome.duration), std::max<int64_t>(billed_ms, 1), spec.memory_mb,
      max_memory_used_mb);
  if (outcome.init_duration)
    lines += fmt::format("\tInit Duration: {} ms", Millis(*outcome.init_duration));
  lines += status;
  lines += "\t\n";
  return lines;
}

std::string LogTail(std::string_view logs) {
  if (logs.size() > kLogTailBytes) logs = logs.substr(logs.size() - kLogTailBytes);
  return Base64Encode(logs);
}

}  // namespace salespipe::lambda
