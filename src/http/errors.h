#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/auth.h"

// The only place errors are rendered (STYLE.md section 4, spec 1.5). A Status becomes an AWS
// error through a per-service default table; Status::aws_code() overrides the table's code
// and Status::details() adds members to JSON bodies. All functions are pure and thread-safe.
namespace salespipe::http {

// An AWS error as the client sees it: HTTP status and error code (no namespace).
struct AwsError {
  int http_status;
  std::string_view code;
};

// A per-service default table from ErrorCode to AwsError. Tables are exhaustive switches with
// no `default:`, so a new ErrorCode does not compile until each table decides.
using ErrorTable = AwsError (*)(ErrorCode code);

// DynamoDB (spec 2.3).
AwsError DynamoDbError(ErrorCode code);
// DynamoDB Streams (spec 3.1).
AwsError DynamoDbStreamsError(ErrorCode code);
// The other JSON services (Kinesis, Firehose, Glue, Athena) until each gets its own table;
// their services set Status::aws_code() where the AWS name differs.
AwsError DefaultJsonError(ErrorCode code);
// S3 (rest-xml), used by the RestHandler hook.
AwsError S3Error(ErrorCode code);

// The table for the JSON service with X-Amz-Target prefix `target_prefix`.
ErrorTable JsonErrorTableFor(std::string_view target_prefix);

// Authentication failures, per protocol (spec 1.7).
AwsError JsonAuthError(AuthFailure failure);
AwsError S3AuthError(AuthFailure failure);

// Protocol-level error codes the edge answers itself.
inline constexpr std::string_view kUnknownOperation = "UnknownOperationException";
inline constexpr std::string_view kRequestEntityTooLarge = "RequestEntityTooLarge";
inline constexpr std::string_view kSerializationException = "SerializationException";
inline constexpr std::string_view kInternalMessage = "Internal server error";

// The `__type` value for `code` from a service with error namespace `service_namespace`
// (JsonService::error_namespace()). Services with bare codes (empty namespace) get `code`.
// Namespaced services get com.amazon.coral.validate# for ValidationException,
// com.amazon.coral.service# for protocol and authentication errors, and
// com.amazon.coral.availability# for ThrottlingException; everything else gets
// `service_namespace`.
std::string JsonErrorType(std::string_view code, std::string_view service_namespace);

// A JSON error body: {"__type": type, "message": message} followed by the members of
// `details_json` (a JSON object text; members named __type or message are ignored). `message`
// is left out when nullopt. Invalid `details_json` is dropped (and logged).
std::string JsonErrorBody(std::string_view type, std::optional<std::string_view> message,
                          std::string_view details_json = {});

// Appends `text` to `*out` with &, <, >, " and ' escaped for XML.
void AppendXmlEscaped(std::string* out, std::string_view text);

// An S3 XML error body: <Error><Code/><Message/><RequestId/></Error> with the XML declaration.
std::string XmlErrorBody(std::string_view code, std::string_view message,
                         std::string_view request_id);

struct RenderedError {
  int http_status;
  std::string body;
};

// Renders a non-OK `status` as a JSON error body with `table`. kInternal shows only
// "Internal server error"; its message and details are logged with `request_id` instead.
RenderedError RenderJsonError(const Status& status, ErrorTable table,
                              std::string_view service_namespace, std::string_view request_id);

// Renders a non-OK `status` as an S3 XML error with `table` (details are not rendered).
RenderedError RenderXmlError(const Status& status, ErrorTable table, std::string_view request_id);

}  // namespace salespipe::http
