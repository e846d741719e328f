#include "lambda/engine.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "common/crypto.h"
#include "common/logging.h"

namespace salespipe::lambda {
namespace {

// AWS retries a failed Event invocation twice.
constexpr int kEventAttempts = 3;

}  // namespace

void DeferredRunner::Set(std::unique_ptr<Runner> runner) {
  {
    MutexLock lock(mu_);
    if (runner_ == nullptr) runner_ = std::move(runner);
  }
  set_.notify_all();
}

Runner* DeferredRunner::get() const {
  // The runner is never replaced once set, so the pointer stays valid without the lock.
  MutexLock lock(mu_);
  return runner_.get();
}

Runner* DeferredRunner::Await() {
  std::unique_lock lock(mu_);
  set_.wait_for(lock, kStartWait, [&] { return runner_ != nullptr || shut_down_; });
  return runner_.get();
}

Result<InvokeResult> DeferredRunner::Run(const FunctionSpec& spec, std::string_view payload,
                                         const RunOptions& options) {
  // Only the server's own callers (Firehose, event source mappings) get here before Set():
  // the edge does not listen yet. They wait for the runner rather than fail a batch.
  Runner* runner = Await();
  if (runner == nullptr) return Status::Unavailable("Lambda is starting; retry the call");
  return runner->Run(spec, payload, options);
}

void DeferredRunner::Retire(std::string_view function_arn) {
  if (Runner* runner = get()) runner->Retire(function_arn);
}

void DeferredRunner::Shutdown() {
  {
    MutexLock lock(mu_);
    shut_down_ = true;
  }
  set_.notify_all();
  if (Runner* runner = get()) runner->Shutdown();
}

LambdaEngine::LambdaEngine(FunctionStore& store, Runner& runner, Options options)
    : store_(store), runner_(runner), options_(options), random_(std::random_device{}()) {}

LambdaEngine::~LambdaEngine() { Stop(); }

void LambdaEngine::Start() {
  if (!threads_.empty()) return;
  {
    MutexLock lock(mu_);
    stopping_ = false;
  }
  for (int i = 0; i < options_.event_threads; ++i) threads_.emplace_back([this] { EventLoop(); });
}

void LambdaEngine::RequestStop() {
  size_t dropped = 0;
  {
    MutexLock lock(mu_);
    stopping_ = true;
    dropped = events_.size();
    events_.clear();
  }
  cv_.notify_all();
  if (dropped > 0) SPDLOG_WARN("lambda: {} queued Event invocations dropped at shutdown", dropped);
}

void LambdaEngine::Stop() {
  if (threads_.empty()) return;
  RequestStop();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

void LambdaEngine::EventLoop() {
  for (;;) {
    InvokeRequest request;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !events_.empty(); });
      if (stopping_) return;
      request = std::move(events_.front());
      events_.pop_front();
    }
    request.type = InvocationType::kRequestResponse;
    for (int attempt = 1; attempt <= kEventAttempts; ++attempt) {
      {
        MutexLock lock(mu_);
        if (stopping_) return;
      }
      Result<InvokeResult> result = Invoke(request);
      if (!result.ok()) {
        SPDLOG_WARN("lambda: Event invocation of {} failed: {}", request.function,
                    result.status().ToString());
        if (result.status().code() == ErrorCode::kNotFound) break;
      } else if (!result->function_error) {
        break;
      } else {
        SPDLOG_INFO("lambda: Event invocation of {} (attempt {}) returned an error: {}",
                    request.function, attempt, result->payload);
      }
    }
  }
}

Result<ResolvedFunction> LambdaEngine::Resolve(std::string_view function,
                                               std::string_view qualifier,
                                               std::string_view account_id,
                                               std::string_view region) {
  ASSIGN_OR_RETURN(FunctionRef ref, ParseFunctionRef(function, account_id, region));
  if (!qualifier.empty()) {
    if (!ref.qualifier.empty() && ref.qualifier != qualifier) {
      return Status::InvalidArgument(
          "The derived qualifier from the function name does not match the specified "
          "qualifier.");
    }
    ref.qualifier = std::string(qualifier);
  }
  ResolvedFunction out;
  ASSIGN_OR_RETURN(out.function, store_.Get(ref.account_id, ref.region, ref.name));
  const Function& fn = *out.function;
  std::string invoked_arn = fn.arn();
  if (!ref.qualifier.empty()) invoked_arn += ":" + ref.qualifier;
  std::string version = ref.qualifier;
  if (auto alias = fn.aliases.find(ref.qualifier); alias != fn.aliases.end()) {
    version = alias->second.function_version;
    // Weighted routing: each additional version takes its share, the primary the rest.
    if (!alias->second.additional_version_weights.empty()) {
      double draw = 0;
      {
        MutexLock lock(random_mu_);
        draw = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
      }
      for (const auto& [other, weight] : alias->second.additional_version_weights) {
        if (draw < weight) {
          version = other;
          break;
        }
        draw -= weight;
      }
    }
  }
  out.config = fn.Find(version);
  if (out.config == nullptr) {
    return Status::NotFound("Function not found: " + invoked_arn);
  }
  const FunctionConfig& config = *out.config;
  out.spec = FunctionSpec{
      .function_arn = fn.arn(),
      .function_name = fn.name,
      .version = config.version,
      .invoked_arn = invoked_arn,
      .runtime = config.runtime,
      .handler = config.handler,
      .code_dir = store_.CodeDir(fn, config),
      .timeout = std::chrono::seconds(config.timeout_seconds),
      .memory_mb = config.memory_mb,
      .environment = config.environment.value_or(std::map<std::string, std::string>{}),
      .account_id = fn.account_id,
      .region = fn.region,
      .environment_key = fn.arn() + ":" + config.version + ":" + config.revision_id,
      .max_concurrency = fn.reserved_concurrency.value_or(0),
  };
  return out;
}

Result<InvokeResult> LambdaEngine::Invoke(const InvokeRequest& request) {
  std::string_view payload = request.payload;
  if (payload.empty()) payload = "{}";  // no Payload: the event is an empty object, as on AWS
  size_t limit = request.type == InvocationType::kEvent ? kMaxAsyncPayloadBytes
                                                        : kMaxSyncPayloadBytes;
  if (payload.size() > limit) {
    return Status::InvalidArgument("Request must be smaller than " + std::to_string(limit) +
                                   " bytes for the InvokeFunction operation");
  }
  ASSIGN_OR_RETURN(ResolvedFunction resolved,
                   Resolve(request.function, request.qualifier, request.account_id,
                           request.region));
  if (resolved.function->reserved_concurrency == 0) {
    return Status::ResourceExhausted("Rate Exceeded.");
  }
  if (!request.payload_is_valid_json) {
    // Validate only (SAX, no document built): the payload goes to the function as sent.
    rapidjson::Reader reader;
    rapidjson::BaseReaderHandler<> ignore;
    rapidjson::MemoryStream stream(payload.data(), payload.size());
    rapidjson::ParseResult parsed = reader.Parse(stream, ignore);
    if (parsed.IsError()) {
      return Status::InvalidArgument(
          std::string("Could not parse request body into json: Could not parse payload into "
                      "json: ") +
          rapidjson::GetParseError_En(parsed.Code()));
    }
  }
  switch (request.type) {
    case InvocationType::kDryRun:
      return InvokeResult{.executed_version = resolved.config->version};
    case InvocationType::kEvent: {
      InvokeResult queued{.executed_version = resolved.config->version,
                          .request_id = NewUuid()};
      MutexLock lock(mu_);
      if (events_.size() >= options_.max_queued_events) {
        return Status::ResourceExhausted("Rate Exceeded.");
      }
      InvokeRequest copy = request;
      copy.payload = std::string(payload);
      events_.push_back(std::move(copy));
      cv_.notify_one();
      return queued;
    }
    case InvocationType::kRequestResponse:
      break;
  }
  return runner_.Run(resolved.spec, payload,
                     RunOptions{.client_context = request.client_context,
                                .tail_logs = request.tail_logs});
}

}  // namespace salespipe::lambda
