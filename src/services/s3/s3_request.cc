#include "services/s3/s3_request.h"

#include <algorithm>
#include <charconv>
#include <ctime>

#include "common/logging.h"
#include "http/sigv4.h"
#include "lake/checksum.h"
#include "lake/object_path.h"
#include "services/s3/xml.h"

namespace salespipe::services::s3 {

// ------------------------------------------------------------------------------------------
// Errors

namespace {

struct S3Code {
  std::string_view code;
  int status;
};

}  // namespace

// The HTTP status of each S3 error code we answer (spec 8.3).
int StatusOfCode(std::string_view code) {
  static const S3Code kCodes[] = {
      {"NoSuchBucket", 404},         {"NoSuchKey", 404},
      {"NoSuchUpload", 404},         {"NoSuchTagSet", 404},
      {"BucketNotEmpty", 409},       {"BucketAlreadyOwnedByYou", 409},
      {"BucketAlreadyExists", 409},  {"InvalidBucketName", 400},
      {"KeyTooLongError", 400},      {"EntityTooSmall", 400},
      {"EntityTooLarge", 400},       {"InvalidPart", 400},
      {"InvalidPartOrder", 400},     {"InvalidRange", 416},
      {"PreconditionFailed", 412},   {"NotModified", 304},
      {"MalformedXML", 400},         {"InvalidArgument", 400},
      {"InvalidRequest", 400},       {"BadDigest", 400},
      {"InvalidDigest", 400},        {"XAmzContentSHA256Mismatch", 400},
      {"MissingContentLength", 411}, {"MethodNotAllowed", 405},
      {"AccessDenied", 403},         {"SignatureDoesNotMatch", 403},
      {"NotImplemented", 501},       {"IllegalLocationConstraintException", 400},
      {"InvalidLocationConstraint", 400}, {"IncompleteBody", 400},
      {"InvalidTag", 400},           {"MalformedPOSTRequest", 400},
      {"InvalidStorageClass", 400},  {"InternalError", 500},
  };
  for (const S3Code& entry : kCodes) {
    if (entry.code == code) return entry.status;
  }
  return 400;
}

Status Err(std::string_view code, std::string message) {
  ErrorCode canonical = ErrorCode::kInvalidArgument;
  int status = StatusOfCode(code);
  if (status == 404) canonical = ErrorCode::kNotFound;
  if (status == 409) canonical = ErrorCode::kFailedPrecondition;
  if (status == 412 || status == 304) canonical = ErrorCode::kFailedPrecondition;
  if (status == 416) canonical = ErrorCode::kOutOfRange;
  if (status == 501) canonical = ErrorCode::kUnimplemented;
  if (status == 403) canonical = ErrorCode::kPermissionDenied;
  return Status(canonical, std::move(message)).WithAwsCode(std::string(code));
}

std::string CodeOf(const Status& status) {
  if (!status.aws_code().empty()) return status.aws_code();
  switch (status.code()) {
    case ErrorCode::kNotFound: return "NoSuchKey";
    case ErrorCode::kOutOfRange: return "InvalidRange";
    case ErrorCode::kUnimplemented: return "NotImplemented";
    case ErrorCode::kPermissionDenied: return "AccessDenied";
    case ErrorCode::kInternal: return "InternalError";
    case ErrorCode::kUnavailable:
    case ErrorCode::kResourceExhausted: return "SlowDown";
    default: return "InvalidArgument";
  }
}

// ------------------------------------------------------------------------------------------
// Small helpers

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string FormatIso(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buffer + n, sizeof(buffer) - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buffer;
}

std::string FormatHttpDate(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof(buffer), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buffer;
}

// RFC 1123 / RFC 850 / asctime dates; nullopt if none parses.
std::optional<int64_t> ParseHttpDate(std::string_view text) {
  std::string s(text);
  for (const char* format : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                             "%a %b %d %H:%M:%S %Y", "%Y-%m-%dT%H:%M:%S"}) {
    std::tm tm{};
    const char* end = strptime(s.c_str(), format, &tm);
    if (end != nullptr) return static_cast<int64_t>(timegm(&tm)) * 1000;
  }
  return std::nullopt;
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// Percent-decoding for query values ('+' is a space in query strings).
std::string QueryDecode(std::string_view text) {
  std::string plus(text);
  std::replace(plus.begin(), plus.end(), '+', ' ');
  return http::sigv4::UriDecode(plus);
}

std::string UrlEncodeForList(std::string_view text) {
  // S3 encodes like application/x-www-form-urlencoded but keeps '/'.
  return http::sigv4::UriEncode(text, /*encode_slash=*/false);
}

std::string StripQuotes(std::string_view etag) {
  std::string out(etag);
  if (out.size() >= 2 && out.front() == '"' && out.back() == '"') out = out.substr(1, out.size() - 2);
  return out;
}

// Whether an If-Match / If-None-Match list matches `etag`.
bool EtagListMatches(std::string_view list, std::string_view etag) {
  std::string bare = StripQuotes(etag);
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string_view item = list.substr(start, comma == std::string_view::npos ? comma : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || StripQuotes(item) == bare) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

bool ValidBucketName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  if (name.find("..") != std::string_view::npos || name.find(".-") != std::string_view::npos ||
      name.find("-.") != std::string_view::npos)
    return false;
  if (name.starts_with("xn--") || name.starts_with("sthree-") || name.ends_with("-s3alias") ||
      name.ends_with("--ol-s3"))
    return false;
  // Not an IP address.
  int dots = 0;
  bool digits_only = true;
  for (char c : name) {
    if (c == '.') ++dots;
    else if (c < '0' || c > '9') digits_only = false;
  }
  return !(digits_only && dots == 3);
}

// ------------------------------------------------------------------------------------------
// Responses

RestResponse Xml(int status, std::string body) {
  return RestResponse{.http_status = status, .content_type = std::string(kXml), .body = std::move(body)};
}

RestResponse Empty(int status) { return RestResponse{.http_status = status}; }

RestResponse RenderS3Error(const Status& status, const Request& request) {
  std::string code = CodeOf(status);
  int http_status = StatusOfCode(code);
  std::string message = status.message();
  if (status.code() == ErrorCode::kInternal) {
    SPDLOG_ERROR("[{}] s3 internal error: {}", request.context->request_id, status.ToString());
    http_status = 500;
    code = "InternalError";
    message = "We encountered an internal error. Please try again.";
  }
  if (http_status == 304) return Empty(304);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>";
  AppendEscaped(&out, code);
  out.append("</Code><Message>");
  AppendEscaped(&out, message);
  out.append("</Message>");
  if (code == "NoSuchBucket" || code == "BucketNotEmpty" || code == "BucketAlreadyOwnedByYou" ||
      code == "InvalidBucketName") {
    out.append("<BucketName>");
    AppendEscaped(&out, request.bucket);
    out.append("</BucketName>");
  }
  if (code == "NoSuchKey" || code == "KeyTooLongError") {
    out.append("<Key>");
    AppendEscaped(&out, request.key);
    out.append("</Key>");
  }
  if (code == "NoSuchUpload") {
    out.append("<UploadId>");
    AppendEscaped(&out, request.Param("uploadId"));
    out.append("</UploadId>");
  }
  if (code == "MethodNotAllowed") {
    out.append("<Method>");
    AppendEscaped(&out, request.method);
    out.append("</Method><ResourceType>");
    out.append(request.has_key ? "OBJECT" : request.bucket.empty() ? "SERVICE" : "BUCKET");
    out.append("</ResourceType>");
  }
  out.append("<RequestId>");
  AppendEscaped(&out, request.context->request_id);
  out.append("</RequestId></Error>");
  RestResponse response = Xml(http_status, std::move(out));
  return response;
}

// ------------------------------------------------------------------------------------------
// Headers

// Descriptive metadata from request headers (PutObject, CopyObject REPLACE, multipart).
Result<ObjectMeta> MetaFromHeaders(const Request& request) {
  ObjectMeta meta;
  meta.content_type = request.HeaderOr("content-type", "binary/octet-stream");
  std::string encoding = request.HeaderOr("content-encoding");
  // aws-chunked is transport framing, not a property of the object.
  std::string kept;
  size_t start = 0;
  while (start <= encoding.size()) {
    size_t comma = encoding.find(',', start);
    std::string item = encoding.substr(start, comma == std::string::npos ? comma : comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty() && !IEquals(item, "aws-chunked")) kept += (kept.empty() ? "" : ",") + item;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  meta.content_encoding = kept;
  meta.content_disposition = request.HeaderOr("content-disposition");
  meta.content_language = request.HeaderOr("content-language");
  meta.cache_control = request.HeaderOr("cache-control");
  meta.expires = request.HeaderOr("expires");
  size_t metadata_bytes = 0;
  for (const auto& header : request.raw->headers) {
    std::string name = ToLower(header.name);
    if (name.starts_with("x-amz-meta-")) {
      metadata_bytes += name.size() - 11 + header.value.size();
      meta.user_metadata.emplace_back(name.substr(11), std::string(header.value));
    }
  }
  if (metadata_bytes > 2048) {
    return Err("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size");
  }
  std::sort(meta.user_metadata.begin(), meta.user_metadata.end());
  if (auto tagging = request.Header("x-amz-tagging")) {
    std::string_view rest = *tagging;
    while (!rest.empty()) {
      size_t amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      size_t eq = pair.find('=');
      meta.tags.emplace_back(QueryDecode(pair.substr(0, eq)),
                             eq == std::string_view::npos ? "" : QueryDecode(pair.substr(eq + 1)));
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
    if (meta.tags.size() > 10) return Err("InvalidTag", "Object tags cannot be greater than 10");
  }
  return meta;
}

void AddMetaHeaders(const ObjectMeta& meta, RestResponse* response) {
  auto add = [&](std::string name, std::string value) {
    if (!value.empty()) response->headers.emplace_back(std::move(name), std::move(value));
  };
  add("ETag", meta.etag);
  add("Last-Modified", FormatHttpDate(meta.last_modified_ms));
  add("Accept-Ranges", "bytes");
  add("Content-Encoding", meta.content_encoding);
  add("Content-Disposition", meta.content_disposition);
  add("Content-Language", meta.content_language);
  add("Cache-Control", meta.cache_control);
  add("Expires", meta.expires);
  for (const auto& [name, value] : meta.user_metadata) add("x-amz-meta-" + name, value);
  if (!meta.tags.empty()) add("x-amz-tagging-count", std::to_string(meta.tags.size()));
  if (meta.parts_count > 0) add("x-amz-mp-parts-count", std::to_string(meta.parts_count));
}

void AddChecksumHeader(const ObjectMeta& meta, RestResponse* response) {
  auto algorithm = lake::ParseChecksumAlgorithm(meta.checksum_algorithm);
  if (!algorithm || meta.checksum_value.empty()) return;
  response->headers.emplace_back(std::string(lake::ChecksumHeaderName(*algorithm)),
                                 meta.checksum_value);
  if (!meta.checksum_type.empty()) {
    response->headers.emplace_back("x-amz-checksum-type", meta.checksum_type);
  }
}

Status CheckKey(const Request& request) {
  if (request.key.size() > lake::kMaxKeyBytes) {
    return Err("KeyTooLongError", "Your key is too long");
  }
  return Status::Ok();
}

// Parses "/bucket/key[?versionId=...]" (URL-encoded, leading '/' optional).
Result<std::pair<std::string, std::string>> ParseCopySource(std::string_view header) {
  std::string_view source = header.substr(0, header.find('?'));
  std::string decoded = http::sigv4::UriDecode(source);
  std::string_view view = decoded;
  if (view.starts_with("/")) view.remove_prefix(1);
  size_t slash = view.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == view.size()) {
    return Err("InvalidArgument", "Copy Source must mention the source bucket and key: "
                                  "sourcebucket/sourcekey");
  }
  return std::make_pair(std::string(view.substr(0, slash)), std::string(view.substr(slash + 1)));
}

Result<std::optional<ByteRange>> ParseRange(std::string_view header, uint64_t size) {
  if (!header.starts_with("bytes=")) return std::optional<ByteRange>();
  std::string_view spec = header.substr(6);
  if (spec.find(',') != std::string_view::npos) return std::optional<ByteRange>();
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::optional<ByteRange>();
  std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  auto unsatisfiable = [&] {
    return Err("InvalidRange", "The requested range is not satisfiable");
  };
  if (a.empty()) {
    auto n = ParseInt(b);
    if (!n || *n < 0) return std::optional<ByteRange>();
    if (*n == 0 || size == 0) return unsatisfiable();
    uint64_t length = std::min<uint64_t>(static_cast<uint64_t>(*n), size);
    return std::optional<ByteRange>(ByteRange{size - length, size - 1});
  }
  auto first = ParseInt(a);
  if (!first || *first < 0) return std::optional<ByteRange>();
  uint64_t last = size == 0 ? 0 : size - 1;
  if (!b.empty()) {
    auto parsed = ParseInt(b);
    if (!parsed || *parsed < *first) return std::optional<ByteRange>();
    last = std::min<uint64_t>(static_cast<uint64_t>(*parsed), last);
  }
  if (static_cast<uint64_t>(*first) >= size) return unsatisfiable();
  return std::optional<ByteRange>(ByteRange{static_cast<uint64_t>(*first), last});
}

// RFC 7232 order: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since.
Status CheckConditions(const Request& request, const ObjectMeta& meta, std::string_view prefix,
                       bool not_modified_is_412) {
  auto header = [&](std::string_view name) { return request.Header(std::string(prefix) + std::string(name)); };
  auto if_match = header("if-match");
  auto if_unmodified = header("if-unmodified-since");
  auto if_none_match = header("if-none-match");
  auto if_modified = header("if-modified-since");
  int64_t modified_s = meta.last_modified_ms / 1000;
  auto failed = [] {
    return Err("PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
  };
  if (if_match) {
    if (!EtagListMatches(*if_match, meta.etag)) return failed();
  } else if (if_unmodified) {
    auto since = ParseHttpDate(*if_unmodified);
    if (since && modified_s > *since / 1000) return failed();
  }
  if (if_none_match) {
    if (EtagListMatches(*if_none_match, meta.etag)) {
      return not_modified_is_412 ? failed() : Err("NotModified", "Not Modified");
    }
  } else if (if_modified) {
    auto since = ParseHttpDate(*if_modified);
    if (since && modified_s <= *since / 1000) {
      return not_modified_is_412 ? failed() : Err("NotModified", "Not Modified");
    }
  }
  return Status::Ok();
}

}  // namespace salespipe::services::s3
