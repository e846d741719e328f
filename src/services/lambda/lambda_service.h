#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "http/rest_handler.h"
#include "lake/lake.h"
#include "lambda/engine.h"
#include "lambda/event_source_mapping.h"
#include "services/lambda/lambda_request.h"

// AWS Lambda's control plane and Invoke over rest-json (spec 1.3, 7): operations chosen by
// method and path, errors as x-amzn-ErrorType + {"Type","Message"}. Thread-safe.
namespace salespipe::services::lambda {

// Where GetFunction's Code.Location points: GET <edge>/_salespipe/lambda-code/<account>/
// <region>/<name>/<sha256 hex>.zip serves the package (unsigned, like AWS's presigned URL).
inline constexpr std::string_view kCodePathPrefix = "/_salespipe/lambda-code/";

class LambdaService final : public http::RestHandler {
 public:
  // Request bodies the edge spools instead of reading into memory: up to a 50 MB zip in
  // base64 (CreateFunction / UpdateFunctionCode; AWS's direct-upload limit).
  static constexpr uint64_t kMaxSpooledBodyBytes = 72u << 20;

  // All references must outlive the service. `mappings` may be null (no event source mappings:
  // those operations answer ServiceException). `spool_dir`, when not empty, is a folder the
  // service owns for large request bodies (emptied at construction).
  LambdaService(salespipe::lambda::LambdaEngine& engine, lake::Lake& lake, const Clock& clock,
                salespipe::lambda::EventSourceMappings* mappings, std::string spool_dir = "");

  std::string_view service_name() const override { return "lambda"; }
  std::string spool_directory() const override { return spool_dir_; }
  uint64_t max_spooled_body_bytes() const override { return kMaxSpooledBodyBytes; }
  bool s3_canonical_path() const override { return false; }
  bool s3_request_ids() const override { return false; }
  // Signing service "lambda", or (unsigned) a path under a Lambda API date segment or
  // kCodePathPrefix (spec 1.1 steps 3-4).
  bool Claims(const http::RestRouteInput& input) const override;
  // Invoke (and the legacy InvokeAsync) wait for the function.
  bool MayBlock(const http::RestRouteInput& input) const override;
  std::optional<http::RestResponse> RenderError(const Status& status,
                                                std::string_view request_id) const override;
  Result<http::RestResponse> Handle(const http::RestRequest& request,
                                    const RequestContext& context) override;

 private:
  // function_ops.cc
  Result<http::RestResponse> CreateFunction(const LambdaCall& call);
  Result<http::RestResponse> GetFunction(const LambdaCall& call);
  Result<http::RestResponse> GetFunctionConfiguration(const LambdaCall& call);
  Result<http::RestResponse> ListFunctions(const LambdaCall& call);
  Result<http::RestResponse> UpdateFunctionCode(const LambdaCall& call);
  Result<http::RestResponse> UpdateFunctionConfiguration(const LambdaCall& call);
  Result<http::RestResponse> DeleteFunction(const LambdaCall& call);
  Result<http::RestResponse> PublishVersion(const LambdaCall& call);
  Result<http::RestResponse> ListVersionsByFunction(const LambdaCall& call);
  Result<http::RestResponse> Invoke(const LambdaCall& call);
  Result<http::RestResponse> InvokeAsync(const LambdaCall& call);
  Result<http::RestResponse> GetCode(const LambdaCall& call);
  // alias_ops.cc: aliases, policy, tags, concurrency, account settings
  Result<http::RestResponse> CreateAlias(const LambdaCall& call);
  Result<http::RestResponse> GetAlias(const LambdaCall& call);
  Result<http::RestResponse> UpdateAlias(const LambdaCall& call);
  Result<http::RestResponse> DeleteAlias(const LambdaCall& call);
  Result<http::RestResponse> ListAliases(const LambdaCall& call);
  Result<http::RestResponse> AddPermission(const LambdaCall& call);
  Result<http::RestResponse> RemovePermission(const LambdaCall& call);
  Result<http::RestResponse> GetPolicy(const LambdaCall& call);
  Result<http::RestResponse> TagResource(const LambdaCall& call);
  Result<http::RestResponse> UntagResource(const LambdaCall& call);
  Result<http::RestResponse> ListTags(const LambdaCall& call);
  Result<http::RestResponse> PutFunctionConcurrency(const LambdaCall& call);
  Result<http::RestResponse> GetFunctionConcurrency(const LambdaCall& call);
  Result<http::RestResponse> DeleteFunctionConcurrency(const LambdaCall& call);
  Result<http::RestResponse> GetAccountSettings(const LambdaCall& call);
  // mapping_ops.cc
  Result<http::RestResponse> CreateEventSourceMapping(const LambdaCall& call);
  Result<http::RestResponse> GetEventSourceMapping(const LambdaCall& call);
  Result<http::RestResponse> UpdateEventSourceMapping(const LambdaCall& call);
  Result<http::RestResponse> DeleteEventSourceMapping(const LambdaCall& call);
  Result<http::RestResponse> ListEventSourceMappings(const LambdaCall& call);

  // The function named by the FunctionName label (plus a Qualifier query, if any).
  Result<salespipe::lambda::FunctionRef> FunctionLabel(const LambdaCall& call) const;
  // The zip of a Code / UpdateFunctionCode request: ZipFile, or S3Bucket/S3Key from the lake.
  Result<std::string> ReadCode(const JsonValue& code, bool* given) const;
  Result<http::RestResponse> Dispatch(LambdaCall& call, std::string_view method,
                                      const std::vector<std::string>& segments);

  // Set at construction.
  salespipe::lambda::LambdaEngine& engine_;
  salespipe::lambda::FunctionStore& store_;
  lake::Lake& lake_;
  const Clock& clock_;
  salespipe::lambda::EventSourceMappings* mappings_;
  const std::string spool_dir_;
};

// A JSON response with `status`.
http::RestResponse JsonResponse(int status, std::string body);

}  // namespace salespipe::services::lambda
