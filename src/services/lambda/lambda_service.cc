#include "services/lambda/lambda_service.h"

#include <array>
#include <filesystem>
#include <fstream>

#include "common/logging.h"

namespace salespipe::services::lambda {
namespace {

// The Lambda API's date segments (spec 1.1 step 4).
constexpr std::string_view kDatePrefixes[] = {
    "/2014-11-13/", "/2015-03-31/", "/2016-08-19/", "/2017-03-31/tags/", "/2017-10-31/",
    "/2018-10-31/layers", "/2019-09-25/", "/2019-09-30/", "/2020-04-22/", "/2020-06-30/",
    "/2021-07-20/", "/2021-10-31/", "/2021-11-15/", "/2024-08-31/", "/2025-11-30/",
    "/2025-12-01/"};

}  // namespace

http::RestResponse JsonResponse(int status, std::string body) {
  return http::RestResponse{
      .http_status = status, .content_type = "application/json", .body = std::move(body)};
}

LambdaService::LambdaService(salespipe::lambda::LambdaEngine& engine, lake::Lake& lake,
                             const Clock& clock,
                             salespipe::lambda::EventSourceMappings* mappings,
                             std::string spool_dir)
    : engine_(engine),
      store_(engine.store()),
      lake_(lake),
      clock_(clock),
      mappings_(mappings),
      spool_dir_(std::move(spool_dir)) {
  if (spool_dir_.empty()) return;
  // Bodies left behind by a crash; no request is in flight yet.
  std::error_code ec;
  std::filesystem::remove_all(spool_dir_, ec);
  std::filesystem::create_directories(spool_dir_, ec);
  if (ec) SPDLOG_WARN("lambda: cannot create {}: {}", spool_dir_, ec.message());
}

bool LambdaService::Claims(const http::RestRouteInput& input) const {
  if (input.signing_service == "lambda") return true;
  if (!input.signing_service.empty()) return false;
  if (input.path.starts_with(kCodePathPrefix)) return true;
  for (std::string_view prefix : kDatePrefixes) {
    if (input.path.starts_with(prefix)) {
      // Unless an S3 bucket has that name (spec 1.1 step 4): "2015-03-31" is a valid one.
      std::string_view bucket = input.path.substr(1, input.path.find('/', 1) - 1);
      return !lake_.GetBucket(bucket).ok();
    }
  }
  return false;
}

bool LambdaService::MayBlock(const http::RestRouteInput& input) const {
  return input.method == "POST" &&
         (input.path.ends_with("/invocations") || input.path.ends_with("/invoke-async/") ||
          input.path.ends_with("/invoke-async"));
}

std::optional<http::RestResponse> LambdaService::RenderError(const Status& status,
                                                             std::string_view request_id) const {
  std::string name = status.aws_code().empty() ? std::string(LambdaErrorName(status.code()))
                                               : status.aws_code();
  if (name == "RequestEntityTooLarge") name = "RequestTooLargeException";
  int http_status = LambdaErrorStatus(name);
  if (status.aws_code().empty() && status.code() == ErrorCode::kUnavailable) http_status = 429;
  std::string body = ToJson([&](JsonWriter& w) {
    w.StartObject();
    WriteKey(w, "Type");
    WriteString(w, http_status >= 500 ? "Service" : "User");
    WriteKey(w, "Message");
    WriteString(w, status.message());
    WriteKey(w, "message");
    WriteString(w, status.message());
    if (name == "TooManyRequestsException") {
      WriteKey(w, "Reason");
      WriteString(w, status.message() == "Rate Exceeded."
                         ? "ReservedFunctionConcurrentInvocationLimitExceeded"
                         : "CallerRateLimitExceeded");
    }
    w.EndObject();
  });
  http::RestResponse response = JsonResponse(http_status, std::move(body));
  response.headers.emplace_back("x-amzn-ErrorType", name);
  (void)request_id;  // the edge adds x-amzn-RequestId to every response
  return response;
}

Result<http::RestResponse> LambdaService::Handle(const http::RestRequest& request,
                                                 const RequestContext& context) {
  LambdaCall call{.raw = request, .context = context, .query = ParseQuery(request.query)};
  if (std::optional<std::string_view> host = call.Header("host")) call.host = std::string(*host);
  // Split and decode the path; labels may be ARNs with %3A.
  std::vector<std::string> segments;
  std::string_view path = request.path;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (segment.empty()) continue;
    std::optional<std::string> decoded = PercentDecode(segment, false);
    if (!decoded) return InvalidParameter("Malformed request path");
    segments.push_back(std::move(*decoded));
  }
  if (request.spooled_body == nullptr) return Dispatch(call, request.method, segments);
  // A large body (a zip, or an Invoke payload over 64 KB): the operations want it in memory.
  std::string body;
  std::ifstream in(request.spooled_body->path, std::ios::binary);
  body.resize(request.spooled_body->size);
  if (!in.read(body.data(), static_cast<std::streamsize>(body.size()))) {
    return Status::Internal("cannot read a spooled request body");
  }
  http::RestRequest in_memory = request;
  in_memory.body = body;
  in_memory.spooled_body = nullptr;
  LambdaCall spooled_call{.raw = in_memory,
                          .context = context,
                          .query = std::move(call.query),
                          .host = std::move(call.host)};
  return Dispatch(spooled_call, request.method, segments);
}

Result<http::RestResponse> LambdaService::Dispatch(LambdaCall& call, std::string_view method,
                                                   const std::vector<std::string>& s) {
  auto unknown = [&] {
    return Status::Unimplemented("The requested operation " + std::string(method) + " " +
                                 std::string(call.raw.path) + " is not supported by salespipe")
        .WithAwsCode("UnknownOperationException");
  };
  if (s.empty()) return unknown();
  if (s[0] == "_salespipe") {
    if (method == "GET" && s.size() == 6 && s[1] == "lambda-code") {
      call.labels = {s[2], s[3], s[4], s[5]};
      return GetCode(call);
    }
    return unknown();
  }
  const std::string& date = s[0];
  const size_t n = s.size();
  if (date == "2016-08-19" && n == 2 && s[1] == "account-settings" && method == "GET") {
    return GetAccountSettings(call);
  }
  if (date == "2017-03-31" && n == 3 && s[1] == "tags") {
    call.labels = {s[2]};
    if (method == "POST") return TagResource(call);
    if (method == "DELETE") return UntagResource(call);
    if (method == "GET") return ListTags(call);
    return unknown();
  }
  if (n >= 2 && s[1] == "event-source-mappings") {
    if (n == 2 && method == "POST") return CreateEventSourceMapping(call);
    if (n == 2 && method == "GET") return ListEventSourceMappings(call);
    if (n == 3) {
      call.labels = {s[2]};
      if (method == "GET") return GetEventSourceMapping(call);
      if (method == "PUT") return UpdateEventSourceMapping(call);
      if (method == "DELETE") return DeleteEventSourceMapping(call);
    }
    return unknown();
  }
  if (n < 2 || s[1] != "functions") return unknown();
  if (n == 2) {
    if (method == "POST") return CreateFunction(call);
    if (method == "GET") return ListFunctions(call);
    return unknown();
  }
  call.labels = {s[2]};
  if (n == 3) {
    if (method == "GET") return GetFunction(call);
    if (method == "DELETE") return DeleteFunction(call);
    return unknown();
  }
  const std::string& sub = s[3];
  if (n == 4) {
    if (sub == "configuration" && method == "GET") return GetFunctionConfiguration(call);
    if (sub == "configuration" && method == "PUT") return UpdateFunctionConfiguration(call);
    if (sub == "code" && method == "PUT") return UpdateFunctionCode(call);
    if (sub == "versions" && method == "POST") return PublishVersion(call);
    if (sub == "versions" && method == "GET") return ListVersionsByFunction(call);
    if (sub == "aliases" && method == "POST") return CreateAlias(call);
    if (sub == "aliases" && method == "GET") return ListAliases(call);
    if (sub == "invocations" && method == "POST") return Invoke(call);
    if (sub == "invoke-async" && method == "POST") return InvokeAsync(call);
    if (sub == "policy" && method == "POST") return AddPermission(call);
    if (sub == "policy" && method == "GET") return GetPolicy(call);
    if (sub == "concurrency" && method == "PUT") return PutFunctionConcurrency(call);
    if (sub == "concurrency" && method == "GET") return GetFunctionConcurrency(call);
    if (sub == "concurrency" && method == "DELETE") return DeleteFunctionConcurrency(call);
    return unknown();
  }
  if (n == 5) {
    call.labels.push_back(s[4]);
    if (sub == "aliases" && method == "GET") return GetAlias(call);
    if (sub == "aliases" && method == "PUT") return UpdateAlias(call);
    if (sub == "aliases" && method == "DELETE") return DeleteAlias(call);
    if (sub == "policy" && method == "DELETE") return RemovePermission(call);
  }
  return unknown();
}

Result<salespipe::lambda::FunctionRef> LambdaService::FunctionLabel(const LambdaCall& call) const {
  const std::string& label = call.labels.at(0);
  Result<salespipe::lambda::FunctionRef> ref =
      salespipe::lambda::ParseFunctionRef(label, call.context.account_id, call.context.region);
  if (!ref.ok()) {
    ValidationErrors errors;
    errors.AddConstraint("'" + label + "'", "functionName",
                         "Member must satisfy regular expression pattern: "
                         "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?"
                         "(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
    return ValidationError(errors);
  }
  if (std::optional<std::string> qualifier = call.Query("Qualifier")) {
    if (qualifier->empty() || qualifier->size() > 128) {
      ValidationErrors errors;
      errors.AddConstraint(Quote(*qualifier), "qualifier",
                           qualifier->empty()
                               ? "Member must have length greater than or equal to 1"
                               : "Member must have length less than or equal to 128");
      return ValidationError(errors);
    }
    if (!ref->qualifier.empty() && ref->qualifier != *qualifier) {
      return InvalidParameter(
          "The derived qualifier from the function name does not match the specified "
          "qualifier.");
    }
    ref->qualifier = *qualifier;
  }
  return ref;
}

}  // namespace salespipe::services::lambda
