#include "lambda/runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/crypto.h"
#include "common/test_util.h"
#include "lambda/runner_launch.h"

namespace salespipe::lambda {
namespace {

using ::salespipe::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/lambda_runner_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
    ASSERT_OK_AND_ASSIGN(runner_, NewProcessRunner(Options()));
  }
  void TearDown() override {
    if (runner_) runner_->Shutdown();
    std::filesystem::remove_all(root_);
  }

  RunnerOptions Options() {
    return RunnerOptions{.runtime_dir = root_ + "/runtimes",
                         .edge_endpoint = "http://127.0.0.1:4566",
                         .default_max_concurrency = 2,
                         .max_queued_per_function = 4};
  }

  void WriteFile(const std::string& path, std::string_view content, bool executable = false) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    if (executable) ::chmod(path.c_str(), 0755);
  }

  // A function named `name` whose code is `files` (relative path -> content).
  FunctionSpec Function(const std::string& name, const std::string& runtime,
                        const std::string& handler,
                        const std::map<std::string, std::string>& files) {
    const std::string code_dir = root_ + "/code/" + name;
    for (const auto& [path, content] : files) {
      WriteFile(code_dir + "/" + path, content, path == "bootstrap");
    }
    const std::string arn = "arn:aws:lambda:us-east-1:000000000000:function:" + name;
    return FunctionSpec{.function_arn = arn,
                        .function_name = name,
                        .invoked_arn = arn,
                        .runtime = runtime,
                        .handler = handler,
                        .code_dir = code_dir,
                        .environment_key = arn + ":$LATEST:1"};
  }

  FunctionSpec Python(const std::string& name, const std::string& code) {
    return Function(name, "python3.12", "lambda_function.lambda_handler",
                    {{"lambda_function.py", code}});
  }

  InvokeResult MustRun(const FunctionSpec& spec, std::string_view payload = "{}",
                       RunOptions options = {}) {
    Result<InvokeResult> result = runner_->Run(spec, payload, options);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : InvokeResult{};
  }

  std::string root_;
  std::unique_ptr<Runner> runner_;
};

int PidOf(const InvokeResult& result) {
  return std::stoi(result.payload.substr(result.payload.find("\"pid\": ") + 7));
}

// Blocks until process `pid` has exited (a pidfd, no polling loop).
void WaitForExit(int pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return;  // gone already
  pollfd waiter{.fd = fd, .events = POLLIN, .revents = 0};
  ::poll(&waiter, 1, -1);
  ::close(fd);
}

constexpr std::string_view kCounter = R"(
import os
count = 0
def lambda_handler(event, context):
    global count
    count += 1
    return {"count": count, "pid": os.getpid()}
)";

TEST_F(RunnerTest, PythonHandlerReturnsItsValueAsJson) {
  FunctionSpec spec = Python("echo", R"(
def lambda_handler(event, context):
    return {"got": event, "id": context.aws_request_id, "name": context.function_name,
            "arn": context.invoked_function_arn, "memory": context.memory_limit_in_mb,
            "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 3000}
)");
  InvokeResult result = MustRun(spec, R"({"a": [1, 2]})");
  EXPECT_EQ(result.function_error, std::nullopt);
  EXPECT_EQ(result.payload, R"({"got": {"a": [1, 2]}, "id": ")" + result.request_id +
                                R"(", "name": "echo", "arn": ")" + spec.function_arn +
                                R"(", "memory": "128", "remaining_ok": true})");
  EXPECT_EQ(result.executed_version, "$LATEST");
}

TEST_F(RunnerTest, PythonHandlerReturningNoneIsNull) {
  FunctionSpec spec = Python("none", "def lambda_handler(event, context):\n    pass\n");
  InvokeResult result = MustRun(spec);
  EXPECT_EQ(result.function_error, std::nullopt);
  EXPECT_EQ(result.payload, "null");
}

TEST_F(RunnerTest, ExceptionIsUnhandledWithAwsErrorDocument) {
  FunctionSpec spec = Python("boom", R"(
def helper():
    raise ValueError("boom")

def lambda_handler(event, context):
    helper()
)");
  InvokeResult result = MustRun(spec);
  EXPECT_EQ(result.function_error, "Unhandled");
  EXPECT_THAT(result.payload, StartsWith(R"({"errorMessage": "boom", "errorType": "ValueError", )"
                                         R"("requestId": ")" +
                                         result.request_id + R"(", )"));
  EXPECT_THAT(result.payload, HasSubstr(R"("stackTrace": ["  File \")"));
  EXPECT_THAT(result.payload, HasSubstr("lambda_function.py\\\", line 6, in lambda_handler"));
  EXPECT_THAT(result.payload, HasSubstr("in helper"));
  EXPECT_THAT(result.payload, Not(HasSubstr("python_bootstrap")));
  // The environment survives a handled exception.
  EXPECT_EQ(MustRun(spec).function_error, "Unhandled");
}

TEST_F(RunnerTest, MissingModuleIsAnInitError) {
  FunctionSpec spec = Function("nomodule", "python3.12", "missing.lambda_handler",
                               {{"lambda_function.py", "x = 1\n"}});
  InvokeResult result = MustRun(spec);
  EXPECT_EQ(result.function_error, "Unhandled");
  EXPECT_EQ(result.payload,
            R"({"errorMessage": "Unable to import module 'missing': No module named 'missing'", )"
            R"("errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []})");
  // Every invocation retries the init, as AWS does.
  EXPECT_THAT(MustRun(spec).payload, HasSubstr("Runtime.ImportModuleError"));
}

TEST_F(RunnerTest, MissingHandlerFunctionIsHandlerNotFound) {
  FunctionSpec spec = Function("nohandler", "python3.12", "lambda_function.nope",
                               {{"lambda_function.py", "x = 1\n"}});
  InvokeResult result = MustRun(spec);
  EXPECT_EQ(result.function_error, "Unhandled");
  EXPECT_THAT(result.payload,
              HasSubstr(R"("errorMessage": "Handler 'nope' missing on module 'lambda_function'", )"
                        R"("errorType": "Runtime.HandlerNotFound")"));
}

TEST_F(RunnerTest, HandlerInAFolderAndAPackage) {
  FunctionSpec spec = Function("folders", "python3.12", "src/app/main.handler",
                               {{"src/app/main.py", "def handler(e, c):\n    return 'folder'\n"}});
  EXPECT_EQ(MustRun(spec).payload, R"("folder")");
  FunctionSpec dotted = Function(
      "dotted", "python3.12", "pkg.mod.handler",
      {{"pkg/__init__.py", ""}, {"pkg/mod.py", "def handler(e, c):\n    return 'package'\n"}});
  EXPECT_EQ(MustRun(dotted).payload, R"("package")");
}

TEST_F(RunnerTest, TimeoutKillsTheEnvironmentAndTheNextInvocationStartsANewOne) {
  FunctionSpec spec = Python("slow", R"(
import os, time
count = 0
def lambda_handler(event, context):
    global count
    count += 1
    if event.get("hang"):
        print("about to hang")
        time.sleep(60)
    return {"count": count, "pid": os.getpid()}
)");
  spec.timeout = std::chrono::seconds(1);
  InvokeResult first = MustRun(spec);
  ASSERT_EQ(first.function_error, std::nullopt);
  const int first_pid = PidOf(first);

  InvokeResult timed_out = MustRun(spec, R"({"hang": true})", {.tail_logs = true});
  EXPECT_EQ(timed_out.function_error, "Unhandled");
  EXPECT_THAT(timed_out.payload, StartsWith(R"({"errorMessage":")"));
  EXPECT_THAT(timed_out.payload,
              HasSubstr("Z " + timed_out.request_id + " Task timed out after 1.00 seconds\"}"));
  std::string logs = Base64Decode(timed_out.log_tail).value_or("");
  EXPECT_THAT(logs, HasSubstr("about to hang"));
  EXPECT_THAT(logs, HasSubstr("Status: timeout"));
  EXPECT_EQ(::kill(first_pid, 0), -1);  // killed and reaped
  EXPECT_EQ(errno, ESRCH);

  InvokeResult after = MustRun(spec);
  EXPECT_EQ(after.function_error, std::nullopt);
  EXPECT_THAT(after.payload, StartsWith(R"({"count": 1, )"));  // a fresh environment
}

TEST_F(RunnerTest, ProcessExitIsRuntimeExitError) {
  FunctionSpec spec = Python("crash", R"(
import os
def lambda_handler(event, context):
    print("crashing", flush=True)
    os._exit(3)
)");
  InvokeResult result = MustRun(spec, "{}", {.tail_logs = true});
  EXPECT_EQ(result.function_error, "Unhandled");
  EXPECT_EQ(result.payload, R"({"errorMessage":"RequestId: )" + result.request_id +
                                R"( Error: Runtime exited with error: exit status 3",)"
                                R"("errorType":"Runtime.ExitError"})");
  std::string logs = Base64Decode(result.log_tail).value_or("");
  EXPECT_THAT(logs, HasSubstr("crashing"));
  EXPECT_THAT(logs, HasSubstr("Error Type: Runtime.ExitError"));
}

TEST_F(RunnerTest, SysExitAndUnserializableResults) {
  FunctionSpec spec = Python("exits", R"(
import sys
def lambda_handler(event, context):
    if event.get("exit") is not None:
        sys.exit(event["exit"])
    return {1, 2}
)");
  InvokeResult clean = MustRun(spec, R"({"exit": 0})");
  EXPECT_EQ(clean.payload, R"({"errorMessage":"RequestId: )" + clean.request_id +
                               R"( Error: Runtime exited without providing a reason",)"
                               R"("errorType":"Runtime.ExitError"})");
  EXPECT_THAT(MustRun(spec, R"({"exit": 2})").payload,
              HasSubstr("Runtime exited with error: exit status 2"));
  InvokeResult marshal = MustRun(spec);
  EXPECT_EQ(marshal.function_error, "Unhandled");
  EXPECT_THAT(marshal.payload,
              StartsWith(R"({"errorMessage": "Unable to marshal response: Object of type set is )"
                         R"(not JSON serializable")"));
  EXPECT_THAT(marshal.payload, HasSubstr(R"("errorType": "Runtime.MarshalError")"));
}

TEST_F(RunnerTest, WarmEnvironmentIsReused) {
  FunctionSpec spec = Python("counter", std::string(kCounter));
  EXPECT_THAT(MustRun(spec).payload, StartsWith(R"({"count": 1, )"));
  EXPECT_THAT(MustRun(spec).payload, StartsWith(R"({"count": 2, )"));
  EXPECT_THAT(MustRun(spec).payload, StartsWith(R"({"count": 3, )"));
}

// A handler that blocks until the test lets it go, and tells the test it started (FIFOs, so
// neither side polls).
constexpr std::string_view kGated = R"(
count = 0
def lambda_handler(event, context):
    global count
    count += 1
    if event.get("gate"):
        with open(event["gate"] + ".started", "w") as f:
            f.write("x")
        with open(event["gate"] + ".release") as f:
            f.read()
    return count
)";

class Gate {
 public:
  explicit Gate(const std::string& path) : path_(path) {
    EXPECT_EQ(::mkfifo((path_ + ".started").c_str(), 0600), 0);
    EXPECT_EQ(::mkfifo((path_ + ".release").c_str(), 0600), 0);
  }
  std::string Event() const { return R"({"gate": ")" + path_ + R"("})"; }
  void WaitStarted() const {
    std::ifstream started(path_ + ".started");
    std::string ignored;
    started >> ignored;
  }
  void Release() const { std::ofstream(path_ + ".release") << "go"; }

 private:
  std::string path_;
};

TEST_F(RunnerTest, FullQueueIsResourceExhausted) {
  RunnerOptions options = Options();
  options.max_queued_per_function = 0;
  ASSERT_OK_AND_ASSIGN(auto strict, NewProcessRunner(options));
  FunctionSpec spec = Python("strict", std::string(kGated));
  spec.max_concurrency = 1;
  Gate gate(root_ + "/strict");
  Result<InvokeResult> held = Status::Internal("not run");
  std::thread holder([&] { held = strict->Run(spec, gate.Event(), {}); });
  gate.WaitStarted();
  EXPECT_THAT(strict->Run(spec, "{}", {}), StatusIs(ErrorCode::kResourceExhausted));
  gate.Release();
  holder.join();
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->payload, "1");
  EXPECT_EQ(MustRun(spec).function_error, std::nullopt);  // on runner_, a separate pool
}

TEST_F(RunnerTest, QueuedInvocationsWaitForTheFunctionsOnlyEnvironment) {
  FunctionSpec spec = Python("single", std::string(kGated));
  spec.max_concurrency = 1;
  Gate gate(root_ + "/single");
  Result<InvokeResult> held = Status::Internal("not run");
  std::thread holder([&] { held = runner_->Run(spec, gate.Event(), {}); });
  gate.WaitStarted();
  std::vector<Result<InvokeResult>> waited(4, Status::Internal("not run"));
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&, i] { waited[i] = runner_->Run(spec, "{}", {}); });
  }
  gate.Release();
  holder.join();
  for (auto& waiter : waiters) waiter.join();
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->payload, "1");
  // All ran one after another in the one environment.
  std::vector<std::string> counts;
  for (auto& result : waited) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    counts.push_back(result->payload);
  }
  std::sort(counts.begin(), counts.end());
  EXPECT_EQ(counts, (std::vector<std::string>{"2", "3", "4", "5"}));
}

TEST_F(RunnerTest, EnvironmentVariablesAsAwsSetsThem) {
  FunctionSpec spec = Python("env", R"(
import os, json
def lambda_handler(event, context):
    return {k: os.environ.get(k) for k in event["names"]} | {"cwd": os.getcwd()}
)");
  spec.environment = {{"TABLE", "orders"}, {"MODE", "test"}};
  spec.memory_mb = 256;
  InvokeResult result = MustRun(
      spec, R"({"names": ["TABLE", "MODE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
                "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_EXECUTION_ENV", "_HANDLER",
                "LAMBDA_TASK_ROOT", "AWS_LAMBDA_INITIALIZATION_TYPE", "TZ",
                "AWS_LAMBDA_LOG_GROUP_NAME", "_X_AMZN_TRACE_ID"]})");
  const std::string code_dir = root_ + "/code/env";
  EXPECT_THAT(result.payload,
              HasSubstr(R"("TABLE": "orders", "MODE": "test", )"
                        R"("AWS_ENDPOINT_URL": "http://127.0.0.1:4566", )"
                        R"("AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", )"
                        R"("AWS_LAMBDA_FUNCTION_NAME": "env", )"
                        R"("AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", )"
                        R"("AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", )"
                        R"("AWS_EXECUTION_ENV": "AWS_Lambda_python3.12", )"
                        R"("_HANDLER": "lambda_function.lambda_handler", )"
                        R"("LAMBDA_TASK_ROOT": ")" +
                        code_dir +
                        R"(", "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", )"
                        R"("TZ": ":UTC", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/env", )"
                        R"("_X_AMZN_TRACE_ID": "Root=1-)"));
  EXPECT_THAT(result.payload, HasSubstr(R"("cwd": ")" + code_dir + R"("})"));
}

TEST_F(RunnerTest, LogTailHasPlatformLinesAndTheFunctionsOutput) {
  FunctionSpec spec = Python("logs", R"(
import sys
print("init line")
def lambda_handler(event, context):
    print("hello from the handler")
    print("to stderr", file=sys.stderr)
    return 1
)");
  InvokeResult result = MustRun(spec, "{}", {.tail_logs = true});
  std::string logs = Base64Decode(result.log_tail).value_or("");
  const std::string id = result.request_id;
  EXPECT_THAT(logs, HasSubstr("START RequestId: " + id + " Version: $LATEST\n"));
  EXPECT_THAT(logs, HasSubstr("hello from the handler\n"));
  EXPECT_THAT(logs, HasSubstr("to stderr\n"));
  EXPECT_THAT(logs, HasSubstr("END RequestId: " + id + "\n"));
  EXPECT_THAT(logs, HasSubstr("REPORT RequestId: " + id + "\tDuration: "));
  EXPECT_THAT(logs, HasSubstr("\tMemory Size: 128 MB\tMax Memory Used: "));
  EXPECT_THAT(logs, HasSubstr("\tInit Duration: "));
  EXPECT_LT(logs.find("hello from the handler"), logs.find("END RequestId"));
  EXPECT_LT(logs.find("START RequestId"), logs.find("hello from the handler"));
  // A warm invocation reports no init.
  InvokeResult warm = MustRun(spec, "{}", {.tail_logs = true});
  EXPECT_THAT(Base64Decode(warm.log_tail).value_or(""), Not(HasSubstr("Init Duration")));
  EXPECT_TRUE(MustRun(spec).log_tail.empty());  // only when asked
}

TEST_F(RunnerTest, NodeAsyncAndCallbackHandlers) {
  FunctionSpec async_spec = Function("node-async", "nodejs20.x", "index.handler", {{"index.js", R"(
exports.handler = async (event, context) => {
  return { doubled: event.n * 2, id: context.awsRequestId, name: context.functionName };
};
)"}});
  InvokeResult result = MustRun(async_spec, R"({"n": 21})");
  EXPECT_EQ(result.function_error, std::nullopt);
  EXPECT_EQ(result.payload,
            R"({"doubled":42,"id":")" + result.request_id + R"(","name":"node-async"})");

  FunctionSpec callback_spec = Function("node-callback", "nodejs20.x", "app.main", {{"app.js", R"(
exports.main = (event, context, callback) => {
  if (event.fail) { callback(new TypeError("bad input")); return; }
  setTimeout(() => callback(null, "called back"), 1);
};
)"}});
  EXPECT_EQ(MustRun(callback_spec).payload, R"("called back")");
  InvokeResult failed = MustRun(callback_spec, R"({"fail": true})");
  EXPECT_EQ(failed.function_error, "Unhandled");
  EXPECT_THAT(failed.payload,
              StartsWith(R"({"errorType":"TypeError","errorMessage":"bad input","trace":[)"));

  FunctionSpec missing = Function("node-missing", "nodejs20.x", "nothere.handler",
                                  {{"index.js", "exports.handler = async () => 1;\n"}});
  EXPECT_THAT(MustRun(missing).payload, HasSubstr(R"("errorType":"Runtime.ImportModuleError")"));
}

TEST_F(RunnerTest, ProvidedRuntimeRunsTheFunctionsBootstrap) {
  // A custom runtime in Python, speaking the Runtime API with urllib only.
  FunctionSpec spec =
      Function("custom", "provided.al2023", "ignored", {{"bootstrap", R"(#!/usr/bin/env python3
import os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = r.read()
    body = b'{"custom": ' + event + b', "exec_env": "' + os.environ.get("AWS_EXECUTION_ENV", "none").encode() + b'"}'
    urllib.request.urlopen(urllib.request.Request(api + request_id + "/response", data=body)).read()
)"}});
  InvokeResult result = MustRun(spec, R"({"x":1})");
  EXPECT_EQ(result.function_error, std::nullopt);
  EXPECT_EQ(result.payload, R"({"custom": {"x":1}, "exec_env": "none"})");
  EXPECT_EQ(MustRun(spec, "[2]").payload, R"({"custom": [2], "exec_env": "none"})");

  FunctionSpec no_bootstrap =
      Function("custom-empty", "provided.al2", "ignored", {{"README", "no bootstrap here"}});
  InvokeResult invalid = MustRun(no_bootstrap);
  EXPECT_EQ(invalid.function_error, "Unhandled");
  EXPECT_THAT(invalid.payload, HasSubstr(R"("errorType":"Runtime.InvalidEntrypoint")"));
}

TEST_F(RunnerTest, AwsSampleBashRuntimeWithCurl) {
  if (::system("command -v curl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no curl";
  // The custom runtime of AWS's tutorial (bash: /bin/sh is dash here), with a handler whose answer
  // is over 1 KB (curl then sends Expect: 100-continue).
  FunctionSpec spec = Function("bash", "provided.al2023", "function.handler",
                               {{"bootstrap", R"sh(#!/bin/bash
set -euo pipefail
source $LAMBDA_TASK_ROOT/"$(echo $_HANDLER | cut -d. -f1).sh"
while true
do
  HEADERS="$(mktemp)"
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")
  curl -sS "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" -d "$RESPONSE" >/dev/null
done
)sh"},
                                {"function.sh", R"sh(handler () {
  EVENT_DATA=$1
  echo "Echoing request: '$EVENT_DATA'" 1>&2
  printf '"%02000d"' 7
}
)sh"}});
  InvokeResult result = MustRun(spec, R"({"hello": "bash"})", {.tail_logs = true});
  EXPECT_EQ(result.function_error, std::nullopt) << result.payload;
  EXPECT_EQ(result.payload, "\"" + std::string(1999, '0') + "7\"");
  EXPECT_THAT(Base64Decode(result.log_tail).value_or(""),
              HasSubstr(R"(Echoing request: '{"hello": "bash"}')"));
  EXPECT_EQ(MustRun(spec, "{}").function_error, std::nullopt);
}

TEST_F(RunnerTest, RetirePicksUpNewCode) {
  FunctionSpec spec = Python("versioned", "def lambda_handler(e, c):\n    return 'v1'\n");
  EXPECT_EQ(MustRun(spec).payload, R"("v1")");
  // (A different size too: Python trusts a .pyc with the same mtime second and size.)
  WriteFile(spec.code_dir + "/lambda_function.py",
            "def lambda_handler(e, c):\n    return 'v2'  # updated\n");
  EXPECT_EQ(MustRun(spec).payload, R"("v1")");  // the warm environment has v1 loaded
  runner_->Retire(spec.function_arn);
  EXPECT_EQ(MustRun(spec).payload, R"("v2")");
}

TEST_F(RunnerTest, NewEnvironmentKeyStartsNewEnvironment) {
  FunctionSpec spec = Python("rekeyed", std::string(kCounter));
  EXPECT_THAT(MustRun(spec).payload, StartsWith(R"({"count": 1, )"));
  EXPECT_THAT(MustRun(spec).payload, StartsWith(R"({"count": 2, )"));
  spec.environment_key += "-updated";
  EXPECT_THAT(MustRun(spec).payload, StartsWith(R"({"count": 1, )"));
}

TEST_F(RunnerTest, ShutdownLeavesNoChildProcesses) {
  std::vector<int> pids;
  for (const std::string name : {"a", "b", "c"}) {
    InvokeResult result = MustRun(Python(name, std::string(kCounter)));
    pids.push_back(PidOf(result));
  }
  for (int pid : pids) EXPECT_EQ(::kill(pid, 0), 0);
  runner_->Shutdown();
  for (int pid : pids) EXPECT_EQ(::kill(pid, 0), -1);
  int status;
  EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_THAT(runner_->Run(Python("late", std::string(kCounter)), "{}", {}),
              StatusIs(ErrorCode::kUnavailable));
  runner_->Shutdown();  // idempotent
}

TEST_F(RunnerTest, IdleEnvironmentStopsAfterItsTtl) {
  RunnerOptions options = Options();
  options.idle_environment_ttl = std::chrono::seconds(1);
  ASSERT_OK_AND_ASSIGN(auto runner, NewProcessRunner(options));
  FunctionSpec spec = Python("ttl", std::string(kCounter));
  Result<InvokeResult> first = runner->Run(spec, "{}", {});
  ASSERT_TRUE(first.ok());
  WaitForExit(PidOf(*first));  // returns only because the runner stopped it
  Result<InvokeResult> second = runner->Run(spec, "{}", {});
  ASSERT_TRUE(second.ok());
  EXPECT_THAT(second->payload, StartsWith(R"({"count": 1, )"));
}

TEST_F(RunnerTest, EnvironmentThatDiesWhileIdleIsReplacedWithoutAnError) {
  FunctionSpec spec = Python("suicidal", R"(
import os, threading
count = 0
def lambda_handler(event, context):
    global count
    count += 1
    if event.get("die"):
        threading.Timer(0.01, os._exit, [0]).start()
    return {"count": count, "pid": os.getpid()}
)");
  InvokeResult first = MustRun(spec, R"({"die": true})");
  ASSERT_EQ(first.function_error, std::nullopt);
  WaitForExit(PidOf(first));
  InvokeResult second = MustRun(spec);
  EXPECT_EQ(second.function_error, std::nullopt) << second.payload;
  EXPECT_THAT(second.payload, StartsWith(R"({"count": 1, )"));
}

TEST_F(RunnerTest, LargeEventsAndTooLargeResponses) {
  FunctionSpec spec = Python("large", R"(
def lambda_handler(event, context):
    if "size" in event:
        return "x" * event["size"]
    return len(event["data"])
)");
  const std::string data(5 * 1024 * 1024, 'd');
  EXPECT_EQ(MustRun(spec, R"({"data": ")" + data + R"("})").payload, std::to_string(data.size()));
  EXPECT_EQ(MustRun(spec, R"({"size": 6000000})").payload.size(), 6000002u);
  InvokeResult too_large = MustRun(spec, R"({"size": 7000000})");
  EXPECT_EQ(too_large.function_error, "Unhandled");
  EXPECT_THAT(too_large.payload, HasSubstr(R"("errorType":"Function.ResponseSizeTooLarge")"));
  EXPECT_EQ(MustRun(spec, R"({"size": 3})").payload, R"("xxx")");

  FunctionSpec node = Function("large-node", "nodejs20.x", "index.handler", {{"index.js", R"(
exports.handler = async (event) => event.size ? "y".repeat(event.size) : event.data.length;
)"}});
  EXPECT_EQ(MustRun(node, R"({"data": ")" + data + R"("})").payload, std::to_string(data.size()));
  EXPECT_EQ(MustRun(node, R"({"size": 6000000})").payload.size(), 6000002u);
  EXPECT_THAT(MustRun(node, R"({"size": 7000000})").payload,
              HasSubstr(R"("errorType":"Function.ResponseSizeTooLarge")"));
  EXPECT_EQ(MustRun(node, R"({"size": 2})").payload, R"("yy")");
}

TEST_F(RunnerTest, LoggingModuleAndNodeConsoleLinesCarryTheRequestId) {
  FunctionSpec python = Python("pylog", R"(
import logging
logger = logging.getLogger()
logger.setLevel(logging.INFO)
def lambda_handler(event, context):
    logger.info("from logging")
)");
  InvokeResult result = MustRun(python, "{}", {.tail_logs = true});
  EXPECT_THAT(Base64Decode(result.log_tail).value_or(""),
              HasSubstr("Z\t" + result.request_id + "\tfrom logging\n"));
  EXPECT_THAT(Base64Decode(result.log_tail).value_or(""), HasSubstr("[INFO]\t"));
  FunctionSpec node =
      Function("nodelog", "nodejs20.x", "index.handler",
               {{"index.js", "exports.handler = async () => { console.log('hi', 42); };\n"}});
  InvokeResult node_result = MustRun(node, "{}", {.tail_logs = true});
  EXPECT_EQ(node_result.payload, "null");
  EXPECT_THAT(Base64Decode(node_result.log_tail).value_or(""),
              HasSubstr("Z\t" + node_result.request_id + "\tINFO\thi 42\n"));
}

TEST_F(RunnerTest, LogSinkGetsEveryInvocationsLogs) {
  Mutex mu;
  std::vector<std::string> received;
  RunnerOptions options = Options();
  options.log_sink = [&](const FunctionSpec& spec, std::string_view logs) {
    MutexLock lock(mu);
    received.push_back(spec.function_name + ":" + std::string(logs));
  };
  ASSERT_OK_AND_ASSIGN(auto runner, NewProcessRunner(options));
  FunctionSpec spec = Python("sunk", "def lambda_handler(e, c):\n    print('sunk line')\n");
  ASSERT_TRUE(runner->Run(spec, "{}", {}).ok());
  MutexLock lock(mu);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_THAT(received[0], StartsWith("sunk:"));
  EXPECT_THAT(received[0], HasSubstr("sunk line\nEND RequestId: "));
}

TEST_F(RunnerTest, EnvironmentsDieWithAKilledServer) {
  // The "server" is a forked child that starts a runner and invokes a function that reports
  // its pid through a FIFO and then sleeps (so it does not notice the lost Runtime API
  // connection); SIGKILL gives the server no chance to clean up.
  FunctionSpec spec = Python("orphan", R"(
import os, time
def lambda_handler(event, context):
    with open(event["fifo"], "w") as f:
        f.write(str(os.getpid()))
    time.sleep(600)
)");
  spec.timeout = std::chrono::seconds(900);
  const std::string fifo = root_ + "/orphan.pid";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const pid_t server = ::fork();
  ASSERT_GE(server, 0);
  if (server == 0) {
    auto runner = NewProcessRunner(Options());
    if (runner.ok()) (void)(*runner)->Run(spec, R"({"fifo": ")" + fifo + R"("})", {});
    ::_exit(0);
  }
  int function_pid = -1;
  {
    std::ifstream reported(fifo);
    reported >> function_pid;
  }
  ASSERT_GT(function_pid, 0);
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, function_pid, 0));
  ASSERT_GE(pidfd, 0);
  ::kill(server, SIGKILL);
  int status;
  ASSERT_EQ(::waitpid(server, &status, 0), server);
  // PR_SET_PDEATHSIG kills the environment; the minute only turns a regression into a failure
  // instead of a hang.
  pollfd waiter{.fd = pidfd, .events = POLLIN, .revents = 0};
  EXPECT_EQ(::poll(&waiter, 1, 60'000), 1);
  ::close(pidfd);
  ::kill(function_pid, SIGKILL);  // if the test failed
}

TEST_F(RunnerTest, ConcurrentCallersRetireAndShutdown) {
  // Bounded load: 6 callers x 20 invocations over two functions of 2 environments each, with
  // Retire calls racing them. Every invocation succeeds and nothing is left running.
  FunctionSpec first = Python("busy-a", std::string(kCounter));
  FunctionSpec second = Python("busy-b", std::string(kCounter));
  first.max_concurrency = 2;
  second.max_concurrency = 2;
  std::atomic<int> succeeded{0};
  std::vector<std::thread> callers;
  for (int caller = 0; caller < 6; ++caller) {
    callers.emplace_back([&, caller] {
      for (int i = 0; i < 20; ++i) {
        const FunctionSpec& spec = (caller + i) % 2 == 0 ? first : second;
        Result<InvokeResult> result = runner_->Run(spec, "{}", {});
        if (result.ok() && !result->function_error) ++succeeded;
        if (caller == 0 && i % 5 == 0) runner_->Retire(second.function_arn);
      }
    });
  }
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(succeeded.load(), 120);
  runner_->Shutdown();
  int status;
  EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(RunnerTest, PythonWithoutTheZygote) {
  RunnerOptions options = Options();
  options.python_zygote = false;
  ASSERT_OK_AND_ASSIGN(auto runner, NewProcessRunner(options));
  FunctionSpec spec = Python("exec-only", R"(
count = 0
def lambda_handler(event, context):
    global count
    count += 1
    if event.get("fail"):
        raise KeyError("missing")
    return count
)");
  for (int i = 1; i <= 3; ++i) {
    Result<InvokeResult> result = runner->Run(spec, "{}", {});
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->payload, std::to_string(i));
  }
  Result<InvokeResult> failed = runner->Run(spec, R"({"fail": true})", {});
  ASSERT_TRUE(failed.ok());
  EXPECT_THAT(failed->payload, HasSubstr(R"("errorType": "KeyError")"));
}

TEST_F(RunnerTest, ShutdownEndsRunningAndQueuedInvocations) {
  FunctionSpec spec = Python("shutdown", std::string(kGated));
  spec.max_concurrency = 1;
  spec.timeout = std::chrono::seconds(900);
  Gate gate(root_ + "/shutdown");
  Result<InvokeResult> held = Status::Internal("not run");
  std::thread holder([&] { held = runner_->Run(spec, gate.Event(), {}); });
  gate.WaitStarted();
  std::vector<Result<InvokeResult>> queued(3, Status::Internal("not run"));
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&, i] { queued[i] = runner_->Run(spec, "{}", {}); });
  }
  runner_->Shutdown();  // returns although the handler would block for 900 s
  holder.join();
  for (auto& waiter : waiters) waiter.join();
  EXPECT_THAT(held, StatusIs(ErrorCode::kUnavailable));
  for (auto& result : queued) {
    // Queued (Unavailable), or not yet queued when Shutdown began (Unavailable as well).
    EXPECT_THAT(result, StatusIs(ErrorCode::kUnavailable));
  }
}

TEST_F(RunnerTest, UnknownRuntimeIsInvalidArgument) {
  FunctionSpec spec = Function("cobol", "cobol85", "x.y", {{"x", ""}});
  EXPECT_THAT(runner_->Run(spec, "{}", {}), StatusIs(ErrorCode::kInvalidArgument));
}

TEST(RuntimeFamilyTest, Families) {
  EXPECT_EQ(*RuntimeFamilyOf("python3.9"), RuntimeFamily::kPython);
  EXPECT_EQ(*RuntimeFamilyOf("nodejs22.x"), RuntimeFamily::kNode);
  EXPECT_EQ(*RuntimeFamilyOf("provided.al2023"), RuntimeFamily::kProvided);
  EXPECT_THAT(RuntimeFamilyOf("java21"), StatusIs(ErrorCode::kInvalidArgument));
}

}  // namespace
}  // namespace salespipe::lambda
