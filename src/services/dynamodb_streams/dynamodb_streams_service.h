#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cdc/change_capture.h"
#include "common/clock.h"
#include "services/json.h"
#include "services/json_operations.h"
#include "services/service.h"
#include "table/catalog.h"

namespace salespipe::services::dynamodb_streams {

// Wire formats of DynamoDB Streams identifiers (spec 3.2; botocore checks their lengths):
//   ShardId         "shardId-" + 20-digit creation millis + "-" + 8 hex (crc of stream, shard)
//   SequenceNumber  "4" + the log's uint64 sequence number as 20 digits (21 digits in all)
//   ShardIterator   "<StreamArn>|1|<log iterator token>"
std::string FormatShardId(const log::ShardInfo& shard);
std::string FormatSequenceNumber(log::SequenceNumber sequence);
// nullopt unless `text` is exactly what FormatSequenceNumber produces.
std::optional<log::SequenceNumber> ParseSequenceNumber(std::string_view text);

// Where a stream ARN points: arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>.
struct StreamArnParts {
  std::string region;
  std::string account_id;
  std::string table_name;
  std::string label;
};
std::optional<StreamArnParts> ParseStreamArn(std::string_view arn);

// DynamoDB Streams (json 1.0, target DynamoDBStreams_20120810, signing name dynamodb) over the
// change capture's log streams. Thread-safe.
class DynamoDbStreamsService final : public JsonOperationService<DynamoDbStreamsService> {
 public:
  // Iterators expire after 15 minutes (AWS).
  static constexpr std::chrono::milliseconds kIteratorTtl{15 * 60 * 1000};

  // All references must outlive this object.
  DynamoDbStreamsService(table::Catalog& catalog, cdc::ChangeCapture& capture,
                         const Clock& clock);

  std::string_view target_prefix() const override { return "DynamoDBStreams_20120810"; }
  std::string_view service_name() const override { return "dynamodb"; }
  std::string_view content_type() const override { return "application/x-amz-json-1.0"; }
  std::string_view error_namespace() const override {
    return "com.amazonaws.dynamodb.v20120810#";
  }
  bool wants_crc32() const override { return true; }

 private:
  Result<std::string> ListStreams(const JsonValue& request, const RequestContext& context);
  Result<std::string> DescribeStream(const JsonValue& request, const RequestContext& context);
  Result<std::string> GetShardIterator(const JsonValue& request, const RequestContext& context);
  Result<std::string> GetRecords(const JsonValue& request, const RequestContext& context);

  // Errors: kInvalidArgument for a malformed ARN; kNotFound for an unknown stream.
  Result<cdc::StreamView> FindStream(std::string_view arn);

  // Set at construction.
  table::Catalog& catalog_;
  cdc::ChangeCapture& capture_;
  const Clock& clock_;
};

}  // namespace salespipe::services::dynamodb_streams
