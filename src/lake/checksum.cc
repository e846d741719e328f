#include "lake/checksum.h"

#include <zlib.h>

#include <array>
#include <utility>

namespace salespipe::lake {
namespace {

template <typename T, T kPoly>
constexpr std::array<T, 256> MakeTable() {
  std::array<T, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    T crc = static_cast<T>(i);
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ kPoly : crc >> 1;
    table[i] = crc;
  }
  return table;
}

constexpr auto kCrc32cTable = MakeTable<uint32_t, 0x82F63B78u>();
constexpr auto kCrc64NvmeTable = MakeTable<uint64_t, 0x9A6C9329AC4BC9B5ull>();

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string BigEndian(uint64_t value, int bytes) {
  std::string out(static_cast<size_t>(bytes), '\0');
  for (int i = bytes - 1; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(value & 0xFF);
    value >>= 8;
  }
  return out;
}

}  // namespace

std::optional<ChecksumAlgorithm> ParseChecksumAlgorithm(std::string_view name) {
  for (ChecksumAlgorithm a : {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c,
                              ChecksumAlgorithm::kCrc64Nvme, ChecksumAlgorithm::kSha1,
                              ChecksumAlgorithm::kSha256}) {
    if (EqualsIgnoreCase(name, ChecksumAlgorithmName(a))) return a;
  }
  return std::nullopt;
}

std::string_view ChecksumAlgorithmName(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::kNone: return "";
    case ChecksumAlgorithm::kCrc32: return "CRC32";
    case ChecksumAlgorithm::kCrc32c: return "CRC32C";
    case ChecksumAlgorithm::kCrc64Nvme: return "CRC64NVME";
    case ChecksumAlgorithm::kSha1: return "SHA1";
    case ChecksumAlgorithm::kSha256: return "SHA256";
    case ChecksumAlgorithm::kMd5: return "MD5";
  }
  return "";
}

std::string_view ChecksumHeaderName(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::kCrc32: return "x-amz-checksum-crc32";
    case ChecksumAlgorithm::kCrc32c: return "x-amz-checksum-crc32c";
    case ChecksumAlgorithm::kCrc64Nvme: return "x-amz-checksum-crc64nvme";
    case ChecksumAlgorithm::kSha1: return "x-amz-checksum-sha1";
    case ChecksumAlgorithm::kSha256: return "x-amz-checksum-sha256";
    case ChecksumAlgorithm::kNone:
    case ChecksumAlgorithm::kMd5: return "";
  }
  return "";
}

uint32_t Crc32c(uint32_t crc, std::string_view data) {
  crc = ~crc;
  for (unsigned char byte : data) crc = kCrc32cTable[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

uint64_t Crc64Nvme(uint64_t crc, std::string_view data) {
  crc = ~crc;
  for (unsigned char byte : data) crc = kCrc64NvmeTable[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

uint32_t Crc32Update(uint32_t crc, std::string_view data) {
  // zlib takes uInt lengths: feed large buffers in pieces.
  while (!data.empty()) {
    size_t n = std::min<size_t>(data.size(), 1u << 30);
    crc = static_cast<uint32_t>(
        crc32(crc, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(n)));
    data.remove_prefix(n);
  }
  return crc;
}

Hasher::Hasher(ChecksumAlgorithm algorithm) : algorithm_(algorithm) {
  const EVP_MD* md = nullptr;
  if (algorithm == ChecksumAlgorithm::kSha1) md = EVP_sha1();
  if (algorithm == ChecksumAlgorithm::kSha256) md = EVP_sha256();
  if (algorithm == ChecksumAlgorithm::kMd5) md = EVP_md5();
  if (md != nullptr) {
    md_ = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md_, md, nullptr);
  }
}

Hasher::~Hasher() {
  if (md_ != nullptr) EVP_MD_CTX_free(md_);
}

Hasher::Hasher(Hasher&& other) noexcept
    : algorithm_(other.algorithm_), crc_(other.crc_), md_(std::exchange(other.md_, nullptr)) {}

Hasher& Hasher::operator=(Hasher&& other) noexcept {
  if (this != &other) {
    if (md_ != nullptr) EVP_MD_CTX_free(md_);
    algorithm_ = other.algorithm_;
    crc_ = other.crc_;
    md_ = std::exchange(other.md_, nullptr);
  }
  return *this;
}

void Hasher::Update(std::string_view data) {
  switch (algorithm_) {
    case ChecksumAlgorithm::kNone: return;
    case ChecksumAlgorithm::kCrc32:
      crc_ = Crc32Update(static_cast<uint32_t>(crc_), data);
      return;
    case ChecksumAlgorithm::kCrc32c:
      crc_ = Crc32c(static_cast<uint32_t>(crc_), data);
      return;
    case ChecksumAlgorithm::kCrc64Nvme:
      crc_ = Crc64Nvme(crc_, data);
      return;
    case ChecksumAlgorithm::kSha1:
    case ChecksumAlgorithm::kSha256:
    case ChecksumAlgorithm::kMd5:
      EVP_DigestUpdate(md_, data.data(), data.size());
      return;
  }
}

std::string Hasher::Finish() {
  switch (algorithm_) {
    case ChecksumAlgorithm::kNone: return "";
    case ChecksumAlgorithm::kCrc32:
    case ChecksumAlgorithm::kCrc32c: return BigEndian(crc_, 4);
    case ChecksumAlgorithm::kCrc64Nvme: return BigEndian(crc_, 8);
    case ChecksumAlgorithm::kSha1:
    case ChecksumAlgorithm::kSha256:
    case ChecksumAlgorithm::kMd5: {
      unsigned char out[EVP_MAX_MD_SIZE];
      unsigned int length = 0;
      EVP_DigestFinal_ex(md_, out, &length);
      return std::string(reinterpret_cast<char*>(out), length);
    }
  }
  return "";
}

std::string Digest(ChecksumAlgorithm algorithm, std::string_view data) {
  Hasher hasher(algorithm);
  hasher.Update(data);
  return hasher.Finish();
}

}  // namespace salespipe::lake
