#include "services/s3/s3_service.h"

#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <map>

#include "common/crypto.h"
#include "common/logging.h"
#include "http/sigv4.h"
#include "lake/checksum.h"
#include "lake/object_path.h"
#include "services/s3/aws_chunked.h"
#include "services/s3/xml.h"

namespace salespipe::services::s3 {
namespace {

using http::RestResponse;
using lake::ChecksumAlgorithm;
using lake::ObjectMeta;

constexpr uint64_t kMaxSinglePut = 5ull << 30;
constexpr uint64_t kMinPartSize = 5ull << 20;
constexpr int kMaxParts = 10000;
constexpr std::string_view kXml = "application/xml";
constexpr std::string_view kOwnerId =
    "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
constexpr std::string_view kOwnerName = "webfile";

// ------------------------------------------------------------------------------------------
// Errors

struct S3Code {
  std::string_view code;
  int status;
};

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

}  // namespace

// ------------------------------------------------------------------------------------------
// The parsed request

struct S3Service::Request {
  const http::RestRequest* raw = nullptr;
  const RequestContext* context = nullptr;
  std::string method;
  std::string bucket;
  std::string key;
  bool has_key = false;
  std::multimap<std::string, std::string> query;  // decoded

  std::optional<std::string_view> Header(std::string_view name) const {
    for (const auto& header : raw->headers) {
      if (IEquals(header.name, name)) return header.value;
    }
    return std::nullopt;
  }
  std::string HeaderOr(std::string_view name, std::string_view fallback = "") const {
    auto value = Header(name);
    return std::string(value ? *value : fallback);
  }
  bool Has(std::string_view param) const { return query.count(std::string(param)) > 0; }
  std::string Param(std::string_view param) const {
    auto it = query.find(std::string(param));
    return it == query.end() ? std::string() : it->second;
  }
};

namespace {

using Request = S3Service::Request;

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
// Bodies: decoding, hashing and staging

struct ChecksumSpec {
  ChecksumAlgorithm algorithm = ChecksumAlgorithm::kNone;
  std::string expected;  // base64 from a header, or from the trailer after decoding
  bool from_trailer = false;
};

// The flexible checksum a request carries (header, or announced trailer).
Result<ChecksumSpec> ChecksumOf(const Request& request) {
  ChecksumSpec spec;
  for (const auto& header : request.raw->headers) {
    std::string name = ToLower(header.name);
    if (!name.starts_with("x-amz-checksum-") || name == "x-amz-checksum-mode" ||
        name == "x-amz-checksum-type" || name == "x-amz-checksum-algorithm")
      continue;
    auto algorithm = lake::ParseChecksumAlgorithm(name.substr(15));
    if (!algorithm) {
      return Err("InvalidRequest", "Unsupported checksum header " + name);
    }
    if (spec.algorithm != ChecksumAlgorithm::kNone && spec.algorithm != *algorithm) {
      return Err("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple "
                                   "checksum Types are not allowed.");
    }
    spec.algorithm = *algorithm;
    spec.expected = std::string(header.value);
  }
  if (auto trailer = request.Header("x-amz-trailer")) {
    std::string name = ToLower(*trailer);
    if (name.starts_with("x-amz-checksum-")) {
      auto algorithm = lake::ParseChecksumAlgorithm(name.substr(15));
      if (!algorithm) return Err("InvalidRequest", "Unsupported trailer " + name);
      spec.algorithm = *algorithm;
      spec.from_trailer = true;
    }
  }
  if (spec.algorithm == ChecksumAlgorithm::kNone) {
    if (auto sdk = request.Header("x-amz-sdk-checksum-algorithm")) {
      auto algorithm = lake::ParseChecksumAlgorithm(*sdk);
      if (!algorithm) return Err("InvalidRequest", "Unsupported checksum algorithm " + std::string(*sdk));
      spec.algorithm = *algorithm;
    }
  }
  return spec;
}

struct StagedBody {
  lake::StagedFile file;
  std::string md5;       // raw
  std::string checksum;  // raw digest of spec.algorithm, or empty
  ChecksumSpec spec;
};

std::string SignatureOf(std::string_view authorization) {
  size_t at = authorization.find("Signature=");
  if (at == std::string_view::npos) return "";
  std::string_view rest = authorization.substr(at + 10);
  return std::string(rest.substr(0, rest.find_first_of(", ")));
}

}  // namespace

S3Service::S3Service(lake::Lake& lake, const Clock& clock, S3Options options)
    : lake_(lake), clock_(clock), options_(std::move(options)) {}

namespace {

// The hashes of a spooled body, computed by the edge as the bytes arrived (NewBodyObserver).
class SpoolHashes final : public http::BodyObserver {
 public:
  SpoolHashes(ChecksumAlgorithm algorithm, bool with_sha256)
      : md5(ChecksumAlgorithm::kMd5),
        checksum(algorithm),
        sha256(with_sha256 ? ChecksumAlgorithm::kSha256 : ChecksumAlgorithm::kNone) {}
  void Update(std::string_view data) override {
    md5.Update(data);
    checksum.Update(data);
    sha256.Update(data);
  }
  lake::Hasher md5;
  lake::Hasher checksum;
  lake::Hasher sha256;
};

}  // namespace

std::unique_ptr<http::BodyObserver> S3Service::NewBodyObserver(
    const std::vector<http::sigv4::Header>& headers) const {
  ChecksumAlgorithm algorithm = ChecksumAlgorithm::kNone;
  bool sha256 = false;
  for (const auto& header : headers) {
    std::string name = ToLower(header.name);
    if (name == "content-encoding" && header.value.find("aws-chunked") != std::string_view::npos) {
      return nullptr;  // decoded (and hashed) by StageBody
    }
    if (name == "x-amz-content-sha256") {
      if (header.value.starts_with("STREAMING-")) return nullptr;
      sha256 = options_.auth_mode == http::AuthMode::kVerify && header.value.size() == 64;
    } else if (name == "x-amz-sdk-checksum-algorithm" && algorithm == ChecksumAlgorithm::kNone) {
      algorithm = lake::ParseChecksumAlgorithm(header.value).value_or(ChecksumAlgorithm::kNone);
    } else if (name.starts_with("x-amz-checksum-")) {
      if (auto parsed = lake::ParseChecksumAlgorithm(name.substr(15))) algorithm = *parsed;
    }
  }
  return std::make_unique<SpoolHashes>(algorithm, sha256);
}

uint64_t S3Service::max_spooled_body_bytes() const {
  // The encoded body of a 5 GiB aws-chunked upload is a little larger than 5 GiB.
  return kMaxSinglePut + (64ull << 20);
}

namespace {

// Reads the request body (memory or spool file), undoing aws-chunked framing, into a staged
// file while hashing it. Verifies Content-MD5 and the flexible checksum: on a mismatch nothing
// is kept (the staged file is removed with the result).
Result<StagedBody> StageBody(lake::Lake& lake, const Request& request, const S3Options& options) {
  StagedBody staged;
  ASSIGN_OR_RETURN(staged.spec, ChecksumOf(request));
  std::string content_sha256 = request.HeaderOr("x-amz-content-sha256");
  bool chunked = content_sha256.starts_with("STREAMING-") ||
                 request.HeaderOr("content-encoding").find("aws-chunked") != std::string::npos;

  std::optional<std::string> content_md5;
  if (auto header = request.Header("content-md5")) {
    content_md5 = Base64Decode(*header);
    if (!content_md5 || content_md5->size() != 16) {
      return Err("InvalidDigest", "The Content-MD5 you specified was invalid.");
    }
  }
  uint64_t declared = request.raw->spooled_body ? request.raw->spooled_body->size
                                                : request.raw->body.size();
  if (chunked) {
    auto decoded = ParseInt(request.HeaderOr("x-amz-decoded-content-length", "-1"));
    if (decoded && *decoded >= 0) declared = static_cast<uint64_t>(*decoded);
  }
  if (declared > kMaxSinglePut) {
    return Err("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.");
  }

  lake::Hasher md5(ChecksumAlgorithm::kMd5);
  lake::Hasher checksum(staged.spec.algorithm);
  bool verify_sha256 = options.auth_mode == http::AuthMode::kVerify && content_sha256.size() == 64;
  lake::Hasher sha256(verify_sha256 ? ChecksumAlgorithm::kSha256 : ChecksumAlgorithm::kNone);

  auto hash = [&](std::string_view data) {
    md5.Update(data);
    checksum.Update(data);
    sha256.Update(data);
  };

  if (!chunked && request.raw->spooled_body != nullptr) {
    // The spooled file already holds the exact bytes: hash it and make it the object.
    ASSIGN_OR_RETURN(staged.file, lake.AdoptStagedFile(request.raw->spooled_body->path));
    request.raw->spooled_body->taken = true;
    // Hashed on the way in (NewBodyObserver) when it chose the same hashes; else read it again.
    auto* observed = dynamic_cast<SpoolHashes*>(request.raw->spooled_body->observer.get());
    if (observed != nullptr && observed->checksum.algorithm() == staged.spec.algorithm &&
        (observed->sha256.algorithm() == ChecksumAlgorithm::kSha256) == verify_sha256) {
      md5 = std::move(observed->md5);
      checksum = std::move(observed->checksum);
      sha256 = std::move(observed->sha256);
    } else {
      RETURN_IF_ERROR(lake::Lake::ReadRange(staged.file.fd(), 0, staged.file.size(),
                                            [&](std::string_view chunk) {
                                              hash(chunk);
                                              return Status::Ok();
                                            }));
    }
  } else {
    ASSIGN_OR_RETURN(staged.file, lake.NewStagedFile());
    auto write = [&](std::string_view data) -> Status {
      hash(data);
      return staged.file.Append(data);
    };
    if (!chunked) {
      RETURN_IF_ERROR(write(request.raw->body));
    } else {
      std::optional<ChunkSigning> signing;
      if (options.auth_mode == http::AuthMode::kVerify &&
          content_sha256.starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD") &&
          options.credentials != nullptr) {
        std::string authorization = request.HeaderOr("authorization");
        auto parsed = http::sigv4::ParseAuthorizationHeader(authorization);
        if (parsed.ok()) {
          const std::string* secret = options.credentials->FindSecret(parsed->access_key_id);
          if (secret != nullptr) {
            signing = ChunkSigning{
                .signing_key = http::sigv4::SigningKey(*secret, parsed->date, parsed->region,
                                                       parsed->service),
                .amz_date = request.HeaderOr("x-amz-date"),
                .scope = std::string(parsed->date) + "/" + std::string(parsed->region) + "/" +
                         std::string(parsed->service) + "/aws4_request",
                .seed_signature = SignatureOf(authorization)};
          }
        }
      }
      AwsChunkedDecoder decoder(write, std::move(signing));
      if (request.raw->spooled_body != nullptr) {
        UniqueFd fd(::open(request.raw->spooled_body->path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid()) return Status::Internal("cannot read the spooled body");
        RETURN_IF_ERROR(lake::Lake::ReadRange(fd.get(), 0, request.raw->spooled_body->size,
                                              [&](std::string_view chunk) {
                                                return decoder.Feed(chunk);
                                              }));
      } else {
        RETURN_IF_ERROR(decoder.Feed(request.raw->body));
      }
      RETURN_IF_ERROR(decoder.Finish());
      if (staged.spec.from_trailer) {
        std::string wanted = "x-amz-checksum-" + ToLower(lake::ChecksumAlgorithmName(staged.spec.algorithm));
        for (const auto& [name, value] : decoder.trailers()) {
          if (name == wanted) staged.spec.expected = value;
        }
      }
      auto decoded = ParseInt(request.HeaderOr("x-amz-decoded-content-length", "-1"));
      if (decoded && *decoded >= 0 && static_cast<uint64_t>(*decoded) != decoder.decoded_bytes()) {
        return Err("IncompleteBody",
                   "You did not provide the number of bytes specified by the Content-Length HTTP "
                   "header");
      }
    }
  }
  staged.md5 = md5.Finish();
  staged.checksum = checksum.Finish();
  if (verify_sha256 && HexEncode(sha256.Finish()) != ToLower(content_sha256)) {
    return Err("XAmzContentSHA256Mismatch",
               "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  if (content_md5 && *content_md5 != staged.md5) {
    return Err("BadDigest", "The Content-MD5 you specified did not match what we received.");
  }
  if (!staged.spec.expected.empty() && Base64Encode(staged.checksum) != staged.spec.expected) {
    return Err("BadDigest", "The " + ToLower(lake::ChecksumAlgorithmName(staged.spec.algorithm)) +
                                " you specified did not match the calculated checksum.");
  }
  return staged;
}

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

// "bytes=a-b" against `size`: [first, last] or an error. `strict` (copy ranges) rejects
// anything but a-b; GET ignores malformed ranges (nullopt).
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;
};
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

// ------------------------------------------------------------------------------------------
// Operations

Result<RestResponse> ListBuckets(lake::Lake& lake) {
  ASSIGN_OR_RETURN(std::vector<lake::BucketInfo> buckets, lake.ListBuckets());
  XmlWriter xml("ListAllMyBucketsResult");
  xml.Open("Owner").Element("ID", kOwnerId).Element("DisplayName", kOwnerName).Close("Owner");
  xml.Open("Buckets");
  for (const auto& bucket : buckets) {
    xml.Open("Bucket")
        .Element("Name", bucket.name)
        .Element("CreationDate", FormatIso(bucket.created_ms))
        .Element("BucketRegion", bucket.region)
        .Close("Bucket");
  }
  xml.Close("Buckets");
  return Xml(200, xml.Finish("ListAllMyBucketsResult"));
}

Result<RestResponse> CreateBucket(lake::Lake& lake, const Request& request) {
  if (!ValidBucketName(request.bucket)) {
    return Err("InvalidBucketName", "The specified bucket is not valid.");
  }
  std::string region = request.context->region;
  std::string constraint;
  if (!request.raw->body.empty()) {
    auto doc = ParseXml(request.raw->body);
    if (!doc || doc->name != "CreateBucketConfiguration") {
      return Err("MalformedXML", "The XML you provided was not well-formed or did not validate "
                                 "against our published schema");
    }
    if (const XmlNode* node = doc->Child("LocationConstraint")) constraint = node->text;
  }
  if (!constraint.empty() && constraint != region) {
    if (constraint == "us-east-1") {
      return Err("InvalidLocationConstraint", "The specified location-constraint is not valid");
    }
    return Err("IllegalLocationConstraintException",
               "The " + constraint + " location constraint is incompatible for the region "
               "specific endpoint this request was sent to.");
  }
  if (constraint.empty() && region != "us-east-1") {
    return Err("IllegalLocationConstraintException",
               "The unspecified location constraint is incompatible for the region specific "
               "endpoint this request was sent to.");
  }
  Status created = lake.CreateBucket(request.bucket, region);
  if (created.code() == ErrorCode::kAlreadyExists) {
    // Bucket names are global; every caller owns every bucket here (no per-account owners).
    // AWS answers 200 in us-east-1 and BucketAlreadyOwnedByYou elsewhere.
    if (region != "us-east-1") {
      return Err("BucketAlreadyOwnedByYou",
                 "Your previous request to create the named bucket succeeded and you already "
                 "own it.");
    }
  } else {
    RETURN_IF_ERROR(created);
  }
  RestResponse response = Empty(200);
  response.headers.emplace_back("Location", "/" + request.bucket);
  return response;
}

Result<RestResponse> ListObjects(lake::Lake& lake, const Request& request, bool v2) {
  lake::ListOptions options{.prefix = request.Param("prefix"),
                            .delimiter = request.Param("delimiter")};
  int max_keys = 1000;
  if (request.Has("max-keys")) {
    auto parsed = ParseInt(request.Param("max-keys"));
    if (!parsed || *parsed < 0) {
      return Err("InvalidArgument", "Provided max-keys not an integer or within integer range");
    }
    max_keys = static_cast<int>(std::min<int64_t>(*parsed, 1000));
  }
  options.max_keys = max_keys;
  std::string encoding_type = request.Param("encoding-type");
  if (!encoding_type.empty() && encoding_type != "url") {
    return Err("InvalidArgument", "Invalid Encoding Method specified in Request");
  }
  bool url = encoding_type == "url";
  std::string token = request.Param("continuation-token");
  std::string start_after = v2 ? request.Param("start-after") : request.Param("marker");
  options.start_after = start_after;
  if (v2 && request.Has("continuation-token")) {
    auto decoded = Base64Decode(token);
    if (!decoded || decoded->empty() || (*decoded)[0] != 'k') {
      return Err("InvalidArgument", "The continuation token provided is incorrect");
    }
    options.start_after = std::max(options.start_after, decoded->substr(1));
  }
  ASSIGN_OR_RETURN(lake::ListResult result, lake.List(request.bucket, options));
  auto enc = [&](std::string_view text) { return url ? UrlEncodeForList(text) : std::string(text); };
  bool fetch_owner = !v2 || request.Param("fetch-owner") == "true";

  XmlWriter xml("ListBucketResult");
  xml.Element("Name", request.bucket).Element("Prefix", enc(options.prefix));
  if (v2) {
    if (request.Has("continuation-token")) xml.Element("ContinuationToken", token);
    if (request.Has("start-after")) xml.Element("StartAfter", enc(start_after));
    xml.Element("KeyCount",
                std::to_string(result.objects.size() + result.common_prefixes.size()));
  } else {
    xml.Element("Marker", enc(start_after));
    if (result.truncated && !options.delimiter.empty()) xml.Element("NextMarker", enc(result.last));
  }
  xml.Element("MaxKeys", std::to_string(max_keys));
  if (!options.delimiter.empty()) xml.Element("Delimiter", enc(options.delimiter));
  xml.Element("IsTruncated", result.truncated ? "true" : "false");
  if (v2 && result.truncated) {
    xml.Element("NextContinuationToken", Base64Encode("k" + result.last));
  }
  if (url) xml.Element("EncodingType", "url");
  for (const auto& entry : result.objects) {
    xml.Open("Contents")
        .Element("Key", enc(entry.key))
        .Element("LastModified", FormatIso(entry.meta.last_modified_ms))
        .Element("ETag", entry.meta.etag);
    if (!entry.meta.checksum_algorithm.empty()) {
      xml.Element("ChecksumAlgorithm", entry.meta.checksum_algorithm);
      if (!entry.meta.checksum_type.empty()) xml.Element("ChecksumType", entry.meta.checksum_type);
    }
    xml.Element("Size", std::to_string(entry.meta.size));
    if (fetch_owner) {
      xml.Open("Owner").Element("ID", kOwnerId).Element("DisplayName", kOwnerName).Close("Owner");
    }
    xml.Element("StorageClass", "STANDARD").Close("Contents");
  }
  for (const auto& prefix : result.common_prefixes) {
    xml.Open("CommonPrefixes").Element("Prefix", enc(prefix)).Close("CommonPrefixes");
  }
  return Xml(200, xml.Finish("ListBucketResult"));
}

Result<RestResponse> PutObject(lake::Lake& lake, const Request& request, const S3Options& options) {
  RETURN_IF_ERROR(CheckKey(request));
  RETURN_IF_ERROR(lake.GetBucket(request.bucket).status());
  ASSIGN_OR_RETURN(ObjectMeta meta, MetaFromHeaders(request));
  ASSIGN_OR_RETURN(StagedBody body, StageBody(lake, request, options));
  meta.etag = "\"" + HexEncode(body.md5) + "\"";
  if (body.spec.algorithm != ChecksumAlgorithm::kNone) {
    meta.checksum_algorithm = std::string(lake::ChecksumAlgorithmName(body.spec.algorithm));
    meta.checksum_value = Base64Encode(body.checksum);
    meta.checksum_type = "FULL_OBJECT";
  }
  ASSIGN_OR_RETURN(ObjectMeta stored,
                   lake.PutObject(request.bucket, request.key, std::move(body.file), std::move(meta)));
  RestResponse response = Empty(200);
  response.headers.emplace_back("ETag", stored.etag);
  AddChecksumHeader(stored, &response);
  return response;
}

Result<RestResponse> GetObject(lake::Lake& lake, const Request& request) {
  ASSIGN_OR_RETURN(lake::OpenObject object, lake.Open(request.bucket, request.key));
  const ObjectMeta& meta = object.meta;
  RETURN_IF_ERROR(CheckConditions(request, meta, "", /*not_modified_is_412=*/false));
  std::optional<ByteRange> range;
  if (auto header = request.Header("range")) {
    Result<std::optional<ByteRange>> parsed = ParseRange(*header, meta.size);
    if (!parsed.ok()) {
      RestResponse response = RenderS3Error(parsed.status(), request);
      response.headers.emplace_back("Content-Range", "bytes */" + std::to_string(meta.size));
      return response;
    }
    range = *parsed;
  }
  if (request.Has("partNumber")) {
    auto part = ParseInt(request.Param("partNumber"));
    if (!part || *part < 1 || *part > kMaxParts) {
      return Err("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
    }
    if (*part != 1 || meta.parts_count > 1) {
      return Err("NotImplemented", "GetObject with partNumber is only supported for part 1 of "
                                   "single-part objects");
    }
  }
  RestResponse response = Empty(range ? 206 : 200);
  response.content_type = meta.content_type.empty() ? "binary/octet-stream" : meta.content_type;
  AddMetaHeaders(meta, &response);
  // Never a full-object checksum on a ranged GET: clients would check the part against it.
  if (!range && IEquals(request.HeaderOr("x-amz-checksum-mode"), "ENABLED")) {
    AddChecksumHeader(meta, &response);
  }
  static const std::pair<std::string_view, std::string_view> kOverrides[] = {
      {"response-content-type", "Content-Type"},
      {"response-content-language", "Content-Language"},
      {"response-expires", "Expires"},
      {"response-cache-control", "Cache-Control"},
      {"response-content-disposition", "Content-Disposition"},
      {"response-content-encoding", "Content-Encoding"}};
  for (const auto& [param, header] : kOverrides) {
    if (!request.Has(param)) continue;
    if (header == "Content-Type") {
      response.content_type = request.Param(param);
      continue;
    }
    std::erase_if(response.headers, [&](const auto& h) { return IEquals(h.first, header); });
    response.headers.emplace_back(std::string(header), request.Param(param));
  }
  uint64_t offset = range ? range->first : 0;
  uint64_t length = range ? range->last - range->first + 1 : meta.size;
  if (range) {
    response.headers.emplace_back("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                                       std::to_string(range->last) + "/" +
                                                       std::to_string(meta.size));
  }
  response.file = http::ResponseFile{.fd = std::move(object.fd), .offset = offset, .length = length};
  return response;
}

Result<RestResponse> CopyObject(lake::Lake& lake, const Request& request) {
  RETURN_IF_ERROR(CheckKey(request));
  ASSIGN_OR_RETURN(auto source, ParseCopySource(request.HeaderOr("x-amz-copy-source")));
  RETURN_IF_ERROR(lake.GetBucket(request.bucket).status());
  ASSIGN_OR_RETURN(lake::OpenObject object, lake.Open(source.first, source.second));
  RETURN_IF_ERROR(CheckConditions(request, object.meta, "x-amz-copy-source-", true));
  std::string directive = request.HeaderOr("x-amz-metadata-directive", "COPY");
  if (directive != "COPY" && directive != "REPLACE") {
    return Err("InvalidArgument", "Unknown metadata directive.");
  }
  ObjectMeta meta = object.meta;
  if (directive == "REPLACE") {
    ASSIGN_OR_RETURN(ObjectMeta replaced, MetaFromHeaders(request));
    replaced.etag = meta.etag;
    replaced.checksum_algorithm = meta.checksum_algorithm;
    replaced.checksum_value = meta.checksum_value;
    replaced.checksum_type = meta.checksum_type;
    replaced.parts_count = meta.parts_count;
    if (!request.Header("x-amz-tagging")) replaced.tags = meta.tags;
    meta = std::move(replaced);
  } else if (source.first == request.bucket && source.second == request.key) {
    return Err("InvalidRequest",
               "This copy request is illegal because it is trying to copy an object to itself "
               "without changing the object's metadata, storage class, website redirect "
               "location or encryption attributes.");
  }
  if (request.HeaderOr("x-amz-tagging-directive") == "REPLACE") {
    ASSIGN_OR_RETURN(ObjectMeta tagged, MetaFromHeaders(request));
    meta.tags = tagged.tags;
  }
  ASSIGN_OR_RETURN(ObjectMeta stored, lake.CopyObject(object, request.bucket, request.key, meta));
  XmlWriter xml("CopyObjectResult");
  xml.Element("ETag", stored.etag).Element("LastModified", FormatIso(stored.last_modified_ms));
  if (!stored.checksum_algorithm.empty() && stored.checksum_value.find('-') == std::string::npos) {
    xml.Element("Checksum" + stored.checksum_algorithm, stored.checksum_value);
  }
  return Xml(200, xml.Finish("CopyObjectResult"));
}

Result<RestResponse> DeleteObjects(lake::Lake& lake, const Request& request) {
  RETURN_IF_ERROR(lake.GetBucket(request.bucket).status());
  std::string_view body = request.raw->body;
  if (auto md5 = request.Header("content-md5")) {
    auto digest = Base64Decode(*md5);
    if (!digest || digest->size() != 16) {
      return Err("InvalidDigest", "The Content-MD5 you specified was invalid.");
    }
    if (*digest != Md5(body)) {
      return Err("BadDigest", "The Content-MD5 you specified did not match what we received.");
    }
  }
  ASSIGN_OR_RETURN(ChecksumSpec spec, ChecksumOf(request));
  if (!spec.expected.empty() && Base64Encode(lake::Digest(spec.algorithm, body)) != spec.expected) {
    return Err("BadDigest", "The checksum you specified did not match the calculated checksum.");
  }
  auto doc = ParseXml(body);
  if (!doc || doc->name != "Delete") {
    return Err("MalformedXML", "The XML you provided was not well-formed or did not validate "
                               "against our published schema");
  }
  std::vector<const XmlNode*> objects = doc->Children("Object");
  if (objects.empty() || objects.size() > 1000) {
    return Err("MalformedXML", "The XML you provided was not well-formed or did not validate "
                               "against our published schema");
  }
  bool quiet = false;
  if (const XmlNode* q = doc->Child("Quiet")) quiet = q->text == "true";
  XmlWriter xml("DeleteResult");
  for (const XmlNode* object : objects) {
    const XmlNode* key = object->Child("Key");
    if (key == nullptr) {
      return Err("MalformedXML", "The XML you provided was not well-formed or did not validate "
                                 "against our published schema");
    }
    Status deleted = key->text.size() > lake::kMaxKeyBytes
                         ? Err("KeyTooLongError", "Your key is too long")
                         : lake.DeleteObject(request.bucket, key->text);
    if (deleted.ok()) {
      if (!quiet) xml.Open("Deleted").Element("Key", key->text).Close("Deleted");
    } else {
      xml.Open("Error")
          .Element("Key", key->text)
          .Element("Code", CodeOf(deleted))
          .Element("Message", deleted.code() == ErrorCode::kInternal ? "We encountered an internal error." : deleted.message())
          .Close("Error");
    }
  }
  return Xml(200, xml.Finish("DeleteResult"));
}

Result<RestResponse> GetTagging(lake::Lake& lake, const Request& request) {
  ASSIGN_OR_RETURN(ObjectMeta meta, lake.HeadObject(request.bucket, request.key));
  XmlWriter xml("Tagging");
  xml.Open("TagSet");
  for (const auto& [key, value] : meta.tags) {
    xml.Open("Tag").Element("Key", key).Element("Value", value).Close("Tag");
  }
  xml.Close("TagSet");
  return Xml(200, xml.Finish("Tagging"));
}

Result<RestResponse> PutTagging(lake::Lake& lake, const Request& request) {
  auto doc = ParseXml(request.raw->body);
  if (!doc || doc->name != "Tagging") {
    return Err("MalformedXML", "The XML you provided was not well-formed or did not validate "
                               "against our published schema");
  }
  lake::KeyValues tags;
  if (const XmlNode* set = doc->Child("TagSet")) {
    for (const XmlNode* tag : set->Children("Tag")) {
      const XmlNode* key = tag->Child("Key");
      const XmlNode* value = tag->Child("Value");
      if (key == nullptr) return Err("MalformedXML", "A tag has no Key");
      if (key->text.size() > 128 || (value && value->text.size() > 256)) {
        return Err("InvalidTag", "The TagKey you have provided is too long, max 128");
      }
      for (const auto& existing : tags) {
        if (existing.first == key->text) {
          return Err("InvalidTag", "Cannot provide multiple Tags with the same key");
        }
      }
      tags.emplace_back(key->text, value ? value->text : "");
    }
  }
  if (tags.size() > 10) return Err("BadRequest", "Object tags cannot be greater than 10");
  RETURN_IF_ERROR(lake.SetTags(request.bucket, request.key, std::move(tags)));
  return Empty(200);
}

// --- multipart

Result<lake::UploadInfo> FindUpload(lake::Lake& lake, const Request& request) {
  ASSIGN_OR_RETURN(lake::UploadInfo upload, lake.GetUpload(request.bucket, request.Param("uploadId")));
  if (upload.key != request.key) {
    return Err("NoSuchUpload", "The specified upload does not exist. The upload ID may be "
                               "invalid, or the upload may have been aborted or completed.");
  }
  return upload;
}

Result<RestResponse> CreateMultipartUpload(lake::Lake& lake, const Request& request) {
  RETURN_IF_ERROR(CheckKey(request));
  ASSIGN_OR_RETURN(ObjectMeta meta, MetaFromHeaders(request));
  if (auto algorithm = request.Header("x-amz-checksum-algorithm")) {
    auto parsed = lake::ParseChecksumAlgorithm(*algorithm);
    if (!parsed) return Err("InvalidRequest", "Checksum algorithm provided is unsupported.");
    meta.checksum_algorithm = std::string(lake::ChecksumAlgorithmName(*parsed));
  }
  ASSIGN_OR_RETURN(lake::UploadInfo upload, lake.CreateUpload(request.bucket, request.key, meta));
  XmlWriter xml("InitiateMultipartUploadResult");
  xml.Element("Bucket", request.bucket).Element("Key", request.key).Element("UploadId", upload.upload_id);
  RestResponse response = Xml(200, xml.Finish("InitiateMultipartUploadResult"));
  if (!meta.checksum_algorithm.empty()) {
    response.headers.emplace_back("x-amz-checksum-algorithm", meta.checksum_algorithm);
    response.headers.emplace_back("x-amz-checksum-type", "COMPOSITE");
  }
  return response;
}

Result<int> PartNumberOf(const Request& request) {
  auto part = ParseInt(request.Param("partNumber"));
  if (!part || *part < 1 || *part > kMaxParts) {
    return Err("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
  }
  return static_cast<int>(*part);
}

Result<RestResponse> UploadPart(lake::Lake& lake, const Request& request, const S3Options& options) {
  ASSIGN_OR_RETURN(int part_number, PartNumberOf(request));
  ASSIGN_OR_RETURN(lake::UploadInfo upload, FindUpload(lake, request));
  ASSIGN_OR_RETURN(StagedBody body, StageBody(lake, request, options));
  lake::PartInfo part{.part_number = part_number,
                      .etag = "\"" + HexEncode(body.md5) + "\"",
                      .md5 = body.md5};
  auto upload_algorithm = lake::ParseChecksumAlgorithm(upload.meta.checksum_algorithm);
  if (upload_algorithm && body.spec.algorithm == *upload_algorithm) {
    part.checksum_value = Base64Encode(body.checksum);
  } else if (upload_algorithm) {
    // The part came without the upload's checksum: compute it for the composite.
    lake::Hasher hasher(*upload_algorithm);
    RETURN_IF_ERROR(lake::Lake::ReadRange(body.file.fd(), 0, body.file.size(),
                                          [&](std::string_view chunk) {
                                            hasher.Update(chunk);
                                            return Status::Ok();
                                          }));
    part.checksum_value = Base64Encode(hasher.Finish());
  }
  std::string etag = part.etag;
  RETURN_IF_ERROR(lake.PutPart(upload, std::move(body.file), part));
  RestResponse response = Empty(200);
  response.headers.emplace_back("ETag", etag);
  if (body.spec.algorithm != ChecksumAlgorithm::kNone) {
    response.headers.emplace_back(std::string(lake::ChecksumHeaderName(body.spec.algorithm)),
                                  Base64Encode(body.checksum));
  }
  return response;
}

Result<RestResponse> UploadPartCopy(lake::Lake& lake, const Request& request, const Clock& clock) {
  ASSIGN_OR_RETURN(int part_number, PartNumberOf(request));
  ASSIGN_OR_RETURN(lake::UploadInfo upload, FindUpload(lake, request));
  ASSIGN_OR_RETURN(auto source, ParseCopySource(request.HeaderOr("x-amz-copy-source")));
  ASSIGN_OR_RETURN(lake::OpenObject object, lake.Open(source.first, source.second));
  RETURN_IF_ERROR(CheckConditions(request, object.meta, "x-amz-copy-source-", true));
  uint64_t offset = 0, length = object.meta.size;
  if (auto range_header = request.Header("x-amz-copy-source-range")) {
    std::string_view spec = *range_header;
    size_t dash = spec.find('-');
    std::optional<int64_t> first, last;
    if (spec.starts_with("bytes=") && dash != std::string_view::npos) {
      first = ParseInt(spec.substr(6, dash - 6));
      last = ParseInt(spec.substr(dash + 1));
    }
    if (!first || !last || *first < 0 || *last < *first ||
        static_cast<uint64_t>(*last) >= object.meta.size) {
      return Err("InvalidArgument", "Range specified is not valid for source object of size: " +
                                        std::to_string(object.meta.size));
    }
    offset = static_cast<uint64_t>(*first);
    length = static_cast<uint64_t>(*last - *first + 1);
  }
  ASSIGN_OR_RETURN(lake::StagedFile file, lake.StageRange(object, offset, length));
  lake::Hasher md5(ChecksumAlgorithm::kMd5);
  auto upload_algorithm = lake::ParseChecksumAlgorithm(upload.meta.checksum_algorithm);
  lake::Hasher checksum(upload_algorithm.value_or(ChecksumAlgorithm::kNone));
  RETURN_IF_ERROR(lake::Lake::ReadRange(file.fd(), 0, length, [&](std::string_view chunk) {
    md5.Update(chunk);
    checksum.Update(chunk);
    return Status::Ok();
  }));
  lake::PartInfo part{.part_number = part_number};
  part.md5 = md5.Finish();
  part.etag = "\"" + HexEncode(part.md5) + "\"";
  if (upload_algorithm) part.checksum_value = Base64Encode(checksum.Finish());
  std::string etag = part.etag;
  RETURN_IF_ERROR(lake.PutPart(upload, std::move(file), part));
  XmlWriter xml("CopyPartResult");
  xml.Element("ETag", etag).Element("LastModified", FormatIso(clock.NowMillis()));
  return Xml(200, xml.Finish("CopyPartResult"));
}

Result<RestResponse> CompleteMultipartUpload(lake::Lake& lake, const Request& request) {
  ASSIGN_OR_RETURN(lake::UploadInfo upload, FindUpload(lake, request));
  auto doc = ParseXml(request.raw->body);
  auto malformed = [] {
    return Err("MalformedXML", "The XML you provided was not well-formed or did not validate "
                               "against our published schema");
  };
  if (!doc || doc->name != "CompleteMultipartUpload") return malformed();
  std::vector<const XmlNode*> requested = doc->Children("Part");
  if (requested.empty()) return malformed();
  ASSIGN_OR_RETURN(std::vector<lake::PartInfo> stored, lake.ListParts(upload));
  std::map<int, const lake::PartInfo*> by_number;
  for (const auto& part : stored) by_number[part.part_number] = &part;

  std::vector<lake::PartInfo> chosen;
  int previous = 0;
  for (const XmlNode* node : requested) {
    const XmlNode* number_node = node->Child("PartNumber");
    const XmlNode* etag_node = node->Child("ETag");
    if (number_node == nullptr || etag_node == nullptr) return malformed();
    auto number = ParseInt(number_node->text);
    if (!number) return malformed();
    if (*number <= previous) {
      return Err("InvalidPartOrder", "The list of parts was not in ascending order. The parts "
                                     "list must be specified in order by part number.");
    }
    previous = static_cast<int>(*number);
    auto it = by_number.find(previous);
    if (it == by_number.end() || StripQuotes(it->second->etag) != StripQuotes(etag_node->text)) {
      return Err("InvalidPart", "One or more of the specified parts could not be found. The part "
                                "may not have been uploaded, or the specified entity tag may not "
                                "match the part's entity tag.");
    }
    chosen.push_back(*it->second);
  }
  for (size_t i = 0; i + 1 < chosen.size(); ++i) {
    if (chosen[i].size < kMinPartSize) {
      return Err("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size");
    }
  }
  std::string md5s;
  std::string checksums;
  for (const auto& part : chosen) {
    md5s += part.md5;
    auto raw = Base64Decode(part.checksum_value);
    if (raw) checksums += *raw;
  }
  ObjectMeta meta = upload.meta;
  meta.etag = "\"" + HexEncode(Md5(md5s)) + "-" + std::to_string(chosen.size()) + "\"";
  meta.parts_count = static_cast<uint32_t>(chosen.size());
  if (auto algorithm = lake::ParseChecksumAlgorithm(meta.checksum_algorithm)) {
    meta.checksum_value =
        Base64Encode(lake::Digest(*algorithm, checksums)) + "-" + std::to_string(chosen.size());
    meta.checksum_type = "COMPOSITE";
  }
  ASSIGN_OR_RETURN(ObjectMeta result, lake.CompleteUpload(upload, chosen, meta));
  XmlWriter xml("CompleteMultipartUploadResult");
  xml.Element("Location", "/" + request.bucket + "/" + request.key)
      .Element("Bucket", request.bucket)
      .Element("Key", request.key)
      .Element("ETag", result.etag);
  if (!result.checksum_algorithm.empty()) {
    xml.Element("Checksum" + result.checksum_algorithm, result.checksum_value);
    xml.Element("ChecksumType", result.checksum_type);
  }
  return Xml(200, xml.Finish("CompleteMultipartUploadResult"));
}

Result<RestResponse> AbortMultipartUpload(lake::Lake& lake, const Request& request) {
  ASSIGN_OR_RETURN(lake::UploadInfo upload, FindUpload(lake, request));
  RETURN_IF_ERROR(lake.AbortUpload(upload));
  return Empty(204);
}

Result<RestResponse> ListParts(lake::Lake& lake, const Request& request) {
  ASSIGN_OR_RETURN(lake::UploadInfo upload, FindUpload(lake, request));
  ASSIGN_OR_RETURN(std::vector<lake::PartInfo> parts, lake.ListParts(upload));
  int max_parts = 1000;
  if (request.Has("max-parts")) {
    auto parsed = ParseInt(request.Param("max-parts"));
    if (!parsed || *parsed < 0) return Err("InvalidArgument", "max-parts must be an integer");
    max_parts = static_cast<int>(std::min<int64_t>(*parsed, 1000));
  }
  int marker = 0;
  if (request.Has("part-number-marker")) {
    auto parsed = ParseInt(request.Param("part-number-marker"));
    if (!parsed || *parsed < 0) return Err("InvalidArgument", "part-number-marker must be an integer");
    marker = static_cast<int>(*parsed);
  }
  XmlWriter xml("ListPartsResult");
  xml.Element("Bucket", request.bucket).Element("Key", request.key).Element("UploadId", upload.upload_id);
  xml.Element("PartNumberMarker", std::to_string(marker));
  std::vector<const lake::PartInfo*> page;
  bool truncated = false;
  for (const auto& part : parts) {
    if (part.part_number <= marker) continue;
    if (static_cast<int>(page.size()) >= max_parts) {
      truncated = true;
      break;
    }
    page.push_back(&part);
  }
  if (!page.empty()) xml.Element("NextPartNumberMarker", std::to_string(page.back()->part_number));
  xml.Element("MaxParts", std::to_string(max_parts)).Element("IsTruncated", truncated ? "true" : "false");
  xml.Open("Initiator").Element("ID", kOwnerId).Element("DisplayName", kOwnerName).Close("Initiator");
  xml.Open("Owner").Element("ID", kOwnerId).Element("DisplayName", kOwnerName).Close("Owner");
  xml.Element("StorageClass", "STANDARD");
  if (!upload.meta.checksum_algorithm.empty()) {
    xml.Element("ChecksumAlgorithm", upload.meta.checksum_algorithm);
  }
  for (const lake::PartInfo* part : page) {
    xml.Open("Part")
        .Element("PartNumber", std::to_string(part->part_number))
        .Element("LastModified", FormatIso(part->last_modified_ms))
        .Element("ETag", part->etag)
        .Element("Size", std::to_string(part->size));
    if (!part->checksum_value.empty()) {
      xml.Element("Checksum" + upload.meta.checksum_algorithm, part->checksum_value);
    }
    xml.Close("Part");
  }
  return Xml(200, xml.Finish("ListPartsResult"));
}

Result<RestResponse> ListMultipartUploads(lake::Lake& lake, const Request& request) {
  ASSIGN_OR_RETURN(std::vector<lake::UploadInfo> uploads, lake.ListUploads(request.bucket));
  std::string prefix = request.Param("prefix");
  XmlWriter xml("ListMultipartUploadsResult");
  xml.Element("Bucket", request.bucket)
      .Element("KeyMarker", request.Param("key-marker"))
      .Element("UploadIdMarker", request.Param("upload-id-marker"))
      .Element("Prefix", prefix)
      .Element("MaxUploads", "1000")
      .Element("IsTruncated", "false");
  for (const auto& upload : uploads) {
    if (!upload.key.starts_with(prefix)) continue;
    xml.Open("Upload")
        .Element("Key", upload.key)
        .Element("UploadId", upload.upload_id)
        .Open("Initiator").Element("ID", kOwnerId).Element("DisplayName", kOwnerName).Close("Initiator")
        .Open("Owner").Element("ID", kOwnerId).Element("DisplayName", kOwnerName).Close("Owner")
        .Element("StorageClass", "STANDARD")
        .Element("Initiated", FormatIso(upload.initiated_ms))
        .Close("Upload");
  }
  return Xml(200, xml.Finish("ListMultipartUploadsResult"));
}

// Sub-resources we recognise but do not implement: a clear 501 instead of a silent 200.
constexpr std::string_view kUnsupportedSubresources[] = {
    "acl", "policy", "cors", "lifecycle", "website", "replication", "encryption",
    "notification", "logging", "object-lock", "publicAccessBlock", "ownershipControls",
    "accelerate", "requestPayment", "analytics", "inventory", "metrics", "intelligent-tiering",
    "restore", "select", "retention", "legal-hold", "torrent", "versions", "attributes",
    "policyStatus"};

std::optional<std::string> UnsupportedSubresource(const Request& request) {
  for (std::string_view name : kUnsupportedSubresources) {
    if (request.Has(name)) return std::string(name);
  }
  if (!request.has_key && request.Has("tagging")) return std::string("tagging");
  return std::nullopt;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Routing

Result<RestResponse> S3Service::Handle(const http::RestRequest& raw, const RequestContext& context) {
  Request request;
  request.raw = &raw;
  request.context = &context;
  request.method = std::string(raw.method);

  // Query parameters, decoded.
  std::string_view query = raw.query;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (!pair.empty()) {
      request.query.emplace(QueryDecode(pair.substr(0, eq)),
                            eq == std::string_view::npos ? "" : QueryDecode(pair.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }

  // Virtual-host style: "<bucket>.<base>[:port]", optionally "<bucket>.s3[.<region>].<base>".
  std::string host = ToLower(request.HeaderOr("host"));
  if (size_t colon = host.rfind(':'); colon != std::string::npos && host.find(']') == std::string::npos) {
    host.resize(colon);
  }
  std::string virtual_bucket;
  for (const std::string& base : options_.base_hosts) {
    if (host.size() > base.size() + 1 && host.ends_with("." + base)) {
      std::string labels = host.substr(0, host.size() - base.size() - 1);
      size_t s3 = labels.rfind(".s3");
      if (labels == "s3" || labels.starts_with("s3.")) {
        labels.clear();
      } else if (s3 != std::string::npos &&
                 (s3 + 3 == labels.size() || labels[s3 + 3] == '.' || labels[s3 + 3] == '-')) {
        labels.resize(s3);
      }
      virtual_bucket = labels;
      break;
    }
  }
  std::string path = http::sigv4::UriDecode(raw.path);
  std::string_view rest = path;
  if (rest.starts_with("/")) rest.remove_prefix(1);
  if (!virtual_bucket.empty()) {
    request.bucket = virtual_bucket;
    request.key = std::string(rest);
    request.has_key = !rest.empty();
  } else {
    size_t slash = rest.find('/');
    request.bucket = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) {
      request.key = std::string(rest.substr(slash + 1));
      request.has_key = !request.key.empty();
    }
  }

  Result<RestResponse> result = Dispatch(request);
  if (!result.ok()) return RenderS3Error(result.status(), request);
  return result;
}

Result<RestResponse> S3Service::Dispatch(Request& request) {
  const std::string& method = request.method;
  auto not_allowed = [&] {
    return Err("MethodNotAllowed", "The specified method is not allowed against this resource.");
  };
  if (request.bucket.empty()) {
    if (method == "GET") return ListBuckets(lake_);
    return not_allowed();
  }
  if (auto unsupported = UnsupportedSubresource(request)) {
    return Err("NotImplemented", "salespipe does not implement the S3 '" + *unsupported +
                                     "' sub-resource (" + method + "); see docs/compat/s3.md");
  }
  if (!request.has_key) {
    if (method == "PUT") {
      if (request.Has("versioning")) {
        RETURN_IF_ERROR(lake_.GetBucket(request.bucket).status());
        auto doc = ParseXml(request.raw->body);
        const XmlNode* status = doc ? doc->Child("Status") : nullptr;
        if (status != nullptr && status->text == "Enabled") {
          return Err("NotImplemented",
                     "salespipe does not implement object versioning: PutBucketVersioning with "
                     "Status Enabled is not supported (versioning stays off)");
        }
        return Empty(200);
      }
      return CreateBucket(lake_, request);
    }
    if (method == "GET") {
      if (request.Has("location")) {
        ASSIGN_OR_RETURN(lake::BucketInfo bucket, lake_.GetBucket(request.bucket));
        XmlWriter xml("LocationConstraint");
        std::string body = xml.Finish("LocationConstraint");
        if (bucket.region != "us-east-1") {
          std::string closing = "</LocationConstraint>";
          body.insert(body.size() - closing.size(), bucket.region);
        }
        return Xml(200, body);
      }
      if (request.Has("versioning")) {
        RETURN_IF_ERROR(lake_.GetBucket(request.bucket).status());
        return Xml(200, XmlWriter("VersioningConfiguration").Finish("VersioningConfiguration"));
      }
      if (request.Has("uploads")) return ListMultipartUploads(lake_, request);
      return ListObjects(lake_, request, request.Param("list-type") == "2");
    }
    if (method == "HEAD") {
      ASSIGN_OR_RETURN(lake::BucketInfo bucket, lake_.GetBucket(request.bucket));
      RestResponse response = Empty(200);
      response.headers.emplace_back("x-amz-bucket-region", bucket.region);
      return response;
    }
    if (method == "DELETE") {
      RETURN_IF_ERROR(lake_.DeleteBucket(request.bucket));
      return Empty(204);
    }
    if (method == "POST") {
      if (request.Has("delete")) return DeleteObjects(lake_, request);
      return Err("NotImplemented", "salespipe does not implement browser POST uploads");
    }
    return not_allowed();
  }
  if (method == "PUT") {
    if (request.Has("tagging")) return PutTagging(lake_, request);
    if (request.Has("uploadId")) {
      if (request.Header("x-amz-copy-source")) return UploadPartCopy(lake_, request, clock_);
      return UploadPart(lake_, request, options_);
    }
    if (request.Header("x-amz-copy-source")) return CopyObject(lake_, request);
    return PutObject(lake_, request, options_);
  }
  if (method == "GET" || method == "HEAD") {
    if (method == "GET" && request.Has("tagging")) return GetTagging(lake_, request);
    if (method == "GET" && request.Has("uploadId")) return ListParts(lake_, request);
    return GetObject(lake_, request);
  }
  if (method == "DELETE") {
    if (request.Has("tagging")) {
      RETURN_IF_ERROR(lake_.SetTags(request.bucket, request.key, {}));
      return Empty(204);
    }
    if (request.Has("uploadId")) return AbortMultipartUpload(lake_, request);
    RETURN_IF_ERROR(CheckKey(request));
    RETURN_IF_ERROR(lake_.DeleteObject(request.bucket, request.key));
    return Empty(204);
  }
  if (method == "POST") {
    if (request.Has("uploads")) return CreateMultipartUpload(lake_, request);
    if (request.Has("uploadId")) return CompleteMultipartUpload(lake_, request);
    return not_allowed();
  }
  return not_allowed();
}

}  // namespace salespipe::services::s3
