#pragma once

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
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

#include "common/crypto.h"
#include "common/logging.h"
#include "common/mutex.h"
#include "http/errors.h"
#include "http/request_id.h"
#include "http/router.h"
#include "http/server.h"

// Internal to http/: the server's implementation and its connections, shared by server.cc
// (accepting, starting, stopping), connection_read.cc (reading requests) and
// connection_respond.cc (processing and writing responses).
namespace salespipe::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

inline constexpr std::string_view kJson10 = "application/x-amz-json-1.0";
inline constexpr std::string_view kJson11 = "application/x-amz-json-1.1";
inline constexpr std::string_view kXml = "application/xml";
inline constexpr std::string_view kCoralService = "com.amazon.coral.service#";
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// After an error that leaves request bytes unread, keep reading (and dropping) them for a
// while before closing, so the kernel does not answer them with a reset that destroys the
// error response before the client reads it.
inline constexpr std::chrono::seconds kLingerTimeout{2};
// The most a request body read asks the socket for at once (see Connection::ReadBody).
inline constexpr size_t kBodyReadBytes = 256u << 10;
// File responses at least this large go out with sendfile(2): one copy (page cache to socket)
// instead of two (pread into a buffer, then send). Smaller ones are one buffer anyway.
inline constexpr uint64_t kSendfileMinBytes = 256u << 10;

inline std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// RFC 7231 IMF-fixdate, formatted once per second per thread.
std::string_view HttpDate();

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
std::vector<RestHandler*> RestHandlersOf(const ServerDependencies& deps);

// The JSON content type to answer with when no service is known: the client's family.
std::string_view FallbackJsonContentType(std::string_view request_content_type);

class Connection;

class Server::Impl {
 public:
  Impl(ServerOptions options, ServerDependencies dependencies)
      : options_(std::move(options)),
        deps_(std::move(dependencies)),
        rest_handlers_(RestHandlersOf(deps_)),
        router_(deps_.json_services, rest_handlers_),
        clock_(deps_.clock != nullptr ? *deps_.clock : system_clock_),
        io_contexts_(MakeIoContexts(options_.io_threads)),
        acceptor_(io_contexts_.front()->get_executor()) {
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
  // One io_context per io thread, each run by that thread alone: a connection lives on one of
  // them (round robin at accept), so its handlers never cross threads and no thread wakes
  // another to run them. With one context shared by every io thread, Asio hands completions
  // between threads through its scheduler's condition variable; on 2 cores that cost ~8 us
  // of the ~20 us of a PutRecord (bench/README.md, "The edge: one io_context per thread").
  std::vector<std::unique_ptr<net::io_context>> io_contexts_;
  size_t next_context_ = 0;  // the context of the next accepted connection (acceptor's thread)
  tcp::acceptor acceptor_;   // on io_contexts_[0]
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work_guards_;
  std::unique_ptr<net::thread_pool> workers_;
  std::unique_ptr<net::thread_pool> blocking_workers_;  // RestHandler::MayBlock requests
  std::vector<std::thread> io_threads_;

 private:
  static std::vector<std::unique_ptr<net::io_context>> MakeIoContexts(int count);
  // Runs `context` on this thread until it stops (see ServerOptions::idle_poll).
  void RunIoThread(net::io_context& context);
  void Accept();

  std::atomic<int> idle_pollers_{0};
};

// One client connection. Requests are handled one at a time: read the header, decide, read
// the body, hand the work to the worker pool, write the response, read the next header.
// Pipelined requests simply wait in `buffer_`. The io-side members are only touched on the
// connection's io thread (the one running its io_context); while a request is with a worker,
// that thread does nothing for this connection, so the worker owns them until it posts the
// response back.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server::Impl& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)) {}

  ~Connection() { server_.Unregister(this); }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Closes the connection if it is waiting for a request; otherwise it closes after the
  // response in progress (Write checks stopping_). Runs on the io thread.
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
  // On a worker thread, or inline on the connection's io thread (`on_io_thread`: the response is
  // then written without another trip through the executor).
  void Process(bool on_io_thread = false);
  // Hands the request to its JSON service (JsonService::HandleAsync). True if the response is
  // set when this returns; false if the service answers later (OnJsonReply then responds).
  bool ProcessJson();
  // How to answer in CBOR if the request is CBOR and its service speaks it, else null.
  const services::CborHints* CborHintsOfRequest() const;
  // Sets the response from a JSON service's answer (converted to CBOR if the request was).
  void SetJsonResult(Result<std::string> result);
  // A JSON service's answer, on whichever thread it came (see reply_state_).
  void OnJsonReply(Result<std::string> result);
  void ProcessRest();
  // Writes the response: here on the io thread, or posted to it from elsewhere.
  void Respond(bool on_io_thread);
  void Write();
  void OnWrite(beast::error_code ec);
  // Sends the rest of response_file_ from sendfile_offset_ with sendfile(2), waiting for the
  // socket when it is full; then OnWrite.
  void SendFileBody();
  void FinishRequest(int http_status);
  void LingeringClose();

  // Response builders (on the io thread, or on a worker while it owns the connection).
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
  // Fills context_ (account, region, key) from `auth` under the server's auth mode; the
  // error to answer if the request is rejected.
  std::optional<AuthError> AuthenticateInto(const AuthRequest& auth);
  // A body over the limit: 413 RequestEntityTooLarge on a JSON route (X-Amz-Target, with or
  // without a known service), S3's 400 EntityTooLarge otherwise; then the connection closes.
  void RespondTooLarge(bool json_route, const std::string& message);

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
  bool s3_ids_ = false;               // add x-amz-request-id / x-amz-id-2 (REST routes)
  services::RequestContext context_;  // reused: its strings keep their capacity
  std::string json_body_;             // the JSON of a CBOR request, while its service has it
  // Who writes a JSON response: whichever of ProcessJson (after HandleAsync returns) and
  // OnJsonReply (after the answer is set) comes second. Each moves it out of kAwaitingReply
  // with a compare-exchange; the one that finds the other's mark writes.
  enum ReplyState : int { kAwaitingReply, kReplied, kHandleReturned };
  std::atomic<int> reply_state_{kAwaitingReply};
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

}  // namespace salespipe::http
