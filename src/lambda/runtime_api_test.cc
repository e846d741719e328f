#include "lambda/runtime_api.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "common/test_util.h"

namespace salespipe::lambda {
namespace {

using Route = RuntimeApiRequest::Route;

// A connection over a socketpair: `peer` is the runtime's end.
struct Pair {
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    conn = std::make_unique<RuntimeApiConnection>(UniqueFd(fds[0]));
    peer.Reset(fds[1]);
  }
  void Send(std::string_view bytes) {
    ASSERT_EQ(::write(peer.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  std::string Receive() {
    char buffer[4096];
    ssize_t n = ::recv(peer.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
  }
  std::unique_ptr<RuntimeApiConnection> conn;
  UniqueFd peer;
};

TEST(RuntimeApiConnectionTest, RoutesPipelinedRequests) {
  Pair pair;
  pair.Send(
      "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\nContent-Length: 2\r\n\r\n42"
      "POST /2018-06-01/runtime/invocation/abc/error HTTP/1.1\r\n"
      "Lambda-Runtime-Function-Error-Type: Oops\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\n{}x\r\n0\r\n\r\n"
      "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
      "GET /2020-01-01/extension/event/next HTTP/1.1\r\n\r\n");
  std::optional<RuntimeApiRequest> next = pair.conn->Read();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->route, Route::kNext);
  std::optional<RuntimeApiRequest> response = pair.conn->Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->route, Route::kResponse);
  EXPECT_EQ(response->request_id, "abc");
  EXPECT_EQ(response->body, "42");
  std::optional<RuntimeApiRequest> error = pair.conn->Read();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->route, Route::kError);
  EXPECT_EQ(error->body, "{}x");
  EXPECT_EQ(error->error_type, "Oops");
  std::optional<RuntimeApiRequest> init = pair.conn->Read();
  ASSERT_TRUE(init);
  EXPECT_EQ(init->route, Route::kInitError);
  std::optional<RuntimeApiRequest> unknown = pair.conn->Read();
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->route, Route::kUnknown);
  EXPECT_FALSE(pair.conn->Read());
  EXPECT_FALSE(pair.conn->closed());
}

TEST(RuntimeApiConnectionTest, AnswersExpectContinueBeforeTheBody) {
  Pair pair;
  pair.Send(
      "POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\nContent-Length: 4\r\n"
      "Expect: 100-continue\r\n\r\n");
  EXPECT_FALSE(pair.conn->Read());
  EXPECT_EQ(pair.Receive(), "HTTP/1.1 100 Continue\r\n\r\n");
  pair.Send("body");
  std::optional<RuntimeApiRequest> response = pair.conn->Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "body");
  EXPECT_EQ(pair.Receive(), "");  // only once
}

TEST(RuntimeApiConnectionTest, OversizedBodyIsTooLarge) {
  Pair pair;
  pair.Send(
      "POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\nContent-Length: 7000000\r\n"
      "\r\n");
  std::optional<RuntimeApiRequest> request = pair.conn->Read();
  ASSERT_TRUE(request);
  EXPECT_EQ(request->route, Route::kTooLarge);
}

TEST(RuntimeApiConnectionTest, GarbageIsMalformedAndEofCloses) {
  Pair pair;
  pair.Send("NOT HTTP AT ALL\r\n\r\n");
  std::optional<RuntimeApiRequest> request = pair.conn->Read();
  ASSERT_TRUE(request);
  EXPECT_EQ(request->route, Route::kMalformed);
  Pair other;
  other.peer.Reset();
  EXPECT_FALSE(other.conn->Read());
  EXPECT_TRUE(other.conn->closed());
}

TEST(RuntimeApiTest, NextResponseCarriesTheHeaders) {
  std::string head = NextResponseHead(InvocationEvent{.request_id = "id-1",
                                                      .payload = "{}",
                                                      .deadline_ms = 1234,
                                                      .invoked_function_arn = "arn:x",
                                                      .trace_id = "Root=1-2-3",
                                                      .client_context = R"({"a":1})"});
  EXPECT_EQ(head,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            "Lambda-Runtime-Aws-Request-Id: id-1\r\nLambda-Runtime-Deadline-Ms: 1234\r\n"
            "Lambda-Runtime-Invoked-Function-Arn: arn:x\r\nLambda-Runtime-Trace-Id: Root=1-2-3\r\n"
            "Lambda-Runtime-Client-Context: {\"a\":1}\r\nContent-Length: 2\r\n\r\n");
}

}  // namespace
}  // namespace salespipe::lambda
