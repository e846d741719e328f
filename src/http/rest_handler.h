#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"
#include "http/sigv4.h"
#include "services/service.h"

// The hook for services routed by method and path instead of X-Amz-Target (S3 first, spec 1.1
// steps 3-6). Deliberately minimal until S3 lands; it may move next to JsonService then.
namespace salespipe::http {

// Sees the bytes of a request body as the edge spools them, in order (e.g. to hash them on the
// way in instead of reading the file again afterwards). Called on an I/O thread; one per
// request, handed to the handler with the SpooledBody.
class BodyObserver {
 public:
  virtual ~BodyObserver() = default;
  // Called once before the first Update with the spool file's descriptor (the edge closes it
  // when the request ends: dup it to read the file from another thread) and the body's
  // Content-Length when the request has one.
  virtual void Begin(int /*spool_fd*/, std::optional<uint64_t> /*content_length*/) {}
  // The next bytes of the body, just written to the spool file.
  virtual void Update(std::string_view data) = 0;
};

// A request body the edge streamed to a file in RestHandler::spool_directory() instead of
// memory (bodies sent chunked or larger than kMaxInMemoryRestBody). The bytes are the body as
// sent (e.g. still aws-chunked). The edge removes the file when the request ends unless the
// handler sets `taken` (it renamed the file away).
struct SpooledBody {
  std::string path;
  uint64_t size = 0;
  bool taken = false;
  // From RestHandler::NewBodyObserver (may be null); it has seen every byte of the file.
  std::unique_ptr<BodyObserver> observer;
};

// REST bodies up to this size (with a Content-Length) are read into memory; larger or chunked
// ones are spooled to disk when the handler has a spool directory.
inline constexpr uint64_t kMaxInMemoryRestBody = 64u << 10;

// One request as the edge read it. Views point into the request and live for the call.
struct RestRequest {
  std::string_view method{};
  std::string_view path{};               // raw, still percent-encoded, without the query
  std::string_view query{};              // raw, without '?'
  std::vector<sigv4::Header> headers{};  // as sent
  std::string_view body{};               // empty when the body was spooled
  SpooledBody* spooled_body = nullptr;   // the body on disk, or null
};

// A response body streamed from an open file: `length` bytes from `offset`.
struct ResponseFile {
  UniqueFd fd;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct RestResponse {
  int http_status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
  // When set, the body is streamed from this file instead of `body` (and for HEAD only its
  // length is sent, as Content-Length).
  std::optional<ResponseFile> file;
  // For HEAD without a file: the Content-Length to announce (the GET body's length).
  std::optional<uint64_t> head_content_length;
};

// What the edge knows of a REST request when it routes it, before the body is read.
struct RestRouteInput {
  std::string_view method{};
  std::string_view path{};          // raw, still percent-encoded, without the query
  std::string_view query{};         // raw, without '?'
  std::string_view content_type{};  // as sent, may be empty
  std::string_view host{};          // the Host header as sent (S3 virtual-host style), or empty
  // The service of the SigV4 credential scope (Authorization header, or X-Amz-Credential of a
  // presigned URL): "s3", "lambda", "sts", "iam", ...; empty when the request is unsigned.
  std::string_view signing_service{};
};

// A service speaking a REST protocol. Implementations are thread-safe: http/ calls Handle from
// many worker threads at once. Errors are rendered by http/ as S3 XML with S3Error (errors.h)
// unless the handler renders them itself into a RestResponse.
class RestHandler {
 public:
  virtual ~RestHandler() = default;

  // The name used in metrics and as the SigV4 signing name (e.g. "s3").
  virtual std::string_view service_name() const = 0;
  // Whether SigV4 canonicalizes the path as sent (S3) instead of encoding it again.
  virtual bool s3_canonical_path() const { return true; }

  // A directory on the data file system where the edge may spool large request bodies (see
  // SpooledBody); empty = keep bodies in memory under ServerOptions::max_body_bytes.
  virtual std::string spool_directory() const { return {}; }
  // The largest request body accepted when spooling (0 = ServerOptions::max_body_bytes).
  virtual uint64_t max_spooled_body_bytes() const { return 0; }
  // An observer for a body about to be spooled, chosen from the request's headers; null = none.
  virtual std::unique_ptr<BodyObserver> NewBodyObserver(
      const std::vector<sigv4::Header>& /*headers*/) const {
    return nullptr;
  }

  // Whether this handler answers the request (spec 1.1 steps 3-6). The edge asks the REST
  // handlers in registration order and the first that claims the request gets it; S3 comes
  // last and claims everything.
  virtual bool Claims(const RestRouteInput& /*input*/) const { return true; }
  // Whether answering a request it claimed may wait a long time on something other than this
  // server's CPU and disk (a Lambda Invoke waits for the function). The edge runs those on a
  // pool of their own (ServerOptions::blocking_threads) so they never hold up other requests.
  virtual bool MayBlock(const RestRouteInput& /*input*/) const { return false; }
  // The response for an error Status in this handler's protocol (Lambda: rest-json with
  // x-amzn-ErrorType; the query protocol: XML <ErrorResponse>), or nullopt for the edge's S3
  // XML <Error>. Used for the handler's own errors, auth failures and internal errors. The edge
  // hands it: auth failures as kUnauthenticated (a malformed signature: kInvalidArgument)
  // with the JSON protocols' code (JsonAuthError, e.g. "InvalidSignatureException") as
  // aws_code; a body over the limit as kInvalidArgument with aws_code "RequestEntityTooLarge"
  // (HTTP 413); too many requests in flight as kUnavailable; bugs as kInternal.
  virtual std::optional<RestResponse> RenderError(const Status& /*status*/,
                                                  std::string_view /*request_id*/) const {
    return std::nullopt;
  }
  // Whether responses carry S3's request ids (x-amz-request-id, x-amz-id-2; 16 hex digits)
  // instead of only x-amzn-RequestId.
  virtual bool s3_request_ids() const { return true; }

  // Answers one request: a response, or an error Status for http/ to render.
  virtual Result<RestResponse> Handle(const RestRequest& request,
                                      const services::RequestContext& context) = 0;
};

}  // namespace salespipe::http
