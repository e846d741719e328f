#include "lake/checksum.h"

#include <gtest/gtest.h>

#include "common/crypto.h"

namespace salespipe::lake {
namespace {

TEST(ChecksumTest, KnownVectors) {
  EXPECT_EQ(Crc32c(0, "123456789"), 0xE3069283u);
  EXPECT_EQ(Crc64Nvme(0, "123456789"), 0xAE8B14860A799888ull);
  EXPECT_EQ(Crc32Update(0, "123456789"), 0xCBF43926u);
  EXPECT_EQ(HexEncode(Digest(ChecksumAlgorithm::kSha1, "abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(HexEncode(Digest(ChecksumAlgorithm::kMd5, "")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(HexEncode(Digest(ChecksumAlgorithm::kCrc64Nvme, "123456789")), "ae8b14860a799888");
}

TEST(ChecksumTest, IncrementalEqualsOneShot) {
  std::string data(100000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + 7);
  for (ChecksumAlgorithm a : {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c,
                              ChecksumAlgorithm::kCrc64Nvme, ChecksumAlgorithm::kSha1,
                              ChecksumAlgorithm::kSha256, ChecksumAlgorithm::kMd5}) {
    Hasher hasher(a);
    for (size_t i = 0; i < data.size(); i += 777) hasher.Update(std::string_view(data).substr(i, 777));
    EXPECT_EQ(hasher.Finish(), Digest(a, data)) << ChecksumAlgorithmName(a);
  }
}

TEST(ChecksumTest, NamesRoundTrip) {
  EXPECT_EQ(ParseChecksumAlgorithm("crc64nvme"), ChecksumAlgorithm::kCrc64Nvme);
  EXPECT_EQ(ParseChecksumAlgorithm("CRC32C"), ChecksumAlgorithm::kCrc32c);
  EXPECT_EQ(ParseChecksumAlgorithm("MD5"), std::nullopt);
  EXPECT_EQ(ChecksumHeaderName(ChecksumAlgorithm::kSha256), "x-amz-checksum-sha256");
}

}  // namespace
}  // namespace salespipe::lake
