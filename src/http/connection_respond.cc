#include "http/connection.h"

namespace salespipe::http {

// ---------------------------------------------------------------------------------------
// Connection: processing (worker thread)

void Connection::Process(bool on_io_thread) {
  try {
    switch (route_.kind) {
      case RouteKind::kMetrics:
        SetResponse(200, kPrometheusContentType,
                    server_.metrics_.Render(server_.in_flight_.load(), server_.deps_.db), false);
        break;
      case RouteKind::kJson:
        if (!ProcessJson()) return;  // OnJsonReply responds
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
  Respond(on_io_thread);
}

void Connection::Respond(bool on_io_thread) {
  if (on_io_thread) {
    Write();  // inline: already on the connection's io thread
    return;
  }
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->Write(); });
}

std::optional<AuthError> Connection::AuthenticateInto(const AuthRequest& auth) {
  // Defaults for unsigned requests (--auth off); a verified or parsed credential overrides.
  context_.account_id.assign("000000000000");
  context_.region.assign("us-east-1");
  context_.access_key_id.clear();
  return Authenticate(auth, server_.options_.auth_mode, server_.deps_.credentials,
                      server_.clock_.Now(), &context_);
}

bool Connection::ProcessJson() {
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
  if (std::optional<AuthError> error = AuthenticateInto(auth)) {
    AwsError aws = JsonAuthError(error->failure);
    SPDLOG_INFO("[{}] rejected {}.{}: {}: {}", context_.request_id, service->service_name(),
                route_.operation, aws.code, error->message);
    SetJsonError(service, aws.http_status, aws.code, error->message);
    return true;
  }

  // CBOR (Kinesis from the Java SDKs and the KCL): the service sees JSON; the answer, errors
  // included, goes back as CBOR (SetJsonResult).
  std::string_view json = body;
  if (CborHintsOfRequest() != nullptr) {
    Result<std::string> converted = services::CborToJson(body);
    if (!converted.ok()) {
      SetJsonResult(converted.status());
      return true;
    }
    json_body_ = std::move(converted).value();
    json = json_body_;
  }
  reply_state_.store(kAwaitingReply);
  service->HandleAsync(route_.operation, json, context_,
                       [self = shared_from_this()](Result<std::string> result) {
                         self->OnJsonReply(std::move(result));
                       });
  int state = kAwaitingReply;
  return !reply_state_.compare_exchange_strong(state, kHandleReturned);
}

void Connection::OnJsonReply(Result<std::string> result) {
  try {
    SetJsonResult(std::move(result));
  } catch (const std::exception& e) {
    SPDLOG_ERROR("[{}] uncaught exception rendering a reply: {}", context_.request_id, e.what());
    SetInternalError();
  }
  int state = kAwaitingReply;
  if (reply_state_.compare_exchange_strong(state, kReplied)) return;  // ProcessJson responds
  Respond(/*on_io_thread=*/false);
}

const services::CborHints* Connection::CborHintsOfRequest() const {
  return IsCborContentType(content_type_) ? route_.service->cbor_hints() : nullptr;
}

void Connection::SetJsonResult(Result<std::string> result) {
  services::JsonService* service = route_.service;
  json_body_.clear();
  const services::CborHints* cbor = CborHintsOfRequest();
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
  if (std::optional<AuthError> error = AuthenticateInto(auth)) {
    AwsError aws = S3AuthError(error->failure);
    std::string message = error->message;
    if (error->failure == AuthFailure::kSignatureExpired &&
        request[bhttp::field::authorization].empty() && sigv4::HasPresignedQuery(query_)) {
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
    if (std::optional<RestResponse> rendered =
            route_.rest->RenderError(status, context_.request_id)) {
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
      bhttp::async_write(
          stream_, *file_response_,
          [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
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
  int status =
      static_cast<int>(file_response_ ? file_response_->result_int() : response_.result_int());
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

}  // namespace salespipe::http
