#include "http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <optional>
#include <stdexcept>
#include <thread>

#include "common/crypto.h"
#include "common/test_util.h"

namespace salespipe::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A test-only JSON service shaped like DynamoDB.
class FakeDynamoDb : public services::JsonService {
 public:
  std::string_view target_prefix() const override { return "DynamoDB_20120810"; }
  std::string_view service_name() const override { return "dynamodb"; }
  std::string_view content_type() const override { return "application/x-amz-json-1.0"; }
  std::string_view error_namespace() const override { return "com.amazonaws.dynamodb.v20120810#"; }
  bool wants_crc32() const override { return true; }

  bool HasOperation(std::string_view operation) const override {
    return operation == "Echo" || operation == "PutItem" || operation == "Fail" ||
           operation == "Throw" || operation == "Context" || operation == "Block" ||
           operation == "Later" || operation == "ElsewhereNow";
  }

  // Later: answered by ReplyLater from the test's thread, after HandleAsync has returned.
  // ElsewhereNow: answered on another thread before HandleAsync returns.
  void HandleAsync(std::string_view operation, std::string_view body,
                   const services::RequestContext& context, Reply reply) override {
    if (operation == "Later") {
      std::lock_guard lock(mu_);
      later_.push_back({std::string(body), std::move(reply)});
      cv_.notify_all();
      return;
    }
    if (operation == "ElsewhereNow") {
      std::thread([&] { reply("{\"elsewhere\":" + std::string(body) + "}"); }).join();
      return;
    }
    reply(Handle(operation, body, context));
  }
  void WaitForLater(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return later_.size() >= n; });
  }
  // Answers every pending Later request with its body, or fails them, from this thread.
  void ReplyLater(bool fail = false) {
    std::vector<std::pair<std::string, Reply>> pending;
    {
      std::lock_guard lock(mu_);
      pending.swap(later_);
    }
    for (auto& [body, reply] : pending) {
      if (fail) {
        reply(Status::FailedPrecondition("The conditional request failed"));
      } else {
        reply("{\"later\":" + body + "}");
      }
    }
  }

  Result<std::string> Handle(std::string_view operation, std::string_view body,
                             const services::RequestContext& context) override {
    if (operation == "Echo" || operation == "PutItem") return std::string(body);
    if (operation == "Fail") {
      return Status::FailedPrecondition("The conditional request failed")
          .WithDetails(R"({"Item":{"id":{"S":"o-1"}}})");
    }
    if (operation == "Throw") throw std::runtime_error("boom");
    if (operation == "Context") {
      return "{\"RequestId\":\"" + context.request_id + "\",\"Account\":\"" + context.account_id +
             "\",\"Region\":\"" + context.region + "\"}";
    }
    // Block: wait until the test releases us.
    std::unique_lock lock(mu_);
    ++blocked_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
    return std::string("{}");
  }

  void WaitUntilBlocked(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return blocked_ >= n; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int blocked_ = 0;
  bool released_ = false;
  std::vector<std::pair<std::string, Reply>> later_;
};

// Shaped like Kinesis: json 1.1, bare error codes, no x-amz-crc32.
class FakeKinesis : public services::JsonService {
 public:
  std::string_view target_prefix() const override { return "Kinesis_20131202"; }
  std::string_view service_name() const override { return "kinesis"; }
  std::string_view content_type() const override { return "application/x-amz-json-1.1"; }
  std::string_view error_namespace() const override { return ""; }
  bool HasOperation(std::string_view operation) const override { return operation == "Missing"; }
  Result<std::string> Handle(std::string_view, std::string_view,
                             const services::RequestContext&) override {
    return Status::NotFound("Stream s under account 000000000000 not found.");
  }
};

// Shaped like the query protocol (IAM/STS): claims requests signed for "sts" and unsigned
// ones under /query; renders its own errors; no S3 request ids.
class FakeQueryRest : public RestHandler {
 public:
  std::string_view service_name() const override { return "sts"; }
  bool s3_canonical_path() const override { return false; }
  bool s3_request_ids() const override { return false; }
  bool Claims(const RestRouteInput& input) const override {
    return input.signing_service == "sts" ||
           (input.signing_service.empty() && input.path.starts_with("/query"));
  }
  std::optional<RestResponse> RenderError(const Status& status,
                                          std::string_view request_id) const override {
    int http_status = status.code() == ErrorCode::kNotFound          ? 404
                      : status.code() == ErrorCode::kInternal        ? 500
                      : status.code() == ErrorCode::kUnauthenticated ? 403
                      : status.aws_code() == "RequestEntityTooLarge" ? 413
                                                                     : 400;
    return RestResponse{
        .http_status = http_status,
        .content_type = "text/xml",
        .body = "<ErrorResponse><Code>" +
                (status.aws_code().empty() ? std::string("Other") : status.aws_code()) +
                "</Code><Message>" + status.message() + "</Message><RequestId>" +
                std::string(request_id) + "</RequestId></ErrorResponse>"};
  }
  Result<RestResponse> Handle(const RestRequest& request,
                              const services::RequestContext& context) override {
    if (request.path == "/query/fail")
      return Status::NotFound("no such entity").WithAwsCode("NoSuchEntity");
    if (request.path == "/query/throw") throw std::runtime_error("boom");
    return RestResponse{.content_type = "text/xml",
                        .headers = {{"x-fake", "1"}},
                        .body = "query:" + std::string(request.body) + ":" + context.region};
  }
};

// Shaped like S3: the catch-all, no error rendering of its own.
class FakeS3Rest : public RestHandler {
 public:
  // "/bucket/file?offset=A&length=B" answers that range of `file_path`.
  std::string file_path;

  std::string_view service_name() const override { return "s3"; }
  Result<RestResponse> Handle(const RestRequest& request,
                              const services::RequestContext&) override {
    if (request.path == "/bucket/file") {
      uint64_t offset = 0, length = 0;
      std::sscanf(std::string(request.query).c_str(), "offset=%lu&length=%lu", &offset, &length);
      UniqueFd fd(::open(file_path.c_str(), O_RDONLY | O_CLOEXEC));
      return RestResponse{
          .content_type = "application/octet-stream",
          .file = ResponseFile{.fd = std::move(fd), .offset = offset, .length = length}};
    }
    if (request.path == "/bucket/missing") {
      return Status::NotFound("The specified key does not exist.").WithAwsCode("NoSuchKey");
    }
    return RestResponse{.content_type = "text/plain", .body = "s3:" + std::string(request.path)};
  }
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A blocking HTTP/1.1 client over a raw socket, so tests control every byte.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("connect failed");
    }
    timeval timeout{.tv_sec = 20, .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~RawClient() { ::close(fd_); }

  void Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Reads one response (an interim 1xx response counts as one). Status 0 on EOF. The answer to
  // a HEAD request (`head`) has no body whatever its Content-Length says.
  HttpResponse Read(bool head_request = false) {
    HttpResponse response;
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return response;
    }
    std::string head = buffer_.substr(0, header_end);
    buffer_.erase(0, header_end + 4);
    size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    response.status = std::stoi(status_line.substr(9, 3));
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(pos, end - pos);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      response.headers[name] = value;
      pos = end + 2;
    }
    size_t length = !head_request && response.headers.count("content-length")
                        ? std::stoul(response.headers["content-length"])
                        : 0;
    while (buffer_.size() < length) {
      if (!Fill()) break;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, std::min(length, buffer_.size()));
    return response;
  }

  // True when the server closed the connection (EOF with nothing buffered).
  bool ServerClosed() {
    if (!buffer_.empty()) return false;
    return !Fill();
  }

 private:
  bool Fill() {
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  std::string buffer_;
};

std::string JsonRequest(std::string_view target, std::string_view body,
                        std::string_view extra_headers = "") {
  return "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.0\r\n"
         "X-Amz-Target: " +
         std::string(target) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}, int io_threads = 2) {
    options.port = 0;
    options.io_threads = io_threads;
    options.worker_threads = 2;
    ServerDependencies deps{.json_services = {&dynamodb_, &kinesis_},
                            .rest_handlers = rest_handlers_,
                            .credentials = &credentials_,
                            .clock = &clock_};
    server_ = std::make_unique<Server>(options, deps);
    ASSERT_OK(server_->Start());
    ASSERT_NE(server_->port(), 0);
  }

  void TearDown() override {
    dynamodb_.Release();
    if (server_) server_->Stop();
  }

  FakeDynamoDb dynamodb_;
  FakeKinesis kinesis_;
  CredentialStore credentials_;
  FakeClock clock_{int64_t{1440938160000}};  // 2015-08-30T12:36:00Z
  std::vector<RestHandler*> rest_handlers_;  // none unless a test adds some
  std::unique_ptr<Server> server_;
};

// A signed query-protocol style request to "/" (or `path`).
std::string QueryRequest(std::string_view service, std::string_view body,
                         std::string_view path = "/") {
  return "POST " + std::string(path) +
         " HTTP/1.1\r\nHost: localhost\r\n"
         "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
         "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20150830/eu-west-1/" +
         std::string(service) +
         "/aws4_request, SignedHeaders=host, Signature=00\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

class RestRoutingTest : public ServerTest {
 protected:
  void SetUp() override { rest_handlers_ = {&query_, &s3_}; }
  FakeQueryRest query_;
  FakeS3Rest s3_;
};

TEST_F(RestRoutingTest, EachRequestReachesTheHandlerThatClaimsIt) {
  StartServer();
  RawClient client(server_->port());
  client.Send(QueryRequest("sts", "Action=GetCallerIdentity"));
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "query:Action=GetCallerIdentity:eu-west-1");
  EXPECT_EQ(response.header("x-fake"), "1");
  // The query protocol's request ids: a UUID in x-amzn-RequestId, no S3 ids.
  EXPECT_EQ(response.header("x-amzn-requestid").size(), 36u);
  EXPECT_EQ(response.header("x-amz-request-id"), "");

  // Signed for S3: S3, whatever the path looks like.
  client.Send(QueryRequest("s3", "x", "/query"));
  response = client.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "s3:/query");
  EXPECT_EQ(response.header("x-amz-request-id").size(), 16u);
  EXPECT_NE(response.header("x-amz-id-2"), "");

  client.Send("GET /bucket/key HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.Read().body, "s3:/bucket/key");
  client.Send("GET /query HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.Read().body, "query::us-east-1");
}

TEST_F(RestRoutingTest, ErrorsAreRenderedInTheHandlersProtocol) {
  StartServer();
  RawClient client(server_->port());
  client.Send(QueryRequest("sts", "", "/query/fail"));
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.header("content-type"), "text/xml");
  EXPECT_EQ(response.body,
            "<ErrorResponse><Code>NoSuchEntity</Code><Message>no such entity"
            "</Message><RequestId>" +
                response.header("x-amzn-requestid") + "</RequestId></ErrorResponse>");

  // A bug is a 500 in the handler's protocol too.
  client.Send(QueryRequest("sts", "", "/query/throw"));
  response = client.Read();
  EXPECT_EQ(response.status, 500);
  EXPECT_THAT(response.body, HasSubstr("<Message>Internal server error</Message>"));

  // S3 has no RenderError: S3 XML.
  client.Send("GET /bucket/missing HTTP/1.1\r\nHost: x\r\n\r\n");
  response = client.Read();
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.header("content-type"), "application/xml");
  EXPECT_THAT(response.body, HasSubstr("<Code>NoSuchKey</Code>"));
  EXPECT_THAT(response.body,
              HasSubstr("<RequestId>" + response.header("x-amz-request-id") + "</RequestId>"));
}

TEST_F(RestRoutingTest, FileResponsesOfEverySizeArriveWhole) {
  // Large ones go out with sendfile, small ones through a buffer; both honor the range.
  std::string content(3u << 20, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 + i / 4096);
  s3_.file_path = ::testing::TempDir() + "/server_test_file";
  {
    UniqueFd fd(::open(s3_.file_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    ASSERT_EQ(::write(fd.get(), content.data(), content.size()),
              static_cast<ssize_t>(content.size()));
  }
  StartServer();
  RawClient client(server_->port());
  for (auto [offset, length] : std::vector<std::pair<uint64_t, uint64_t>>{
           {0, content.size()}, {5, 1000}, {12345, (2u << 20) + 17}, {content.size() - 1, 1}}) {
    client.Send("GET /bucket/file?offset=" + std::to_string(offset) +
                "&length=" + std::to_string(length) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    HttpResponse response = client.Read();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("content-length"), std::to_string(length));
    EXPECT_TRUE(response.body == content.substr(offset, length)) << offset << " " << length;
  }
  // The connection is still in step: HEAD announces the length only.
  client.Send("HEAD /bucket/file?offset=0&length=2000000 HTTP/1.1\r\nHost: x\r\n\r\n");
  HttpResponse response = client.Read(/*head_request=*/true);
  EXPECT_EQ(response.header("content-length"), "2000000");
  client.Send("GET /_salespipe/health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.Read().body, R"({"status":"ok"})");
  ::unlink(s3_.file_path.c_str());
}

TEST_F(RestRoutingTest, OversizedBodyIsRenderedByTheHandler) {
  ServerOptions options;
  options.max_body_bytes = 10;
  StartServer(options);
  RawClient client(server_->port());
  client.Send(QueryRequest("sts", "Action=GetCallerIdentity"));
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 413);
  EXPECT_THAT(response.body, StartsWith("<ErrorResponse><Code>RequestEntityTooLarge</Code>"));
}

TEST_F(RestRoutingTest, AuthFailuresAreRenderedByTheHandler) {
  credentials_.Add("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  ServerOptions options;
  options.auth_mode = AuthMode::kVerify;
  StartServer(options);
  RawClient client(server_->port());
  client.Send(QueryRequest("sts", "Action=GetCallerIdentity"));  // AKID is unknown
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 403);
  EXPECT_THAT(response.body, StartsWith("<ErrorResponse><Code>"));
  // Unsigned and not claimed by the query handler: S3's AccessDenied.
  client.Send("GET /bucket/key HTTP/1.1\r\nHost: x\r\n\r\n");
  response = client.Read();
  EXPECT_EQ(response.status, 403);
  EXPECT_THAT(response.body, HasSubstr("<Code>AccessDenied</Code>"));
}

TEST_F(ServerTest, HealthHasStandardHeaders) {
  StartServer();
  RawClient client(server_->port());
  client.Send("GET /_salespipe/health HTTP/1.1\r\nHost: localhost\r\n\r\n");
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"status":"ok"})");
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_EQ(response.header("content-length"), "15");
  EXPECT_EQ(response.header("x-amzn-requestid").size(), 36u);
  EXPECT_THAT(response.header("date"), HasSubstr(" GMT"));
}

TEST_F(ServerTest, JsonRequestGetsBodyCrc32AndContext) {
  StartServer();
  RawClient client(server_->port());
  std::string body = R"({"TableName":"orders"})";
  client.Send(JsonRequest("DynamoDB_20120810.Echo", body));
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, body);
  EXPECT_EQ(response.header("content-type"), "application/x-amz-json-1.0");
  EXPECT_EQ(response.header("x-amz-crc32"), std::to_string(Crc32(body)));

  client.Send(JsonRequest(
      "DynamoDB_20120810.Context", "{}",
      "Authorization: AWS4-HMAC-SHA256 Credential=123456789012/20150830/eu-west-1/dynamodb/"
      "aws4_request, SignedHeaders=host, Signature=00\r\n"));
  response = client.Read();
  EXPECT_EQ(response.status, 200);
  std::string request_id = response.header("x-amzn-requestid");
  EXPECT_EQ(response.body, "{\"RequestId\":\"" + request_id +
                               "\",\"Account\":\"123456789012\",\"Region\":\"eu-west-1\"}");
}

TEST_F(ServerTest, UnknownTargetsAreUnknownOperation) {
  StartServer();
  RawClient client(server_->port());
  client.Send(JsonRequest("DynamoDB_20120810.Frobnicate", "{}"));
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body, R"({"__type":"com.amazon.coral.service#UnknownOperationException"})");
  EXPECT_EQ(response.header("x-amz-crc32"), std::to_string(Crc32(response.body)));

  client.Send(JsonRequest("Nope_20990101.Frobnicate", "{}"));
  response = client.Read();
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body, R"({"__type":"com.amazon.coral.service#UnknownOperationException"})");

  client.Send(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nX-Amz-Target: "
      "DynamoDB_20120810.Echo\r\nContent-Length: 2\r\n\r\n{}");
  response = client.Read();
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, "<UnknownOperationException/>\n");
}

TEST_F(ServerTest, ServiceErrorsAreRenderedWithDetailsAndCrc32) {
  StartServer();
  RawClient client(server_->port());
  client.Send(JsonRequest("DynamoDB_20120810.Fail", "{}"));
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body,
            R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",)"
            R"("message":"The conditional request failed","Item":{"id":{"S":"o-1"}}})");
  EXPECT_EQ(response.header("x-amz-crc32"), std::to_string(Crc32(response.body)));

  client.Send(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: "
      "Kinesis_20131202.Missing\r\nContent-Length: 2\r\n\r\n{}");
  response = client.Read();
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.header("content-type"), "application/x-amz-json-1.1");
  EXPECT_EQ(response.header("x-amz-crc32"), "");
  EXPECT_EQ(response.body, R"({"__type":"ResourceNotFoundException",)"
                           R"("message":"Stream s under account 000000000000 not found."})");
}

TEST_F(ServerTest, ExceptionInServiceIs500) {
  StartServer();
  RawClient client(server_->port());
  client.Send(JsonRequest("DynamoDB_20120810.Throw", "{}"));
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body, R"({"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError",)"
                           R"("message":"Internal server error"})");
  // The connection survives.
  client.Send(JsonRequest("DynamoDB_20120810.Echo", "{}"));
  EXPECT_EQ(client.Read().status, 200);
}

TEST_F(ServerTest, OversizedContentLengthIs413BeforeTheBodyIsRead) {
  ServerOptions options;
  options.max_body_bytes = 1000;
  StartServer(options);
  RawClient client(server_->port());
  // Only the header is sent: the answer must not wait for the body.
  client.Send(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: "
      "DynamoDB_20120810.Echo\r\nContent-Length: 1001\r\n\r\n");
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 413);
  EXPECT_THAT(response.body,
              StartsWith(R"({"__type":"com.amazon.coral.service#RequestEntityTooLarge")"));
  EXPECT_EQ(response.header("connection"), "close");
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(ServerTest, ChunkedBodiesAreAcceptedAndLimited) {
  ServerOptions options;
  options.max_body_bytes = 10;
  StartServer(options);
  {
    RawClient client(server_->port());
    client.Send(
        "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.Echo\r\n"
        "Transfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n");
    HttpResponse response = client.Read();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, R"({"a":1})");
  }
  RawClient client(server_->port());
  client.Send(
      "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.Echo\r\n"
      "Transfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n");
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 413);
}

TEST_F(ServerTest, ExpectContinueIsAnsweredBeforeTheBody) {
  StartServer();
  RawClient client(server_->port());
  std::string body = R"({"k":"v"})";
  client.Send(
      "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.Echo\r\nExpect: "
      "100-continue\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  HttpResponse interim = client.Read();
  EXPECT_EQ(interim.status, 100);
  client.Send(body);
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, body);
}

TEST_F(ServerTest, ExpectContinueWithOversizedBodyGetsFinalStatus) {
  ServerOptions options;
  options.max_body_bytes = 4;
  StartServer(options);
  RawClient client(server_->port());
  client.Send(
      "PUT /bucket/key HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(response.body, HasSubstr("<Code>EntityTooLarge</Code>"));
}

TEST_F(ServerTest, KeepAliveAndPipelining) {
  StartServer();
  RawClient client(server_->port());
  for (int i = 0; i < 3; ++i) {
    std::string body = "{\"i\":" + std::to_string(i) + "}";
    client.Send(JsonRequest("DynamoDB_20120810.Echo", body));
    HttpResponse response = client.Read();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, body);
  }
  // Three requests in one write come back in order.
  client.Send(JsonRequest("DynamoDB_20120810.Echo", "{\"n\":1}") +
              "GET /_salespipe/health HTTP/1.1\r\nHost: x\r\n\r\n" +
              JsonRequest("DynamoDB_20120810.Echo", "{\"n\":3}"));
  EXPECT_EQ(client.Read().body, "{\"n\":1}");
  EXPECT_EQ(client.Read().body, R"({"status":"ok"})");
  EXPECT_EQ(client.Read().body, "{\"n\":3}");

  client.Send("GET /_salespipe/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(client.Read().status, 200);
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(ServerTest, OverInFlightLimitIs503) {
  ServerOptions options;
  options.max_in_flight = 1;
  StartServer(options);
  RawClient blocked(server_->port());
  blocked.Send(JsonRequest("DynamoDB_20120810.Block", "{}"));
  dynamodb_.WaitUntilBlocked(1);

  RawClient client(server_->port());
  client.Send(JsonRequest("DynamoDB_20120810.Echo", "{}"));
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 503);
  EXPECT_THAT(response.body,
              StartsWith(R"({"__type":"com.amazonaws.dynamodb.v20120810#ServiceUnavailable")"));

  dynamodb_.Release();
  EXPECT_EQ(blocked.Read().status, 200);
  // The slot is released right after the response is written, which may be just after the
  // client has read it: wait for that instead of racing it.
  for (int i = 0; i < 1000000 && server_->in_flight() != 0; ++i) std::this_thread::yield();
  client.Send(JsonRequest("DynamoDB_20120810.Echo", "{}"));
  EXPECT_EQ(client.Read().status, 200);
}

TEST_F(ServerTest, UnroutedRequestsAreNotImplemented) {
  StartServer();
  RawClient client(server_->port());
  client.Send("GET /some-bucket/some-key HTTP/1.1\r\nHost: x\r\n\r\n");
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 501);
  EXPECT_EQ(response.header("content-type"), "application/xml");
  EXPECT_THAT(response.body, HasSubstr("<Code>NotImplemented</Code>"));
  EXPECT_THAT(response.body,
              HasSubstr("<RequestId>" + response.header("x-amzn-requestid") + "</RequestId>"));
}

TEST_F(ServerTest, HeadGetsHeadersWithoutBody) {
  StartServer();
  RawClient client(server_->port());
  client.Send("HEAD /some-bucket/some-key HTTP/1.1\r\nHost: x\r\n\r\n");
  HttpResponse response = client.Read(/*head=*/true);
  EXPECT_EQ(response.status, 501);
  EXPECT_NE(response.header("content-length"), "0");
  // Nothing but the next response follows on the connection.
  client.Send("GET /_salespipe/health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.Read().body, R"({"status":"ok"})");
}

TEST_F(ServerTest, MetricsCountRequests) {
  StartServer();
  RawClient client(server_->port());
  client.Send(JsonRequest("DynamoDB_20120810.Echo", "{}"));
  EXPECT_EQ(client.Read().status, 200);
  client.Send(JsonRequest("DynamoDB_20120810.Fail", "{}"));
  EXPECT_EQ(client.Read().status, 400);
  client.Send("GET /_salespipe/metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_THAT(response.header("content-type"), StartsWith("text/plain; version=0.0.4"));
  EXPECT_THAT(response.body, HasSubstr("salespipe_requests_total{service=\"dynamodb\","
                                       "operation=\"Echo\",status=\"200\"} 1\n"));
  EXPECT_THAT(response.body, HasSubstr("salespipe_requests_total{service=\"dynamodb\","
                                       "operation=\"Fail\",status=\"400\"} 1\n"));
  EXPECT_THAT(response.body, HasSubstr("salespipe_requests_in_flight 1\n"));  // this request
}

class VerifyingServerTest : public ServerTest {
 protected:
  void SetUp() override {
    credentials_.Add("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    ServerOptions options;
    options.auth_mode = AuthMode::kVerify;
    StartServer(options);
  }

  // The botocore-signed PutItem of sigv4_test.cc, sent as is.
  static std::string SignedPutItem(std::string_view body, std::string_view signature) {
    return "POST / HTTP/1.1\r\nHost: localhost:4566\r\n"
           "Content-Type: application/x-amz-json-1.0\r\n"
           "X-Amz-Target: DynamoDB_20120810.PutItem\r\nX-Amz-Date: 20150830T123600Z\r\n"
           "Authorization: AWS4-HMAC-SHA256 "
           "Credential=AKIDEXAMPLE/20150830/eu-west-1/dynamodb/aws4_request, "
           "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" +
           std::string(signature) + "\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + std::string(body);
  }

  static constexpr std::string_view kBody = R"({"TableName":"orders","Item":{"id":{"S":"o-1"}}})";
  static constexpr std::string_view kSignature =
      "e97c5946e84d62f2e716a21d58ace2adc074efe4b48d924350ca909b621cbc20";
};

TEST_F(VerifyingServerTest, ValidSignaturePasses) {
  RawClient client(server_->port());
  client.Send(SignedPutItem(kBody, kSignature));
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, kBody);
}

TEST_F(VerifyingServerTest, BadSignatureNeverReachesTheService) {
  RawClient client(server_->port());
  client.Send(SignedPutItem(R"({"TableName":"tampered"})", kSignature));
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(response.body,
              StartsWith(R"({"__type":"com.amazon.coral.service#InvalidSignatureException",)"
                         R"("message":"The request signature we calculated does not match)"));
  EXPECT_EQ(response.header("x-amz-crc32"), std::to_string(Crc32(response.body)));
}

TEST_F(VerifyingServerTest, MissingAuthenticationIs403) {
  RawClient client(server_->port());
  client.Send(JsonRequest("DynamoDB_20120810.Echo", "{}"));
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(response.body,
            R"({"__type":"com.amazon.coral.service#MissingAuthenticationTokenException",)"
            R"("message":"Request is missing Authentication Token"})");
}

TEST_F(VerifyingServerTest, SkewedClockIsSignatureExpired) {
  clock_.Advance(std::chrono::minutes(20));
  RawClient client(server_->port());
  client.Send(SignedPutItem(kBody, kSignature));
  HttpResponse response = client.Read();
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(response.body, HasSubstr("Signature expired: 20150830T123600Z is now earlier than"));
}

// A service may answer after HandleAsync returns, from another thread: the io thread serves
// other connections meanwhile (one io thread here, requests inline on it), and the late
// answer, success or error, reaches its own connection. An answer given on another thread
// before HandleAsync returns is written too.
TEST_F(ServerTest, JsonAnswersMayComeLaterFromAnotherThread) {
  for (bool inline_json : {true, false}) {
    SCOPED_TRACE(inline_json ? "inline" : "workers");
    ServerOptions options;
    options.inline_json = inline_json;
    StartServer(options, /*io_threads=*/1);
    {  // the clients close before Stop (which gives a connection that just answered 2 s to)
      RawClient first(server_->port());
      RawClient second(server_->port());
      first.Send(JsonRequest("DynamoDB_20120810.Later", "{\"n\":1}"));
      second.Send(JsonRequest("DynamoDB_20120810.Later", "{\"n\":2}"));
      dynamodb_.WaitForLater(2);
      RawClient other(server_->port());
      other.Send(JsonRequest("DynamoDB_20120810.Echo", "{\"n\":3}"));
      EXPECT_EQ(other.Read().body, "{\"n\":3}");
      other.Send(JsonRequest("DynamoDB_20120810.ElsewhereNow", "{\"n\":4}"));
      HttpResponse now = other.Read();
      EXPECT_EQ(now.status, 200);
      EXPECT_EQ(now.body, "{\"elsewhere\":{\"n\":4}}");

      dynamodb_.ReplyLater();
      HttpResponse one = first.Read();
      HttpResponse two = second.Read();
      EXPECT_EQ(one.status, 200);
      EXPECT_EQ(one.body, "{\"later\":{\"n\":1}}");
      EXPECT_EQ(two.body, "{\"later\":{\"n\":2}}");
      EXPECT_FALSE(one.header("x-amz-crc32").empty());

      // The connections carry on, and a late error is rendered in the service's protocol.
      first.Send(JsonRequest("DynamoDB_20120810.Later", "{}"));
      dynamodb_.WaitForLater(1);
      dynamodb_.ReplyLater(/*fail=*/true);
      HttpResponse failed = first.Read();
      EXPECT_EQ(failed.status, 400);
      EXPECT_THAT(failed.body, HasSubstr("ConditionalCheckFailedException"));
    }
    server_->Stop();
    EXPECT_EQ(server_->in_flight(), 0);
    server_.reset();
  }
}

// Connections are spread over the io threads (one io_context each). Many clients at once,
// with requests run inline on the io threads or on the workers and idle polling on, each get
// their own answers in order; one request blocked on the worker pool holds up no other
// connection; Stop returns with the pollers.
TEST_F(ServerTest, ManyConnectionsAcrossIoThreadsGetTheirOwnAnswers) {
  for (bool inline_json : {true, false}) {
    SCOPED_TRACE(inline_json ? "inline" : "workers");
    ServerOptions options;
    options.inline_json = inline_json;
    options.idle_poll = std::chrono::microseconds(50);
    StartServer(options);
    std::optional<RawClient> blocked;
    if (!inline_json) {  // inline, a blocked request holds its io thread (by design)
      blocked.emplace(server_->port());
      blocked->Send(JsonRequest("DynamoDB_20120810.Block", "{}"));
      dynamodb_.WaitUntilBlocked(1);
    }
    constexpr int kClients = 9;
    constexpr int kRequests = 40;
    std::vector<std::thread> clients;
    std::atomic<int> answered{0};
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        RawClient client(server_->port());
        for (int i = 0; i < kRequests; ++i) {
          std::string body = "{\"c\":" + std::to_string(c) + ",\"i\":" + std::to_string(i) + "}";
          client.Send(JsonRequest("DynamoDB_20120810.Echo", body));
          HttpResponse response = client.Read();
          EXPECT_EQ(response.status, 200);
          if (response.body == body) answered.fetch_add(1);
        }
      });
    }
    for (std::thread& t : clients) t.join();
    EXPECT_EQ(answered.load(), kClients * kRequests);
    if (blocked) {
      dynamodb_.Release();
      EXPECT_EQ(blocked->Read().status, 200);
    }
    server_->Stop();
    EXPECT_EQ(server_->in_flight(), 0);
    server_.reset();
  }
}

TEST_F(ServerTest, StopDrainsRequestsInProgress) {
  StartServer();
  RawClient idle(server_->port());
  RawClient busy(server_->port());
  busy.Send(JsonRequest("DynamoDB_20120810.Block", "{}"));
  dynamodb_.WaitUntilBlocked(1);
  std::thread stopper([&] { server_->Stop(); });
  // The idle connection is closed; the busy one still gets its answer, then is closed.
  EXPECT_TRUE(idle.ServerClosed());
  dynamodb_.Release();
  HttpResponse response = busy.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("connection"), "close");
  stopper.join();
}

}  // namespace
}  // namespace salespipe::http
