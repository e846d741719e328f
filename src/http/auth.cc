#include "http/auth.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "common/crypto.h"

namespace salespipe::http {
namespace {

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(kSpace);
  return s.substr(begin, end - begin + 1);
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

void FillContext(const sigv4::SigV4Auth& auth, services::RequestContext* context) {
  context->access_key_id.assign(auth.access_key_id);
  context->account_id.assign(AccountIdFor(auth.access_key_id));
  if (!auth.region.empty()) context->region.assign(auth.region);
}

AuthError Incomplete(std::string message) {
  return {AuthFailure::kIncompleteSignature, std::move(message)};
}

constexpr std::string_view kMismatchMessage =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

}  // namespace

Result<CredentialStore> CredentialStore::Parse(std::string_view ini_text) {
  CredentialStore store;
  std::string key_id, secret;
  bool in_section = false;
  auto finish_section = [&] {
    if (in_section && !key_id.empty() && !secret.empty()) store.Add(key_id, secret);
    key_id.clear();
    secret.clear();
  };
  while (!ini_text.empty()) {
    size_t newline = ini_text.find('\n');
    std::string_view line = Trim(ini_text.substr(0, newline));
    ini_text =
        newline == std::string_view::npos ? std::string_view() : ini_text.substr(newline + 1);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      finish_section();
      in_section = true;
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    if (name == "aws_access_key_id") key_id.assign(value);
    if (name == "aws_secret_access_key") secret.assign(value);
  }
  finish_section();
  if (store.size() == 0) {
    return Status::InvalidArgument(
        "credentials file has no profile with both aws_access_key_id and aws_secret_access_key");
  }
  return store;
}

Result<CredentialStore> CredentialStore::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read credentials file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str());
}

void CredentialStore::Add(std::string access_key_id, std::string secret_access_key) {
  secrets_[std::move(access_key_id)] = std::move(secret_access_key);
}

const std::string* CredentialStore::FindSecret(std::string_view access_key_id) const {
  auto it = secrets_.find(access_key_id);
  return it == secrets_.end() ? nullptr : &it->second;
}

std::string_view AccountIdFor(std::string_view access_key_id) {
  if (access_key_id.size() == 12 && IsDigits(access_key_id)) return access_key_id;
  return "000000000000";
}

std::optional<AuthError> Authenticate(const AuthRequest& request, AuthMode mode,
                                      const CredentialStore* credentials,
                                      std::chrono::system_clock::time_point now,
                                      services::RequestContext* context) {
  std::string presigned_storage;
  std::optional<Result<sigv4::SigV4Auth>> parsed;
  if (!request.authorization.empty()) {
    parsed.emplace(sigv4::ParseAuthorizationHeader(request.authorization));
  } else if (!request.query.empty() && sigv4::HasPresignedQuery(request.query)) {
    parsed.emplace(sigv4::ParsePresignedQuery(request.query, &presigned_storage));
  }
  if (parsed && parsed->ok()) FillContext(**parsed, context);
  if (mode == AuthMode::kOff) return std::nullopt;

  if (!parsed) {
    return AuthError{AuthFailure::kMissingToken, "Request is missing Authentication Token"};
  }
  if (!parsed->ok()) return Incomplete(parsed->status().message());
  const sigv4::SigV4Auth& auth = **parsed;
  const std::string* secret = credentials ? credentials->FindSecret(auth.access_key_id) : nullptr;
  if (secret == nullptr) {
    return AuthError{AuthFailure::kUnknownAccessKey,
                     "The security token included in the request is invalid."};
  }

  std::string_view amz_date = auth.presigned ? auth.amz_date : request.amz_date;
  if (amz_date.empty()) {
    return Incomplete(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=" +
        std::string(request.authorization));
  }
  std::optional<std::chrono::system_clock::time_point> signed_at = sigv4::ParseAmzDate(amz_date);
  if (!signed_at) {
    return Incomplete("Date must be in ISO-8601 'basic format'. Got '" + std::string(amz_date) +
                      "'. See http://en.wikipedia.org/wiki/ISO_8601");
  }
  if (amz_date.substr(0, 8) != auth.date) {
    return AuthError{AuthFailure::kSignatureMismatch,
                     "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                     "date from HTTP: '" +
                         std::string(auth.date) + "' != '" + std::string(amz_date.substr(0, 8)) +
                         "', from '" + std::string(amz_date) + "'."};
  }

  // Clock skew. AWS words it "Signature expired: <signed> is now earlier than <now - 15 min>
  // (<now> - 15 min.)" and "Signature not yet current: <signed> is still later than
  // <now + 15 min> (<now> + 15 min.)".
  bool expired = now - kMaxClockSkew > *signed_at;
  if (auth.presigned) {
    // A presigned URL is good for X-Amz-Expires seconds after it was signed.
    int64_t expires = 0;
    auto [ptr, ec] =
        std::from_chars(auth.expires.data(), auth.expires.data() + auth.expires.size(), expires);
    if (ec != std::errc() || ptr != auth.expires.data() + auth.expires.size() || expires < 1 ||
        expires > 604800) {
      return Incomplete("X-Amz-Expires must be a number of seconds between 1 and 604800");
    }
    expired = now > *signed_at + std::chrono::seconds(expires);
  }
  if (expired) {
    return AuthError{AuthFailure::kSignatureExpired,
                     "Signature expired: " + std::string(amz_date) + " is now earlier than " +
                         sigv4::FormatAmzDate(now - kMaxClockSkew) + " (" +
                         sigv4::FormatAmzDate(now) + " - 15 min.)"};
  }
  if (*signed_at > now + kMaxClockSkew) {
    return AuthError{AuthFailure::kSignatureExpired,
                     "Signature not yet current: " + std::string(amz_date) +
                         " is still later than " + sigv4::FormatAmzDate(now + kMaxClockSkew) +
                         " (" + sigv4::FormatAmzDate(now) + " + 15 min.)"};
  }

  std::string payload_hash;
  if (!request.content_sha256.empty()) {
    payload_hash.assign(request.content_sha256);
  } else if (auth.presigned && request.s3) {
    // S3 presigned URLs sign no payload (botocore's S3SigV4QueryAuth); other services' do.
    payload_hash.assign(sigv4::kUnsignedPayload);
  } else {
    payload_hash = HexEncode(Sha256(request.body));
  }
  std::string canonical_request = sigv4::CanonicalRequest(
      request.method, sigv4::CanonicalUri(request.path, request.s3),
      sigv4::CanonicalQuery(request.query, /*drop_signature=*/auth.presigned),
      sigv4::CanonicalHeaders(request.headers, auth.signed_headers), auth.signed_headers,
      payload_hash);
  std::string string_to_sign =
      sigv4::StringToSign(amz_date, auth.date, auth.region, auth.service, canonical_request);
  std::string expected = sigv4::Signature(
      sigv4::SigningKey(*secret, auth.date, auth.region, auth.service), string_to_sign);
  if (!sigv4::SignaturesEqual(expected, auth.signature)) {
    return AuthError{AuthFailure::kSignatureMismatch, std::string(kMismatchMessage)};
  }
  return std::nullopt;
}

}  // namespace salespipe::http
