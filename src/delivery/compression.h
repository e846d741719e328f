#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

// Object body compression as Firehose's CompressionFormat does it. Pure functions;
// thread-safe.
namespace salespipe::delivery {

// Persisted by name (CompressionFormat's wire names).
enum class Compression { kUncompressed, kGzip, kZip, kSnappy, kHadoopSnappy };

// "UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"; nullopt otherwise.
std::optional<Compression> ParseCompression(std::string_view name);
std::string_view CompressionName(Compression compression);
// The object name extension: "", ".gz", ".zip", ".snappy", ".snappy".
std::string_view CompressionExtension(Compression compression);

// Compresses `body`:
//   kGzip         a gzip member (zlib, RFC 1952)
//   kZip          a ZIP archive with one entry named `entry_name` (libzip)
//   kSnappy       the Snappy framing format (stream identifier, then compressed chunks of at
//                 most 64 KiB input, each with a masked CRC-32C)
//   kHadoopSnappy Hadoop's block format: per block of at most 256 KiB input,
//                 [u32 BE input length][u32 BE compressed length][raw snappy]
// Errors: kInternal if a library fails.
Result<std::string> Compress(Compression compression, std::string_view body,
                             std::string_view entry_name);

// The inverse of Compress (for tests and tools). Errors: kInvalidArgument on corrupt input.
Result<std::string> Decompress(Compression compression, std::string_view body);

}  // namespace salespipe::delivery
