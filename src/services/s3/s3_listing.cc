#include "services/s3/s3_ops.h"

#include "common/crypto.h"
#include "services/s3/xml.h"

namespace salespipe::services::s3 {

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

}  // namespace salespipe::services::s3
