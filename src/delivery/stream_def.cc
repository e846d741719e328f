#include "delivery/stream_def.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace salespipe::delivery {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, std::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string GetStr(const rapidjson::Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}
int64_t GetInt(const rapidjson::Value& obj, const char* key, int64_t fallback) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsInt64()) return fallback;
  return it->value.GetInt64();
}
bool GetBool(const rapidjson::Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}
bool Has(const rapidjson::Value& obj, const char* key) {
  return obj.FindMember(key) != obj.MemberEnd();
}

}  // namespace

// Layout (persisted; add members, never rename): one JSON object
//   {account, region, name, arn, id, created, updated, version, kinesis, source_log,
//    source_arn, start, attributes, deleting?,
//    destination: {bucket, prefix?, error_prefix?, size_mb, interval, compression,
//                  extension?, tz, delimiter, query, dynamic,
//                  backup?: {bucket, prefix?, compression},
//                  lambda?: {arn, retries, bytes, interval}}}
std::string EncodeStreamDef(const StreamDef& def) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Str(w, "account", def.account);
  Str(w, "region", def.region);
  Str(w, "name", def.name);
  Str(w, "arn", def.arn);
  Str(w, "id", def.id);
  w.Key("created");
  w.Int64(def.created_millis);
  w.Key("updated");
  w.Int64(def.updated_millis);
  w.Key("version");
  w.Int64(def.version);
  w.Key("kinesis");
  w.Bool(def.kinesis_source);
  Str(w, "source_log", def.source_log);
  Str(w, "source_arn", def.source_arn);
  w.Key("start");
  w.Int64(def.delivery_start_millis);
  Str(w, "attributes", def.attributes);
  if (def.deleting) {
    w.Key("deleting");
    w.Bool(true);
  }
  const Destination& d = def.destination;
  w.Key("destination");
  w.StartObject();
  Str(w, "bucket", d.bucket);
  if (d.has_prefix) Str(w, "prefix", d.prefix);
  if (d.has_error_prefix) Str(w, "error_prefix", d.error_prefix);
  w.Key("size_mb");
  w.Int(d.buffer_size_mb);
  w.Key("interval");
  w.Int(d.buffer_interval_seconds);
  Str(w, "compression", CompressionName(d.compression));
  if (d.file_extension) Str(w, "extension", *d.file_extension);
  Str(w, "tz", d.time_zone);
  w.Key("delimiter");
  w.Bool(d.append_delimiter);
  Str(w, "query", d.metadata_query);
  w.Key("dynamic");
  w.Bool(d.dynamic_partitioning);
  if (d.backup) {
    w.Key("backup");
    w.StartObject();
    Str(w, "bucket", d.backup->bucket);
    if (d.backup->has_prefix) Str(w, "prefix", d.backup->prefix);
    Str(w, "compression", CompressionName(d.backup->compression));
    w.EndObject();
  }
  if (d.lambda) {
    w.Key("lambda");
    w.StartObject();
    Str(w, "arn", d.lambda->function_arn);
    w.Key("retries");
    w.Int(d.lambda->retries);
    w.Key("bytes");
    w.Int64(d.lambda->buffer_bytes);
    w.Key("interval");
    w.Int(d.lambda->buffer_interval_seconds);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<StreamDef> DecodeStreamDef(std::string_view data) {
  rapidjson::Document doc;
  doc.Parse(data.data(), data.size());
  if (doc.HasParseError() || !doc.IsObject() || !Has(doc, "destination") ||
      !doc["destination"].IsObject()) {
    return Status::Internal("corrupt delivery stream record");
  }
  StreamDef def{.account = GetStr(doc, "account"),
                .region = GetStr(doc, "region"),
                .name = GetStr(doc, "name"),
                .arn = GetStr(doc, "arn"),
                .id = GetStr(doc, "id"),
                .created_millis = GetInt(doc, "created", 0),
                .updated_millis = GetInt(doc, "updated", 0),
                .version = GetInt(doc, "version", 1),
                .kinesis_source = GetBool(doc, "kinesis"),
                .source_log = GetStr(doc, "source_log"),
                .source_arn = GetStr(doc, "source_arn"),
                .delivery_start_millis = GetInt(doc, "start", 0),
                .attributes = GetStr(doc, "attributes"),
                .deleting = GetBool(doc, "deleting")};
  const rapidjson::Value& d = doc["destination"];
  Destination& dest = def.destination;
  dest.bucket = GetStr(d, "bucket");
  dest.has_prefix = Has(d, "prefix");
  dest.prefix = GetStr(d, "prefix");
  dest.has_error_prefix = Has(d, "error_prefix");
  dest.error_prefix = GetStr(d, "error_prefix");
  dest.buffer_size_mb = static_cast<int>(GetInt(d, "size_mb", 5));
  dest.buffer_interval_seconds = static_cast<int>(GetInt(d, "interval", 300));
  dest.compression = ParseCompression(GetStr(d, "compression")).value_or(Compression::kUncompressed);
  if (Has(d, "extension")) dest.file_extension = GetStr(d, "extension");
  dest.time_zone = GetStr(d, "tz");
  dest.append_delimiter = GetBool(d, "delimiter");
  dest.metadata_query = GetStr(d, "query");
  dest.dynamic_partitioning = GetBool(d, "dynamic");
  if (Has(d, "backup") && d["backup"].IsObject()) {
    const rapidjson::Value& b = d["backup"];
    dest.backup = BackupDestination{
        .bucket = GetStr(b, "bucket"),
        .has_prefix = Has(b, "prefix"),
        .prefix = GetStr(b, "prefix"),
        .compression =
            ParseCompression(GetStr(b, "compression")).value_or(Compression::kUncompressed)};
  }
  if (Has(d, "lambda") && d["lambda"].IsObject()) {
    const rapidjson::Value& l = d["lambda"];
    dest.lambda = LambdaProcessor{.function_arn = GetStr(l, "arn"),
                                  .retries = static_cast<int>(GetInt(l, "retries", 3)),
                                  .buffer_bytes = GetInt(l, "bytes", 1024 * 1024),
                                  .buffer_interval_seconds =
                                      static_cast<int>(GetInt(l, "interval", 60))};
  }
  return def;
}

}  // namespace salespipe::delivery
