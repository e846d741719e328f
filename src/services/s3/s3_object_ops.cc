#include "services/s3/s3_ops.h"

#include <algorithm>

#include "common/crypto.h"
#include "lake/checksum.h"
#include "lake/object_path.h"
#include "services/s3/s3_body.h"
#include "services/s3/xml.h"

namespace salespipe::services::s3 {

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

}  // namespace salespipe::services::s3
