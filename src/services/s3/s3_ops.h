#pragma once

#include "common/clock.h"
#include "lake/lake.h"
#include "services/s3/s3_request.h"

// S3's operations, one function each, over the lake. Each returns the response or an error
// Status carrying S3's code (Err) for S3Service::Handle to render. Thread-safe.
namespace salespipe::services::s3 {

// Buckets (s3_bucket_ops.cc).
Result<RestResponse> ListBuckets(lake::Lake& lake);
Result<RestResponse> CreateBucket(lake::Lake& lake, const Request& request);

// ListObjects (v1) and ListObjectsV2 (s3_listing.cc).
Result<RestResponse> ListObjects(lake::Lake& lake, const Request& request, bool v2);

// Objects (s3_object_ops.cc).
Result<RestResponse> PutObject(lake::Lake& lake, const Request& request, const S3Options& options);
Result<RestResponse> GetObject(lake::Lake& lake, const Request& request);  // and HEAD
Result<RestResponse> CopyObject(lake::Lake& lake, const Request& request);
Result<RestResponse> DeleteObjects(lake::Lake& lake, const Request& request);
Result<RestResponse> GetTagging(lake::Lake& lake, const Request& request);
Result<RestResponse> PutTagging(lake::Lake& lake, const Request& request);

// Multipart uploads (s3_multipart_ops.cc).
Result<RestResponse> CreateMultipartUpload(lake::Lake& lake, const Request& request);
Result<RestResponse> UploadPart(lake::Lake& lake, const Request& request,
                                const S3Options& options);
Result<RestResponse> UploadPartCopy(lake::Lake& lake, const Request& request, const Clock& clock);
Result<RestResponse> CompleteMultipartUpload(lake::Lake& lake, const Request& request);
Result<RestResponse> AbortMultipartUpload(lake::Lake& lake, const Request& request);
Result<RestResponse> ListParts(lake::Lake& lake, const Request& request);
Result<RestResponse> ListMultipartUploads(lake::Lake& lake, const Request& request);

}  // namespace salespipe::services::s3
