#include "http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <limits>
#include <optional>
#include <thread>
#include <unordered_map>

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/logging.h"
#include "common/mutex.h"
#include "http/errors.h"
#include "http/request_id.h"
#include "http/router.h"

namespace salespipe::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::string_view kJson10 = "application/x-amz-json-1.0";
constexpr std::string_view kJson11 = "application/x-amz-json-1.1";
constexpr std::string_view kXml = "application/xml";
constexpr std::string_view kCoralService = "com.amazon.coral.service#";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// After an error that leaves request bytes unread, keep reading (and dropping) them for a
// while before closing, so the kernel does not answer them with a reset that destroys the
// error response before the client reads it.
constexpr std::chrono::seconds kLingerTimeout{2};
// The most a request body read asks the socket for at once (see Connection::ReadBody).
constexpr size_t kBodyReadBytes = 256u << 10;
// File responses at least this large go out with sendfile(2): one copy (page cache to socket)
// instead of two (pread into a buffer, then send). Smaller ones are one buffer anyway.
constexpr uint64_t kSendfileMinBytes = 256u << 10;

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return beast::iequals(beast::string_view(a.data(), a.size()),
                        beast::string_view(b.data(), b.size()));
}

// RFC 7231 IMF-fixdate, formatted once per second per thread.
std::string_view HttpDate() {
  thread_local std::time_t cached_second = -1;
  thread_local char buffer[40];
  thread_local size_t length = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    length = std::strftime(buffer, sizeof(buffer), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return {buffer, length};
}

// A request body written straight to a file descriptor as it arrives (spooled REST bodies).
struct SpoolBody {
  struct value_type {
    int fd = -1;  // owned by the Connection
    uint64_t size = 0;
    BodyObserver* observer = nullptr;  // owned by the Connection's SpooledBody; may be null
  };
  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(bhttp::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>&, beast::error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      size_t total = 0;
      for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers);
           ++it) {
        net::const_buffer buffer = *it;
        const char* data = static_cast<const char*>(buffer.data());
        size_t left = buffer.size();
        while (left > 0) {
          ssize_t n = ::write(body_.fd, data, left);
          if (n < 0) {
            if (errno == EINTR) continue;
            ec = beast::error_code(errno, boost::system::system_category());
            return total;
          }
          if (body_.observer != nullptr) body_.observer->Update({data, static_cast<size_t>(n)});
          data += n;
          left -= static_cast<size_t>(n);
          total += static_cast<size_t>(n);
          body_.size += static_cast<uint64_t>(n);
        }
      }
      ec = {};
      return total;
    }
    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

// A response body read from `length` bytes at `offset` of a file, a buffer at a time.
struct FileRangeBody {
  struct value_type {
    int fd = -1;  // owned by the Connection
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  static std::uint64_t size(const value_type& body) { return body.length; }
  class writer {
   public:
    using const_buffers_type = net::const_buffer;
    template <bool isRequest, class Fields>
    writer(const bhttp::header<isRequest, Fields>&, const value_type& body)
        : body_(body), position_(body.offset), left_(body.length) {}
    void init(beast::error_code& ec) { ec = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
      if (left_ == 0) {
        ec = {};
        return boost::none;
      }
      if (!buffer_) {
        // As large as the file needs, at most kBufferBytes, and not zeroed: a 1 KB GET must
        // not pay for clearing (and mapping) 256 KiB.
        capacity_ = static_cast<size_t>(std::min<uint64_t>(left_, kBufferBytes));
        buffer_.reset(new char[capacity_]);
      }
      size_t want = static_cast<size_t>(std::min<uint64_t>(left_, capacity_));
      ssize_t n;
      do {
        n = ::pread(body_.fd, buffer_.get(), want, static_cast<off_t>(position_));
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {
        // The file shrank under us (it never should: objects are replaced, not rewritten).
        ec = n < 0 ? beast::error_code(errno, boost::system::system_category())
                   : beast::error_code(bhttp::error::partial_message);
        return boost::none;
      }
      position_ += static_cast<uint64_t>(n);
      left_ -= static_cast<uint64_t>(n);
      ec = {};
      return {{net::const_buffer(buffer_.get(), static_cast<size_t>(n)), left_ > 0}};
    }

   private:
    static constexpr size_t kBufferBytes = 256u << 10;
    const value_type& body_;
    uint64_t position_;
    uint64_t left_;
    size_t capacity_ = 0;
    std::unique_ptr<char[]> buffer_;
  };
};

// The REST handlers in the order the router asks them: `rest_handlers`, then `rest_handler`.
std::vector<RestHandler*> RestHandlersOf(const ServerDependencies& deps) {
  std::vector<RestHandler*> handlers = deps.rest_handlers;
  if (deps.rest_handler != nullptr &&
      std::find(handlers.begin(), handlers.end(), deps.rest_handler) == handlers.end()) {
    handlers.push_back(deps.rest_handler);
  }
  return handlers;
}

// The JSON content type to answer with when no service is known: the client's family.
std::string_view FallbackJsonContentType(std::string_view request_content_type) {
  return request_content_type.find("1.1") != std::string_view::npos ? kJson11 : kJson10;
}

}  // namespace

class Connection;

class Server::Impl {
 public:
  Impl(ServerOptions options, ServerDependencies dependencies)
      : options_(std::move(options)),
        deps_(std::move(dependencies)),
        rest_handlers_(RestHandlersOf(deps_)),
        router_(deps_.json_services, rest_handlers_),
        clock_(deps_.clock != nullptr ? *deps_.clock : system_clock_),
        ioc_(std::max(1, options_.io_threads)),
        acceptor_(net::make_strand(ioc_)) {
    health_metrics_ = &metrics_.For("_salespipe", "health");
    metrics_metrics_ = &metrics_.For("_salespipe", "metrics");
    unrouted_metrics_ = &metrics_.For("_unrouted", "_none");
    unknown_metrics_ = &metrics_.For("_unknown", "_unknown");
  }

  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  uint16_t port() const { return port_.load(); }

  void Register(const std::shared_ptr<Connection>& connection) EXCLUDES(connections_mu_);
  void Unregister(Connection* connection) EXCLUDES(connections_mu_);

  // Set at construction.
  const ServerOptions options_;
  const ServerDependencies deps_;
  const std::vector<RestHandler*> rest_handlers_;
  const Router router_;
  SystemClock system_clock_;
  const Clock& clock_;
  Metrics metrics_;
  OperationMetrics* health_metrics_;
  OperationMetrics* metrics_metrics_;
  OperationMetrics* unrouted_metrics_;
  OperationMetrics* unknown_metrics_;

  std::atomic<int64_t> in_flight_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<uint16_t> port_{0};

  // Declared before the io_context: handlers destroyed with it unregister connections.
  Mutex connections_mu_;
  std::condition_variable connections_cv_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_
      GUARDED_BY(connections_mu_);

  // Started/stopped by Start()/Stop() (not thread-safe with each other).
  bool started_ = false;
  bool stopped_ = false;
  net::io_context ioc_;
  tcp::acceptor acceptor_;  // used on its strand only
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_guard_;
  std::unique_ptr<net::thread_pool> workers_;
  std::vector<std::thread> io_threads_;

 private:
  void Accept();
};

// One client connection. Requests are handled one at a time: read the header, decide, read
// the body, hand the work to the worker pool, write the response, read the next header.
// Pipelined requests simply wait in `buffer_`. The io-side members are only touched on the
// connection's strand; while a request is with a worker, the strand does nothing for this
// connection, so the worker owns them until it posts the response back.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server::Impl& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)) {}

  ~Connection() { server_.Unregister(this); }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Closes the connection if it is waiting for a request; otherwise it closes after the
  // response in progress (Write checks stopping_). Runs on the strand.
  void StopIfIdle() {
    if (reading_header_) {
      beast::error_code ec;
      stream_.socket().close(ec);
    }
  }

  void ForceClose() {
    beast::error_code ec;
    stream_.socket().close(ec);
  }

  net::any_io_executor executor() { return stream_.get_executor(); }

 private:
  using Parser = bhttp::request_parser<bhttp::string_body>;
  using SpoolParser = bhttp::request_parser<SpoolBody>;

  // The request header, from whichever parser holds it.
  const bhttp::request_header<>& RequestHeader() const {
    return spool_parser_ ? static_cast<const bhttp::request_header<>&>(spool_parser_->get())
                         : static_cast<const bhttp::request_header<>&>(parser_->get());
  }
  bool HasRequest() const { return parser_.has_value() || spool_parser_.has_value(); }
  bool BodyDone() const { return spool_parser_ ? spool_parser_->is_done() : parser_->is_done(); }
  // Switches to spooling the body into a new file in `directory`. False if it cannot.
  bool StartSpooling(const std::string& directory);
  // Closes and removes the spool file unless the handler took it.
  void EndSpooling();

  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void ReadBody();
  void OnBody(beast::error_code ec);
  void Process();  // on a worker thread
  void ProcessJson();
  void ProcessRest();
  void Write();
  void OnWrite(beast::error_code ec);
  // Sends the rest of response_file_ from sendfile_offset_ with sendfile(2), waiting for the
  // socket when it is full; then OnWrite.
  void SendFileBody();
  void FinishRequest(int http_status);
  void LingeringClose();

  // Response builders (on the strand, or on a worker while it owns the connection).
  void SetResponse(int http_status, std::string_view content_type, std::string body, bool crc32);
  void SetJsonError(services::JsonService* service, int http_status, std::string_view code,
                    std::optional<std::string_view> message);
  void SetXmlError(int http_status, std::string_view code, std::string_view message);
  // An error on a REST route in the handler's protocol (RestHandler::RenderError), else as
  // S3 XML with `fallback`.
  void SetRestError(const Status& status, AwsError fallback);
  // Sets a handler's response (status, content type, body, extra headers; not the file).
  void SetRestResponse(RestResponse& response);
  // A 500 in the route's protocol, for bugs (an exception escaping a service).
  void SetInternalError();
  // Answers the current request with the response already set, closing afterwards.
  void RespondAndClose();

  OperationMetrics& MetricsFor(const void* key, std::string_view service,
                               std::string_view operation);

  // Set at construction.
  Server::Impl& server_;
  beast::tcp_stream stream_;

  beast::flat_buffer buffer_;  // reused for every request on the connection
  std::optional<Parser> parser_;
  std::optional<SpoolParser> spool_parser_;  // replaces parser_ after the header when spooling
  SpooledBody spooled_;                      // the spool file while spool_parser_ is set
  UniqueFd spool_fd_;
  bhttp::response<bhttp::string_body> response_;
  std::optional<ResponseFile> response_file_;  // streamed instead of response_'s body
  std::optional<bhttp::response<FileRangeBody>> file_response_;
  // The header of a file response whose body goes out with sendfile (SendFileBody).
  std::optional<bhttp::response_serializer<FileRangeBody>> file_serializer_;
  uint64_t sendfile_offset_ = 0;
  uint64_t sendfile_left_ = 0;
  bool s3_ids_ = false;  // add x-amz-request-id / x-amz-id-2 (REST routes)
  services::RequestContext context_;  // reused: its strings keep their capacity
  std::string_view path_, query_, content_type_;
  Route route_{RouteKind::kNotImplemented};
  OperationMetrics* operation_metrics_ = nullptr;
  std::chrono::steady_clock::time_point started_;
  bool reading_header_ = false;
  bool in_flight_counted_ = false;
  bool over_capacity_ = false;
  bool close_after_response_ = false;
  bool request_keep_alive_ = true;
  bool head_request_ = false;
  std::array<char, 16 << 10> linger_buffer_;

  // A few (service, operation) -> metrics entries, so the registry mutex is only taken when a
  // connection switches to an operation it has not used lately.
  struct CachedMetrics {
    const void* key = nullptr;
    std::string operation;
    OperationMetrics* metrics = nullptr;
  };
  std::array<CachedMetrics, 4> metrics_cache_;
  size_t next_cache_slot_ = 0;
};

// ---------------------------------------------------------------------------------------
// Server::Impl

Status Server::Impl::Start() {
  if (started_) return Status::FailedPrecondition("server already started");
  if (options_.auth_mode == AuthMode::kVerify && deps_.credentials == nullptr) {
    return Status::FailedPrecondition("--auth verify needs a credentials file");
  }
  beast::error_code ec;
  tcp::resolver resolver(ioc_);
  auto endpoints =
      resolver.resolve(options_.host, std::to_string(options_.port), tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    return Status::InvalidArgument("cannot resolve host " + options_.host + ": " + ec.message());
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return Status::Unavailable("cannot listen on " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  started_ = true;

  work_guard_.emplace(ioc_.get_executor());
  workers_ = std::make_unique<net::thread_pool>(std::max(1, options_.worker_threads));
  net::dispatch(acceptor_.get_executor(), [this] { Accept(); });
  for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
    io_threads_.emplace_back([this] {
      // An exception escaping a handler is a bug; keep the thread serving.
      while (true) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          SPDLOG_ERROR("io thread: uncaught exception: {}", e.what());
        }
      }
    });
  }
  return Status::Ok();
}

void Server::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || stopping_.load() || !acceptor_.is_open()) return;
    if (ec) {
      SPDLOG_WARN("accept failed: {}", ec.message());
    } else {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto connection = std::make_shared<Connection>(*this, std::move(socket));
      Register(connection);
      connection->Start();
    }
    Accept();
  });
}

void Server::Impl::Register(const std::shared_ptr<Connection>& connection) {
  MutexLock lock(connections_mu_);
  connections_.emplace(connection.get(), connection);
}

void Server::Impl::Unregister(Connection* connection) {
  MutexLock lock(connections_mu_);
  connections_.erase(connection);
  if (connections_.empty()) connections_cv_.notify_all();
}

void Server::Impl::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  stopping_ = true;
  net::dispatch(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });

  auto for_each_connection = [this](auto fn) {
    std::vector<std::shared_ptr<Connection>> live;
    {
      MutexLock lock(connections_mu_);
      for (auto& [raw, weak] : connections_) {
        if (auto connection = weak.lock()) live.push_back(std::move(connection));
      }
    }
    for (auto& connection : live) {
      net::post(connection->executor(), [connection, fn] { fn(*connection); });
    }
  };
  for_each_connection([](Connection& c) { c.StopIfIdle(); });
  {
    std::unique_lock lock(connections_mu_);
    if (!connections_cv_.wait_for(lock, options_.drain_timeout,
                                  [this] { return connections_.empty(); })) {
      SPDLOG_WARN("{} connection(s) still busy after {} ms; closing them", connections_.size(),
                  options_.drain_timeout.count());
    }
  }
  for_each_connection([](Connection& c) { c.ForceClose(); });
  work_guard_.reset();
  // Workers finish what they run; what they post back is dropped with the io_context.
  workers_->join();
  ioc_.stop();
  for (std::thread& thread : io_threads_) thread.join();
  io_threads_.clear();
}

// ---------------------------------------------------------------------------------------
// Connection: reading

void Connection::ReadHeader() {
  if (server_.stopping_.load()) {
    LingeringClose();
    return;
  }
  EndSpooling();
  parser_.emplace();
  parser_->header_limit(server_.options_.max_header_bytes);
  // The size limit is applied after the header (OnHeader) so a too-large Content-Length gets
  // a proper 413 instead of a parse error. (Not boost::none: Beast 1.74 compares
  // `length > body_limit_` and a value is greater than none.)
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  reading_header_ = true;
  stream_.expires_after(server_.options_.idle_timeout);
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

void Connection::OnHeader(beast::error_code ec) {
  reading_header_ = false;
  if (ec) {
    if (ec != bhttp::error::end_of_stream && ec != net::error::operation_aborted &&
        ec != bhttp::error::partial_message && ec != beast::error::timeout &&
        ec != net::error::eof && ec != net::error::connection_reset) {
      SPDLOG_DEBUG("closing connection: bad request header: {}", ec.message());
      if (ec.category() == bhttp::make_error_code(bhttp::error::header_limit).category()) {
        // A malformed or oversized header: answer 400 so the client learns why.
        started_ = std::chrono::steady_clock::now();
        NewRequestId(&context_.request_id);
        operation_metrics_ = server_.unrouted_metrics_;
        request_keep_alive_ = false;
        head_request_ = false;
        response_ = {};
        response_.version(11);
        SetXmlError(400, "BadRequest", "Malformed HTTP request: " + ec.message());
        RespondAndClose();
        return;
      }
    }
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return;
  }
  started_ = std::chrono::steady_clock::now();
  NewRequestId(&context_.request_id);
  response_ = {};
  close_after_response_ = false;
  over_capacity_ = false;

  const auto& request = parser_->get();
  response_.version(request.version());
  request_keep_alive_ = request.keep_alive();
  head_request_ = request.method() == bhttp::verb::head;
  std::string_view target = View(request.target());
  size_t question = target.find('?');
  path_ = target.substr(0, question);
  query_ = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  content_type_ = View(request[bhttp::field::content_type]);
  auto target_header = request.find("X-Amz-Target");
  std::optional<std::string_view> amz_target;
  if (target_header != request.end()) amz_target = View(target_header->value());
  route_ = server_.router_.Resolve(RouteRequest{
      .method = View(request.method_string()),
      .path = path_,
      .query = query_,
      .target = amz_target,
      .content_type = content_type_,
      .authorization = View(request[bhttp::field::authorization]),
      .host = View(request[bhttp::field::host]),
  });
  s3_ids_ = route_.kind == RouteKind::kRest ? route_.rest->s3_request_ids()
                                            : route_.kind == RouteKind::kNotImplemented;
  if (s3_ids_) ToS3RequestId(&context_.request_id);

  switch (route_.kind) {
    case RouteKind::kHealth:
      operation_metrics_ = server_.health_metrics_;
      break;
    case RouteKind::kMetrics:
      operation_metrics_ = server_.metrics_metrics_;
      break;
    case RouteKind::kJson:
      operation_metrics_ =
          &MetricsFor(route_.service, route_.service->service_name(), route_.operation);
      break;
    case RouteKind::kUnknownOperation:
    case RouteKind::kUnsupportedMediaType:
      operation_metrics_ =
          route_.service != nullptr
              ? &MetricsFor(route_.service, route_.service->service_name(), "_unknown")
              : server_.unknown_metrics_;
      break;
    case RouteKind::kRest:
      operation_metrics_ = &MetricsFor(route_.rest, route_.rest->service_name(), "_rest");
      break;
    case RouteKind::kNotImplemented:
      operation_metrics_ = server_.unrouted_metrics_;
      break;
  }

  bool json_route = amz_target.has_value();
  services::JsonService* json_service = route_.service;

  // REST bodies that are large or of unknown length go to a file, under the handler's limit.
  uint64_t max_body = server_.options_.max_body_bytes;
  const boost::optional<std::uint64_t> content_length = parser_->content_length();
  if (route_.kind == RouteKind::kRest) {
    RestHandler* rest = route_.rest;
    std::string spool_directory = rest->spool_directory();
    const auto& length = content_length;
    if (!spool_directory.empty() && !parser_->is_done() &&
        (!length || *length > kMaxInMemoryRestBody)) {
      if (rest->max_spooled_body_bytes() != 0) max_body = rest->max_spooled_body_bytes();
      if (!length || *length <= max_body) {
        if (!StartSpooling(spool_directory)) {
          SetInternalError();
          RespondAndClose();
          return;
        }
      }
    }
  }
  // Size limit from Content-Length, before reading any of the body.
  if (auto length = content_length; length && *length > max_body) {
    std::string message = "Request entity too large: " + std::to_string(*length) +
                          " bytes is over the limit of " + std::to_string(max_body) + " bytes.";
    if (json_route) {
      SetJsonError(json_service, 413, kRequestEntityTooLarge, message);
    } else {
      SetRestError(Status::InvalidArgument(message).WithAwsCode(std::string(kRequestEntityTooLarge)),
                   {400, "EntityTooLarge"});
    }
    RespondAndClose();
    return;
  }
  if (spool_parser_) {
    spool_parser_->body_limit(max_body);
  } else {
    parser_->body_limit(max_body);  // enforced while reading a chunked body
  }

  in_flight_counted_ = true;
  if (server_.in_flight_.fetch_add(1) >= server_.options_.max_in_flight) over_capacity_ = true;

  bool expects_continue =
      EqualsIgnoreCase(View(RequestHeader()[bhttp::field::expect]), "100-continue");
  if (BodyDone()) {
    OnBody({});
    return;
  }
  if (expects_continue) {
    if (over_capacity_) {
      // Answer with the final status instead of 100 Continue: the body is never sent.
      OnBody({});
      return;
    }
    stream_.expires_after(server_.options_.io_timeout);
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) {
                         self->FinishRequest(0);
                         return;
                       }
                       self->ReadBody();
                     });
    return;
  }
  ReadBody();
}

bool Connection::StartSpooling(const std::string& directory) {
  std::string path = directory + "/spool-XXXXXX";
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) {
    SPDLOG_ERROR("[{}] cannot create a spool file in {}: {}", context_.request_id, directory,
                 std::strerror(errno));
    return false;
  }
  spool_fd_.Reset(fd);
  spooled_ = SpooledBody{.path = std::move(path)};
  std::vector<sigv4::Header> headers;
  for (const auto& field : parser_->get()) {
    headers.push_back({View(field.name_string()), View(field.value())});
  }
  spooled_.observer = route_.rest->NewBodyObserver(headers);
  if (spooled_.observer != nullptr) {
    const boost::optional<std::uint64_t> length = parser_->content_length();
    spooled_.observer->Begin(fd, length ? std::optional<uint64_t>(*length) : std::nullopt);
  }
  spool_parser_.emplace(std::move(*parser_),
                        SpoolBody::value_type{.fd = fd, .observer = spooled_.observer.get()});
  parser_.reset();
  return true;
}

void Connection::EndSpooling() {
  spool_parser_.reset();
  if (!spool_fd_.valid()) return;
  spool_fd_.Reset();
  if (!spooled_.taken && ::unlink(spooled_.path.c_str()) != 0 && errno != ENOENT) {
    SPDLOG_WARN("cannot remove spool file {}: {}", spooled_.path, std::strerror(errno));
  }
  spooled_ = {};
}

void Connection::ReadBody() {
  stream_.expires_after(server_.options_.io_timeout);
  // Beast reads at most the buffer's free capacity, which after a small header is a few
  // hundred bytes: a 1 MB body would take thousands of reads (and spool writes). Give the body
  // room for large reads; FinishRequest gives the memory back.
  const boost::optional<std::uint64_t> length =
      spool_parser_ ? spool_parser_->content_length() : parser_->content_length();
  size_t room = spool_parser_ ? kBodyReadBytes : kBodyReadBytes / 4;
  if (length) room = static_cast<size_t>(std::min<std::uint64_t>(*length, room));
  if (buffer_.capacity() - buffer_.size() < room) buffer_.reserve(buffer_.size() + room);
  if (spool_parser_) {
    bhttp::async_read(
        stream_, buffer_, *spool_parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
    return;
  }
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

void Connection::OnBody(beast::error_code ec) {
  bool json_route = RequestHeader().find("X-Amz-Target") != RequestHeader().end();
  if (ec == bhttp::error::body_limit) {
    uint64_t limit = spool_parser_ && route_.rest->max_spooled_body_bytes() != 0
                         ? route_.rest->max_spooled_body_bytes()
                         : server_.options_.max_body_bytes;
    std::string message = "Request entity too large: the body is over the limit of " +
                          std::to_string(limit) + " bytes.";
    if (json_route) {
      SetJsonError(route_.service, 413, kRequestEntityTooLarge, message);
    } else {
      SetRestError(Status::InvalidArgument(message).WithAwsCode(std::string(kRequestEntityTooLarge)),
                   {400, "EntityTooLarge"});
    }
    RespondAndClose();
    return;
  }
  if (ec) {
    SPDLOG_DEBUG("[{}] closing connection: reading the body failed: {}", context_.request_id,
                 ec.message());
    FinishRequest(0);
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return;
  }
  stream_.expires_never();

  if (over_capacity_) {
    Status status = Status::Unavailable("Too many requests in flight; retry later.");
    if (json_route) {
      services::JsonService* service = route_.service;
      ErrorTable table =
          service != nullptr ? JsonErrorTableFor(service->target_prefix()) : &DefaultJsonError;
      RenderedError error = RenderJsonError(
          status, table, service != nullptr ? service->error_namespace() : "", context_.request_id);
      SetResponse(
          error.http_status,
          service != nullptr ? service->content_type() : FallbackJsonContentType(content_type_),
          std::move(error.body), service != nullptr && service->wants_crc32());
    } else {
      SetRestError(Status::Unavailable("Please reduce your request rate."), {503, "SlowDown"});
    }
    // The body was not read when the client waits for 100 Continue: close then.
    if (!BodyDone()) close_after_response_ = true;
    Write();
    return;
  }

  switch (route_.kind) {
    case RouteKind::kHealth:
      SetResponse(200, "application/json", "{\"status\":\"ok\"}", false);
      Write();
      return;
    case RouteKind::kUnknownOperation:
      SetJsonError(route_.service, 400, kUnknownOperation, std::nullopt);
      Write();
      return;
    case RouteKind::kUnsupportedMediaType:
      // AWS's front end (Coral) answers a request no protocol claims with this fixed body
      // (kinesalite's tests pin it); it sends no Content-Type, we do (docs/compat/http.md).
      SetResponse(404, kXml, "<UnknownOperationException/>\n", false);
      Write();
      return;
    case RouteKind::kNotImplemented:
      SetXmlError(501, "NotImplemented",
                  "salespipe does not implement this request yet: " +
                      std::string(View(RequestHeader().method_string())) + " " +
                      std::string(path_));
      Write();
      return;
    case RouteKind::kJson:
      if (server_.options_.inline_json) {
        Process();  // on this io thread; see ServerOptions::inline_json
        return;
      }
      net::post(*server_.workers_, [self = shared_from_this()] { self->Process(); });
      return;
    case RouteKind::kMetrics:
    case RouteKind::kRest:
      net::post(*server_.workers_, [self = shared_from_this()] { self->Process(); });
      return;
  }
}

// ---------------------------------------------------------------------------------------
// Connection: processing (worker thread)

void Connection::Process() {
  try {
    switch (route_.kind) {
      case RouteKind::kMetrics:
        SetResponse(200, kPrometheusContentType,
                    server_.metrics_.Render(server_.in_flight_.load(), server_.deps_.db), false);
        break;
      case RouteKind::kJson:
        ProcessJson();
        break;
      case RouteKind::kRest:
        ProcessRest();
        break;
      case RouteKind::kHealth:
      case RouteKind::kUnknownOperation:
      case RouteKind::kUnsupportedMediaType:
      case RouteKind::kNotImplemented:
        SPDLOG_ERROR("[{}] route {} reached a worker", context_.request_id,
                     static_cast<int>(route_.kind));
        SetInternalError();
        break;
    }
  } catch (const std::exception& e) {
    // Exceptions are not part of the error model: this is a bug in the service.
    SPDLOG_ERROR("[{}] uncaught exception: {}", context_.request_id, e.what());
    SetInternalError();
  } catch (...) {
    SPDLOG_ERROR("[{}] uncaught non-standard exception", context_.request_id);
    SetInternalError();
  }
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->Write(); });
}

void Connection::ProcessJson() {
  services::JsonService* service = route_.service;
  const auto& request = parser_->get();
  const std::string& body = request.body();

  AuthRequest auth{
      .method = View(request.method_string()),
      .path = path_,
      .query = query_,
      .authorization = View(request[bhttp::field::authorization]),
      .amz_date = View(request["X-Amz-Date"]),
      .content_sha256 = View(request["x-amz-content-sha256"]),
      .body = body,
  };
  std::vector<sigv4::Header> headers;
  if (server_.options_.auth_mode == AuthMode::kVerify) {
    for (const auto& field : request)
      headers.push_back({View(field.name_string()), View(field.value())});
    auth.headers = headers;
  }
  context_.account_id.assign("000000000000");
  context_.region.assign("us-east-1");
  context_.access_key_id.clear();
  if (std::optional<AuthError> error =
          Authenticate(auth, server_.options_.auth_mode, server_.deps_.credentials,
                       server_.clock_.Now(), &context_)) {
    AwsError aws = JsonAuthError(error->failure);
    SPDLOG_INFO("[{}] rejected {}.{}: {}: {}", context_.request_id, service->service_name(),
                route_.operation, aws.code, error->message);
    SetJsonError(service, aws.http_status, aws.code, error->message);
    return;
  }

  // CBOR (Kinesis from the Java SDKs and the KCL): the service sees JSON; the answer, errors
  // included, goes back as CBOR.
  const services::CborHints* cbor =
      IsCborContentType(content_type_) ? service->cbor_hints() : nullptr;
  Result<std::string> result = cbor != nullptr ? services::CborToJson(body) : std::string();
  if (result.ok()) {
    result = service->Handle(route_.operation, cbor != nullptr ? *result : body, context_);
  }
  if (result.ok()) {
    if (cbor != nullptr) result = services::JsonToCbor(*result, *cbor);
  }
  if (result.ok()) {
    SetResponse(200, cbor != nullptr ? kCborContentType : service->content_type(),
                std::move(result).value(), service->wants_crc32());
    return;
  }
  RenderedError error =
      RenderJsonError(result.status(), JsonErrorTableFor(service->target_prefix()),
                      service->error_namespace(), context_.request_id);
  if (cbor != nullptr) {
    auto encoded = services::JsonToCbor(error.body, *cbor);
    if (encoded.ok()) {
      SetResponse(error.http_status, kCborContentType, std::move(encoded).value(), false);
      return;
    }
  }
  SetResponse(error.http_status, service->content_type(), std::move(error.body),
              service->wants_crc32());
}

void Connection::ProcessRest() {
  RestHandler* rest = route_.rest;
  const auto& request = RequestHeader();
  RestRequest rest_request{
      .method = View(request.method_string()),
      .path = path_,
      .query = query_,
      .body = spool_parser_ ? std::string_view() : std::string_view(parser_->get().body()),
  };
  if (spool_parser_) {
    spooled_.size = spool_parser_->get().body().size;
    rest_request.spooled_body = &spooled_;
  }
  for (const auto& field : request) {
    rest_request.headers.push_back({View(field.name_string()), View(field.value())});
  }
  AuthRequest auth{
      .method = rest_request.method,
      .path = path_,
      .query = query_,
      .authorization = View(request[bhttp::field::authorization]),
      .amz_date = View(request["X-Amz-Date"]),
      .content_sha256 = View(request["x-amz-content-sha256"]),
      .headers = rest_request.headers,
      .body = rest_request.body,
      .s3 = rest->s3_canonical_path(),
  };
  context_.account_id.assign("000000000000");
  context_.region.assign("us-east-1");
  context_.access_key_id.clear();
  if (std::optional<AuthError> error =
          Authenticate(auth, server_.options_.auth_mode, server_.deps_.credentials,
                       server_.clock_.Now(), &context_)) {
    AwsError aws = S3AuthError(error->failure);
    std::string message = error->message;
    if (error->failure == AuthFailure::kSignatureExpired && request[bhttp::field::authorization].empty() &&
        sigv4::HasPresignedQuery(query_)) {
      // An expired presigned URL is AccessDenied "Request has expired" (spec 1.7).
      aws = {403, "AccessDenied"};
      message = "Request has expired";
    }
    SPDLOG_INFO("[{}] rejected {} request: {}: {}", context_.request_id, rest->service_name(),
                aws.code, message);
    // Other protocols get the JSON protocols' code (their RenderError may rename it).
    AwsError json = JsonAuthError(error->failure);
    Status status = error->failure == AuthFailure::kIncompleteSignature
                        ? Status::InvalidArgument(message)
                        : Status::Unauthenticated(message);
    SetRestError(std::move(status).WithAwsCode(std::string(json.code)), aws);
    return;
  }
  Result<RestResponse> result = rest->Handle(rest_request, context_);
  if (!result.ok()) {
    if (std::optional<RestResponse> rendered =
            rest->RenderError(result.status(), context_.request_id)) {
      if (result.status().code() == ErrorCode::kInternal) {
        SPDLOG_ERROR("[{}] {} internal error: {}", context_.request_id, rest->service_name(),
                     result.status().ToString());
      }
      SetRestResponse(*rendered);
      return;
    }
    RenderedError error = RenderXmlError(result.status(), &S3Error, context_.request_id);
    SetResponse(error.http_status, kXml, std::move(error.body), false);
    return;
  }
  RestResponse& response = result.value();
  SetRestResponse(response);
  if (response.file) {
    response_file_ = std::move(response.file);
  } else if (response.head_content_length && head_request_) {
    response_file_ = ResponseFile{.length = *response.head_content_length};
  }
}

// ---------------------------------------------------------------------------------------
// Connection: responding

void Connection::SetResponse(int http_status, std::string_view content_type, std::string body,
                             bool crc32) {
  response_.result(static_cast<unsigned>(http_status));
  response_.set(bhttp::field::content_type,
                beast::string_view(content_type.data(), content_type.size()));
  if (crc32) {
    // Over the exact bytes sent: we never compress (spec 1.8).
    char digits[16];
    int n = std::snprintf(digits, sizeof(digits), "%u", Crc32(body));
    response_.set("x-amz-crc32", beast::string_view(digits, static_cast<size_t>(n)));
  }
  response_.body() = std::move(body);
}

void Connection::SetJsonError(services::JsonService* service, int http_status,
                              std::string_view code, std::optional<std::string_view> message) {
  // Without a service (unknown X-Amz-Target prefix), answer like AWS's front end does.
  std::string type =
      JsonErrorType(code, service != nullptr ? service->error_namespace() : kCoralService);
  SetResponse(http_status,
              service != nullptr ? service->content_type() : FallbackJsonContentType(content_type_),
              JsonErrorBody(type, message), service != nullptr && service->wants_crc32());
}

void Connection::SetInternalError() {
  if (route_.kind == RouteKind::kRest) {
    SetRestError(Status::Internal(std::string(kInternalMessage)), {500, "InternalError"});
    return;
  }
  if (route_.kind == RouteKind::kNotImplemented) {
    SetXmlError(500, "InternalError", kInternalMessage);
    return;
  }
  services::JsonService* service = route_.service;
  AwsError error = service != nullptr
                       ? JsonErrorTableFor(service->target_prefix())(ErrorCode::kInternal)
                       : DefaultJsonError(ErrorCode::kInternal);
  SetJsonError(service, error.http_status, error.code, kInternalMessage);
}

void Connection::SetXmlError(int http_status, std::string_view code, std::string_view message) {
  SetResponse(http_status, kXml, XmlErrorBody(code, message, context_.request_id), false);
}

void Connection::SetRestError(const Status& status, AwsError fallback) {
  if (route_.kind == RouteKind::kRest) {
    if (std::optional<RestResponse> rendered = route_.rest->RenderError(status, context_.request_id)) {
      SetRestResponse(*rendered);
      return;
    }
  }
  SetXmlError(fallback.http_status, fallback.code, status.message());
}

void Connection::SetRestResponse(RestResponse& response) {
  SetResponse(response.http_status, response.content_type, std::move(response.body), false);
  for (auto& [name, value] : response.headers) response_.set(name, value);
}

void Connection::RespondAndClose() {
  close_after_response_ = true;
  Write();
}

void Connection::Write() {
  response_.set("x-amzn-RequestId",
                beast::string_view(context_.request_id.data(), context_.request_id.size()));
  std::string_view date = HttpDate();
  response_.set(bhttp::field::date, beast::string_view(date.data(), date.size()));
  if (s3_ids_) {
    response_.set("x-amz-request-id",
                  beast::string_view(context_.request_id.data(), context_.request_id.size()));
    std::string host_id = Base64Encode(context_.request_id + context_.request_id);
    response_.set("x-amz-id-2", beast::string_view(host_id.data(), host_id.size()));
  }
  response_.keep_alive(request_keep_alive_ && !close_after_response_ && !server_.stopping_.load());
  if (response_file_) {
    // A streamed body: HEAD announces its length only; GET sends it from the file.
    response_.content_length(response_file_->length);
    if (!head_request_ && response_file_->length > 0) {
      FileRangeBody::value_type body{.fd = response_file_->fd.get(),
                                     .offset = response_file_->offset,
                                     .length = response_file_->length};
      file_response_.emplace(std::move(response_.base()), body);
      stream_.expires_never();  // a large file may take longer than io_timeout
      if (response_file_->length >= kSendfileMinBytes) {
        file_serializer_.emplace(*file_response_);
        bhttp::async_write_header(stream_, *file_serializer_,
                                  [self = shared_from_this()](beast::error_code ec, size_t) {
                                    if (ec) {
                                      self->OnWrite(ec);
                                      return;
                                    }
                                    self->sendfile_offset_ = self->response_file_->offset;
                                    self->sendfile_left_ = self->response_file_->length;
                                    self->SendFileBody();
                                  });
        return;
      }
      bhttp::async_write(stream_, *file_response_,
                         [self = shared_from_this()](beast::error_code ec, size_t) {
                           self->OnWrite(ec);
                         });
      return;
    }
    response_.body().clear();
  } else {
    response_.prepare_payload();
    // HEAD: the headers of the GET answer (Content-Length included), no body.
    if (head_request_) response_.body().clear();
  }
  stream_.expires_after(server_.options_.io_timeout);
  bhttp::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, size_t) {
    self->OnWrite(ec);
  });
}

void Connection::SendFileBody() {
  tcp::socket& socket = stream_.socket();
  beast::error_code ec;
  if (!socket.native_non_blocking()) socket.native_non_blocking(true, ec);
  if (ec) {
    OnWrite(ec);
    return;
  }
  while (sendfile_left_ > 0) {
    off_t offset = static_cast<off_t>(sendfile_offset_);
    size_t want = static_cast<size_t>(std::min<uint64_t>(sendfile_left_, 1u << 30));
    ssize_t n = ::sendfile(socket.native_handle(), response_file_->fd.get(), &offset, want);
    if (n > 0) {
      sendfile_offset_ += static_cast<uint64_t>(n);
      sendfile_left_ -= static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The socket buffer is full: other connections on this thread run meanwhile.
      socket.async_wait(tcp::socket::wait_write,
                        [self = shared_from_this()](beast::error_code wait_error) {
                          if (wait_error) {
                            self->OnWrite(wait_error);
                            return;
                          }
                          self->SendFileBody();
                        });
      return;
    }
    // The file shrank under us (it never should: objects are replaced, not rewritten), or the
    // client went away.
    OnWrite(n < 0 ? beast::error_code(errno, boost::system::system_category())
                  : beast::error_code(bhttp::error::partial_message));
    return;
  }
  OnWrite({});
}

void Connection::OnWrite(beast::error_code ec) {
  int status = static_cast<int>(file_response_ ? file_response_->result_int()
                                               : response_.result_int());
  bool keep_alive = file_response_ ? file_response_->keep_alive() : response_.keep_alive();
  bool body_unread = HasRequest() && !BodyDone();
  FinishRequest(status);
  parser_.reset();  // frees the request body while the connection idles
  EndSpooling();
  file_serializer_.reset();  // refers to file_response_
  file_response_.reset();
  response_file_.reset();
  if (ec) {
    SPDLOG_DEBUG("[{}] writing the response failed: {}", context_.request_id, ec.message());
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return;
  }
  if (close_after_response_ || body_unread) {
    LingeringClose();
    return;
  }
  if (!keep_alive) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    return;
  }
  ReadHeader();
}

void Connection::FinishRequest(int http_status) {
  auto elapsed = std::chrono::steady_clock::now() - started_;
  if (http_status != 0 && operation_metrics_ != nullptr) {
    operation_metrics_->Record(http_status, elapsed);
    if (spdlog::should_log(spdlog::level::debug) && HasRequest()) {
      const auto& request = RequestHeader();
      SPDLOG_DEBUG("[{}] {} {} {}.{} -> {} in {} us", context_.request_id,
                   View(request.method_string()), View(request.target()),
                   operation_metrics_->service(), operation_metrics_->operation(), http_status,
                   std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
    }
  }
  if (in_flight_counted_) {
    in_flight_counted_ = false;
    server_.in_flight_.fetch_sub(1);
  }
  response_.body().clear();
  response_.body().shrink_to_fit();
  if (buffer_.capacity() > kBodyReadBytes / 4) buffer_.shrink_to_fit();  // see ReadBody
}

void Connection::LingeringClose() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(kLingerTimeout);
  // Drop whatever the client still sends until it closes, the timeout passes or Stop closes
  // the socket; the connection dies with the last handler.
  struct Drain {
    std::shared_ptr<Connection> self;
    void operator()(beast::error_code ec, size_t) {
      if (ec) return;
      Connection& c = *self;
      c.stream_.async_read_some(net::buffer(c.linger_buffer_), std::move(*this));
    }
  };
  reading_header_ = true;  // Stop may close it at once
  Drain{shared_from_this()}({}, 0);
}

OperationMetrics& Connection::MetricsFor(const void* key, std::string_view service,
                                         std::string_view operation) {
  for (CachedMetrics& entry : metrics_cache_) {
    if (entry.key == key && entry.operation == operation) return *entry.metrics;
  }
  OperationMetrics& metrics = server_.metrics_.For(service, operation);
  CachedMetrics& slot = metrics_cache_[next_cache_slot_];
  next_cache_slot_ = (next_cache_slot_ + 1) % metrics_cache_.size();
  slot.key = key;
  slot.operation.assign(operation);
  slot.metrics = &metrics;
  return metrics;
}

// ---------------------------------------------------------------------------------------
// Server

Server::Server(ServerOptions options, ServerDependencies dependencies)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(dependencies))) {}

Server::~Server() = default;

Status Server::Start() { return impl_->Start(); }
uint16_t Server::port() const { return impl_->port(); }
void Server::Stop() { impl_->Stop(); }
const Metrics& Server::metrics() const { return impl_->metrics_; }
int64_t Server::in_flight() const { return impl_->in_flight_.load(); }

}  // namespace salespipe::http
