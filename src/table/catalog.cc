#include "table/catalog.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/logging.h"

namespace salespipe::table {
namespace {

constexpr std::string_view kTablePrefix = "table/";
constexpr std::string_view kNextIdKey = "counter/next_id";

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteKey(Writer& w, const KeyElement& k) {
  w.StartObject();
  w.Key("name");
  w.String(k.name.data(), static_cast<rapidjson::SizeType>(k.name.size()));
  w.Key("type");
  w.Int(static_cast<int>(k.type));
  w.EndObject();
}

void WriteKeySchema(Writer& w, const KeySchema& keys) {
  w.Key("hash");
  WriteKey(w, keys.hash);
  if (keys.range) {
    w.Key("range");
    WriteKey(w, *keys.range);
  }
}

void WriteString(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

const rapidjson::Value* Member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::string ReadString(const rapidjson::Value& v, const char* name) {
  const auto* m = Member(v, name);
  return m && m->IsString() ? std::string(m->GetString(), m->GetStringLength()) : std::string();
}

int64_t ReadInt(const rapidjson::Value& v, const char* name) {
  const auto* m = Member(v, name);
  return m && m->IsInt64() ? m->GetInt64() : 0;
}

bool ReadBool(const rapidjson::Value& v, const char* name) {
  const auto* m = Member(v, name);
  return m && m->IsBool() && m->GetBool();
}

KeyElement ReadKey(const rapidjson::Value& v) {
  return KeyElement{.name = ReadString(v, "name"),
                    .type = static_cast<AttributeType>(ReadInt(v, "type"))};
}

KeySchema ReadKeySchema(const rapidjson::Value& v) {
  KeySchema keys;
  if (const auto* h = Member(v, "hash")) keys.hash = ReadKey(*h);
  if (const auto* r = Member(v, "range")) keys.range = ReadKey(*r);
  return keys;
}

}  // namespace

std::string TableDef::Arn() const {
  return "arn:aws:dynamodb:" + region + ":" + account_id + ":table/" + name;
}

const IndexDef* TableDef::FindIndex(std::string_view index_name) const {
  for (const auto& index : indexes) {
    if (index.name == index_name) return &index;
  }
  return nullptr;
}

// Persisted format of a TableDef: a JSON object (this is metadata, read once at start-up,
// so readability beats compactness). Members are only ever added; readers default missing
// ones. Attribute types are AttributeType's persisted numbers.
std::string Catalog::EncodeDef(const TableDef& def) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  WriteString(w, "account", def.account_id);
  WriteString(w, "region", def.region);
  WriteString(w, "name", def.name);
  w.Key("table_id");
  w.Uint64(def.table_id);
  WriteString(w, "uuid", def.table_uuid);
  w.Key("created");
  w.Int64(def.creation_millis);
  WriteKeySchema(w, def.keys);
  w.Key("attributes");
  w.StartObject();
  for (const auto& [name, type] : def.attribute_definitions) {
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    w.Int(static_cast<int>(type));
  }
  w.EndObject();
  WriteString(w, "billing", def.billing_mode);
  w.Key("rcu");
  w.Int64(def.read_capacity);
  w.Key("wcu");
  w.Int64(def.write_capacity);
  w.Key("indexes");
  w.StartArray();
  for (const auto& index : def.indexes) {
    w.StartObject();
    WriteString(w, "name", index.name);
    w.Key("index_id");
    w.Uint64(index.index_id);
    w.Key("local");
    w.Bool(index.local);
    WriteKeySchema(w, index.keys);
    w.Key("projection");
    w.Int(static_cast<int>(index.projection));
    w.Key("non_key");
    w.StartArray();
    for (const auto& a : index.non_key_attributes) {
      w.String(a.data(), static_cast<rapidjson::SizeType>(a.size()));
    }
    w.EndArray();
    w.Key("rcu");
    w.Int64(index.read_capacity);
    w.Key("wcu");
    w.Int64(index.write_capacity);
    w.EndObject();
  }
  w.EndArray();
  w.Key("stream_enabled");
  w.Bool(def.stream.enabled);
  WriteString(w, "stream_view", def.stream.view_type);
  WriteString(w, "stream_label", def.latest_stream_label);
  w.Key("kinesis_destinations");
  w.StartArray();
  for (const auto& d : def.kinesis_destinations) {
    w.StartObject();
    WriteString(w, "arn", d.stream_arn);
    w.Key("active");
    w.Bool(d.active);
    w.Key("micros");
    w.Bool(d.microsecond_precision);
    w.EndObject();
  }
  w.EndArray();
  w.Key("change_sources");
  w.StartArray();
  for (const auto& source : def.change_sources) {
    w.StartObject();
    w.Key("id");
    w.Uint64(source.id);
    WriteString(w, "label", source.stream_label);
    w.Key("from");
    w.Uint64(source.log_from);
    w.EndObject();
  }
  w.EndArray();
  w.Key("ttl_enabled");
  w.Bool(def.ttl.enabled);
  WriteString(w, "ttl_attribute", def.ttl.attribute);
  w.Key("tags");
  w.StartObject();
  for (const auto& [k, v] : def.tags) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
  w.Key("deletion_protection");
  w.Bool(def.deletion_protection);
  WriteString(w, "table_class", def.table_class);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<TableDef> Catalog::DecodeDef(std::string_view bytes) {
  rapidjson::Document doc;
  doc.Parse(bytes.data(), bytes.size());
  if (doc.HasParseError() || !doc.IsObject()) return Status::Internal("corrupt table record");
  TableDef def;
  def.account_id = ReadString(doc, "account");
  def.region = ReadString(doc, "region");
  def.name = ReadString(doc, "name");
  def.table_id = Member(doc, "table_id") && doc["table_id"].IsUint64() ? doc["table_id"].GetUint64() : 0;
  def.table_uuid = ReadString(doc, "uuid");
  def.creation_millis = ReadInt(doc, "created");
  def.keys = ReadKeySchema(doc);
  if (const auto* attrs = Member(doc, "attributes"); attrs && attrs->IsObject()) {
    for (const auto& m : attrs->GetObject()) {
      def.attribute_definitions[m.name.GetString()] =
          static_cast<AttributeType>(m.value.IsInt() ? m.value.GetInt() : 1);
    }
  }
  def.billing_mode = ReadString(doc, "billing");
  def.read_capacity = ReadInt(doc, "rcu");
  def.write_capacity = ReadInt(doc, "wcu");
  if (const auto* indexes = Member(doc, "indexes"); indexes && indexes->IsArray()) {
    for (const auto& v : indexes->GetArray()) {
      IndexDef index;
      index.name = ReadString(v, "name");
      index.index_id = Member(v, "index_id") && v["index_id"].IsUint64() ? v["index_id"].GetUint64() : 0;
      index.local = ReadBool(v, "local");
      index.keys = ReadKeySchema(v);
      index.projection = static_cast<ProjectionType>(ReadInt(v, "projection"));
      if (const auto* nk = Member(v, "non_key"); nk && nk->IsArray()) {
        for (const auto& a : nk->GetArray()) {
          if (a.IsString()) index.non_key_attributes.emplace_back(a.GetString(), a.GetStringLength());
        }
      }
      index.read_capacity = ReadInt(v, "rcu");
      index.write_capacity = ReadInt(v, "wcu");
      def.indexes.push_back(std::move(index));
    }
  }
  def.stream.enabled = ReadBool(doc, "stream_enabled");
  def.stream.view_type = ReadString(doc, "stream_view");
  def.latest_stream_label = ReadString(doc, "stream_label");
  if (const auto* dests = Member(doc, "kinesis_destinations"); dests && dests->IsArray()) {
    for (const auto& v : dests->GetArray()) {
      def.kinesis_destinations.push_back(KinesisDestination{.stream_arn = ReadString(v, "arn"),
                                                            .active = ReadBool(v, "active"),
                                                            .microsecond_precision =
                                                                ReadBool(v, "micros")});
    }
  }
  if (const auto* sources = Member(doc, "change_sources"); sources && sources->IsArray()) {
    auto u64 = [](const rapidjson::Value& v, const char* key) -> uint64_t {
      auto it = v.FindMember(key);
      return it != v.MemberEnd() && it->value.IsUint64() ? it->value.GetUint64() : 0;
    };
    for (const auto& v : sources->GetArray()) {
      if (!v.IsObject()) continue;
      def.change_sources.push_back(ChangeSource{.id = u64(v, "id"),
                                                .stream_label = ReadString(v, "label"),
                                                .log_from = u64(v, "from")});
    }
  }
  def.ttl.enabled = ReadBool(doc, "ttl_enabled");
  def.ttl.attribute = ReadString(doc, "ttl_attribute");
  if (const auto* tags = Member(doc, "tags"); tags && tags->IsObject()) {
    for (const auto& m : tags->GetObject()) {
      if (m.value.IsString()) def.tags[m.name.GetString()] = m.value.GetString();
    }
  }
  def.deletion_protection = ReadBool(doc, "deletion_protection");
  def.table_class = ReadString(doc, "table_class");
  if (def.table_class.empty()) def.table_class = "STANDARD";
  return def;
}

Catalog::Catalog(kv::Db& db) : db_(db) {}

std::string Catalog::MetaKey(std::string_view account, std::string_view region,
                             std::string_view name) {
  std::string key(kTablePrefix);
  key.append(account).append("/").append(region).append("/").append(name);
  return key;
}

Status Catalog::Load() {
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(std::optional<std::string> next, db_.Get(kv::Cf::kMeta, kNextIdKey));
  if (next) {
    std::string_view view = *next;
    if (!kv::ConsumeUint64(&view, &next_id_)) return Status::Internal("corrupt id counter");
  }
  auto it = db_.NewIterator(kv::Cf::kMeta, kTablePrefix, kv::PrefixSuccessor(kTablePrefix));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ASSIGN_OR_RETURN(TableDef def, DecodeDef(it->value()));
    std::string key(it->key());
    auto handle = std::make_shared<TableHandle>(std::move(def));
    // Recount live items: AWS refreshes these about every six hours; we keep them exact.
    const auto current = handle->def();
    std::string prefix;
    kv::AppendUint64(&prefix, current->table_id);
    auto items = db_.NewIterator(kv::Cf::kItems, prefix, kv::PrefixSuccessor(prefix));
    int64_t count = 0, bytes = 0;
    for (items->SeekToFirst(); items->Valid(); items->Next()) {
      ++count;
      bytes += static_cast<int64_t>(items->value().size());
    }
    RETURN_IF_ERROR(items->status());
    handle->stats().item_count = count;
    handle->stats().size_bytes = bytes;
    tables_.emplace(std::move(key), std::move(handle));
  }
  RETURN_IF_ERROR(it->status());
  SPDLOG_INFO("catalog loaded: {} tables", tables_.size());
  return Status::Ok();
}

Result<std::shared_ptr<TableHandle>> Catalog::Get(std::string_view account,
                                                  std::string_view region,
                                                  std::string_view name) const {
  MutexLock lock(mu_);
  auto it = tables_.find(MetaKey(account, region, name));
  if (it == tables_.end()) {
    return Status::NotFound("Requested resource not found: Table: " + std::string(name) +
                            " not found");
  }
  return it->second;
}

std::vector<std::string> Catalog::List(std::string_view account, std::string_view region,
                                       std::string_view exclusive_start, size_t limit) const {
  std::string prefix = MetaKey(account, region, "");
  MutexLock lock(mu_);
  std::vector<std::string> names;
  auto it = exclusive_start.empty() ? tables_.lower_bound(prefix)
                                    : tables_.upper_bound(MetaKey(account, region, exclusive_start));
  for (; it != tables_.end() && names.size() < limit; ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    names.push_back(it->first.substr(prefix.size()));
  }
  return names;
}

std::vector<std::shared_ptr<TableHandle>> Catalog::All() const {
  MutexLock lock(mu_);
  std::vector<std::shared_ptr<TableHandle>> all;
  all.reserve(tables_.size());
  for (const auto& [key, handle] : tables_) all.push_back(handle);
  return all;
}

Result<uint64_t> Catalog::AllocateId() {
  MutexLock lock(mu_);
  uint64_t id = next_id_;
  std::string value;
  kv::AppendUint64(&value, id + 1);
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, kNextIdKey, value);
  RETURN_IF_ERROR(db_.Commit(batch));
  next_id_ = id + 1;
  return id;
}

Result<std::shared_ptr<TableHandle>> Catalog::Create(TableDef def) {
  std::string key = MetaKey(def.account_id, def.region, def.name);
  MutexLock lock(mu_);
  if (tables_.count(key)) return Status::AlreadyExists("Table already exists: " + def.name);
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, key, EncodeDef(def));
  RETURN_IF_ERROR(db_.Commit(batch));
  auto handle = std::make_shared<TableHandle>(std::move(def));
  tables_.emplace(std::move(key), handle);
  return handle;
}

Status Catalog::Save(TableHandle& handle, TableDef def) {
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, MetaKey(def.account_id, def.region, def.name), EncodeDef(def));
  RETURN_IF_ERROR(db_.Commit(batch));
  handle.set_def(std::move(def));
  return Status::Ok();
}

Status Catalog::Remove(kv::Batch& batch, const TableDef& def) {
  batch.Delete(kv::Cf::kMeta, MetaKey(def.account_id, def.region, def.name));
  return Status::Ok();
}

void Catalog::Forget(const TableDef& def) {
  MutexLock lock(mu_);
  auto it = tables_.find(MetaKey(def.account_id, def.region, def.name));
  if (it == tables_.end()) return;
  it->second->mark_deleted();
  tables_.erase(it);
}

}  // namespace salespipe::table
