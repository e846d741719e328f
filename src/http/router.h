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
  kRest,                  // no X-Amz-Target: the RestHandler, when there is one
  kNotImplemented,        // no X-Amz-Target and no RestHandler
};

struct Route {
  RouteKind kind;
  // kJson, and kUnknownOperation / kUnsupportedMediaType when the prefix is known.
  services::JsonService* service = nullptr;
  std::string_view operation{};  // kJson: a view into the X-Amz-Target value
};

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
  // The services and the handler must outlive the router; `rest` may be null.
  Router(std::span<services::JsonService* const> services, RestHandler* rest);

  // `path` is the raw path without the query; `target` the X-Amz-Target value if present.
  Route Resolve(std::string_view method, std::string_view path,
                std::optional<std::string_view> target, std::string_view content_type) const;

  // The JSON service whose target_prefix() is `prefix`, or null.
  services::JsonService* FindService(std::string_view prefix) const;

  RestHandler* rest_handler() const { return rest_; }

 private:
  std::vector<services::JsonService*> services_;
  RestHandler* rest_;
};

}  // namespace salespipe::http
