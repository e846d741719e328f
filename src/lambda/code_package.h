#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

// Lambda deployment packages (.zip) on disk: kept as uploaded and unpacked next to it, one
// folder per distinct package (content-addressed by SHA-256), so versions that share code share
// the folder and the runner sees a stable, read-only LAMBDA_TASK_ROOT.
//
// Layout under a function's folder (<data>/lambda/<account>/<region>/<name>/):
//   <sha256 hex>/package.zip   the zip as uploaded (GetFunction's Code.Location serves it)
//   <sha256 hex>/code/         the unpacked tree (file modes kept: x bits for bootstraps)
//   .tmp-<uuid>/               an unpack in progress; removed on the next GC
namespace salespipe::lambda {

// AWS's limit on the unpacked size of a package (250 MB).
inline constexpr uint64_t kMaxUnzippedBytes = 262144000;

struct CodePackage {
  std::string sha256_base64;  // CodeSha256 as Lambda reports it
  std::string sha256_hex;     // the folder name
  int64_t size = 0;           // CodeSize: bytes of the zip
};

// The digest and size of `zip` without storing anything.
CodePackage DescribePackage(std::string_view zip);

// Stores `zip` under `function_dir` and unpacks it (see the layout above). Idempotent: a
// package already stored is reused. Thread-compatible per `function_dir` (callers serialize
// stores for one function).
// Errors: kInvalidArgument "Could not unzip uploaded file. Please check your file, then try to
// upload again." for anything that is not a readable zip, or whose entries escape the folder
// (absolute paths, "..", symlinks pointing outside); kInvalidArgument "Unzipped size must be
// smaller than 262144000 bytes" over the limit; kInternal on a file-system failure.
Result<CodePackage> StorePackage(const std::string& function_dir, std::string_view zip);

// The unpacked tree and the zip of a stored package.
std::string PackageCodeDir(const std::string& function_dir, std::string_view sha256_hex);
std::string PackageZipPath(const std::string& function_dir, std::string_view sha256_hex);

}  // namespace salespipe::lambda
