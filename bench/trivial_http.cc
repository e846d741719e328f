// trivial_http: the load generator's ceiling.
//
// A tiny keep-alive HTTP/1.1 server that answers every request with a fixed 200 and a body of
// --body-bytes bytes, without looking at the request beyond its framing. bench/run.sh drives it
// with the same wrk Lua scripts as the real servers: whatever wrk reaches here is the most it
// can send on this machine, so a server measured well below that figure is not limited by wrk.
//
// One epoll loop per thread, each on its own SO_REUSEPORT socket. Level-triggered, non-blocking,
// pipelining-safe (every complete request in the buffer gets a response, in order).
//
//   trivial_http [--port P] [--threads N] [--body-bytes B]
//
// Prints "trivial_http listening on http://127.0.0.1:PORT" on stderr once it accepts.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

struct Connection {
  std::string in;
  std::string out;
  size_t out_sent = 0;
  bool want_write = false;
};

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "trivial_http: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

int Listen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) Die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) Die("bind");
  if (listen(fd, 1024) < 0) Die("listen");
  return fd;
}

int BoundPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) Die("getsockname");
  return ntohs(addr.sin_port);
}

// Returns the Content-Length of the header block [0, header_end), 0 when absent.
size_t ContentLength(std::string_view head) {
  static constexpr std::string_view kName = "content-length:";
  size_t pos = 0;
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = head.size();
    std::string_view line = head.substr(pos, eol - pos);
    if (line.size() > kName.size()) {
      bool match = true;
      for (size_t i = 0; i < kName.size() && match; ++i) {
        char c = line[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        match = c == kName[i];
      }
      if (match) return std::strtoull(std::string(line.substr(kName.size())).c_str(), nullptr, 10);
    }
    pos = eol + 2;
  }
  return 0;
}

class Loop {
 public:
  Loop(int listen_fd, const std::string& response) : listen_fd_(listen_fd), response_(response) {}

  void Run() {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) Die("epoll_create1");
    Add(listen_fd_, EPOLLIN);
    std::vector<epoll_event> events(256);
    std::vector<char> buf(1 << 16);
    for (;;) {
      int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        Die("epoll_wait");
      }
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == listen_fd_) {
          Accept();
          continue;
        }
        auto it = conns_.find(fd);
        if (it == conns_.end()) continue;
        bool alive = true;
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) alive = OnReadable(fd, it->second, buf);
        if (alive && (events[i].events & EPOLLOUT)) alive = Flush(fd, it->second);
        if (!alive) Close(fd);
      }
    }
  }

 private:
  void Add(int fd, uint32_t mask) {
    epoll_event ev{};
    ev.events = mask;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) < 0) Die("epoll_ctl add");
  }

  void Modify(int fd, uint32_t mask) {
    epoll_event ev{};
    ev.events = mask;
    ev.data.fd = fd;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
  }

  void Accept() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or a transient error: try again on the next event
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      conns_.emplace(fd, Connection());
      Add(fd, EPOLLIN);
    }
  }

  void Close(int fd) {
    epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    conns_.erase(fd);
  }

  bool OnReadable(int fd, Connection& c, std::vector<char>& buf) {
    for (;;) {
      ssize_t got = read(fd, buf.data(), buf.size());
      if (got > 0) {
        c.in.append(buf.data(), static_cast<size_t>(got));
        if (static_cast<size_t>(got) < buf.size()) break;
        continue;
      }
      if (got == 0) return false;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      return false;
    }
    size_t consumed = 0;
    for (;;) {
      std::string_view rest(c.in.data() + consumed, c.in.size() - consumed);
      size_t head_end = rest.find("\r\n\r\n");
      if (head_end == std::string_view::npos) break;
      size_t total = head_end + 4 + ContentLength(rest.substr(0, head_end));
      if (rest.size() < total) break;
      consumed += total;
      c.out.append(response_);
    }
    c.in.erase(0, consumed);
    return Flush(fd, c);
  }

  bool Flush(int fd, Connection& c) {
    while (c.out_sent < c.out.size()) {
      ssize_t sent = write(fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent);
      if (sent > 0) {
        c.out_sent += static_cast<size_t>(sent);
        continue;
      }
      if (sent < 0 && errno == EINTR) continue;
      if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!c.want_write) Modify(fd, EPOLLIN | EPOLLOUT);
        c.want_write = true;
        return true;
      }
      return false;
    }
    c.out.clear();
    c.out_sent = 0;
    if (c.want_write) Modify(fd, EPOLLIN);
    c.want_write = false;
    return true;
  }

  int listen_fd_;
  const std::string& response_;
  int epoll_ = -1;
  std::unordered_map<int, Connection> conns_;
};

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  int threads = 1;
  size_t body_bytes = 2;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "trivial_http: %s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--port") {
      port = std::atoi(next());
    } else if (arg == "--threads") {
      threads = std::max(1, std::atoi(next()));
    } else if (arg == "--body-bytes") {
      body_bytes = std::max<size_t>(2, std::strtoull(next(), nullptr, 10));
    } else {
      std::fprintf(stderr, "usage: trivial_http [--port P] [--threads N] [--body-bytes B]\n");
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);

  // A JSON object padded to body_bytes, so clients that look at it see valid JSON.
  std::string body = "{\"Pad\":\"";
  while (body.size() + 2 < body_bytes) body.push_back('x');
  body += "\"}";
  if (body_bytes <= 2) body = "{}";
  std::string response =
      "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: "
      "trivial\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;

  std::vector<int> fds;
  fds.push_back(Listen(port));
  port = BoundPort(fds[0]);
  for (int t = 1; t < threads; ++t) fds.push_back(Listen(port));
  std::fprintf(stderr, "trivial_http listening on http://127.0.0.1:%d\n", port);
  std::fflush(stderr);

  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back([&, t] { Loop(fds[t], response).Run(); });
  Loop(fds[0], response).Run();
  return 0;
}
