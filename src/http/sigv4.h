#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

// AWS Signature Version 4 as pure functions (spec 1.7): parsing the Authorization header and
// the presigned query form, building the canonical request, the string to sign and the
// signature. No I/O and no state; all functions are thread-safe.
namespace salespipe::http::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// The parts of a SigV4 signature. The views point into the parsed input (the Authorization
// header value) or into the `storage` string handed to ParsePresignedQuery; they live as long
// as that text.
struct SigV4Auth {
  std::string_view access_key_id;
  std::string_view date;            // credential scope date, yyyymmdd
  std::string_view region;          // credential scope region
  std::string_view service;         // credential scope service (signing name)
  std::string_view signed_headers;  // "content-type;host;x-amz-date", lower-case, as sent
  std::string_view signature;       // 64 lower-case hex digits
  // Presigned form only: X-Amz-Date and X-Amz-Expires. The header form takes the date from
  // the X-Amz-Date header instead.
  std::string_view amz_date;
  std::string_view expires;
  bool presigned = false;
};

// Parses `AWS4-HMAC-SHA256 Credential=AKID/yyyymmdd/region/service/aws4_request,
// SignedHeaders=a;b, Signature=hex`. Whitespace around ',' and '=' is tolerated.
// Errors: kInvalidArgument with an AWS-style IncompleteSignatureException message when a part
// is missing or malformed, or when the algorithm is not AWS4-HMAC-SHA256.
Result<SigV4Auth> ParseAuthorizationHeader(std::string_view value);

// Whether the raw query string carries presigned-URL authentication (X-Amz-Credential).
bool HasPresignedQuery(std::string_view raw_query);

// Parses the presigned query form (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature) from a raw query (no leading '?').
// The decoded values are kept in `*storage`, which the result points into.
// Errors: kInvalidArgument (IncompleteSignatureException message) when a part is missing.
Result<SigV4Auth> ParsePresignedQuery(std::string_view raw_query, std::string* storage);

// Parses "AKID/yyyymmdd/region/service/aws4_request" into `auth`'s credential fields.
// Returns false if the text does not have five '/'-separated parts ending in aws4_request.
bool ParseCredential(std::string_view credential, SigV4Auth* auth);

// RFC 3986 percent-encoding: A-Z a-z 0-9 '-' '.' '_' '~' stay, everything else becomes %XX
// (upper-case hex). '/' stays only when `encode_slash` is false.
std::string UriEncode(std::string_view text, bool encode_slash);
// Decodes %XX sequences; '+' stays '+'. Malformed escapes are kept as they are.
std::string UriDecode(std::string_view text);

// The canonical URI for `raw_path` as received on the wire (still percent-encoded once).
// S3 (`s3` true) signs the path as sent. Every other service removes dot segments and empty
// segments and percent-encodes the path once more (so a segment is encoded twice relative to
// its raw value), as botocore and the other SDKs do. An empty path is "/".
std::string CanonicalUri(std::string_view raw_path, bool s3);

// The canonical query string: parameters decoded and re-encoded (RFC 3986), sorted by name
// then value, joined by '&'. A parameter without '=' gets an empty value. When
// `drop_signature` is true, X-Amz-Signature is left out (presigned form).
std::string CanonicalQuery(std::string_view raw_query, bool drop_signature);

struct Header {
  std::string_view name;  // any case
  std::string_view value;
};

// The canonical headers block: for each name in `signed_headers` (';'-separated,
// lower-case), "name:value\n" where the value is every header of that name in `headers`
// (case-insensitive), trimmed, with inner runs of spaces collapsed, joined by ','.
std::string CanonicalHeaders(std::span<const Header> headers, std::string_view signed_headers);

// "method\nuri\nquery\nheaders\nsigned_headers\npayload_hash" (headers already end in '\n').
std::string CanonicalRequest(std::string_view method, std::string_view canonical_uri,
                             std::string_view canonical_query, std::string_view canonical_headers,
                             std::string_view signed_headers, std::string_view payload_hash);

// "AWS4-HMAC-SHA256\n<amz_date>\n<date>/<region>/<service>/aws4_request\n<hex sha256(cr)>".
std::string StringToSign(std::string_view amz_date, std::string_view date, std::string_view region,
                         std::string_view service, std::string_view canonical_request);

// HMAC chain over "AWS4"+secret, date, region, service, "aws4_request" (32 raw bytes).
std::string SigningKey(std::string_view secret_access_key, std::string_view date,
                       std::string_view region, std::string_view service);

// Lower-case hex HMAC-SHA256 of `string_to_sign` under `signing_key`.
std::string Signature(std::string_view signing_key, std::string_view string_to_sign);

// Compares two signatures in time independent of where they differ.
bool SignaturesEqual(std::string_view a, std::string_view b);

// Parses "yyyymmddTHHMMSSZ" (UTC). nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> ParseAmzDate(std::string_view text);
// Formats `t` as "yyyymmddTHHMMSSZ" (UTC, whole seconds).
std::string FormatAmzDate(std::chrono::system_clock::time_point t);

}  // namespace salespipe::http::sigv4
