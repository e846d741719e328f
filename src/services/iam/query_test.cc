#include "services/iam/query.h"

#include "common/test_util.h"
#include "kv/test_db.h"
#include "services/iam/iam_service.h"

namespace salespipe::services::iam {
namespace {

using ::salespipe::testing::StatusIs;

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(QueryParamsTest, DecodesFormBodyAndQueryString) {
  QueryParams params = QueryParams::Parse(
      "Version=2010-05-08", "Action=CreateRole&RoleName=r%2B1&Doc=%7B%22a%22%3A+1%7D&Empty=&Bare");
  EXPECT_EQ(params.Get("Action"), "CreateRole");
  EXPECT_EQ(params.Get("Version"), "2010-05-08");
  EXPECT_EQ(params.Get("RoleName"), "r+1");
  EXPECT_EQ(params.Get("Doc"), R"({"a": 1})");
  EXPECT_EQ(params.Get("Empty"), "");
  EXPECT_EQ(params.Get("Bare"), "");
  EXPECT_EQ(params.Get("Missing"), std::nullopt);
  EXPECT_EQ(FormDecode("%zz%4"), "%zz%4");  // malformed escapes stay
}

TEST(QueryParamsTest, ListsTagsAndIntegers) {
  QueryParams params = QueryParams::Parse(
      "",
      "TagKeys.member.1=a&TagKeys.member.2=b&TagKeys.member.4=d&Tags.member.1.Key=k&"
      "Tags.member.1.Value=v&Tags.member.2.Key=k2&MaxItems=7&Bad=x&Big=9999");
  EXPECT_THAT(params.List("TagKeys"), ElementsAre("a", "b"));
  EXPECT_THAT(params.Tags("Tags"), ElementsAre(Pair("k", "v"), Pair("k2", "")));
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> max_items, params.Integer("MaxItems", 1, 1000));
  EXPECT_EQ(max_items, 7);
  EXPECT_THAT(params.Integer("Bad", 1, 10), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(params.Integer("Big", 1, 1000),
              StatusIs(ErrorCode::kInvalidArgument, "less than or equal to 1000"));
  EXPECT_THAT(params.Required("RoleName"),
              StatusIs(ErrorCode::kInvalidArgument, "Value null at 'roleName'"));
}

TEST(QueryXmlTest, WritesResponseAndErrorDocuments) {
  QueryXmlWriter xml("GetRole", kIamNamespace);
  xml.Open("Role").Element("RoleName", "a<b&c").Close("Role");
  EXPECT_EQ(xml.Finish("rid"),
            "<GetRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetRoleResult>"
            "<Role><RoleName>a&lt;b&amp;c</RoleName></Role></GetRoleResult><ResponseMetadata>"
            "<RequestId>rid</RequestId></ResponseMetadata></GetRoleResponse>");
  EXPECT_EQ(QueryXmlWriter("DeleteRole", kIamNamespace, false).Finish("rid"),
            "<DeleteRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
            "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteRoleResponse>");
  EXPECT_EQ(IsoDate(1714564800), "2024-05-01T12:00:00Z");
}

TEST(QueryErrorTest, StatusAndCodeFollowTheModel) {
  http::RestResponse response = RenderQueryError(
      Status::NotFound("The role with name r cannot be found.").WithAwsCode("NoSuchEntity"),
      kIamNamespace, "rid");
  EXPECT_EQ(response.http_status, 404);
  EXPECT_EQ(response.body,
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>"
            "<Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name r cannot be "
            "found.</Message></Error><RequestId>rid</RequestId></ErrorResponse>");
  EXPECT_EQ(RenderQueryError(Status::AlreadyExists("x"), kIamNamespace, "r").http_status, 409);
  EXPECT_EQ(RenderQueryError(Status::FailedPrecondition("x"), kIamNamespace, "r").http_status, 409);
  response = RenderQueryError(Status::Internal("rocksdb: /secret/path"), kStsNamespace, "r");
  EXPECT_EQ(response.http_status, 500);
  EXPECT_THAT(response.body, ::testing::HasSubstr("<Type>Receiver</Type><Code>ServiceFailure"));
  EXPECT_THAT(response.body, ::testing::Not(::testing::HasSubstr("secret")));
  response = RenderQueryError(
      Status::Unauthenticated("bad").WithAwsCode("InvalidSignatureException"), kStsNamespace, "r");
  EXPECT_EQ(response.http_status, 403);
  EXPECT_THAT(response.body, ::testing::HasSubstr("<Code>SignatureDoesNotMatch</Code>"));
}

TEST(IamServiceTest, ClaimsIamAndStsAndUnsignedFormPosts) {
  kv::TestDb db;
  FakeClock clock(int64_t{1714564800000});
  IamService service(db.get(), clock);
  EXPECT_TRUE(service.Claims({.method = "POST", .path = "/", .signing_service = "sts"}));
  EXPECT_TRUE(service.Claims({.method = "GET", .path = "/", .signing_service = "iam"}));
  EXPECT_FALSE(service.Claims({.method = "POST",
                               .path = "/",
                               .content_type = "application/x-www-form-urlencoded",
                               .signing_service = "s3"}));
  EXPECT_TRUE(service.Claims({.method = "POST",
                              .path = "/",
                              .content_type = "application/x-www-form-urlencoded; charset=utf-8"}));
  EXPECT_FALSE(service.Claims(
      {.method = "POST", .path = "/bucket", .content_type = "application/x-www-form-urlencoded"}));
  EXPECT_FALSE(
      service.Claims({.method = "POST", .path = "/", .content_type = "multipart/form-data"}));
}

}  // namespace
}  // namespace salespipe::services::iam
