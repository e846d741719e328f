#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/mutex.h"
#include "common/unique_fd.h"

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

// The hashes of a spooled body, computed as the bytes arrive (NewBodyObserver). Large
// bodies are hashed on a thread of their own that reads the spool file behind the edge's
// writes (MD5 runs at ~0.8 GB/s on one core: hashing on the io thread halves the upload
// rate); small ones, or when `async_slots` has none left, inline in Update.
class SpoolHashes final : public http::BodyObserver {
 public:
  // `async_slots` counts the hashing threads that may still start (shared by every request;
  // must outlive this object); null = always inline.
  SpoolHashes(ChecksumAlgorithm algorithm, bool with_sha256, std::atomic<int>* async_slots);
  ~SpoolHashes() override;  // stops and joins the thread, if any

  void Begin(int spool_fd, std::optional<uint64_t> content_length) override;
  void Update(std::string_view data) override;
  // Waits until every byte Update saw is hashed; md5, checksum and sha256 are complete then.
  // REQUIRES: the body is complete (no more Update). Errors: kInternal if the spool file
  // could not be read back.
  Status Finish();

  lake::Hasher md5;
  lake::Hasher checksum;
  lake::Hasher sha256;

 private:
  void Run();  // the hashing thread

  // Bodies at least this large (or of unknown length) are hashed on a thread.
  static constexpr uint64_t kAsyncBytes = 512u << 10;

  std::atomic<int>* async_slots_;
  UniqueFd fd_;  // a dup of the spool file, read by the thread
  std::thread thread_;
  Mutex mu_;
  std::condition_variable cv_;
  uint64_t written_ GUARDED_BY(mu_) = 0;  // bytes Update has seen
  bool finishing_ GUARDED_BY(mu_) = false;
  bool stop_ GUARDED_BY(mu_) = false;
  Status read_status_;  // written by the thread, read after join
};

// Reads the request body (memory or spool file), undoing aws-chunked framing, into a staged
// file while hashing it. Verifies Content-MD5 and the flexible checksum: on a mismatch nothing
// is kept (the staged file is removed with the result).
Result<StagedBody> StageBody(lake::Lake& lake, const Request& request, const S3Options& options);

}  // namespace salespipe::services::s3
