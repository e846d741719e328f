// Kinesis Data Streams over the log engine. Each operation checks its request in AWS's order:
// JSON types (SerializationException), model constraints (one aggregated
// ValidationException), semantic checks (InvalidArgumentException), then the stream lookup
// (ResourceNotFoundException). Differences from AWS: docs/compat/kinesis.md.

#include "services/kinesis/kinesis_service.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <regex>

#include "common/crypto.h"
#include "common/logging.h"
#include "services/kinesis/kinesis_request.h"

namespace salespipe::services::kinesis {

// ---------------------------------------------------------------------------------------------

std::string KinesisService::LogName(std::string_view account, std::string_view region,
                                    std::string_view name) {
  std::string out = "kinesis/";
  out.append(account).append("/").append(region).append("/").append(name);
  return out;
}

namespace {
// Writes `value` as exactly `width` decimal digits, zero-padded (printf's %0<width>llu for
// values that fit): snprintf costs ~10x more and runs for every record PutRecords answers.
void PutDigits(char* out, int width, unsigned long long value) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}
}  // namespace

std::string KinesisService::FormatShardId(uint32_t index) {
  std::string out = "shardId-000000000000";
  PutDigits(out.data() + 8, 12, index);
  return out;
}

// 56 digits: "49" | stream id (20) | shard index (14) | engine sequence (20). Within a shard the
// prefix is fixed, so numeric order is the engine's order; the shard is recoverable, as AWS's
// numbers encode theirs (GetShardIterator checks it).
std::string KinesisService::FormatSequenceNumber(log::ShardId shard, log::SequenceNumber seq) {
  std::string out(kSequenceNumberDigits, '0');
  FormatSequenceNumberTo(shard, seq, out.data());
  return out;
}

void KinesisService::FormatSequenceNumberTo(log::ShardId shard, log::SequenceNumber seq,
                                            char* out) {
  out[0] = '4';
  out[1] = '9';
  PutDigits(out + 2, 20, shard.stream.value);
  PutDigits(out + 22, 14, shard.index);
  PutDigits(out + 36, 20, seq.value);
}

Result<std::pair<log::ShardId, log::SequenceNumber>> KinesisService::ParseSequenceNumber(
    std::string_view text) {
  const Status invalid = InvalidArgument("StartingSequenceNumber " + std::string(text) +
                                         " used in GetShardIterator is invalid.");
  if (text.size() != 56 || !text.starts_with("49")) return invalid;
  auto number = [&](size_t pos, size_t len, unsigned long long max) -> std::optional<uint64_t> {
    unsigned long long value = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      char c = text[i];
      if (c < '0' || c > '9') return std::nullopt;
      if (value > (max - static_cast<unsigned>(c - '0')) / 10) return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value;
  };
  auto stream = number(2, 20, UINT64_MAX);
  auto shard = number(22, 14, UINT32_MAX);
  auto seq = number(36, 20, UINT64_MAX);
  if (!stream || !shard || !seq) return invalid;
  return std::make_pair(ShardId{log::StreamId{*stream}, static_cast<uint32_t>(*shard)},
                        SequenceNumber{*seq});
}

KinesisService::KinesisService(log::ShardLog& log, const Clock& clock) : log_(log), clock_(clock) {
  SetOperations({
      {"CreateStream", &KinesisService::CreateStream},
      {"DeleteStream", &KinesisService::DeleteStream},
      {"DescribeStream", &KinesisService::DescribeStream},
      {"DescribeStreamSummary", &KinesisService::DescribeStreamSummary},
      {"ListStreams", &KinesisService::ListStreams},
      {"ListShards", &KinesisService::ListShards},
      {"GetShardIterator", &KinesisService::GetShardIterator},
      {"GetRecords", &KinesisService::GetRecords},
      {"IncreaseStreamRetentionPeriod", &KinesisService::IncreaseStreamRetentionPeriod},
      {"DecreaseStreamRetentionPeriod", &KinesisService::DecreaseStreamRetentionPeriod},
      {"UpdateShardCount", &KinesisService::UpdateShardCount},
      {"SplitShard", &KinesisService::SplitShard},
      {"MergeShards", &KinesisService::MergeShards},
      {"AddTagsToStream", &KinesisService::AddTagsToStream},
      {"RemoveTagsFromStream", &KinesisService::RemoveTagsFromStream},
      {"ListTagsForStream", &KinesisService::ListTagsForStream},
      {"TagResource", &KinesisService::TagResource},
      {"UntagResource", &KinesisService::UntagResource},
      {"ListTagsForResource", &KinesisService::ListTagsForResource},
      {"RegisterStreamConsumer", &KinesisService::RegisterStreamConsumer},
      {"DescribeStreamConsumer", &KinesisService::DescribeStreamConsumer},
      {"ListStreamConsumers", &KinesisService::ListStreamConsumers},
      {"DeregisterStreamConsumer", &KinesisService::DeregisterStreamConsumer},
      {"DescribeLimits", &KinesisService::DescribeLimits},
  });
  // Puts answer once their group commit is durable, without holding the io thread meanwhile.
  SetDeferredOperations({
      {"PutRecord", &KinesisService::PutRecord},
      {"PutRecords", &KinesisService::PutRecords},
  });
}

// ---------------------------------------------------------------------------------------------
// Streams

Result<std::string> KinesisService::CreateStream(const JsonValue& request,
                                                 const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto name, GetString(request, "StreamName"));
  ASSIGN_OR_RETURN(auto shard_count, GetInteger(request, "ShardCount"));
  ASSIGN_OR_RETURN(const JsonValue* mode_details, GetObject(request, "StreamModeDetails"));
  ASSIGN_OR_RETURN(const JsonValue* tags, GetObject(request, "Tags"));
  std::string mode = "PROVISIONED";
  if (mode_details) {
    ASSIGN_OR_RETURN(auto m, GetString(*mode_details, "StreamMode"));
    if (!m) {
      errors.AddNull("streamModeDetails.streamMode");
    } else if (*m != "PROVISIONED" && *m != "ON_DEMAND") {
      errors.AddConstraint(*m, "streamModeDetails.streamMode",
                           "Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]");
    } else {
      mode = std::string(*m);
    }
  }
  if (!name) {
    errors.AddNull("streamName");
  } else if (!ValidName(*name)) {
    AddLengthConstraint(errors, *name, "streamName", 1, 128);
    if (!name->empty() && name->size() <= 128) {
      errors.AddConstraint(*name, "streamName",
                           "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
    }
  }
  AddRangeConstraint(errors, shard_count, "shardCount", 1, 100000);
  RETURN_IF_ERROR(Validation(errors));
  if (!shard_count && mode == "PROVISIONED") {
    return InvalidArgument("ShardCount is required for PROVISIONED streams.");
  }
  int count = shard_count ? static_cast<int>(*shard_count) : kOnDemandShards;
  if (count > kShardLimit) {
    return Status::ResourceExhausted(
        "This request would exceed the shard limit for the account " + context.account_id + " in " +
        context.region +
        ". Current shard count for the account: 0. Limit: " + std::to_string(kShardLimit) + ".");
  }
  Attributes attributes;
  attributes.mode = mode;
  if (tags) {
    for (auto& m : tags->GetObject()) {
      if (!m.value.IsString()) return SerializationError("Expected string tag value");
      attributes.tags[m.name.GetString()] = m.value.GetString();
    }
  }
  auto created = log_.CreateStream({.name = LogName(context.account_id, context.region, *name),
                                    .attributes = SerializeAttributes(attributes),
                                    .shards = log::UniformHashKeyRanges(count)});
  if (!created.ok()) {
    if (created.status().code() == ErrorCode::kAlreadyExists) {
      return Status::AlreadyExists("Stream " + std::string(*name) + " under account " +
                                   context.account_id + " already exists.");
    }
    return created.status();
  }
  return std::string("{}");
}

Result<std::string> KinesisService::DeleteStream(const JsonValue& request,
                                                 const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto target, ReadTarget(request, context, errors));
  ASSIGN_OR_RETURN(auto enforce, GetBool(request, "EnforceConsumerDeletion"));
  RETURN_IF_ERROR(Validation(errors));
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, *target));
  Attributes attributes = ParseAttributes(stream.attributes);
  if (!attributes.consumers.empty() && !enforce.value_or(false)) {
    return Status::FailedPrecondition("Stream " + target->name + " under account " +
                                      target->account +
                                      " has registered consumers. Set EnforceConsumerDeletion "
                                      "to delete them with the stream.");
  }
  RETURN_IF_ERROR(log_.DeleteStream(stream.id));
  return std::string("{}");
}

namespace {

// The members DescribeStream and DescribeStreamSummary share after the shards: retention,
// creation time, (no) enhanced monitoring and (no) encryption.
void WriteStreamSettings(JsonWriter& w, const StreamInfo& stream) {
  WriteKey(w, "RetentionPeriodHours");
  w.Int64(stream.retention.count());
  WriteKey(w, "StreamCreationTimestamp");
  WriteEpochSeconds(w, stream.created_millis);
  WriteKey(w, "EnhancedMonitoring");
  w.StartArray();
  w.StartObject();
  WriteKey(w, "ShardLevelMetrics");
  w.StartArray();
  w.EndArray();
  w.EndObject();
  w.EndArray();
  WriteKey(w, "EncryptionType");
  WriteString(w, "NONE");
}

}  // namespace

Result<std::string> KinesisService::DescribeStream(const JsonValue& request,
                                                   const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto target, ReadTarget(request, context, errors));
  ASSIGN_OR_RETURN(auto limit, GetInteger(request, "Limit"));
  ASSIGN_OR_RETURN(auto exclusive_start, GetString(request, "ExclusiveStartShardId"));
  AddRangeConstraint(errors, limit, "limit", 1, 10000);
  RETURN_IF_ERROR(Validation(errors));
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, *target));
  Attributes attributes = ParseAttributes(stream.attributes);
  size_t begin = 0;
  if (exclusive_start) {
    auto index = ParseShardIndex(*exclusive_start);
    begin = index ? *index + 1 : stream.shards.size();
  }
  size_t max = static_cast<size_t>(limit.value_or(100));
  size_t end = std::min(stream.shards.size(), begin + max);
  if (begin > stream.shards.size()) begin = end = stream.shards.size();
  return WriteTimestampless([&](JsonWriter& w) {
    w.StartObject();
    WriteKey(w, "StreamDescription");
    w.StartObject();
    WriteKey(w, "StreamName");
    WriteString(w, target->name);
    WriteKey(w, "StreamARN");
    WriteString(w, Arn(target->region, target->account, target->name));
    WriteKey(w, "StreamStatus");
    WriteString(w, "ACTIVE");
    WriteModeDetails(w, attributes);
    WriteKey(w, "Shards");
    w.StartArray();
    for (size_t i = begin; i < end; ++i) WriteShard(w, stream.shards[i]);
    w.EndArray();
    WriteKey(w, "HasMoreShards");
    w.Bool(end < stream.shards.size());
    WriteStreamSettings(w, stream);
    w.EndObject();
    w.EndObject();
  });
}

Result<std::string> KinesisService::DescribeStreamSummary(const JsonValue& request,
                                                          const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto target, ReadTarget(request, context, errors));
  RETURN_IF_ERROR(Validation(errors));
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, *target));
  Attributes attributes = ParseAttributes(stream.attributes);
  return WriteTimestampless([&](JsonWriter& w) {
    w.StartObject();
    WriteKey(w, "StreamDescriptionSummary");
    w.StartObject();
    WriteKey(w, "StreamName");
    WriteString(w, target->name);
    WriteKey(w, "StreamARN");
    WriteString(w, Arn(target->region, target->account, target->name));
    WriteKey(w, "StreamStatus");
    WriteString(w, "ACTIVE");
    WriteModeDetails(w, attributes);
    WriteStreamSettings(w, stream);
    WriteKey(w, "OpenShardCount");
    w.Int(stream.open_shard_count());
    WriteKey(w, "ConsumerCount");
    w.Int(static_cast<int>(attributes.consumers.size()));
    w.EndObject();
    w.EndObject();
  });
}

Result<std::string> KinesisService::ListStreams(const JsonValue& request,
                                                const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto limit, GetInteger(request, "Limit"));
  ASSIGN_OR_RETURN(auto exclusive_start, GetString(request, "ExclusiveStartStreamName"));
  ASSIGN_OR_RETURN(auto next_token, GetString(request, "NextToken"));
  AddRangeConstraint(errors, limit, "limit", 1, 10000);
  RETURN_IF_ERROR(Validation(errors));
  std::string after;
  if (exclusive_start) after = std::string(*exclusive_start);
  if (next_token) {
    auto decoded = Base64Decode(*next_token);
    if (!decoded || !decoded->starts_with("ls:")) {
      return InvalidArgument("Invalid NextToken.");
    }
    after = decoded->substr(3);
  }
  const std::string prefix = LogName(context.account_id, context.region, "");
  std::vector<StreamInfo> streams = log_.ListStreams(prefix);
  size_t max = static_cast<size_t>(limit.value_or(100));
  std::vector<const StreamInfo*> page;
  bool more = false;
  for (const StreamInfo& s : streams) {
    std::string_view name = std::string_view(s.name).substr(prefix.size());
    if (!after.empty() && name <= after) continue;
    if (page.size() == max) {
      more = true;
      break;
    }
    page.push_back(&s);
  }
  return WriteTimestampless([&](JsonWriter& w) {
    w.StartObject();
    WriteKey(w, "StreamNames");
    w.StartArray();
    for (auto* s : page) WriteString(w, std::string_view(s->name).substr(prefix.size()));
    w.EndArray();
    WriteKey(w, "HasMoreStreams");
    w.Bool(more);
    if (more && !page.empty()) {
      WriteKey(w, "NextToken");
      WriteString(w, Base64Encode("ls:" + page.back()->name.substr(prefix.size())));
    }
    WriteKey(w, "StreamSummaries");
    w.StartArray();
    for (auto* s : page) {
      std::string_view name = std::string_view(s->name).substr(prefix.size());
      w.StartObject();
      WriteKey(w, "StreamName");
      WriteString(w, name);
      WriteKey(w, "StreamARN");
      WriteString(w, Arn(context.region, context.account_id, name));
      WriteKey(w, "StreamStatus");
      WriteString(w, "ACTIVE");
      WriteModeDetails(w, ParseAttributes(s->attributes));
      WriteKey(w, "StreamCreationTimestamp");
      WriteEpochSeconds(w, s->created_millis);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

Result<std::string> KinesisService::ListShards(const JsonValue& request,
                                               const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto name, GetString(request, "StreamName"));
  ASSIGN_OR_RETURN(auto next_token, GetString(request, "NextToken"));
  ASSIGN_OR_RETURN(auto exclusive_start, GetString(request, "ExclusiveStartShardId"));
  ASSIGN_OR_RETURN(auto max_results, GetInteger(request, "MaxResults"));
  ASSIGN_OR_RETURN(auto creation, GetNumber(request, "StreamCreationTimestamp"));
  ASSIGN_OR_RETURN(const JsonValue* filter, GetObject(request, "ShardFilter"));
  AddRangeConstraint(errors, max_results, "maxResults", 1, 10000);
  std::optional<std::string_view> filter_type, filter_shard;
  std::optional<double> filter_time;
  if (filter) {
    ASSIGN_OR_RETURN(filter_type, GetString(*filter, "Type"));
    ASSIGN_OR_RETURN(filter_shard, GetString(*filter, "ShardId"));
    ASSIGN_OR_RETURN(filter_time, GetNumber(*filter, "Timestamp"));
    static const std::set<std::string_view> kTypes = {"AFTER_SHARD_ID",    "AT_TRIM_HORIZON",
                                                      "FROM_TRIM_HORIZON", "AT_LATEST",
                                                      "AT_TIMESTAMP",      "FROM_TIMESTAMP"};
    if (!filter_type) {
      errors.AddNull("shardFilter.type");
    } else if (!kTypes.count(*filter_type)) {
      errors.AddConstraint(*filter_type, "shardFilter.type",
                           "Member must satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, "
                           "FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]");
    }
  }
  std::optional<Target> target;
  if (!next_token) {
    ASSIGN_OR_RETURN(target, ReadTarget(request, context, errors));
  }
  RETURN_IF_ERROR(Validation(errors));
  if (next_token && name) {
    return InvalidArgument("NextToken and StreamName cannot be provided together.");
  }
  if (next_token && (exclusive_start || creation || filter)) {
    return InvalidArgument(
        "NextToken cannot be provided together with ExclusiveStartShardId, ShardFilter or "
        "StreamCreationTimestamp.");
  }
  // NextToken: base64("lsh:" account "\n" region "\n" name "\n" last index "\n" filter).
  std::optional<uint32_t> after;
  std::string token_filter;
  if (next_token) {
    auto decoded = Base64Decode(*next_token);
    std::vector<std::string> parts;
    if (decoded && decoded->starts_with("lsh:")) {
      std::string_view rest = std::string_view(*decoded).substr(4);
      size_t start = 0;
      while (parts.size() < 5) {
        size_t nl = rest.find('\n', start);
        if (nl == std::string_view::npos) break;
        parts.emplace_back(rest.substr(start, nl - start));
        start = nl + 1;
      }
      parts.emplace_back(rest.substr(start));
    }
    if (parts.size() != 6 || !ParseShardIndex(parts[3])) {
      return InvalidArgument("Invalid NextToken.");
    }
    target = Target{parts[2], parts[0], parts[1]};
    after = *ParseShardIndex(parts[3]);
    filter_type = parts[4].empty() ? std::nullopt : std::optional<std::string_view>(parts[4]);
    token_filter = parts[4];
    if (!parts[5].empty()) filter_time = std::atof(parts[5].c_str());
    if (filter_type) filter_type = token_filter;
  }
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, *target));
  if (exclusive_start) {
    auto index = ParseShardIndex(*exclusive_start);
    if (!index) return ShardNotFound(*exclusive_start, *target);
    after = *index;
  }
  if (filter_type == "AFTER_SHARD_ID") {
    if (!filter_shard) {
      return InvalidArgument("ShardId must be provided for the AFTER_SHARD_ID shard filter.");
    }
    auto index = ParseShardIndex(*filter_shard);
    if (!index) return ShardNotFound(*filter_shard, *target);
    after = std::max(after.value_or(0), *index);
    if (!exclusive_start && !next_token) after = *index;
  }
  if ((filter_type == "AT_TIMESTAMP" || filter_type == "FROM_TIMESTAMP") && !filter_time) {
    return InvalidArgument("Timestamp must be provided for the " + std::string(*filter_type) +
                           " shard filter.");
  }
  const int64_t now = clock_.NowMillis();
  int64_t at_millis = 0;
  if (filter_type == "AT_TRIM_HORIZON" || filter_type == "FROM_TRIM_HORIZON") {
    at_millis =
        now - std::chrono::duration_cast<std::chrono::milliseconds>(stream.retention).count();
  } else if (filter_time) {
    at_millis = static_cast<int64_t>(std::llround(*filter_time * 1000));
  }
  at_millis = std::max(at_millis, stream.created_millis);
  auto open_at = [&](const ShardInfo& s) {
    return s.created_millis <= at_millis && (!s.closed_millis || *s.closed_millis > at_millis);
  };
  auto keep = [&](const ShardInfo& s) {
    if (after && s.id.index <= *after) return false;
    if (!filter_type || filter_type == "AFTER_SHARD_ID") return true;
    if (filter_type == "AT_LATEST") return s.open();
    if (filter_type == "AT_TRIM_HORIZON" || filter_type == "AT_TIMESTAMP") return open_at(s);
    // FROM_*: open at that time, or created since.
    return open_at(s) || s.created_millis > at_millis;
  };
  size_t max = static_cast<size_t>(max_results.value_or(1000));
  std::vector<const ShardInfo*> page;
  bool more = false;
  for (const ShardInfo& s : stream.shards) {
    if (!keep(s)) continue;
    if (page.size() == max) {
      more = true;
      break;
    }
    page.push_back(&s);
  }
  return WriteTimestampless([&](JsonWriter& w) {
    w.StartObject();
    WriteKey(w, "Shards");
    w.StartArray();
    for (auto* s : page) WriteShard(w, *s);
    w.EndArray();
    if (more) {
      std::string token = "lsh:" + target->account + "\n" + target->region + "\n" + target->name +
                          "\n" + std::to_string(page.back()->id.index) + "\n" +
                          std::string(filter_type.value_or("")) + "\n" +
                          (filter_time ? std::to_string(*filter_time) : "");
      WriteKey(w, "NextToken");
      WriteString(w, Base64Encode(token));
    }
    w.EndObject();
  });
}

// ---------------------------------------------------------------------------------------------
// Records

namespace {

struct PutInput {
  std::string_view partition_key;
  std::optional<std::string_view> explicit_hash_key;
  std::string data;
};

// Reads one record's members (PutRecord's request or a PutRecords entry) at `path`.
// `index` is the record's 0-based place in PutRecords, or -1 for PutRecord.
Status ReadPutInput(const JsonValue& value, int index, ValidationErrors& errors, PutInput* out) {
  ASSIGN_OR_RETURN(auto data, GetString(value, "Data"));
  ASSIGN_OR_RETURN(auto key, GetString(value, "PartitionKey"));
  ASSIGN_OR_RETURN(out->explicit_hash_key, GetString(value, "ExplicitHashKey"));
  // Built only for an error: this runs for every record of a PutRecords.
  auto prefix = [index] {
    return index < 0 ? std::string() : "records." + std::to_string(index + 1) + ".member.";
  };
  if (!data) {
    errors.AddNull(prefix() + "data");
  } else {
    auto decoded = Base64Decode(*data);
    if (!decoded) return SerializationError("Base64 encoded blob is invalid");
    out->data = std::move(*decoded);
    if (static_cast<int64_t>(out->data.size()) > kMaxRecordBytes) {
      errors.AddConstraint("java.nio.HeapByteBuffer[pos=0 lim=" + std::to_string(out->data.size()) +
                               " cap=" + std::to_string(out->data.size()) + "]",
                           prefix() + "data",
                           "Member must have length less than or equal to 1048576");
    }
  }
  if (!key) {
    errors.AddNull(prefix() + "partitionKey");
  } else {
    out->partition_key = *key;
    if (key->empty() || key->size() > 256) {
      AddLengthConstraint(errors, *key, prefix() + "partitionKey", 1, 256);
    }
  }
  return Status::Ok();
}

Result<HashKey> HashFor(const PutInput& input) {
  if (input.explicit_hash_key) {
    auto key = log::ParseHashKey(*input.explicit_hash_key);
    if (!key) {
      return InvalidArgument(
          "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
          "Specified value was " +
          std::string(*input.explicit_hash_key));
    }
    return *key;
  }
  return log::HashOfPartitionKey(input.partition_key);
}

}  // namespace

void KinesisService::PutRecord(const JsonValue& request, const RequestContext& context,
                               Reply reply) {
  struct Appended {
    kv::Batch batch;
    ShardId shard;
    SequenceNumber seq;
  };
  auto append = [&]() -> Result<Appended> {
    ValidationErrors errors;
    ASSIGN_OR_RETURN(auto target, ReadTarget(request, context, errors));
    PutInput input;
    RETURN_IF_ERROR(ReadPutInput(request, -1, errors, &input));
    ASSIGN_OR_RETURN(auto ordering, GetString(request, "SequenceNumberForOrdering"));
    RETURN_IF_ERROR(Validation(errors));
    if (input.data.size() + input.partition_key.size() > static_cast<size_t>(kMaxRecordBytes)) {
      return InvalidArgument("Record size including the partition key exceeds 1 MiB.");
    }
    ASSIGN_OR_RETURN(HashKey hash, HashFor(input));
    ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, *target));
    // SequenceNumberForOrdering: our numbers only grow, so every later put already orders
    // after it; it is accepted and needs nothing more.
    (void)ordering;
    for (int attempt = 0;; ++attempt) {
      ASSIGN_OR_RETURN(ShardId shard, log_.ShardForHashKey(stream.id, hash));
      kv::Batch batch = log_.NewBatch();
      auto seq =
          log_.Append(batch, shard, {.partition_key = input.partition_key, .data = input.data});
      // A concurrent reshard may close the shard between lookup and append: route again.
      if (!seq.ok() && seq.status().code() == ErrorCode::kFailedPrecondition && attempt < 3) {
        continue;
      }
      if (!seq.ok()) return seq.status();
      return Appended{std::move(batch), shard, *seq};
    }
  };
  Result<Appended> appended = append();
  if (!appended.ok()) {
    reply(appended.status());
    return;
  }
  ShardId shard = appended->shard;
  SequenceNumber seq = appended->seq;
  log_.CommitAsync(std::move(appended->batch),
                   [reply = std::move(reply), shard, seq](Status status) {
                     if (!status.ok()) {
                       reply(status);
                       return;
                     }
                     reply(WriteTimestampless([&](JsonWriter& w) {
                       w.StartObject();
                       WriteKey(w, "ShardId");
                       WriteString(w, FormatShardId(shard.index));
                       WriteKey(w, "SequenceNumber");
                       WriteString(w, FormatSequenceNumber(shard, seq));
                       WriteKey(w, "EncryptionType");
                       WriteString(w, "NONE");
                       w.EndObject();
                     }));
                   });
}

void KinesisService::PutRecords(const JsonValue& request, const RequestContext& context,
                                Reply reply) {
  std::vector<PutOutcome> outcomes;
  Result<kv::Batch> appended = AppendPutRecords(request, context, &outcomes);
  if (!appended.ok()) {
    reply(appended.status());
    return;
  }
  log_.CommitAsync(std::move(appended).value(),
                   [reply = std::move(reply), outcomes = std::move(outcomes)](Status status) {
                     if (!status.ok()) {
                       reply(status);
                       return;
                     }
                     reply(RenderPutRecords(outcomes));
                   });
}

Result<kv::Batch> KinesisService::AppendPutRecords(const JsonValue& request,
                                                   const RequestContext& context,
                                                   std::vector<PutOutcome>* outcomes_out) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto target, ReadTarget(request, context, errors));
  ASSIGN_OR_RETURN(const JsonValue* records, GetArray(request, "Records"));
  std::vector<PutInput> inputs;
  if (!records) {
    errors.AddNull("records");
  } else if (records->Size() < 1 || records->Size() > kMaxPutRecords) {
    errors.AddConstraint("[...]", "records",
                         records->Size() < 1 ? "Member must have length greater than or equal to 1"
                                             : "Member must have length less than or equal to 500");
  } else {
    inputs.resize(records->Size());
    for (rapidjson::SizeType i = 0; i < records->Size(); ++i) {
      RETURN_IF_ERROR(ExpectObject((*records)[i]));
      RETURN_IF_ERROR(ReadPutInput((*records)[i], static_cast<int>(i), errors, &inputs[i]));
    }
  }
  RETURN_IF_ERROR(Validation(errors));
  int64_t total = 0;
  std::vector<HashKey> hashes;
  hashes.reserve(inputs.size());
  for (const PutInput& input : inputs) {
    total += static_cast<int64_t>(input.data.size() + input.partition_key.size());
    ASSIGN_OR_RETURN(HashKey hash, HashFor(input));
    hashes.push_back(hash);
  }
  if (total > kMaxPutRecordsBytes) {
    return InvalidArgument("Records size exceeds 5 MB limit");
  }
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, *target));
  // One batch, one commit for the whole request.
  std::vector<PutOutcome>& outcomes = *outcomes_out;
  outcomes.assign(inputs.size(), PutOutcome{});
  // Routing once per request from the snapshot taken above.
  auto route = [&](HashKey hash) -> std::optional<ShardId> {
    for (const ShardInfo& s : stream.shards) {
      if (s.open() && s.hash_range.starting <= hash && hash <= s.hash_range.ending) return s.id;
    }
    return std::nullopt;
  };
  // Records grouped by shard, in request order within each: one AppendAll per shard.
  std::vector<std::pair<ShardId, std::vector<size_t>>> groups;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::optional<ShardId> shard = route(hashes[i]);
    if (!shard) continue;
    auto group = std::find_if(groups.begin(), groups.end(),
                              [&](const auto& g) { return g.first == *shard; });
    if (group == groups.end()) group = groups.insert(groups.end(), {*shard, {}});
    group->second.push_back(i);
  }
  kv::Batch batch = log_.NewBatch();
  std::vector<log::RecordInput> run;
  for (const auto& [shard, indexes] : groups) {
    run.clear();
    for (size_t i : indexes) {
      run.push_back({.partition_key = inputs[i].partition_key, .data = inputs[i].data});
    }
    auto first = log_.AppendAll(batch, shard, run);
    if (first.ok()) {
      for (size_t k = 0; k < indexes.size(); ++k) {
        outcomes[indexes[k]] = {shard, SequenceNumber{first->value + k}};
      }
      continue;
    }
    if (first.status().code() != ErrorCode::kFailedPrecondition) continue;  // reported below
    // The shard closed since the snapshot (a concurrent reshard): route each record again.
    for (size_t i : indexes) {
      auto rerouted = log_.ShardForHashKey(stream.id, hashes[i]);
      if (!rerouted.ok()) continue;
      auto seq = log_.Append(batch, *rerouted,
                             {.partition_key = inputs[i].partition_key, .data = inputs[i].data});
      if (seq.ok()) outcomes[i] = {*rerouted, *seq};
    }
  }
  return batch;
}

std::string KinesisService::RenderPutRecords(const std::vector<PutOutcome>& outcomes) {
  int failed = 0;
  for (auto& o : outcomes) failed += o.shard ? 0 : 1;
  rapidjson::StringBuffer buffer;
  buffer.Reserve(64 + outcomes.size() * 110);
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "FailedRecordCount");
  w.Int(failed);
  WriteKey(w, "Records");
  w.StartArray();
  char sequence[kSequenceNumberDigits];
  std::string shard_id;
  std::optional<uint32_t> shard_id_of;  // the shard shard_id names (records run by shard)
  for (auto& o : outcomes) {
    w.StartObject();
    if (o.shard) {
      FormatSequenceNumberTo(*o.shard, o.seq, sequence);
      WriteKey(w, "SequenceNumber");
      WriteString(w, std::string_view(sequence, sizeof(sequence)));
      if (shard_id_of != o.shard->index) {
        shard_id = FormatShardId(o.shard->index);
        shard_id_of = o.shard->index;
      }
      WriteKey(w, "ShardId");
      WriteString(w, shard_id);
    } else {
      WriteKey(w, "ErrorCode");
      WriteString(w, "InternalFailure");
      WriteKey(w, "ErrorMessage");
      WriteString(w, "Internal service failure.");
    }
    w.EndObject();
  }
  w.EndArray();
  WriteKey(w, "EncryptionType");
  WriteString(w, "NONE");
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<std::string> KinesisService::GetShardIterator(const JsonValue& request,
                                                     const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto target, ReadTarget(request, context, errors));
  ASSIGN_OR_RETURN(auto shard_id, GetString(request, "ShardId"));
  ASSIGN_OR_RETURN(auto type, GetString(request, "ShardIteratorType"));
  ASSIGN_OR_RETURN(auto starting, GetString(request, "StartingSequenceNumber"));
  ASSIGN_OR_RETURN(auto timestamp, GetNumber(request, "Timestamp"));
  if (!shard_id) {
    errors.AddNull("shardId");
  } else {
    AddLengthConstraint(errors, *shard_id, "shardId", 1, 128);
  }
  static const std::map<std::string_view, log::StartPosition::Type> kTypes = {
      {"AT_SEQUENCE_NUMBER", log::StartPosition::Type::kAtSequence},
      {"AFTER_SEQUENCE_NUMBER", log::StartPosition::Type::kAfterSequence},
      {"TRIM_HORIZON", log::StartPosition::Type::kTrimHorizon},
      {"LATEST", log::StartPosition::Type::kLatest},
      {"AT_TIMESTAMP", log::StartPosition::Type::kAtTimestamp}};
  if (!type) {
    errors.AddNull("shardIteratorType");
  } else if (!kTypes.count(*type)) {
    errors.AddConstraint(*type, "shardIteratorType",
                         "Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, "
                         "AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]");
  }
  RETURN_IF_ERROR(Validation(errors));
  log::StartPosition position{.type = kTypes.at(*type)};
  const bool by_sequence = position.type == log::StartPosition::Type::kAtSequence ||
                           position.type == log::StartPosition::Type::kAfterSequence;
  if (by_sequence != starting.has_value()) {
    return InvalidArgument(
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
        "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
        "Request specified " +
        std::string(*type) + " and " + (starting ? "also" : "no") + " StartingSequenceNumber.");
  }
  const int64_t now = clock_.NowMillis();
  if (position.type == log::StartPosition::Type::kAtTimestamp) {
    if (!timestamp) {
      return InvalidArgument(
          "Must specify timestampInMillis parameter for iterator of type "
          "AT_TIMESTAMP. Current request has no timestamp parameter.");
    }
    position.timestamp_millis = static_cast<int64_t>(std::llround(*timestamp * 1000));
    if (position.timestamp_millis > now) {
      return InvalidArgument(
          "The timestampInMillis parameter cannot be greater than the "
          "currentTimestampInMillis. timestampInMillis: " +
          std::to_string(position.timestamp_millis) +
          ", currentTimestampInMillis: " + std::to_string(now));
    }
  }
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, *target));
  auto index = ParseShardIndex(*shard_id);
  if (!index || *index >= stream.shards.size()) return ShardNotFound(*shard_id, *target);
  ShardId shard{stream.id, *index};
  if (by_sequence) {
    ASSIGN_OR_RETURN(auto parsed, ParseSequenceNumber(*starting));
    if (parsed.first != shard) {
      return InvalidArgument(
          "Invalid StartingSequenceNumber. It encodes " + FormatShardId(parsed.first.index) +
          ", while it was used in a call to a shard with " + FormatShardId(index.value_or(0)));
    }
    position.sequence = parsed.second;
  }
  auto token = log_.NewIterator(shard, position);
  if (!token.ok() && token.status().code() == ErrorCode::kOutOfRange) {
    // A trimmed sequence number starts at the trim horizon, as Kinesis does for a checkpoint
    // older than the retention period (docs/compat/kinesis.md).
    token = log_.NewIterator(shard, {.type = log::StartPosition::Type::kTrimHorizon});
  }
  if (!token.ok()) {
    if (token.status().code() == ErrorCode::kInvalidArgument) {
      return InvalidArgument("StartingSequenceNumber " + std::string(starting.value_or("")) +
                             " used in GetShardIterator on shard " + FormatShardId(*index) +
                             " in stream " + target->name + " under account " + target->account +
                             " is invalid.");
    }
    return token.status();
  }
  return WriteTimestampless([&](JsonWriter& w) {
    w.StartObject();
    WriteKey(w, "ShardIterator");
    WriteString(w, *token);
    w.EndObject();
  });
}

Result<std::string> KinesisService::GetRecords(const JsonValue& request,
                                               const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto iterator, GetString(request, "ShardIterator"));
  ASSIGN_OR_RETURN(auto limit, GetInteger(request, "Limit"));
  if (!iterator) {
    errors.AddNull("shardIterator");
  } else {
    AddLengthConstraint(errors, *iterator, "shardIterator", 1, 512);
  }
  AddRangeConstraint(errors, limit, "limit", 1, 10000);
  RETURN_IF_ERROR(Validation(errors));
  auto read = log_.ReadIterator(
      *iterator, kIteratorTtl,
      {.max_records = static_cast<int>(limit.value_or(10000)), .max_bytes = 10 * 1024 * 1024});
  if (!read.ok()) {
    switch (read.status().code()) {
      case ErrorCode::kFailedPrecondition:
        return Status(read.status()).WithAwsCode("ExpiredIteratorException");
      case ErrorCode::kOutOfRange:
        return Status::FailedPrecondition(
                   "Iterator expired: the records it points to are past the retention period.")
            .WithAwsCode("ExpiredIteratorException");
      case ErrorCode::kNotFound:
        return Status::NotFound("Shard or stream of the iterator does not exist.");
      default:
        return read.status();
    }
  }
  const log::ShardId shard = read->state.shard;
  // Only Kinesis streams are readable here (a DynamoDB stream's iterator is not ours).
  auto stream = log_.GetStream(shard.stream);
  if (!stream.ok() || !stream->name.starts_with("kinesis/")) {
    return InvalidArgument("Invalid ShardIterator.");
  }
  const log::ReadResult& result = read->result;
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "Records");
  w.StartArray();
  for (const log::Record& r : result.records) {
    w.StartObject();
    WriteKey(w, "SequenceNumber");
    WriteString(w, FormatSequenceNumber(shard, r.sequence));
    WriteKey(w, "ApproximateArrivalTimestamp");
    WriteEpochSeconds(w, r.arrival_millis);
    WriteKey(w, "Data");
    WriteString(w, Base64Encode(r.data));
    WriteKey(w, "PartitionKey");
    WriteString(w, r.partition_key);
    w.EndObject();
  }
  w.EndArray();
  if (read->next_iterator) {
    WriteKey(w, "NextShardIterator");
    WriteString(w, *read->next_iterator);
  }
  WriteKey(w, "MillisBehindLatest");
  w.Int64(result.millis_behind_latest);
  if (!read->next_iterator) {
    WriteKey(w, "ChildShards");
    w.StartArray();
    for (const ShardInfo& child : stream->shards) {
      if (child.parent != shard.index && child.adjacent_parent != shard.index) continue;
      w.StartObject();
      WriteKey(w, "ShardId");
      WriteString(w, FormatShardId(child.id.index));
      WriteKey(w, "ParentShards");
      w.StartArray();
      if (child.parent) WriteString(w, FormatShardId(*child.parent));
      if (child.adjacent_parent) WriteString(w, FormatShardId(*child.adjacent_parent));
      w.EndArray();
      WriteHashRange(w, child.hash_range);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// ---------------------------------------------------------------------------------------------
// Retention and resharding

}  // namespace salespipe::services::kinesis
