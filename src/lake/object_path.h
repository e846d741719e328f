#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

// How object keys become file paths under <data-dir>/lake/<bucket>/. Pure functions except
// PlaceObject, which looks at (and creates directories in) the bucket's folder.
//
// Persisted: the layout below is what other tools (DuckDB, the crawler) read, and every
// object's metadata records the relative path chosen for it, so the rule may only be extended.
//
//   A key is split at '/'. Every part but the last is a directory, the last is the file.
//   A part is written as it is when it is "safe": not empty, not "." or "..", no NUL byte,
//   at most 255 bytes, and not starting with ".%". So "sales/year=2026/part-0.parquet" is
//   the file lake/<bucket>/sales/year=2026/part-0.parquet.
//   Any other part is escaped: ".%d" (directory) or ".%f" (file) followed by the part with
//   '%', '.', NUL and the control bytes 0x01-0x1F and 0x7F percent-encoded as %XX (upper-case
//   hex). "a//b" is "a/.%d/b", "../x" is ".%d%2E%2E/x", a trailing '/' ("dir/") is the file
//   "dir/.%f". When the escaped part is longer than 255 bytes, it is ".%D" / ".%F" followed
//   by the lower-case hex SHA-256 of the part instead (not reversible from the name; the key
//   is in the metadata).
//   S3 allows both "a" (an object) and "a/b": when a safe part's natural name is already
//   taken by the other kind (a file where a directory is needed or the reverse), the part is
//   escaped as above instead. Which name an object got therefore depends on what existed when
//   it was written, and is stored with its metadata.
//
// Why this cannot leave the bucket: every path component is either a safe part (no '/', not
// "." or "..") or starts with ".%", so no component is ".." and the joined path is always below
// the bucket folder (object_path_test.cc checks this for hostile and random keys).
namespace salespipe::lake {

inline constexpr size_t kMaxKeyBytes = 1024;
inline constexpr size_t kMaxNameBytes = 255;

// Whether `part` may be used as a file or directory name as it is.
bool IsSafePart(std::string_view part);

// The escaped name of `part` as a directory (`directory` true) or a file.
std::string EscapePart(std::string_view part, bool directory);

// The part an escaped or plain name stands for; nullopt for hashed names (".%D", ".%F") and
// malformed escapes.
std::optional<std::string> UnescapeName(std::string_view name);

// The relative path `key` gets when nothing in the bucket folder collides (every safe part
// plain). Used for tests and as PlaceObject's first choice.
std::string NaturalPath(std::string_view key);

// Chooses the relative path for `key` under `bucket_dir` per the rule above and creates its
// parent directories. REQUIRES: the caller serializes PlaceObject and removals in the bucket.
// Errors: kInternal if a directory cannot be created.
Result<std::string> PlaceObject(const std::string& bucket_dir, std::string_view key);

}  // namespace salespipe::lake
