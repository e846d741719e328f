#include "lambda/environment_zygote.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "common/test_util.h"
#include "lambda/runner_launch.h"

namespace salespipe::lambda {
namespace {

using ::testing::HasSubstr;
using Kind = InvocationOutcome::Kind;

class ZygoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/lambda_zygote_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
    ASSERT_OK(WriteBootstraps(root_ + "/runtimes"));
    python_ = FindInterpreter("python3");
    ASSERT_FALSE(python_.empty());
    ASSERT_OK_AND_ASSIGN(zygote_,
                         PythonZygote::Start(python_, root_ + "/runtimes/python_bootstrap.py",
                                             {"PATH=/usr/bin:/bin", "TZ=:UTC"}));
    // No time limit meant: a minute only turns a broken zygote into a failure, not a hang.
    ASSERT_OK(zygote_->WaitReady(60'000));
  }
  void TearDown() override {
    zygote_.reset();
    std::filesystem::remove_all(root_);
  }

  LaunchPlan Plan(const std::string& name, const std::map<std::string, std::string>& files) {
    const std::string code_dir = root_ + "/code/" + name;
    for (const auto& [path, content] : files) {
      std::filesystem::create_directories(
          std::filesystem::path(code_dir + "/" + path).parent_path());
      std::ofstream(code_dir + "/" + path) << content;
    }
    FunctionSpec spec{.function_arn = "arn:aws:lambda:us-east-1:000000000000:function:" + name,
                      .function_name = name,
                      .runtime = "python3.12",
                      .handler = "app.handler",
                      .code_dir = code_dir,
                      .environment = {{"MY_VAR", "mine"}}};
    Result<LaunchPlan> plan =
        BuildLaunchPlan(spec, RunnerOptions{.runtime_dir = root_ + "/runtimes"},
                        RuntimeFamily::kPython, python_, "stream");
    EXPECT_TRUE(plan.ok());
    return plan.ok() ? *plan : LaunchPlan{};
  }

  InvocationOutcome Invoke(Environment& env, std::string_view payload = "{}") {
    InvocationEvent event{.request_id = "req-" + std::to_string(++requests_), .payload = payload};
    return env.Invoke(event, std::chrono::steady_clock::now() + std::chrono::minutes(1));
  }

  std::string root_;
  std::string python_;
  std::unique_ptr<PythonZygote> zygote_;
  int requests_ = 0;
};

TEST_F(ZygoteTest, ForkedEnvironmentIsAChildOfTheServerWithTheFunctionsEnvironment) {
  LaunchPlan plan = Plan("forked", {{"app.py", R"(
import os, sys
def handler(event, context):
    if event.get("exit"):
        os._exit(event["exit"])
    cmdline = open("/proc/self/cmdline").read().split("\0")
    return {"ppid": os.getppid(), "zygote": "--zygote" in cmdline, "var": os.environ.get("MY_VAR"),
            "path_set": "PATH" in os.environ, "cwd": os.getcwd(),
            "api": os.environ["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")}
)"}});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Environment> env, Environment::Start(plan, zygote_.get()));
  InvocationOutcome outcome = Invoke(*env);
  ASSERT_EQ(outcome.kind, Kind::kResponse) << outcome.body;
  EXPECT_EQ(outcome.body, R"({"ppid": )" + std::to_string(::getpid()) +
                              R"(, "zygote": true, "var": "mine", "path_set": true, "cwd": ")" +
                              root_ + R"(/code/forked", "api": true})");
  // The exit status reaches us: the process is our child (CLONE_PARENT).
  InvocationOutcome crashed = Invoke(*env, R"({"exit": 5})");
  EXPECT_EQ(crashed.kind, Kind::kExited);
  EXPECT_EQ(crashed.exit_description, "exit status 5");
}

TEST_F(ZygoteTest, AFunctionsOwnCopyOfAPreloadedPackageWins) {
  LaunchPlan plan = Plan("shipped", {{"app.py", R"(
import boto3
def handler(event, context):
    return boto3.__file__
)"},
                                     {"boto3/__init__.py", "VERSION = 'shipped'\n"}});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Environment> env, Environment::Start(plan, zygote_.get()));
  InvocationOutcome outcome = Invoke(*env);
  ASSERT_EQ(outcome.kind, Kind::kResponse) << outcome.body;
  EXPECT_EQ(outcome.body, "\"" + root_ + "/code/shipped/boto3/__init__.py\"");
}

TEST_F(ZygoteTest, PreloadedBoto3ReadsTheFunctionsEnvironment) {
  LaunchPlan plan = Plan("configured", {{"app.py", R"(
import boto3
client = boto3.client("dynamodb")
def handler(event, context):
    credentials = client._request_signer._credentials
    return [client.meta.region_name, client.meta.endpoint_url, credentials.access_key]
)"}});
  for (std::string& var : plan.env) {
    if (var.starts_with("AWS_REGION=")) var = "AWS_REGION=eu-west-1";
    if (var.starts_with("AWS_DEFAULT_REGION=")) var = "AWS_DEFAULT_REGION=eu-west-1";
    if (var.starts_with("AWS_ACCESS_KEY_ID=")) var = "AWS_ACCESS_KEY_ID=FUNCTIONKEY";
  }
  plan.env.push_back("AWS_ENDPOINT_URL=http://127.0.0.1:9");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Environment> env, Environment::Start(plan, zygote_.get()));
  InvocationOutcome outcome = Invoke(*env);
  ASSERT_EQ(outcome.kind, Kind::kResponse) << outcome.body;
  EXPECT_EQ(outcome.body, R"(["eu-west-1", "http://127.0.0.1:9", "FUNCTIONKEY"])");
  // The same as a process started with exec.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Environment> exec, Environment::Start(plan));
  EXPECT_EQ(Invoke(*exec).body, outcome.body);
}

TEST_F(ZygoteTest, InitErrorsAndExitsBehaveAsWithExec) {
  LaunchPlan plan = Plan("broken", {{"other.py", ""}});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Environment> env, Environment::Start(plan, zygote_.get()));
  InvocationOutcome outcome = Invoke(*env);
  EXPECT_EQ(outcome.kind, Kind::kInitError);
  EXPECT_THAT(outcome.body, HasSubstr("Runtime.ImportModuleError"));
  env->Kill();
  EXPECT_TRUE(env->Exited());
}

TEST_F(ZygoteTest, DeadZygoteIsUnavailable) {
  LaunchPlan plan = Plan("orphaned", {{"app.py", "def handler(e, c):\n    return 1\n"}});
  zygote_.reset();  // kills it; a new object that never got ready stands in
  ASSERT_OK_AND_ASSIGN(zygote_, PythonZygote::Start("/bin/false", "x", {}));
  EXPECT_THAT(zygote_->WaitReady(60'000), testing::StatusIs(ErrorCode::kUnavailable));
  EXPECT_TRUE(zygote_->failed());
  EXPECT_THAT(Environment::Start(plan, zygote_.get()), testing::StatusIs(ErrorCode::kUnavailable));
}

}  // namespace
}  // namespace salespipe::lambda
