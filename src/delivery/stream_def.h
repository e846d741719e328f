#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "delivery/compression.h"

// What the delivery engine knows about a delivery stream: its source, its S3 destination and
// how records are processed on the way. Plain values, validated by the service (spec 6.3)
// before they reach the engine. Persisted as JSON (stream_def.cc).
namespace salespipe::delivery {

// The Lambda processor (spec 6.6).
struct LambdaProcessor {
  std::string function_arn;  // LambdaArn, possibly qualified
  int retries = 3;           // NumberOfRetries
  int64_t buffer_bytes = 1024 * 1024;  // BufferSizeInMBs (0.2..3 MB)
  int buffer_interval_seconds = 60;    // BufferIntervalInSeconds
};

// S3BackupMode Enabled: every source record, before any processing, is also written to this
// bucket (S3BackupConfiguration). Its objects are written with the destination's.
struct BackupDestination {
  std::string bucket;
  bool has_prefix = false;
  std::string prefix;
  Compression compression = Compression::kUncompressed;
};

struct Destination {
  std::string bucket;  // from BucketARN arn:aws:s3:::<bucket>
  bool has_prefix = false;
  std::string prefix;
  bool has_error_prefix = false;
  std::string error_prefix;
  int buffer_size_mb = 5;       // SizeInMBs
  int buffer_interval_seconds = 300;  // IntervalInSeconds (0 = at once)
  Compression compression = Compression::kUncompressed;
  std::optional<std::string> file_extension;  // overrides the compression's extension
  std::string time_zone;                      // CustomTimeZone ("" = UTC)
  std::optional<LambdaProcessor> lambda;
  bool append_delimiter = false;  // AppendDelimiterToRecord processor
  std::string metadata_query;     // MetadataExtraction (partitionKeyFromQuery), "" = none
  bool dynamic_partitioning = false;
  std::optional<BackupDestination> backup;
};

struct StreamDef {
  std::string account;
  std::string region;
  std::string name;
  std::string arn;
  std::string id;  // unique per creation (names the internal log and the checkpoints)
  int64_t created_millis = 0;
  int64_t updated_millis = 0;
  int64_t version = 1;  // VersionId: +1 per UpdateDestination; appears in object names

  // Source: DirectPut (records in the internal log `direct_log`) or a Kinesis stream.
  bool kinesis_source = false;
  std::string source_log;       // the log stream read: internal or the Kinesis stream's
  std::string source_arn;       // KinesisStreamARN
  int64_t delivery_start_millis = 0;

  Destination destination;
  // Opaque to the engine; owned by the service (the destination as described, tags,
  // encryption settings).
  std::string attributes;
  // DeleteDeliveryStream was accepted: the stream drains and goes away (DELETING). Persisted,
  // so a restart finishes the deletion.
  bool deleting = false;
};

std::string EncodeStreamDef(const StreamDef& def);
// Errors: kInternal on corrupt data.
Result<StreamDef> DecodeStreamDef(std::string_view data);

}  // namespace salespipe::delivery
