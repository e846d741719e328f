#include "services/s3/aws_chunked.h"

#include <gtest/gtest.h>

#include "common/crypto.h"
#include "common/test_util.h"
#include "http/sigv4.h"

namespace salespipe::services::s3 {
namespace {

using ::salespipe::testing::StatusIs;

std::string DecodeAll(std::string_view body, size_t piece, Status* status,
                      std::vector<std::pair<std::string, std::string>>* trailers = nullptr,
                      std::optional<ChunkSigning> signing = std::nullopt) {
  std::string out;
  AwsChunkedDecoder decoder(
      [&](std::string_view data) {
        out.append(data);
        return Status::Ok();
      },
      std::move(signing));
  *status = Status::Ok();
  for (size_t i = 0; i < body.size() && status->ok(); i += piece) {
    *status = decoder.Feed(body.substr(i, piece));
  }
  if (status->ok()) *status = decoder.Finish();
  if (trailers) *trailers = decoder.trailers();
  return out;
}

TEST(AwsChunkedTest, UnsignedWithTrailerInAnySplit) {
  std::string body =
      "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
  for (size_t piece : {1u, 2u, 3u, 7u, 1000u}) {
    Status status;
    std::vector<std::pair<std::string, std::string>> trailers;
    EXPECT_EQ(DecodeAll(body, piece, &status, &trailers), "hello world") << piece;
    EXPECT_OK(status);
    ASSERT_EQ(trailers.size(), 1u);
    EXPECT_EQ(trailers[0].first, "x-amz-checksum-crc32");
    EXPECT_EQ(trailers[0].second, "DUoRhQ==");
  }
}

TEST(AwsChunkedTest, TruncatedBodyIsAnError) {
  Status status;
  DecodeAll("5\r\nhel", 100, &status);
  EXPECT_THAT(status, StatusIs(ErrorCode::kInvalidArgument));
  DecodeAll("zz\r\nhello\r\n", 100, &status);
  EXPECT_THAT(status, StatusIs(ErrorCode::kInvalidArgument));
}

// The example from AWS's "Signature Calculations for the Authorization Header: Transferring
// Payload in Multiple Chunks" page: 65 KiB of 'a' in a 64 KiB and a 1 KiB chunk.
TEST(AwsChunkedTest, VerifiesChunkSignatures) {
  std::string key = http::sigv4::SigningKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524",
                                            "us-east-1", "s3");
  ChunkSigning signing{
      .signing_key = key,
      .amz_date = "20130524T000000Z",
      .scope = "20130524/us-east-1/s3/aws4_request",
      .seed_signature = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"};
  std::string body = "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n" +
                     std::string(65536, 'a') +
                     "\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n" +
                     std::string(1024, 'a') +
                     "\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n";
  Status status;
  EXPECT_EQ(DecodeAll(body, 4096, &status, nullptr, signing).size(), 66560u);
  EXPECT_OK(status);
  std::string tampered = body;
  tampered[200] = 'b';
  DecodeAll(tampered, 4096, &status, nullptr, signing);
  EXPECT_THAT(status, StatusIs(ErrorCode::kPermissionDenied));
}

}  // namespace
}  // namespace salespipe::services::s3
