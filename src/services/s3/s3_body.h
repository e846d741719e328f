#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "http/rest_handler.h"
#include "lake/checksum.h"
#include "lake/lake.h"
#include "services/s3/s3_request.h"

// Request bodies: aws-chunked decoding, hashing (MD5 for the ETag, flexible checksums,
// SHA-256 in --auth verify) and staging into the lake.
namespace salespipe::services::s3 {

struct ChecksumSpec {
  ChecksumAlgorithm algorithm = ChecksumAlgorithm::kNone;
  std::string expected;  // base64 from a header, or from the trailer after decoding
  bool from_trailer = false;
};

// The flexible checksum a request carries (header, or announced trailer).
// Errors: InvalidRequest for unknown or conflicting algorithms.
Result<ChecksumSpec> ChecksumOf(const Request& request);

struct StagedBody {
  lake::StagedFile file;
  std::string md5;       // raw
  std::string checksum;  // raw digest of spec.algorithm, or empty
  ChecksumSpec spec;
};

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

// Reads the request body (memory or spool file), undoing aws-chunked framing, into a staged
// file while hashing it. Verifies Content-MD5 and the flexible checksum: on a mismatch nothing
// is kept (the staged file is removed with the result).
Result<StagedBody> StageBody(lake::Lake& lake, const Request& request, const S3Options& options);

}  // namespace salespipe::services::s3
