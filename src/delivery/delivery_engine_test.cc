#include "delivery/delivery_engine.h"

#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <filesystem>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "common/crypto.h"
#include "common/test_util.h"
#include "delivery/compression.h"
#include "kv/test_db.h"

namespace salespipe::delivery {
namespace {

using ::salespipe::testing::StatusIs;

constexpr const char* kAccount = "000000000000";
constexpr const char* kRegion = "us-east-1";

class EchoInvoker : public lambda::Invoker {
 public:
  // Ok for every record, data with a "!" appended and partition key = the data's first char.
  Result<lambda::InvokeResult> Invoke(const lambda::InvokeRequest& request) override;
  std::atomic<int> calls = 0;
  std::thread::id last_thread;
};

class DeliveryEngineTest : public ::testing::Test {
 protected:
  DeliveryEngineTest() : clock_(1714566910123) {
    root_ = db_.path() + "-lake";
    std::filesystem::remove_all(root_);
    Open();
  }
  ~DeliveryEngineTest() override {
    Close();
    std::filesystem::remove_all(root_);
  }
  void Open() {
    log_ = std::make_unique<log::ShardLog>(db_.get(), clock_);
    ASSERT_OK(log_->Open());
    auto lake = lake::Lake::Open({.root = root_}, db_.get(), clock_);
    ASSERT_TRUE(lake.ok());
    lake_ = std::move(lake).value();
    engine_ = std::make_unique<DeliveryEngine>(db_.get(), *log_, *lake_, clock_, &invoker_,
                                               EngineOptions{});
    ASSERT_OK(engine_->Open());
  }
  // A crash: everything goes away without a flush (engine not started, so no drain).
  void Close() {
    engine_.reset();
    lake_.reset();
    log_.reset();
  }
  StreamDef Def(std::string name, Destination d) {
    return StreamDef{.account = kAccount,
                     .region = kRegion,
                     .name = name,
                     .arn = "arn:aws:firehose:us-east-1:000000000000:deliverystream/" + name,
                     .destination = std::move(d)};
  }
  void Put(std::string_view stream, std::vector<std::string> records) {
    std::vector<std::string_view> views(records.begin(), records.end());
    ASSERT_OK(engine_->PutRecords(kAccount, kRegion, stream, views).status());
  }
  int Step(std::string_view stream) {
    StreamWorker* worker = engine_->worker(kAccount, kRegion, stream);
    EXPECT_NE(worker, nullptr);
    int written = 0;
    while (true) {
      auto step = worker->Step(false);
      EXPECT_TRUE(step.ok()) << step.status().ToString();
      if (!step.ok()) break;
      written += step->objects_written;
      if (step->more) continue;
      if (step->invocations_in_flight == 0) break;
      worker->AwaitInvocation();  // its result is applied by the next step
    }
    return written;
  }
  // One step with force: everything buffered is transformed and delivered.
  int Flush(std::string_view stream) {
    StreamWorker* worker = engine_->worker(kAccount, kRegion, stream);
    EXPECT_NE(worker, nullptr);
    auto step = worker->Step(true);
    EXPECT_TRUE(step.ok()) << step.status().ToString();
    if (!step.ok()) return 0;
    EXPECT_EQ(step->invocations_in_flight, 0);
    return step->objects_written;
  }
  // key -> body of every object in `bucket`.
  std::map<std::string, std::string> Objects(std::string_view bucket) {
    std::map<std::string, std::string> out;
    auto listed = lake_->List(bucket, {.max_keys = 10000});
    EXPECT_TRUE(listed.ok());
    if (!listed.ok()) return out;
    for (const auto& entry : listed->objects) {
      auto object = lake_->Open(bucket, entry.key);
      std::string body;
      EXPECT_OK(lake::Lake::ReadRange(object->fd.get(), 0, object->meta.size,
                                      [&](std::string_view c) {
                                        body.append(c);
                                        return Status::Ok();
                                      }));
      out[entry.key] = body;
    }
    return out;
  }

  FakeClock clock_;
  kv::TestDb db_;
  std::string root_;
  EchoInvoker invoker_;
  std::unique_ptr<log::ShardLog> log_;
  std::unique_ptr<lake::Lake> lake_;
  std::unique_ptr<DeliveryEngine> engine_;
};

Result<lambda::InvokeResult> EchoInvoker::Invoke(const lambda::InvokeRequest& request) {
  ++calls;
  last_thread = std::this_thread::get_id();
  rapidjson::Document doc;
  doc.Parse(request.payload.c_str());
  std::string out = "{\"records\":[";
  bool first = true;
  for (const auto& r : doc["records"].GetArray()) {
    std::string data = *Base64Decode(r["data"].GetString());
    if (!first) out += ",";
    first = false;
    if (data.starts_with("fail")) {
      out += "{\"recordId\":\"" + std::string(r["recordId"].GetString()) +
             "\",\"result\":\"ProcessingFailed\"}";
      continue;
    }
    out += "{\"recordId\":\"" + std::string(r["recordId"].GetString()) +
           "\",\"result\":\"Ok\",\"data\":\"" + Base64Encode(data + "!") +
           "\",\"metadata\":{\"partitionKeys\":{\"k\":\"" + data.substr(0, 1) + "\"}}}";
  }
  return lambda::InvokeResult{.payload = out + "]}"};
}

TEST_F(DeliveryEngineTest, IntervalFlushesConcatenatedRecordsUnderAwsKeys) {
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  ASSERT_OK(engine_->CreateStream(Def("orders", {.bucket = "lake", .has_prefix = true,
                                                 .prefix = "sales/", .buffer_size_mb = 1,
                                                 .buffer_interval_seconds = 60}))
                .status());
  Put("orders", {"a1", "b2"});
  Put("orders", {"c3"});
  EXPECT_EQ(Step("orders"), 0);  // not due yet
  EXPECT_TRUE(Objects("lake").empty());
  clock_.Advance(std::chrono::seconds(59));
  EXPECT_EQ(Step("orders"), 0);
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Step("orders"), 1);
  auto objects = Objects("lake");
  ASSERT_EQ(objects.size(), 1u);
  const auto& [key, body] = *objects.begin();
  EXPECT_EQ(body, "a1b2c3");  // no delimiter
  // sales/2024/05/01/12/orders-1-2024-05-01-12-36-10-<uuid>
  EXPECT_EQ(key.substr(0, 49), "sales/2024/05/01/12/orders-1-2024-05-01-12-36-10-");
  EXPECT_EQ(key.size(), 49u + 36u);
  // Empty buffers make no objects.
  clock_.Advance(std::chrono::seconds(600));
  EXPECT_EQ(Step("orders"), 0);
}

TEST_F(DeliveryEngineTest, SizeFlushesAndIntervalZeroDeliversAtOnce) {
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  ASSERT_OK(engine_->CreateStream(Def("big", {.bucket = "lake", .buffer_size_mb = 1,
                                              .buffer_interval_seconds = 900}))
                .status());
  Put("big", {std::string(600 << 10, 'x')});
  EXPECT_EQ(Step("big"), 0);
  Put("big", {std::string(500 << 10, 'y')});
  EXPECT_EQ(Step("big"), 1);

  ASSERT_OK(engine_->CreateStream(Def("now", {.bucket = "lake", .has_prefix = true,
                                              .prefix = "now/", .buffer_interval_seconds = 0,
                                              .compression = Compression::kGzip}))
                .status());
  Put("now", {"{\"a\":1}\n"});
  EXPECT_EQ(Step("now"), 1);
  for (const auto& [key, body] : Objects("lake")) {
    if (!key.starts_with("now/")) continue;
    EXPECT_TRUE(key.ends_with(".gz"));
    ASSERT_OK_AND_ASSIGN(std::string plain, Decompress(Compression::kGzip, body));
    EXPECT_EQ(plain, "{\"a\":1}\n");
  }
}

TEST_F(DeliveryEngineTest, CrashBeforeCommitRedeliversOnceAndCommittedRecordsNeverAgain) {
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  ASSERT_OK(engine_->CreateStream(Def("s", {.bucket = "lake", .buffer_interval_seconds = 0,
                                            .append_delimiter = true}))
                .status());
  Put("s", {"r1", "r2"});
  EXPECT_EQ(Step("s"), 1);
  Put("s", {"r3", "r4"});
  // A crash after the records were acknowledged, with an object staged but not committed.
  {
    auto staged = lake_->NewStagedFile();
    ASSERT_TRUE(staged.ok());
    ASSERT_OK(staged->Append("r3\nr4\n"));
    std::string path = staged->path();
    std::filesystem::copy_file(path, path + "-left");
  }
  Close();
  db_.Reopen();
  Open();
  EXPECT_EQ(Step("s"), 1);
  std::set<std::string> bodies;
  for (const auto& [key, body] : Objects("lake")) bodies.insert(body);
  EXPECT_EQ(bodies, (std::set<std::string>{"r1\nr2\n", "r3\nr4\n"}));
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/.staging"));
  // Restart again: nothing is delivered twice.
  Close();
  db_.Reopen();
  Open();
  EXPECT_EQ(Step("s"), 0);
  EXPECT_EQ(Objects("lake").size(), 2u);
}

TEST_F(DeliveryEngineTest, MissingBucketRetriesWithoutLoss) {
  ASSERT_OK(engine_->CreateStream(Def("s", {.bucket = "later", .buffer_interval_seconds = 0}))
                .status());
  Put("s", {"x"});
  EXPECT_EQ(Step("s"), 0);
  StreamWorker* worker = engine_->worker(kAccount, kRegion, "s");
  EXPECT_EQ(worker->delivery_failures(), 1);
  ASSERT_OK(lake_->CreateBucket("later", kRegion));
  EXPECT_EQ(Step("s"), 0);  // still backing off
  clock_.Advance(std::chrono::seconds(31));
  EXPECT_EQ(Step("s"), 1);
  ASSERT_EQ(Objects("later").size(), 1u);
  EXPECT_EQ(Objects("later").begin()->second, "x");
}

TEST_F(DeliveryEngineTest, KinesisSourceStartsAtLatestAndFollowsResharding) {
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  ASSERT_OK_AND_ASSIGN(log::StreamInfo source, log_->CreateStream({.name = "kinesis/k"}));
  log::ShardId shard0{source.id, 0};
  ASSERT_OK(log_->AppendAndCommit(shard0, {.partition_key = "p", .data = "before"}).status());
  StreamDef def = Def("fromk", {.bucket = "lake", .buffer_interval_seconds = 0});
  def.kinesis_source = true;
  def.source_log = "kinesis/k";
  def.source_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/k";
  ASSERT_OK(engine_->CreateStream(def).status());
  EXPECT_THAT(engine_->PutRecords(kAccount, kRegion, "fromk", {"x"}),
              StatusIs(ErrorCode::kFailedPrecondition));
  ASSERT_OK(log_->AppendAndCommit(shard0, {.partition_key = "p", .data = "a"}).status());
  ASSERT_OK_AND_ASSIGN(std::vector<log::ShardId> children,
                       log_->SplitShard(shard0, log::kMaxHashKey / 2));
  ASSERT_OK(log_->AppendAndCommit(children[1], {.partition_key = "p", .data = "c"}).status());
  ASSERT_OK(log_->AppendAndCommit(children[0], {.partition_key = "p", .data = "b"}).status());
  Step("fromk");
  std::string all;
  for (const auto& [key, body] : Objects("lake")) all += body;
  // The parent first; "before" is older than the delivery stream.
  EXPECT_TRUE(all == "abc" || all == "acb") << all;
}

TEST_F(DeliveryEngineTest, LambdaTransformAndDynamicPartitioning) {
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  Destination d{.bucket = "lake",
                .has_prefix = true,
                .prefix = "k=!{partitionKeyFromLambda:k}/",
                .has_error_prefix = true,
                .error_prefix = "err/!{firehose:error-output-type}/",
                .buffer_size_mb = 64,
                .buffer_interval_seconds = 0,
                .lambda = LambdaProcessor{.function_arn = "f", .buffer_interval_seconds = 0},
                .dynamic_partitioning = true};
  ASSERT_OK(engine_->CreateStream(Def("t", d)).status());
  Put("t", {"a1", "b1", "a2"});
  EXPECT_EQ(Step("t"), 2);
  EXPECT_EQ(invoker_.calls, 1);
  std::map<std::string, std::string> by_prefix;
  for (const auto& [key, body] : Objects("lake")) by_prefix[key.substr(0, 4)] = body;
  EXPECT_EQ(by_prefix["k=a/"], "a1!a2!");
  EXPECT_EQ(by_prefix["k=b/"], "b1!");
}

TEST_F(DeliveryEngineTest, UpdateDestinationBumpsTheVersionInNames) {
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  ASSERT_OK(engine_->CreateStream(Def("u", {.bucket = "lake", .buffer_interval_seconds = 0}))
                .status());
  EXPECT_THAT(engine_->UpdateDestination(kAccount, kRegion, "u", 7, {}, ""),
              StatusIs(ErrorCode::kAborted));
  ASSERT_OK_AND_ASSIGN(StreamDef updated,
                       engine_->UpdateDestination(kAccount, kRegion, "u", 1,
                                                  {.bucket = "lake", .has_prefix = true,
                                                   .prefix = "v2/", .buffer_interval_seconds = 0},
                                                  ""));
  EXPECT_EQ(updated.version, 2);
  Put("u", {"z"});
  EXPECT_EQ(Step("u"), 1);
  auto objects = Objects("lake");
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects.begin()->first.substr(0, 19), "v2/2024/05/01/12/u-");
  EXPECT_EQ(objects.begin()->first.substr(19, 2), "2-");
}

TEST_F(DeliveryEngineTest, DeleteDrainsAndRemoves) {
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  ASSERT_OK(engine_->CreateStream(Def("d", {.bucket = "lake"})).status());
  EXPECT_THAT(engine_->CreateStream(Def("d", {.bucket = "lake"})),
              StatusIs(ErrorCode::kAlreadyExists));
  Put("d", {"last words"});
  ASSERT_OK(engine_->DeleteStream(kAccount, kRegion, "d"));
  engine_->WaitForDeletions();
  EXPECT_EQ(Objects("lake").begin()->second, "last words");
  EXPECT_THAT(engine_->GetStream(kAccount, kRegion, "d"), StatusIs(ErrorCode::kNotFound));
  EXPECT_THAT(engine_->PutRecords(kAccount, kRegion, "d", {"x"}), StatusIs(ErrorCode::kNotFound));
  EXPECT_TRUE(engine_->ListStreams(kAccount, kRegion).empty());
}

TEST_F(DeliveryEngineTest, ProcessingFailedGoesToTheErrorOutputOnce) {
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  Destination d{.bucket = "lake",
                .has_prefix = true,
                .prefix = "ok/",
                .buffer_interval_seconds = 0,
                .lambda = LambdaProcessor{.function_arn = "arn:f", .buffer_interval_seconds = 0}};
  ASSERT_OK(engine_->CreateStream(Def("pf", d)).status());
  Put("pf", {"good", "fail-me"});
  EXPECT_EQ(Step("pf"), 2);
  auto objects = Objects("lake");
  ASSERT_EQ(objects.size(), 2u);
  for (const auto& [key, body] : objects) {
    if (key.starts_with("ok/processing-failed/2024/05/01/12/pf-1-")) {
      rapidjson::Document doc;
      doc.Parse(body.c_str());
      EXPECT_STREQ(doc["errorCode"].GetString(), "Lambda.ProcessingFailedStatus");
      EXPECT_EQ(*Base64Decode(doc["rawData"].GetString()), "fail-me");
      EXPECT_STREQ(doc["lambdaArn"].GetString(), "arn:f");
      EXPECT_TRUE(body.ends_with("}\n"));
    } else {
      EXPECT_TRUE(key.starts_with("ok/2024/05/01/12/pf-1-")) << key;
      EXPECT_EQ(body, "good!");
    }
  }
  // After a restart nothing is transformed or delivered again.
  Close();
  db_.Reopen();
  Open();
  EXPECT_EQ(Step("pf"), 0);
  EXPECT_EQ(Objects("lake").size(), 2u);
}

TEST_F(DeliveryEngineTest, BackupKeepsEverySourceRecordAsProduced) {
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  ASSERT_OK(lake_->CreateBucket("raw", kRegion));
  Destination d{.bucket = "lake",
                .buffer_interval_seconds = 0,
                .lambda = LambdaProcessor{.function_arn = "arn:f", .buffer_interval_seconds = 0},
                .backup = BackupDestination{.bucket = "raw", .has_prefix = true, .prefix = "src/"}};
  ASSERT_OK(engine_->CreateStream(Def("bk", d)).status());
  Put("bk", {"good", "fail-me"});
  EXPECT_EQ(Step("bk"), 3);  // the data, the error output and the backup
  auto raw = Objects("raw");
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_TRUE(raw.begin()->first.starts_with("src/2024/05/01/12/bk-1-"));
  EXPECT_EQ(raw.begin()->second, "goodfail-me");
  // Persisted with the stream.
  Close();
  db_.Reopen();
  Open();
  ASSERT_OK_AND_ASSIGN(StreamDef def, engine_->GetStream(kAccount, kRegion, "bk"));
  ASSERT_TRUE(def.destination.backup.has_value());
  EXPECT_EQ(def.destination.backup->prefix, "src/");
  EXPECT_EQ(Step("bk"), 0);
}

TEST_F(DeliveryEngineTest, DeleteDrainsOnTheWorkerThreadNotTheCallers) {
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  Destination d{.bucket = "lake",
                .buffer_interval_seconds = 900,
                .lambda = LambdaProcessor{.function_arn = "arn:f", .buffer_interval_seconds = 900}};
  ASSERT_OK(engine_->CreateStream(Def("dr", d)).status());
  engine_->Start();
  Put("dr", {"x1"});
  ASSERT_OK(engine_->DeleteStream(kAccount, kRegion, "dr"));
  engine_->WaitForDeletions();
  EXPECT_EQ(invoker_.calls.load(), 1);
  EXPECT_NE(invoker_.last_thread, std::this_thread::get_id());
  ASSERT_EQ(Objects("lake").size(), 1u);
  EXPECT_EQ(Objects("lake").begin()->second, "x1!");
  engine_->Stop();
}

// A processor that blocks until released: the deletion's drain waits in it.
class GateInvoker : public lambda::Invoker {
 public:
  Result<lambda::InvokeResult> Invoke(const lambda::InvokeRequest& request) override {
    {
      std::unique_lock lock(mu);
      ++entered;
      cv.notify_all();
      cv.wait(lock, [&] { return open; });
    }
    return echo.Invoke(request);
  }
  // Until `count` invocations have come in.
  void WaitEntered(int count = 1) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return entered >= count; });
  }
  void Open() {
    std::unique_lock lock(mu);
    open = true;
    cv.notify_all();
  }
  EchoInvoker echo;
  std::mutex mu;
  std::condition_variable cv;
  int entered = 0;
  bool open = false;
};

TEST_F(DeliveryEngineTest, DeleteAnswersAtOnceAndShowsDeletingUntilGone) {
  GateInvoker gate;
  engine_->set_invoker(&gate);
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  Destination d{.bucket = "lake",
                .buffer_interval_seconds = 900,
                .lambda = LambdaProcessor{.function_arn = "arn:f", .buffer_interval_seconds = 900}};
  ASSERT_OK(engine_->CreateStream(Def("slow", d)).status());
  engine_->Start();
  Put("slow", {"x1"});
  // The drain blocks in the transform; the call still answers.
  ASSERT_OK(engine_->DeleteStream(kAccount, kRegion, "slow"));
  gate.WaitEntered();
  ASSERT_OK_AND_ASSIGN(StreamDef def, engine_->GetStream(kAccount, kRegion, "slow"));
  EXPECT_TRUE(def.deleting);
  ASSERT_EQ(engine_->ListStreams(kAccount, kRegion).size(), 1u);
  EXPECT_OK(engine_->DeleteStream(kAccount, kRegion, "slow"));  // already deleting: no-op
  EXPECT_THAT(engine_->PutRecords(kAccount, kRegion, "slow", {"late"}),
              StatusIs(ErrorCode::kNotFound));
  EXPECT_THAT(engine_->UpdateDestination(kAccount, kRegion, "slow", 1, d, ""),
              StatusIs(ErrorCode::kFailedPrecondition));
  EXPECT_THAT(engine_->SetAttributes(kAccount, kRegion, "slow", ""),
              StatusIs(ErrorCode::kFailedPrecondition));
  EXPECT_THAT(engine_->CreateStream(Def("slow", d)), StatusIs(ErrorCode::kAlreadyExists));
  gate.Open();
  engine_->WaitForDeletions();
  EXPECT_THAT(engine_->GetStream(kAccount, kRegion, "slow"), StatusIs(ErrorCode::kNotFound));
  EXPECT_TRUE(engine_->ListStreams(kAccount, kRegion).empty());
  auto objects = Objects("lake");
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects.begin()->second, "x1!");
  EXPECT_TRUE(log_->ListStreams("firehose/").empty());
  engine_->Stop();
  engine_->set_invoker(&invoker_);
}

TEST_F(DeliveryEngineTest, DeletionAcceptedBeforeACrashFinishesAfterRestart) {
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  ASSERT_OK(engine_->CreateStream(Def("gone", {.bucket = "lake"})).status());
  Put("gone", {"acknowledged"});
  {
    // A crash right after the DELETING mark committed: simulate by writing the mark the way
    // DeleteStream does, without its thread.
    ASSERT_OK_AND_ASSIGN(StreamDef def, engine_->GetStream(kAccount, kRegion, "gone"));
    def.deleting = true;
    kv::Batch batch = db_.get().NewBatch();
    batch.Put(kv::Cf::kMeta, "firehose/s/" + std::string(kAccount) + "/" + kRegion + "/gone",
              EncodeStreamDef(def));
    ASSERT_OK(db_.get().Commit(batch));
  }
  Close();
  db_.Reopen();
  Open();
  ASSERT_OK_AND_ASSIGN(StreamDef def, engine_->GetStream(kAccount, kRegion, "gone"));
  EXPECT_TRUE(def.deleting);
  engine_->Start();
  engine_->WaitForDeletions();
  EXPECT_THAT(engine_->GetStream(kAccount, kRegion, "gone"), StatusIs(ErrorCode::kNotFound));
  ASSERT_EQ(Objects("lake").size(), 1u);
  EXPECT_EQ(Objects("lake").begin()->second, "acknowledged");
  engine_->Stop();
  Close();
  db_.Reopen();
  Open();
  EXPECT_THAT(engine_->GetStream(kAccount, kRegion, "gone"), StatusIs(ErrorCode::kNotFound));
}

// Counts invocations in flight; each waits (bounded) until a second one is in flight.
class ConcurrencyInvoker : public lambda::Invoker {
 public:
  Result<lambda::InvokeResult> Invoke(const lambda::InvokeRequest& request) override {
    {
      std::unique_lock lock(mu);
      ++in_flight;
      max_in_flight = std::max(max_in_flight, in_flight);
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(30), [&] { return max_in_flight >= 2; });
    }
    auto out = echo.Invoke(request);
    std::unique_lock lock(mu);
    --in_flight;
    return out;
  }
  EchoInvoker echo;
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  int max_in_flight = 0;
};

TEST_F(DeliveryEngineTest, FullProcessorBuffersAreInvokedConcurrentlyAndAppliedInOrder) {
  ConcurrencyInvoker concurrent;
  engine_->set_invoker(&concurrent);
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  // The destination buffers everything (so one object shows the order the results were
  // applied in); each 2-byte record fills a processor buffer of its own.
  Destination d{.bucket = "lake",
                .buffer_interval_seconds = 900,
                .lambda = LambdaProcessor{.function_arn = "arn:f",
                                          .buffer_bytes = 2,
                                          .buffer_interval_seconds = 900}};
  ASSERT_OK(engine_->CreateStream(Def("cc", d)).status());
  Put("cc", {"a1", "b2", "c3", "d4", "e5", "f6"});
  EXPECT_EQ(Step("cc"), 0);  // all six transformed, the destination buffer not yet due
  EXPECT_EQ(Flush("cc"), 1);
  EXPECT_GE(concurrent.max_in_flight, 2);
  EXPECT_EQ(concurrent.echo.calls.load(), 6);
  auto objects = Objects("lake");
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects.begin()->second, "a1!b2!c3!d4!e5!f6!");
  engine_->set_invoker(&invoker_);
}

TEST_F(DeliveryEngineTest, StepsGoOnReadingAndDispatchingWhileInvocationsRun) {
  GateInvoker gate;
  engine_->set_invoker(&gate);
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  Destination d{.bucket = "lake",
                .buffer_interval_seconds = 0,
                .lambda = LambdaProcessor{.function_arn = "arn:f",
                                          .buffer_bytes = 2,
                                          .buffer_interval_seconds = 900}};
  ASSERT_OK(engine_->CreateStream(Def("w", d)).status());
  StreamWorker* worker = engine_->worker(kAccount, kRegion, "w");
  ASSERT_NE(worker, nullptr);
  Put("w", {"a1", "b2"});
  ASSERT_OK_AND_ASSIGN(StreamWorker::StepResult first, worker->Step(false));
  EXPECT_EQ(first.invocations_in_flight, 2);  // the step did not wait for them
  EXPECT_EQ(first.objects_written, 0);
  // A later record is read and goes out beside them; nothing is applied or delivered yet.
  Put("w", {"c3"});
  ASSERT_OK_AND_ASSIGN(StreamWorker::StepResult second, worker->Step(false));
  EXPECT_EQ(second.invocations_in_flight, 3);
  EXPECT_EQ(second.objects_written, 0);
  gate.WaitEntered(3);
  gate.Open();
  Step("w");
  std::string all;
  for (const auto& [key, body] : Objects("lake")) all += body;
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, "!!!123abc");
  EXPECT_EQ(gate.echo.calls.load(), 3);
  engine_->set_invoker(&invoker_);
}

TEST_F(DeliveryEngineTest, ABacklogBeyondTheReadAheadIsDeliveredInFullBuffers) {
  // 4-byte records, 10-byte processor buffers: a buffer is full at two records (a third would
  // not fit), and the read-ahead (a few windows of buffers) is far below the backlog. Plain
  // steps (no force) must deliver all of it.
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  Destination d{.bucket = "lake",
                .buffer_interval_seconds = 0,
                .lambda = LambdaProcessor{.function_arn = "arn:f",
                                          .buffer_bytes = 10,
                                          .buffer_interval_seconds = 0}};
  ASSERT_OK(engine_->CreateStream(Def("backlog", d)).status());
  std::vector<std::string> records;
  std::string expected;
  for (int i = 0; i < 300; ++i) {
    char text[8];
    std::snprintf(text, sizeof(text), "r%03d", i);
    records.push_back(text);
    expected += std::string(text) + "!";
  }
  Put("backlog", records);
  EXPECT_GE(Step("backlog"), 1);
  std::string all;
  for (const auto& [key, body] : Objects("lake")) all += body;
  EXPECT_EQ(all.size(), expected.size());
  std::sort(all.begin(), all.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(all, expected);
  EXPECT_EQ(invoker_.calls.load(), 150);  // two records per invocation: never a partial one
}

TEST_F(DeliveryEngineTest, DeliveredDirectPutRecordsAreTrimmedAfterTheCommitOnly) {
  Destination d{.bucket = "lake", .buffer_interval_seconds = 0};
  ASSERT_OK_AND_ASSIGN(StreamDef def, engine_->CreateStream(Def("t", d)));
  ASSERT_OK_AND_ASSIGN(log::StreamInfo internal, log_->FindStream(def.source_log));
  const log::ShardId shard{internal.id, 0};
  Put("t", {"a", "b"});
  ASSERT_OK_AND_ASSIGN(log::SequenceNumber first,
                       log_->Resolve(shard, {.type = log::StartPosition::Type::kTrimHorizon}));
  // The bucket is missing: nothing is committed, so nothing may be trimmed.
  EXPECT_EQ(Step("t"), 0);
  ASSERT_OK_AND_ASSIGN(log::ReadResult kept, log_->Read(shard, first, {}));
  EXPECT_EQ(kept.records.size(), 2u);
  ASSERT_OK(lake_->CreateBucket("lake", kRegion));
  clock_.Advance(std::chrono::minutes(1));  // past the retry backoff
  EXPECT_EQ(Step("t"), 1);
  EXPECT_THAT(log_->Read(shard, first, {}), StatusIs(ErrorCode::kOutOfRange));
  ASSERT_OK_AND_ASSIGN(log::SequenceNumber horizon,
                       log_->Resolve(shard, {.type = log::StartPosition::Type::kTrimHorizon}));
  ASSERT_OK_AND_ASSIGN(log::ReadResult rest, log_->Read(shard, horizon, {}));
  EXPECT_TRUE(rest.records.empty());
  // Delivery goes on after the trim and after a restart, without duplicates.
  Put("t", {"c"});
  Close();
  db_.Reopen();
  Open();
  EXPECT_EQ(Step("t"), 1);
  std::string all;
  for (const auto& [key, body] : Objects("lake")) all += body;
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, "abc");
}

}  // namespace
}  // namespace salespipe::delivery
