#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Hashes, HMAC and encodings, all through OpenSSL/zlib. Thread-safe, pure functions.
namespace salespipe {

// Standard base64 with padding.
std::string Base64Encode(std::string_view bytes);
// Strict standard base64 (padding required, no whitespace); nullopt on malformed input.
std::optional<std::string> Base64Decode(std::string_view text);

std::string HexEncode(std::string_view bytes);  // lower-case

uint32_t Crc32(std::string_view bytes);  // IEEE / zlib polynomial
std::string Md5(std::string_view bytes);     // 16 raw bytes
std::string Sha256(std::string_view bytes);  // 32 raw bytes
std::string HmacSha256(std::string_view key, std::string_view data);  // 32 raw bytes

// A random version-4 UUID in canonical text form.
std::string NewUuid();

}  // namespace salespipe
