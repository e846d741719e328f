#include "services/lambda/lambda_service.h"

#include <filesystem>

#include "common/crypto.h"
#include "common/test_util.h"
#include "kv/test_db.h"
#include "lambda/test_zip.h"

namespace salespipe::services::lambda {
namespace {

namespace fs = std::filesystem;
using ::salespipe::testing::StatusIs;

class EchoRunner final : public salespipe::lambda::Runner {
 public:
  Result<salespipe::lambda::InvokeResult> Run(const salespipe::lambda::FunctionSpec& spec,
                                              std::string_view payload,
                                              const salespipe::lambda::RunOptions&) override {
    return salespipe::lambda::InvokeResult{.payload = std::string(payload),
                                           .executed_version = spec.version};
  }
  void Retire(std::string_view) override {}
  void Shutdown() override {}
};

class LambdaServiceTest : public ::testing::Test {
 protected:
  LambdaServiceTest()
      : clock_(1717000000000),
        root_(fs::temp_directory_path() / ("salespipe-lsvc-" + NewUuid())),
        store_(db_.get(), clock_, (root_ / "lambda").string()),
        engine_(store_, runner_) {}
  ~LambdaServiceTest() override { fs::remove_all(root_); }
  void SetUp() override {
    ASSERT_OK(store_.Open());
    ASSERT_OK_AND_ASSIGN(lake_, lake::Lake::Open({.root = (root_ / "lake").string()}, db_.get(),
                                                 clock_));
    service_ = std::make_unique<LambdaService>(engine_, *lake_, clock_, nullptr);
  }

  Result<http::RestResponse> Call(std::string_view method, std::string_view path,
                                  std::string_view body = "", std::string_view query = "") {
    http::RestRequest request{.method = method, .path = path, .query = query, .body = body};
    return service_->Handle(request, context_);
  }
  std::string CreateBody(std::string_view name, std::string_view runtime = "python3.12") {
    std::string zip = salespipe::lambda::testing::MakeZip({{"lambda_function.py", "x"}});
    return R"({"FunctionName":")" + std::string(name) + R"(","Runtime":")" +
           std::string(runtime) +
           R"(","Role":"arn:aws:iam::000000000000:role/r","Handler":"lambda_function.h",)"
           R"("Code":{"ZipFile":")" +
           Base64Encode(zip) + R"("}})";
  }

  FakeClock clock_;
  kv::TestDb db_;
  fs::path root_;
  salespipe::lambda::FunctionStore store_;
  EchoRunner runner_;
  salespipe::lambda::LambdaEngine engine_;
  std::unique_ptr<lake::Lake> lake_;
  std::unique_ptr<LambdaService> service_;
  RequestContext context_;
};

TEST_F(LambdaServiceTest, ClaimsLambdaRequestsOnly) {
  EXPECT_TRUE(service_->Claims({.method = "GET", .path = "/x", .signing_service = "lambda"}));
  EXPECT_FALSE(service_->Claims({.method = "GET", .path = "/2015-03-31/functions",
                                 .signing_service = "s3"}));
  EXPECT_TRUE(service_->Claims({.method = "GET", .path = "/2015-03-31/functions"}));
  EXPECT_TRUE(service_->Claims({.method = "GET", .path = "/_salespipe/lambda-code/a/b/c/d.zip"}));
  EXPECT_FALSE(service_->Claims({.method = "GET", .path = "/bucket/key"}));
  // An unsigned request for a bucket named like a Lambda date segment is S3's.
  ASSERT_OK(lake_->CreateBucket("2015-03-31", "us-east-1"));
  EXPECT_FALSE(service_->Claims({.method = "GET", .path = "/2015-03-31/functions"}));
  EXPECT_TRUE(service_->Claims({.method = "GET", .path = "/2015-03-31/functions",
                                .signing_service = "lambda"}));
}

TEST_F(LambdaServiceTest, CreateGetInvokeDelete) {
  ASSERT_OK_AND_ASSIGN(http::RestResponse created,
                       Call("POST", "/2015-03-31/functions", CreateBody("f")));
  EXPECT_EQ(created.http_status, 201);
  EXPECT_NE(created.body.find(R"("State":"Pending")"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(http::RestResponse got,
                       Call("GET", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A"
                                   "000000000000%3Afunction%3Af"));
  EXPECT_NE(got.body.find(R"("State":"Active")"), std::string::npos);
  EXPECT_NE(got.body.find("/_salespipe/lambda-code/000000000000/us-east-1/f/"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(http::RestResponse invoked,
                       Call("POST", "/2015-03-31/functions/f/invocations", R"({"k":1})"));
  EXPECT_EQ(invoked.http_status, 200);
  EXPECT_EQ(invoked.body, R"({"k":1})");
  EXPECT_THAT(Call("POST", "/2015-03-31/functions/f/invocations", "{oops"),
              StatusIs(ErrorCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(http::RestResponse deleted, Call("DELETE", "/2015-03-31/functions/f"));
  EXPECT_EQ(deleted.http_status, 204);
  Result<http::RestResponse> missing = Call("GET", "/2015-03-31/functions/f");
  ASSERT_THAT(missing, StatusIs(ErrorCode::kNotFound));
  std::optional<http::RestResponse> rendered = service_->RenderError(missing.status(), "rid");
  ASSERT_TRUE(rendered.has_value());
  EXPECT_EQ(rendered->http_status, 404);
  EXPECT_EQ(rendered->headers[0].second, "ResourceNotFoundException");
  EXPECT_NE(rendered->body.find(
                R"("Message":"Function not found: arn:aws:lambda:us-east-1:000000000000:function:f")"),
            std::string::npos);
}

TEST_F(LambdaServiceTest, ValidationAndRuntimeErrors) {
  Result<http::RestResponse> unknown =
      Call("POST", "/2015-03-31/functions", CreateBody("f", "cobol85"));
  ASSERT_THAT(unknown, StatusIs(ErrorCode::kInvalidArgument,
                                "1 validation error detected: Value 'cobol85' at 'runtime'"));
  EXPECT_EQ(unknown.status().aws_code(), "ValidationException");
  Result<http::RestResponse> deprecated =
      Call("POST", "/2015-03-31/functions", CreateBody("f", "python2.7"));
  EXPECT_EQ(deprecated.status().aws_code(), "InvalidParameterValueException");
  Result<http::RestResponse> bad_zip = Call(
      "POST", "/2015-03-31/functions",
      R"({"FunctionName":"g","Runtime":"python3.12","Role":"arn:aws:iam::000000000000:role/r",)"
      R"("Handler":"a.b","Code":{"ZipFile":"bm90IGEgemlw"}})");
  ASSERT_THAT(bad_zip, StatusIs(ErrorCode::kInvalidArgument, "Could not unzip uploaded file"));
  EXPECT_THAT(Call("GET", "/2015-03-31/functions/g"), StatusIs(ErrorCode::kNotFound));
  Result<http::RestResponse> paging = Call("GET", "/2015-03-31/functions", "", "MaxItems=0");
  EXPECT_EQ(paging.status().aws_code(), "ValidationException");
}

TEST_F(LambdaServiceTest, ListFunctionsPages) {
  for (std::string name : {"a", "b", "c"}) {
    ASSERT_OK(Call("POST", "/2015-03-31/functions", CreateBody(name)).status());
  }
  ASSERT_OK_AND_ASSIGN(http::RestResponse first,
                       Call("GET", "/2015-03-31/functions/", "", "MaxItems=2"));
  EXPECT_NE(first.body.find(R"("NextMarker":"b")"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(http::RestResponse second,
                       Call("GET", "/2015-03-31/functions/", "", "MaxItems=2&Marker=b"));
  EXPECT_NE(second.body.find(R"("FunctionName":"c")"), std::string::npos);
  EXPECT_EQ(second.body.find("NextMarker"), std::string::npos);
}

}  // namespace
}  // namespace salespipe::services::lambda
