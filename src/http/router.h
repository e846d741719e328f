#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "http/rest_handler.h"
#include "services/service.h"

namespace salespipe::http {

// Where a request goes (spec 1.1, first match wins).
enum class RouteKind {
  kHealth,                // GET /_salespipe/health
  kMetrics,               // GET /_salespipe/metrics
  kJson,                  // X-Amz-Target names a known service and operation
  kUnknownOperation,      // X-Amz-Target present but unknown prefix or operation, or not a POST
  kUnsupportedMediaType,  // X-Amz-Target known but a Content-Type no JSON service accepts
  kRest,                  // no X-Amz-Target: the first RestHandler that claims the request
  kNotImplemented,        // no X-Amz-Target and no RestHandler claims it
};

struct Route {
  RouteKind kind;
  // kJson, and kUnknownOperation / kUnsupportedMediaType when the prefix is known.
  services::JsonService* service = nullptr;
  std::string_view operation{};  // kJson: a view into the X-Amz-Target value
  RestHandler* rest = nullptr;   // kRest: the handler that claimed the request
  bool may_block = false;        // kRest: the handler's MayBlock() for this request
};

// What the router reads of a request (all views into the request, live for the call).
struct RouteRequest {
  std::string_view method{};
  std::string_view path{};                   // raw, without the query
  std::string_view query{};                  // raw, without '?'
  std::optional<std::string_view> target{};  // X-Amz-Target, if present
  std::string_view content_type{};
  std::string_view authorization{};  // the Authorization header, or empty
  std::string_view host{};
};

// The SigV4 signing service of a request (spec 1.1 step 3): the 4th field of the credential
// scope in `authorization`, else of X-Amz-Credential in `raw_query` (presigned URLs); empty
// when unsigned or malformed. The result may point into `*storage` (a decoded query value).
std::string_view SigningService(std::string_view authorization, std::string_view raw_query,
                                std::string* storage);

// The request Content-Types JSON services accept: application/x-amz-json-1.0,
// application/x-amz-json-1.1 and application/json, with optional parameters. An absent
// Content-Type (empty) is accepted too.
bool IsJsonContentType(std::string_view content_type);
// application/x-amz-cbor-1.1, accepted by services with JsonService::cbor_hints().
inline constexpr std::string_view kCborContentType = "application/x-amz-cbor-1.1";
bool IsCborContentType(std::string_view content_type);

// Maps requests to services. Immutable after construction, so thread-safe.
class Router {
 public:
  // The services and the handlers must outlive the router. REST handlers are asked in order
  // (RestHandler::Claims), so the catch-all (S3) comes last; null entries are skipped.
  Router(std::span<services::JsonService* const> services,
         std::span<RestHandler* const> rest_handlers);
  // One REST handler (or none: `rest` may be null).
  Router(std::span<services::JsonService* const> services, RestHandler* rest);

  // Spec 1.1, first match wins: /_salespipe/*, X-Amz-Target, then the REST handlers.
  Route Resolve(const RouteRequest& request) const;
  // `path` is the raw path without the query; `target` the X-Amz-Target value if present.
  // An unsigned request without query or headers beyond these.
  Route Resolve(std::string_view method, std::string_view path,
                std::optional<std::string_view> target, std::string_view content_type) const;

  // The JSON service whose target_prefix() is `prefix`, or null.
  services::JsonService* FindService(std::string_view prefix) const;

  const std::vector<RestHandler*>& rest_handlers() const { return rest_; }

 private:
  std::vector<services::JsonService*> services_;
  std::vector<RestHandler*> rest_;
};

}  // namespace salespipe::http
