#include "lambda/environment_zygote.h"

#include <fcntl.h>
#include <poll.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fmt/format.h"

namespace salespipe::lambda {
namespace {

constexpr int kSpawnTimeoutMs = 10'000;

std::string SpawnRequest(const std::vector<std::string>& env, const std::string& cwd) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("cwd");
  writer.String(cwd.data(), static_cast<rapidjson::SizeType>(cwd.size()));
  writer.Key("env");
  writer.StartObject();
  for (const std::string& var : env) {
    size_t eq = var.find('=');
    if (eq == std::string::npos) continue;
    writer.Key(var.data(), static_cast<rapidjson::SizeType>(eq));
    writer.String(var.data() + eq + 1, static_cast<rapidjson::SizeType>(var.size() - eq - 1));
  }
  writer.EndObject();
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

Result<std::unique_ptr<PythonZygote>> PythonZygote::Start(const std::string& interpreter,
                                                          const std::string& bootstrap,
                                                          const std::vector<std::string>& env) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return Status::Internal(fmt::format("socketpair: {}", std::strerror(errno)));
  }
  UniqueFd ours(pair[0]);
  UniqueFd theirs(pair[1]);
  UniqueFd dev_null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!dev_null.valid()) return Status::Internal("cannot open /dev/null");
  std::unique_ptr<PythonZygote> zygote(new PythonZygote());
  // Its own output (a failed boto3 import, a bug) goes to the server's stderr.
  ASSIGN_OR_RETURN(zygote->pid_,
                   ForkExec({interpreter, bootstrap, "--zygote", "3"}, env, "/", dev_null.get(),
                            dev_null.get(), STDERR_FILENO, theirs.get()));
  zygote->control_ = std::move(ours);
  return zygote;
}

Status PythonZygote::WaitReady(int timeout_ms) {
  if (ready_) return Status::Ok();
  if (failed_) return Status::Unavailable("the Python zygote failed");
  pollfd waiter{.fd = control_.get(), .events = POLLIN, .revents = 0};
  if (::poll(&waiter, 1, timeout_ms) <= 0)
    return Status::Unavailable("the Python zygote is starting");
  // Ready: the zygote sends its own pid once it has imported what it preloads.
  Result<pid_t> ready = ReadPid(0);
  if (!ready.ok() || *ready != pid_) {
    failed_ = true;
    return Status::Unavailable("the Python zygote did not start");
  }
  ready_ = true;
  return Status::Ok();
}

PythonZygote::~PythonZygote() {
  control_.Reset();  // EOF: the zygote exits
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

Result<pid_t> PythonZygote::ReadPid(int timeout_ms) {
  pollfd waiter{.fd = control_.get(), .events = POLLIN, .revents = 0};
  int ready = ::poll(&waiter, 1, timeout_ms);
  if (ready <= 0) return Status::Unavailable("the Python zygote does not answer");
  int32_t value = 0;
  ssize_t n = ::recv(control_.get(), &value, sizeof(value), 0);
  if (n != static_cast<ssize_t>(sizeof(value)))
    return Status::Unavailable("the Python zygote is gone");
  if (value <= 0) {
    return Status::Unavailable(
        fmt::format("the Python zygote could not fork: {}", std::strerror(-value)));
  }
  return static_cast<pid_t>(value);
}

Result<pid_t> PythonZygote::Spawn(const std::vector<std::string>& env, const std::string& cwd,
                                  int stdin_fd, int stdout_fd, int stderr_fd) {
  RETURN_IF_ERROR(WaitReady(0));
  std::string request = SpawnRequest(env, cwd);
  iovec part{.iov_base = request.data(), .iov_len = request.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(3 * sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(3 * sizeof(int));
  const int fds[3] = {stdin_fd, stdout_fd, stderr_fd};
  std::memcpy(CMSG_DATA(header), fds, sizeof(fds));
  if (::sendmsg(control_.get(), &message, MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    failed_ = true;
    return Status::Unavailable(fmt::format("the Python zygote is gone: {}", std::strerror(errno)));
  }
  Result<pid_t> pid = ReadPid(kSpawnTimeoutMs);
  if (!pid.ok()) failed_ = true;  // gone or stuck: the runner restarts it
  return pid;
}

}  // namespace salespipe::lambda
