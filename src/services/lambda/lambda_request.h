#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/rest_handler.h"
#include "lambda/function_store.h"
#include "services/json.h"
#include "services/service.h"

// Shared pieces of the Lambda rest-json service: the parsed request, path and query decoding,
// AWS's Lambda error names, and the wire shapes of functions and aliases.
namespace salespipe::services::lambda {

// One request after routing: the operation's URI labels, query and body.
struct LambdaCall {
  const http::RestRequest& raw;
  const RequestContext& context;
  std::vector<std::string> labels;  // decoded {FunctionName}, {Name}, {StatementId}, ...
  std::multimap<std::string, std::string> query;  // decoded
  std::string host;                               // the Host header (for Code.Location)

  std::optional<std::string> Query(std::string_view name) const;
  std::optional<std::string_view> Header(std::string_view name) const;
};

// Percent-decoding of a path segment or query component ('+' is a space only in queries).
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);
std::multimap<std::string, std::string> ParseQuery(std::string_view query);

// Errors with the Lambda error name set (rendered by LambdaService::RenderError).
Status ValidationError(const ValidationErrors& errors);  // "ValidationException"
Status InvalidParameter(std::string message);           // "InvalidParameterValueException"
Status NotFound(std::string message);                   // "ResourceNotFoundException"
Status Conflict(std::string message);                   // "ResourceConflictException"

// HTTP status and Type of a Lambda error name (spec 1.5); unknown names are 400 / User.
int LambdaErrorStatus(std::string_view aws_code);
// The Lambda error name for a Status without one.
std::string_view LambdaErrorName(ErrorCode code);

// "2024-05-01T12:00:00.000+0000" (FunctionConfiguration.LastModified).
std::string FormatLastModified(int64_t epoch_millis);

// Wire shapes.
enum class FunctionState { kPending, kActive };
void WriteFunctionConfiguration(JsonWriter& w, const salespipe::lambda::Function& function,
                                const salespipe::lambda::FunctionConfig& config,
                                FunctionState state = FunctionState::kActive);
void WriteAlias(JsonWriter& w, const salespipe::lambda::Function& function,
                const salespipe::lambda::AliasConfig& alias);

// The Runtime member: ValidationException for values outside the model's enum,
// InvalidParameterValueException for deprecated ones and for runtimes salespipe cannot run.
void CheckRuntimeEnum(std::string_view runtime, ValidationErrors& errors);
Status CheckRuntimeSupported(std::string_view runtime);

// Paging of list operations: Marker is the last name returned before; MaxItems 1..10000.
struct Paging {
  std::string marker;
  int max_items = 50;
};
Result<Paging> ReadPaging(const LambdaCall& call, int default_max_items);

std::string ToJson(const std::function<void(JsonWriter&)>& write);
// 'value' as ValidationException messages quote it.
inline std::string Quote(std::string_view value) { return "'" + std::string(value) + "'"; }
// `text` as a quoted, escaped JSON string.
std::string ToJsonString(std::string_view text);

}  // namespace salespipe::services::lambda
