#include "services/s3/s3_body.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "common/crypto.h"
#include "common/unique_fd.h"
#include "http/sigv4.h"
#include "services/s3/aws_chunked.h"

namespace salespipe::services::s3 {
namespace {

std::string SignatureOf(std::string_view authorization) {
  size_t at = authorization.find("Signature=");
  if (at == std::string_view::npos) return "";
  std::string_view rest = authorization.substr(at + 10);
  return std::string(rest.substr(0, rest.find_first_of(", ")));
}

}  // namespace

SpoolHashes::SpoolHashes(ChecksumAlgorithm algorithm, bool with_sha256,
                         std::atomic<int>* async_slots)
    : md5(ChecksumAlgorithm::kMd5),
      checksum(algorithm),
      sha256(with_sha256 ? ChecksumAlgorithm::kSha256 : ChecksumAlgorithm::kNone),
      async_slots_(async_slots) {}

SpoolHashes::~SpoolHashes() {
  if (!thread_.joinable()) return;
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  async_slots_->fetch_add(1);
}

void SpoolHashes::Begin(int spool_fd, std::optional<uint64_t> content_length) {
  if (async_slots_ == nullptr || (content_length && *content_length < kAsyncBytes)) return;
  if (async_slots_->fetch_sub(1) <= 0) {
    async_slots_->fetch_add(1);
    return;  // enough hashing threads already: hash inline
  }
  fd_.Reset(::fcntl(spool_fd, F_DUPFD_CLOEXEC, 0));
  if (!fd_.valid()) {
    async_slots_->fetch_add(1);
    return;
  }
  thread_ = std::thread([this] { Run(); });
}

void SpoolHashes::Update(std::string_view data) {
  if (!thread_.joinable()) {
    md5.Update(data);
    checksum.Update(data);
    sha256.Update(data);
    return;
  }
  {
    MutexLock lock(mu_);
    written_ += data.size();
  }
  cv_.notify_one();
}

Status SpoolHashes::Finish() {
  if (!thread_.joinable()) return Status::Ok();
  {
    MutexLock lock(mu_);
    finishing_ = true;
  }
  cv_.notify_one();
  thread_.join();
  async_slots_->fetch_add(1);
  return read_status_;
}

void SpoolHashes::Run() {
  // Reads what the edge wrote, 1 MiB at a time, from the page cache.
  constexpr size_t kReadBytes = 1u << 20;
  std::unique_ptr<char[]> buffer(new char[kReadBytes]);
  uint64_t position = 0;
  while (true) {
    uint64_t available;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || finishing_ || written_ > position; });
      if (stop_) return;
      available = written_;
      if (available == position) return;  // finishing and caught up
    }
    while (position < available) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(available - position, kReadBytes));
      ssize_t n = ::pread(fd_.get(), buffer.get(), want, static_cast<off_t>(position));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        read_status_ = Status::Internal("cannot read the spooled body back for hashing");
        return;
      }
      std::string_view chunk(buffer.get(), static_cast<size_t>(n));
      md5.Update(chunk);
      checksum.Update(chunk);
      sha256.Update(chunk);
      position += static_cast<uint64_t>(n);
    }
  }
}

// The flexible checksum a request carries (header, or announced trailer).
Result<ChecksumSpec> ChecksumOf(const Request& request) {
  ChecksumSpec spec;
  for (const auto& header : request.raw->headers) {
    std::string name = ToLower(header.name);
    if (!name.starts_with("x-amz-checksum-") || name == "x-amz-checksum-mode" ||
        name == "x-amz-checksum-type" || name == "x-amz-checksum-algorithm")
      continue;
    auto algorithm = lake::ParseChecksumAlgorithm(name.substr(15));
    if (!algorithm) {
      return Err("InvalidRequest", "Unsupported checksum header " + name);
    }
    if (spec.algorithm != ChecksumAlgorithm::kNone && spec.algorithm != *algorithm) {
      return Err("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple "
                                   "checksum Types are not allowed.");
    }
    spec.algorithm = *algorithm;
    spec.expected = std::string(header.value);
  }
  if (auto trailer = request.Header("x-amz-trailer")) {
    std::string name = ToLower(*trailer);
    if (name.starts_with("x-amz-checksum-")) {
      auto algorithm = lake::ParseChecksumAlgorithm(name.substr(15));
      if (!algorithm) return Err("InvalidRequest", "Unsupported trailer " + name);
      spec.algorithm = *algorithm;
      spec.from_trailer = true;
    }
  }
  if (spec.algorithm == ChecksumAlgorithm::kNone) {
    if (auto sdk = request.Header("x-amz-sdk-checksum-algorithm")) {
      auto algorithm = lake::ParseChecksumAlgorithm(*sdk);
      if (!algorithm) return Err("InvalidRequest", "Unsupported checksum algorithm " + std::string(*sdk));
      spec.algorithm = *algorithm;
    }
  }
  return spec;
}

Result<StagedBody> StageBody(lake::Lake& lake, const Request& request, const S3Options& options) {
  StagedBody staged;
  ASSIGN_OR_RETURN(staged.spec, ChecksumOf(request));
  std::string content_sha256 = request.HeaderOr("x-amz-content-sha256");
  bool chunked = content_sha256.starts_with("STREAMING-") ||
                 request.HeaderOr("content-encoding").find("aws-chunked") != std::string::npos;

  std::optional<std::string> content_md5;
  if (auto header = request.Header("content-md5")) {
    content_md5 = Base64Decode(*header);
    if (!content_md5 || content_md5->size() != 16) {
      return Err("InvalidDigest", "The Content-MD5 you specified was invalid.");
    }
  }
  uint64_t declared = request.raw->spooled_body ? request.raw->spooled_body->size
                                                : request.raw->body.size();
  if (chunked) {
    auto decoded = ParseInt(request.HeaderOr("x-amz-decoded-content-length", "-1"));
    if (decoded && *decoded >= 0) declared = static_cast<uint64_t>(*decoded);
  }
  if (declared > kMaxSinglePut) {
    return Err("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.");
  }

  lake::Hasher md5(ChecksumAlgorithm::kMd5);
  lake::Hasher checksum(staged.spec.algorithm);
  bool verify_sha256 = options.auth_mode == http::AuthMode::kVerify && content_sha256.size() == 64;
  lake::Hasher sha256(verify_sha256 ? ChecksumAlgorithm::kSha256 : ChecksumAlgorithm::kNone);

  auto hash = [&](std::string_view data) {
    md5.Update(data);
    checksum.Update(data);
    sha256.Update(data);
  };

  if (!chunked && request.raw->spooled_body != nullptr) {
    // The spooled file already holds the exact bytes: hash it and make it the object.
    ASSIGN_OR_RETURN(staged.file, lake.AdoptStagedFile(request.raw->spooled_body->path));
    request.raw->spooled_body->taken = true;
    // Hashed on the way in (NewBodyObserver) when it chose the same hashes; else read it again.
    auto* observed = dynamic_cast<SpoolHashes*>(request.raw->spooled_body->observer.get());
    if (observed != nullptr && observed->checksum.algorithm() == staged.spec.algorithm &&
        (observed->sha256.algorithm() == ChecksumAlgorithm::kSha256) == verify_sha256) {
      RETURN_IF_ERROR(observed->Finish());
      md5 = std::move(observed->md5);
      checksum = std::move(observed->checksum);
      sha256 = std::move(observed->sha256);
    } else {
      RETURN_IF_ERROR(lake::Lake::ReadRange(staged.file.fd(), 0, staged.file.size(),
                                            [&](std::string_view chunk) {
                                              hash(chunk);
                                              return Status::Ok();
                                            }));
    }
  } else {
    ASSIGN_OR_RETURN(staged.file, lake.NewStagedFile());
    auto write = [&](std::string_view data) -> Status {
      hash(data);
      return staged.file.Append(data);
    };
    if (!chunked) {
      RETURN_IF_ERROR(write(request.raw->body));
    } else {
      std::optional<ChunkSigning> signing;
      if (options.auth_mode == http::AuthMode::kVerify &&
          content_sha256.starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD") &&
          options.credentials != nullptr) {
        std::string authorization = request.HeaderOr("authorization");
        auto parsed = http::sigv4::ParseAuthorizationHeader(authorization);
        if (parsed.ok()) {
          const std::string* secret = options.credentials->FindSecret(parsed->access_key_id);
          if (secret != nullptr) {
            signing = ChunkSigning{
                .signing_key = http::sigv4::SigningKey(*secret, parsed->date, parsed->region,
                                                       parsed->service),
                .amz_date = request.HeaderOr("x-amz-date"),
                .scope = std::string(parsed->date) + "/" + std::string(parsed->region) + "/" +
                         std::string(parsed->service) + "/aws4_request",
                .seed_signature = SignatureOf(authorization)};
          }
        }
      }
      AwsChunkedDecoder decoder(write, std::move(signing));
      if (request.raw->spooled_body != nullptr) {
        UniqueFd fd(::open(request.raw->spooled_body->path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid()) return Status::Internal("cannot read the spooled body");
        RETURN_IF_ERROR(lake::Lake::ReadRange(fd.get(), 0, request.raw->spooled_body->size,
                                              [&](std::string_view chunk) {
                                                return decoder.Feed(chunk);
                                              }));
      } else {
        RETURN_IF_ERROR(decoder.Feed(request.raw->body));
      }
      RETURN_IF_ERROR(decoder.Finish());
      if (staged.spec.from_trailer) {
        std::string wanted = "x-amz-checksum-" + ToLower(lake::ChecksumAlgorithmName(staged.spec.algorithm));
        for (const auto& [name, value] : decoder.trailers()) {
          if (name == wanted) staged.spec.expected = value;
        }
      }
      auto decoded = ParseInt(request.HeaderOr("x-amz-decoded-content-length", "-1"));
      if (decoded && *decoded >= 0 && static_cast<uint64_t>(*decoded) != decoder.decoded_bytes()) {
        return Err("IncompleteBody",
                   "You did not provide the number of bytes specified by the Content-Length HTTP "
                   "header");
      }
    }
  }
  staged.md5 = md5.Finish();
  staged.checksum = checksum.Finish();
  if (verify_sha256 && HexEncode(sha256.Finish()) != ToLower(content_sha256)) {
    return Err("XAmzContentSHA256Mismatch",
               "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  if (content_md5 && *content_md5 != staged.md5) {
    return Err("BadDigest", "The Content-MD5 you specified did not match what we received.");
  }
  if (!staged.spec.expected.empty() && Base64Encode(staged.checksum) != staged.spec.expected) {
    return Err("BadDigest", "The " + ToLower(lake::ChecksumAlgorithmName(staged.spec.algorithm)) +
                                " you specified did not match the calculated checksum.");
  }
  return staged;
}

}  // namespace salespipe::services::s3
