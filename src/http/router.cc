#include "http/router.h"

namespace salespipe::http {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

bool IsJsonContentType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  return media.empty() || EqualsIgnoreCase(media, "application/x-amz-json-1.0") ||
         EqualsIgnoreCase(media, "application/x-amz-json-1.1") ||
         EqualsIgnoreCase(media, "application/json");
}

bool IsCborContentType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  return EqualsIgnoreCase(media, kCborContentType);
}

Router::Router(std::span<services::JsonService* const> services, RestHandler* rest)
    : services_(services.begin(), services.end()), rest_(rest) {}

services::JsonService* Router::FindService(std::string_view prefix) const {
  // A handful of services: a linear scan beats hashing here.
  for (services::JsonService* service : services_) {
    if (service->target_prefix() == prefix) return service;
  }
  return nullptr;
}

Route Router::Resolve(std::string_view method, std::string_view path,
                      std::optional<std::string_view> target, std::string_view content_type) const {
  // Our own endpoints first: '_' is not valid in bucket names, so they cannot shadow S3.
  if (method == "GET" && path == "/_salespipe/health") return {RouteKind::kHealth};
  if (method == "GET" && path == "/_salespipe/metrics") return {RouteKind::kMetrics};
  if (target) {
    size_t dot = target->find('.');
    services::JsonService* service =
        dot == std::string_view::npos ? nullptr : FindService(target->substr(0, dot));
    if (service == nullptr) return {RouteKind::kUnknownOperation};
    if (!IsJsonContentType(content_type) &&
        !(service->cbor_hints() != nullptr && IsCborContentType(content_type))) {
      return {RouteKind::kUnsupportedMediaType, service};
    }
    std::string_view operation = target->substr(dot + 1);
    if (method != "POST" || !service->HasOperation(operation)) {
      return {RouteKind::kUnknownOperation, service};
    }
    return {RouteKind::kJson, service, operation};
  }
  if (rest_ != nullptr) return {RouteKind::kRest};
  return {RouteKind::kNotImplemented};
}

}  // namespace salespipe::http
