// Kinesis stream administration: retention, resharding (UpdateShardCount, SplitShard,
// MergeShards), tags, enhanced fan-out consumers and DescribeLimits. Requests are checked in
// the order kinesis_service.cc describes.

#include "services/kinesis/kinesis_service.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <regex>
#include "common/crypto.h"
#include "common/logging.h"
#include "services/kinesis/kinesis_request.h"

namespace salespipe::services::kinesis {

Result<std::string> KinesisService::IncreaseStreamRetentionPeriod(const JsonValue& request,
                                                                  const RequestContext& context) {
  return ChangeRetention(request, context, /*increase=*/true);
}

Result<std::string> KinesisService::DecreaseStreamRetentionPeriod(const JsonValue& request,
                                                                  const RequestContext& context) {
  return ChangeRetention(request, context, /*increase=*/false);
}

Result<std::string> KinesisService::ChangeRetention(const JsonValue& request,
                                                    const RequestContext& context, bool increase) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto target, ReadTarget(request, context, errors));
  ASSIGN_OR_RETURN(auto hours, GetInteger(request, "RetentionPeriodHours"));
  if (!hours) errors.AddNull("retentionPeriodHours");
  RETURN_IF_ERROR(Validation(errors));
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, *target));
  const int64_t current = stream.retention.count();
  if (*hours < kMinRetentionHours) {
    return InvalidArgument("Minimum allowed retention period is 24 hours. Requested retention "
                           "period (" + std::to_string(*hours) + " hours) is too short.");
  }
  if (*hours > kMaxRetentionHours) {
    return InvalidArgument("Maximum allowed retention period is 8760 hours. Requested retention "
                           "period (" + std::to_string(*hours) + " hours) is too long.");
  }
  if (increase && *hours < current) {
    return InvalidArgument("Requested retention period (" + std::to_string(*hours) +
                           " hours) for stream " + target->name +
                           " can not be shorter than existing retention period (" +
                           std::to_string(current) +
                           " hours). Use DecreaseRetentionPeriod API.");
  }
  if (!increase && *hours > current) {
    return InvalidArgument("Requested retention period (" + std::to_string(*hours) +
                           " hours) for stream " + target->name +
                           " can not be longer than existing retention period (" +
                           std::to_string(current) +
                           " hours). Use IncreaseRetentionPeriod API.");
  }
  RETURN_IF_ERROR(log_.SetRetention(stream.id, std::chrono::hours(*hours)));
  return std::string("{}");
}

Result<std::string> KinesisService::UpdateShardCount(const JsonValue& request,
                                                     const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto target, ReadTarget(request, context, errors));
  ASSIGN_OR_RETURN(auto count, GetInteger(request, "TargetShardCount"));
  ASSIGN_OR_RETURN(auto scaling, GetString(request, "ScalingType"));
  if (!count) errors.AddNull("targetShardCount");
  AddRangeConstraint(errors, count, "targetShardCount", 1, 100000);
  if (!scaling) {
    errors.AddNull("scalingType");
  } else if (*scaling != "UNIFORM_SCALING") {
    errors.AddConstraint(*scaling, "scalingType",
                         "Member must satisfy enum value set: [UNIFORM_SCALING]");
  }
  RETURN_IF_ERROR(Validation(errors));
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, *target));
  const int current = stream.open_shard_count();
  if (*count > kShardLimit) {
    return Status::ResourceExhausted("Target shard count " + std::to_string(*count) +
                                     " exceeds the shard limit " + std::to_string(kShardLimit) +
                                     ".");
  }
  if (*count > 2 * current || *count * 2 < current) {
    return InvalidArgument("UpdateShardCount cannot scale up over double your current open shard "
                           "count or scale down below half your current open shard count.");
  }
  std::vector<uint32_t> close;
  std::vector<const ShardInfo*> open_shards;
  for (const ShardInfo& s : stream.shards) {
    if (s.open()) {
      close.push_back(s.id.index);
      open_shards.push_back(&s);
    }
  }
  std::vector<log::NewShard> children;
  for (const log::HashKeyRange& range : log::UniformHashKeyRanges(static_cast<int>(*count))) {
    log::NewShard child{.hash_range = range};
    for (const ShardInfo* parent : open_shards) {
      if (parent->hash_range.ending < range.starting || parent->hash_range.starting > range.ending) {
        continue;
      }
      if (!child.parent) {
        child.parent = parent->id.index;
      } else if (!child.adjacent_parent) {
        child.adjacent_parent = parent->id.index;
      }
    }
    children.push_back(child);
  }
  RETURN_IF_ERROR(log_.Reshard(stream.id, close, children).status());
  return WriteTimestampless([&](JsonWriter& w) {
    w.StartObject();
    WriteKey(w, "StreamName");
    WriteString(w, target->name);
    WriteKey(w, "CurrentShardCount");
    w.Int(current);
    WriteKey(w, "TargetShardCount");
    w.Int64(*count);
    WriteKey(w, "StreamARN");
    WriteString(w, Arn(target->region, target->account, target->name));
    w.EndObject();
  });
}

Result<std::string> KinesisService::SplitShard(const JsonValue& request,
                                               const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto target, ReadTarget(request, context, errors));
  ASSIGN_OR_RETURN(auto shard_id, GetString(request, "ShardToSplit"));
  ASSIGN_OR_RETURN(auto new_start, GetString(request, "NewStartingHashKey"));
  if (!shard_id) errors.AddNull("shardToSplit");
  if (!new_start) errors.AddNull("newStartingHashKey");
  RETURN_IF_ERROR(Validation(errors));
  auto key = log::ParseHashKey(*new_start);
  if (!key) {
    return InvalidArgument("NewStartingHashKey " + std::string(*new_start) +
                           " used in SplitShard() on shard " + std::string(*shard_id) +
                           " in stream " + target->name + " under account " + target->account +
                           " is not a valid hash key.");
  }
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, *target));
  auto index = ParseShardIndex(*shard_id);
  if (!index || *index >= stream.shards.size()) return ShardNotFound(*shard_id, *target);
  if (!stream.shards[*index].open()) {
    return Status::FailedPrecondition("Shard " + std::string(*shard_id) + " in stream " +
                                      target->name + " under account " + target->account +
                                      " has already been merged or split, and thus is not "
                                      "eligible for merging or splitting.");
  }
  auto split = log_.SplitShard({stream.id, *index}, *key);
  if (!split.ok() && split.status().code() == ErrorCode::kInvalidArgument) {
    return InvalidArgument("NewStartingHashKey " + std::string(*new_start) +
                           " used in SplitShard() on shard " + std::string(*shard_id) +
                           " in stream " + target->name + " under account " + target->account +
                           " is not both greater than one plus the shard's StartingHashKey and "
                           "less than the shard's EndingHashKey.");
  }
  RETURN_IF_ERROR(split.status());
  return std::string("{}");
}

Result<std::string> KinesisService::MergeShards(const JsonValue& request,
                                                const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto target, ReadTarget(request, context, errors));
  ASSIGN_OR_RETURN(auto first, GetString(request, "ShardToMerge"));
  ASSIGN_OR_RETURN(auto second, GetString(request, "AdjacentShardToMerge"));
  if (!first) errors.AddNull("shardToMerge");
  if (!second) errors.AddNull("adjacentShardToMerge");
  RETURN_IF_ERROR(Validation(errors));
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, *target));
  auto a = ParseShardIndex(*first);
  auto b = ParseShardIndex(*second);
  if (!a || *a >= stream.shards.size()) return ShardNotFound(*first, *target);
  if (!b || *b >= stream.shards.size()) return ShardNotFound(*second, *target);
  for (auto [index, text] : {std::pair{*a, *first}, std::pair{*b, *second}}) {
    if (!stream.shards[index].open()) {
      return Status::FailedPrecondition("Shard " + std::string(text) + " in stream " +
                                        target->name + " under account " + target->account +
                                        " has already been merged or split, and thus is not "
                                        "eligible for merging or splitting.");
    }
  }
  auto merged = log_.MergeShards({stream.id, *a}, {stream.id, *b});
  if (!merged.ok() && merged.status().code() == ErrorCode::kInvalidArgument) {
    return InvalidArgument("Shards " + std::string(*first) + " and " + std::string(*second) +
                           " in stream " + target->name + " under account " + target->account +
                           " are not an adjacent pair of shards eligible for merging");
  }
  RETURN_IF_ERROR(merged.status());
  return std::string("{}");
}

// ---------------------------------------------------------------------------------------------
// Tags

Result<std::string> KinesisService::ChangeTags(std::string_view name, std::string_view account,
                                               std::string_view region, const JsonValue* add,
                                               const JsonValue* remove) {
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(StreamInfo stream,
                   Lookup(log_, Target{std::string(name), std::string(account), std::string(region)}));
  Attributes attributes = ParseAttributes(stream.attributes);
  if (add) {
    for (auto& m : add->GetObject()) {
      if (!m.value.IsString()) return SerializationError("Expected a string tag value");
      attributes.tags[m.name.GetString()] = m.value.GetString();
    }
    if (attributes.tags.size() > 50) {
      return InvalidArgument("Failed to add tags to stream " + std::string(name) +
                             " under account " + std::string(account) +
                             " because a given stream cannot have more than 50 tags.");
    }
  }
  if (remove) {
    for (auto& key : remove->GetArray()) {
      if (!key.IsString()) return SerializationError("Expected a string tag key");
      attributes.tags.erase(key.GetString());
    }
  }
  RETURN_IF_ERROR(log_.SetAttributes(stream.id, SerializeAttributes(attributes)));
  return std::string("{}");
}

Result<std::string> KinesisService::AddTagsToStream(const JsonValue& request,
                                                    const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto target, ReadTarget(request, context, errors));
  ASSIGN_OR_RETURN(const JsonValue* tags, GetObject(request, "Tags"));
  if (!tags) errors.AddNull("tags");
  RETURN_IF_ERROR(Validation(errors));
  return ChangeTags(target->name, target->account, target->region, tags, nullptr);
}

Result<std::string> KinesisService::RemoveTagsFromStream(const JsonValue& request,
                                                         const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto target, ReadTarget(request, context, errors));
  ASSIGN_OR_RETURN(const JsonValue* keys, GetArray(request, "TagKeys"));
  if (!keys) errors.AddNull("tagKeys");
  RETURN_IF_ERROR(Validation(errors));
  return ChangeTags(target->name, target->account, target->region, nullptr, keys);
}

namespace {

void WriteTagList(JsonWriter& w, const std::map<std::string, std::string>& tags,
                  std::string_view after, size_t limit, bool* more) {
  WriteKey(w, "Tags");
  w.StartArray();
  size_t n = 0;
  *more = false;
  for (auto it = after.empty() ? tags.begin() : tags.upper_bound(std::string(after));
       it != tags.end(); ++it) {
    if (n == limit) {
      *more = true;
      break;
    }
    w.StartObject();
    WriteKey(w, "Key");
    WriteString(w, it->first);
    WriteKey(w, "Value");
    WriteString(w, it->second);
    w.EndObject();
    ++n;
  }
  w.EndArray();
}

Result<Target> ResourceTarget(const JsonValue& request) {
  ASSIGN_OR_RETURN(auto arn, GetString(request, "ResourceARN"));
  if (!arn) {
    ValidationErrors errors;
    errors.AddNull("resourceARN");
    return Validation(errors);
  }
  auto target = ParseStreamArn(*arn);
  if (!target) return InvalidArgument("ResourceARN " + std::string(*arn) + " is invalid.");
  return *target;
}

}  // namespace

Result<std::string> KinesisService::ListTagsForStream(const JsonValue& request,
                                                      const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto target, ReadTarget(request, context, errors));
  ASSIGN_OR_RETURN(auto start, GetString(request, "ExclusiveStartTagKey"));
  ASSIGN_OR_RETURN(auto limit, GetInteger(request, "Limit"));
  AddRangeConstraint(errors, limit, "limit", 1, 50);
  RETURN_IF_ERROR(Validation(errors));
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, *target));
  Attributes attributes = ParseAttributes(stream.attributes);
  return WriteTimestampless([&](JsonWriter& w) {
    w.StartObject();
    bool more = false;
    WriteTagList(w, attributes.tags, start.value_or(""), static_cast<size_t>(limit.value_or(50)),
                 &more);
    WriteKey(w, "HasMoreTags");
    w.Bool(more);
    w.EndObject();
  });
}

Result<std::string> KinesisService::TagResource(const JsonValue& request,
                                                const RequestContext& context) {
  ASSIGN_OR_RETURN(Target target, ResourceTarget(request));
  ASSIGN_OR_RETURN(const JsonValue* tags, GetObject(request, "Tags"));
  if (!tags) {
    ValidationErrors errors;
    errors.AddNull("tags");
    return Validation(errors);
  }
  return ChangeTags(target.name, target.account, target.region, tags, nullptr);
}

Result<std::string> KinesisService::UntagResource(const JsonValue& request,
                                                  const RequestContext& context) {
  ASSIGN_OR_RETURN(Target target, ResourceTarget(request));
  ASSIGN_OR_RETURN(const JsonValue* keys, GetArray(request, "TagKeys"));
  if (!keys) {
    ValidationErrors errors;
    errors.AddNull("tagKeys");
    return Validation(errors);
  }
  return ChangeTags(target.name, target.account, target.region, nullptr, keys);
}

Result<std::string> KinesisService::ListTagsForResource(const JsonValue& request,
                                                        const RequestContext& context) {
  ASSIGN_OR_RETURN(Target target, ResourceTarget(request));
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, target));
  Attributes attributes = ParseAttributes(stream.attributes);
  return WriteTimestampless([&](JsonWriter& w) {
    w.StartObject();
    bool more = false;
    WriteTagList(w, attributes.tags, "", attributes.tags.size(), &more);
    w.EndObject();
  });
}

// ---------------------------------------------------------------------------------------------
// Consumers (enhanced fan-out registration; SubscribeToShard is not served)

namespace {

void WriteConsumer(JsonWriter& w, const Consumer& c, std::string_view status,
                   const std::string* stream_arn) {
  w.StartObject();
  WriteKey(w, "ConsumerName");
  WriteString(w, c.name);
  WriteKey(w, "ConsumerARN");
  WriteString(w, c.arn);
  WriteKey(w, "ConsumerStatus");
  WriteString(w, status);
  WriteKey(w, "ConsumerCreationTimestamp");
  WriteEpochSeconds(w, c.created_millis);
  if (stream_arn) {
    WriteKey(w, "StreamARN");
    WriteString(w, *stream_arn);
  }
  w.EndObject();
}

}  // namespace

Result<std::string> KinesisService::RegisterStreamConsumer(const JsonValue& request,
                                                           const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto arn, GetString(request, "StreamARN"));
  ASSIGN_OR_RETURN(auto name, GetString(request, "ConsumerName"));
  if (!arn) errors.AddNull("streamARN");
  if (!name) {
    errors.AddNull("consumerName");
  } else if (!ValidName(*name)) {
    AddLengthConstraint(errors, *name, "consumerName", 1, 128);
    if (!name->empty() && name->size() <= 128) {
      errors.AddConstraint(*name, "consumerName",
                           "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
    }
  }
  RETURN_IF_ERROR(Validation(errors));
  auto target = ParseStreamArn(*arn);
  if (!target) return InvalidArgument("StreamARN " + std::string(*arn) + " is invalid.");
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, *target));
  Attributes attributes = ParseAttributes(stream.attributes);
  for (const Consumer& c : attributes.consumers) {
    if (c.name == *name) {
      return Status::AlreadyExists("Consumer " + c.arn + " under account " + target->account +
                                   " already exists.");
    }
  }
  if (attributes.consumers.size() >= 20) {
    return Status::ResourceExhausted("Consumer limit of 20 reached for stream " + target->name);
  }
  const int64_t now = clock_.NowMillis();
  Consumer consumer{.name = std::string(*name),
                    .arn = Arn(target->region, target->account, target->name) + "/consumer/" +
                           std::string(*name) + ":" + std::to_string(now / 1000),
                    .created_millis = now};
  attributes.consumers.push_back(consumer);
  RETURN_IF_ERROR(log_.SetAttributes(stream.id, SerializeAttributes(attributes)));
  return WriteTimestampless([&](JsonWriter& w) {
    w.StartObject();
    WriteKey(w, "Consumer");
    // CREATING in the answer, ACTIVE from the first Describe (spec 0: waiters must not sleep).
    WriteConsumer(w, consumer, "CREATING", nullptr);
    w.EndObject();
  });
}

namespace {

struct ConsumerQuery {
  Target target;
  std::optional<std::string> name;
  std::optional<std::string> arn;
};

Result<ConsumerQuery> ReadConsumerQuery(const JsonValue& request) {
  ASSIGN_OR_RETURN(auto stream_arn, GetString(request, "StreamARN"));
  ASSIGN_OR_RETURN(auto name, GetString(request, "ConsumerName"));
  ASSIGN_OR_RETURN(auto arn, GetString(request, "ConsumerARN"));
  ConsumerQuery query;
  if (arn) {
    std::string consumer;
    auto target = ParseStreamArn(*arn, &consumer);
    if (!target || consumer.empty()) {
      return InvalidArgument("ConsumerARN " + std::string(*arn) + " is invalid.");
    }
    query.target = *target;
    query.arn = std::string(*arn);
    return query;
  }
  if (!stream_arn || !name) {
    return InvalidArgument("Either ConsumerARN or both StreamARN and ConsumerName must be "
                           "provided.");
  }
  auto target = ParseStreamArn(*stream_arn);
  if (!target) return InvalidArgument("StreamARN " + std::string(*stream_arn) + " is invalid.");
  query.target = *target;
  query.name = std::string(*name);
  return query;
}

}  // namespace

Result<std::string> KinesisService::DescribeStreamConsumer(const JsonValue& request,
                                                           const RequestContext& context) {
  ASSIGN_OR_RETURN(ConsumerQuery query, ReadConsumerQuery(request));
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, query.target));
  Attributes attributes = ParseAttributes(stream.attributes);
  std::string stream_arn = Arn(query.target.region, query.target.account, query.target.name);
  for (const Consumer& c : attributes.consumers) {
    if ((query.arn && c.arn == *query.arn) || (query.name && c.name == *query.name)) {
      return WriteTimestampless([&](JsonWriter& w) {
        w.StartObject();
        WriteKey(w, "ConsumerDescription");
        WriteConsumer(w, c, "ACTIVE", &stream_arn);
        w.EndObject();
      });
    }
  }
  return Status::NotFound("Consumer " + query.name.value_or(query.arn.value_or("")) +
                          " under account " + query.target.account + " not found.");
}

Result<std::string> KinesisService::ListStreamConsumers(const JsonValue& request,
                                                        const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto arn, GetString(request, "StreamARN"));
  ASSIGN_OR_RETURN(auto next_token, GetString(request, "NextToken"));
  ASSIGN_OR_RETURN(auto max_results, GetInteger(request, "MaxResults"));
  if (!arn) errors.AddNull("streamARN");
  AddRangeConstraint(errors, max_results, "maxResults", 1, 10000);
  RETURN_IF_ERROR(Validation(errors));
  auto target = ParseStreamArn(*arn);
  if (!target) return InvalidArgument("StreamARN " + std::string(*arn) + " is invalid.");
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, *target));
  Attributes attributes = ParseAttributes(stream.attributes);
  size_t begin = 0;
  if (next_token) {
    auto decoded = Base64Decode(*next_token);
    if (!decoded || !decoded->starts_with("lc:")) return InvalidArgument("Invalid NextToken.");
    begin = static_cast<size_t>(std::atoll(decoded->c_str() + 3));
  }
  size_t max = static_cast<size_t>(max_results.value_or(100));
  size_t end = std::min(attributes.consumers.size(), begin + max);
  if (begin > end) begin = end;
  return WriteTimestampless([&](JsonWriter& w) {
    w.StartObject();
    WriteKey(w, "Consumers");
    w.StartArray();
    for (size_t i = begin; i < end; ++i) WriteConsumer(w, attributes.consumers[i], "ACTIVE", nullptr);
    w.EndArray();
    if (end < attributes.consumers.size()) {
      WriteKey(w, "NextToken");
      WriteString(w, Base64Encode("lc:" + std::to_string(end)));
    }
    w.EndObject();
  });
}

Result<std::string> KinesisService::DeregisterStreamConsumer(const JsonValue& request,
                                                             const RequestContext& context) {
  ASSIGN_OR_RETURN(ConsumerQuery query, ReadConsumerQuery(request));
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(StreamInfo stream, Lookup(log_, query.target));
  Attributes attributes = ParseAttributes(stream.attributes);
  auto it = std::find_if(attributes.consumers.begin(), attributes.consumers.end(),
                         [&](const Consumer& c) {
                           return (query.arn && c.arn == *query.arn) ||
                                  (query.name && c.name == *query.name);
                         });
  if (it == attributes.consumers.end()) {
    return Status::NotFound("Consumer " + query.name.value_or(query.arn.value_or("")) +
                            " under account " + query.target.account + " not found.");
  }
  attributes.consumers.erase(it);
  RETURN_IF_ERROR(log_.SetAttributes(stream.id, SerializeAttributes(attributes)));
  return std::string("{}");
}

Result<std::string> KinesisService::DescribeLimits(const JsonValue& request,
                                                   const RequestContext& context) {
  int open = 0, on_demand = 0;
  for (const StreamInfo& s : log_.ListStreams(LogName(context.account_id, context.region, ""))) {
    open += s.open_shard_count();
    if (ParseAttributes(s.attributes).mode == "ON_DEMAND") ++on_demand;
  }
  return WriteTimestampless([&](JsonWriter& w) {
    w.StartObject();
    WriteKey(w, "ShardLimit");
    w.Int(kShardLimit);
    WriteKey(w, "OpenShardCount");
    w.Int(open);
    WriteKey(w, "OnDemandStreamCount");
    w.Int(on_demand);
    WriteKey(w, "OnDemandStreamCountLimit");
    w.Int(50);
    w.EndObject();
  });
}

}  // namespace salespipe::services::kinesis
