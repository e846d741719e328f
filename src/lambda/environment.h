#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "lambda/runtime_api.h"

// One execution environment (spec 7.6): a worker process in its own process group, its
// loopback Runtime API listener, and the pipes that carry its stdout/stderr (the logs).
namespace salespipe::lambda {

// Forks environment processes from a pre-started interpreter (environment_zygote.h).
class ProcessZygote {
 public:
  virtual ~ProcessZygote() = default;
  // Starts a process that runs with `env` in `cwd` on the given stdio, as a child of this
  // server. Errors: kUnavailable if the zygote is gone (the caller falls back to ForkExec).
  virtual Result<pid_t> Spawn(const std::vector<std::string>& env, const std::string& cwd,
                              int stdin_fd, int stdout_fd, int stderr_fd) = 0;
};

// fork + execve of `argv` with exactly `env`, in `cwd`, on the given stdio, in a new process
// group, with PR_SET_PDEATHSIG(SIGKILL) and every other fd closed (but `keep_fd`, if >= 0,
// which becomes fd 3). Errors: kInternal if fork fails.
Result<pid_t> ForkExec(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       const std::string& cwd, int stdin_fd, int stdout_fd, int stderr_fd,
                       int keep_fd);

// What to execute. Built by the runner from a FunctionSpec (runner_launch.h).
struct LaunchPlan {
  std::vector<std::string> argv;  // argv[0] is an absolute path
  std::vector<std::string> env;   // "NAME=value"; AWS_LAMBDA_RUNTIME_API is added at start
  std::string cwd;
};

// How an invocation ended, as seen from the Runtime API.
struct InvocationOutcome {
  enum class Kind {
    kResponse,       // POST .../response: `body` is the result
    kFunctionError,  // POST .../error: `body` is the error document
    kInitError,      // POST /init/error (before or instead of taking the event)
    kTimeout,        // the deadline passed; the process group was killed
    kExited,         // the process exited before answering (`exit_description`)
    kTooLarge,       // the response was over the 6 MB limit (413 to the runtime)
  };
  Kind kind = Kind::kResponse;
  std::string body;
  std::string error_type;        // Lambda-Runtime-Function-Error-Type, if sent
  std::string exit_description;  // "exit status 1", "signal: killed" (kExited)
  // True once the event was written to the runtime (false: it never started).
  bool event_delivered = false;
  // Event handed over -> answer received; zero if the event was never taken.
  std::chrono::microseconds duration{0};
  // Process start -> the first /invocation/next, on the environment's first invocation.
  std::optional<std::chrono::microseconds> init_duration;
};

// Thread-compatible for Invoke (the runner gives an environment to one caller at a time);
// logs and process state are thread-safe (the runner's monitor thread reads the pipes and
// reaps the process concurrently).
class Environment {
 public:
  // Opens a loopback listener and starts `plan` with AWS_LAMBDA_RUNTIME_API pointing at it,
  // in a new process group, with PR_SET_PDEATHSIG(SIGKILL) so that it dies with the server.
  // REQUIRES: the calling thread outlives the process (PDEATHSIG fires when the thread that
  // forked exits): the runner calls this on its long-lived spawner thread. With `zygote`, the
  // process is forked from it instead (plan.argv unused).
  // Errors: kInternal if the listener, the pipes or the process cannot be created;
  // kUnavailable if `zygote` failed.
  static Result<std::unique_ptr<Environment>> Start(const LaunchPlan& plan,
                                                    ProcessZygote* zygote = nullptr);

  ~Environment();  // kills the process group (if still running) and reaps it

  // Hands `event` to the runtime (waiting for its /invocation/next first) and waits for its
  // answer until `deadline`. On kTimeout the process group has been killed and reaped.
  // kExited, kInitError, kTimeout and kTooLarge leave the environment unusable (dead()).
  InvocationOutcome Invoke(const InvocationEvent& event,
                           std::chrono::steady_clock::time_point deadline);

  // Kills the process group and reaps the process (blocks until it has exited). Idempotent.
  void Kill();
  // Reaps the process if it has exited, without blocking. True once it has exited.
  bool Exited();
  // True once the environment cannot take another invocation.
  bool dead() const { return dead_; }

  // Reads what the pipe `fd` (stdout or stderr) holds now into the log buffer. False at EOF.
  // Called by the monitor thread when the pipe is readable.
  bool ReadLogs(int fd);
  // Drains both pipes (non-blocking) and appends `line`; then returns and clears the buffer.
  // What the runtime wrote before answering is in the pipes by then (it writes logs first).
  std::string TakeLogs(std::string_view line = {});
  void AppendLog(std::string_view text);

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  int stdout_fd() const { return stdout_.get(); }
  int stderr_fd() const { return stderr_.get(); }
  // Peak resident memory of the process (VmHWM) in MB, 0 if unknown.
  int MaxMemoryUsedMb() const;

 private:
  Environment() = default;

  // Serves the Runtime API until `want` holds or `deadline` passes. False on timeout.
  template <typename Pred>
  bool Serve(std::chrono::steady_clock::time_point deadline, Pred want);
  // Handles one complete request on connection `conn`.
  void Dispatch(RuntimeApiConnection& conn, RuntimeApiRequest request);
  std::string ExitDescription();
  bool ReadPipe(int fd) REQUIRES(log_mu_);

  // Set at start.
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  UniqueFd listener_;
  UniqueFd stdout_;
  UniqueFd stderr_;
  std::chrono::steady_clock::time_point started_at_;

  // Used only by the invoking thread.
  std::vector<std::unique_ptr<RuntimeApiConnection>> connections_;
  RuntimeApiConnection* parked_next_ = nullptr;  // a /invocation/next waiting for an event
  std::string current_request_id_;               // the invocation in flight, if any
  std::optional<InvocationOutcome> answer_;      // set by Dispatch
  bool first_invocation_ = true;
  bool dead_ = false;

  Mutex process_mu_;
  bool reaped_ GUARDED_BY(process_mu_) = false;
  int wait_status_ GUARDED_BY(process_mu_) = 0;

  Mutex log_mu_;
  std::string logs_ GUARDED_BY(log_mu_);
};

}  // namespace salespipe::lambda
