#include "delivery/compression.h"

#include <gtest/gtest.h>

#include <random>

#include "common/test_util.h"

namespace salespipe::delivery {
namespace {

std::string Sample(size_t size) {
  std::mt19937 rng(7);
  std::string out;
  while (out.size() < size) {
    out += "{\"order\":" + std::to_string(rng() % 100000) + ",\"sku\":\"gadget\"}\n";
  }
  out.resize(size);
  return out;
}

TEST(CompressionTest, RoundTripsEveryFormat) {
  for (Compression c : {Compression::kUncompressed, Compression::kGzip, Compression::kZip,
                        Compression::kSnappy, Compression::kHadoopSnappy}) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{65536}, size_t{65537}, size_t{700000}}) {
      std::string body = Sample(size);
      ASSERT_OK_AND_ASSIGN(std::string packed, Compress(c, body, "entry"));
      ASSERT_OK_AND_ASSIGN(std::string unpacked, Decompress(c, packed));
      EXPECT_EQ(unpacked, body) << CompressionName(c) << " " << size;
    }
  }
}

TEST(CompressionTest, FormatsAreTheStandardOnes) {
  std::string body = Sample(1000);
  ASSERT_OK_AND_ASSIGN(std::string gz, Compress(Compression::kGzip, body, ""));
  EXPECT_EQ(gz.substr(0, 2), "\x1f\x8b");
  ASSERT_OK_AND_ASSIGN(std::string zip, Compress(Compression::kZip, body, "e"));
  EXPECT_EQ(zip.substr(0, 2), "PK");
  ASSERT_OK_AND_ASSIGN(std::string framed, Compress(Compression::kSnappy, body, ""));
  EXPECT_EQ(framed.substr(0, 10), std::string("\xff\x06\x00\x00sNaPpY", 10));
  ASSERT_OK_AND_ASSIGN(std::string hadoop, Compress(Compression::kHadoopSnappy, body, ""));
  EXPECT_EQ(hadoop.substr(0, 4), std::string("\x00\x00\x03\xe8", 4));  // 1000, big-endian
  EXPECT_EQ(CompressionExtension(Compression::kGzip), ".gz");
  EXPECT_EQ(CompressionExtension(Compression::kHadoopSnappy), ".snappy");
  EXPECT_EQ(ParseCompression("Snappy"), Compression::kSnappy);
  EXPECT_EQ(ParseCompression("SNAPPY"), std::nullopt);
}

TEST(CompressionTest, CorruptInputIsAnError) {
  EXPECT_FALSE(Decompress(Compression::kGzip, "not gzip").ok());
  EXPECT_FALSE(Decompress(Compression::kSnappy, std::string("\x00\x05\x00\x00\x01", 5)).ok());
  EXPECT_FALSE(Decompress(Compression::kHadoopSnappy, "abc").ok());
}

}  // namespace
}  // namespace salespipe::delivery
