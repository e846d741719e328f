#include "http/sigv4.h"

#include <vector>

#include "common/crypto.h"
#include "common/test_util.h"

namespace salespipe::http::sigv4 {
namespace {

using ::salespipe::testing::StatusIs;

constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

// Signs the way a client does, from the parts, for the vectors below.
std::string Sign(std::string_view method, std::string_view path, std::string_view query,
                 std::vector<Header> headers, std::string_view signed_headers,
                 std::string_view payload, std::string_view region, std::string_view service,
                 bool s3 = false) {
  std::string canonical = CanonicalRequest(
      method, CanonicalUri(path, s3), CanonicalQuery(query, false),
      CanonicalHeaders(headers, signed_headers), signed_headers, HexEncode(Sha256(payload)));
  std::string to_sign = StringToSign("20150830T123600Z", "20150830", region, service, canonical);
  return Signature(SigningKey(kSecret, "20150830", region, service), to_sign);
}

// The signatures below were computed independently with botocore 1.43 (SigV4Auth with a fixed
// clock at 2015-08-30T12:36:00Z); get-vanilla is also AWS's published test-suite vector.
TEST(SigV4Test, AwsTestSuiteGetVanilla) {
  EXPECT_EQ(
      Sign("GET", "/", "", {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
           "host;x-amz-date", "", "us-east-1", "service"),
      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Test, DynamoDbPutItemMatchesBotocore) {
  std::vector<Header> headers = {{"Content-Type", "application/x-amz-json-1.0"},
                                 {"X-Amz-Target", "DynamoDB_20120810.PutItem"},
                                 {"Host", "localhost:4566"},
                                 {"X-Amz-Date", "20150830T123600Z"}};
  std::string_view body = R"({"TableName":"orders","Item":{"id":{"S":"o-1"}}})";
  std::string signed_headers = "content-type;host;x-amz-date;x-amz-target";
  EXPECT_EQ(CanonicalRequest("POST", CanonicalUri("/", false), CanonicalQuery("", false),
                             CanonicalHeaders(headers, signed_headers), signed_headers,
                             HexEncode(Sha256(body))),
            "POST\n/\n\ncontent-type:application/x-amz-json-1.0\nhost:localhost:4566\n"
            "x-amz-date:20150830T123600Z\nx-amz-target:DynamoDB_20120810.PutItem\n\n"
            "content-type;host;x-amz-date;x-amz-target\n"
            "b95e045ce026c7a880a6671fbf41d660e3b2692ff2584065930dbcfe5c16b2a8");
  EXPECT_EQ(Sign("POST", "/", "", headers, signed_headers, body, "eu-west-1", "dynamodb"),
            "e97c5946e84d62f2e716a21d58ace2adc074efe4b48d924350ca909b621cbc20");
}

TEST(SigV4Test, LambdaPathIsEncodedTwiceAndQuerySorted) {
  std::string_view path =
      "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/"
      "configuration";
  EXPECT_EQ(CanonicalUri(path, false),
            "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A000000000000%253A"
            "function%253Af/configuration");
  EXPECT_EQ(CanonicalUri(path, true), path);
  EXPECT_EQ(CanonicalQuery("a=b%20c&Qualifier=%24LATEST", false), "Qualifier=%24LATEST&a=b%20c");
  EXPECT_EQ(Sign("GET", path, "Qualifier=%24LATEST&a=b%20c",
                 {{"Host", "localhost:4566"}, {"X-Amz-Date", "20150830T123600Z"}},
                 "host;x-amz-date", "", "us-east-1", "lambda"),
            "9a662de657be94f267d4874491f95c4ed47dc7fe9287ee9c6d4113f6beeccd11");
}

TEST(SigV4Test, CanonicalUriNormalizesForNonS3) {
  EXPECT_EQ(CanonicalUri("", false), "/");
  EXPECT_EQ(CanonicalUri("/a//b/./c/../d/", false), "/a/b/d/");
  EXPECT_EQ(CanonicalUri("/a b", false), "/a%20b");
  EXPECT_EQ(CanonicalUri("/a//b", true), "/a//b");
}

TEST(SigV4Test, CanonicalQueryHandlesEmptyValuesAndDropsSignature) {
  EXPECT_EQ(CanonicalQuery("b&a=1&a=0", false), "a=0&a=1&b=");
  EXPECT_EQ(CanonicalQuery("X-Amz-Signature=abc&x=1", true), "x=1");
  EXPECT_EQ(CanonicalQuery("k=a+b", false), "k=a%2Bb");
}

TEST(SigV4Test, CanonicalHeadersTrimsCollapsesAndJoins) {
  std::vector<Header> headers = {{"My-Header", "  a   b  "}, {"my-header", "c"}, {"Other", "x"}};
  EXPECT_EQ(CanonicalHeaders(headers, "my-header"), "my-header:a b,c\n");
}

TEST(SigV4Test, ParsesAuthorizationHeader) {
  std::string value =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/dynamodb/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date, Signature=abcdef";
  ASSERT_OK_AND_ASSIGN(SigV4Auth auth, ParseAuthorizationHeader(value));
  EXPECT_EQ(auth.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(auth.date, "20150830");
  EXPECT_EQ(auth.region, "eu-west-1");
  EXPECT_EQ(auth.service, "dynamodb");
  EXPECT_EQ(auth.signed_headers, "content-type;host;x-amz-date");
  EXPECT_EQ(auth.signature, "abcdef");
  EXPECT_FALSE(auth.presigned);
}

TEST(SigV4Test, MalformedAuthorizationHeaderIsInvalidArgument) {
  EXPECT_THAT(ParseAuthorizationHeader("Basic dXNlcjpwYXNz"),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(ParseAuthorizationHeader("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=ab"),
              StatusIs(ErrorCode::kInvalidArgument, "requires 'Credential' parameter"));
  EXPECT_THAT(ParseAuthorizationHeader(
                  "AWS4-HMAC-SHA256 Credential=AKID/2015/x/y, SignedHeaders=host, Signature=ab"),
              StatusIs(ErrorCode::kInvalidArgument, "Credential should be scoped"));
}

TEST(SigV4Test, ParsesPresignedQuery) {
  std::string query =
      "Action=ListStreams&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%"
      "2Fus-west-2%2Fkinesis%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=300&X-Amz-"
      "SignedHeaders=host&X-Amz-Signature="
      "71b05f5744dd015003b3cfbc7e5c92a2a9565c5b632c1c58ce50c6889e35e85a";
  EXPECT_TRUE(HasPresignedQuery(query));
  std::string storage;
  ASSERT_OK_AND_ASSIGN(SigV4Auth auth, ParsePresignedQuery(query, &storage));
  EXPECT_TRUE(auth.presigned);
  EXPECT_EQ(auth.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(auth.region, "us-west-2");
  EXPECT_EQ(auth.service, "kinesis");
  EXPECT_EQ(auth.amz_date, "20150830T123600Z");
  EXPECT_EQ(auth.expires, "300");
  EXPECT_EQ(auth.signed_headers, "host");

  EXPECT_FALSE(HasPresignedQuery("a=b"));
  EXPECT_THAT(ParsePresignedQuery("X-Amz-Credential=a", &storage),
              StatusIs(ErrorCode::kInvalidArgument, "X-Amz-Signature"));
}

TEST(SigV4Test, AmzDateRoundTrips) {
  auto t = ParseAmzDate("20150830T123600Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatAmzDate(*t), "20150830T123600Z");
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*t), 1440938160);
  EXPECT_FALSE(ParseAmzDate("2015-08-30T12:36:00Z").has_value());
  EXPECT_FALSE(ParseAmzDate("20151330T123600Z").has_value());
}

TEST(SigV4Test, UriEncodeAndDecode) {
  EXPECT_EQ(UriEncode("a b/c~d%", true), "a%20b%2Fc~d%25");
  EXPECT_EQ(UriEncode("a/b", false), "a/b");
  EXPECT_EQ(UriDecode("a%20b%2fc%zz%4"), "a b/c%zz%4");
}

TEST(SigV4Test, SignaturesEqualIgnoresHexCase) {
  EXPECT_TRUE(SignaturesEqual("abcdef", "ABCDEF"));
  EXPECT_FALSE(SignaturesEqual("abcdef", "abcdee"));
  EXPECT_FALSE(SignaturesEqual("abc", "abcd"));
}

}  // namespace
}  // namespace salespipe::http::sigv4
