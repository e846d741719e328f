#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "delivery/stream_def.h"
#include "lambda/invoker.h"

// The Lambda data-transformation contract of Firehose (spec 6.6): the event Firehose sends,
// the response it expects, the retries and the error-output envelope. Pure functions except
// Transform, which calls the Invoker. Thread-safe.
namespace salespipe::delivery {

// A record read from a delivery stream's source, as the transform and the buffers see it.
struct SourceRecord {
  uint32_t shard = 0;     // source shard index (0 for DirectPut)
  uint64_t sequence = 0;  // log sequence number in that shard
  int64_t arrival_millis = 0;
  std::string partition_key;     // Kinesis sources
  std::string data;
  std::string record_id;         // unique within the delivery stream
  std::string kinesis_sequence;  // Kinesis's text of the sequence number (Kinesis sources)
};

// Who invokes, for the event's top-level members.
struct TransformContext {
  std::string stream_arn;
  std::string region;
  std::string account;
  std::string source_kinesis_arn;  // set for Kinesis sources: adds kinesisRecordMetadata
};

struct TransformedRecord {
  size_t index = 0;  // into the input records
  std::string data;
  std::map<std::string, std::string> partition_keys;  // metadata.partitionKeys
};

struct FailedRecord {
  size_t index = 0;
  std::string error_code;  // "Lambda.ProcessingFailedStatus", ...
  std::string error_message;
  int attempts = 1;
  int64_t attempt_ending_millis = 0;
};

struct TransformResult {
  std::vector<TransformedRecord> ok;  // in input order
  std::vector<FailedRecord> failed;   // in input order
  int dropped = 0;
  int invocations = 0;
};

// Lambda's limits on a synchronous invocation's request and response.
inline constexpr size_t kMaxInvokePayload = 6 * 1000 * 1000;

// The invocation event for `records` (in order): invocationId, deliveryStreamArn, region,
// records[{recordId, approximateArrivalTimestamp (ms), data (base64)}], plus
// sourceKinesisStreamArn and kinesisRecordMetadata for Kinesis sources.
std::string BuildTransformEvent(const TransformContext& context,
                                const std::vector<const SourceRecord*>& records,
                                std::string_view invocation_id);

// A whole-invocation failure (everything in the batch fails with it after the retries).
struct InvocationError {
  std::string code;
  std::string message;
};

// Reads the function's response for `records`. Fills `result` (ok, ProcessingFailed as failed
// with attempts 1, dropped) and returns nullopt, or returns the error that fails the whole
// invocation: Lambda.MissingRecordId, Lambda.DuplicatedRecordId, Lambda.JsonProcessingException.
// `payload` is parsed in place (its strings are decoded into its own buffer).
std::optional<InvocationError> ParseTransformResponse(std::string payload,
                                                      const std::vector<const SourceRecord*>& records,
                                                      int64_t now_millis, TransformResult* result);

// Invokes `processor` for `records` (RequestResponse), retrying a failed invocation
// processor.retries times; records of an invocation that still fails get its error code.
// `invoker` may be null (no Lambda service): every attempt fails with Lambda.ResourceNotFound.
// Blocks for the invocations: never call on an io thread.
TransformResult Transform(lambda::Invoker* invoker, const LambdaProcessor& processor,
                          const TransformContext& context,
                          const std::vector<const SourceRecord*>& records, const Clock& clock);

// One error-output document (newline-terminated JSON) for `record` (spec 6.6):
// attemptsMade, arrivalTimestamp, errorCode, errorMessage, attemptEndingTimestamp, rawData
// (base64 of the original record), lambdaArn (when a processor is set).
std::string ErrorEnvelope(const SourceRecord& record, const FailedRecord& failure,
                          std::string_view lambda_arn);

}  // namespace salespipe::delivery
