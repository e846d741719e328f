#pragma once

#include "cdc/change_capture.h"
#include "lambda/event_source_mapping.h"
#include "lambda/function_store.h"

namespace salespipe::services::lambda {

// The events event source mappings send (spec 7.4), rendered as AWS does:
//   Kinesis:  {"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":..,
//              "sequenceNumber":<56 digits>,"data":<base64>,"approximateArrivalTimestamp":<s>},
//              "eventSource":"aws:kinesis","eventVersion":"1.0",
//              "eventID":"shardId-000000000000:<sequence>","eventName":"aws:kinesis:record",
//              "invokeIdentityArn":<function role>,"awsRegion":..,"eventSourceARN":..}]}
//   DynamoDB: {"Records":[<the record exactly as DynamoDB Streams GetRecords shows it>
//              + "eventSourceARN"]}
// batchItemFailures' itemIdentifier is the record's sequence number in the same text form.
// Thread-safe.
class EventFormatter final : public salespipe::lambda::EventFormatter {
 public:
  // `store` (for the function's role) and `capture` (which formats DynamoDB stream records)
  // must outlive the formatter.
  EventFormatter(const salespipe::lambda::FunctionStore& store, const cdc::ChangeCapture& capture)
      : store_(store), capture_(capture) {}

  std::string Event(const salespipe::lambda::MappingConfig& mapping, const log::ShardInfo& shard,
                    const std::vector<log::Record>& records) const override;
  std::optional<log::SequenceNumber> ParseItemIdentifier(
      const salespipe::lambda::MappingConfig& mapping,
      std::string_view identifier) const override;

 private:
  const salespipe::lambda::FunctionStore& store_;
  const cdc::ChangeCapture& capture_;
};

}  // namespace salespipe::services::lambda
