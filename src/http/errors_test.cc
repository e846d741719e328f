#include "http/errors.h"

#include "common/test_util.h"

namespace salespipe::http {
namespace {

constexpr ErrorCode kAllErrors[] = {
    ErrorCode::kInvalidArgument,    ErrorCode::kNotFound,      ErrorCode::kAlreadyExists,
    ErrorCode::kFailedPrecondition, ErrorCode::kAborted,       ErrorCode::kUnavailable,
    ErrorCode::kResourceExhausted,  ErrorCode::kOutOfRange,    ErrorCode::kPermissionDenied,
    ErrorCode::kUnauthenticated,    ErrorCode::kUnimplemented, ErrorCode::kDeadlineExceeded,
    ErrorCode::kInternal,
};
constexpr AuthFailure kAllAuthFailures[] = {
    AuthFailure::kMissingToken, AuthFailure::kIncompleteSignature, AuthFailure::kUnknownAccessKey,
    AuthFailure::kSignatureMismatch, AuthFailure::kSignatureExpired};

// kInternal is the last enumerator; if one is added after it this test must list it.
static_assert(static_cast<int>(ErrorCode::kInternal) == 13,
              "a new ErrorCode: add it to kAllErrors and decide its AWS error in every table");

TEST(ErrorTablesTest, EveryCodeMapsToAnAwsErrorInEveryTable) {
  for (ErrorTable table : {&DynamoDbError, &DynamoDbStreamsError, &DefaultJsonError, &S3Error}) {
    for (ErrorCode code : kAllErrors) {
      AwsError error = table(code);
      EXPECT_GE(error.http_status, 400) << ErrorCodeName(code);
      EXPECT_LT(error.http_status, 600) << ErrorCodeName(code);
      EXPECT_FALSE(error.code.empty()) << ErrorCodeName(code);
    }
  }
  for (AuthFailure failure : kAllAuthFailures) {
    EXPECT_FALSE(JsonAuthError(failure).code.empty());
    EXPECT_FALSE(S3AuthError(failure).code.empty());
  }
}

TEST(ErrorTablesTest, DynamoDbTableMatchesAws) {
  EXPECT_EQ(DynamoDbError(ErrorCode::kInvalidArgument).code, "ValidationException");
  EXPECT_EQ(DynamoDbError(ErrorCode::kNotFound).code, "ResourceNotFoundException");
  EXPECT_EQ(DynamoDbError(ErrorCode::kFailedPrecondition).code, "ConditionalCheckFailedException");
  EXPECT_EQ(DynamoDbError(ErrorCode::kResourceExhausted).http_status, 400);
  EXPECT_EQ(DynamoDbError(ErrorCode::kUnavailable).http_status, 503);
  EXPECT_EQ(DynamoDbError(ErrorCode::kInternal).http_status, 500);
  EXPECT_EQ(DynamoDbError(ErrorCode::kInternal).code, "InternalServerError");
  EXPECT_EQ(JsonErrorTableFor("DynamoDB_20120810"), &DynamoDbError);
  EXPECT_EQ(JsonErrorTableFor("DynamoDBStreams_20120810"), &DynamoDbStreamsError);
  EXPECT_EQ(JsonErrorTableFor("Kinesis_20131202"), &DefaultJsonError);
}

TEST(ErrorTablesTest, DynamoDbStreamsTableMatchesAws) {
  EXPECT_EQ(DynamoDbStreamsError(ErrorCode::kInvalidArgument).code, "ValidationException");
  EXPECT_EQ(DynamoDbStreamsError(ErrorCode::kNotFound).code, "ResourceNotFoundException");
  EXPECT_EQ(DynamoDbStreamsError(ErrorCode::kOutOfRange).code, "TrimmedDataAccessException");
  EXPECT_EQ(DynamoDbStreamsError(ErrorCode::kDeadlineExceeded).code, "ExpiredIteratorException");
  EXPECT_EQ(DynamoDbStreamsError(ErrorCode::kResourceExhausted).code, "LimitExceededException");
  EXPECT_EQ(DynamoDbStreamsError(ErrorCode::kInternal).http_status, 500);
}

TEST(ErrorTablesTest, AuthErrorsMatchAws) {
  EXPECT_EQ(JsonAuthError(AuthFailure::kMissingToken).http_status, 403);
  EXPECT_EQ(JsonAuthError(AuthFailure::kMissingToken).code, "MissingAuthenticationTokenException");
  EXPECT_EQ(JsonAuthError(AuthFailure::kUnknownAccessKey).code, "UnrecognizedClientException");
  EXPECT_EQ(JsonAuthError(AuthFailure::kSignatureMismatch).code, "InvalidSignatureException");
  EXPECT_EQ(JsonAuthError(AuthFailure::kSignatureExpired).http_status, 400);
  EXPECT_EQ(S3AuthError(AuthFailure::kSignatureMismatch).code, "SignatureDoesNotMatch");
}

constexpr std::string_view kDynamoNs = "com.amazonaws.dynamodb.v20120810#";

TEST(JsonErrorTypeTest, NamespacesFollowAws) {
  EXPECT_EQ(JsonErrorType("ValidationException", kDynamoNs),
            "com.amazon.coral.validate#ValidationException");
  EXPECT_EQ(JsonErrorType("SerializationException", kDynamoNs),
            "com.amazon.coral.service#SerializationException");
  EXPECT_EQ(JsonErrorType("UnknownOperationException", kDynamoNs),
            "com.amazon.coral.service#UnknownOperationException");
  EXPECT_EQ(JsonErrorType("UnrecognizedClientException", kDynamoNs),
            "com.amazon.coral.service#UnrecognizedClientException");
  EXPECT_EQ(JsonErrorType("ResourceNotFoundException", kDynamoNs),
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException");
  EXPECT_EQ(JsonErrorType("ValidationException", ""), "ValidationException");
  EXPECT_EQ(JsonErrorType("ResourceNotFoundException", ""), "ResourceNotFoundException");
}

TEST(JsonErrorBodyTest, WritesTypeAndMessage) {
  EXPECT_EQ(JsonErrorBody("T", "a \"quoted\"\nmessage"),
            R"({"__type":"T","message":"a \"quoted\"\nmessage"})");
  EXPECT_EQ(JsonErrorBody("com.amazon.coral.service#UnknownOperationException", std::nullopt),
            R"({"__type":"com.amazon.coral.service#UnknownOperationException"})");
}

TEST(JsonErrorBodyTest, MergesDetailsMembers) {
  EXPECT_EQ(
      JsonErrorBody(
          "T", "m",
          R"( {"Item": {"id": {"S": "1"}}, "CancellationReasons": [1, null], "message": "ignored", "__type": "ignored"} )"),
      R"({"__type":"T","message":"m","Item":{"id":{"S":"1"}},"CancellationReasons":[1,null]})");
}

TEST(JsonErrorBodyTest, DropsInvalidDetails) {
  EXPECT_EQ(JsonErrorBody("T", "m", "[1,2]"), R"({"__type":"T","message":"m"})");
  EXPECT_EQ(JsonErrorBody("T", "m", "{not json"), R"({"__type":"T","message":"m"})");
}

TEST(RenderJsonErrorTest, UsesTableAwsCodeOverrideAndDetails) {
  RenderedError error = RenderJsonError(
      Status::FailedPrecondition("The conditional request failed").WithDetails(R"({"Item":{}})"),
      &DynamoDbError, kDynamoNs, "rid");
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.body,
            R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",)"
            R"("message":"The conditional request failed","Item":{}})");

  error = RenderJsonError(Status::InvalidArgument("bad json").WithAwsCode("SerializationException"),
                          &DynamoDbError, kDynamoNs, "rid");
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.body,
            R"({"__type":"com.amazon.coral.service#SerializationException","message":"bad json"})");

  error = RenderJsonError(
      Status::ResourceExhausted("Too many tables").WithAwsCode("LimitExceededException"),
      &DynamoDbError, kDynamoNs, "rid");
  EXPECT_EQ(error.body, R"({"__type":"com.amazonaws.dynamodb.v20120810#LimitExceededException",)"
                        R"("message":"Too many tables"})");
}

TEST(RenderJsonErrorTest, InternalHidesMessageAndDetails) {
  RenderedError error = RenderJsonError(
      Status::Internal("rocksdb: corruption in /data/db/000123.sst").WithDetails(R"({"x":1})"),
      &DynamoDbError, kDynamoNs, "rid");
  EXPECT_EQ(error.http_status, 500);
  EXPECT_EQ(error.body, R"({"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError",)"
                        R"("message":"Internal server error"})");
}

TEST(RenderXmlErrorTest, EscapesAndCarriesRequestId) {
  RenderedError error =
      RenderXmlError(Status::NotFound("no <key>").WithAwsCode("NoSuchBucket"), &S3Error, "RID1");
  EXPECT_EQ(error.http_status, 404);
  EXPECT_EQ(error.body,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>"
            "<Message>no &lt;key&gt;</Message><RequestId>RID1</RequestId></Error>");
}

}  // namespace
}  // namespace salespipe::http
