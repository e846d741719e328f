#include "http/auth.h"

#include <vector>

#include "common/test_util.h"

namespace salespipe::http {
namespace {

using ::salespipe::testing::StatusIs;

constexpr std::string_view kBody = R"({"TableName":"orders","Item":{"id":{"S":"o-1"}}})";
constexpr std::string_view kAuthorization =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/dynamodb/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
    "Signature=e97c5946e84d62f2e716a21d58ace2adc074efe4b48d924350ca909b621cbc20";
// 2015-08-30T12:36:00Z, when botocore signed the vectors (see sigv4_test.cc).
const auto kSignedAt = std::chrono::system_clock::from_time_t(1440938160);

CredentialStore Store() {
  CredentialStore store;
  store.Add("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  return store;
}

class AuthTest : public ::testing::Test {
 protected:
  AuthRequest Request() {
    return AuthRequest{.method = "POST",
                       .path = "/",
                       .authorization = kAuthorization,
                       .amz_date = "20150830T123600Z",
                       .headers = headers_,
                       .body = kBody};
  }

  std::vector<sigv4::Header> headers_ = {{"Content-Type", "application/x-amz-json-1.0"},
                                         {"X-Amz-Target", "DynamoDB_20120810.PutItem"},
                                         {"Host", "localhost:4566"},
                                         {"X-Amz-Date", "20150830T123600Z"},
                                         {"Authorization", kAuthorization}};
  CredentialStore store_ = Store();
  services::RequestContext context_;
};

TEST_F(AuthTest, BotocoreSignatureVerifies) {
  EXPECT_EQ(Authenticate(Request(), AuthMode::kVerify, &store_, kSignedAt, &context_),
            std::nullopt);
  EXPECT_EQ(context_.region, "eu-west-1");
  EXPECT_EQ(context_.account_id, "000000000000");
  EXPECT_EQ(context_.access_key_id, "AKIDEXAMPLE");
}

TEST_F(AuthTest, TamperedBodyIsSignatureMismatch) {
  AuthRequest request = Request();
  request.body = R"({"TableName":"other"})";
  auto error = Authenticate(request, AuthMode::kVerify, &store_, kSignedAt, &context_);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->failure, AuthFailure::kSignatureMismatch);
  EXPECT_EQ(error->message,
            "The request signature we calculated does not match the signature you provided. Check "
            "your AWS Secret Access Key and signing method. Consult the service documentation for "
            "details.");
}

TEST_F(AuthTest, OffModeNeverFailsButFillsContext) {
  AuthRequest request = Request();
  request.body = "tampered";
  EXPECT_EQ(Authenticate(request, AuthMode::kOff, nullptr, kSignedAt, &context_), std::nullopt);
  EXPECT_EQ(context_.region, "eu-west-1");
  request.authorization = "garbage";
  services::RequestContext defaults;
  EXPECT_EQ(Authenticate(request, AuthMode::kOff, nullptr, kSignedAt, &defaults), std::nullopt);
  EXPECT_EQ(defaults.region, "us-east-1");
  EXPECT_EQ(defaults.account_id, "000000000000");
}

TEST_F(AuthTest, TwelveDigitAccessKeyIsTheAccount) {
  AuthRequest request = Request();
  request.authorization =
      "AWS4-HMAC-SHA256 Credential=123456789012/20150830/ap-south-1/dynamodb/aws4_request, "
      "SignedHeaders=host, Signature=00";
  EXPECT_EQ(Authenticate(request, AuthMode::kOff, nullptr, kSignedAt, &context_), std::nullopt);
  EXPECT_EQ(context_.account_id, "123456789012");
  EXPECT_EQ(context_.region, "ap-south-1");
  EXPECT_EQ(AccountIdFor("12345678901"), "000000000000");
  EXPECT_EQ(AccountIdFor("12345678901a"), "000000000000");
}

TEST_F(AuthTest, MissingAuthenticationIsMissingToken) {
  AuthRequest request = Request();
  request.authorization = {};
  auto error = Authenticate(request, AuthMode::kVerify, &store_, kSignedAt, &context_);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->failure, AuthFailure::kMissingToken);
}

TEST_F(AuthTest, UnknownKeyIsUnrecognized) {
  CredentialStore other;
  other.Add("AKIDOTHER", "secret");
  auto error = Authenticate(Request(), AuthMode::kVerify, &other, kSignedAt, &context_);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->failure, AuthFailure::kUnknownAccessKey);
  EXPECT_EQ(error->message, "The security token included in the request is invalid.");
}

TEST_F(AuthTest, MalformedHeaderIsIncomplete) {
  AuthRequest request = Request();
  request.authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/x/y/aws4_request";
  auto error = Authenticate(request, AuthMode::kVerify, &store_, kSignedAt, &context_);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->failure, AuthFailure::kIncompleteSignature);
}

TEST_F(AuthTest, SkewOverFifteenMinutesIsExpired) {
  auto error = Authenticate(Request(), AuthMode::kVerify, &store_,
                            kSignedAt + std::chrono::minutes(16), &context_);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->failure, AuthFailure::kSignatureExpired);
  EXPECT_EQ(error->message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z "
            "(20150830T125200Z - 15 min.)");

  error = Authenticate(Request(), AuthMode::kVerify, &store_, kSignedAt - std::chrono::minutes(16),
                       &context_);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->failure, AuthFailure::kSignatureExpired);
  EXPECT_THAT(error->message, ::testing::StartsWith("Signature not yet current"));

  EXPECT_EQ(Authenticate(Request(), AuthMode::kVerify, &store_,
                         kSignedAt + std::chrono::minutes(14), &context_),
            std::nullopt);
}

TEST_F(AuthTest, PresignedQueryVerifiesAndExpires) {
  // botocore SigV4QueryAuth(expires=300) for GET http://localhost:4566/?Action=ListStreams.
  std::string query =
      "Action=ListStreams&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%"
      "2Fus-west-2%2Fkinesis%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=300&X-Amz-"
      "SignedHeaders=host&X-Amz-Signature="
      "71b05f5744dd015003b3cfbc7e5c92a2a9565c5b632c1c58ce50c6889e35e85a";
  std::vector<sigv4::Header> headers = {{"Host", "localhost:4566"}};
  AuthRequest request{.method = "GET", .path = "/", .query = query, .headers = headers};
  EXPECT_EQ(Authenticate(request, AuthMode::kVerify, &store_, kSignedAt + std::chrono::seconds(299),
                         &context_),
            std::nullopt);
  EXPECT_EQ(context_.region, "us-west-2");
  auto error = Authenticate(request, AuthMode::kVerify, &store_,
                            kSignedAt + std::chrono::seconds(301), &context_);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->failure, AuthFailure::kSignatureExpired);
}

TEST(CredentialStoreTest, ParsesAllProfiles) {
  ASSERT_OK_AND_ASSIGN(CredentialStore store, CredentialStore::Parse(R"(
# comment
[default]
aws_access_key_id = AKIDONE
aws_secret_access_key=secret-one
region = us-east-1

[profile two]
; another comment
aws_access_key_id=AKIDTWO
aws_secret_access_key = secret/two+

[incomplete]
aws_access_key_id = AKIDTHREE
)"));
  EXPECT_EQ(store.size(), 2u);
  ASSERT_NE(store.FindSecret("AKIDONE"), nullptr);
  EXPECT_EQ(*store.FindSecret("AKIDONE"), "secret-one");
  ASSERT_NE(store.FindSecret("AKIDTWO"), nullptr);
  EXPECT_EQ(*store.FindSecret("AKIDTWO"), "secret/two+");
  EXPECT_EQ(store.FindSecret("AKIDTHREE"), nullptr);
}

TEST(CredentialStoreTest, NoCompleteProfileIsInvalid) {
  EXPECT_THAT(CredentialStore::Parse("[default]\naws_access_key_id=x\n"),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(CredentialStore::LoadFile("/nonexistent/credentials"),
              StatusIs(ErrorCode::kNotFound));
}

}  // namespace
}  // namespace salespipe::http
