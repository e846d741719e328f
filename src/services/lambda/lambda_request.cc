#include "services/lambda/lambda_request.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

namespace salespipe::services::lambda {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The Runtime enum of the model (botocore lambda/2015-03-31), and the values AWS no longer
// accepts for new or updated functions.
constexpr std::string_view kRuntimes[] = {
    "nodejs",       "nodejs4.3",     "nodejs6.10",    "nodejs8.10",     "nodejs10.x",
    "nodejs12.x",   "nodejs14.x",    "nodejs16.x",    "java8",          "java8.al2",
    "java11",       "python2.7",     "python3.6",     "python3.7",      "python3.8",
    "python3.9",    "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1",  "dotnetcore3.1",
    "dotnet6",      "dotnet8",       "nodejs4.3-edge", "go1.x",         "ruby2.5",
    "ruby2.7",      "provided",      "provided.al2",  "nodejs18.x",     "python3.10",
    "java17",       "ruby3.2",       "ruby3.3",       "ruby3.4",        "python3.11",
    "nodejs20.x",   "provided.al2023", "python3.12",  "java21",         "python3.13",
    "nodejs22.x",   "nodejs24.x",    "python3.14",    "java25",         "dotnet10",
    "ruby4.0"};
constexpr std::string_view kDeprecatedRuntimes[] = {
    "nodejs",        "nodejs4.3",     "nodejs6.10",    "nodejs8.10",    "nodejs10.x",
    "nodejs12.x",    "nodejs14.x",    "nodejs16.x",    "java8",         "python2.7",
    "python3.6",     "python3.7",     "python3.8",     "dotnetcore1.0", "dotnetcore2.0",
    "dotnetcore2.1", "dotnetcore3.1", "dotnet6",       "nodejs4.3-edge", "go1.x",
    "ruby2.5",       "ruby2.7",       "provided"};

}  // namespace

std::optional<std::string> LambdaCall::Query(std::string_view name) const {
  auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string_view> LambdaCall::Header(std::string_view name) const {
  for (const auto& header : raw.headers) {
    if (EqualsIgnoreCase(header.name, name)) return header.value;
  }
  return std::nullopt;
}

std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::multimap<std::string, std::string> ParseQuery(std::string_view query) {
  std::multimap<std::string, std::string> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::optional<std::string> name = PercentDecode(pair.substr(0, eq), true);
    std::optional<std::string> value =
        eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1), true);
    if (name && value) out.emplace(std::move(*name), std::move(*value));
  }
  return out;
}

Status ValidationError(const ValidationErrors& errors) {
  Status status = errors.ToStatus();
  if (!status.ok()) status.WithAwsCode("ValidationException");
  return status;
}
Status InvalidParameter(std::string message) {
  return Status::InvalidArgument(std::move(message)).WithAwsCode("InvalidParameterValueException");
}
Status NotFound(std::string message) {
  return Status::NotFound(std::move(message)).WithAwsCode("ResourceNotFoundException");
}
Status Conflict(std::string message) {
  return Status::FailedPrecondition(std::move(message)).WithAwsCode("ResourceConflictException");
}

int LambdaErrorStatus(std::string_view aws_code) {
  static constexpr std::pair<std::string_view, int> kStatuses[] = {
      {"ResourceNotFoundException", 404},
      {"ResourceConflictException", 409},
      {"ResourceInUseException", 400},
      {"PreconditionFailedException", 412},
      {"TooManyRequestsException", 429},
      {"RequestTooLargeException", 413},
      {"RequestEntityTooLarge", 413},
      {"UnsupportedMediaTypeException", 415},
      {"ServiceException", 500},
      {"ServiceUnavailableException", 503},
      {"UnknownOperationException", 404},
      {"AccessDeniedException", 403},
      {"UnrecognizedClientException", 403},
      {"InvalidSignatureException", 403},
      {"IncompleteSignatureException", 403},
      {"MissingAuthenticationTokenException", 403},
      {"SignatureDoesNotMatch", 403},
      {"ExpiredTokenException", 403},
  };
  for (const auto& [name, status] : kStatuses) {
    if (name == aws_code) return status;
  }
  return 400;
}

std::string_view LambdaErrorName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
      return "InvalidParameterValueException";
    case ErrorCode::kNotFound:
      return "ResourceNotFoundException";
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return "ResourceConflictException";
    case ErrorCode::kAborted:
      return "PreconditionFailedException";
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kUnavailable:
      return "TooManyRequestsException";
    case ErrorCode::kPermissionDenied:
      return "AccessDeniedException";
    case ErrorCode::kUnauthenticated:
      return "UnrecognizedClientException";
    case ErrorCode::kUnimplemented:
      return "UnknownOperationException";
    case ErrorCode::kDeadlineExceeded:
      return "ServiceException";
    case ErrorCode::kOk:  // not an error; never rendered
    case ErrorCode::kInternal:
      break;
  }
  return "ServiceException";
}

std::string FormatLastModified(int64_t epoch_millis) {
  std::time_t seconds = static_cast<std::time_t>(epoch_millis / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+0000", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(epoch_millis % 1000));
  return buf;
}

void WriteFunctionConfiguration(JsonWriter& w, const salespipe::lambda::Function& function,
                                const salespipe::lambda::FunctionConfig& config,
                                FunctionState state) {
  std::string arn = function.arn();
  if (config.version != "$LATEST") arn += ":" + config.version;
  w.StartObject();
  WriteKey(w, "FunctionName");
  WriteString(w, function.name);
  WriteKey(w, "FunctionArn");
  WriteString(w, arn);
  WriteKey(w, "Runtime");
  WriteString(w, config.runtime);
  WriteKey(w, "Role");
  WriteString(w, config.role);
  WriteKey(w, "Handler");
  WriteString(w, config.handler);
  WriteKey(w, "CodeSize");
  w.Int64(config.code_size);
  WriteKey(w, "Description");
  WriteString(w, config.description);
  WriteKey(w, "Timeout");
  w.Int(config.timeout_seconds);
  WriteKey(w, "MemorySize");
  w.Int(config.memory_mb);
  WriteKey(w, "LastModified");
  WriteString(w, FormatLastModified(config.last_modified_ms));
  WriteKey(w, "CodeSha256");
  WriteString(w, config.code_sha256);
  WriteKey(w, "Version");
  WriteString(w, config.version);
  if (config.environment) {
    WriteKey(w, "Environment");
    w.StartObject();
    WriteKey(w, "Variables");
    w.StartObject();
    for (const auto& [name, value] : *config.environment) {
      WriteKey(w, name);
      WriteString(w, value);
    }
    w.EndObject();
    w.EndObject();
  }
  WriteKey(w, "TracingConfig");
  w.StartObject();
  WriteKey(w, "Mode");
  WriteString(w, config.tracing_mode);
  w.EndObject();
  WriteKey(w, "RevisionId");
  WriteString(w, config.revision_id);
  WriteKey(w, "State");
  if (state == FunctionState::kPending) {
    WriteString(w, "Pending");
    WriteKey(w, "StateReason");
    WriteString(w, "The function is being created.");
    WriteKey(w, "StateReasonCode");
    WriteString(w, "Creating");
  } else {
    WriteString(w, "Active");
    WriteKey(w, "LastUpdateStatus");
    WriteString(w, "Successful");
  }
  WriteKey(w, "PackageType");
  WriteString(w, config.package_type);
  WriteKey(w, "Architectures");
  w.StartArray();
  for (const std::string& a : config.architectures) WriteString(w, a);
  w.EndArray();
  WriteKey(w, "EphemeralStorage");
  w.StartObject();
  WriteKey(w, "Size");
  w.Int(config.ephemeral_storage_mb);
  w.EndObject();
  WriteKey(w, "SnapStart");
  w.StartObject();
  WriteKey(w, "ApplyOn");
  WriteString(w, "None");
  WriteKey(w, "OptimizationStatus");
  WriteString(w, "Off");
  w.EndObject();
  WriteKey(w, "LoggingConfig");
  w.StartObject();
  WriteKey(w, "LogFormat");
  WriteString(w, config.log_format);
  WriteKey(w, "LogGroup");
  WriteString(w, config.log_group);
  w.EndObject();
  w.EndObject();
}

void WriteAlias(JsonWriter& w, const salespipe::lambda::Function& function,
                const salespipe::lambda::AliasConfig& alias) {
  w.StartObject();
  WriteKey(w, "AliasArn");
  WriteString(w, function.arn() + ":" + alias.name);
  WriteKey(w, "Name");
  WriteString(w, alias.name);
  WriteKey(w, "FunctionVersion");
  WriteString(w, alias.function_version);
  WriteKey(w, "Description");
  WriteString(w, alias.description);
  if (!alias.additional_version_weights.empty()) {
    WriteKey(w, "RoutingConfig");
    w.StartObject();
    WriteKey(w, "AdditionalVersionWeights");
    w.StartObject();
    for (const auto& [version, weight] : alias.additional_version_weights) {
      WriteKey(w, version);
      w.Double(weight);
    }
    w.EndObject();
    w.EndObject();
  }
  WriteKey(w, "RevisionId");
  WriteString(w, alias.revision_id);
  w.EndObject();
}

void CheckRuntimeEnum(std::string_view runtime, ValidationErrors& errors) {
  if (std::find(std::begin(kRuntimes), std::end(kRuntimes), runtime) != std::end(kRuntimes)) return;
  std::string set = "[";
  for (size_t i = 0; i < std::size(kRuntimes); ++i) {
    if (i > 0) set += ", ";
    set += kRuntimes[i];
  }
  set += "]";
  errors.AddConstraint("'" + std::string(runtime) + "'", "runtime",
                       "Member must satisfy enum value set: " + set);
}

Status CheckRuntimeSupported(std::string_view runtime) {
  if (std::find(std::begin(kDeprecatedRuntimes), std::end(kDeprecatedRuntimes), runtime) !=
      std::end(kDeprecatedRuntimes)) {
    return InvalidParameter("The runtime parameter of " + std::string(runtime) +
                            " is no longer supported for creating or updating AWS Lambda "
                            "functions. We recommend you use a supported runtime while "
                            "creating or updating functions.");
  }
  if (!runtime.starts_with("python3.") && !runtime.starts_with("nodejs") &&
      !runtime.starts_with("provided")) {
    // Documented in docs/compat/lambda.md: no Java, .NET or Ruby runtime is shipped.
    return InvalidParameter("The runtime parameter of " + std::string(runtime) +
                            " is not supported by salespipe (python3.x, nodejs*.x and "
                            "provided.al2/provided.al2023 are).");
  }
  return Status::Ok();
}

Result<Paging> ReadPaging(const LambdaCall& call, int default_max_items) {
  Paging paging{.max_items = default_max_items};
  if (std::optional<std::string> marker = call.Query("Marker")) paging.marker = *marker;
  if (std::optional<std::string> max = call.Query("MaxItems")) {
    int value = 0;
    bool digits = !max->empty() && max->size() < 9 &&
                  std::all_of(max->begin(), max->end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) value = std::stoi(*max);
    if (!digits || value < 1 || value > 10000) {
      ValidationErrors errors;
      bool too_small = !digits || value < 1;
      if (!digits && !max->empty() &&
          std::all_of(max->begin(), max->end(), [](char c) { return c >= '0' && c <= '9'; })) {
        too_small = false;  // all digits, just too many of them
      }
      errors.AddConstraint("'" + *max + "'", "maxItems",
                           too_small ? "Member must have value greater than or equal to 1"
                                     : "Member must have value less than or equal to 10000");
      return ValidationError(errors);
    }
    paging.max_items = value;
  }
  return paging;
}

std::string ToJson(const std::function<void(JsonWriter&)>& write) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string ToJsonString(std::string_view text) {
  return ToJson([&](JsonWriter& w) { WriteString(w, text); });
}

}  // namespace salespipe::services::lambda
