#include "services/firehose/firehose_service.h"

#include <algorithm>
#include <regex>

#include "common/crypto.h"
#include "services/firehose/firehose_config.h"
#include "services/kinesis/kinesis_service.h"

namespace salespipe::services::firehose {
namespace {

constexpr int64_t kMaxRecordBytes = 1000 * 1024;  // 1,000 KiB before base64
constexpr int64_t kMaxBatchBytes = 4 * 1024 * 1024;
constexpr size_t kMaxBatchRecords = 500;
constexpr size_t kMaxTags = 50;
constexpr std::string_view kDestinationId = "destinationId-000000000001";

bool ValidStreamName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

void CheckStreamName(ValidationErrors& errors, std::optional<std::string_view> name) {
  if (!name) {
    errors.AddNull("deliveryStreamName");
  } else if (!ValidStreamName(*name)) {
    errors.AddConstraint(*name, "deliveryStreamName",
                         name->empty() || name->size() > 64
                             ? (name->empty() ? "Member must have length greater than or equal to 1"
                                              : "Member must have length less than or equal to 64")
                             : "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
  }
}

// Adds the range violation of an optional Limit member (1..`max`).
void CheckLimit(ValidationErrors& errors, std::optional<int64_t> limit, int64_t max) {
  if (!limit || (*limit >= 1 && *limit <= max)) return;
  errors.AddConstraint(std::to_string(*limit), "limit",
                       *limit < 1 ? "Member must have value greater than or equal to 1"
                                  : "Member must have value less than or equal to " +
                                        std::to_string(max));
}

// The attributes blob (see the class comment).
struct Attributes {
  bool extended = true;
  std::string destination = "{}";
  std::vector<std::pair<std::string, std::string>> tags;
  std::optional<std::pair<std::string, std::string>> encryption;  // KeyType, KeyARN
  std::string source_role;
};

std::string EncodeAttributes(const Attributes& a) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "extended");
  w.Bool(a.extended);
  WriteKey(w, "destination");
  w.RawValue(a.destination.data(), a.destination.size(), rapidjson::kObjectType);
  WriteKey(w, "tags");
  w.StartArray();
  for (const auto& [k, v] : a.tags) {
    w.StartArray();
    WriteString(w, k);
    WriteString(w, v);
    w.EndArray();
  }
  w.EndArray();
  if (a.encryption) {
    WriteKey(w, "encryption");
    w.StartArray();
    WriteString(w, a.encryption->first);
    WriteString(w, a.encryption->second);
    w.EndArray();
  }
  WriteKey(w, "source_role");
  WriteString(w, a.source_role);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Attributes DecodeAttributes(std::string_view text) {
  Attributes a;
  JsonDocument doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return a;
  if (doc.HasMember("extended") && doc["extended"].IsBool()) a.extended = doc["extended"].GetBool();
  if (doc.HasMember("destination")) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    doc["destination"].Accept(w);
    a.destination.assign(buffer.GetString(), buffer.GetSize());
  }
  if (doc.HasMember("tags") && doc["tags"].IsArray()) {
    for (const auto& tag : doc["tags"].GetArray()) {
      if (tag.IsArray() && tag.Size() == 2 && tag[0].IsString() && tag[1].IsString()) {
        a.tags.emplace_back(tag[0].GetString(), tag[1].GetString());
      }
    }
  }
  if (doc.HasMember("encryption") && doc["encryption"].IsArray() && doc["encryption"].Size() == 2) {
    a.encryption = std::make_pair(std::string(doc["encryption"][0].GetString()),
                                  std::string(doc["encryption"][1].GetString()));
  }
  if (doc.HasMember("source_role") && doc["source_role"].IsString()) {
    a.source_role = doc["source_role"].GetString();
  }
  return a;
}

// Reads Tags [{Key, Value}] into `out`. ValidationException on model violations.
Status ReadTags(const JsonValue* list, std::string_view path,
                std::vector<std::pair<std::string, std::string>>* out) {
  if (list == nullptr) return Status::Ok();
  ValidationErrors errors;
  if (list->Size() > kMaxTags) {
    errors.AddConstraint("[...]", path, "Member must have length less than or equal to 50");
  }
  for (const JsonValue& tag : list->GetArray()) {
    RETURN_IF_ERROR(ExpectObject(tag));
    ASSIGN_OR_RETURN(auto key, GetString(tag, "Key"));
    ASSIGN_OR_RETURN(auto value, GetString(tag, "Value"));
    if (!key) {
      errors.AddNull(std::string(path) + ".member.key");
      continue;
    }
    if (key->empty() || key->size() > 128 || key->starts_with("aws:")) {
      errors.AddConstraint(*key, std::string(path) + ".member.key",
                           "Member must satisfy the tag key constraints");
      continue;
    }
    if (value && value->size() > 256) {
      errors.AddConstraint(*value, std::string(path) + ".member.value",
                           "Member must have length less than or equal to 256");
      continue;
    }
    out->emplace_back(std::string(*key), std::string(value.value_or("")));
  }
  return ValidationStatus(errors);
}

void MergeTags(std::vector<std::pair<std::string, std::string>>& tags,
               const std::vector<std::pair<std::string, std::string>>& more) {
  for (const auto& [k, v] : more) {
    auto it = std::find_if(tags.begin(), tags.end(), [&](const auto& t) { return t.first == k; });
    if (it != tags.end()) {
      it->second = v;
    } else {
      tags.emplace_back(k, v);
    }
  }
}

Status TooManyTags() {
  return Status::ResourceExhausted("A delivery stream cannot have more than 50 tags.")
      .WithAwsCode("LimitExceededException");
}

// arn:aws:kinesis:<region>:<account>:stream/<name> -> the Kinesis service's log name.
std::optional<std::string> KinesisLogName(std::string_view arn) {
  static const std::regex kArn("^arn:[^:]+:kinesis:([a-zA-Z0-9-]+):(\\d{12}):stream/([a-zA-Z0-9_.-]+)$");
  std::smatch m;
  std::string text(arn);
  if (!std::regex_match(text, m, kArn)) return std::nullopt;
  return kinesis::KinesisService::LogName(m[2].str(), m[1].str(), m[3].str());
}

Result<std::string> Empty() { return std::string("{}"); }

}  // namespace

FirehoseService::FirehoseService(delivery::DeliveryEngine& engine, const Clock& clock)
    : engine_(engine), clock_(clock) {
  SetOperations({
      {"CreateDeliveryStream", &FirehoseService::CreateDeliveryStream},
      {"DescribeDeliveryStream", &FirehoseService::DescribeDeliveryStream},
      {"ListDeliveryStreams", &FirehoseService::ListDeliveryStreams},
      {"DeleteDeliveryStream", &FirehoseService::DeleteDeliveryStream},
      {"UpdateDestination", &FirehoseService::UpdateDestination},
      {"PutRecord", &FirehoseService::PutRecord},
      {"PutRecordBatch", &FirehoseService::PutRecordBatch},
      {"TagDeliveryStream", &FirehoseService::TagDeliveryStream},
      {"UntagDeliveryStream", &FirehoseService::UntagDeliveryStream},
      {"ListTagsForDeliveryStream", &FirehoseService::ListTagsForDeliveryStream},
      {"StartDeliveryStreamEncryption", &FirehoseService::StartDeliveryStreamEncryption},
      {"StopDeliveryStreamEncryption", &FirehoseService::StopDeliveryStreamEncryption},
  });
}

Result<delivery::StreamDef> FirehoseService::FindStream(const JsonValue& request,
                                                        const RequestContext& context,
                                                        std::string* name) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto given, GetString(request, "DeliveryStreamName"));
  CheckStreamName(errors, given);
  RETURN_IF_ERROR(ValidationStatus(errors));
  *name = std::string(*given);
  return engine_.GetStream(context.account_id, context.region, *name);
}

// ---------------------------------------------------------------------------------------------
// Control plane

Result<std::string> FirehoseService::CreateDeliveryStream(const JsonValue& request,
                                                          const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto name, GetString(request, "DeliveryStreamName"));
  ASSIGN_OR_RETURN(auto type, GetString(request, "DeliveryStreamType"));
  ASSIGN_OR_RETURN(const JsonValue* kinesis, GetObject(request, "KinesisStreamSourceConfiguration"));
  ASSIGN_OR_RETURN(const JsonValue* extended, GetObject(request, "ExtendedS3DestinationConfiguration"));
  ASSIGN_OR_RETURN(const JsonValue* s3, GetObject(request, "S3DestinationConfiguration"));
  ASSIGN_OR_RETURN(const JsonValue* encryption,
                   GetObject(request, "DeliveryStreamEncryptionConfigurationInput"));
  ASSIGN_OR_RETURN(const JsonValue* tags, GetArray(request, "Tags"));
  CheckStreamName(errors, name);
  const std::string stream_type(type.value_or("DirectPut"));
  if (stream_type != "DirectPut" && stream_type != "KinesisStreamAsSource" &&
      stream_type != "MSKAsSource" && stream_type != "DatabaseAsSource") {
    errors.AddConstraint(stream_type, "deliveryStreamType",
                         "Member must satisfy enum value set: [DirectPut, KinesisStreamAsSource, "
                         "MSKAsSource, DatabaseAsSource]");
  }
  std::optional<std::string_view> key_type, key_arn;
  if (encryption != nullptr) {
    ASSIGN_OR_RETURN(key_type, GetString(*encryption, "KeyType"));
    ASSIGN_OR_RETURN(key_arn, GetString(*encryption, "KeyARN"));
    if (!key_type) {
      errors.AddNull("deliveryStreamEncryptionConfigurationInput.keyType");
    } else if (*key_type != "AWS_OWNED_CMK" && *key_type != "CUSTOMER_MANAGED_CMK") {
      errors.AddConstraint(*key_type, "deliveryStreamEncryptionConfigurationInput.keyType",
                           "Member must satisfy enum value set: [AWS_OWNED_CMK, CUSTOMER_MANAGED_CMK]");
    }
  }
  std::optional<std::string_view> source_arn, source_role;
  if (kinesis != nullptr) {
    ASSIGN_OR_RETURN(source_arn, GetString(*kinesis, "KinesisStreamARN"));
    ASSIGN_OR_RETURN(source_role, GetString(*kinesis, "RoleARN"));
    if (!source_arn) errors.AddNull("kinesisStreamSourceConfiguration.kinesisStreamARN");
    if (!source_role) errors.AddNull("kinesisStreamSourceConfiguration.roleARN");
  }
  std::vector<std::pair<std::string, std::string>> tag_list;
  RETURN_IF_ERROR(ReadTags(tags, "tags", &tag_list));
  RETURN_IF_ERROR(ValidationStatus(errors));

  // Everything not implemented is rejected by name.
  for (const char* member :
       {"DirectPutSourceConfiguration", "MSKSourceConfiguration", "DatabaseSourceConfiguration",
        "RedshiftDestinationConfiguration", "ElasticsearchDestinationConfiguration",
        "AmazonopensearchserviceDestinationConfiguration", "SplunkDestinationConfiguration",
        "HttpEndpointDestinationConfiguration", "AmazonOpenSearchServerlessDestinationConfiguration",
        "SnowflakeDestinationConfiguration", "IcebergDestinationConfiguration"}) {
    if (FindMember(request, member) != nullptr) {
      return Status::InvalidArgument(std::string(member) + " is not supported by this server");
    }
  }
  if (stream_type == "MSKAsSource" || stream_type == "DatabaseAsSource") {
    return Status::InvalidArgument("DeliveryStreamType " + stream_type +
                                   " is not supported by this server");
  }
  const bool from_kinesis = stream_type == "KinesisStreamAsSource";
  if (from_kinesis && kinesis == nullptr) {
    return Status::InvalidArgument(
        "KinesisStreamSourceConfiguration is required for KinesisStreamAsSource delivery streams.");
  }
  if (!from_kinesis && kinesis != nullptr) {
    return Status::InvalidArgument(
        "KinesisStreamSourceConfiguration is only allowed for KinesisStreamAsSource delivery "
        "streams.");
  }
  if ((extended != nullptr) == (s3 != nullptr)) {
    return Status::InvalidArgument(
        "Exactly one destination configuration must be given (ExtendedS3DestinationConfiguration "
        "or S3DestinationConfiguration).");
  }
  ASSIGN_OR_RETURN(ParsedDestination parsed,
                   extended != nullptr
                       ? ParseDestination(*extended, true, "extendedS3DestinationConfiguration")
                       : ParseDestination(*s3, false, "s3DestinationConfiguration"));
  Attributes attributes{.extended = extended != nullptr,
                        .destination = parsed.description,
                        .tags = std::move(tag_list),
                        .source_role = std::string(source_role.value_or(""))};
  if (encryption != nullptr) {
    attributes.encryption = std::make_pair(std::string(*key_type), std::string(key_arn.value_or("")));
  }
  delivery::StreamDef def{
      .account = context.account_id,
      .region = context.region,
      .name = std::string(*name),
      .arn = "arn:aws:firehose:" + context.region + ":" + context.account_id +
             ":deliverystream/" + std::string(*name),
      .kinesis_source = from_kinesis,
      .destination = std::move(parsed.destination),
      .attributes = EncodeAttributes(attributes)};
  if (from_kinesis) {
    std::optional<std::string> log_name = KinesisLogName(*source_arn);
    if (!log_name) {
      ValidationErrors e;
      e.AddConstraint(*source_arn, "kinesisStreamSourceConfiguration.kinesisStreamARN",
                      "Member must satisfy regular expression pattern: "
                      "arn:.*:kinesis:[a-zA-Z0-9\\-]+:\\d{12}:stream/[a-zA-Z0-9_.-]+");
      return ValidationStatus(e);
    }
    def.source_log = *log_name;
    def.source_arn = std::string(*source_arn);
  }
  Result<delivery::StreamDef> created = engine_.CreateStream(std::move(def));
  if (!created.ok()) {
    if (created.status().code() == ErrorCode::kAlreadyExists) {
      return Status::AlreadyExists(created.status().message()).WithAwsCode("ResourceInUseException");
    }
    if (created.status().code() == ErrorCode::kNotFound) {
      return Status::InvalidArgument("Kinesis stream " + std::string(*source_arn) +
                                     " does not exist.");
    }
    return created.status();
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "DeliveryStreamARN");
  WriteString(w, created->arn);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<std::string> FirehoseService::DescribeDeliveryStream(const JsonValue& request,
                                                            const RequestContext& context) {
  ASSIGN_OR_RETURN(auto limit, GetInteger(request, "Limit"));
  ValidationErrors errors;
  CheckLimit(errors, limit, 10000);
  RETURN_IF_ERROR(ValidationStatus(errors));
  std::string name;
  ASSIGN_OR_RETURN(delivery::StreamDef def, FindStream(request, context, &name));
  Attributes attributes = DecodeAttributes(def.attributes);
  JsonDocument destination;
  destination.Parse(attributes.destination.data(), attributes.destination.size());
  if (destination.HasParseError() || !destination.IsObject()) {
    return Status::Internal("corrupt delivery stream description");
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "DeliveryStreamDescription");
  w.StartObject();
  WriteKey(w, "DeliveryStreamName");
  WriteString(w, def.name);
  WriteKey(w, "DeliveryStreamARN");
  WriteString(w, def.arn);
  WriteKey(w, "DeliveryStreamStatus");
  // ACTIVE at the first Describe (waiters never sleep); DELETING from DeleteDeliveryStream's
  // answer until the drain is done, then ResourceNotFoundException.
  WriteString(w, def.deleting ? "DELETING" : "ACTIVE");
  WriteKey(w, "DeliveryStreamEncryptionConfiguration");
  w.StartObject();
  if (attributes.encryption) {
    WriteKey(w, "KeyType");
    WriteString(w, attributes.encryption->first);
    if (!attributes.encryption->second.empty()) {
      WriteKey(w, "KeyARN");
      WriteString(w, attributes.encryption->second);
    }
    WriteKey(w, "Status");
    WriteString(w, "ENABLED");
  } else {
    WriteKey(w, "Status");
    WriteString(w, "DISABLED");
  }
  w.EndObject();
  WriteKey(w, "DeliveryStreamType");
  WriteString(w, def.kinesis_source ? "KinesisStreamAsSource" : "DirectPut");
  WriteKey(w, "VersionId");
  WriteString(w, std::to_string(def.version));
  WriteKey(w, "CreateTimestamp");
  WriteEpochSeconds(w, def.created_millis);
  if (def.version > 1) {
    WriteKey(w, "LastUpdateTimestamp");
    WriteEpochSeconds(w, def.updated_millis);
  }
  if (def.kinesis_source) {
    WriteKey(w, "Source");
    w.StartObject();
    WriteKey(w, "KinesisStreamSourceDescription");
    w.StartObject();
    WriteKey(w, "KinesisStreamARN");
    WriteString(w, def.source_arn);
    WriteKey(w, "RoleARN");
    WriteString(w, attributes.source_role);
    WriteKey(w, "DeliveryStartTimestamp");
    WriteEpochSeconds(w, def.delivery_start_millis);
    w.EndObject();
    w.EndObject();
  }
  WriteKey(w, "Destinations");
  w.StartArray();
  w.StartObject();
  WriteKey(w, "DestinationId");
  WriteString(w, kDestinationId);
  WriteKey(w, "S3DestinationDescription");
  WriteS3Description(w, destination);
  if (attributes.extended) {
    WriteKey(w, "ExtendedS3DestinationDescription");
    destination.Accept(w);
  }
  w.EndObject();
  w.EndArray();
  WriteKey(w, "HasMoreDestinations");
  w.Bool(false);
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<std::string> FirehoseService::ListDeliveryStreams(const JsonValue& request,
                                                         const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto limit, GetInteger(request, "Limit"));
  ASSIGN_OR_RETURN(auto type, GetString(request, "DeliveryStreamType"));
  ASSIGN_OR_RETURN(auto start, GetString(request, "ExclusiveStartDeliveryStreamName"));
  CheckLimit(errors, limit, 10000);
  if (type && *type != "DirectPut" && *type != "KinesisStreamAsSource" && *type != "MSKAsSource" &&
      *type != "DatabaseAsSource") {
    errors.AddConstraint(*type, "deliveryStreamType",
                         "Member must satisfy enum value set: [DirectPut, KinesisStreamAsSource, "
                         "MSKAsSource, DatabaseAsSource]");
  }
  if (start && !ValidStreamName(*start)) CheckStreamName(errors, start);
  RETURN_IF_ERROR(ValidationStatus(errors));
  const int64_t max = limit.value_or(10);
  std::vector<std::string> names;
  bool more = false;
  for (const delivery::StreamDef& def : engine_.ListStreams(context.account_id, context.region)) {
    if (start && def.name <= *start) continue;
    if (type && (*type == "KinesisStreamAsSource") != def.kinesis_source) continue;
    if (type && *type != "DirectPut" && *type != "KinesisStreamAsSource") continue;
    if (static_cast<int64_t>(names.size()) == max) {
      more = true;
      break;
    }
    names.push_back(def.name);
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "DeliveryStreamNames");
  w.StartArray();
  for (const std::string& n : names) WriteString(w, n);
  w.EndArray();
  WriteKey(w, "HasMoreDeliveryStreams");
  w.Bool(more);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<std::string> FirehoseService::DeleteDeliveryStream(const JsonValue& request,
                                                          const RequestContext& context) {
  ASSIGN_OR_RETURN(auto force, GetBool(request, "AllowForceDelete"));
  (void)force;  // there is no CMK to fail on: deletion always succeeds
  std::string name;
  RETURN_IF_ERROR(FindStream(request, context, &name).status());
  // Answers at once (DELETING); the stream drains (what was acknowledged is delivered) and
  // goes away in the background, as on AWS.
  RETURN_IF_ERROR(engine_.DeleteStream(context.account_id, context.region, name));
  return Empty();
}

Result<std::string> FirehoseService::UpdateDestination(const JsonValue& request,
                                                       const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto name, GetString(request, "DeliveryStreamName"));
  ASSIGN_OR_RETURN(auto version, GetString(request, "CurrentDeliveryStreamVersionId"));
  ASSIGN_OR_RETURN(auto destination_id, GetString(request, "DestinationId"));
  ASSIGN_OR_RETURN(const JsonValue* extended, GetObject(request, "ExtendedS3DestinationUpdate"));
  ASSIGN_OR_RETURN(const JsonValue* s3, GetObject(request, "S3DestinationUpdate"));
  CheckStreamName(errors, name);
  static const std::regex kVersion("^[0-9]{1,18}$");
  if (!version) {
    errors.AddNull("currentDeliveryStreamVersionId");
  } else if (!std::regex_match(std::string(*version), kVersion)) {
    errors.AddConstraint(*version, "currentDeliveryStreamVersionId",
                         "Member must satisfy regular expression pattern: [0-9]+");
  }
  if (!destination_id) errors.AddNull("destinationId");
  RETURN_IF_ERROR(ValidationStatus(errors));
  for (const char* member :
       {"RedshiftDestinationUpdate", "ElasticsearchDestinationUpdate",
        "AmazonopensearchserviceDestinationUpdate", "SplunkDestinationUpdate",
        "HttpEndpointDestinationUpdate", "AmazonOpenSearchServerlessDestinationUpdate",
        "SnowflakeDestinationUpdate", "IcebergDestinationUpdate"}) {
    if (FindMember(request, member) != nullptr) {
      return Status::InvalidArgument(std::string(member) + " is not supported by this server");
    }
  }
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(delivery::StreamDef def,
                   engine_.GetStream(context.account_id, context.region, *name));
  if (*destination_id != kDestinationId) {
    return Status::InvalidArgument("Destination " + std::string(*destination_id) +
                                   " not found in delivery stream " + std::string(*name) + ".");
  }
  if ((extended != nullptr) == (s3 != nullptr)) {
    return Status::InvalidArgument(
        "Exactly one destination update must be given (ExtendedS3DestinationUpdate or "
        "S3DestinationUpdate).");
  }
  Attributes attributes = DecodeAttributes(def.attributes);
  ASSIGN_OR_RETURN(ParsedDestination parsed,
                   extended != nullptr
                       ? ApplyDestinationUpdate(attributes.destination, *extended, true,
                                                "extendedS3DestinationUpdate")
                       : ApplyDestinationUpdate(attributes.destination, *s3, attributes.extended,
                                                "s3DestinationUpdate"));
  if (extended != nullptr) attributes.extended = true;
  attributes.destination = parsed.description;
  Result<delivery::StreamDef> updated = engine_.UpdateDestination(
      context.account_id, context.region, *name, std::stoll(std::string(*version)),
      std::move(parsed.destination), EncodeAttributes(attributes));
  if (!updated.ok()) return updated.status();
  return Empty();
}

// ---------------------------------------------------------------------------------------------
// Records

Result<std::string> FirehoseService::PutRecord(const JsonValue& request,
                                               const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto name, GetString(request, "DeliveryStreamName"));
  ASSIGN_OR_RETURN(const JsonValue* record, GetObject(request, "Record"));
  CheckStreamName(errors, name);
  std::optional<std::string> data;
  if (record == nullptr) {
    errors.AddNull("record");
  } else {
    ASSIGN_OR_RETURN(auto encoded, GetString(*record, "Data"));
    if (!encoded) {
      errors.AddNull("record.data");
    } else {
      data = Base64Decode(*encoded);
      if (!data) return SerializationError("Base64 encoded data could not be decoded");
      if (static_cast<int64_t>(data->size()) > kMaxRecordBytes) {
        errors.AddConstraint("java.nio.HeapByteBuffer[pos=0 lim=" + std::to_string(data->size()) +
                                 " cap=" + std::to_string(data->size()) + "]",
                             "record.data", "Member must have length less than or equal to 1024000");
      }
    }
  }
  RETURN_IF_ERROR(ValidationStatus(errors));
  Result<std::vector<std::string>> ids =
      engine_.PutRecords(context.account_id, context.region, *name, {*data});
  if (!ids.ok()) {
    if (ids.status().code() == ErrorCode::kFailedPrecondition) {
      return Status::InvalidArgument(ids.status().message());
    }
    return ids.status();
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "RecordId");
  WriteString(w, (*ids)[0]);
  WriteKey(w, "Encrypted");
  w.Bool(false);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<std::string> FirehoseService::PutRecordBatch(const JsonValue& request,
                                                    const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto name, GetString(request, "DeliveryStreamName"));
  ASSIGN_OR_RETURN(const JsonValue* records, GetArray(request, "Records"));
  CheckStreamName(errors, name);
  std::vector<std::string> decoded;
  int64_t total = 0;
  if (records == nullptr) {
    errors.AddNull("records");
  } else if (records->Empty() || records->Size() > kMaxBatchRecords) {
    errors.AddConstraint("[...]", "records",
                         records->Empty() ? "Member must have length greater than or equal to 1"
                                          : "Member must have length less than or equal to 500");
  } else {
    decoded.reserve(records->Size());
    for (rapidjson::SizeType i = 0; i < records->Size(); ++i) {
      const JsonValue& record = (*records)[i];
      RETURN_IF_ERROR(ExpectObject(record));
      ASSIGN_OR_RETURN(auto encoded, GetString(record, "Data"));
      std::string path = "records." + std::to_string(i + 1) + ".member.data";
      if (!encoded) {
        errors.AddNull(path);
        continue;
      }
      std::optional<std::string> data = Base64Decode(*encoded);
      if (!data) return SerializationError("Base64 encoded data could not be decoded");
      if (static_cast<int64_t>(data->size()) > kMaxRecordBytes) {
        errors.AddConstraint("java.nio.HeapByteBuffer[pos=0 lim=" + std::to_string(data->size()) +
                                 " cap=" + std::to_string(data->size()) + "]",
                             path, "Member must have length less than or equal to 1024000");
      }
      total += static_cast<int64_t>(data->size());
      decoded.push_back(std::move(*data));
    }
  }
  RETURN_IF_ERROR(ValidationStatus(errors));
  if (total > kMaxBatchBytes) {
    return Status::InvalidArgument("Records size exceeds 4 MB limit");
  }
  std::vector<std::string_view> views(decoded.begin(), decoded.end());
  Result<std::vector<std::string>> ids =
      engine_.PutRecords(context.account_id, context.region, *name, views);
  if (!ids.ok()) {
    if (ids.status().code() == ErrorCode::kFailedPrecondition) {
      return Status::InvalidArgument(ids.status().message());
    }
    if (ids.status().code() == ErrorCode::kNotFound) return ids.status();
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "FailedPutCount");
  w.Int(ids.ok() ? 0 : static_cast<int>(decoded.size()));
  WriteKey(w, "Encrypted");
  w.Bool(false);
  WriteKey(w, "RequestResponses");
  w.StartArray();
  for (size_t i = 0; i < decoded.size(); ++i) {
    w.StartObject();
    if (ids.ok()) {
      WriteKey(w, "RecordId");
      WriteString(w, (*ids)[i]);
    } else {
      // A storage failure fails every record of the (atomic) batch; producers retry them.
      WriteKey(w, "ErrorCode");
      WriteString(w, "ServiceUnavailableException");
      WriteKey(w, "ErrorMessage");
      WriteString(w, "The record could not be stored; retry it.");
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// ---------------------------------------------------------------------------------------------
// Tags and encryption (stored and echoed)

Result<std::string> FirehoseService::TagDeliveryStream(const JsonValue& request,
                                                       const RequestContext& context) {
  ASSIGN_OR_RETURN(const JsonValue* tags, GetArray(request, "Tags"));
  std::vector<std::pair<std::string, std::string>> more;
  if (tags == nullptr || tags->Empty()) {
    ValidationErrors errors;
    if (tags == nullptr) {
      errors.AddNull("tags");
    } else {
      errors.AddConstraint("[]", "tags", "Member must have length greater than or equal to 1");
    }
    return ValidationStatus(errors);
  }
  RETURN_IF_ERROR(ReadTags(tags, "tags", &more));
  MutexLock lock(mu_);
  std::string name;
  ASSIGN_OR_RETURN(delivery::StreamDef def, FindStream(request, context, &name));
  Attributes attributes = DecodeAttributes(def.attributes);
  MergeTags(attributes.tags, more);
  if (attributes.tags.size() > kMaxTags) return TooManyTags();
  RETURN_IF_ERROR(engine_.SetAttributes(context.account_id, context.region, name,
                                        EncodeAttributes(attributes)));
  return Empty();
}

Result<std::string> FirehoseService::UntagDeliveryStream(const JsonValue& request,
                                                         const RequestContext& context) {
  ASSIGN_OR_RETURN(const JsonValue* keys, GetArray(request, "TagKeys"));
  ValidationErrors errors;
  if (keys == nullptr) {
    errors.AddNull("tagKeys");
  } else if (keys->Empty() || keys->Size() > kMaxTags) {
    errors.AddConstraint("[...]", "tagKeys",
                         keys->Empty() ? "Member must have length greater than or equal to 1"
                                       : "Member must have length less than or equal to 50");
  }
  RETURN_IF_ERROR(ValidationStatus(errors));
  std::vector<std::string> remove;
  for (const JsonValue& key : keys->GetArray()) {
    ASSIGN_OR_RETURN(std::string_view k, AsString(key));
    remove.emplace_back(k);
  }
  MutexLock lock(mu_);
  std::string name;
  ASSIGN_OR_RETURN(delivery::StreamDef def, FindStream(request, context, &name));
  Attributes attributes = DecodeAttributes(def.attributes);
  std::erase_if(attributes.tags, [&](const auto& tag) {
    return std::find(remove.begin(), remove.end(), tag.first) != remove.end();
  });
  RETURN_IF_ERROR(engine_.SetAttributes(context.account_id, context.region, name,
                                        EncodeAttributes(attributes)));
  return Empty();
}

Result<std::string> FirehoseService::ListTagsForDeliveryStream(const JsonValue& request,
                                                               const RequestContext& context) {
  ASSIGN_OR_RETURN(auto start, GetString(request, "ExclusiveStartTagKey"));
  ASSIGN_OR_RETURN(auto limit, GetInteger(request, "Limit"));
  ValidationErrors errors;
  CheckLimit(errors, limit, 50);
  RETURN_IF_ERROR(ValidationStatus(errors));
  std::string name;
  ASSIGN_OR_RETURN(delivery::StreamDef def, FindStream(request, context, &name));
  Attributes attributes = DecodeAttributes(def.attributes);
  std::sort(attributes.tags.begin(), attributes.tags.end());
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "Tags");
  w.StartArray();
  int64_t count = 0;
  bool more = false;
  for (const auto& [k, v] : attributes.tags) {
    if (start && k <= *start) continue;
    if (count == limit.value_or(50)) {
      more = true;
      break;
    }
    ++count;
    w.StartObject();
    WriteKey(w, "Key");
    WriteString(w, k);
    WriteKey(w, "Value");
    WriteString(w, v);
    w.EndObject();
  }
  w.EndArray();
  WriteKey(w, "HasMoreTags");
  w.Bool(more);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<std::string> FirehoseService::ChangeEncryption(const JsonValue& request,
                                                      const RequestContext& context, bool start) {
  std::optional<std::pair<std::string, std::string>> setting;
  if (start) {
    ASSIGN_OR_RETURN(const JsonValue* input,
                     GetObject(request, "DeliveryStreamEncryptionConfigurationInput"));
    std::string key_type = "AWS_OWNED_CMK", key_arn;
    if (input != nullptr) {
      ASSIGN_OR_RETURN(auto type, GetString(*input, "KeyType"));
      ASSIGN_OR_RETURN(auto arn, GetString(*input, "KeyARN"));
      ValidationErrors errors;
      if (!type) {
        errors.AddNull("deliveryStreamEncryptionConfigurationInput.keyType");
      } else if (*type != "AWS_OWNED_CMK" && *type != "CUSTOMER_MANAGED_CMK") {
        errors.AddConstraint(*type, "deliveryStreamEncryptionConfigurationInput.keyType",
                             "Member must satisfy enum value set: [AWS_OWNED_CMK, CUSTOMER_MANAGED_CMK]");
      }
      RETURN_IF_ERROR(ValidationStatus(errors));
      key_type = std::string(*type);
      key_arn = std::string(arn.value_or(""));
    }
    setting = std::make_pair(key_type, key_arn);
  }
  MutexLock lock(mu_);
  std::string name;
  ASSIGN_OR_RETURN(delivery::StreamDef def, FindStream(request, context, &name));
  Attributes attributes = DecodeAttributes(def.attributes);
  attributes.encryption = setting;
  RETURN_IF_ERROR(engine_.SetAttributes(context.account_id, context.region, name,
                                        EncodeAttributes(attributes)));
  return Empty();
}

Result<std::string> FirehoseService::StartDeliveryStreamEncryption(const JsonValue& request,
                                                                   const RequestContext& context) {
  return ChangeEncryption(request, context, true);
}

Result<std::string> FirehoseService::StopDeliveryStreamEncryption(const JsonValue& request,
                                                                  const RequestContext& context) {
  return ChangeEncryption(request, context, false);
}

}  // namespace salespipe::services::firehose
