#include "services/lambda/event_format.h"

#include <cstdio>

#include "cdc/change_capture.h"
#include "common/crypto.h"
#include "common/logging.h"
#include "services/dynamodb_streams/dynamodb_streams_service.h"
#include "services/json.h"
#include "services/lambda/lambda_request.h"
#include "services/kinesis/kinesis_service.h"

namespace salespipe::services::lambda {

std::string EventFormatter::Event(const salespipe::lambda::MappingConfig& mapping,
                                  const log::ShardInfo& shard,
                                  const std::vector<log::Record>& records) const {
  std::string out = "{\"Records\":[";
  std::string arn_member = ToJsonString(mapping.event_source_arn);
  if (mapping.kind == salespipe::lambda::SourceKind::kDynamoDbStream) {
    Result<cdc::StreamView> stream = capture_.GetStreamById(shard.id.stream);
    if (!stream.ok()) {
      SPDLOG_ERROR("event source mapping {}: stream of shard gone", mapping.uuid);
      return "{\"Records\":[]}";
    }
    bool first = true;
    for (const log::Record& record : records) {
      Result<std::string> json = capture_.StreamRecordJson(
          stream->meta, record, dynamodb_streams::FormatSequenceNumber(record.sequence));
      if (!json.ok() || json->empty() || json->back() != '}') {
        SPDLOG_ERROR("event source mapping {}: corrupt stream record", mapping.uuid);
        continue;
      }
      if (!first) out += ',';
      first = false;
      json->pop_back();
      out += *json;
      out += ",\"eventSourceARN\":";
      out += arn_member;
      out += '}';
    }
    out += "]}";
    return out;
  }
  std::string role;
  if (Result<salespipe::lambda::FunctionRef> ref = salespipe::lambda::ParseFunctionRef(
          mapping.function_arn, mapping.account_id, mapping.region);
      ref.ok()) {
    if (auto function = store_.Get(ref->account_id, ref->region, ref->name); function.ok()) {
      role = (*function)->latest.role;
    }
  }
  const std::string shard_id = kinesis::KinesisService::FormatShardId(shard.id.index);
  bool first = true;
  for (const log::Record& record : records) {
    std::string sequence = kinesis::KinesisService::FormatSequenceNumber(shard.id, record.sequence);
    if (!first) out += ',';
    first = false;
    out += ToJson([&](JsonWriter& w) {
      w.StartObject();
      WriteKey(w, "kinesis");
      w.StartObject();
      WriteKey(w, "kinesisSchemaVersion");
      WriteString(w, "1.0");
      WriteKey(w, "partitionKey");
      WriteString(w, record.partition_key);
      WriteKey(w, "sequenceNumber");
      WriteString(w, sequence);
      WriteKey(w, "data");
      WriteString(w, Base64Encode(record.data));
      WriteKey(w, "approximateArrivalTimestamp");
      WriteEpochSeconds(w, record.arrival_millis);
      w.EndObject();
      WriteKey(w, "eventSource");
      WriteString(w, "aws:kinesis");
      WriteKey(w, "eventVersion");
      WriteString(w, "1.0");
      WriteKey(w, "eventID");
      WriteString(w, shard_id + ":" + sequence);
      WriteKey(w, "eventName");
      WriteString(w, "aws:kinesis:record");
      WriteKey(w, "invokeIdentityArn");
      WriteString(w, role);
      WriteKey(w, "awsRegion");
      WriteString(w, mapping.region);
      WriteKey(w, "eventSourceARN");
      WriteString(w, mapping.event_source_arn);
      w.EndObject();
    });
  }
  out += "]}";
  return out;
}

std::optional<log::SequenceNumber> EventFormatter::ParseItemIdentifier(
    const salespipe::lambda::MappingConfig& mapping, std::string_view identifier) const {
  if (mapping.kind == salespipe::lambda::SourceKind::kDynamoDbStream) {
    return dynamodb_streams::ParseSequenceNumber(identifier);
  }
  auto parsed = kinesis::KinesisService::ParseSequenceNumber(identifier);
  if (!parsed.ok()) return std::nullopt;
  return parsed->second;
}

}  // namespace salespipe::services::lambda
