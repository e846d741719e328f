#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"
#include "lambda/environment.h"

// A pre-started Python interpreter that forks Python environments (python_bootstrap.py
// --zygote): the interpreter's start, the bootstrap's imports and boto3's import (~30 ms and
// ~0.2-0.5 s) are paid once per server instead of once per cold start.
//
// The zygote forks with CLONE_PARENT, so every environment is a child of this server like one
// started with ForkExec (waitpid, pidfd, the exit status, PR_SET_PDEATHSIG all work the same).
// Requests travel over a SOCK_SEQPACKET socketpair: a JSON {"cwd","env"} with the three stdio
// fds attached (SCM_RIGHTS); the answer is the child's pid as a 4-byte int (negative: errno).
namespace salespipe::lambda {

class PythonZygote final : public ProcessZygote {
 public:
  // Starts `interpreter bootstrap --zygote 3` with `env` (the server's basics: PATH, LANG, TZ)
  // and returns at once: it is ready when it has imported what it preloads (Ready()).
  // REQUIRES: called on the runner's spawner thread (PR_SET_PDEATHSIG, see Environment::Start).
  // Errors: kInternal if it cannot be started.
  static Result<std::unique_ptr<PythonZygote>> Start(const std::string& interpreter,
                                                     const std::string& bootstrap,
                                                     const std::vector<std::string>& env);
  ~PythonZygote() override;  // closes the socket, kills and reaps the zygote

  // Waits up to `timeout_ms` (0: just checks) for the zygote to be ready. kUnavailable if it
  // is not (yet), or failed (failed() then tells).
  Status WaitReady(int timeout_ms);
  bool failed() const { return failed_; }

  // Forks an environment. REQUIRES: ready. Not thread-safe: the runner calls it on its
  // spawner thread only. Errors: kUnavailable if the zygote is gone or could not fork.
  Result<pid_t> Spawn(const std::vector<std::string>& env, const std::string& cwd, int stdin_fd,
                      int stdout_fd, int stderr_fd) override;

 private:
  PythonZygote() = default;
  Result<pid_t> ReadPid(int timeout_ms);

  pid_t pid_ = -1;
  UniqueFd control_;
  bool ready_ = false;
  bool failed_ = false;
};

}  // namespace salespipe::lambda
