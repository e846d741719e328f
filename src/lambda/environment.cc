#include "lambda/environment.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include "fmt/format.h"

namespace salespipe::lambda {
namespace {

using Clock = std::chrono::steady_clock;
using Route = RuntimeApiRequest::Route;
using Kind = InvocationOutcome::Kind;

// Logs kept between takes; older output is dropped first (the tail is what callers want).
constexpr size_t kMaxBufferedLogBytes = 1 << 20;

Status Errno(std::string_view what) {
  return Status::Internal(fmt::format("{}: {}", what, std::strerror(errno)));
}

// The loopback listener of one environment, on an ephemeral port.
Result<std::pair<UniqueFd, int>> Listen() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Errno("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return Errno("bind");
  }
  if (::listen(fd.get(), 16) != 0) return Errno("listen");
  socklen_t length = sizeof(address);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return Errno("getsockname");
  }
  return std::make_pair(std::move(fd), static_cast<int>(ntohs(address.sin_port)));
}

int64_t Micros(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// Runs in the forked child: only async-signal-safe calls until execve. `keep_fd` (if >= 0)
// becomes fd 3.
[[noreturn]] void ExecChild(pid_t parent, int stdin_fd, int stdout_fd, int stderr_fd, int keep_fd,
                            const char* cwd, char* const* argv, char* const* envp) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the server died before prctl took effect
  ::dup2(stdin_fd, 0);
  ::dup2(stdout_fd, 1);
  ::dup2(stderr_fd, 2);
  unsigned first_closed = 3;
  if (keep_fd >= 0) {
    ::dup2(keep_fd, 3);
    first_closed = 4;
  }
  // Nothing of the server's leaks into the function (sockets, RocksDB files).
  ::syscall(SYS_close_range, first_closed, ~0U, 0U);
  // Ignored signals survive execve (the server ignores SIGPIPE); the mask does too.
  for (int signal_number = 1; signal_number < NSIG; ++signal_number) {
    ::signal(signal_number, SIG_DFL);
  }
  sigset_t empty;
  ::sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
  if (::chdir(cwd) != 0) ::_exit(126);
  ::execve(argv[0], argv, envp);
  ::_exit(127);
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<pid_t> ForkExec(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       const std::string& cwd, int stdin_fd, int stdout_fd, int stderr_fd,
                       int keep_fd) {
  if (argv.empty()) return Status::Internal("empty command line");
  // Everything the child needs is built before fork: it must not allocate.
  std::vector<char*> c_argv = CStrings(argv);
  std::vector<char*> c_env = CStrings(env);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return Errno("fork");
  if (pid == 0) {
    ExecChild(parent, stdin_fd, stdout_fd, stderr_fd, keep_fd, cwd.c_str(), c_argv.data(),
              c_env.data());
  }
  return pid;
}

Result<std::unique_ptr<Environment>> Environment::Start(const LaunchPlan& plan,
                                                        ProcessZygote* zygote) {
  std::unique_ptr<Environment> env(new Environment());
  ASSIGN_OR_RETURN(auto listener, Listen());
  env->listener_ = std::move(listener.first);

  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return Errno("pipe2");
  UniqueFd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return Errno("pipe2");
  UniqueFd err_read(err_pipe[0]), err_write(err_pipe[1]);
  UniqueFd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!dev_null.valid()) return Errno("open /dev/null");

  std::vector<std::string> env_strings = plan.env;
  env_strings.push_back(fmt::format("AWS_LAMBDA_RUNTIME_API=127.0.0.1:{}", listener.second));
  env->started_at_ = Clock::now();
  pid_t pid = -1;
  if (zygote != nullptr) {
    ASSIGN_OR_RETURN(pid, zygote->Spawn(env_strings, plan.cwd, dev_null.get(), out_write.get(),
                                        err_write.get()));
  } else {
    ASSIGN_OR_RETURN(pid, ForkExec(plan.argv, env_strings, plan.cwd, dev_null.get(),
                                   out_write.get(), err_write.get(), /*keep_fd=*/-1));
  }
  env->pid_ = pid;
  env->pidfd_.Reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!env->pidfd_.valid()) {
    Status status = Errno("pidfd_open");
    env->Kill();
    return status;
  }
  ::fcntl(out_read.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(err_read.get(), F_SETFL, O_NONBLOCK);
  env->stdout_ = std::move(out_read);
  env->stderr_ = std::move(err_read);
  return env;
}

Environment::~Environment() { Kill(); }

void Environment::Kill() {
  MutexLock lock(process_mu_);
  if (reaped_ || pid_ <= 0) return;
  // The group first (helpers the function started), then the leader in case it has not
  // called setpgid yet.
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  wait_status_ = status;
}

bool Environment::Exited() {
  MutexLock lock(process_mu_);
  if (reaped_) return true;
  if (pid_ <= 0) return true;
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
      info.si_pid != pid_) {
    return false;
  }
  // While the leader is a zombie its group id cannot be reused: kill what it left behind.
  ::kill(-pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  wait_status_ = status;
  return true;
}

std::string Environment::ExitDescription() {
  int status;
  {
    MutexLock lock(process_mu_);
    status = wait_status_;
  }
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    // Go's wording, as AWS prints it: "signal: killed", "signal: segmentation fault".
    std::string name = ::strsignal(WTERMSIG(status));
    if (!name.empty()) name[0] = static_cast<char>(std::tolower(name[0]));
    return "signal: " + name;
  }
  return "exit status unknown";
}

bool Environment::ReadPipe(int fd) {
  char buffer[16 * 1024];
  bool open = true;
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      logs_.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    open = n < 0;  // EAGAIN: nothing more now; 0: EOF
    break;
  }
  if (logs_.size() > kMaxBufferedLogBytes) logs_.erase(0, logs_.size() - kMaxBufferedLogBytes / 2);
  return open;
}

bool Environment::ReadLogs(int fd) {
  MutexLock lock(log_mu_);
  return ReadPipe(fd);
}

std::string Environment::TakeLogs(std::string_view line) {
  MutexLock lock(log_mu_);
  // EOF is the monitor's business; here only the bytes matter.
  (void)ReadPipe(stdout_.get());
  (void)ReadPipe(stderr_.get());
  logs_.append(line);
  return std::exchange(logs_, {});
}

void Environment::AppendLog(std::string_view text) {
  MutexLock lock(log_mu_);
  logs_.append(text);
}

int Environment::MaxMemoryUsedMb() const {
  std::ifstream status(fmt::format("/proc/{}/status", pid_));
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) {
      int64_t kb = std::strtoll(line.c_str() + 6, nullptr, 10);
      return static_cast<int>((kb + 1023) / 1024);
    }
  }
  return 0;
}

template <typename Pred>
bool Environment::Serve(Clock::time_point deadline, Pred want) {
  std::vector<pollfd> fds;
  while (!want()) {
    fds.clear();
    fds.push_back({.fd = pidfd_.get(), .events = POLLIN, .revents = 0});
    fds.push_back({.fd = listener_.get(), .events = POLLIN, .revents = 0});
    for (const auto& conn : connections_) {
      fds.push_back({.fd = conn->fd(), .events = POLLIN, .revents = 0});
    }
    int64_t left_us = Micros(deadline - Clock::now());
    if (left_us <= 0) return false;
    timespec timeout{.tv_sec = left_us / 1000000, .tv_nsec = (left_us % 1000000) * 1000};
    int ready = ::ppoll(fds.data(), fds.size(), &timeout, nullptr);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (ready == 0) continue;  // re-checks the deadline
    if (fds[1].revents & POLLIN) {
      for (;;) {
        int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        connections_.push_back(std::make_unique<RuntimeApiConnection>(UniqueFd(fd)));
        // A new connection usually carries its request already.
        while (std::optional<RuntimeApiRequest> request = connections_.back()->Read()) {
          Dispatch(*connections_.back(), std::move(*request));
        }
      }
    }
    const bool process_exited = (fds[0].revents & POLLIN) != 0;
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents == 0 && !process_exited) continue;
      RuntimeApiConnection* conn = connections_[i - 2].get();
      while (std::optional<RuntimeApiRequest> request = conn->Read()) {
        Dispatch(*conn, std::move(*request));
      }
    }
    std::erase_if(connections_, [this](const std::unique_ptr<RuntimeApiConnection>& conn) {
      if (!conn->closed()) return false;
      if (parked_next_ == conn.get()) parked_next_ = nullptr;
      return true;
    });
    if (process_exited && !want() && Exited()) {
      // It exited without answering (what it did answer was read just above).
      answer_ = InvocationOutcome{.kind = Kind::kExited, .exit_description = ExitDescription()};
    }
  }
  return true;
}

void Environment::Dispatch(RuntimeApiConnection& conn, RuntimeApiRequest request) {
  const Clock::time_point write_deadline = Clock::now() + std::chrono::seconds(5);
  switch (request.route) {
    case Route::kNext:
      parked_next_ = &conn;
      return;
    case Route::kResponse:
    case Route::kError:
      if (current_request_id_.empty() || request.request_id != current_request_id_ ||
          answer_.has_value()) {
        conn.Write(ErrorResponse(400, "InvalidRequestID", "Invalid request ID", false), {},
                   write_deadline);
        return;
      }
      conn.Write(AcceptedResponse(), {}, write_deadline);
      answer_ = InvocationOutcome{
          .kind = request.route == Route::kResponse ? Kind::kResponse : Kind::kFunctionError,
          .body = std::move(request.body),
          .error_type = std::move(request.error_type)};
      return;
    case Route::kInitError:
      conn.Write(AcceptedResponse(), {}, write_deadline);
      if (!answer_.has_value()) {
        answer_ = InvocationOutcome{.kind = Kind::kInitError,
                                    .body = std::move(request.body),
                                    .error_type = std::move(request.error_type)};
      }
      return;
    case Route::kTooLarge:
      conn.Write(ErrorResponse(413, "RequestEntityTooLarge",
                               fmt::format("Exceeded maximum allowed payload size ({} bytes).",
                                           kMaxResponseBytes),
                               true),
                 {}, write_deadline);
      conn.Close();
      if (!current_request_id_.empty() && !answer_.has_value()) {
        answer_ = InvocationOutcome{.kind = Kind::kTooLarge};
      }
      return;
    case Route::kMalformed:
      conn.Write(ErrorResponse(400, "InvalidRequest", "Malformed HTTP request", true), {},
                 write_deadline);
      conn.Close();
      return;
    case Route::kUnknown:
      conn.Write(ErrorResponse(404, "InvalidRequest", "Not Found", false), {}, write_deadline);
      return;
  }
}

InvocationOutcome Environment::Invoke(const InvocationEvent& event, Clock::time_point deadline) {
  answer_.reset();
  current_request_id_.clear();
  InvocationOutcome outcome;
  if (dead_ || Exited()) {
    dead_ = true;
    return InvocationOutcome{.kind = Kind::kExited, .exit_description = ExitDescription()};
  }
  // Phase 1: the runtime's /invocation/next (already waiting in the socket when warm).
  if (!Serve(deadline, [this] { return parked_next_ != nullptr || answer_.has_value(); })) {
    Kill();
    dead_ = true;
    return InvocationOutcome{.kind = Kind::kTimeout};
  }
  std::optional<std::chrono::microseconds> init_duration;
  if (first_invocation_) {
    first_invocation_ = false;
    init_duration =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_at_);
  }
  if (answer_.has_value()) {  // init error or exit before taking the event
    dead_ = true;
    outcome = std::move(*answer_);
    outcome.init_duration = init_duration;
    return outcome;
  }
  // Phase 2: hand the event over and wait for the answer.
  RuntimeApiConnection* conn = std::exchange(parked_next_, nullptr);
  current_request_id_ = event.request_id;
  const Clock::time_point handed_over = Clock::now();
  // A failed write shows up as the process's exit below.
  const bool delivered = conn->Write(NextResponseHead(event), event.payload, deadline);
  const bool answered = Serve(deadline, [this] { return answer_.has_value(); });
  const auto duration =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - handed_over);
  current_request_id_.clear();
  if (!answered) {
    Kill();
    dead_ = true;
    return InvocationOutcome{.kind = Kind::kTimeout,
                             .event_delivered = delivered,
                             .duration = duration,
                             .init_duration = init_duration};
  }
  outcome = std::move(*answer_);
  answer_.reset();
  outcome.event_delivered = delivered;
  outcome.duration = duration;
  outcome.init_duration = init_duration;
  if (outcome.kind != Kind::kResponse && outcome.kind != Kind::kFunctionError) dead_ = true;
  return outcome;
}

}  // namespace salespipe::lambda
