#include "http/connection.h"

namespace salespipe::http {

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
    RespondTooLarge(json_route, message);
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
  // A small body usually arrived with the header and is in the buffer already: parse it here
  // instead of through an asynchronous read that would complete via another executor trip.
  // Whatever is missing is read as usual (the parser keeps its place).
  beast::error_code ec;
  while (!parser_->is_done() && buffer_.size() > 0) {
    size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      break;
    }
    if (ec || used == 0) break;
  }
  if (ec || parser_->is_done()) {
    OnBody(ec);
    return;
  }
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

void Connection::RespondTooLarge(bool json_route, const std::string& message) {
  if (json_route) {
    SetJsonError(route_.service, 413, kRequestEntityTooLarge, message);
  } else {
    SetRestError(Status::InvalidArgument(message).WithAwsCode(std::string(kRequestEntityTooLarge)),
                 {400, "EntityTooLarge"});
  }
  RespondAndClose();
}

void Connection::OnBody(beast::error_code ec) {
  bool json_route = RequestHeader().find("X-Amz-Target") != RequestHeader().end();
  if (ec == bhttp::error::body_limit) {
    uint64_t limit = spool_parser_ && route_.rest->max_spooled_body_bytes() != 0
                         ? route_.rest->max_spooled_body_bytes()
                         : server_.options_.max_body_bytes;
    std::string message = "Request entity too large: the body is over the limit of " +
                          std::to_string(limit) + " bytes.";
    RespondTooLarge(json_route, message);
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
        Process(/*on_io_thread=*/true);  // on this io thread; see ServerOptions::inline_json
        return;
      }
      net::post(*server_.workers_, [self = shared_from_this()] { self->Process(); });
      return;
    case RouteKind::kMetrics:
    case RouteKind::kRest:
      net::post(route_.may_block ? *server_.blocking_workers_ : *server_.workers_,
                [self = shared_from_this()] { self->Process(); });
      return;
  }
}

}  // namespace salespipe::http
