#include "http/router.h"

#include <functional>

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

// Claims what its predicate accepts and records what the router showed it.
class ClaimingRest : public RestHandler {
 public:
  explicit ClaimingRest(std::function<bool(const RestRouteInput&)> claims)
      : claims_(std::move(claims)) {}
  std::string_view service_name() const override { return "claiming"; }
  bool Claims(const RestRouteInput& input) const override {
    last_signing_service = std::string(input.signing_service);
    last_host = std::string(input.host);
    return claims_(input);
  }
  Result<RestResponse> Handle(const RestRequest&, const services::RequestContext&) override {
    return RestResponse{};
  }
  mutable std::string last_signing_service;
  mutable std::string last_host;

 private:
  std::function<bool(const RestRouteInput&)> claims_;
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

TEST(SigningServiceTest, FromAuthorizationHeaderOrPresignedQuery) {
  std::string storage;
  EXPECT_EQ(SigningService("AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1/lambda/"
                           "aws4_request, SignedHeaders=host, Signature=00",
                           "", &storage),
            "lambda");
  EXPECT_EQ(
      SigningService("AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1/sts/aws4_request,"
                     "SignedHeaders=host,Signature=00",
                     "X-Amz-Credential=AKID%2F20240501%2Fus-east-1%2Fs3%2Faws4_request", &storage),
      "sts");  // the header wins
  EXPECT_EQ(SigningService("",
                           "a=1&X-Amz-Credential=AKID%2F20240501%2Fus-east-1%2Fs3%2Faws4_request"
                           "&X-Amz-Signature=00",
                           &storage),
            "s3");
  EXPECT_EQ(SigningService("", "a=1&b", &storage), "");
  EXPECT_EQ(SigningService("AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1", "", &storage),
            "");
  EXPECT_EQ(SigningService("Basic dXNlcjpwYXNz", "", &storage), "");
  EXPECT_EQ(SigningService("", "X-Amz-Credential=%%%", &storage), "");
}

TEST_F(RouterTest, RestHandlersAreAskedInOrderFirstClaimWins) {
  ClaimingRest lambda([](const RestRouteInput& input) {
    return input.signing_service == "lambda" ||
           (input.signing_service.empty() && input.path.starts_with("/2015-03-31/"));
  });
  ClaimingRest iam([](const RestRouteInput& input) {
    return input.signing_service == "iam" || input.signing_service == "sts";
  });
  ClaimingRest s3([](const RestRouteInput&) { return true; });
  std::vector<RestHandler*> handlers{&lambda, &iam, &s3};
  Router router(services_, handlers);

  auto resolve = [&](std::string_view path, std::string_view service) {
    std::string authorization = service.empty()
                                    ? ""
                                    : "AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1/" +
                                          std::string(service) +
                                          "/aws4_request, SignedHeaders=host, "
                                          "Signature=00";
    return router.Resolve(RouteRequest{
        .method = "GET", .path = path, .authorization = authorization, .host = "localhost:4566"});
  };
  EXPECT_EQ(resolve("/2015-03-31/functions", "lambda").rest, &lambda);
  EXPECT_EQ(resolve("/2015-03-31/functions", "").rest, &lambda);
  // A bucket named like a Lambda date segment, signed for S3, stays S3 (spec 1.1 step 3).
  EXPECT_EQ(resolve("/2015-03-31/functions", "s3").rest, &s3);
  EXPECT_EQ(resolve("/", "sts").rest, &iam);
  EXPECT_EQ(resolve("/", "iam").rest, &iam);
  Route route = resolve("/bucket/key", "s3");
  EXPECT_EQ(route.kind, RouteKind::kRest);
  EXPECT_EQ(route.rest, &s3);
  EXPECT_EQ(s3.last_signing_service, "s3");
  EXPECT_EQ(s3.last_host, "localhost:4566");

  // X-Amz-Target still comes before any REST handler.
  route = router.Resolve(RouteRequest{.method = "POST",
                                      .path = "/",
                                      .target = "DynamoDB_20120810.PutItem",
                                      .authorization = "AWS4-HMAC-SHA256 Credential=A/20240501/"
                                                       "us-east-1/lambda/aws4_request"});
  EXPECT_EQ(route.kind, RouteKind::kJson);
  EXPECT_EQ(route.rest, nullptr);
}

TEST_F(RouterTest, UnclaimedRestRequestIsNotImplemented) {
  ClaimingRest lambda(
      [](const RestRouteInput& input) { return input.signing_service == "lambda"; });
  std::vector<RestHandler*> handlers{&lambda, nullptr};
  Router router(services_, handlers);
  EXPECT_EQ(router.Resolve("GET", "/bucket/key", std::nullopt, "").kind,
            RouteKind::kNotImplemented);
  EXPECT_EQ(router.rest_handlers().size(), 1u);
}

}  // namespace
}  // namespace salespipe::http
