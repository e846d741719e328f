#include "lambda/runner.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/crypto.h"
#include "common/logging.h"
#include "common/mutex.h"
#include "common/unique_fd.h"
#include "fmt/format.h"
#include "lambda/environment.h"
#include "lambda/environment_zygote.h"
#include "lambda/runner_launch.h"
#include "lambda/runner_report.h"

namespace salespipe::lambda {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Kind = InvocationOutcome::Kind;

// AWS lets an environment's init run for 10 s before the invocation's own timeout starts.
constexpr std::chrono::seconds kInitAllowance{10};
// How often Run retries when a warm environment turns out to have died while idle.
constexpr int kMaxStaleEnvironments = 3;

// One environment as the pools see it.
struct Slot {
  std::shared_ptr<Environment> env;
  std::string function_arn;
  std::string key;  // FunctionSpec::environment_key
  bool busy = false;
  bool retired = false;  // stop when the running invocation ends
  SteadyClock::time_point idle_since;
};

// The environments of one function (by unqualified ARN, across versions: concurrency is
// per function, as AWS's reserved concurrency).
struct Pool {
  std::vector<std::shared_ptr<Slot>> slots;
  int starting = 0;  // environments being started (count against the concurrency)
  int waiting = 0;   // invocations queued for an environment
  std::condition_variable cv;
};

bool KeyMatches(std::string_view key, std::string_view prefix) {
  return key.starts_with(prefix) && (key.size() == prefix.size() || key[prefix.size()] == ':');
}

class ProcessRunner final : public Runner {
 public:
  explicit ProcessRunner(RunnerOptions options) : options_(std::move(options)) {}
  ~ProcessRunner() override { Shutdown(); }

  Status Init() {
    RETURN_IF_ERROR(WriteBootstraps(options_.runtime_dir));
    epoll_.Reset(::epoll_create1(EPOLL_CLOEXEC));
    wake_.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!epoll_.valid() || !wake_.valid()) return Status::Internal("cannot create the epoll set");
    epoll_event event{.events = EPOLLIN, .data = {.u64 = 0}};
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &event) != 0) {
      return Status::Internal("cannot watch the wake-up eventfd");
    }
    monitor_ = std::thread([this] { MonitorLoop(); });
    spawner_ = std::thread([this] { SpawnerLoop(); });
    return Status::Ok();
  }

  Result<InvokeResult> Run(const FunctionSpec& spec, std::string_view payload,
                           const RunOptions& options) override;
  void Retire(std::string_view function_arn) override;
  void Shutdown() override;

 private:
  // A watched environment: data.u64 of its epoll entries is (id << 2) | which fd.
  struct Watched {
    std::shared_ptr<Environment> env;
    std::string function_arn;
  };
  enum WatchedFd : uint64_t { kStdout = 1, kStderr = 2, kPidFd = 3 };

  Result<std::shared_ptr<Slot>> Acquire(const FunctionSpec& spec, bool& fresh);
  void Release(const std::shared_ptr<Slot>& slot, bool discard);
  Result<std::shared_ptr<Environment>> StartEnvironment(const FunctionSpec& spec,
                                                        RuntimeFamily family);
  Result<std::string> Interpreter(RuntimeFamily family);
  // On the spawner thread: starts `plan`, through the Python zygote when it applies.
  Result<std::unique_ptr<Environment>> StartOnSpawner(const LaunchPlan& plan, RuntimeFamily family,
                                                      const std::string& interpreter);
  void Stop(const std::shared_ptr<Environment>& env);
  void Watch(const std::shared_ptr<Environment>& env, const std::string& function_arn);
  void Unwatch(const std::shared_ptr<Environment>& env);
  void MonitorLoop();
  void OnMonitorEvent(uint64_t data);
  // Removes idle environments past the TTL; returns when the next one expires.
  std::optional<SteadyClock::time_point> ExpireIdle();
  void SpawnerLoop();
  // Runs `job` on the spawner thread and waits for it.
  void OnSpawner(std::function<void()> job);
  void Wake();

  // Set at construction.
  const RunnerOptions options_;
  UniqueFd epoll_;
  UniqueFd wake_;
  std::thread monitor_;
  std::thread spawner_;

  Mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<Pool>> pools_ GUARDED_BY(mu_);
  bool shutting_down_ GUARDED_BY(mu_) = false;
  std::condition_variable drained_;  // signalled when busy/starting counts drop
  // When the monitor next wakes to expire idle environments (max: never).
  SteadyClock::time_point next_expiry_ GUARDED_BY(mu_) = SteadyClock::time_point::max();

  Mutex interpreters_mu_;
  std::map<RuntimeFamily, std::string> interpreters_ GUARDED_BY(interpreters_mu_);

  Mutex monitor_mu_;
  uint64_t next_watch_id_ GUARDED_BY(monitor_mu_) = 1;
  std::unordered_map<uint64_t, Watched> watched_ GUARDED_BY(monitor_mu_);
  std::unordered_map<const Environment*, uint64_t> watch_ids_ GUARDED_BY(monitor_mu_);
  std::atomic<bool> stop_threads_{false};

  // Used on the spawner thread only (then destroyed by Shutdown after it joined).
  std::unique_ptr<PythonZygote> zygote_;
  bool zygote_restarted_ = false;
  bool zygote_failed_ = false;

  Mutex spawner_mu_;
  std::condition_variable spawner_cv_;
  std::deque<std::function<void()>> spawner_jobs_ GUARDED_BY(spawner_mu_);

  Mutex shutdown_mu_;  // serializes Shutdown
  bool shut_down_ GUARDED_BY(shutdown_mu_) = false;
};

Result<std::string> ProcessRunner::Interpreter(RuntimeFamily family) {
  if (family == RuntimeFamily::kProvided) return std::string();
  MutexLock lock(interpreters_mu_);
  auto it = interpreters_.find(family);
  if (it == interpreters_.end()) {
    std::string path = FindInterpreter(family == RuntimeFamily::kPython ? "python3" : "node");
    it = interpreters_.emplace(family, std::move(path)).first;
  }
  if (it->second.empty()) {
    return Status::Internal(fmt::format("no {} interpreter on PATH",
                                        family == RuntimeFamily::kPython ? "python3" : "node"));
  }
  return it->second;
}

Result<std::shared_ptr<Environment>> ProcessRunner::StartEnvironment(const FunctionSpec& spec,
                                                                     RuntimeFamily family) {
  ASSIGN_OR_RETURN(std::string interpreter, Interpreter(family));
  ASSIGN_OR_RETURN(LaunchPlan plan, BuildLaunchPlan(spec, options_, family, interpreter,
                                                    NewLogStreamName(spec.version)));
  // Forked on the spawner thread: PR_SET_PDEATHSIG follows the thread that forked, and a
  // caller's thread (a worker of some pool) may exit long before the environment does.
  std::optional<Result<std::unique_ptr<Environment>>> started;
  OnSpawner([&] { started.emplace(StartOnSpawner(plan, family, interpreter)); });
  if (!started->ok()) return std::move(*started).TakeStatus();
  std::shared_ptr<Environment> env = std::move(**started);
  Watch(env, spec.function_arn);
  return env;
}

Result<std::unique_ptr<Environment>> ProcessRunner::StartOnSpawner(const LaunchPlan& plan,
                                                                   RuntimeFamily family,
                                                                   const std::string& interpreter) {
  const bool sets_python_variables =
      std::any_of(plan.env.begin(), plan.env.end(),
                  [](const std::string& var) { return var.starts_with("PYTHON"); });
  // The dynamic loader reads LD_LIBRARY_PATH ($LAMBDA_TASK_ROOT/lib) only when a process
  // starts: code that ships native libraries there is started with exec.
  std::error_code ec;
  const bool ships_libraries = std::filesystem::is_directory(plan.cwd + "/lib", ec);
  if (family != RuntimeFamily::kPython || !options_.python_zygote || zygote_failed_ ||
      sets_python_variables || ships_libraries) {
    return Environment::Start(plan);
  }
  // The zygote starts with the first Python environment, which does not wait for it (exec);
  // later ones fork from it once it is ready. If it dies it is restarted once; after that,
  // exec for the runner's lifetime.
  if (zygote_ && zygote_->failed()) {
    SPDLOG_WARN("lambda: the Python zygote failed; {}",
                zygote_restarted_ ? "Python environments start with exec" : "restarting it");
    zygote_.reset();
    if (zygote_restarted_) zygote_failed_ = true;
    zygote_restarted_ = true;
    if (zygote_failed_) return Environment::Start(plan);
  }
  if (!zygote_) {
    Result<std::unique_ptr<PythonZygote>> zygote = PythonZygote::Start(
        interpreter, plan.argv.back(),
        {"PATH=" + std::string(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"),
         "LANG=en_US.UTF-8", "TZ=:UTC"});
    if (!zygote.ok()) {
      SPDLOG_WARN("lambda: Python environments start with exec: {}", zygote.status().ToString());
      zygote_failed_ = true;
      return Environment::Start(plan);
    }
    zygote_ = std::move(*zygote);
  }
  if (!zygote_->WaitReady(0).ok()) return Environment::Start(plan);
  Result<std::unique_ptr<Environment>> env = Environment::Start(plan, zygote_.get());
  if (env.ok() || env.status().code() != ErrorCode::kUnavailable) return env;
  return Environment::Start(plan);  // zygote_->failed(): dealt with on the next start
}

Result<std::shared_ptr<Slot>> ProcessRunner::Acquire(const FunctionSpec& spec, bool& fresh) {
  ASSIGN_OR_RETURN(RuntimeFamily family, RuntimeFamilyOf(spec.runtime));
  const int limit = spec.max_concurrency > 0 ? spec.max_concurrency
                                             : std::max(1, options_.default_max_concurrency);
  std::unique_lock lock(mu_);
  std::unique_ptr<Pool>& pool_entry = pools_[spec.function_arn];
  if (!pool_entry) pool_entry = std::make_unique<Pool>();
  Pool& pool = *pool_entry;
  for (;;) {
    if (shutting_down_) return Status::Unavailable("The Lambda runner is shutting down");
    // The most recently used idle environment of this exact code and configuration.
    std::shared_ptr<Slot> best;
    for (const auto& slot : pool.slots) {
      if (slot->busy || slot->retired || slot->key != spec.environment_key) continue;
      if (!best || slot->idle_since > best->idle_since) best = slot;
    }
    if (best) {
      best->busy = true;
      fresh = false;
      return best;
    }
    const int live = static_cast<int>(pool.slots.size()) + pool.starting;
    if (live < limit) {
      ++pool.starting;
      lock.unlock();
      Result<std::shared_ptr<Environment>> env = StartEnvironment(spec, family);
      lock.lock();
      --pool.starting;
      if (!env.ok() || shutting_down_) {
        pool.cv.notify_one();
        drained_.notify_all();
        if (!env.ok()) return std::move(env).TakeStatus();
        // Shutdown began while it started: it would otherwise run a whole invocation.
        std::shared_ptr<Environment> started = std::move(*env);
        lock.unlock();
        Stop(started);
        return Status::Unavailable("The Lambda runner is shutting down");
      }
      auto slot = std::make_shared<Slot>(Slot{.env = std::move(*env),
                                              .function_arn = spec.function_arn,
                                              .key = spec.environment_key,
                                              .busy = true});
      pool.slots.push_back(slot);
      fresh = true;
      return slot;
    }
    // At the limit: an idle environment of an older configuration gives up its place.
    auto stale = std::find_if(pool.slots.begin(), pool.slots.end(),
                              [](const auto& slot) { return !slot->busy; });
    if (stale != pool.slots.end()) {
      std::shared_ptr<Environment> env = (*stale)->env;
      pool.slots.erase(stale);
      lock.unlock();
      Stop(env);
      lock.lock();
      continue;
    }
    if (pool.waiting >= options_.max_queued_per_function) {
      return Status::ResourceExhausted(
          fmt::format("Rate Exceeded. {} invocations of {} are running and {} are queued", live,
                      spec.function_name, pool.waiting));
    }
    ++pool.waiting;
    pool.cv.wait(lock);
    --pool.waiting;
    if (shutting_down_) drained_.notify_all();  // Shutdown waits for the queue to empty
  }
}

void ProcessRunner::Release(const std::shared_ptr<Slot>& slot, bool discard) {
  std::shared_ptr<Environment> to_stop;
  bool wake_monitor = false;
  {
    MutexLock lock(mu_);
    // A busy slot keeps its pool alive (pools are dropped only when empty).
    Pool& pool = *pools_.at(slot->function_arn);
    slot->busy = false;
    if (discard || slot->retired || shutting_down_ || slot->env->dead()) {
      std::erase(pool.slots, slot);
      to_stop = slot->env;
    } else {
      slot->idle_since = SteadyClock::now();
      const auto expiry = slot->idle_since + options_.idle_environment_ttl;
      if (expiry < next_expiry_) {
        next_expiry_ = expiry;
        wake_monitor = true;
      }
    }
    pool.cv.notify_one();
    drained_.notify_all();
  }
  if (to_stop) Stop(to_stop);
  if (wake_monitor) Wake();
}

void ProcessRunner::Stop(const std::shared_ptr<Environment>& env) {
  Unwatch(env);
  env->Kill();
}

Result<InvokeResult> ProcessRunner::Run(const FunctionSpec& spec, std::string_view payload,
                                        const RunOptions& options) {
  InvokeResult result;
  result.request_id = NewUuid();
  result.executed_version = spec.version;
  std::string client_context;
  if (!options.client_context.empty()) {
    client_context = Base64Decode(options.client_context).value_or("");
    std::erase_if(client_context, [](char c) { return c == '\r' || c == '\n'; });
  }
  for (int attempt = 0;; ++attempt) {
    bool fresh = false;
    Result<std::shared_ptr<Slot>> acquired = Acquire(spec, fresh);
    if (!acquired.ok()) {
      if (acquired.status().code() != ErrorCode::kFailedPrecondition) {
        return std::move(acquired).TakeStatus();
      }
      // A provided function without a bootstrap: an invocation error, as AWS reports it.
      result.function_error = "Unhandled";
      result.payload = ErrorDocument(
          "Runtime.InvalidEntrypoint",
          fmt::format("RequestId: {} Error: {}", result.request_id, acquired.status().message()));
      return result;
    }
    std::shared_ptr<Slot> slot = std::move(*acquired);
    Environment& env = *slot->env;

    const auto now = std::chrono::system_clock::now();
    const auto deadline =
        SteadyClock::now() + spec.timeout + (fresh ? kInitAllowance : std::chrono::seconds(0));
    InvocationEvent event{
        .request_id = result.request_id,
        .payload = payload,
        .deadline_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           (now + spec.timeout).time_since_epoch())
                           .count(),
        .invoked_function_arn = spec.invoked_arn.empty() ? spec.function_arn : spec.invoked_arn,
        .trace_id = TraceId(result.request_id, now),
        .client_context = client_context,
    };
    std::string logs = env.TakeLogs(StartLine(result.request_id, spec.version));
    InvocationOutcome outcome = env.Invoke(event, deadline);
    if (outcome.kind == Kind::kExited && !outcome.event_delivered && !fresh &&
        attempt < kMaxStaleEnvironments) {
      Release(slot, /*discard=*/true);  // it died while idle: the event never reached it
      continue;
    }
    FillResult(spec, outcome, result);
    logs += env.TakeLogs(PlatformLines(spec, outcome, result, env.MaxMemoryUsedMb()));
    if (options.tail_logs) result.log_tail = LogTail(logs);
    if (options_.log_sink) {
      options_.log_sink(spec, logs);
    } else {
      SPDLOG_DEBUG("lambda {} logs:\n{}", spec.function_name, logs);
    }
    const bool discard = outcome.kind != Kind::kResponse && outcome.kind != Kind::kFunctionError;
    Release(slot, discard);
    if (outcome.kind == Kind::kExited) {
      MutexLock lock(mu_);
      if (shutting_down_) return Status::Unavailable("The Lambda runner is shutting down");
    }
    return result;
  }
}

void ProcessRunner::Retire(std::string_view function_arn) {
  std::vector<std::shared_ptr<Environment>> to_stop;
  {
    MutexLock lock(mu_);
    for (auto& [arn, pool] : pools_) {
      std::erase_if(pool->slots, [&](const std::shared_ptr<Slot>& slot) {
        if (!KeyMatches(slot->key, function_arn) && !KeyMatches(slot->function_arn, function_arn)) {
          return false;
        }
        if (slot->busy) {
          slot->retired = true;
          return false;
        }
        to_stop.push_back(slot->env);
        return true;
      });
      pool->cv.notify_all();
    }
    // A deleted function's pool goes too (nobody holds a reference to an unused pool).
    std::erase_if(pools_, [](const auto& entry) {
      const Pool& pool = *entry.second;
      return pool.slots.empty() && pool.starting == 0 && pool.waiting == 0;
    });
  }
  for (const auto& env : to_stop) Stop(env);
}

void ProcessRunner::Shutdown() {
  MutexLock shutdown_lock(shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  std::vector<std::shared_ptr<Environment>> to_stop;
  {
    std::unique_lock lock(mu_);
    shutting_down_ = true;
    for (auto& [arn, pool] : pools_) {
      for (const auto& slot : pool->slots) {
        // Busy ones: killing the process ends the invocation; its Run discards the slot.
        if (slot->busy) ::kill(-slot->env->pid(), SIGKILL);
      }
      pool->cv.notify_all();
    }
    drained_.wait(lock, [this]() REQUIRES(mu_) {
      for (const auto& [arn, pool] : pools_) {
        if (pool->starting > 0 || pool->waiting > 0) return false;
        for (const auto& slot : pool->slots) {
          if (slot->busy) return false;
        }
      }
      return true;
    });
    for (auto& [arn, pool] : pools_) {
      for (const auto& slot : pool->slots) to_stop.push_back(slot->env);
      pool->slots.clear();
    }
  }
  for (const auto& env : to_stop) Stop(env);
  stop_threads_ = true;
  Wake();
  {
    MutexLock lock(spawner_mu_);
    spawner_cv_.notify_all();
  }
  if (monitor_.joinable()) monitor_.join();
  if (spawner_.joinable()) spawner_.join();
  zygote_.reset();  // after the spawner thread: nothing else touches it
  MutexLock lock(monitor_mu_);
  watched_.clear();
  watch_ids_.clear();
}

void ProcessRunner::Watch(const std::shared_ptr<Environment>& env,
                          const std::string& function_arn) {
  MutexLock lock(monitor_mu_);
  const uint64_t id = next_watch_id_++;
  watched_.emplace(id, Watched{.env = env, .function_arn = function_arn});
  watch_ids_[env.get()] = id;
  for (auto [fd, which] : {std::pair{env->stdout_fd(), kStdout},
                           std::pair{env->stderr_fd(), kStderr}, std::pair{env->pidfd(), kPidFd}}) {
    epoll_event event{.events = EPOLLIN, .data = {.u64 = (id << 2) | which}};
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event);
  }
}

void ProcessRunner::Unwatch(const std::shared_ptr<Environment>& env) {
  MutexLock lock(monitor_mu_);
  auto it = watch_ids_.find(env.get());
  if (it == watch_ids_.end()) return;
  for (int fd : {env->stdout_fd(), env->stderr_fd(), env->pidfd()}) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);  // may be gone already (EOF)
  }
  watched_.erase(it->second);
  watch_ids_.erase(it);
}

void ProcessRunner::Wake() {
  uint64_t one = 1;
  if (::write(wake_.get(), &one, sizeof(one)) < 0) {
    // EAGAIN: the counter is full, so the monitor is awake anyway.
  }
}

std::optional<SteadyClock::time_point> ProcessRunner::ExpireIdle() {
  std::vector<std::shared_ptr<Environment>> expired;
  std::optional<SteadyClock::time_point> next;
  {
    MutexLock lock(mu_);
    const auto now = SteadyClock::now();
    for (auto& [arn, pool] : pools_) {
      std::erase_if(pool->slots, [&](const std::shared_ptr<Slot>& slot) {
        if (slot->busy) return false;
        const auto expiry = slot->idle_since + options_.idle_environment_ttl;
        if (expiry <= now) {
          expired.push_back(slot->env);
          return true;
        }
        if (!next || expiry < *next) next = expiry;
        return false;
      });
    }
    next_expiry_ = next.value_or(SteadyClock::time_point::max());
  }
  for (const auto& env : expired) Stop(env);
  return next;
}

void ProcessRunner::MonitorLoop() {
  epoll_event events[64];
  // Expiry is checked when due or when Release asked (the wake-up eventfd), not on every
  // log line a chatty function prints.
  bool check_expiry = true;
  std::optional<SteadyClock::time_point> next;
  while (!stop_threads_) {
    if (check_expiry || (next && *next <= SteadyClock::now())) {
      next = ExpireIdle();
      check_expiry = false;
    }
    int timeout_ms = -1;
    if (next) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*next - SteadyClock::now());
      timeout_ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30));
    }
    int ready = ::epoll_wait(epoll_.get(), events, 64, timeout_ms);
    for (int i = 0; i < ready; ++i) {
      if (events[i].data.u64 == 0) {
        uint64_t count;
        if (::read(wake_.get(), &count, sizeof(count)) < 0) {
          // EAGAIN: another wake-up consumed it.
        }
        check_expiry = true;
        continue;
      }
      OnMonitorEvent(events[i].data.u64);
    }
  }
}

void ProcessRunner::OnMonitorEvent(uint64_t data) {
  const uint64_t id = data >> 2;
  const uint64_t which = data & 3;
  Watched watched;
  {
    MutexLock lock(monitor_mu_);
    auto it = watched_.find(id);
    if (it == watched_.end()) return;  // unwatched meanwhile
    watched = it->second;
  }
  Environment& env = *watched.env;
  if (which == kStdout || which == kStderr) {
    const int fd = which == kStdout ? env.stdout_fd() : env.stderr_fd();
    if (!env.ReadLogs(fd)) {
      MutexLock lock(monitor_mu_);
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);  // EOF: stop hearing about it
    }
    return;
  }
  // The process exited. A busy environment is its invoker's business; an idle one leaves
  // its pool now, so that nothing is handed to it and its zombie does not linger.
  {
    MutexLock lock(monitor_mu_);
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, env.pidfd(), nullptr);
  }
  bool idle = false;
  {
    MutexLock lock(mu_);
    auto it = pools_.find(watched.function_arn);
    if (it != pools_.end()) {
      Pool& pool = *it->second;
      idle = std::erase_if(pool.slots, [&](const std::shared_ptr<Slot>& slot) {
               return slot->env == watched.env && !slot->busy;
             }) > 0;
      if (idle) pool.cv.notify_one();
    }
  }
  if (idle) {
    SPDLOG_DEBUG("lambda: an idle environment of {} exited", watched.function_arn);
    Stop(watched.env);
  } else {
    env.Exited();  // reap now; the invoker reads the status
  }
}

void ProcessRunner::SpawnerLoop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(spawner_mu_);
      spawner_cv_.wait(
          lock, [this]() REQUIRES(spawner_mu_) { return stop_threads_ || !spawner_jobs_.empty(); });
      if (spawner_jobs_.empty()) return;
      job = std::move(spawner_jobs_.front());
      spawner_jobs_.pop_front();
    }
    job();
  }
}

void ProcessRunner::OnSpawner(std::function<void()> job) {
  Mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  {
    MutexLock lock(spawner_mu_);
    spawner_jobs_.push_back([&] {
      job();
      MutexLock done_lock(done_mu);
      done = true;
      done_cv.notify_one();
    });
    spawner_cv_.notify_one();
  }
  std::unique_lock lock(done_mu);
  done_cv.wait(lock, [&] { return done; });
}

}  // namespace

Result<std::unique_ptr<Runner>> NewProcessRunner(const RunnerOptions& options) {
  auto runner = std::make_unique<ProcessRunner>(options);
  RETURN_IF_ERROR(runner->Init());
  return std::unique_ptr<Runner>(std::move(runner));
}

}  // namespace salespipe::lambda
