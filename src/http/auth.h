#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/sigv4.h"
#include "services/service.h"

// Request authentication at the edge (spec 0 and 1.7): SigV4 is always parsed to derive the
// account and region; it is verified only in AuthMode::kVerify.
namespace salespipe::http {

enum class AuthMode {
  kOff,     // accept any credentials (LocalStack convention); never fail on a signature
  kVerify,  // require a valid SigV4 signature by a key from the credentials file
};

// Why a request was rejected; http/ maps each to the protocol's AWS error (errors.h).
enum class AuthFailure {
  kMissingToken,         // no Authorization header and no presigned query
  kIncompleteSignature,  // malformed Authorization / presigned parameters / missing date
  kUnknownAccessKey,     // access key id not in the credentials file
  kSignatureMismatch,    // the signature (or its scope date) does not match
  kSignatureExpired,     // more than 15 minutes of skew, or an expired presigned URL
};

struct AuthError {
  AuthFailure failure;
  std::string message;  // the client-visible message, AWS wording
};

// Access keys and their secrets, from an AWS credentials file. Immutable after loading, so
// thread-safe for reads.
class CredentialStore {
 public:
  CredentialStore() = default;

  // Parses AWS INI text: `[profile]` sections with aws_access_key_id and
  // aws_secret_access_key; every complete profile's key is accepted. '#' and ';' start
  // comments. Profiles missing one of the two keys are skipped.
  // Errors: kInvalidArgument if no profile has both keys.
  static Result<CredentialStore> Parse(std::string_view ini_text);
  // Reads and parses the file at `path`.
  // Errors: kNotFound if the file cannot be read; otherwise as Parse.
  static Result<CredentialStore> LoadFile(const std::string& path);

  void Add(std::string access_key_id, std::string secret_access_key);
  // The secret for `access_key_id`, or nullptr. The pointer lives as long as the store.
  const std::string* FindSecret(std::string_view access_key_id) const;
  size_t size() const { return secrets_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> secrets_;
};

// What authentication needs to know about one request. Views point into the request.
struct AuthRequest {
  std::string_view method{};
  std::string_view path{};            // raw, as sent, without the query
  std::string_view query{};           // raw, without '?'
  std::string_view authorization{};   // Authorization header value; empty when absent
  std::string_view amz_date{};        // X-Amz-Date header value; empty when absent
  std::string_view content_sha256{};  // x-amz-content-sha256 header value; empty when absent
  // Every request header as sent. Only read in kVerify mode, so callers may leave it empty
  // otherwise.
  std::span<const sigv4::Header> headers{};
  std::string_view body{};
  bool s3 = false;  // S3 canonicalization: the path is signed as sent
};

inline constexpr std::chrono::minutes kMaxClockSkew{15};

// "000000000000" unless `access_key_id` is itself 12 digits, then that.
std::string_view AccountIdFor(std::string_view access_key_id);

// Fills `context`'s account_id, region and access_key_id from the SigV4 credential scope (the
// header form first, then the presigned query form; the defaults stay when neither parses).
// In kVerify mode also checks the signature against `credentials` (required then) at time
// `now`, and returns the reason when the request must be rejected. Never fails in kOff mode.
// Thread-safe.
std::optional<AuthError> Authenticate(const AuthRequest& request, AuthMode mode,
                                      const CredentialStore* credentials,
                                      std::chrono::system_clock::time_point now,
                                      services::RequestContext* context);

}  // namespace salespipe::http
