#include "services/s3/s3_service.h"

#include <algorithm>
#include <thread>

#include "http/sigv4.h"
#include "lake/checksum.h"
#include "services/s3/s3_body.h"
#include "services/s3/s3_ops.h"
#include "services/s3/s3_request.h"
#include "services/s3/xml.h"

namespace salespipe::services::s3 {

S3Service::S3Service(lake::Lake& lake, const Clock& clock, S3Options options)
    : lake_(lake),
      clock_(clock),
      options_(std::move(options)),
      // A hashing thread needs a core of its own: the io thread and the client take two. On
      // the 2-core dev VM, hashing beside the io thread made 64 MB PUTs slower (interleaved
      // A/B: 238-304 vs 430-459 MB/s, bench/s3/README.md), so there it stays inline.
      hash_slots_(std::max(0, static_cast<int>(std::thread::hardware_concurrency()) - 2)) {}

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
  return std::make_unique<SpoolHashes>(algorithm, sha256, &hash_slots_);
}

uint64_t S3Service::max_spooled_body_bytes() const {
  // The encoded body of a 5 GiB aws-chunked upload is a little larger than 5 GiB.
  return kMaxSinglePut + (64ull << 20);
}

namespace {

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
