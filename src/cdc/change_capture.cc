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
constexpr uint8_t kChangeMagic = 0xC7;  // first byte of a binary change record
// A destination record stored compact (layout above ChangeCapture::RenderChange).
constexpr uint8_t kDestinationMagic = 0xD5;
constexpr uint8_t kDestinationVersion = 1;

using kv::AppendUint32;
using kv::ConsumeUint32;

// Records written before the binary layout: JSON with one value left out, inserted at a
// stored offset.
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

// A stored change with its images split into attributes (what a Change points to).
struct ChangeCapture::SplitImages {
  EncodedChange stored;
  std::optional<std::vector<table::EncodedEntry>> old_entries;
  std::optional<std::vector<table::EncodedEntry>> new_entries;

  const std::vector<table::EncodedEntry>* old_image() const {
    return old_entries ? &*old_entries : nullptr;
  }
  const std::vector<table::EncodedEntry>* new_image() const {
    return new_entries ? &*new_entries : nullptr;
  }
  static Result<SplitImages> Of(std::string_view data) {
    SplitImages out;
    ASSIGN_OR_RETURN(out.stored, SplitChange(data));
    for (auto [image, entries] : {std::pair{&out.stored.old_image, &out.old_entries},
                                  std::pair{&out.stored.new_image, &out.new_entries}}) {
      if (!*image) continue;
      Result<std::vector<table::EncodedEntry>> split = table::SplitItem(**image);
      if (!split.ok()) return Status::Internal("corrupt change record");
      *entries = std::move(split).value();
    }
    return out;
  }
};

std::string EncodeChange(const std::optional<table::Item>& old_item,
                         const std::optional<table::Item>& new_item, table::ChangeOrigin origin,
                         int64_t micros) {
  return EncodeChange(old_item, new_item, {}, origin, micros);
}

std::string EncodeChange(const std::optional<table::Item>& old_item,
                         const std::optional<table::Item>& new_item, std::string_view new_encoding,
                         table::ChangeOrigin origin, int64_t micros) {
  std::string out;
  out.reserve(128 + new_encoding.size());
  out.push_back(static_cast<char>(kChangeMagic));
  out.push_back(static_cast<char>(origin == table::ChangeOrigin::kTtl ? 1 : 0));
  kv::AppendUint64(&out, static_cast<uint64_t>(micros));
  out.push_back(static_cast<char>((old_item ? 1 : 0) | (new_item ? 2 : 0)));
  for (const std::optional<table::Item>* image : {&old_item, &new_item}) {
    if (!*image) continue;
    const size_t at = out.size();
    AppendUint32(&out, 0);  // the length, filled in below
    if (image == &new_item && !new_encoding.empty()) {
      out.append(new_encoding);
    } else {
      table::EncodeItem(**image, &out);
    }
    const uint32_t length = static_cast<uint32_t>(out.size() - at - 4);
    for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>(length >> (24 - 8 * i));
  }
  return out;
}

Result<EncodedChange> SplitChange(std::string_view data) {
  const Status corrupt = Status::Internal("corrupt change record");
  if (data.size() < 11 || static_cast<uint8_t>(data[0]) != kChangeMagic) return corrupt;
  EncodedChange change;
  change.origin = data[1] == 1 ? table::ChangeOrigin::kTtl : table::ChangeOrigin::kUser;
  data.remove_prefix(2);
  uint64_t micros = 0;
  if (!kv::ConsumeUint64(&data, &micros)) return corrupt;
  change.micros = static_cast<int64_t>(micros);
  const uint8_t images = static_cast<uint8_t>(data[0]);
  data.remove_prefix(1);
  for (int bit = 0; bit < 2; ++bit) {
    if ((images & (1 << bit)) == 0) continue;
    uint32_t length = 0;
    if (!ConsumeUint32(&data, &length) || length > data.size()) return corrupt;
    (bit == 0 ? change.old_image : change.new_image) = data.substr(0, length);
    data.remove_prefix(length);
  }
  if (!data.empty() || images == 0 || images > 3) return corrupt;
  return change;
}

Result<StoredChange> DecodeChange(std::string_view data) {
  ASSIGN_OR_RETURN(EncodedChange encoded, SplitChange(data));
  StoredChange change{.origin = encoded.origin, .micros = encoded.micros};
  for (auto [image, item] : {std::pair{&encoded.old_image, &change.old_item},
                             std::pair{&encoded.new_image, &change.new_item}}) {
    if (!*image) continue;
    Result<table::Item> decoded = table::DecodeItem(**image);
    if (!decoded.ok()) return Status::Internal("corrupt change record");
    *item = std::move(decoded).value();
  }
  return change;
}

std::vector<table::EncodedEntry> KeyEntries(const table::KeySchema& keys,
                                            const std::vector<table::EncodedEntry>& image) {
  std::vector<table::EncodedEntry> out;
  out.reserve(2);
  for (const table::EncodedEntry& entry : image) {
    if (entry.name == keys.hash.name || (keys.range && entry.name == keys.range->name)) {
      out.push_back(entry);  // image is by name ascending, so out is too
    }
  }
  return out;
}

std::string DestinationPartitionKey(const table::KeySchema& keys,
                                    const std::vector<table::EncodedEntry>& image) {
  std::string key;
  table::JoinItem(KeyEntries(keys, image), &key);  // = EncodeItem(TableStore::KeyOf(item))
  std::string hex = HexEncode(Md5(key));
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
    : log_(log), clock_(clock), formatter_(formatter) {
  log_.SetRenderer([this](std::string_view stored) { return RenderDestinationRecord(stored); });
}

ChangeCapture::~ChangeCapture() { log_.SetRenderer(nullptr); }

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
                             std::string_view new_encoding, table::ChangeOrigin origin) {
  const bool to_stream = table.stream.enabled;
  const bool to_destinations = table.HasActiveKinesisDestination();
  // With the stream as the destinations' source, one record serves both.
  const bool to_change_log = to_destinations && !table.ChangesInStream();
  if (!to_stream && !to_change_log) return Status::Ok();
  // Built once, appended to both logs.
  const std::string data =
      EncodeChange(old_item, new_item, new_encoding, origin, clock_.NowMicros());
  if (to_stream) {
    ASSIGN_OR_RETURN(log::ShardId shard, StreamShardFor(table));
    RETURN_IF_ERROR(log_.Append(batch, shard, {.partition_key = {}, .data = data}).status());
  }
  if (to_change_log) {
    ASSIGN_OR_RETURN(log::ShardId shard, EnsureChangeLog(table));
    RETURN_IF_ERROR(log_.Append(batch, shard, {.partition_key = {}, .data = data}).status());
  }
  if (to_destinations) {
    // After the appends' own hooks, which make the records visible.
    batch.OnCommit([this](bool committed) {
      if (!committed) return;
      std::shared_lock lock(mu_);
      if (listener_) listener_();
    });
  }
  return Status::Ok();
}

void ChangeCapture::SetChangeListener(std::function<void()> listener) {
  std::unique_lock lock(mu_);
  listener_ = std::move(listener);
}

Status ChangeCapture::NoteStreamChange(table::TableDef& next) {
  if (!next.HasActiveKinesisDestination()) return Status::Ok();
  // A table from before change sources: its changes were all in the change log.
  if (next.change_sources.empty()) next.change_sources = next.Sources();
  const table::ChangeSource& last = next.change_sources.back();
  table::ChangeSource source{.id = last.id + 1};
  if (next.stream.enabled) {
    if (last.stream_label == next.latest_stream_label) return Status::Ok();
    source.stream_label = next.latest_stream_label;
  } else {
    if (!last.in_stream()) return Status::Ok();
    // The change log got nothing while the stream was the source: later changes start after
    // everything it holds.
    if (std::optional<log::ShardId> log = FindChangeLog(next.table_id)) {
      ASSIGN_OR_RETURN(log::SequenceNumber high, log_.VisibleHigh(*log));
      source.log_from = high.value + 1;
    }
  }
  next.change_sources.push_back(std::move(source));
  return Status::Ok();
}

Result<table::ChangeSource> ChangeCapture::CurrentSource(const table::TableDef& table) {
  const uint64_t id = table.change_sources.empty() ? 1 : table.change_sources.back().id + 1;
  if (table.stream.enabled) {
    RETURN_IF_ERROR(StreamShardFor(table).status());
    return table::ChangeSource{.id = id, .stream_label = table.latest_stream_label};
  }
  ASSIGN_OR_RETURN(log::ShardId log, EnsureChangeLog(table));
  ASSIGN_OR_RETURN(log::SequenceNumber high, log_.VisibleHigh(log));
  return table::ChangeSource{.id = id, .stream_label = {}, .log_from = high.value + 1};
}

Result<std::optional<log::ShardId>> ChangeCapture::SourceShard(const table::TableDef& table,
                                                               const table::ChangeSource& source) {
  if (!source.in_stream()) return FindChangeLog(table.table_id);
  {
    std::shared_lock lock(mu_);
    auto it = stream_shards_.find(table.table_id);
    if (it != stream_shards_.end() && it->second.first == source.stream_label) {
      return std::optional<log::ShardId>(it->second.second);
    }
  }
  // A stream no longer (or not yet) written to: its one shard, looked up by name.
  Result<log::StreamInfo> found =
      log_.FindStream(StreamName(table.account_id, table.region, table.name, source.stream_label));
  if (!found.ok() && found.status().code() == ErrorCode::kNotFound) {
    return std::optional<log::ShardId>();
  }
  RETURN_IF_ERROR(found.status());
  if (found->shards.empty()) return Status::Internal("stream without a shard");
  return std::optional<log::ShardId>(found->shards.front().id);
}

Result<std::string> ChangeCapture::StreamRecordJson(const StreamMeta& meta,
                                                    const log::Record& record,
                                                    std::string_view sequence) const {
  if (!record.data.empty() && static_cast<uint8_t>(record.data[0]) != kChangeMagic) {
    return Splice(record.data, sequence);  // a record of the JSON layout
  }
  ASSIGN_OR_RETURN(SplitImages images, SplitImages::Of(record.data));
  const Change change{.keys = meta.keys,
                      .region = meta.region,
                      .table_name = meta.table_name,
                      .old_image = images.old_image(),
                      .new_image = images.new_image(),
                      .origin = images.stored.origin,
                      .micros = images.stored.micros};
  // Stable across reads: 32 hex digits derived from the record's place in the stream.
  const std::string event_id = HexEncode(Md5(meta.Arn() + "/" + std::string(sequence)));
  return formatter_.StreamRecord(change, meta.view_type, sequence, event_id);
}

// A destination record stored compact (DestinationRecord; rendered by RenderDestinationRecord):
//   u8 kDestinationMagic | u8 version 1 | u8 flags (bit 0: microsecond precision) |
//   u64 table id | u64 source sequence | u32 len | region | u32 len | table name |
//   u8 key count (1-2) | per key: u32 len | name | u8 attribute type | the change (EncodeChange)
// Persisted in Kinesis streams: change only by adding a version.
Result<std::string> ChangeCapture::RenderChange(const table::KeySchema& keys,
                                                std::string_view region,
                                                std::string_view table_name, uint64_t table_id,
                                                uint64_t source_sequence,
                                                std::string_view change_data,
                                                bool microseconds) const {
  ASSIGN_OR_RETURN(SplitImages images, SplitImages::Of(change_data));
  const Change change{.keys = keys,
                      .region = region,
                      .table_name = table_name,
                      .old_image = images.old_image(),
                      .new_image = images.new_image(),
                      .origin = images.stored.origin,
                      .micros = images.stored.micros};
  // Stable across deliveries: a UUID derived from the table and the change's place in its log.
  char name[64];
  const int length =
      std::snprintf(name, sizeof(name), "cdc/%llu/%llu", static_cast<unsigned long long>(table_id),
                    static_cast<unsigned long long>(source_sequence));
  std::string digest = Md5(std::string_view(name, static_cast<size_t>(length)));
  digest[6] = static_cast<char>((digest[6] & 0x0f) | 0x40);  // version 4 layout
  digest[8] = static_cast<char>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string hex = HexEncode(digest);
  std::string event_id;
  event_id.reserve(36);
  event_id.append(hex, 0, 8).append("-").append(hex, 8, 4).append("-").append(hex, 12, 4);
  event_id.append("-").append(hex, 16, 4).append("-").append(hex, 20);
  return formatter_.DestinationRecord(change, microseconds, event_id);
}

Result<DestinationRecordOut> ChangeCapture::DestinationRecord(const table::TableDef& table,
                                                              const log::Record& record,
                                                              bool microseconds) const {
  if (!record.data.empty() && static_cast<uint8_t>(record.data[0]) != kChangeMagic) {
    // The JSON layout: u64 micros | spliced JSON, partition key stored with the record.
    std::string_view data = record.data;
    uint64_t micros = 0;
    if (!kv::ConsumeUint64(&data, &micros)) return Status::Internal("corrupt record");
    ASSIGN_OR_RETURN(std::string json,
                     Splice(data, std::to_string(microseconds ? micros : micros / 1000)));
    return DestinationRecordOut{.partition_key = record.partition_key, .data = std::move(json)};
  }
  ASSIGN_OR_RETURN(EncodedChange change, SplitChange(record.data));
  std::optional<std::string_view> image = change.new_image ? change.new_image : change.old_image;
  if (!image) return Status::Internal("corrupt change record");
  Result<std::vector<table::EncodedEntry>> entries = table::SplitItem(*image);
  if (!entries.ok()) return Status::Internal("corrupt change record");

  DestinationRecordOut out{.partition_key = DestinationPartitionKey(table.keys, *entries),
                           .rendered_on_read = true};
  std::string& data = out.data;
  data.reserve(64 + table.region.size() + table.name.size() + record.data.size());
  data.push_back(static_cast<char>(kDestinationMagic));
  data.push_back(static_cast<char>(kDestinationVersion));
  data.push_back(static_cast<char>(microseconds ? 1 : 0));
  kv::AppendUint64(&data, table.table_id);
  kv::AppendUint64(&data, record.sequence.value);
  kv::AppendBytes(&data, table.region);
  kv::AppendBytes(&data, table.name);
  data.push_back(static_cast<char>(table.keys.range ? 2 : 1));
  for (const table::KeyElement* key :
       {&table.keys.hash, table.keys.range ? &*table.keys.range : nullptr}) {
    if (key == nullptr) continue;
    kv::AppendBytes(&data, key->name);
    data.push_back(static_cast<char>(key->type));
  }
  data.append(record.data);
  return out;
}

Result<std::string> ChangeCapture::RenderDestinationRecord(std::string_view stored) const {
  const Status corrupt = Status::Internal("corrupt destination record");
  if (stored.size() < 3 || static_cast<uint8_t>(stored[0]) != kDestinationMagic ||
      static_cast<uint8_t>(stored[1]) != kDestinationVersion) {
    return corrupt;
  }
  const bool microseconds = (stored[2] & 1) != 0;
  stored.remove_prefix(3);
  uint64_t table_id = 0, source_sequence = 0;
  std::string_view region, table_name;
  if (!kv::ConsumeUint64(&stored, &table_id) || !kv::ConsumeUint64(&stored, &source_sequence) ||
      !kv::ConsumeBytes(&stored, &region) || !kv::ConsumeBytes(&stored, &table_name) ||
      stored.empty()) {
    return corrupt;
  }
  const int key_count = static_cast<uint8_t>(stored[0]);
  stored.remove_prefix(1);
  if (key_count < 1 || key_count > 2) return corrupt;
  table::KeySchema keys;
  for (int i = 0; i < key_count; ++i) {
    std::string_view name;
    if (!kv::ConsumeBytes(&stored, &name) || stored.empty()) return corrupt;
    table::KeyElement key{.name = std::string(name),
                          .type = static_cast<table::AttributeType>(stored[0])};
    stored.remove_prefix(1);
    if (i == 0) {
      keys.hash = std::move(key);
    } else {
      keys.range = std::move(key);
    }
  }
  return RenderChange(keys, region, table_name, table_id, source_sequence, stored, microseconds);
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
                                            std::string_view table_name, std::string_view label) {
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
  return shard;
}

}  // namespace salespipe::cdc
