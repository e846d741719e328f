#include "services/s3/s3_ops.h"

#include <algorithm>

#include "common/crypto.h"
#include "lake/checksum.h"
#include "services/s3/s3_body.h"
#include "services/s3/xml.h"

namespace salespipe::services::s3 {

namespace {

Result<lake::UploadInfo> FindUpload(lake::Lake& lake, const Request& request) {
  ASSIGN_OR_RETURN(lake::UploadInfo upload, lake.GetUpload(request.bucket, request.Param("uploadId")));
  if (upload.key != request.key) {
    return Err("NoSuchUpload", "The specified upload does not exist. The upload ID may be "
                               "invalid, or the upload may have been aborted or completed.");
  }
  return upload;
}

}  // namespace

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

namespace {

Result<int> PartNumberOf(const Request& request) {
  auto part = ParseInt(request.Param("partNumber"));
  if (!part || *part < 1 || *part > kMaxParts) {
    return Err("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
  }
  return static_cast<int>(*part);
}

}  // namespace

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

}  // namespace salespipe::services::s3
