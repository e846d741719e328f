#include "lambda/engine.h"

#include <filesystem>

#include "common/crypto.h"
#include "common/test_util.h"
#include "kv/test_db.h"
#include "lambda/test_zip.h"

namespace salespipe::lambda {
namespace {

namespace fs = std::filesystem;
using ::salespipe::lambda::testing::MakeZip;
using ::salespipe::testing::StatusIs;

// Records what it runs; answers with the payload (or an error when the payload says so).
class FakeRunner final : public Runner {
 public:
  Result<InvokeResult> Run(const FunctionSpec& spec, std::string_view payload,
                           const RunOptions& options) override {
    MutexLock lock(mu_);
    specs.push_back(spec);
    InvokeResult result{.payload = std::string(payload), .executed_version = spec.version};
    if (payload == "{\"fail\":true}") result.function_error = "Unhandled";
    ++runs;
    cv.notify_all();
    return result;
  }
  void Retire(std::string_view function_arn) override { retired.emplace_back(function_arn); }
  void Shutdown() override {}

  Mutex mu_;
  std::condition_variable cv;
  std::vector<FunctionSpec> specs;
  std::vector<std::string> retired;
  int runs = 0;
};

class EngineTest : public ::testing::Test {
 protected:
  EngineTest()
      : clock_(1717000000000),
        root_(fs::temp_directory_path() / ("salespipe-engine-" + NewUuid())),
        store_(db_.get(), clock_, root_.string()),
        engine_(store_, runner_) {}
  ~EngineTest() override {
    engine_.Stop();
    fs::remove_all(root_);
  }
  void SetUp() override {
    ASSERT_OK(store_.Open());
    NewFunction f{.account_id = "000000000000", .region = "us-east-1", .name = "echo"};
    f.config.runtime = "python3.12";
    f.config.handler = "lambda_function.lambda_handler";
    f.config.timeout_seconds = 7;
    f.config.environment = std::map<std::string, std::string>{{"K", "V"}};
    ASSERT_OK(store_.Create(f, MakeZip({{"lambda_function.py", "x"}})).status());
  }
  InvokeRequest Request(std::string function, std::string payload) {
    return InvokeRequest{.function = std::move(function), .payload = std::move(payload)};
  }

  FakeClock clock_;
  kv::TestDb db_;
  fs::path root_;
  FunctionStore store_;
  FakeRunner runner_;
  LambdaEngine engine_;
};

TEST_F(EngineTest, RunsTheResolvedSpec) {
  ASSERT_OK_AND_ASSIGN(InvokeResult result, engine_.Invoke(Request("echo", R"({"a":1})")));
  EXPECT_EQ(result.payload, R"({"a":1})");
  ASSERT_EQ(runner_.specs.size(), 1u);
  const FunctionSpec& spec = runner_.specs[0];
  EXPECT_EQ(spec.function_arn, "arn:aws:lambda:us-east-1:000000000000:function:echo");
  EXPECT_EQ(spec.invoked_arn, spec.function_arn);
  EXPECT_EQ(spec.timeout, std::chrono::seconds(7));
  EXPECT_EQ(spec.environment.at("K"), "V");
  EXPECT_TRUE(fs::exists(spec.code_dir + "/lambda_function.py"));
  EXPECT_TRUE(spec.environment_key.starts_with(spec.function_arn + ":$LATEST:"));
}

TEST_F(EngineTest, ResolvesArnsVersionsAndAliases) {
  ASSERT_OK(store_.PublishVersion({"000000000000", "us-east-1", "echo", ""}, "", "", "").status());
  ASSERT_OK(store_.Update({"000000000000", "us-east-1", "echo", ""}, [](Function& f) {
                    f.aliases["live"] = AliasConfig{.name = "live", .function_version = "1"};
                    return Status::Ok();
                  }).status());
  ASSERT_OK_AND_ASSIGN(InvokeResult r1,
                       engine_.Invoke(Request("arn:aws:lambda:us-east-1:000000000000:function:"
                                              "echo:live",
                                              "{}")));
  EXPECT_EQ(r1.executed_version, "1");
  EXPECT_TRUE(runner_.specs.back().invoked_arn.ends_with(":echo:live"));
  InvokeRequest qualified = Request("000000000000:function:echo", "{}");
  qualified.qualifier = "1";
  ASSERT_OK_AND_ASSIGN(InvokeResult r2, engine_.Invoke(qualified));
  EXPECT_EQ(r2.executed_version, "1");
  EXPECT_THAT(engine_.Invoke(Request("echo:9", "{}")), StatusIs(ErrorCode::kNotFound));
  EXPECT_THAT(engine_.Invoke(Request("echo:nosuchalias", "{}")), StatusIs(ErrorCode::kNotFound));
  EXPECT_THAT(engine_.Invoke(Request("missing", "{}")), StatusIs(ErrorCode::kNotFound));
}

TEST_F(EngineTest, ChecksPayloadsAndDryRun) {
  EXPECT_THAT(engine_.Invoke(Request("echo", "{not json")),
              StatusIs(ErrorCode::kInvalidArgument, "Could not parse request body into json"));
  EXPECT_THAT(engine_.Invoke(Request("echo", std::string(kMaxSyncPayloadBytes + 1, ' '))),
              StatusIs(ErrorCode::kInvalidArgument, "Request must be smaller than 6291456"));
  InvokeRequest dry = Request("echo", "{}");
  dry.type = InvocationType::kDryRun;
  ASSERT_OK(engine_.Invoke(dry).status());
  EXPECT_EQ(runner_.runs, 0);
  ASSERT_OK(engine_.Invoke(Request("echo", "")).status());  // no payload: {}
  EXPECT_EQ(runner_.specs.size(), 1u);
}

TEST_F(EngineTest, EventInvocationsRetryTwiceOnFunctionError) {
  engine_.Start();
  InvokeRequest event = Request("echo", R"({"fail":true})");
  event.type = InvocationType::kEvent;
  ASSERT_OK_AND_ASSIGN(InvokeResult queued, engine_.Invoke(event));
  EXPECT_FALSE(queued.request_id.empty());
  std::unique_lock lock(runner_.mu_);
  runner_.cv.wait(lock, [&] { return runner_.runs == 3; });
  EXPECT_EQ(runner_.runs, 3);
}

}  // namespace
}  // namespace salespipe::lambda

namespace salespipe::lambda {
namespace {

TEST(DeferredRunnerTest, RunsBeforeSetWaitForTheRunner) {
  // Firehose and event source mappings start before the edge listens: an invocation then
  // waits for the process runner instead of failing its batch.
  DeferredRunner deferred;
  auto real = std::make_unique<FakeRunner>();
  FakeRunner* fake = real.get();
  std::thread early([&] {
    Result<InvokeResult> result = deferred.Run(FunctionSpec{}, "{\"a\":1}", RunOptions{});
    ASSERT_OK(result.status());
    EXPECT_EQ(result->payload, "{\"a\":1}");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it reach the wait
  deferred.Set(std::move(real));
  early.join();
  EXPECT_EQ(fake->runs, 1);
}

TEST(DeferredRunnerTest, ShutdownWithoutARunnerReleasesWaiters) {
  DeferredRunner deferred;
  std::thread early([&] {
    EXPECT_THAT(deferred.Run(FunctionSpec{}, "{}", RunOptions{}),
                StatusIs(ErrorCode::kUnavailable));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  deferred.Shutdown();
  early.join();  // would take kStartWait (30 s) without the wake-up
}

}  // namespace
}  // namespace salespipe::lambda
