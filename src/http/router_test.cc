#include "http/router.h"

#include "common/test_util.h"

namespace salespipe::http {
namespace {

class StubService : public services::JsonService {
 public:
  explicit StubService(std::string_view prefix) : prefix_(prefix) {}
  std::string_view target_prefix() const override { return prefix_; }
  std::string_view service_name() const override { return "stub"; }
  std::string_view content_type() const override { return "application/x-amz-json-1.0"; }
  std::string_view error_namespace() const override { return ""; }
  bool HasOperation(std::string_view operation) const override { return operation == "PutItem"; }
  Result<std::string> Handle(std::string_view, std::string_view,
                             const services::RequestContext&) override {
    return std::string("{}");
  }

 private:
  std::string_view prefix_;
};

class StubRest : public RestHandler {
 public:
  std::string_view service_name() const override { return "s3"; }
  Result<RestResponse> Handle(const RestRequest&, const services::RequestContext&) override {
    return RestResponse{};
  }
};

class RouterTest : public ::testing::Test {
 protected:
  StubService dynamodb_{"DynamoDB_20120810"};
  StubService streams_{"DynamoDBStreams_20120810"};
  std::vector<services::JsonService*> services_{&dynamodb_, &streams_};
  Router router_{services_, nullptr};
};

TEST_F(RouterTest, TargetSelectsServiceAndOperation) {
  Route route = router_.Resolve("POST", "/", "DynamoDBStreams_20120810.PutItem",
                                "application/x-amz-json-1.0");
  EXPECT_EQ(route.kind, RouteKind::kJson);
  EXPECT_EQ(route.service, &streams_);
  EXPECT_EQ(route.operation, "PutItem");
}

TEST_F(RouterTest, UnknownPrefixOrOperationIsUnknownOperation) {
  EXPECT_EQ(router_.Resolve("POST", "/", "Nope_1.PutItem", "").kind, RouteKind::kUnknownOperation);
  EXPECT_EQ(router_.Resolve("POST", "/", "NoDot", "").kind, RouteKind::kUnknownOperation);
  Route route = router_.Resolve("POST", "/", "DynamoDB_20120810.Frobnicate", "");
  EXPECT_EQ(route.kind, RouteKind::kUnknownOperation);
  EXPECT_EQ(route.service, &dynamodb_);
  EXPECT_EQ(router_.Resolve("GET", "/", "DynamoDB_20120810.PutItem", "").kind,
            RouteKind::kUnknownOperation);
}

TEST_F(RouterTest, ContentTypes) {
  for (std::string_view type :
       {"", "application/x-amz-json-1.0", "application/x-amz-json-1.1", "application/json",
        "application/json; charset=utf-8", "Application/X-Amz-Json-1.0"}) {
    EXPECT_EQ(router_.Resolve("POST", "/", "DynamoDB_20120810.PutItem", type).kind,
              RouteKind::kJson)
        << type;
  }
  EXPECT_EQ(router_.Resolve("POST", "/", "DynamoDB_20120810.PutItem", "text/plain").kind,
            RouteKind::kUnsupportedMediaType);
}

TEST_F(RouterTest, InternalEndpointsAndFallback) {
  EXPECT_EQ(router_.Resolve("GET", "/_salespipe/health", std::nullopt, "").kind,
            RouteKind::kHealth);
  EXPECT_EQ(router_.Resolve("GET", "/_salespipe/metrics", std::nullopt, "").kind,
            RouteKind::kMetrics);
  EXPECT_EQ(router_.Resolve("POST", "/_salespipe/health", std::nullopt, "").kind,
            RouteKind::kNotImplemented);
  EXPECT_EQ(router_.Resolve("GET", "/bucket/key", std::nullopt, "").kind,
            RouteKind::kNotImplemented);

  StubRest rest;
  Router with_rest(services_, &rest);
  EXPECT_EQ(with_rest.Resolve("GET", "/bucket/key", std::nullopt, "").kind, RouteKind::kRest);
  EXPECT_EQ(with_rest.Resolve("GET", "/_salespipe/health", std::nullopt, "").kind,
            RouteKind::kHealth);
}

}  // namespace
}  // namespace salespipe::http
