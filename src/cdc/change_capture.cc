#include "cdc/change_capture.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <mutex>
#include <shared_mutex>

#include "common/crypto.h"
#include "common/logging.h"
#include "table/item_codec.h"

namespace salespipe::cdc {

namespace {

constexpr std::string_view kStreamPrefix = "ddbstream/";
constexpr std::string_view kChangeLogPrefix = "cdc/";

void AppendUint32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

bool ConsumeUint32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v = (*v << 8) | static_cast<uint8_t>((*in)[i]);
  in->remove_prefix(4);
  return true;
}

Result<std::string> Splice(std::string_view data, std::string_view value) {
  uint32_t at = 0;
  if (!ConsumeUint32(&data, &at) || at > data.size()) return Status::Internal("corrupt record");
  std::string out;
  out.reserve(data.size() + value.size());
  out.append(data.substr(0, at)).append(value).append(data.substr(at));
  return out;
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Put(Writer& w, const char* key, std::string_view value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string Get(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

int64_t GetInt(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}

}  // namespace

std::string EncodeStreamRecord(const SplicedRecord& record) {
  std::string out;
  out.reserve(4 + record.json.size());
  AppendUint32(&out, static_cast<uint32_t>(record.splice_at));
  out.append(record.json);
  return out;
}

Result<std::string> DecodeStreamRecord(std::string_view data, std::string_view value) {
  return Splice(data, value);
}

std::string EncodeDestinationRecord(const SplicedRecord& record, int64_t micros) {
  std::string out;
  out.reserve(12 + record.json.size());
  kv::AppendUint64(&out, static_cast<uint64_t>(micros));
  AppendUint32(&out, static_cast<uint32_t>(record.splice_at));
  out.append(record.json);
  return out;
}

Result<std::string> DecodeDestinationRecord(std::string_view data, bool microseconds) {
  uint64_t micros = 0;
  if (!kv::ConsumeUint64(&data, &micros)) return Status::Internal("corrupt record");
  const uint64_t value = microseconds ? micros : micros / 1000;
  return Splice(data, std::to_string(value));
}

std::string DestinationPartitionKey(const table::TableDef& table, const table::Item& item) {
  std::string hex = HexEncode(Md5(table::EncodeItem(table::TableStore::KeyOf(table, item))));
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return hex;
}

std::string StreamMeta::Arn() const {
  return "arn:aws:dynamodb:" + region + ":" + account_id + ":table/" + table_name + "/stream/" +
         label;
}

std::string EncodeStreamMeta(const StreamMeta& meta) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Put(w, "account", meta.account_id);
  Put(w, "region", meta.region);
  Put(w, "table", meta.table_name);
  w.Key("table_id");
  w.Uint64(meta.table_id);
  Put(w, "label", meta.label);
  Put(w, "view", meta.view_type);
  w.Key("enabled");
  w.Bool(meta.enabled);
  w.Key("created");
  w.Int64(meta.created_millis);
  w.Key("disabled");
  w.Int64(meta.disabled_millis);
  Put(w, "hash", meta.keys.hash.name);
  if (meta.keys.range) Put(w, "range", meta.keys.range->name);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<StreamMeta> DecodeStreamMeta(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return Status::Internal("corrupt stream metadata");
  StreamMeta meta;
  meta.account_id = Get(doc, "account");
  meta.region = Get(doc, "region");
  meta.table_name = Get(doc, "table");
  auto id = doc.FindMember("table_id");
  meta.table_id = id != doc.MemberEnd() && id->value.IsUint64() ? id->value.GetUint64() : 0;
  meta.label = Get(doc, "label");
  meta.view_type = Get(doc, "view");
  auto enabled = doc.FindMember("enabled");
  meta.enabled = enabled != doc.MemberEnd() && enabled->value.IsBool() && enabled->value.GetBool();
  meta.created_millis = GetInt(doc, "created");
  meta.disabled_millis = GetInt(doc, "disabled");
  meta.keys.hash.name = Get(doc, "hash");
  if (std::string range = Get(doc, "range"); !range.empty()) {
    meta.keys.range = table::KeyElement{.name = std::move(range)};
  }
  return meta;
}

ChangeCapture::ChangeCapture(log::ShardLog& log, const Clock& clock,
                             const RecordFormatter& formatter)
    : log_(log), clock_(clock), formatter_(formatter) {}

std::string ChangeCapture::StreamName(std::string_view account, std::string_view region,
                                      std::string_view table, std::string_view label) {
  std::string name(kStreamPrefix);
  name.append(account).append("/").append(region).append("/").append(table).append("/");
  name.append(label);
  return name;
}

std::string ChangeCapture::ChangeLogName(uint64_t table_id) {
  char digits[32];
  std::snprintf(digits, sizeof(digits), "%020llu", static_cast<unsigned long long>(table_id));
  return std::string(kChangeLogPrefix) + digits;
}

Status ChangeCapture::Append(kv::Batch& batch, const table::TableDef& table,
                             const std::optional<table::Item>& old_item,
                             const std::optional<table::Item>& new_item,
                             table::ChangeOrigin origin) {
  const bool to_stream = table.stream.enabled;
  const bool to_destinations = table.HasActiveKinesisDestination();
  if (!to_stream && !to_destinations) return Status::Ok();
  const Change change{.table = table,
                      .old_item = old_item,
                      .new_item = new_item,
                      .origin = origin,
                      .micros = clock_.NowMicros()};
  if (to_stream) {
    ASSIGN_OR_RETURN(log::ShardId shard, StreamShardFor(table));
    std::string data = EncodeStreamRecord(formatter_.StreamRecord(change, table.stream.view_type));
    RETURN_IF_ERROR(log_.Append(batch, shard, {.partition_key = {}, .data = data}).status());
  }
  if (to_destinations) {
    ASSIGN_OR_RETURN(log::ShardId shard, EnsureChangeLog(table));
    std::string data =
        EncodeDestinationRecord(formatter_.DestinationRecord(change), change.micros);
    std::string partition_key =
        DestinationPartitionKey(table, new_item ? *new_item : *old_item);
    RETURN_IF_ERROR(
        log_.Append(batch, shard, {.partition_key = partition_key, .data = data}).status());
  }
  return Status::Ok();
}

Result<log::ShardId> ChangeCapture::StreamShardFor(const table::TableDef& table) {
  {
    std::shared_lock lock(mu_);
    auto it = stream_shards_.find(table.table_id);
    if (it != stream_shards_.end() && it->second.first == table.latest_stream_label) {
      return it->second.second;
    }
  }
  // Slow path: the first write since start-up or since the stream was enabled.
  std::unique_lock lock(mu_);
  auto it = stream_shards_.find(table.table_id);
  if (it != stream_shards_.end() && it->second.first == table.latest_stream_label) {
    return it->second.second;
  }
  const std::string name =
      StreamName(table.account_id, table.region, table.name, table.latest_stream_label);
  Result<log::StreamInfo> found = log_.FindStream(name);
  if (!found.ok() && found.status().code() != ErrorCode::kNotFound) return found.status();
  if (!found.ok()) {
    StreamMeta meta{.account_id = table.account_id,
                    .region = table.region,
                    .table_name = table.name,
                    .table_id = table.table_id,
                    .label = table.latest_stream_label,
                    .view_type = table.stream.view_type,
                    .enabled = true,
                    .created_millis = clock_.NowMillis(),
                    .keys = table.keys};
    found = log_.CreateStream({.name = name, .attributes = EncodeStreamMeta(meta)});
    RETURN_IF_ERROR(found.status());
  }
  const log::StreamInfo& info = *found;
  if (info.shards.empty() || !info.shards.back().open()) {
    return Status::Internal("stream " + name + " has no open shard");
  }
  log::ShardId shard = info.shards.back().id;
  stream_shards_[table.table_id] = {table.latest_stream_label, shard};
  return shard;
}

Result<StreamView> ChangeCapture::ToView(log::StreamInfo info) const {
  ASSIGN_OR_RETURN(StreamMeta meta, DecodeStreamMeta(info.attributes));
  return StreamView{.meta = std::move(meta), .info = std::move(info)};
}

Status ChangeCapture::CloseStream(const StreamView& view) {
  std::vector<uint32_t> open;
  for (const auto& shard : view.info.shards) {
    if (shard.open()) open.push_back(shard.id.index);
  }
  if (!open.empty()) RETURN_IF_ERROR(log_.Reshard(view.info.id, open, {}).status());
  StreamMeta meta = view.meta;
  meta.enabled = false;
  meta.disabled_millis = clock_.NowMillis();
  RETURN_IF_ERROR(log_.SetAttributes(view.info.id, EncodeStreamMeta(meta)));
  std::unique_lock lock(mu_);
  auto it = stream_shards_.find(meta.table_id);
  if (it != stream_shards_.end() && it->second.first == meta.label) stream_shards_.erase(it);
  return Status::Ok();
}

Status ChangeCapture::SyncStreams(const table::TableDef& table) {
  if (table.stream.enabled) RETURN_IF_ERROR(StreamShardFor(table).status());
  std::string prefix = StreamName(table.account_id, table.region, table.name, "");
  for (log::StreamInfo& info : log_.ListStreams(prefix)) {
    ASSIGN_OR_RETURN(StreamView view, ToView(std::move(info)));
    if (view.meta.table_id != table.table_id || !view.meta.enabled) continue;
    if (table.stream.enabled && view.meta.label == table.latest_stream_label) continue;
    RETURN_IF_ERROR(CloseStream(view));
  }
  return Status::Ok();
}

Status ChangeCapture::TableDeleted(const table::TableDef& table) {
  table::TableDef gone = table;
  gone.stream.enabled = false;
  return SyncStreams(gone);
}

std::vector<StreamView> ChangeCapture::ListStreams(std::string_view account,
                                                   std::string_view region) {
  std::vector<StreamView> out;
  const int64_t now = clock_.NowMillis();
  std::string prefix(kStreamPrefix);
  prefix.append(account).append("/").append(region).append("/");
  for (log::StreamInfo& info : log_.ListStreams(prefix)) {
    const log::StreamId id = info.id;
    Result<StreamView> view = ToView(std::move(info));
    if (!view.ok()) {
      SPDLOG_WARN("skipping stream {}: {}", id.value, view.status().ToString());
      continue;
    }
    if (!view->meta.enabled && now - view->meta.disabled_millis > kDisabledRetentionMillis) {
      log_.DeleteStream(id).IgnoreError();  // best effort: expired; retried on the next list
      continue;
    }
    out.push_back(std::move(*view));
  }
  return out;
}

Result<StreamView> ChangeCapture::GetStream(std::string_view account, std::string_view region,
                                            std::string_view table_name,
                                            std::string_view label) {
  Result<log::StreamInfo> info = log_.FindStream(StreamName(account, region, table_name, label));
  if (!info.ok()) return info.status();
  ASSIGN_OR_RETURN(StreamView view, ToView(std::move(*info)));
  if (!view.meta.enabled &&
      clock_.NowMillis() - view.meta.disabled_millis > kDisabledRetentionMillis) {
    return Status::NotFound("stream past retention");
  }
  return view;
}

Result<StreamView> ChangeCapture::GetStreamById(log::StreamId id) const {
  ASSIGN_OR_RETURN(log::StreamInfo info, log_.GetStream(id));
  if (!info.name.starts_with(kStreamPrefix)) return Status::NotFound("not a DynamoDB stream");
  return ToView(std::move(info));
}

Result<log::ShardId> ChangeCapture::EnsureChangeLog(const table::TableDef& table) {
  {
    std::shared_lock lock(mu_);
    auto it = change_logs_.find(table.table_id);
    if (it != change_logs_.end()) return it->second;
  }
  std::unique_lock lock(mu_);
  auto it = change_logs_.find(table.table_id);
  if (it != change_logs_.end()) return it->second;
  const std::string name = ChangeLogName(table.table_id);
  Result<log::StreamInfo> found = log_.FindStream(name);
  if (!found.ok() && found.status().code() != ErrorCode::kNotFound) return found.status();
  if (!found.ok()) {
    found = log_.CreateStream({.name = name, .attributes = table.Arn()});
    RETURN_IF_ERROR(found.status());
  }
  if (found->shards.empty()) return Status::Internal("change log " + name + " has no shard");
  log::ShardId shard = found->shards.front().id;
  change_logs_[table.table_id] = shard;
  change_log_streams_.insert(shard.stream.value);
  return shard;
}

std::optional<log::ShardId> ChangeCapture::FindChangeLog(uint64_t table_id) const {
  {
    std::shared_lock lock(mu_);
    auto it = change_logs_.find(table_id);
    if (it != change_logs_.end()) return it->second;
  }
  Result<log::StreamInfo> found = log_.FindStream(ChangeLogName(table_id));
  if (!found.ok() || found->shards.empty()) return std::nullopt;
  log::ShardId shard = found->shards.front().id;
  std::unique_lock lock(mu_);
  change_logs_[table_id] = shard;
  change_log_streams_.insert(shard.stream.value);
  return shard;
}

bool ChangeCapture::IsChangeLog(log::StreamId stream) const {
  std::shared_lock lock(mu_);
  return change_log_streams_.count(stream.value) > 0;
}

}  // namespace salespipe::cdc
