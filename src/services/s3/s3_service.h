#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "http/auth.h"
#include "http/rest_handler.h"
#include "lake/lake.h"

// S3's rest-xml API over the lake (spec 1.4, section 8): path-style and virtual-host
// addressing, objects, listings, multipart uploads, tagging, aws-chunked bodies and flexible
// checksums. Errors are rendered here (S3 has more codes than the canonical table can name,
// and HEAD errors carry no body).
namespace salespipe::services::s3 {

struct S3Options {
  // Host names whose sub-domains name buckets ("bucket.localhost:4566").
  std::vector<std::string> base_hosts = {"localhost", "localhost.localstack.cloud"};
  // For aws-chunked chunk signatures in --auth verify (the edge checks the request itself).
  http::AuthMode auth_mode = http::AuthMode::kOff;
  const http::CredentialStore* credentials = nullptr;
};

// Thread-safe: Handle runs on many worker threads at once.
class S3Service final : public http::RestHandler {
 public:
  // `lake` and `clock` must outlive the service.
  S3Service(lake::Lake& lake, const Clock& clock, S3Options options);

  std::string_view service_name() const override { return "s3"; }
  std::string spool_directory() const override { return lake_.staging_dir(); }
  uint64_t max_spooled_body_bytes() const override;
  // Hashes a plain (not aws-chunked) body while it is spooled: MD5 for the ETag and the
  // flexible checksum its headers name, so PutObject and UploadPart need not read it again.
  std::unique_ptr<http::BodyObserver> NewBodyObserver(
      const std::vector<http::sigv4::Header>& headers) const override;

  Result<http::RestResponse> Handle(const http::RestRequest& request,
                                    const RequestContext& context) override;

  struct Request;  // one parsed request (s3_service.cc)

 private:
  Result<http::RestResponse> Dispatch(Request& request);

  // Set at construction.
  lake::Lake& lake_;
  const Clock& clock_;
  const S3Options options_;

  // How many more large uploads may be hashed on threads of their own (SpoolHashes): the cores
  // beyond two; beyond that bodies are hashed on the io thread as they arrive.
  mutable std::atomic<int> hash_slots_;
};

}  // namespace salespipe::services::s3
