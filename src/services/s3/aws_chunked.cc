#include "services/s3/aws_chunked.h"

#include <openssl/evp.h>

#include "common/crypto.h"
#include "http/sigv4.h"

namespace salespipe::services::s3 {
namespace {

constexpr size_t kMaxLine = 4096;
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

Status Malformed(std::string message) {
  return Status::InvalidArgument(std::move(message)).WithAwsCode("IncompleteBody");
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

AwsChunkedDecoder::AwsChunkedDecoder(std::function<Status(std::string_view)> sink,
                                     std::optional<ChunkSigning> signing)
    : sink_(std::move(sink)), signing_(std::move(signing)) {
  if (signing_) {
    previous_signature_ = signing_->seed_signature;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    chunk_hash_ = ctx;
  }
}

AwsChunkedDecoder::~AwsChunkedDecoder() {
  if (chunk_hash_ != nullptr) EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(chunk_hash_));
}

Status AwsChunkedDecoder::OnSizeLine(std::string_view line) {
  std::string_view size_text = line.substr(0, line.find(';'));
  while (!size_text.empty() && size_text.back() == ' ') size_text.remove_suffix(1);
  if (size_text.empty() || size_text.size() > 15) return Malformed("Invalid chunk size line");
  uint64_t size = 0;
  for (char c : size_text) {
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (v < 0) return Malformed("Invalid chunk size line");
    size = size * 16 + static_cast<uint64_t>(v);
  }
  chunk_signature_.clear();
  size_t sig = line.find("chunk-signature=");
  if (sig != std::string_view::npos) chunk_signature_ = Trim(line.substr(sig + 16));
  if (signing_ && chunk_signature_.empty()) {
    return Status::PermissionDenied("Missing chunk signature").WithAwsCode("SignatureDoesNotMatch");
  }
  remaining_ = size;
  last_chunk_ = size == 0;
  state_ = size == 0 ? State::kDataEnd : State::kData;
  if (size == 0) {
    // The final chunk has no data and, in the trailer forms, no CRLF before the trailers.
    RETURN_IF_ERROR(EndChunk());
    state_ = State::kTrailer;
  }
  return Status::Ok();
}

Status AwsChunkedDecoder::EndChunk() {
  if (!signing_) return Status::Ok();
  auto* ctx = static_cast<EVP_MD_CTX*>(chunk_hash_);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx, digest, &length);
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::string string_to_sign = "AWS4-HMAC-SHA256-PAYLOAD\n" + signing_->amz_date + "\n" +
                               signing_->scope + "\n" + previous_signature_ + "\n" +
                               std::string(kEmptySha256) + "\n" +
                               HexEncode(std::string_view(reinterpret_cast<char*>(digest), length));
  std::string expected = http::sigv4::Signature(signing_->signing_key, string_to_sign);
  if (!http::sigv4::SignaturesEqual(expected, chunk_signature_)) {
    return Status::PermissionDenied(
               "The request signature we calculated does not match the signature you provided. "
               "Check your key and signing method.")
        .WithAwsCode("SignatureDoesNotMatch");
  }
  previous_signature_ = expected;
  return Status::Ok();
}

Status AwsChunkedDecoder::Feed(std::string_view data) {
  while (!data.empty()) {
    switch (state_) {
      case State::kSizeLine:
      case State::kTrailer: {
        size_t newline = data.find('\n');
        std::string_view piece = data.substr(0, newline);
        if (line_.size() + piece.size() > kMaxLine) return Malformed("Chunk line too long");
        line_.append(piece);
        if (newline == std::string_view::npos) return Status::Ok();
        data.remove_prefix(newline + 1);
        std::string line = std::move(line_);
        line_.clear();
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (state_ == State::kSizeLine) {
          RETURN_IF_ERROR(OnSizeLine(line));
        } else if (line.empty()) {
          state_ = State::kDone;
        } else {
          size_t colon = line.find(':');
          if (colon == std::string::npos) return Malformed("Invalid trailer line");
          std::string name = Trim(line.substr(0, colon));
          for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          trailers_.emplace_back(std::move(name), Trim(line.substr(colon + 1)));
        }
        break;
      }
      case State::kData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size()));
        std::string_view chunk = data.substr(0, n);
        if (signing_) EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(chunk_hash_), chunk.data(), n);
        RETURN_IF_ERROR(sink_(chunk));
        decoded_ += n;
        remaining_ -= n;
        data.remove_prefix(n);
        if (remaining_ == 0) state_ = State::kDataEnd;
        break;
      }
      case State::kDataEnd: {
        // "\r\n" after the data (possibly split across feeds).
        char c = data[0];
        data.remove_prefix(1);
        if (c == '\r') break;
        if (c != '\n') return Malformed("Chunk data not followed by CRLF");
        RETURN_IF_ERROR(EndChunk());
        state_ = State::kSizeLine;
        break;
      }
      case State::kDone:
        // Anything after the final CRLF is ignored (some clients add a stray CRLF).
        return Status::Ok();
    }
  }
  return Status::Ok();
}

Status AwsChunkedDecoder::Finish() {
  if (state_ == State::kDone) return Status::Ok();
  // The final "\r\n" after the trailers is optional in practice.
  if (state_ == State::kTrailer && line_.empty()) return Status::Ok();
  return Malformed("The request body ended before the final chunk");
}

}  // namespace salespipe::services::s3
