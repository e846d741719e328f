#include "http/metrics.h"

#include "common/test_util.h"
#include "kv/test_db.h"

namespace salespipe::http {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, ForReturnsTheSameStableObject) {
  Metrics metrics;
  OperationMetrics& a = metrics.For("dynamodb", "PutItem");
  metrics.For("dynamodb", "GetItem");
  metrics.For("kinesis", "PutRecord");
  EXPECT_EQ(&a, &metrics.For("dynamodb", "PutItem"));
}

TEST(MetricsTest, RendersCountersHistogramAndGauges) {
  Metrics metrics;
  OperationMetrics& put = metrics.For("dynamodb", "PutItem");
  put.Record(200, std::chrono::microseconds(300));
  put.Record(200, std::chrono::milliseconds(3));
  put.Record(400, std::chrono::seconds(5));
  kv::TestDb db;
  std::string text = metrics.Render(7, &db.get());
  EXPECT_THAT(text, HasSubstr("# TYPE salespipe_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("salespipe_requests_total{service=\"dynamodb\",operation=\"PutItem\","
                              "status=\"200\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("salespipe_requests_total{service=\"dynamodb\",operation=\"PutItem\","
                              "status=\"400\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE salespipe_request_duration_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("salespipe_request_duration_seconds_bucket{service=\"dynamodb\","
                              "operation=\"PutItem\",le=\"0.00025\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("salespipe_request_duration_seconds_bucket{service=\"dynamodb\","
                              "operation=\"PutItem\",le=\"0.0005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("salespipe_request_duration_seconds_bucket{service=\"dynamodb\","
                              "operation=\"PutItem\",le=\"0.005\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("salespipe_request_duration_seconds_bucket{service=\"dynamodb\","
                              "operation=\"PutItem\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("salespipe_request_duration_seconds_count{service=\"dynamodb\","
                              "operation=\"PutItem\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("salespipe_request_duration_seconds_sum{service=\"dynamodb\","
                              "operation=\"PutItem\"} 5.003300000\n"));
  EXPECT_THAT(text, HasSubstr("salespipe_requests_in_flight 7\n"));
  EXPECT_THAT(text, HasSubstr("salespipe_store_bytes{cf=\"items\"} "));
  EXPECT_THAT(text, HasSubstr("salespipe_store_keys{cf=\"meta\"} "));
}

TEST(MetricsTest, ManyStatusesAreAllCounted) {
  Metrics metrics;
  OperationMetrics& op = metrics.For("s", "o");
  for (int status = 400; status < 420; ++status) op.Record(status, std::chrono::microseconds(1));
  std::string text = metrics.Render(0, nullptr);
  EXPECT_THAT(text, HasSubstr("status=\"400\"} 1\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("salespipe_store_bytes")));
}

}  // namespace
}  // namespace salespipe::http
