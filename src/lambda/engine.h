#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "lambda/function_store.h"
#include "lambda/invoker.h"
#include "lambda/runner.h"

namespace salespipe::lambda {

// Largest payloads (spec 7.5): synchronous requests and responses, and Event invocations
// (AWS raised the asynchronous limit from 256 KB to 1 MB in 2025).
inline constexpr size_t kMaxSyncPayloadBytes = 6291456;
inline constexpr size_t kMaxAsyncPayloadBytes = 1048576;

// A Runner that forwards to one set later: the process runner needs the edge's address
// (AWS_ENDPOINT_URL inside functions), known only once the edge listens, after the engines
// and services are built. Run before Set() waits for it (up to kStartWait, or until Shutdown)
// and then answers kUnavailable. Thread-safe.
class DeferredRunner final : public Runner {
 public:
  static constexpr std::chrono::seconds kStartWait{30};

  // Installs the runner (once; later calls are ignored).
  void Set(std::unique_ptr<Runner> runner);
  Result<InvokeResult> Run(const FunctionSpec& spec, std::string_view payload,
                           const RunOptions& options) override;
  void Retire(std::string_view function_arn) override;
  void Shutdown() override;

 private:
  Runner* get() const;
  // The runner once set; nullptr after kStartWait or a Shutdown without one.
  Runner* Await();
  mutable Mutex mu_;
  std::condition_variable set_;
  std::unique_ptr<Runner> runner_ GUARDED_BY(mu_);
  bool shut_down_ GUARDED_BY(mu_) = false;
};

// What an invocation runs: the function, the configuration of the version chosen (after alias
// routing) and the FunctionSpec handed to the Runner.
struct ResolvedFunction {
  std::shared_ptr<const Function> function;
  const FunctionConfig* config = nullptr;  // points into *function
  FunctionSpec spec;
};

// The lambda::Invoker: resolves a function reference (name, partial or full ARN, qualifier,
// alias with weighted routing) to a FunctionSpec and runs it on the Runner. Event invocations
// go to a bounded queue served by background threads, retried twice on a function error like
// AWS. Thread-safe.
class LambdaEngine final : public Invoker {
 public:
  struct Options {
    int event_threads = 2;
    size_t max_queued_events = 10000;
  };

  // `store` and `runner` must outlive the engine.
  LambdaEngine(FunctionStore& store, Runner& runner, Options options);
  LambdaEngine(FunctionStore& store, Runner& runner) : LambdaEngine(store, runner, Options{}) {}
  ~LambdaEngine() override;  // Stop()s

  // Starts / stops the Event-invocation threads. Stop() finishes the invocations in progress
  // and drops queued ones (AWS keeps them for up to 6 hours; we log how many were dropped).
  void Start();
  void Stop();
  // Drops the queued Event invocations and tells the threads to stop, without waiting (Stop()
  // still follows).
  void RequestStop();

  // Invoker. Errors: see invoker.h; kInvalidArgument also for a payload over the limit
  // (message "Request must be smaller than ... bytes for the InvokeFunction operation").
  Result<InvokeResult> Invoke(const InvokeRequest& request) override;

  // The function and version an invocation of `function`/`qualifier` would run.
  // Errors: kNotFound (function, version or alias); kInvalidArgument (a malformed name, or a
  // qualifier that contradicts the one inside the name).
  Result<ResolvedFunction> Resolve(std::string_view function, std::string_view qualifier,
                                   std::string_view account_id, std::string_view region);

  // Stops the warm environments of a function after its code or configuration changed, or it
  // was deleted.
  void Retire(std::string_view function_arn) { runner_.Retire(function_arn); }

  FunctionStore& store() { return store_; }

 private:
  void EventLoop();
  Result<InvokeResult> Run(const ResolvedFunction& resolved, const InvokeRequest& request);

  // Set at construction.
  FunctionStore& store_;
  Runner& runner_;
  const Options options_;

  Mutex random_mu_;
  std::mt19937_64 random_ GUARDED_BY(random_mu_);

  Mutex mu_;  // guards the queue; the event threads wait on cv_
  std::condition_variable cv_;
  std::deque<InvokeRequest> events_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace salespipe::lambda
