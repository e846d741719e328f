#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

// Streaming hashes for object bodies: MD5 (ETags) and S3's flexible checksums. Pure; each
// Hasher is single-threaded, the free functions are thread-safe.
namespace salespipe::lake {

// Persisted (in object metadata by name, see ChecksumAlgorithmName): append only.
enum class ChecksumAlgorithm { kNone = 0, kCrc32, kCrc32c, kCrc64Nvme, kSha1, kSha256, kMd5 };

// "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" (case-insensitive); nullopt otherwise.
// kMd5 is internal (ETags) and never parsed.
std::optional<ChecksumAlgorithm> ParseChecksumAlgorithm(std::string_view name);
// The upper-case name S3 uses ("CRC64NVME"); empty for kNone.
std::string_view ChecksumAlgorithmName(ChecksumAlgorithm algorithm);
// The header carrying the value: "x-amz-checksum-crc64nvme"; empty for kNone / kMd5.
std::string_view ChecksumHeaderName(ChecksumAlgorithm algorithm);

// CRC-32C (Castagnoli, reflected 0x82F63B78), continuing from `crc` (0 to start).
uint32_t Crc32c(uint32_t crc, std::string_view data);
// CRC-64/NVME (reflected 0x9A6C9329AC4BC9B5, init and xorout all ones), continuing from `crc`
// (0 to start).
uint64_t Crc64Nvme(uint64_t crc, std::string_view data);
// CRC-32 (zlib), continuing from `crc` (0 to start).
uint32_t Crc32Update(uint32_t crc, std::string_view data);

// Incremental digest of one algorithm; Finish() returns the raw big-endian bytes (4 for
// CRC32/CRC32C, 8 for CRC64NVME, 20 for SHA1, 32 for SHA256, 16 for MD5). kNone yields "".
class Hasher {
 public:
  explicit Hasher(ChecksumAlgorithm algorithm);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;

  void Update(std::string_view data);
  std::string Finish();
  ChecksumAlgorithm algorithm() const { return algorithm_; }

 private:
  ChecksumAlgorithm algorithm_;
  uint64_t crc_ = 0;
  EVP_MD_CTX* md_ = nullptr;
};

// The digest of `data` in one call (raw bytes).
std::string Digest(ChecksumAlgorithm algorithm, std::string_view data);

}  // namespace salespipe::lake
