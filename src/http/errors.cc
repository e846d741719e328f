#include "http/errors.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/logging.h"

namespace salespipe::http {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteString(JsonWriter& writer, std::string_view s) {
  writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}


}  // namespace

void AppendXmlEscaped(std::string* out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '<':
        out->append("&lt;");
        break;
      case '>':
        out->append("&gt;");
        break;
      case '&':
        out->append("&amp;");
        break;
      case '"':
        out->append("&quot;");
        break;
      case '\'':
        out->append("&apos;");
        break;
      default:
        out->push_back(c);
    }
  }
}

// clang-format off
AwsError DynamoDbError(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:         return {400, "ValidationException"};
    case ErrorCode::kNotFound:           return {400, "ResourceNotFoundException"};
    case ErrorCode::kAlreadyExists:      return {400, "ResourceInUseException"};
    case ErrorCode::kFailedPrecondition: return {400, "ConditionalCheckFailedException"};
    case ErrorCode::kAborted:            return {400, "TransactionConflictException"};
    case ErrorCode::kResourceExhausted:  return {400, "ProvisionedThroughputExceededException"};
    case ErrorCode::kPermissionDenied:   return {400, "AccessDeniedException"};
    case ErrorCode::kUnauthenticated:    return {400, "UnrecognizedClientException"};
    case ErrorCode::kUnimplemented:      return {400, "UnknownOperationException"};
    case ErrorCode::kUnavailable:
    case ErrorCode::kDeadlineExceeded:   return {503, "ServiceUnavailable"};
    case ErrorCode::kOk:                 // not an error; never rendered
    case ErrorCode::kInternal:           break;
  }
  return {500, "InternalServerError"};
}

// DynamoDB Streams (spec 3.1): trimmed positions and expired iterators have their own codes.
AwsError DynamoDbStreamsError(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kAlreadyExists:      return {400, "ValidationException"};
    case ErrorCode::kOutOfRange:         return {400, "TrimmedDataAccessException"};
    case ErrorCode::kDeadlineExceeded:   return {400, "ExpiredIteratorException"};
    case ErrorCode::kNotFound:           return {400, "ResourceNotFoundException"};
    case ErrorCode::kResourceExhausted:  return {400, "LimitExceededException"};
    case ErrorCode::kAborted:
    case ErrorCode::kUnavailable:        return {503, "ServiceUnavailable"};
    case ErrorCode::kPermissionDenied:   return {400, "AccessDeniedException"};
    case ErrorCode::kUnauthenticated:    return {400, "UnrecognizedClientException"};
    case ErrorCode::kUnimplemented:      return {400, "UnknownOperationException"};
    case ErrorCode::kOk:                 // not an error; never rendered
    case ErrorCode::kInternal:           break;
  }
  return {500, "InternalServerError"};
}

AwsError DefaultJsonError(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:         return {400, "InvalidArgumentException"};
    case ErrorCode::kNotFound:           return {400, "ResourceNotFoundException"};
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition: return {400, "ResourceInUseException"};
    case ErrorCode::kAborted:            return {400, "ConcurrentModificationException"};
    case ErrorCode::kResourceExhausted:  return {400, "LimitExceededException"};
    case ErrorCode::kPermissionDenied:   return {400, "AccessDeniedException"};
    case ErrorCode::kUnauthenticated:    return {400, "UnrecognizedClientException"};
    case ErrorCode::kUnimplemented:      return {400, "UnknownOperationException"};
    case ErrorCode::kUnavailable:
    case ErrorCode::kDeadlineExceeded:   return {503, "ServiceUnavailableException"};
    case ErrorCode::kOk:                 // not an error; never rendered
    case ErrorCode::kInternal:           break;
  }
  return {500, "InternalFailure"};
}

AwsError S3Error(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:    return {400, "InvalidArgument"};
    case ErrorCode::kOutOfRange:         return {416, "InvalidRange"};
    case ErrorCode::kNotFound:           return {404, "NoSuchKey"};
    case ErrorCode::kAlreadyExists:      return {409, "BucketAlreadyOwnedByYou"};
    case ErrorCode::kFailedPrecondition: return {412, "PreconditionFailed"};
    case ErrorCode::kAborted:            return {409, "OperationAborted"};
    case ErrorCode::kResourceExhausted:  return {503, "SlowDown"};
    case ErrorCode::kPermissionDenied:   return {403, "AccessDenied"};
    case ErrorCode::kUnauthenticated:    return {403, "InvalidAccessKeyId"};
    case ErrorCode::kUnimplemented:      return {501, "NotImplemented"};
    case ErrorCode::kUnavailable:
    case ErrorCode::kDeadlineExceeded:   return {503, "ServiceUnavailable"};
    case ErrorCode::kOk:                 // not an error; never rendered
    case ErrorCode::kInternal:           break;
  }
  return {500, "InternalError"};
}

AwsError JsonAuthError(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::kMissingToken:        return {403, "MissingAuthenticationTokenException"};
    case AuthFailure::kIncompleteSignature: return {400, "IncompleteSignatureException"};
    case AuthFailure::kUnknownAccessKey:    return {400, "UnrecognizedClientException"};
    case AuthFailure::kSignatureMismatch:
    case AuthFailure::kSignatureExpired:    return {400, "InvalidSignatureException"};
  }
  return {400, "InvalidSignatureException"};  // unreachable: the switch is exhaustive
}

AwsError S3AuthError(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::kMissingToken:        return {403, "AccessDenied"};
    case AuthFailure::kIncompleteSignature: return {400, "AuthorizationHeaderMalformed"};
    case AuthFailure::kUnknownAccessKey:    return {403, "InvalidAccessKeyId"};
    case AuthFailure::kSignatureMismatch:   return {403, "SignatureDoesNotMatch"};
    case AuthFailure::kSignatureExpired:    return {403, "RequestTimeTooSkewed"};
  }
  return {403, "SignatureDoesNotMatch"};  // unreachable: the switch is exhaustive
}
// clang-format on

ErrorTable JsonErrorTableFor(std::string_view target_prefix) {
  if (target_prefix == "DynamoDB_20120810") return &DynamoDbError;
  if (target_prefix == "DynamoDBStreams_20120810") return &DynamoDbStreamsError;
  return &DefaultJsonError;
}

std::string JsonErrorType(std::string_view code, std::string_view service_namespace) {
  std::string_view ns = service_namespace;
  if (!service_namespace.empty()) {
    if (code == "ValidationException") {
      ns = "com.amazon.coral.validate#";
    } else if (code == kUnknownOperation || code == kSerializationException ||
               code == kRequestEntityTooLarge || code == "MissingAuthenticationTokenException" ||
               code == "IncompleteSignatureException" || code == "InvalidSignatureException" ||
               code == "UnrecognizedClientException" || code == "AccessDeniedException") {
      ns = "com.amazon.coral.service#";
    } else if (code == "ThrottlingException") {
      ns = "com.amazon.coral.availability#";
    }
  }
  std::string type;
  type.reserve(ns.size() + code.size());
  type.append(ns).append(code);
  return type;
}

std::string JsonErrorBody(std::string_view type, std::optional<std::string_view> message,
                          std::string_view details_json) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("__type");
  WriteString(writer, type);
  if (message) {
    writer.Key("message");
    WriteString(writer, *message);
  }
  if (!details_json.empty()) {
    rapidjson::Document details;
    details.Parse(details_json.data(), details_json.size());
    if (details.HasParseError() || !details.IsObject()) {
      SPDLOG_ERROR("dropping invalid error details (not a JSON object): {}", details_json);
    } else {
      for (auto& member : details.GetObject()) {
        std::string_view name(member.name.GetString(), member.name.GetStringLength());
        if (name == "__type" || name == "message") continue;
        writer.Key(member.name.GetString(), member.name.GetStringLength());
        member.value.Accept(writer);
      }
    }
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string XmlErrorBody(std::string_view code, std::string_view message,
                         std::string_view request_id) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>";
  AppendXmlEscaped(&out, code);
  out.append("</Code><Message>");
  AppendXmlEscaped(&out, message);
  out.append("</Message><RequestId>");
  AppendXmlEscaped(&out, request_id);
  out.append("</RequestId></Error>");
  return out;
}

RenderedError RenderJsonError(const Status& status, ErrorTable table,
                              std::string_view service_namespace, std::string_view request_id) {
  AwsError error = table(status.code());
  if (status.code() == ErrorCode::kInternal) {
    SPDLOG_ERROR("[{}] internal error: {} {}", request_id, status.ToString(), status.details());
    return {error.http_status,
            JsonErrorBody(JsonErrorType(error.code, service_namespace), kInternalMessage)};
  }
  std::string_view code = status.aws_code().empty() ? error.code : status.aws_code();
  return {error.http_status, JsonErrorBody(JsonErrorType(code, service_namespace), status.message(),
                                           status.details())};
}

RenderedError RenderXmlError(const Status& status, ErrorTable table, std::string_view request_id) {
  AwsError error = table(status.code());
  if (status.code() == ErrorCode::kInternal) {
    SPDLOG_ERROR("[{}] internal error: {} {}", request_id, status.ToString(), status.details());
    return {error.http_status, XmlErrorBody(error.code, kInternalMessage, request_id)};
  }
  std::string_view code = status.aws_code().empty() ? error.code : status.aws_code();
  return {error.http_status, XmlErrorBody(code, status.message(), request_id)};
}

}  // namespace salespipe::http
