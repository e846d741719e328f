#pragma once

// Request checks and response pieces shared by the Kinesis operations
// (kinesis_service.cc, kinesis_admin_ops.cc). Internal to services/kinesis.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/kinesis/kinesis_service.h"

namespace salespipe::services::kinesis {

using log::HashKey;
using log::SequenceNumber;
using log::ShardId;
using log::ShardInfo;
using log::StreamInfo;
inline constexpr int64_t kMaxRecordBytes = 1024 * 1024;

inline constexpr int64_t kMaxPutRecordsBytes = 5 * 1024 * 1024;

inline constexpr int kMaxPutRecords = 500;

inline constexpr auto kIteratorTtl = std::chrono::minutes(5);

inline constexpr int kMinRetentionHours = 24;

inline constexpr int kMaxRetentionHours = 8760;

inline constexpr int kOnDemandShards = 4;

inline constexpr int kShardLimit = 500;

Status Validation(const ValidationErrors& errors);

inline Status InvalidArgument(std::string message) {
  return Status::InvalidArgument(std::move(message));
}

std::string Arn(std::string_view region, std::string_view account, std::string_view name);

bool ValidName(std::string_view name);

// Stream attributes (persisted in the log as JSON; add members, never rename).
struct Consumer {
  std::string name;
  std::string arn;
  int64_t created_millis = 0;
};

struct Attributes {
  std::string mode = "PROVISIONED";
  std::map<std::string, std::string> tags;
  std::vector<Consumer> consumers;
};

Attributes ParseAttributes(std::string_view text);

std::string SerializeAttributes(const Attributes& attributes);

// The stream a request names by StreamName or StreamARN.
struct Target {
  std::string name;
  std::string account;
  std::string region;
};

// Parses arn:aws:kinesis:<region>:<account>:stream/<name>[/consumer/<c>:<t>].
std::optional<Target> ParseStreamArn(std::string_view arn, std::string* consumer = nullptr);

std::string NotFoundMessage(std::string_view name, std::string_view account);

// Reads StreamName / StreamARN (either; the ARN wins) with model constraints into `errors`.
Result<std::optional<Target>> ReadTarget(const JsonValue& request, const RequestContext& context,
                                         ValidationErrors& errors, bool required = true);

std::string WriteTimestampless(const std::function<void(JsonWriter&)>& body);

void WriteHashRange(JsonWriter& w, const log::HashKeyRange& range);

void WriteShard(JsonWriter& w, const ShardInfo& shard);

void WriteModeDetails(JsonWriter& w, const Attributes& attributes);

std::optional<uint32_t> ParseShardIndex(std::string_view shard_id);

Status ShardNotFound(std::string_view shard_id, const Target& target);

Result<std::optional<double>> GetNumber(const JsonValue& request, std::string_view name);

void AddLengthConstraint(ValidationErrors& errors, std::string_view value, std::string_view path,
                         size_t min, size_t max);

void AddRangeConstraint(ValidationErrors& errors, std::optional<int64_t> value,
                        std::string_view path, int64_t min, int64_t max);

// Looks the target stream up in the log.
// Errors: kNotFound "Stream <name> under account <account> not found."
Result<StreamInfo> Lookup(const log::ShardLog& log, const Target& target);

}  // namespace salespipe::services::kinesis
