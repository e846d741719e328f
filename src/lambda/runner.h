#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "lambda/invoker.h"

// Runs function code in warm, reused execution environments (spec 7.6): one worker process
// per environment, each talking AWS's Lambda Runtime API to its own loopback listener.
//
// The seam between the control plane (function_store / services/lambda, which knows names,
// versions, aliases and code) and execution (which knows processes). The control plane
// resolves a function to a FunctionSpec and calls Runner::Run; the Runner keeps environments
// keyed by FunctionSpec::environment_key and never looks anything up itself.
namespace salespipe::lambda {

// Everything needed to start and invoke one version of a function.
struct FunctionSpec {
  std::string function_arn;  // unqualified: arn:aws:lambda:<region>:<account>:function:<name>
  std::string function_name;
  std::string version = "$LATEST";  // the version that runs ("$LATEST" or "1", "2", ...)
  std::string invoked_arn;          // the ARN as invoked (with a qualifier or alias if given)
  std::string runtime;              // "python3.12", "nodejs20.x", "provided.al2023", ...
  std::string handler;              // "lambda_function.lambda_handler"; unused for provided*
  std::string code_dir;             // the unpacked code (LAMBDA_TASK_ROOT), read-only
  std::chrono::seconds timeout{3};
  int memory_mb = 128;
  std::map<std::string, std::string> environment;  // Environment.Variables
  std::string account_id = "000000000000";
  std::string region = "us-east-1";
  // Environments are reused only while this is unchanged: it changes whenever the code or the
  // configuration changes (e.g. "<function_arn>:<version>:<revision id>").
  std::string environment_key;
  // At most this many environments (and so concurrent invocations) for the function;
  // 0 = the runner's default.
  int max_concurrency = 0;
};

struct RunOptions {
  std::string client_context;  // base64, passed as Lambda-Runtime-Client-Context
  bool tail_logs = false;      // fill InvokeResult::log_tail
};

struct RunnerOptions {
  std::string runtime_dir;    // where the shipped bootstraps are written (<data>/lambda/runtimes)
  std::string edge_endpoint;  // "http://127.0.0.1:4566": AWS_ENDPOINT_URL inside functions
  int default_max_concurrency = 4;   // environments per function when the spec says 0
  int max_queued_per_function = 64;  // waiting invocations beyond that: kResourceExhausted
  std::chrono::seconds idle_environment_ttl{600};  // idle environments are stopped after this
  // Fork Python environments from a pre-started interpreter that has imported the bootstrap
  // and boto3 (cold start ~30 ms -> a few ms, and boto3's import paid once). Functions that set
  // PYTHON* variables are started with exec, as are all when the zygote cannot run.
  bool python_zygote = true;
  // Receives each invocation's logs: the function's stdout/stderr between START and the
  // platform's END/REPORT lines (plus its init output on a cold start), as CloudWatch would
  // get them. Called on the invoking thread after the result is known; must be thread-safe
  // and quick. Unset: the logs go to the server log at debug level.
  std::function<void(const FunctionSpec& spec, std::string_view logs)> log_sink;
};

// Thread-safe. Run blocks the caller until the invocation ends (at most the timeout plus the
// time to start an environment) and must not be called on an io thread.
class Runner {
 public:
  virtual ~Runner() = default;

  // Runs `payload` (JSON text) in a warm environment of `spec`, starting one if none is idle
  // and the function is under its concurrency; otherwise waits in the function's queue.
  // A handler error, a timeout (the environment is killed), a crash or an init failure is a
  // successful Run whose result has function_error "Unhandled" and AWS's error document as
  // payload (a provided.* function without an executable bootstrap is Runtime.InvalidEntrypoint
  // the same way). Errors: kResourceExhausted when the queue is full; kInvalidArgument for a
  // runtime that is not python3.*, nodejs*.x or provided*; kUnavailable once Shutdown began;
  // kInternal if no environment can be started (e.g. the runtime's interpreter is missing).
  virtual Result<InvokeResult> Run(const FunctionSpec& spec, std::string_view payload,
                                   const RunOptions& options) = 0;

  // Stops the environments of every key starting with `function_arn` (after an update or a
  // delete): idle ones at once, busy ones when their invocation ends.
  virtual void Retire(std::string_view function_arn) = 0;

  // Stops every environment and waits for the processes to exit. Idempotent.
  virtual void Shutdown() = 0;
};

// The process-based runner (runner.cc). Errors: kInternal if runtime_dir cannot be written.
Result<std::unique_ptr<Runner>> NewProcessRunner(const RunnerOptions& options);

}  // namespace salespipe::lambda
