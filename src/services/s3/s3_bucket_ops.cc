#include "services/s3/s3_ops.h"

#include "services/s3/xml.h"

namespace salespipe::services::s3 {

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

}  // namespace salespipe::services::s3
