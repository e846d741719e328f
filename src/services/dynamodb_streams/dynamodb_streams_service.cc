#include "services/dynamodb_streams/dynamodb_streams_service.h"

#include <cstdio>

#include "common/arn.h"
#include "common/crypto.h"

namespace salespipe::services::dynamodb_streams {

namespace {

constexpr int kMaxListLimit = 100;
constexpr int kMaxDescribeLimit = 100;
constexpr int kMaxRecordsLimit = 1000;
constexpr int64_t kMaxRecordsBytes = 1 << 20;  // AWS: 1 MB per GetRecords

std::string Finish(const rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

void CheckLength(ValidationErrors& errors, std::optional<std::string_view> value,
                 std::string_view path, size_t min, size_t max) {
  if (!value) return;
  if (value->size() < min) {
    errors.AddConstraint(Quote(*value), path,
                         "Member must have length greater than or equal to " + std::to_string(min));
  } else if (value->size() > max) {
    errors.AddConstraint(Quote(*value), path,
                         "Member must have length less than or equal to " + std::to_string(max));
  }
}

void CheckLimit(ValidationErrors& errors, std::optional<int64_t> limit, std::string_view path,
                int64_t max) {
  if (!limit) return;
  if (*limit < 1) {
    errors.AddConstraint(std::to_string(*limit), path,
                         "Member must have value greater than or equal to 1");
  } else if (*limit > max) {
    errors.AddConstraint(std::to_string(*limit), path,
                         "Member must have value less than or equal to " + std::to_string(max));
  }
}

Status StreamNotFound(std::string_view arn) {
  return Status::NotFound("Requested resource not found: Stream: " + std::string(arn) +
                          " not found");
}

const log::ShardInfo* FindShard(const cdc::StreamView& view, std::string_view shard_id) {
  for (const auto& shard : view.info.shards) {
    if (FormatShardId(shard) == shard_id) return &shard;
  }
  return nullptr;
}

void WriteShard(JsonWriter& w, const cdc::StreamView& view, const log::ShardInfo& shard) {
  w.StartObject();
  w.Key("ShardId");
  WriteString(w, FormatShardId(shard));
  w.Key("SequenceNumberRange");
  w.StartObject();
  w.Key("StartingSequenceNumber");
  WriteString(w, FormatSequenceNumber(shard.starting_sequence));
  if (shard.ending_sequence) {
    w.Key("EndingSequenceNumber");
    WriteString(w, FormatSequenceNumber(*shard.ending_sequence));
  }
  w.EndObject();
  if (shard.parent && *shard.parent < view.info.shards.size()) {
    w.Key("ParentShardId");
    WriteString(w, FormatShardId(view.info.shards[*shard.parent]));
  }
  w.EndObject();
}

// Maps log errors of reads to the Streams errors.
Status ReadError(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOutOfRange:
      return Status(ErrorCode::kOutOfRange,
                    "The operation attempted to read past the oldest stream record in a shard.")
          .WithAwsCode("TrimmedDataAccessException");
    case ErrorCode::kNotFound:
      return Status::NotFound("Requested resource not found: Shard does not exist");
    default:
      return status;
  }
}

}  // namespace

std::string FormatShardId(const log::ShardInfo& shard) {
  std::string key;
  kv::AppendUint64(&key, shard.id.stream.value);
  key.append(std::to_string(shard.id.index));
  char buf[48];
  std::snprintf(buf, sizeof(buf), "shardId-%020lld-%08x",
                static_cast<long long>(shard.created_millis), Crc32(key));
  return buf;
}

std::string FormatSequenceNumber(log::SequenceNumber sequence) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "4%020llu", static_cast<unsigned long long>(sequence.value));
  return buf;
}

std::optional<log::SequenceNumber> ParseSequenceNumber(std::string_view text) {
  if (text.size() != 21 || text[0] != '4') return std::nullopt;
  unsigned __int128 value = 0;
  for (char c : text.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > UINT64_MAX) return std::nullopt;
  return log::SequenceNumber{static_cast<uint64_t>(value)};
}

std::optional<StreamArnParts> ParseStreamArn(std::string_view arn) {
  std::optional<ArnParts> parts = SplitArn(arn);
  if (!parts || parts->service != "dynamodb" || !parts->resource.starts_with("table/")) {
    return std::nullopt;
  }
  std::string_view resource = parts->resource.substr(6);
  size_t stream = resource.find("/stream/");
  if (stream == std::string_view::npos || stream == 0) return std::nullopt;
  std::string_view label = resource.substr(stream + 8);
  if (label.empty() || label.find('/') != std::string_view::npos) return std::nullopt;
  return StreamArnParts{.region = std::string(parts->region),
                        .account_id = std::string(parts->account),
                        .table_name = std::string(resource.substr(0, stream)),
                        .label = std::string(label)};
}

DynamoDbStreamsService::DynamoDbStreamsService(table::Catalog& catalog,
                                               cdc::ChangeCapture& capture, const Clock& clock)
    : catalog_(catalog), capture_(capture), clock_(clock) {
  SetOperations({
      {"ListStreams", &DynamoDbStreamsService::ListStreams},
      {"DescribeStream", &DynamoDbStreamsService::DescribeStream},
      {"GetShardIterator", &DynamoDbStreamsService::GetShardIterator},
      {"GetRecords", &DynamoDbStreamsService::GetRecords},
  });
}

Result<cdc::StreamView> DynamoDbStreamsService::FindStream(std::string_view arn) {
  std::optional<StreamArnParts> parts = ParseStreamArn(arn);
  if (!parts) return Status::InvalidArgument("Invalid StreamArn");
  Result<cdc::StreamView> view =
      capture_.GetStream(parts->account_id, parts->region, parts->table_name, parts->label);
  if (!view.ok() && view.status().code() == ErrorCode::kNotFound) return StreamNotFound(arn);
  return view;
}

Result<std::string> DynamoDbStreamsService::ListStreams(const JsonValue& request,
                                                        const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string_view> table_name, GetString(request, "TableName"));
  ASSIGN_OR_RETURN(std::optional<int64_t> limit, GetInteger(request, "Limit"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> start,
                   GetString(request, "ExclusiveStartStreamArn"));
  ValidationErrors errors;
  CheckLength(errors, table_name, "tableName", 3, 255);
  CheckLimit(errors, limit, "limit", kMaxListLimit);
  CheckLength(errors, start, "exclusiveStartStreamArn", 37, 1024);
  RETURN_IF_ERROR(errors.ToStatus());

  std::vector<cdc::StreamView> streams = capture_.ListStreams(context.account_id, context.region);
  if (table_name) {
    std::erase_if(streams, [&](const cdc::StreamView& s) { return s.meta.table_name != *table_name; });
    if (streams.empty() && !catalog_.Get(context.account_id, context.region, *table_name).ok()) {
      return Status::NotFound("Requested resource not found: Table: " + std::string(*table_name) +
                              " not found");
    }
  }
  size_t begin = 0;
  if (start) {
    // Resume after the named stream (ordered by table name, then label).
    std::optional<StreamArnParts> parts = ParseStreamArn(*start);
    if (!parts) return Status::InvalidArgument("Invalid ExclusiveStartStreamArn");
    while (begin < streams.size() &&
           std::tie(streams[begin].meta.table_name, streams[begin].meta.label) <=
               std::tie(parts->table_name, parts->label)) {
      ++begin;
    }
  }
  const size_t max = static_cast<size_t>(limit.value_or(kMaxListLimit));
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("Streams");
  w.StartArray();
  size_t end = begin;
  for (; end < streams.size() && end - begin < max; ++end) {
    const auto& meta = streams[end].meta;
    w.StartObject();
    w.Key("StreamArn");
    WriteString(w, meta.Arn());
    w.Key("TableName");
    WriteString(w, meta.table_name);
    w.Key("StreamLabel");
    WriteString(w, meta.label);
    w.EndObject();
  }
  w.EndArray();
  if (end < streams.size() && end > begin) {
    w.Key("LastEvaluatedStreamArn");
    WriteString(w, streams[end - 1].meta.Arn());
  }
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbStreamsService::DescribeStream(const JsonValue& request,
                                                           const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string_view> arn, GetString(request, "StreamArn"));
  ASSIGN_OR_RETURN(std::optional<int64_t> limit, GetInteger(request, "Limit"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> start,
                   GetString(request, "ExclusiveStartShardId"));
  ASSIGN_OR_RETURN(const JsonValue* filter, GetObject(request, "ShardFilter"));
  std::optional<std::string_view> filter_type, filter_shard;
  if (filter) {
    ASSIGN_OR_RETURN(filter_type, GetString(*filter, "Type"));
    ASSIGN_OR_RETURN(filter_shard, GetString(*filter, "ShardId"));
  }
  ValidationErrors errors;
  if (!arn) errors.AddNull("streamArn");
  CheckLength(errors, arn, "streamArn", 37, 1024);
  CheckLimit(errors, limit, "limit", kMaxDescribeLimit);
  CheckLength(errors, start, "exclusiveStartShardId", 28, 65);
  if (filter_type && *filter_type != "CHILD_SHARDS") {
    errors.AddConstraint(Quote(*filter_type), "shardFilter.type",
                         "Member must satisfy enum value set: [CHILD_SHARDS]");
  }
  RETURN_IF_ERROR(errors.ToStatus());
  ASSIGN_OR_RETURN(cdc::StreamView view, FindStream(*arn));
  const auto& meta = view.meta;

  std::vector<const log::ShardInfo*> shards;
  for (const auto& shard : view.info.shards) {
    if (filter_type) {
      if (!shard.parent || !filter_shard ||
          FormatShardId(view.info.shards[*shard.parent]) != *filter_shard) {
        continue;
      }
    }
    shards.push_back(&shard);
  }
  size_t begin = 0;
  if (start) {
    for (size_t i = 0; i < shards.size(); ++i) {
      if (FormatShardId(*shards[i]) == *start) begin = i + 1;
    }
  }
  const size_t max = static_cast<size_t>(limit.value_or(kMaxDescribeLimit));
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("StreamDescription");
  w.StartObject();
  w.Key("StreamArn");
  WriteString(w, meta.Arn());
  w.Key("StreamLabel");
  WriteString(w, meta.label);
  w.Key("StreamStatus");
  w.String(meta.enabled ? "ENABLED" : "DISABLED");
  w.Key("StreamViewType");
  WriteString(w, meta.view_type);
  w.Key("CreationRequestDateTime");
  WriteEpochSeconds(w, meta.created_millis);
  w.Key("TableName");
  WriteString(w, meta.table_name);
  w.Key("KeySchema");
  w.StartArray();
  w.StartObject();
  w.Key("AttributeName");
  WriteString(w, meta.keys.hash.name);
  w.Key("KeyType");
  w.String("HASH");
  w.EndObject();
  if (meta.keys.range) {
    w.StartObject();
    w.Key("AttributeName");
    WriteString(w, meta.keys.range->name);
    w.Key("KeyType");
    w.String("RANGE");
    w.EndObject();
  }
  w.EndArray();
  w.Key("Shards");
  w.StartArray();
  size_t end = begin;
  for (; end < shards.size() && end - begin < max; ++end) WriteShard(w, view, *shards[end]);
  w.EndArray();
  if (end < shards.size() && end > begin) {
    w.Key("LastEvaluatedShardId");
    WriteString(w, FormatShardId(*shards[end - 1]));
  }
  w.EndObject();
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbStreamsService::GetShardIterator(const JsonValue& request,
                                                             const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string_view> arn, GetString(request, "StreamArn"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> shard_id, GetString(request, "ShardId"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> type, GetString(request, "ShardIteratorType"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> sequence, GetString(request, "SequenceNumber"));
  ValidationErrors errors;
  if (!arn) errors.AddNull("streamArn");
  CheckLength(errors, arn, "streamArn", 37, 1024);
  if (!shard_id) errors.AddNull("shardId");
  CheckLength(errors, shard_id, "shardId", 28, 65);
  if (!type) {
    errors.AddNull("shardIteratorType");
  } else if (*type != "TRIM_HORIZON" && *type != "LATEST" && *type != "AT_SEQUENCE_NUMBER" &&
             *type != "AFTER_SEQUENCE_NUMBER") {
    errors.AddConstraint(Quote(*type), "shardIteratorType",
                         "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, "
                         "AT_SEQUENCE_NUMBER, LATEST, TRIM_HORIZON]");
  }
  CheckLength(errors, sequence, "sequenceNumber", 21, 40);
  RETURN_IF_ERROR(errors.ToStatus());

  log::StartPosition position;
  if (*type == "TRIM_HORIZON") {
    position.type = log::StartPosition::Type::kTrimHorizon;
  } else if (*type == "LATEST") {
    position.type = log::StartPosition::Type::kLatest;
  } else {
    position.type = *type == "AT_SEQUENCE_NUMBER" ? log::StartPosition::Type::kAtSequence
                                                  : log::StartPosition::Type::kAfterSequence;
    if (!sequence) {
      return Status::InvalidArgument("Must specify a sequence number for iterator type " +
                                     std::string(*type));
    }
    std::optional<log::SequenceNumber> parsed = ParseSequenceNumber(*sequence);
    if (!parsed) return Status::InvalidArgument("Invalid SequenceNumber: " + std::string(*sequence));
    position.sequence = *parsed;
  }
  ASSIGN_OR_RETURN(cdc::StreamView view, FindStream(*arn));
  const log::ShardInfo* shard = FindShard(view, *shard_id);
  if (shard == nullptr) {
    return Status::NotFound("Requested resource not found: Shard does not exist");
  }
  Result<std::string> token = capture_.log().NewIterator(shard->id, position);
  if (!token.ok()) {
    if (token.status().code() == ErrorCode::kInvalidArgument) {
      return Status::InvalidArgument("Invalid SequenceNumber " + std::string(*sequence) +
                                     " for shard " + std::string(*shard_id));
    }
    return ReadError(token.status());
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("ShardIterator");
  WriteString(w, view.meta.Arn() + "|1|" + *token);
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbStreamsService::GetRecords(const JsonValue& request,
                                                       const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string_view> iterator, GetString(request, "ShardIterator"));
  ASSIGN_OR_RETURN(std::optional<int64_t> limit, GetInteger(request, "Limit"));
  ValidationErrors errors;
  if (!iterator) errors.AddNull("shardIterator");
  CheckLength(errors, iterator, "shardIterator", 1, 2048);
  CheckLimit(errors, limit, "limit", kMaxRecordsLimit);
  RETURN_IF_ERROR(errors.ToStatus());

  const size_t bar = iterator->rfind('|');
  if (bar == std::string_view::npos || bar < 2 || iterator->substr(bar - 2, 3) != "|1|") {
    return Status::InvalidArgument("Invalid ShardIterator");
  }
  const std::string_view arn = iterator->substr(0, bar - 2);
  Result<log::IteratorState> state =
      log::DecodeIterator(iterator->substr(bar + 1), clock_.NowMillis(), kIteratorTtl);
  if (!state.ok()) {
    if (state.status().code() == ErrorCode::kFailedPrecondition) {
      return Status(ErrorCode::kDeadlineExceeded,
                    "Iterator expired. The iterator was created more than 900000 milliseconds "
                    "ago, which is further in the past than the tolerated delay.")
          .WithAwsCode("ExpiredIteratorException");
    }
    return Status::InvalidArgument("Invalid ShardIterator");
  }
  // The token must name a shard of the stream the iterator's ARN names.
  Result<cdc::StreamView> view = capture_.GetStreamById(state->shard.stream);
  if (!view.ok() || view->meta.Arn() != arn) {
    return Status::NotFound("Requested resource not found: Stream: " + std::string(arn) +
                            " not found");
  }
  Result<log::ShardLog::IteratorRead> read = capture_.log().ReadIterator(
      iterator->substr(bar + 1), kIteratorTtl,
      {.max_records = static_cast<int>(limit.value_or(kMaxRecordsLimit)),
       .max_bytes = kMaxRecordsBytes});
  if (!read.ok()) return ReadError(read.status());

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("Records");
  w.StartArray();
  for (const log::Record& record : read->result.records) {
    ASSIGN_OR_RETURN(std::string json,
                     capture_.StreamRecordJson(view->meta, record,
                                               FormatSequenceNumber(record.sequence)));
    w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  }
  w.EndArray();
  if (read->next_iterator) {
    w.Key("NextShardIterator");
    WriteString(w, std::string(arn) + "|1|" + *read->next_iterator);
  }
  w.EndObject();
  return Finish(buffer);
}

}  // namespace salespipe::services::dynamodb_streams
