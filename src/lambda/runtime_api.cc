#include "lambda/runtime_api.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>

#include "fmt/format.h"

namespace salespipe::lambda {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kInvocationPrefix = "/2018-06-01/runtime/invocation/";
constexpr std::string_view kInitErrorPath = "/2018-06-01/runtime/init/error";

std::string_view View(boost::beast::string_view text) { return {text.data(), text.size()}; }

// Classifies a request target.
void Route(http::verb verb, std::string_view target, RuntimeApiRequest& request) {
  using R = RuntimeApiRequest::Route;
  request.route = R::kUnknown;
  if (target == "/2018-06-01/runtime/invocation/next") {
    if (verb == http::verb::get) request.route = R::kNext;
    return;
  }
  if (target == kInitErrorPath) {
    if (verb == http::verb::post) request.route = R::kInitError;
    return;
  }
  if (verb != http::verb::post || !target.starts_with(kInvocationPrefix)) return;
  std::string_view rest = target.substr(kInvocationPrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return;
  std::string_view action = rest.substr(slash + 1);
  if (action == "response") {
    request.route = R::kResponse;
  } else if (action == "error") {
    request.route = R::kError;
  } else {
    return;
  }
  request.request_id = std::string(rest.substr(0, slash));
}

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace

struct RuntimeApiConnection::Parser {
  Parser() {
    parser.body_limit(kMaxResponseBytes);
    parser.header_limit(64 * 1024);
    parser.eager(true);
  }
  http::request_parser<http::string_body> parser;
  bool continue_sent = false;
};

RuntimeApiConnection::RuntimeApiConnection(UniqueFd fd)
    : fd_(std::move(fd)), parser_(std::make_unique<Parser>()) {}

RuntimeApiConnection::~RuntimeApiConnection() = default;

std::optional<RuntimeApiRequest> RuntimeApiConnection::Read() {
  if (std::optional<RuntimeApiRequest> pending = Parse()) return pending;
  if (closed()) return std::nullopt;
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
      input_.append(buffer, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof(buffer)) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    Close();  // EOF or a hard error
    break;
  }
  return Parse();
}

std::optional<RuntimeApiRequest> RuntimeApiConnection::Parse() {
  using R = RuntimeApiRequest::Route;
  if (input_.empty() || !parser_) return std::nullopt;
  auto& parser = parser_->parser;
  boost::beast::error_code ec;
  size_t consumed_total = 0;
  while (consumed_total < input_.size() && !parser.is_done()) {
    size_t consumed = parser.put(
        boost::asio::buffer(input_.data() + consumed_total, input_.size() - consumed_total), ec);
    consumed_total += consumed;
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec) break;
    if (consumed == 0) break;
  }
  input_.erase(0, consumed_total);
  if (ec) {
    RuntimeApiRequest request;
    request.route = ec == http::error::body_limit ? R::kTooLarge : R::kMalformed;
    if (parser.is_header_done()) {
      Route(parser.get().method(), View(parser.get().target()), request);
      if (ec == http::error::body_limit) request.route = R::kTooLarge;
    }
    if (request.route != R::kTooLarge) request.route = R::kMalformed;
    input_.clear();
    parser_.reset();  // the caller answers and closes the connection
    return request;
  }
  if (!parser.is_done()) {
    // curl sends "Expect: 100-continue" for bodies over 1 KB and waits a second for the go-ahead
    // (AWS's sample bash runtime posts its response that way).
    if (parser.is_header_done() && !parser_->continue_sent) {
      auto expect = parser.get().find(http::field::expect);
      if (expect != parser.get().end() && boost::beast::iequals(expect->value(), "100-continue")) {
        parser_->continue_sent = true;
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        // Best effort: the socket buffer is empty while the client waits for this.
        (void)!::send(fd_.get(), kContinue.data(), kContinue.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      }
    }
    return std::nullopt;
  }
  http::request<http::string_body> message = parser.release();
  parser_ = std::make_unique<Parser>();
  RuntimeApiRequest request;
  Route(message.method(), View(message.target()), request);
  if (auto it = message.find("Lambda-Runtime-Function-Error-Type"); it != message.end()) {
    request.error_type = std::string(it->value());
  }
  request.body = std::move(message.body());
  return request;
}

bool RuntimeApiConnection::Write(std::string_view head, std::string_view body,
                                 std::chrono::steady_clock::time_point deadline) {
  size_t sent = 0;
  const size_t total = head.size() + body.size();
  while (sent < total && !closed()) {
    iovec parts[2];
    int count = 0;
    if (sent < head.size()) {
      parts[count++] = {const_cast<char*>(head.data()) + sent, head.size() - sent};
      if (!body.empty()) parts[count++] = {const_cast<char*>(body.data()), body.size()};
    } else {
      size_t offset = sent - head.size();
      parts[count++] = {const_cast<char*>(body.data()) + offset, body.size() - offset};
    }
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = ::sendmsg(fd_.get(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd waiter{.fd = fd_.get(), .events = POLLOUT, .revents = 0};
    ::poll(&waiter, 1, static_cast<int>(std::min<int64_t>(left.count() + 1, 1 << 30)));
  }
  if (sent == total) return true;
  Close();
  return false;
}

std::string NextResponseHead(const InvocationEvent& event) {
  std::string head = fmt::format(
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: application/json\r\n"
      "Lambda-Runtime-Aws-Request-Id: {}\r\n"
      "Lambda-Runtime-Deadline-Ms: {}\r\n"
      "Lambda-Runtime-Invoked-Function-Arn: {}\r\n"
      "Lambda-Runtime-Trace-Id: {}\r\n",
      event.request_id, event.deadline_ms, event.invoked_function_arn, event.trace_id);
  if (!event.client_context.empty()) {
    head += fmt::format("Lambda-Runtime-Client-Context: {}\r\n", event.client_context);
  }
  head += fmt::format("Content-Length: {}\r\n\r\n", event.payload.size());
  return head;
}

std::string AcceptedResponse() {
  return "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n"
         "{\"status\":\"OK\"}\n";
}

std::string ErrorResponse(int status, std::string_view error_type, std::string_view message,
                          bool close) {
  std::string body = fmt::format(R"({{"errorMessage":"{}","errorType":"{}"}})", JsonEscape(message),
                                 JsonEscape(error_type));
  std::string_view reason = status == 400   ? "Bad Request"
                            : status == 404 ? "Not Found"
                            : status == 413 ? "Payload Too Large"
                                            : "Error";
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}\r\n{}", status,
      reason, body.size(), close ? "Connection: close\r\n" : "", body);
}

}  // namespace salespipe::lambda
