// Shared pieces of the Kinesis operations; see kinesis_request.h.

#include "services/kinesis/kinesis_request.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <regex>
#include "common/crypto.h"
#include "common/logging.h"

namespace salespipe::services::kinesis {

Status Validation(const ValidationErrors& errors) {
  Status status = errors.ToStatus();
  if (!status.ok()) status.WithAwsCode("ValidationException");
  return status;
}

std::string Arn(std::string_view region, std::string_view account, std::string_view name) {
  std::string arn = "arn:aws:kinesis:";
  arn.append(region).append(":").append(account).append(":stream/").append(name);
  return arn;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

Attributes ParseAttributes(std::string_view text) {
  Attributes out;
  JsonDocument doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return out;
  if (auto* mode = FindMember(doc, "mode"); mode && mode->IsString()) out.mode = mode->GetString();
  if (auto* tags = FindMember(doc, "tags"); tags && tags->IsObject()) {
    for (auto& m : tags->GetObject()) {
      if (m.value.IsString()) out.tags[m.name.GetString()] = m.value.GetString();
    }
  }
  if (auto* consumers = FindMember(doc, "consumers"); consumers && consumers->IsArray()) {
    for (auto& c : consumers->GetArray()) {
      if (!c.IsObject()) continue;
      Consumer consumer;
      if (auto* v = FindMember(c, "name"); v && v->IsString()) consumer.name = v->GetString();
      if (auto* v = FindMember(c, "arn"); v && v->IsString()) consumer.arn = v->GetString();
      if (auto* v = FindMember(c, "created"); v && v->IsInt64()) consumer.created_millis = v->GetInt64();
      out.consumers.push_back(std::move(consumer));
    }
  }
  return out;
}

std::string SerializeAttributes(const Attributes& attributes) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "mode");
  WriteString(w, attributes.mode);
  WriteKey(w, "tags");
  w.StartObject();
  for (auto& [k, v] : attributes.tags) {
    WriteKey(w, k);
    WriteString(w, v);
  }
  w.EndObject();
  WriteKey(w, "consumers");
  w.StartArray();
  for (auto& c : attributes.consumers) {
    w.StartObject();
    WriteKey(w, "name");
    WriteString(w, c.name);
    WriteKey(w, "arn");
    WriteString(w, c.arn);
    WriteKey(w, "created");
    w.Int64(c.created_millis);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

std::optional<Target> ParseStreamArn(std::string_view arn, std::string* consumer) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    size_t colon = arn.find(':', start);
    if (colon == std::string_view::npos) return std::nullopt;
    parts.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  if (parts[0] != "arn" || parts[2] != "kinesis") return std::nullopt;
  std::string_view resource = arn.substr(start);
  if (!resource.starts_with("stream/")) return std::nullopt;
  resource.remove_prefix(7);
  size_t slash = resource.find('/');
  std::string_view name = resource.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view rest = resource.substr(slash + 1);
    if (!rest.starts_with("consumer/")) return std::nullopt;
    if (consumer) *consumer = std::string(rest.substr(9, rest.rfind(':') - 9));
  }
  if (!ValidName(name)) return std::nullopt;
  return Target{std::string(name), std::string(parts[4]), std::string(parts[3])};
}

std::string NotFoundMessage(std::string_view name, std::string_view account) {
  return "Stream " + std::string(name) + " under account " + std::string(account) +
         " not found.";
}

Result<std::optional<Target>> ReadTarget(const JsonValue& request, const RequestContext& context,
                                         ValidationErrors& errors, bool required) {
  ASSIGN_OR_RETURN(auto name, GetString(request, "StreamName"));
  ASSIGN_OR_RETURN(auto arn, GetString(request, "StreamARN"));
  if (arn) {
    if (arn->size() < 1 || arn->size() > 2048) {
      errors.AddConstraint(std::string(*arn), "streamARN",
                           "Member must have length less than or equal to 2048");
      return std::optional<Target>();
    }
    auto target = ParseStreamArn(*arn);
    if (!target) return InvalidArgument("StreamARN " + std::string(*arn) + " is invalid.");
    return std::optional<Target>(std::move(*target));
  }
  if (name) {
    if (!ValidName(*name)) {
      errors.AddConstraint(std::string(*name), "streamName",
                           name->size() > 128
                               ? "Member must have length less than or equal to 128"
                               : (name->empty() ? "Member must have length greater than or equal to 1"
                                                : "Member must satisfy regular expression pattern: "
                                                  "[a-zA-Z0-9_.-]+"));
      return std::optional<Target>();
    }
    return std::optional<Target>(Target{std::string(*name), context.account_id, context.region});
  }
  if (required) {
    return InvalidArgument("Either StreamName or StreamARN must be provided.");
  }
  return std::optional<Target>();
}

std::string WriteTimestampless(const std::function<void(JsonWriter&)>& body) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  body(w);
  return buffer.GetString();
}

void WriteHashRange(JsonWriter& w, const log::HashKeyRange& range) {
  WriteKey(w, "HashKeyRange");
  w.StartObject();
  WriteKey(w, "StartingHashKey");
  WriteString(w, log::HashKeyToString(range.starting));
  WriteKey(w, "EndingHashKey");
  WriteString(w, log::HashKeyToString(range.ending));
  w.EndObject();
}

void WriteShard(JsonWriter& w, const ShardInfo& shard) {
  w.StartObject();
  WriteKey(w, "ShardId");
  WriteString(w, KinesisService::FormatShardId(shard.id.index));
  if (shard.parent) {
    WriteKey(w, "ParentShardId");
    WriteString(w, KinesisService::FormatShardId(*shard.parent));
  }
  if (shard.adjacent_parent) {
    WriteKey(w, "AdjacentParentShardId");
    WriteString(w, KinesisService::FormatShardId(*shard.adjacent_parent));
  }
  WriteHashRange(w, shard.hash_range);
  WriteKey(w, "SequenceNumberRange");
  w.StartObject();
  WriteKey(w, "StartingSequenceNumber");
  WriteString(w, KinesisService::FormatSequenceNumber(shard.id, shard.starting_sequence));
  if (shard.ending_sequence) {
    WriteKey(w, "EndingSequenceNumber");
    WriteString(w, KinesisService::FormatSequenceNumber(shard.id, *shard.ending_sequence));
  }
  w.EndObject();
  w.EndObject();
}

void WriteModeDetails(JsonWriter& w, const Attributes& attributes) {
  WriteKey(w, "StreamModeDetails");
  w.StartObject();
  WriteKey(w, "StreamMode");
  WriteString(w, attributes.mode);
  w.EndObject();
}

std::optional<uint32_t> ParseShardIndex(std::string_view shard_id) {
  if (shard_id.starts_with("shardId-")) shard_id.remove_prefix(8);
  if (shard_id.empty() || shard_id.size() > 20) return std::nullopt;
  uint64_t value = 0;
  for (char c : shard_id) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > UINT32_MAX) return std::nullopt;
  }
  if (value > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(value);
}

Status ShardNotFound(std::string_view shard_id, const Target& target) {
  return Status::NotFound("Shard " + std::string(shard_id) + " in stream " + target.name +
                          " under account " + target.account + " does not exist");
}

Result<std::optional<double>> GetNumber(const JsonValue& request, std::string_view name) {
  const JsonValue* v = FindMember(request, name);
  if (v == nullptr) return std::optional<double>();
  if (!v->IsNumber()) {
    return SerializationError(std::string(JsonTypeToken(*v)) + " cannot be converted to Timestamp");
  }
  return std::optional<double>(v->GetDouble());
}

void AddLengthConstraint(ValidationErrors& errors, std::string_view value, std::string_view path,
                         size_t min, size_t max) {
  if (value.size() < min) {
    errors.AddConstraint(value, path,
                         "Member must have length greater than or equal to " + std::to_string(min));
  } else if (value.size() > max) {
    errors.AddConstraint(value.size() > 64 ? std::string(value.substr(0, 64)) : std::string(value),
                         path, "Member must have length less than or equal to " + std::to_string(max));
  }
}

void AddRangeConstraint(ValidationErrors& errors, std::optional<int64_t> value,
                        std::string_view path, int64_t min, int64_t max) {
  if (!value) return;
  if (*value < min) {
    errors.AddConstraint(std::to_string(*value), path,
                         "Member must have value greater than or equal to " + std::to_string(min));
  } else if (*value > max) {
    errors.AddConstraint(std::to_string(*value), path,
                         "Member must have value less than or equal to " + std::to_string(max));
  }
}

Result<StreamInfo> Lookup(const log::ShardLog& log, const Target& target) {
  auto stream = log.FindStream(KinesisService::LogName(target.account, target.region, target.name));
  if (!stream.ok()) return Status::NotFound(NotFoundMessage(target.name, target.account));
  return stream;
}

}  // namespace salespipe::services::kinesis
