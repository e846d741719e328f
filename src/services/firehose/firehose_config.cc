#include "services/firehose/firehose_config.h"

#include <cmath>
#include <regex>

#include "delivery/jq.h"
#include "delivery/object_key.h"

namespace salespipe::services::firehose {
namespace {

using delivery::Destination;

Status Unsupported(std::string_view member) {
  return Status::InvalidArgument(std::string(member) + " is not supported by this server");
}

Status Invalid(std::string message) { return Status::InvalidArgument(std::move(message)); }

std::string Path(std::string_view base, std::string_view member) {
  return std::string(base) + "." + std::string(member);
}

// Parses a decimal like "0.2" or "3" (ProcessorParameterValue is a string).
std::optional<double> ParseDecimal(std::string_view text) {
  static const std::regex kNumber("^[0-9]{1,9}(\\.[0-9]{1,6})?$");
  std::string s(text);
  if (!std::regex_match(s, kNumber)) return std::nullopt;
  return std::stod(s);
}

struct Processors {
  std::optional<delivery::LambdaProcessor> lambda;
  bool append_delimiter = false;
  std::string metadata_query;
};

Result<Processors> ParseProcessing(const JsonValue& processing, std::string_view path) {
  Processors out;
  ASSIGN_OR_RETURN(auto enabled, GetBool(processing, "Enabled"));
  ASSIGN_OR_RETURN(const JsonValue* list, GetArray(processing, "Processors"));
  // Processors without Enabled run: silently ignoring them is the pain point we avoid.
  if (enabled.has_value() && !*enabled) return out;
  if (list == nullptr) return out;
  for (const JsonValue& processor : list->GetArray()) {
    RETURN_IF_ERROR(ExpectObject(processor));
    ASSIGN_OR_RETURN(auto type, GetString(processor, "Type"));
    ASSIGN_OR_RETURN(const JsonValue* parameters, GetArray(processor, "Parameters"));
    if (!type) {
      ValidationErrors errors;
      errors.AddNull(Path(path, "processors.member.type"));
      return ValidationStatus(errors);
    }
    std::map<std::string, std::string> params;
    if (parameters != nullptr) {
      for (const JsonValue& parameter : parameters->GetArray()) {
        RETURN_IF_ERROR(ExpectObject(parameter));
        ASSIGN_OR_RETURN(auto name, GetString(parameter, "ParameterName"));
        ASSIGN_OR_RETURN(auto value, GetString(parameter, "ParameterValue"));
        if (!name || !value || value->empty()) {
          ValidationErrors errors;
          errors.AddNull(Path(path, !name ? "processors.member.parameters.member.parameterName"
                                          : "processors.member.parameters.member.parameterValue"));
          return ValidationStatus(errors);
        }
        params[std::string(*name)] = std::string(*value);
      }
    }
    auto allow = [&](std::initializer_list<std::string_view> allowed) -> Status {
      for (const auto& [name, value] : params) {
        bool ok = false;
        for (std::string_view a : allowed) ok = ok || name == a;
        if (!ok) {
          return Invalid("Processor parameter " + name + " is not supported for processor type " +
                         std::string(*type));
        }
      }
      return Status::Ok();
    };
    if (*type == "Lambda") {
      RETURN_IF_ERROR(allow({"LambdaArn", "NumberOfRetries", "BufferSizeInMBs",
                             "BufferIntervalInSeconds", "RoleArn"}));
      if (out.lambda) return Invalid("Only one Lambda processor is supported");
      delivery::LambdaProcessor lambda;
      auto arn = params.find("LambdaArn");
      if (arn == params.end()) return Invalid("LambdaArn is a required parameter of the Lambda processor");
      lambda.function_arn = arn->second;
      if (auto it = params.find("NumberOfRetries"); it != params.end()) {
        std::optional<double> n = ParseDecimal(it->second);
        if (!n || *n != std::floor(*n) || *n > 300) {
          return Invalid("NumberOfRetries must be an integer between 0 and 300");
        }
        lambda.retries = static_cast<int>(*n);
      }
      if (auto it = params.find("BufferSizeInMBs"); it != params.end()) {
        std::optional<double> mb = ParseDecimal(it->second);
        if (!mb || *mb < 0.2 || *mb > 3) return Invalid("BufferSizeInMBs must be between 0.2 and 3");
        lambda.buffer_bytes = static_cast<int64_t>(*mb * 1024 * 1024);
      }
      if (auto it = params.find("BufferIntervalInSeconds"); it != params.end()) {
        std::optional<double> s = ParseDecimal(it->second);
        if (!s || *s != std::floor(*s) || *s > 900) {
          return Invalid("BufferIntervalInSeconds must be an integer between 0 and 900");
        }
        lambda.buffer_interval_seconds = static_cast<int>(*s);
      }
      out.lambda = std::move(lambda);
    } else if (*type == "AppendDelimiterToRecord") {
      RETURN_IF_ERROR(allow({}));
      out.append_delimiter = true;
    } else if (*type == "MetadataExtraction") {
      RETURN_IF_ERROR(allow({"MetadataExtractionQuery", "JsonParsingEngine"}));
      auto engine = params.find("JsonParsingEngine");
      if (engine != params.end() && engine->second != "JQ-1.6") {
        return Invalid("JsonParsingEngine must be JQ-1.6");
      }
      auto query = params.find("MetadataExtractionQuery");
      if (query == params.end()) {
        return Invalid("MetadataExtractionQuery is a required parameter of MetadataExtraction");
      }
      RETURN_IF_ERROR(delivery::JqQuery::Parse(query->second).status());
      out.metadata_query = query->second;
    } else if (*type == "RecordDeAggregation" || *type == "Decompression" ||
               *type == "CloudWatchLogProcessing") {
      return Unsupported("Processor type " + std::string(*type));
    } else {
      ValidationErrors errors;
      errors.AddConstraint(*type, Path(path, "processors.member.type"),
                           "Member must satisfy enum value set: [RecordDeAggregation, "
                           "Decompression, CloudWatchLogProcessing, Lambda, MetadataExtraction, "
                           "AppendDelimiterToRecord]");
      return ValidationStatus(errors);
    }
  }
  return out;
}

void SetMember(JsonDocument& doc, std::string_view name, JsonValue value) {
  auto& alloc = doc.GetAllocator();
  auto it = doc.FindMember(rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size())));
  if (it != doc.MemberEnd()) {
    it->value = std::move(value);
  } else {
    doc.AddMember(JsonValue(name.data(), static_cast<rapidjson::SizeType>(name.size()), alloc),
                  std::move(value), alloc);
  }
}

std::string Serialize(const JsonValue& value) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  value.Accept(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

Result<ParsedDestination> ParseDestination(const JsonValue& config, bool extended,
                                           std::string_view path) {
  RETURN_IF_ERROR(ExpectObject(config));
  ParsedDestination out;
  Destination& d = out.destination;
  ValidationErrors errors;
  ASSIGN_OR_RETURN(auto role, GetString(config, "RoleARN"));
  ASSIGN_OR_RETURN(auto bucket_arn, GetString(config, "BucketARN"));
  ASSIGN_OR_RETURN(auto prefix, GetString(config, "Prefix"));
  ASSIGN_OR_RETURN(auto error_prefix, GetString(config, "ErrorOutputPrefix"));
  ASSIGN_OR_RETURN(const JsonValue* hints, GetObject(config, "BufferingHints"));
  ASSIGN_OR_RETURN(auto compression, GetString(config, "CompressionFormat"));
  ASSIGN_OR_RETURN(const JsonValue* encryption, GetObject(config, "EncryptionConfiguration"));
  ASSIGN_OR_RETURN(const JsonValue* logging, GetObject(config, "CloudWatchLoggingOptions"));
  if (!role) errors.AddNull(Path(path, "roleARN"));
  static const std::regex kBucketArn("^arn:[^:]*:s3:::([\\w.\\-]{1,255})$");
  std::smatch match;
  std::string bucket_text(bucket_arn.value_or(""));
  if (!bucket_arn) {
    errors.AddNull(Path(path, "bucketARN"));
  } else if (!std::regex_match(bucket_text, match, kBucketArn)) {
    errors.AddConstraint(*bucket_arn, Path(path, "bucketARN"),
                         "Member must satisfy regular expression pattern: arn:.*:s3:::[\\w\\.\\-]{1,255}");
  } else {
    d.bucket = match[1].str();
  }
  if (prefix && prefix->size() > 1024) {
    errors.AddConstraint(*prefix, Path(path, "prefix"),
                         "Member must have length less than or equal to 1024");
  }
  if (error_prefix && error_prefix->size() > 1024) {
    errors.AddConstraint(*error_prefix, Path(path, "errorOutputPrefix"),
                         "Member must have length less than or equal to 1024");
  }
  std::optional<int64_t> size_mb, interval;
  if (hints != nullptr) {
    ASSIGN_OR_RETURN(size_mb, GetInteger(*hints, "SizeInMBs"));
    ASSIGN_OR_RETURN(interval, GetInteger(*hints, "IntervalInSeconds"));
    if (size_mb && (*size_mb < 1 || *size_mb > 128)) {
      errors.AddConstraint(std::to_string(*size_mb), Path(path, "bufferingHints.sizeInMBs"),
                           *size_mb < 1 ? "Member must have value greater than or equal to 1"
                                        : "Member must have value less than or equal to 128");
    }
    if (interval && (*interval < 0 || *interval > 900)) {
      errors.AddConstraint(std::to_string(*interval), Path(path, "bufferingHints.intervalInSeconds"),
                           *interval < 0 ? "Member must have value greater than or equal to 0"
                                         : "Member must have value less than or equal to 900");
    }
  }
  if (compression) {
    std::optional<delivery::Compression> parsed = delivery::ParseCompression(*compression);
    if (!parsed) {
      errors.AddConstraint(*compression, Path(path, "compressionFormat"),
                           "Member must satisfy enum value set: [UNCOMPRESSED, GZIP, ZIP, Snappy, "
                           "HADOOP_SNAPPY]");
    } else {
      d.compression = *parsed;
    }
  }
  // Extended-only members.
  std::optional<std::string_view> backup_mode, extension, time_zone;
  const JsonValue* processing = nullptr;
  const JsonValue* dynamic = nullptr;
  const JsonValue* conversion = nullptr;
  const JsonValue* backup = nullptr;
  if (extended) {
    ASSIGN_OR_RETURN(backup_mode, GetString(config, "S3BackupMode"));
    ASSIGN_OR_RETURN(extension, GetString(config, "FileExtension"));
    ASSIGN_OR_RETURN(time_zone, GetString(config, "CustomTimeZone"));
    ASSIGN_OR_RETURN(processing, GetObject(config, "ProcessingConfiguration"));
    ASSIGN_OR_RETURN(dynamic, GetObject(config, "DynamicPartitioningConfiguration"));
    ASSIGN_OR_RETURN(conversion, GetObject(config, "DataFormatConversionConfiguration"));
    // The backup destination: as configured, as updated, or as stored (updates merge their
    // members over the stored S3BackupDescription, see ApplyDestinationUpdate).
    for (const char* member : {"S3BackupConfiguration", "S3BackupUpdate", "S3BackupDescription"}) {
      if (backup != nullptr) break;
      ASSIGN_OR_RETURN(backup, GetObject(config, member));
    }
    if (backup_mode && *backup_mode != "Disabled" && *backup_mode != "Enabled") {
      errors.AddConstraint(*backup_mode, Path(path, "s3BackupMode"),
                           "Member must satisfy enum value set: [Disabled, Enabled]");
    }
    static const std::regex kExtension("^$|^\\.[0-9a-z!\\-_.*'()]+$");
    if (extension && (extension->size() > 128 || !std::regex_match(std::string(*extension), kExtension))) {
      errors.AddConstraint(*extension, Path(path, "fileExtension"),
                           "Member must satisfy regular expression pattern: ^$|\\.[0-9a-z!\\-_.*'()]+");
    }
    static const std::regex kZone("^$|^[a-zA-Z/_]+$");
    if (time_zone && (time_zone->size() > 50 || !std::regex_match(std::string(*time_zone), kZone))) {
      errors.AddConstraint(*time_zone, Path(path, "customTimeZone"),
                           "Member must satisfy regular expression pattern: ^$|[a-zA-Z/_]+");
    }
  }
  RETURN_IF_ERROR(ValidationStatus(errors));

  // Members we do not implement: rejected by name rather than accepted and ignored.
  if (encryption != nullptr) {
    ASSIGN_OR_RETURN(const JsonValue* kms, GetObject(*encryption, "KMSEncryptionConfig"));
    if (kms != nullptr) return Unsupported("EncryptionConfiguration.KMSEncryptionConfig");
    ASSIGN_OR_RETURN(auto none, GetString(*encryption, "NoEncryptionConfig"));
    if (none && *none != "NoEncryption") {
      ValidationErrors e;
      e.AddConstraint(*none, Path(path, "encryptionConfiguration.noEncryptionConfig"),
                      "Member must satisfy enum value set: [NoEncryption]");
      return ValidationStatus(e);
    }
  }
  if (logging != nullptr) {
    ASSIGN_OR_RETURN(auto enabled, GetBool(*logging, "Enabled"));
    if (enabled.value_or(false)) return Unsupported("CloudWatchLoggingOptions with Enabled true");
  }
  std::string backup_description;
  if (backup != nullptr) {
    ASSIGN_OR_RETURN(ParsedDestination parsed_backup,
                     ParseDestination(*backup, false, Path(path, "s3BackupConfiguration")));
    backup_description = std::move(parsed_backup.description);
    if (backup_mode && *backup_mode == "Enabled") {
      const Destination& b = parsed_backup.destination;
      d.backup = delivery::BackupDestination{.bucket = b.bucket,
                                             .has_prefix = b.has_prefix,
                                             .prefix = b.prefix,
                                             .compression = b.compression};
    }
  } else if (backup_mode && *backup_mode == "Enabled") {
    return Invalid("S3BackupConfiguration is required when S3BackupMode is Enabled.");
  }
  if (conversion != nullptr) {
    ASSIGN_OR_RETURN(auto enabled, GetBool(*conversion, "Enabled"));
    if (enabled.value_or(true)) {
      return Unsupported("DataFormatConversionConfiguration (Parquet/ORC conversion)");
    }
  }
  if (dynamic != nullptr) {
    ASSIGN_OR_RETURN(auto enabled, GetBool(*dynamic, "Enabled"));
    d.dynamic_partitioning = enabled.value_or(false);
  }
  if (processing != nullptr) {
    ASSIGN_OR_RETURN(Processors processors, ParseProcessing(*processing, Path(path, "processingConfiguration")));
    d.lambda = std::move(processors.lambda);
    d.append_delimiter = processors.append_delimiter;
    d.metadata_query = std::move(processors.metadata_query);
  }
  d.has_prefix = prefix.has_value();
  d.prefix = std::string(prefix.value_or(""));
  d.has_error_prefix = error_prefix.has_value() && !error_prefix->empty();
  d.error_prefix = std::string(error_prefix.value_or(""));
  d.buffer_size_mb = static_cast<int>(size_mb.value_or(d.dynamic_partitioning ? 128 : 5));
  d.buffer_interval_seconds = static_cast<int>(interval.value_or(300));
  if (extension) d.file_extension = std::string(*extension);
  if (time_zone && !time_zone->empty()) {
    RETURN_IF_ERROR(delivery::TimeZone::Load(*time_zone).status());
    d.time_zone = std::string(*time_zone);
  }
  RETURN_IF_ERROR(delivery::ValidatePrefixes(d.prefix, d.has_prefix, d.error_prefix,
                                             d.has_error_prefix, d.dynamic_partitioning));
  if (d.dynamic_partitioning) {
    if (d.buffer_size_mb < 64) {
      return Invalid("BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is "
                     "enabled.");
    }
    ASSIGN_OR_RETURN(delivery::PrefixInfo info, delivery::ParsePrefix(d.prefix));
    if (!info.query_keys.empty()) {
      if (d.metadata_query.empty()) {
        return Invalid("partitionKeyFromQuery expressions need a MetadataExtraction processor");
      }
      ASSIGN_OR_RETURN(delivery::JqQuery query, delivery::JqQuery::Parse(d.metadata_query));
      std::vector<std::string> keys = query.keys();
      for (const std::string& key : info.query_keys) {
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
          return Invalid("The partition key " + key +
                         " in Prefix is not defined by the MetadataExtractionQuery");
        }
      }
    }
    if (!info.lambda_keys.empty() && !d.lambda) {
      return Invalid("partitionKeyFromLambda expressions need a Lambda processor");
    }
  } else if (!d.metadata_query.empty()) {
    return Invalid("The MetadataExtraction processor requires dynamic partitioning to be enabled");
  }

  // The description: the configuration with AWS's defaults filled in.
  JsonDocument doc;
  doc.CopyFrom(config, doc.GetAllocator());
  auto& alloc = doc.GetAllocator();
  JsonValue hints_value(rapidjson::kObjectType);
  hints_value.AddMember("SizeInMBs", d.buffer_size_mb, alloc);
  hints_value.AddMember("IntervalInSeconds", d.buffer_interval_seconds, alloc);
  SetMember(doc, "BufferingHints", std::move(hints_value));
  std::string_view compression_name = delivery::CompressionName(d.compression);
  SetMember(doc, "CompressionFormat",
            JsonValue(compression_name.data(), static_cast<rapidjson::SizeType>(compression_name.size()), alloc));
  if (encryption == nullptr) {
    JsonValue none(rapidjson::kObjectType);
    none.AddMember("NoEncryptionConfig", "NoEncryption", alloc);
    SetMember(doc, "EncryptionConfiguration", std::move(none));
  }
  if (logging == nullptr) {
    JsonValue off(rapidjson::kObjectType);
    off.AddMember("Enabled", false, alloc);
    SetMember(doc, "CloudWatchLoggingOptions", std::move(off));
  }
  if (extended && !backup_mode) SetMember(doc, "S3BackupMode", JsonValue("Disabled", alloc));
  // The backup is described as S3BackupDescription (the configuration's defaults filled in).
  doc.RemoveMember("S3BackupConfiguration");
  doc.RemoveMember("S3BackupUpdate");
  if (!backup_description.empty()) {
    JsonDocument backup_doc(&alloc);
    backup_doc.Parse(backup_description.data(), backup_description.size());
    SetMember(doc, "S3BackupDescription", JsonValue(backup_doc, alloc));
  }
  if (dynamic != nullptr && !dynamic->HasMember("RetryOptions")) {
    JsonValue retry(rapidjson::kObjectType);
    retry.AddMember("DurationInSeconds", 300, alloc);
    doc["DynamicPartitioningConfiguration"].AddMember("RetryOptions", std::move(retry), alloc);
  }
  out.description = Serialize(doc);
  return out;
}

Result<ParsedDestination> ApplyDestinationUpdate(std::string_view description,
                                                 const JsonValue& update, bool extended,
                                                 std::string_view path) {
  RETURN_IF_ERROR(ExpectObject(update));
  JsonDocument merged;
  merged.Parse(description.data(), description.size());
  if (merged.HasParseError() || !merged.IsObject()) return Status::Internal("corrupt description");
  const bool had_dynamic = merged.HasMember("DynamicPartitioningConfiguration") &&
                           merged["DynamicPartitioningConfiguration"].IsObject() &&
                           merged["DynamicPartitioningConfiguration"].HasMember("Enabled") &&
                           merged["DynamicPartitioningConfiguration"]["Enabled"].IsBool() &&
                           merged["DynamicPartitioningConfiguration"]["Enabled"].GetBool();
  for (const auto& member : update.GetObject()) {
    if (member.value.IsNull()) continue;
    std::string_view name(member.name.GetString(), member.name.GetStringLength());
    if (name == "S3BackupUpdate" && member.value.IsObject() &&
        merged.HasMember("S3BackupDescription") && merged["S3BackupDescription"].IsObject()) {
      JsonValue& stored = merged["S3BackupDescription"];
      for (const auto& field : member.value.GetObject()) {
        JsonValue key(field.name, merged.GetAllocator());
        JsonValue value(field.value, merged.GetAllocator());
        auto it = stored.FindMember(field.name);
        if (it != stored.MemberEnd()) {
          it->value = std::move(value);
        } else {
          stored.AddMember(std::move(key), std::move(value), merged.GetAllocator());
        }
      }
      continue;
    }
    JsonValue value;
    value.CopyFrom(member.value, merged.GetAllocator());
    SetMember(merged, std::string_view(member.name.GetString(), member.name.GetStringLength()),
              std::move(value));
  }
  ASSIGN_OR_RETURN(ParsedDestination parsed, ParseDestination(merged, extended, path));
  if (parsed.destination.dynamic_partitioning != had_dynamic) {
    return Invalid("Dynamic partitioning can only be enabled at delivery stream creation.");
  }
  return parsed;
}

Status ValidationStatus(const ValidationErrors& errors) {
  Status status = errors.ToStatus();
  if (status.ok()) return status;
  return std::move(status).WithAwsCode("ValidationException");
}

void WriteS3Description(JsonWriter& w, const JsonValue& description) {
  w.StartObject();
  for (const char* name : {"RoleARN", "BucketARN", "Prefix", "ErrorOutputPrefix", "BufferingHints",
                           "CompressionFormat", "EncryptionConfiguration",
                           "CloudWatchLoggingOptions"}) {
    auto it = description.FindMember(name);
    if (it == description.MemberEnd()) continue;
    WriteKey(w, name);
    it->value.Accept(w);
  }
  w.EndObject();
}

}  // namespace salespipe::services::firehose
