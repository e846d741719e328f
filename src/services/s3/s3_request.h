#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"
#include "http/rest_handler.h"
#include "lake/checksum.h"
#include "lake/lake.h"
#include "services/s3/s3_service.h"
#include "services/service.h"

// The parts of S3's request handling every operation shares: the parsed request, S3's error
// codes, dates, conditional headers, ranges and object metadata headers. Pure; thread-safe.
namespace salespipe::services::s3 {

using http::RestResponse;
using lake::ChecksumAlgorithm;
using lake::ObjectMeta;

inline constexpr uint64_t kMaxSinglePut = 5ull << 30;
inline constexpr uint64_t kMinPartSize = 5ull << 20;
inline constexpr int kMaxParts = 10000;
inline constexpr std::string_view kXml = "application/xml";
inline constexpr std::string_view kOwnerId =
    "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
inline constexpr std::string_view kOwnerName = "webfile";

// --- Errors
// The HTTP status of each S3 error code we answer (spec 8.3); 400 for others.
int StatusOfCode(std::string_view code);
// A Status carrying S3 error `code` (and the canonical code its HTTP status implies).
Status Err(std::string_view code, std::string message);
// The S3 error code of `status`: its aws_code, else a default for its ErrorCode.
std::string CodeOf(const Status& status);

// --- Small helpers
char Lower(char c);
std::string ToLower(std::string_view s);
bool IEquals(std::string_view a, std::string_view b);
// 2024-05-01T12:00:00.000Z
std::string FormatIso(int64_t ms);
// Wed, 01 May 2024 12:00:00 GMT
std::string FormatHttpDate(int64_t ms);
// RFC 1123 / RFC 850 / asctime dates (epoch ms); nullopt if none parses.
std::optional<int64_t> ParseHttpDate(std::string_view text);
std::optional<int64_t> ParseInt(std::string_view text);
// Percent-decoding for query values ('+' is a space in query strings).
std::string QueryDecode(std::string_view text);
// EncodingType=url for listings: like form encoding but '/' stays.
std::string UrlEncodeForList(std::string_view text);
std::string StripQuotes(std::string_view etag);
// Whether an If-Match / If-None-Match list matches `etag`.
bool EtagListMatches(std::string_view list, std::string_view etag);
bool ValidBucketName(std::string_view name);

// --- The parsed request
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

using Request = S3Service::Request;

// --- Responses
RestResponse Xml(int status, std::string body);
RestResponse Empty(int status);
// S3's XML <Error> for `status` (HEAD-style 304 without a body); logs internal errors.
RestResponse RenderS3Error(const Status& status, const Request& request);

// --- Headers
// Descriptive metadata from request headers (PutObject, CopyObject REPLACE, multipart).
Result<ObjectMeta> MetaFromHeaders(const Request& request);
void AddMetaHeaders(const ObjectMeta& meta, RestResponse* response);
void AddChecksumHeader(const ObjectMeta& meta, RestResponse* response);
// Errors: KeyTooLongError.
Status CheckKey(const Request& request);
// Parses "/bucket/key[?versionId=...]" (URL-encoded, leading '/' optional).
Result<std::pair<std::string, std::string>> ParseCopySource(std::string_view header);

// "bytes=a-b" against `size`: [first, last], nullopt for a malformed range (ignored), or
// InvalidRange.
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;
};
Result<std::optional<ByteRange>> ParseRange(std::string_view header, uint64_t size);

// RFC 7232 order: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since. `prefix`
// selects the header family ("" or "x-amz-copy-source-").
Status CheckConditions(const Request& request, const ObjectMeta& meta, std::string_view prefix,
                       bool not_modified_is_412);

}  // namespace salespipe::services::s3
