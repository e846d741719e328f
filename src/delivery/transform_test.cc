#include "delivery/transform.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <deque>

#include "common/crypto.h"
#include "common/test_util.h"

namespace salespipe::delivery {
namespace {

// Answers each Invoke with the next scripted response (or status), recording the requests.
class FakeInvoker : public lambda::Invoker {
 public:
  using Handler = std::function<Result<lambda::InvokeResult>(const lambda::InvokeRequest&)>;
  explicit FakeInvoker(Handler handler) : handler_(std::move(handler)) {}
  Result<lambda::InvokeResult> Invoke(const lambda::InvokeRequest& request) override {
    requests.push_back(request);
    return handler_(request);
  }
  std::vector<lambda::InvokeRequest> requests;

 private:
  Handler handler_;
};

lambda::InvokeResult Payload(std::string payload) {
  return lambda::InvokeResult{.payload = std::move(payload)};
}

// A response that answers every record of the event with `result` (Ok: data uppercased).
std::string Respond(const std::string& event, std::string_view result, bool drop_last = false,
                    bool duplicate_first = false) {
  rapidjson::Document doc;
  doc.Parse(event.c_str());
  std::string out = "{\"records\":[";
  const auto& records = doc["records"];
  rapidjson::SizeType n = records.Size() - (drop_last ? 1 : 0);
  for (rapidjson::SizeType i = 0; i < n; ++i) {
    std::string id = records[i]["recordId"].GetString();
    std::string data = *Base64Decode(records[i]["data"].GetString());
    for (char& c : data) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (i > 0) out += ",";
    out += "{\"recordId\":\"" + id + "\",\"result\":\"" + std::string(result) + "\"";
    if (result == "Ok") out += ",\"data\":\"" + Base64Encode(data) + "\"";
    out += "}";
    if (duplicate_first && i == 0) out += ",{\"recordId\":\"" + id + "\",\"result\":\"Dropped\"}";
  }
  return out + "]}";
}

class TransformTest : public ::testing::Test {
 protected:
  TransformTest() : clock_(1714566910123) {
    for (int i = 0; i < 3; ++i) {
      records_.push_back(SourceRecord{.shard = 0,
                                      .sequence = static_cast<uint64_t>(100 + i),
                                      .arrival_millis = 1714566910000 + i,
                                      .partition_key = "pk",
                                      .data = "record-" + std::to_string(i),
                                      .record_id = "id-" + std::to_string(i),
                                      .kinesis_sequence = "4965" + std::to_string(i)});
    }
    for (const SourceRecord& r : records_) pointers_.push_back(&r);
  }
  TransformResult Run(FakeInvoker& invoker, int retries = 2) {
    return Transform(&invoker, LambdaProcessor{.function_arn = kArn, .retries = retries}, context_,
                     pointers_, clock_);
  }
  static constexpr const char* kArn = "arn:aws:lambda:us-east-1:000000000000:function:f";
  FakeClock clock_;
  std::vector<SourceRecord> records_;
  std::vector<const SourceRecord*> pointers_;
  TransformContext context_{.stream_arn = "arn:aws:firehose:us-east-1:000000000000:deliverystream/s",
                            .region = "us-east-1",
                            .account = "000000000000"};
};

TEST_F(TransformTest, EventFollowsTheContract) {
  std::string event = BuildTransformEvent(context_, pointers_, "inv-1");
  rapidjson::Document doc;
  doc.Parse(event.c_str());
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["invocationId"].GetString(), "inv-1");
  EXPECT_STREQ(doc["deliveryStreamArn"].GetString(), context_.stream_arn.c_str());
  EXPECT_STREQ(doc["region"].GetString(), "us-east-1");
  EXPECT_FALSE(doc.HasMember("sourceKinesisStreamArn"));
  ASSERT_EQ(doc["records"].Size(), 3u);
  EXPECT_STREQ(doc["records"][0]["recordId"].GetString(), "id-0");
  EXPECT_EQ(doc["records"][0]["approximateArrivalTimestamp"].GetInt64(), 1714566910000);
  EXPECT_EQ(*Base64Decode(doc["records"][1]["data"].GetString()), "record-1");
  EXPECT_FALSE(doc["records"][0].HasMember("kinesisRecordMetadata"));

  context_.source_kinesis_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/k";
  doc.Parse(BuildTransformEvent(context_, pointers_, "inv-2").c_str());
  EXPECT_STREQ(doc["sourceKinesisStreamArn"].GetString(), context_.source_kinesis_arn.c_str());
  const auto& meta = doc["records"][2]["kinesisRecordMetadata"];
  EXPECT_STREQ(meta["shardId"].GetString(), "shardId-000000000000");
  EXPECT_STREQ(meta["partitionKey"].GetString(), "pk");
  EXPECT_STREQ(meta["sequenceNumber"].GetString(), "49652");
  EXPECT_EQ(meta["approximateArrivalTimestamp"].GetInt64(), 1714566910002);
  EXPECT_EQ(meta["subsequenceNumber"].GetInt(), 0);
}

TEST_F(TransformTest, OkDroppedAndProcessingFailed) {
  int call = 0;
  FakeInvoker invoker([&](const lambda::InvokeRequest& request) -> Result<lambda::InvokeResult> {
    ++call;
    EXPECT_EQ(request.function, kArn);
    EXPECT_EQ(request.type, lambda::InvocationType::kRequestResponse);
    rapidjson::Document doc;
    doc.Parse(request.payload.c_str());
    const auto& r = doc["records"];
    std::string out = "{\"records\":[";
    out += "{\"recordId\":\"" + std::string(r[0]["recordId"].GetString()) +
           "\",\"result\":\"Ok\",\"data\":\"" + Base64Encode("T0\n") +
           "\",\"metadata\":{\"partitionKeys\":{\"region\":\"EU\"}}},";
    out += "{\"recordId\":\"" + std::string(r[1]["recordId"].GetString()) + "\",\"result\":\"Dropped\"},";
    out += "{\"recordId\":\"" + std::string(r[2]["recordId"].GetString()) +
           "\",\"result\":\"ProcessingFailed\"}]}";
    return Payload(out);
  });
  TransformResult result = Run(invoker);
  EXPECT_EQ(call, 1);
  ASSERT_EQ(result.ok.size(), 1u);
  EXPECT_EQ(result.ok[0].data, "T0\n");
  EXPECT_EQ(result.ok[0].partition_keys.at("region"), "EU");
  EXPECT_EQ(result.dropped, 1);
  ASSERT_EQ(result.failed.size(), 1u);
  EXPECT_EQ(result.failed[0].index, 2u);
  EXPECT_EQ(result.failed[0].error_code, "Lambda.ProcessingFailedStatus");
  EXPECT_EQ(result.failed[0].attempts, 1);
}

TEST_F(TransformTest, ContractBreakersAreRetriedThenFailed) {
  struct Case {
    std::function<Result<lambda::InvokeResult>(const lambda::InvokeRequest&)> respond;
    std::string code;
  };
  std::vector<Case> cases = {
      {[](const auto& r) { return Payload(Respond(r.payload, "Ok", /*drop_last=*/true)); },
       "Lambda.MissingRecordId"},
      {[](const auto& r) { return Payload(Respond(r.payload, "Ok", false, /*duplicate=*/true)); },
       "Lambda.DuplicatedRecordId"},
      {[](const auto&) { return Payload("this is not json"); }, "Lambda.JsonProcessingException"},
      {[](const auto& r) { return Payload(Respond(r.payload, "Maybe")); },
       "Lambda.JsonProcessingException"},
      {[](const auto& r) {
         std::string p = Respond(r.payload, "Ok");
         size_t at = p.find("\"data\":\"") + 8;
         p.insert(at, "!!");
         return Payload(p);
       },
       "Lambda.JsonProcessingException"},
      {[](const auto& r) {
         lambda::InvokeResult result = Payload(R"({"errorMessage":"boom"})");
         result.function_error = "Unhandled";
         return Result<lambda::InvokeResult>(result);
       },
       "Lambda.FunctionError"},
      {[](const auto&) { return Result<lambda::InvokeResult>(Status::NotFound("no such function")); },
       "Lambda.ResourceNotFound"},
      {[](const auto&) { return Result<lambda::InvokeResult>(Status::ResourceExhausted("busy")); },
       "Lambda.InvokeLimitExceeded"},
      {[](const auto&) { return Payload(std::string(kMaxInvokePayload + 1, ' ')); },
       "Lambda.MissingRecordId"},
  };
  for (const Case& c : cases) {
    FakeInvoker invoker(c.respond);
    TransformResult result = Run(invoker, /*retries=*/2);
    EXPECT_EQ(invoker.requests.size(), 3u) << c.code;
    EXPECT_TRUE(result.ok.empty());
    ASSERT_EQ(result.failed.size(), 3u) << c.code;
    for (const FailedRecord& f : result.failed) {
      EXPECT_EQ(f.error_code, c.code);
      EXPECT_EQ(f.attempts, 3);
    }
  }
}

TEST_F(TransformTest, RetrySucceeds) {
  int call = 0;
  FakeInvoker invoker([&](const lambda::InvokeRequest& r) -> Result<lambda::InvokeResult> {
    if (++call == 1) return Status::Internal("platform hiccup");
    return Payload(Respond(r.payload, "Ok"));
  });
  TransformResult result = Run(invoker);
  EXPECT_EQ(call, 2);
  ASSERT_EQ(result.ok.size(), 3u);
  EXPECT_EQ(result.ok[2].data, "RECORD-2");
}

TEST_F(TransformTest, NoInvokerFailsAsResourceNotFound) {
  TransformResult result = Transform(nullptr, LambdaProcessor{.function_arn = kArn, .retries = 0},
                                     context_, pointers_, clock_);
  ASSERT_EQ(result.failed.size(), 3u);
  EXPECT_EQ(result.failed[0].error_code, "Lambda.ResourceNotFound");
}

TEST_F(TransformTest, ErrorEnvelope) {
  std::string line = ErrorEnvelope(records_[0],
                                   FailedRecord{.error_code = "Lambda.ProcessingFailedStatus",
                                                .error_message = "ProcessingFailed status set for record",
                                                .attempts = 1,
                                                .attempt_ending_millis = 1714566911456},
                                   kArn);
  EXPECT_EQ(line,
            "{\"attemptsMade\":1,\"arrivalTimestamp\":1714566910000,\"errorCode\":\"Lambda."
            "ProcessingFailedStatus\",\"errorMessage\":\"ProcessingFailed status set for "
            "record\",\"attemptEndingTimestamp\":1714566911456,\"rawData\":\"" +
                Base64Encode("record-0") + "\",\"lambdaArn\":\"" + kArn + "\"}\n");
}

}  // namespace
}  // namespace salespipe::delivery
