#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/mutex.h"
#include "kv/db.h"
#include "log/shard_log.h"
#include "services/json.h"
#include "services/json_operations.h"
#include "services/service.h"

namespace salespipe::services::kinesis {

// Kinesis Data Streams' wire API (json 1.1, target Kinesis_20131202; CBOR bodies are converted
// at the edge, see services/cbor.h) over the log engine. Streams live in the ShardLog under
// the name "kinesis/<account>/<region>/<StreamName>"; tags, mode and consumers live in the
// stream's attribute blob (JSON). Differences from AWS: docs/compat/kinesis.md.
// Thread-safe.
class KinesisService final : public JsonOperationService<KinesisService> {
 public:
  // `log` and `clock` must outlive this object.
  KinesisService(log::ShardLog& log, const Clock& clock);

  std::string_view target_prefix() const override { return "Kinesis_20131202"; }
  std::string_view service_name() const override { return "kinesis"; }
  std::string_view content_type() const override { return "application/x-amz-json-1.1"; }
  std::string_view error_namespace() const override { return ""; }
  const CborHints* cbor_hints() const override { return &cbor_hints_; }

  // The log stream name of Kinesis stream `name` (for connectors that write to Kinesis).
  static std::string LogName(std::string_view account, std::string_view region,
                             std::string_view name);
  // Kinesis's 56-digit text of `sequence` in `shard`, and back.
  static std::string FormatSequenceNumber(log::ShardId shard, log::SequenceNumber sequence);
  static constexpr size_t kSequenceNumberDigits = 56;
  // Writes FormatSequenceNumber's kSequenceNumberDigits digits to `out` (no allocation).
  static void FormatSequenceNumberTo(log::ShardId shard, log::SequenceNumber sequence, char* out);
  // Errors: kInvalidArgument if `text` is not a Kinesis sequence number.
  static Result<std::pair<log::ShardId, log::SequenceNumber>> ParseSequenceNumber(
      std::string_view text);
  static std::string FormatShardId(uint32_t index);

 private:
  Result<std::string> CreateStream(const JsonValue& request, const RequestContext& context);
  Result<std::string> DeleteStream(const JsonValue& request, const RequestContext& context);
  Result<std::string> DescribeStream(const JsonValue& request, const RequestContext& context);
  Result<std::string> DescribeStreamSummary(const JsonValue& request,
                                            const RequestContext& context);
  Result<std::string> ListStreams(const JsonValue& request, const RequestContext& context);
  Result<std::string> ListShards(const JsonValue& request, const RequestContext& context);
  void PutRecord(const JsonValue& request, const RequestContext& context, Reply reply);
  void PutRecords(const JsonValue& request, const RequestContext& context, Reply reply);
  // Where one record of a PutRecords went: its shard and number, or no shard if it failed.
  struct PutOutcome {
    std::optional<log::ShardId> shard;
    log::SequenceNumber seq;
  };
  // Validates a PutRecords request and appends its records to one batch, to be committed;
  // `outcomes` gets one entry per record.
  Result<kv::Batch> AppendPutRecords(const JsonValue& request, const RequestContext& context,
                                     std::vector<PutOutcome>* outcomes);
  static std::string RenderPutRecords(const std::vector<PutOutcome>& outcomes);
  Result<std::string> GetShardIterator(const JsonValue& request, const RequestContext& context);
  Result<std::string> GetRecords(const JsonValue& request, const RequestContext& context);
  Result<std::string> IncreaseStreamRetentionPeriod(const JsonValue& request,
                                                    const RequestContext& context);
  Result<std::string> DecreaseStreamRetentionPeriod(const JsonValue& request,
                                                    const RequestContext& context);
  Result<std::string> UpdateShardCount(const JsonValue& request, const RequestContext& context);
  Result<std::string> SplitShard(const JsonValue& request, const RequestContext& context);
  Result<std::string> MergeShards(const JsonValue& request, const RequestContext& context);
  Result<std::string> AddTagsToStream(const JsonValue& request, const RequestContext& context);
  Result<std::string> RemoveTagsFromStream(const JsonValue& request, const RequestContext& context);
  Result<std::string> ListTagsForStream(const JsonValue& request, const RequestContext& context);
  Result<std::string> TagResource(const JsonValue& request, const RequestContext& context);
  Result<std::string> UntagResource(const JsonValue& request, const RequestContext& context);
  Result<std::string> ListTagsForResource(const JsonValue& request, const RequestContext& context);
  Result<std::string> RegisterStreamConsumer(const JsonValue& request,
                                             const RequestContext& context);
  Result<std::string> DescribeStreamConsumer(const JsonValue& request,
                                             const RequestContext& context);
  Result<std::string> ListStreamConsumers(const JsonValue& request, const RequestContext& context);
  Result<std::string> DeregisterStreamConsumer(const JsonValue& request,
                                               const RequestContext& context);
  Result<std::string> DescribeLimits(const JsonValue& request, const RequestContext& context);

  Result<std::string> ChangeRetention(const JsonValue& request, const RequestContext& context,
                                      bool increase);
  Result<std::string> ChangeTags(std::string_view name, std::string_view account,
                                 std::string_view region, const JsonValue* add,
                                 const JsonValue* remove);

  // Set at construction.
  log::ShardLog& log_;
  const Clock& clock_;
  const CborHints cbor_hints_{.blob_members = {"Data"}, .timestamp_suffixes = {"Timestamp"}};

  // Serializes control-plane read-modify-writes of stream attributes and shards.
  Mutex mu_;
};

}  // namespace salespipe::services::kinesis
