#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/sigv4.h"
#include "services/service.h"

// The hook for services routed by method and path instead of X-Amz-Target (S3 first, spec 1.1
// steps 3-6). Deliberately minimal until S3 lands; it may move next to JsonService then.
namespace salespipe::http {

// One request as the edge read it. Views point into the request and live for the call.
struct RestRequest {
  std::string_view method{};
  std::string_view path{};               // raw, still percent-encoded, without the query
  std::string_view query{};              // raw, without '?'
  std::vector<sigv4::Header> headers{};  // as sent
  std::string_view body{};
};

struct RestResponse {
  int http_status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
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

  // Answers one request: a response, or an error Status for http/ to render.
  virtual Result<RestResponse> Handle(const RestRequest& request,
                                      const services::RequestContext& context) = 0;
};

}  // namespace salespipe::http
