#include "services/kinesis/kinesis_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/test_util.h"
#include "kv/test_db.h"

namespace salespipe::services::kinesis {
namespace {

using ::salespipe::testing::StatusIs;
using ::testing::HasSubstr;

class KinesisServiceTest : public ::testing::Test {
 protected:
  KinesisServiceTest() : clock_(1'714'348'800'000), log_(db_.get(), clock_), service_(log_, clock_) {
    EXPECT_OK(log_.Open());
  }

  Result<JsonDocument> Call(std::string_view op, std::string_view body) {
    ASSIGN_OR_RETURN(std::string out, service_.Handle(op, body, context_));
    return ParseJsonBody(out);
  }

  FakeClock clock_;
  kv::TestDb db_;
  log::ShardLog log_;
  KinesisService service_;
  RequestContext context_;
};

TEST(KinesisFormatTest, SequenceNumbersRoundTripAndEncodeTheShard) {
  log::ShardId shard{log::StreamId{12}, 3};
  std::string text = KinesisService::FormatSequenceNumber(shard, {1234567890123456789ull});
  EXPECT_EQ(text.size(), 56u);
  EXPECT_EQ(text.substr(0, 2), "49");
  ASSERT_OK_AND_ASSIGN(auto parsed, KinesisService::ParseSequenceNumber(text));
  EXPECT_EQ(parsed.first, shard);
  EXPECT_EQ(parsed.second.value, 1234567890123456789ull);
  EXPECT_LT(KinesisService::FormatSequenceNumber(shard, {5}),
            KinesisService::FormatSequenceNumber(shard, {6}));
  EXPECT_THAT(KinesisService::ParseSequenceNumber("14"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_EQ(KinesisService::FormatShardId(7), "shardId-000000000007");
  EXPECT_EQ(KinesisService::FormatShardId(4294967295u), "shardId-004294967295");
  // The extremes of every field, as printf's "49%020llu%014u%020llu" writes them.
  EXPECT_EQ(KinesisService::FormatSequenceNumber({log::StreamId{18446744073709551615ull},
                                                  4294967295u},
                                                 {18446744073709551615ull}),
            "49" "18446744073709551615" "00004294967295" "18446744073709551615");
  EXPECT_EQ(KinesisService::FormatSequenceNumber({log::StreamId{0}, 0}, {0}),
            "49" + std::string(54, '0'));
}

TEST_F(KinesisServiceTest, PutAndGetRecords) {
  ASSERT_OK(Call("CreateStream", R"({"StreamName":"orders","ShardCount":2})").status());
  EXPECT_THAT(Call("CreateStream", R"({"StreamName":"orders","ShardCount":2})"),
              StatusIs(ErrorCode::kAlreadyExists, "already exists"));
  ASSERT_OK_AND_ASSIGN(auto put, Call("PutRecord",
                                      R"({"StreamName":"orders","PartitionKey":"a","Data":"aGk="})"));
  std::string shard = put["ShardId"].GetString();
  ASSERT_OK_AND_ASSIGN(auto it, Call("GetShardIterator", R"({"StreamName":"orders","ShardId":")" +
                                                             shard +
                                                             R"(","ShardIteratorType":"TRIM_HORIZON"})"));
  std::string body = std::string(R"({"ShardIterator":")") + it["ShardIterator"].GetString() + "\"}";
  ASSERT_OK_AND_ASSIGN(auto got, Call("GetRecords", body));
  ASSERT_EQ(got["Records"].Size(), 1u);
  EXPECT_STREQ(got["Records"][0]["Data"].GetString(), "aGk=");
  EXPECT_STREQ(got["Records"][0]["SequenceNumber"].GetString(), put["SequenceNumber"].GetString());
  EXPECT_TRUE(got.HasMember("NextShardIterator"));
  clock_.Advance(std::chrono::minutes(6));
  EXPECT_THAT(service_.Handle("GetRecords", body, context_),
              StatusIs(ErrorCode::kFailedPrecondition, "Iterator expired"));
  EXPECT_THAT(service_.Handle("GetRecords", R"({"ShardIterator":"bogus"})", context_),
              StatusIs(ErrorCode::kInvalidArgument, "Invalid ShardIterator."));
}

TEST_F(KinesisServiceTest, ErrorsNameTheirClass) {
  auto missing = service_.Handle("DescribeStream", R"({"StreamName":"nope"})", context_);
  EXPECT_THAT(missing, StatusIs(ErrorCode::kNotFound,
                                "Stream nope under account 000000000000 not found."));
  auto invalid = service_.Handle("CreateStream", R"({"StreamName":"bad name!","ShardCount":0})",
                                 context_);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().aws_code(), "ValidationException");
  EXPECT_THAT(invalid.status().message(), HasSubstr("2 validation errors detected"));
}

}  // namespace
}  // namespace salespipe::services::kinesis
