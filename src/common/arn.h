#pragma once

#include <optional>
#include <string_view>

namespace salespipe {

// The parts of an ARN: arn:<partition>:<service>:<region>:<account>:<resource>. Views into
// the parsed text.
struct ArnParts {
  std::string_view partition;
  std::string_view service;
  std::string_view region;
  std::string_view account;
  std::string_view resource;  // everything after the fifth colon (may contain ':' and '/')
};

// Splits `arn`; nullopt unless it starts with "arn:" and has all six parts. Pure.
inline std::optional<ArnParts> SplitArn(std::string_view arn) {
  std::string_view parts[5];
  size_t start = 0;
  for (auto& part : parts) {
    size_t colon = arn.find(':', start);
    if (colon == std::string_view::npos) return std::nullopt;
    part = arn.substr(start, colon - start);
    start = colon + 1;
  }
  if (parts[0] != "arn") return std::nullopt;
  return ArnParts{.partition = parts[1],
                  .service = parts[2],
                  .region = parts[3],
                  .account = parts[4],
                  .resource = arn.substr(start)};
}

}  // namespace salespipe
