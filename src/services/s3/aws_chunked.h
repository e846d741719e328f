#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

// Incremental decoder for aws-chunked bodies (spec 1.4): "<hex size>[;chunk-signature=<sig>]
// \r\n<data>\r\n" repeated, a zero-size chunk, then optional trailer lines "name:value\r\n"
// and a final "\r\n". Feed() may be called with any split of the input. Not thread-safe.
namespace salespipe::services::s3 {

// What verifying chunk signatures needs (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]).
struct ChunkSigning {
  std::string signing_key;  // sigv4::SigningKey of the request
  std::string amz_date;     // X-Amz-Date
  std::string scope;        // "<date>/<region>/s3/aws4_request"
  std::string seed_signature;  // the request's Authorization signature
};

class AwsChunkedDecoder {
 public:
  // `sink` receives decoded data. With `signing`, each chunk's signature is checked.
  AwsChunkedDecoder(std::function<Status(std::string_view)> sink,
                    std::optional<ChunkSigning> signing);

  // Errors: kInvalidArgument (malformed framing; aws code IncompleteBody or InvalidRequest),
  // kPermissionDenied with SignatureDoesNotMatch for a wrong chunk signature, or the sink's.
  Status Feed(std::string_view data);
  // Errors: kInvalidArgument if the body ended before the final chunk.
  Status Finish();

  uint64_t decoded_bytes() const { return decoded_; }
  // Trailer headers, names lower-case.
  const std::vector<std::pair<std::string, std::string>>& trailers() const { return trailers_; }

 private:
  enum class State { kSizeLine, kData, kDataEnd, kTrailer, kDone };
  Status OnSizeLine(std::string_view line);
  Status EndChunk();

  std::function<Status(std::string_view)> sink_;
  std::optional<ChunkSigning> signing_;
  State state_ = State::kSizeLine;
  std::string line_;
  uint64_t remaining_ = 0;
  uint64_t decoded_ = 0;
  bool last_chunk_ = false;
  std::string chunk_signature_;
  std::string previous_signature_;
  void* chunk_hash_ = nullptr;  // EVP_MD_CTX* while verifying
  std::vector<std::pair<std::string, std::string>> trailers_;

 public:
  ~AwsChunkedDecoder();
  AwsChunkedDecoder(const AwsChunkedDecoder&) = delete;
  AwsChunkedDecoder& operator=(const AwsChunkedDecoder&) = delete;
};

}  // namespace salespipe::services::s3
