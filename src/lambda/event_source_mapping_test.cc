#include "lambda/event_source_mapping.h"

#include <condition_variable>
#include <functional>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "kv/test_db.h"

namespace salespipe::lambda {
namespace {

using ::salespipe::testing::StatusIs;

// Events are the records' data joined with ','; item identifiers are sequence numbers.
class TestFormatter final : public EventFormatter {
 public:
  std::string Event(const MappingConfig&, const log::ShardInfo&,
                    const std::vector<log::Record>& records) const override {
    std::string out;
    for (const log::Record& record : records) {
      if (!out.empty()) out += ",";
      out += record.data + "@" + std::to_string(record.sequence.value);
    }
    return out;
  }
  std::optional<log::SequenceNumber> ParseItemIdentifier(const MappingConfig&,
                                                         std::string_view id) const override {
    return log::SequenceNumber{std::stoull(std::string(id))};
  }
};

// Records every event; fails while `fail_left` > 0.
class RecordingInvoker final : public Invoker {
 public:
  Result<InvokeResult> Invoke(const InvokeRequest& request) override {
    std::lock_guard lock(mu);
    InvokeResult result;
    if (fail_left > 0) {
      --fail_left;
      result.function_error = "Unhandled";
    } else {
      events.push_back(request.payload);
      if (respond) result.payload = respond(request.payload);
    }
    ++calls;
    cv.notify_all();
    return result;
  }
  // Waits until `n` successful events arrived.
  std::vector<std::string> WaitFor(size_t n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return events.size() >= n; });
    return events;
  }

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> events;
  int fail_left = 0;
  int calls = 0;
  std::function<std::string(const std::string&)> respond;  // the function's response
};

class EventSourceMappingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(log_.Open());
    ASSERT_OK_AND_ASSIGN(log::StreamInfo stream,
                         log_.CreateStream({.name = "kinesis/000000000000/us-east-1/s"}));
    shard_ = stream.shards[0].id;
  }
  void Append(const std::string& data) {
    ASSERT_OK(log_.AppendAndCommit(shard_, {.partition_key = "k", .data = data}).status());
  }
  MappingConfig Mapping(std::string position = "TRIM_HORIZON") {
    return MappingConfig{.account_id = "000000000000",
                         .region = "us-east-1",
                         .function_arn = "arn:aws:lambda:us-east-1:000000000000:function:f",
                         .event_source_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s",
                         .log_name = "kinesis/000000000000/us-east-1/s",
                         .batch_size = 2,
                         .starting_position = std::move(position)};
  }
  // The data values of `events`, in delivery order.
  static std::vector<std::string> Values(const std::vector<std::string>& events) {
    std::vector<std::string> out;
    for (const std::string& event : events) {
      size_t start = 0;
      while (start < event.size()) {
        size_t comma = event.find(',', start);
        if (comma == std::string::npos) comma = event.size();
        std::string item = event.substr(start, comma - start);
        out.push_back(item.substr(0, item.find('@')));
        start = comma + 1;
      }
    }
    return out;
  }

  SystemClock clock_;
  kv::TestDb db_;
  log::ShardLog log_{db_.get(), clock_};
  log::ShardId shard_;
  TestFormatter formatter_;
  RecordingInvoker invoker_;
};

TEST_F(EventSourceMappingTest, DeliversInOrderInBatchesAndResumesFromTheCheckpoint) {
  Append("a");
  Append("b");
  Append("c");
  std::string uuid;
  {
    EventSourceMappings mappings(db_.get(), log_, invoker_, formatter_, clock_);
    ASSERT_OK(mappings.Open());
    mappings.Start();
    ASSERT_OK_AND_ASSIGN(MappingConfig created, mappings.Create(Mapping()));
    uuid = created.uuid;
    EXPECT_EQ(created.state, "Creating");
    ASSERT_OK_AND_ASSIGN(MappingConfig got, mappings.Get(uuid));
    EXPECT_EQ(got.state, "Enabled");
    EXPECT_THAT(mappings.Create(Mapping()), StatusIs(ErrorCode::kAlreadyExists));
    std::vector<std::string> events = invoker_.WaitFor(2);
    EXPECT_EQ(Values(events), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(events[0].find("a@"), 0u);
    mappings.Stop();
  }
  Append("d");
  // A new instance (a restart) resumes after "c".
  EventSourceMappings mappings(db_.get(), log_, invoker_, formatter_, clock_);
  ASSERT_OK(mappings.Open());
  mappings.Start();
  std::vector<std::string> events = invoker_.WaitFor(3);
  EXPECT_EQ(Values(events), (std::vector<std::string>{"a", "b", "c", "d"}));
  ASSERT_OK(mappings.Delete(uuid).status());
  EXPECT_THAT(mappings.Get(uuid), StatusIs(ErrorCode::kNotFound));
}

TEST_F(EventSourceMappingTest, LatestSkipsOlderRecordsAndFailuresAreRetried) {
  Append("old");
  EventSourceMappings mappings(db_.get(), log_, invoker_, formatter_, clock_);
  ASSERT_OK(mappings.Open());
  mappings.Start();
  invoker_.fail_left = 2;
  ASSERT_OK(mappings.Create(Mapping("LATEST")).status());
  Append("new");
  std::vector<std::string> events = invoker_.WaitFor(1);
  EXPECT_EQ(Values(events), (std::vector<std::string>{"new"}));
  std::lock_guard lock(invoker_.mu);
  EXPECT_EQ(invoker_.calls, 3);  // two failures, then the same batch again
}

TEST_F(EventSourceMappingTest, ReportBatchItemFailuresRetriesFromTheFirstFailure) {
  Append("a");
  Append("b");
  Append("c");
  int responses = 0;
  invoker_.respond = [&](const std::string& event) -> std::string {
    ++responses;
    if (responses == 1) return R"({"batchItemFailures":[{"itemIdentifier":"999"}]})";
    if (responses == 2) {
      // b's sequence number: "a@<n>,b@<m>,c@<k>".
      size_t at = event.find("b@") + 2;
      return R"({"batchItemFailures":[{"itemIdentifier":")" +
             event.substr(at, event.find(',', at) - at) + R"("}]})";
    }
    return R"({"batchItemFailures":[]})";
  };
  EventSourceMappings mappings(db_.get(), log_, invoker_, formatter_, clock_);
  ASSERT_OK(mappings.Open());
  mappings.Start();
  MappingConfig mapping = Mapping();
  mapping.batch_size = 10;
  mapping.report_batch_item_failures = true;
  ASSERT_OK(mappings.Create(mapping).status());
  std::vector<std::string> events = invoker_.WaitFor(3);
  // An identifier outside the batch fails the whole batch; then b and what follows it again.
  EXPECT_EQ(Values(events), (std::vector<std::string>{"a", "b", "c", "a", "b", "c", "b", "c"}));
}

TEST(EventSourceMappingAgeTest, RecordsOlderThanTheMaximumAgeAreDiscarded) {
  FakeClock clock(1717000000000);
  kv::TestDb db;
  log::ShardLog log(db.get(), clock);
  ASSERT_OK(log.Open());
  ASSERT_OK_AND_ASSIGN(log::StreamInfo stream,
                       log.CreateStream({.name = "kinesis/000000000000/us-east-1/s"}));
  ASSERT_OK(log.AppendAndCommit(stream.shards[0].id, {.partition_key = "k", .data = "stale"})
                .status());
  clock.Advance(std::chrono::seconds(120));
  TestFormatter formatter;
  RecordingInvoker invoker;
  EventSourceMappings mappings(db.get(), log, invoker, formatter, clock);
  ASSERT_OK(mappings.Open());
  mappings.Start();
  ASSERT_OK(mappings
                .Create({.account_id = "000000000000",
                         .region = "us-east-1",
                         .function_arn = "arn:aws:lambda:us-east-1:000000000000:function:f",
                         .event_source_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s",
                         .log_name = "kinesis/000000000000/us-east-1/s",
                         .starting_position = "TRIM_HORIZON",
                         .maximum_record_age_seconds = 60})
                .status());
  ASSERT_OK(log.AppendAndCommit(stream.shards[0].id, {.partition_key = "k", .data = "fresh"})
                .status());
  std::vector<std::string> events = invoker.WaitFor(1);
  EXPECT_EQ(events[0].substr(0, 6), "fresh@");
}

TEST_F(EventSourceMappingTest, UnknownStreamIsNotFound) {
  EventSourceMappings mappings(db_.get(), log_, invoker_, formatter_, clock_);
  ASSERT_OK(mappings.Open());
  MappingConfig mapping = Mapping();
  mapping.log_name = "kinesis/000000000000/us-east-1/missing";
  EXPECT_THAT(mappings.Create(mapping), StatusIs(ErrorCode::kNotFound));
}

}  // namespace
}  // namespace salespipe::lambda
