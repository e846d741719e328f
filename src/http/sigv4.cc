#include "http/sigv4.h"

#include <algorithm>
#include <array>
#include <ctime>
#include <utility>
#include <vector>

#include "common/crypto.h"

namespace salespipe::http::sigv4 {
namespace {

constexpr std::string_view kWhitespace = " \t";

std::string_view Trim(std::string_view s) {
  size_t begin = s.find_first_not_of(kWhitespace);
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(kWhitespace);
  return s.substr(begin, end - begin + 1);
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// Splits the raw query into (name, value) pairs, still encoded.
std::vector<std::pair<std::string_view, std::string_view>> SplitQuery(std::string_view query) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(pair, std::string_view());
    } else {
      out.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
    }
  }
  return out;
}

}  // namespace

bool ParseCredential(std::string_view credential, SigV4Auth* auth) {
  std::array<std::string_view, 5> parts;
  size_t count = 0;
  while (count < parts.size()) {
    size_t slash = credential.find('/');
    parts[count++] = credential.substr(0, slash);
    if (slash == std::string_view::npos) {
      credential = {};
      break;
    }
    credential.remove_prefix(slash + 1);
  }
  if (count != 5 || !credential.empty() || parts[4] != "aws4_request" || parts[0].empty() ||
      parts[1].size() != 8) {
    return false;
  }
  auth->access_key_id = parts[0];
  auth->date = parts[1];
  auth->region = parts[2];
  auth->service = parts[3];
  return true;
}

Result<SigV4Auth> ParseAuthorizationHeader(std::string_view value) {
  std::string_view text = Trim(value);
  size_t space = text.find_first_of(kWhitespace);
  std::string_view algorithm = text.substr(0, space);
  if (algorithm != kAlgorithm) {
    return Status::InvalidArgument("Authorization header requires 'AWS4-HMAC-SHA256' algorithm. " +
                                   std::string("Authorization=") + std::string(value));
  }
  std::string_view rest = space == std::string_view::npos ? std::string_view() : text.substr(space);
  SigV4Auth auth;
  std::string_view credential;
  bool has_credential = false, has_signed_headers = false, has_signature = false;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view part = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = Trim(part.substr(0, eq));
    std::string_view val = Trim(part.substr(eq + 1));
    if (key == "Credential") {
      credential = val;
      has_credential = true;
    } else if (key == "SignedHeaders") {
      auth.signed_headers = val;
      has_signed_headers = true;
    } else if (key == "Signature") {
      auth.signature = val;
      has_signature = true;
    }
  }
  std::string missing;
  if (!has_credential) missing += "Authorization header requires 'Credential' parameter. ";
  if (!has_signature) missing += "Authorization header requires 'Signature' parameter. ";
  if (!has_signed_headers) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!missing.empty()) {
    return Status::InvalidArgument(missing + "Authorization=" + std::string(value));
  }
  if (!ParseCredential(credential, &auth)) {
    return Status::InvalidArgument("Credential should be scoped to a valid region and service: '" +
                                   std::string(credential) + "'.");
  }
  return auth;
}

bool HasPresignedQuery(std::string_view raw_query) {
  for (const auto& [name, value] : SplitQuery(raw_query)) {
    if (name == "X-Amz-Credential") return true;
  }
  return false;
}

Result<SigV4Auth> ParsePresignedQuery(std::string_view raw_query, std::string* storage) {
  // Decoded values in a fixed order; `storage` is built once so the views stay valid.
  enum { kAlgo, kCredential, kDate, kExpires, kSignedHeaders, kSignature, kCount };
  static constexpr std::array<std::string_view, kCount> kNames = {
      "X-Amz-Algorithm", "X-Amz-Credential",    "X-Amz-Date",
      "X-Amz-Expires",   "X-Amz-SignedHeaders", "X-Amz-Signature"};
  std::array<std::optional<std::string>, kCount> values;
  for (const auto& [name, value] : SplitQuery(raw_query)) {
    for (int i = 0; i < kCount; ++i) {
      if (name == kNames[i]) values[i] = UriDecode(value);
    }
  }
  std::string missing;
  for (int i = 0; i < kCount; ++i) {
    if (!values[i]) {
      missing +=
          "Query-string authentication requires the " + std::string(kNames[i]) + " parameter. ";
    }
  }
  if (!missing.empty()) {
    missing.pop_back();  // the trailing space
    return Status::InvalidArgument(std::move(missing));
  }
  if (*values[kAlgo] != kAlgorithm) {
    return Status::InvalidArgument("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
  }
  storage->clear();
  std::array<size_t, kCount + 1> offsets{};
  for (int i = 0; i < kCount; ++i) {
    offsets[i] = storage->size();
    storage->append(*values[i]);
  }
  offsets[kCount] = storage->size();
  auto view = [&](int i) {
    return std::string_view(*storage).substr(offsets[i], offsets[i + 1] - offsets[i]);
  };
  SigV4Auth auth;
  auth.presigned = true;
  if (!ParseCredential(view(kCredential), &auth)) {
    return Status::InvalidArgument("Credential should be scoped to a valid region and service: '" +
                                   std::string(view(kCredential)) + "'.");
  }
  auth.amz_date = view(kDate);
  auth.expires = view(kExpires);
  auth.signed_headers = view(kSignedHeaders);
  auth.signature = view(kSignature);
  return auth;
}

std::string UriEncode(std::string_view text, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string UriDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string CanonicalUri(std::string_view raw_path, bool s3) {
  if (raw_path.empty()) return "/";
  if (s3) return std::string(raw_path);
  // Remove dot segments and empty segments (botocore's remove_dot_segments), keeping a
  // leading and a trailing '/'.
  std::vector<std::string_view> segments;
  std::string_view rest = raw_path;
  while (true) {
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  std::string normalized;
  normalized.reserve(raw_path.size() + 8);
  if (raw_path.front() == '/') normalized.push_back('/');
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) normalized.push_back('/');
    normalized.append(UriEncode(segments[i], /*encode_slash=*/true));
  }
  if (raw_path.back() == '/' && !segments.empty()) normalized.push_back('/');
  if (normalized.empty()) normalized = "/";
  return normalized;
}

std::string CanonicalQuery(std::string_view raw_query, bool drop_signature) {
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [name, value] : SplitQuery(raw_query)) {
    std::string decoded_name = UriDecode(name);
    if (drop_signature && decoded_name == "X-Amz-Signature") continue;
    params.emplace_back(UriEncode(decoded_name, true), UriEncode(UriDecode(value), true));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out.append(name);
    out.push_back('=');
    out.append(value);
  }
  return out;
}

std::string CanonicalHeaders(std::span<const Header> headers, std::string_view signed_headers) {
  std::string out;
  std::string_view rest = signed_headers;
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view name = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    if (name.empty()) continue;
    for (char c : name) out.push_back(AsciiLower(c));
    out.push_back(':');
    bool first_value = true;
    for (const Header& header : headers) {
      if (!EqualsIgnoreCase(header.name, name)) continue;
      if (!first_value) out.push_back(',');
      first_value = false;
      // Trim and collapse runs of spaces (botocore: ' '.join(value.split())).
      bool pending_space = false, wrote = false;
      for (char c : header.value) {
        if (c == ' ' || c == '\t') {
          pending_space = wrote;
          continue;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        out.push_back(c);
        wrote = true;
      }
    }
    out.push_back('\n');
  }
  return out;
}

std::string CanonicalRequest(std::string_view method, std::string_view canonical_uri,
                             std::string_view canonical_query, std::string_view canonical_headers,
                             std::string_view signed_headers, std::string_view payload_hash) {
  std::string out;
  out.reserve(method.size() + canonical_uri.size() + canonical_query.size() +
              canonical_headers.size() + signed_headers.size() + payload_hash.size() + 8);
  out.append(method).push_back('\n');
  out.append(canonical_uri).push_back('\n');
  out.append(canonical_query).push_back('\n');
  out.append(canonical_headers).push_back('\n');
  out.append(signed_headers).push_back('\n');
  out.append(payload_hash);
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view date, std::string_view region,
                         std::string_view service, std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out.push_back('\n');
  out.append(amz_date).push_back('\n');
  out.append(date).push_back('/');
  out.append(region).push_back('/');
  out.append(service).append("/aws4_request\n");
  out.append(HexEncode(Sha256(canonical_request)));
  return out;
}

std::string SigningKey(std::string_view secret_access_key, std::string_view date,
                       std::string_view region, std::string_view service) {
  std::string key = "AWS4" + std::string(secret_access_key);
  key = HmacSha256(key, date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  return HmacSha256(key, "aws4_request");
}

std::string Signature(std::string_view signing_key, std::string_view string_to_sign) {
  return HexEncode(HmacSha256(signing_key, string_to_sign));
}

bool SignaturesEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(AsciiLower(a[i]) ^ AsciiLower(b[i]));
  }
  return diff == 0;
}

std::optional<std::chrono::system_clock::time_point> ParseAmzDate(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  auto digits = [&](size_t pos, size_t n, int* out) {
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, &year) || !digits(4, 2, &month) || !digits(6, 2, &day) ||
      !digits(9, 2, &hour) || !digits(11, 2, &minute) || !digits(13, 2, &second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string FormatAmzDate(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  size_t n = std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, n);
}

}  // namespace salespipe::http::sigv4
