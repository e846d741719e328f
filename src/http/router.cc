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

namespace {

// The 4th '/'-field of "AKID/date/region/service/aws4_request", or empty.
std::string_view CredentialService(std::string_view credential) {
  sigv4::SigV4Auth auth;
  if (!sigv4::ParseCredential(credential, &auth)) return {};
  return auth.service;
}

}  // namespace

std::string_view SigningService(std::string_view authorization, std::string_view raw_query,
                                std::string* storage) {
  if (!authorization.empty()) {
    // Only the credential is needed here; Authenticate parses (and checks) the whole header.
    constexpr std::string_view kCredential = "Credential=";
    size_t start = authorization.find(kCredential);
    if (start == std::string_view::npos) return {};
    start += kCredential.size();
    size_t end = authorization.find_first_of(", ", start);
    return CredentialService(authorization.substr(
        start, end == std::string_view::npos ? std::string_view::npos : end - start));
  }
  // Presigned: X-Amz-Credential=AKID%2F20240501%2Fus-east-1%2Fs3%2Faws4_request
  constexpr std::string_view kParameter = "X-Amz-Credential=";
  size_t pos = 0;
  while (pos < raw_query.size()) {
    size_t amp = raw_query.find('&', pos);
    std::string_view parameter =
        raw_query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (parameter.substr(0, kParameter.size()) == kParameter) {
      *storage = sigv4::UriDecode(parameter.substr(kParameter.size()));
      return CredentialService(*storage);
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return {};
}

Router::Router(std::span<services::JsonService* const> services,
               std::span<RestHandler* const> rest_handlers)
    : services_(services.begin(), services.end()) {
  for (RestHandler* handler : rest_handlers) {
    if (handler != nullptr) rest_.push_back(handler);
  }
}

Router::Router(std::span<services::JsonService* const> services, RestHandler* rest)
    : Router(services, std::span<RestHandler* const>(&rest, 1)) {}

services::JsonService* Router::FindService(std::string_view prefix) const {
  // A handful of services: a linear scan beats hashing here.
  for (services::JsonService* service : services_) {
    if (service->target_prefix() == prefix) return service;
  }
  return nullptr;
}

Route Router::Resolve(std::string_view method, std::string_view path,
                      std::optional<std::string_view> target, std::string_view content_type) const {
  return Resolve(
      RouteRequest{.method = method, .path = path, .target = target, .content_type = content_type});
}

Route Router::Resolve(const RouteRequest& request) const {
  const std::string_view method = request.method;
  const std::string_view path = request.path;
  const std::optional<std::string_view>& target = request.target;
  const std::string_view content_type = request.content_type;
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
  if (rest_.empty()) return {RouteKind::kNotImplemented};
  std::string storage;
  RestRouteInput input{
      .method = method,
      .path = path,
      .query = request.query,
      .content_type = content_type,
      .host = request.host,
      .signing_service = SigningService(request.authorization, request.query, &storage),
  };
  for (RestHandler* handler : rest_) {
    if (handler->Claims(input)) {
      return {.kind = RouteKind::kRest, .rest = handler, .may_block = handler->MayBlock(input)};
    }
  }
  return {RouteKind::kNotImplemented};
}

}  // namespace salespipe::http
