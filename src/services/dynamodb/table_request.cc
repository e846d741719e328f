// Shared pieces of the table-management operations; see table_request.h.

#include "services/dynamodb/table_request.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>
#include <string>
#include <vector>
#include "common/crypto.h"
#include "common/logging.h"
#include "services/dynamodb/dynamodb_service.h"
#include "cdc/change_capture.h"
#include "cdc/kinesis_connector.h"

namespace salespipe::services::dynamodb {

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += ", ";
    out += parts[i];
  }
  return out;
}

std::string Member(std::string_view parent, size_t index, std::string_view member) {
  std::string path(parent);
  path += "." + std::to_string(index + 1) + ".member";
  if (!member.empty()) path.append(".").append(member);
  return path;
}

std::string Child(std::string_view parent, std::string_view member) {
  return std::string(parent) + "." + std::string(member);
}

size_t CharLength(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

void CheckLength(Constraints& c, std::string_view value, std::string_view path, size_t min,
                 size_t max) {
  size_t length = CharLength(value);
  if (length < min) {
    c.Bad(value, path, "Member must have length greater than or equal to " + std::to_string(min));
  }
  if (length > max) {
    c.Bad(value, path, "Member must have length less than or equal to " + std::to_string(max));
  }
}

bool MatchesNamePattern(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '-';
  });
}

void CheckName(Constraints& c, std::string_view value, std::string_view path) {
  if (!MatchesNamePattern(value)) {
    c.Bad(value, path,
          "Member must satisfy regular expression pattern: " + std::string(kNamePattern));
  }
  CheckLength(c, value, path, 3, 255);
}

void CheckTableNameOrArn(Constraints& c, const std::optional<std::string>& value,
                         std::string_view path) {
  if (!value) return c.Null(path);
  if (value->starts_with("arn:")) return CheckLength(c, *value, path, 1, 1024);
  CheckName(c, *value, path);
}

void CheckEnum(Constraints& c, const std::optional<std::string>& value, std::string_view path,
               std::initializer_list<std::string_view> allowed) {
  if (!value) return;
  if (std::find(allowed.begin(), allowed.end(), *value) != allowed.end()) return;
  std::string set = "Member must satisfy enum value set: [";
  bool first = true;
  for (std::string_view a : allowed) {
    if (!first) set += ", ";
    set += a;
    first = false;
  }
  set += "]";
  c.Bad(*value, path, set);
}

Status Invalid(std::string_view detail) {
  return Status::InvalidArgument(std::string(kInvalidPrefix) + std::string(detail));
}

Status TableNotFound(std::string_view name) {
  return Status::NotFound("Requested resource not found: Table: " + std::string(name) +
                          " not found");
}

std::optional<std::string> Copy(const std::optional<std::string_view>& v) {
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

Result<std::optional<std::string>> ReadString(const JsonValue& obj, std::string_view name) {
  ASSIGN_OR_RETURN(std::optional<std::string_view> value, GetString(obj, name));
  return Copy(value);
}

Result<std::optional<std::vector<KeyElementSpec>>> ParseKeySchema(const JsonValue& parent,
                                                                  std::string_view member) {
  ASSIGN_OR_RETURN(const JsonValue* list, GetArray(parent, member));
  if (!list) return std::optional<std::vector<KeyElementSpec>>();
  std::vector<KeyElementSpec> keys;
  for (const JsonValue& v : list->GetArray()) {
    RETURN_IF_ERROR(ExpectObject(v));
    KeyElementSpec key;
    ASSIGN_OR_RETURN(key.name, ReadString(v, "AttributeName"));
    ASSIGN_OR_RETURN(key.key_type, ReadString(v, "KeyType"));
    keys.push_back(std::move(key));
  }
  return std::optional<std::vector<KeyElementSpec>>(std::move(keys));
}

Result<std::optional<std::vector<AttributeDefinitionSpec>>> ParseAttributeDefinitions(
    const JsonValue& parent) {
  ASSIGN_OR_RETURN(const JsonValue* list, GetArray(parent, "AttributeDefinitions"));
  if (!list) return std::optional<std::vector<AttributeDefinitionSpec>>();
  std::vector<AttributeDefinitionSpec> defs;
  for (const JsonValue& v : list->GetArray()) {
    RETURN_IF_ERROR(ExpectObject(v));
    AttributeDefinitionSpec def;
    ASSIGN_OR_RETURN(def.name, ReadString(v, "AttributeName"));
    ASSIGN_OR_RETURN(def.type, ReadString(v, "AttributeType"));
    defs.push_back(std::move(def));
  }
  return std::optional<std::vector<AttributeDefinitionSpec>>(std::move(defs));
}

Result<std::optional<ThroughputSpec>> ParseThroughput(const JsonValue& parent) {
  ASSIGN_OR_RETURN(const JsonValue* obj, GetObject(parent, "ProvisionedThroughput"));
  if (!obj) return std::optional<ThroughputSpec>();
  ThroughputSpec spec;
  ASSIGN_OR_RETURN(spec.read, GetInteger(*obj, "ReadCapacityUnits"));
  ASSIGN_OR_RETURN(spec.write, GetInteger(*obj, "WriteCapacityUnits"));
  return std::optional<ThroughputSpec>(spec);
}

Status ParseIgnoredStructs(const JsonValue& parent) {
  for (std::string_view name : {"OnDemandThroughput", "WarmThroughput"}) {
    ASSIGN_OR_RETURN(const JsonValue* obj, GetObject(parent, name));
    if (!obj) continue;
    for (std::string_view member : {"MaxReadRequestUnits", "MaxWriteRequestUnits",
                                    "ReadUnitsPerSecond", "WriteUnitsPerSecond"}) {
      RETURN_IF_ERROR(GetInteger(*obj, member));
    }
  }
  return Status::Ok();
}

Result<std::optional<ProjectionSpec>> ParseProjection(const JsonValue& parent) {
  ASSIGN_OR_RETURN(const JsonValue* obj, GetObject(parent, "Projection"));
  if (!obj) return std::optional<ProjectionSpec>();
  ProjectionSpec spec;
  ASSIGN_OR_RETURN(spec.type, ReadString(*obj, "ProjectionType"));
  ASSIGN_OR_RETURN(const JsonValue* list, GetArray(*obj, "NonKeyAttributes"));
  if (list) {
    std::vector<std::string> names;
    for (const JsonValue& v : list->GetArray()) {
      ASSIGN_OR_RETURN(std::string_view name, AsString(v));
      names.emplace_back(name);
    }
    spec.non_key = std::move(names);
  }
  return std::optional<ProjectionSpec>(std::move(spec));
}

Result<IndexSpec> ParseIndex(const JsonValue& v, bool with_keys, bool with_throughput) {
  RETURN_IF_ERROR(ExpectObject(v));
  IndexSpec spec;
  ASSIGN_OR_RETURN(spec.name, ReadString(v, "IndexName"));
  if (with_keys) {
    ASSIGN_OR_RETURN(spec.keys, ParseKeySchema(v, "KeySchema"));
    ASSIGN_OR_RETURN(spec.projection, ParseProjection(v));
  }
  if (with_throughput) {
    ASSIGN_OR_RETURN(spec.throughput, ParseThroughput(v));
    RETURN_IF_ERROR(ParseIgnoredStructs(v));
  }
  return spec;
}

Result<std::optional<std::vector<IndexSpec>>> ParseIndexList(const JsonValue& parent,
                                                             std::string_view member, bool global) {
  ASSIGN_OR_RETURN(const JsonValue* list, GetArray(parent, member));
  if (!list) return std::optional<std::vector<IndexSpec>>();
  std::vector<IndexSpec> indexes;
  for (const JsonValue& v : list->GetArray()) {
    ASSIGN_OR_RETURN(IndexSpec index, ParseIndex(v, /*with_keys=*/true, global));
    indexes.push_back(std::move(index));
  }
  return std::optional<std::vector<IndexSpec>>(std::move(indexes));
}

Result<std::optional<StreamSpec>> ParseStream(const JsonValue& parent) {
  ASSIGN_OR_RETURN(const JsonValue* obj, GetObject(parent, "StreamSpecification"));
  if (!obj) return std::optional<StreamSpec>();
  StreamSpec spec;
  ASSIGN_OR_RETURN(spec.enabled, GetBool(*obj, "StreamEnabled"));
  ASSIGN_OR_RETURN(spec.view_type, ReadString(*obj, "StreamViewType"));
  return std::optional<StreamSpec>(std::move(spec));
}

Result<std::optional<SseSpec>> ParseSse(const JsonValue& parent) {
  ASSIGN_OR_RETURN(const JsonValue* obj, GetObject(parent, "SSESpecification"));
  if (!obj) return std::optional<SseSpec>();
  SseSpec spec;
  ASSIGN_OR_RETURN(spec.enabled, GetBool(*obj, "Enabled"));
  ASSIGN_OR_RETURN(spec.type, ReadString(*obj, "SSEType"));
  ASSIGN_OR_RETURN(spec.kms_key, ReadString(*obj, "KMSMasterKeyId"));
  return std::optional<SseSpec>(std::move(spec));
}

Result<std::optional<std::vector<TagSpec>>> ParseTags(const JsonValue& parent) {
  ASSIGN_OR_RETURN(const JsonValue* list, GetArray(parent, "Tags"));
  if (!list) return std::optional<std::vector<TagSpec>>();
  std::vector<TagSpec> tags;
  for (const JsonValue& v : list->GetArray()) {
    RETURN_IF_ERROR(ExpectObject(v));
    TagSpec tag;
    ASSIGN_OR_RETURN(tag.key, ReadString(v, "Key"));
    ASSIGN_OR_RETURN(tag.value, ReadString(v, "Value"));
    tags.push_back(std::move(tag));
  }
  return std::optional<std::vector<TagSpec>>(std::move(tags));
}

std::string KeySchemaText(const std::vector<KeyElementSpec>& keys) {
  std::vector<std::string> parts;
  for (const auto& k : keys) {
    parts.push_back("KeySchemaElement(AttributeName=" + k.name.value_or("null") +
                    ", KeyType=" + k.key_type.value_or("null") + ")");
  }
  return "[" + Join(parts) + "]";
}

void CheckKeySchema(Constraints& c, const std::optional<std::vector<KeyElementSpec>>& keys,
                    std::string_view path) {
  if (!keys) return c.Null(path);
  if (keys->empty()) c.Bad("[]", path, "Member must have length greater than or equal to 1");
  if (keys->size() > 2) {
    c.Bad(KeySchemaText(*keys), path, "Member must have length less than or equal to 2");
  }
  for (size_t i = 0; i < keys->size(); ++i) {
    const auto& k = (*keys)[i];
    std::string name_path = Member(path, i, "attributeName");
    if (!k.name) {
      c.Null(name_path);
    } else {
      CheckLength(c, *k.name, name_path, 1, 255);
    }
    std::string type_path = Member(path, i, "keyType");
    if (!k.key_type) c.Null(type_path);
    CheckEnum(c, k.key_type, type_path, {"HASH", "RANGE"});
  }
}

void CheckAttributeDefinitions(Constraints& c,
                               const std::optional<std::vector<AttributeDefinitionSpec>>& defs,
                               std::string_view path, bool required) {
  if (!defs) {
    if (required) c.Null(path);
    return;
  }
  for (size_t i = 0; i < defs->size(); ++i) {
    const auto& d = (*defs)[i];
    std::string name_path = Member(path, i, "attributeName");
    if (!d.name) {
      c.Null(name_path);
    } else {
      CheckLength(c, *d.name, name_path, 1, 255);
    }
    std::string type_path = Member(path, i, "attributeType");
    if (!d.type) c.Null(type_path);
    CheckEnum(c, d.type, type_path, {"B", "N", "S"});
  }
}

void CheckThroughput(Constraints& c, const std::optional<ThroughputSpec>& t,
                     std::string_view path) {
  if (!t) return;
  // AWS lists writeCapacityUnits before readCapacityUnits.
  std::string write_path = Child(path, "writeCapacityUnits");
  if (!t->write) {
    c.Null(write_path);
  } else if (*t->write < 1) {
    c.Bad(std::to_string(*t->write), write_path,
          "Member must have value greater than or equal to 1");
  }
  std::string read_path = Child(path, "readCapacityUnits");
  if (!t->read) {
    c.Null(read_path);
  } else if (*t->read < 1) {
    c.Bad(std::to_string(*t->read), read_path, "Member must have value greater than or equal to 1");
  }
}

void CheckProjection(Constraints& c, const ProjectionSpec& p, std::string_view path) {
  CheckEnum(c, p.type, Child(path, "projectionType"), {"ALL", "INCLUDE", "KEYS_ONLY"});
  if (!p.non_key) return;
  std::string list_path = Child(path, "nonKeyAttributes");
  if (p.non_key->empty()) {
    c.Bad("[]", list_path, "Member must have length greater than or equal to 1");
  }
  if (p.non_key->size() > 20) {
    c.Bad("[" + Join(*p.non_key) + "]", list_path,
          "Member must have length less than or equal to 20");
  }
  for (size_t i = 0; i < p.non_key->size(); ++i) {
    CheckLength(c, (*p.non_key)[i], Member(list_path, i, ""), 1, 255);
  }
}

void CheckIndex(Constraints& c, const IndexSpec& index, std::string_view path) {
  std::string projection_path = Child(path, "projection");
  if (!index.projection) c.Null(projection_path);
  std::string name_path = Child(path, "indexName");
  if (!index.name) {
    c.Null(name_path);
  } else {
    CheckName(c, *index.name, name_path);
  }
  CheckKeySchema(c, index.keys, Child(path, "keySchema"));
  if (index.projection) CheckProjection(c, *index.projection, projection_path);
  CheckThroughput(c, index.throughput, Child(path, "provisionedThroughput"));
}

void CheckIndexName(Constraints& c, const std::optional<std::string>& name, std::string_view path) {
  if (!name) return c.Null(path);
  CheckName(c, *name, path);
}

void CheckStream(Constraints& c, const std::optional<StreamSpec>& s, std::string_view path) {
  if (!s) return;
  if (!s->enabled) c.Null(Child(path, "streamEnabled"));
  CheckEnum(c, s->view_type, Child(path, "streamViewType"),
            {"NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"});
}

void CheckSse(Constraints& c, const std::optional<SseSpec>& s, std::string_view path) {
  if (!s) return;
  CheckEnum(c, s->type, Child(path, "sSEType"), {"AES256", "KMS"});
}

void CheckTags(Constraints& c, const std::vector<TagSpec>& tags, std::string_view path) {
  for (size_t i = 0; i < tags.size(); ++i) {
    std::string key_path = Member(path, i, "key");
    if (!tags[i].key) {
      c.Null(key_path);
    } else {
      CheckLength(c, *tags[i].key, key_path, 1, 128);
    }
    std::string value_path = Member(path, i, "value");
    if (!tags[i].value) {
      c.Null(value_path);
    } else {
      CheckLength(c, *tags[i].value, value_path, 0, 256);
    }
  }
}

Status CheckCapacityBounds(const ThroughputSpec& t) {
  if (t.read && *t.read > kMaxCapacityUnits) {
    return Status::InvalidArgument("Given value " + std::to_string(*t.read) +
                                   " for ReadCapacityUnits is out of bounds");
  }
  if (t.write && *t.write > kMaxCapacityUnits) {
    return Status::InvalidArgument("Given value " + std::to_string(*t.write) +
                                   " for WriteCapacityUnits is out of bounds");
  }
  return Status::Ok();
}

std::vector<std::string> KeyNames(const std::vector<KeyElementSpec>& keys) {
  std::vector<std::string> names;
  for (const auto& k : keys) names.push_back(*k.name);
  return names;
}

Status CheckKeySchemaSemantics(const std::vector<KeyElementSpec>& keys,
                               const std::vector<std::string>& defined, bool is_table) {
  if (is_table && keys.size() > defined.size()) {
    return Status::InvalidArgument(
        "Invalid KeySchema: Some index key attribute have no definition");
  }
  for (const auto& k : keys) {
    if (std::find(defined.begin(), defined.end(), *k.name) == defined.end()) {
      return Invalid("Some index key attributes are not defined in AttributeDefinitions. Keys: [" +
                     Join(KeyNames(keys)) + "], AttributeDefinitions: [" + Join(defined) + "]");
    }
  }
  if (keys.size() == 2 && *keys[0].name == *keys[1].name) {
    return Status::InvalidArgument(
        "Both the Hash Key and the Range Key element in the KeySchema have the same name");
  }
  if (*keys[0].key_type != "HASH") {
    return Status::InvalidArgument(
        "Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
  }
  if (keys.size() == 2 && *keys[1].key_type != "RANGE") {
    return Status::InvalidArgument(
        "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type");
  }
  return Status::Ok();
}

Status CheckProjectionSemantics(const ProjectionSpec& p) {
  if (!p.type) return Invalid("Unknown ProjectionType: null");
  if (p.non_key && *p.type != "INCLUDE") {
    return Invalid("ProjectionType is " + *p.type + ", but NonKeyAttributes is specified");
  }
  if (*p.type == "INCLUDE" && !p.non_key) {
    return Invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified");
  }
  if (p.non_key) {
    std::set<std::string> seen;
    for (const auto& name : *p.non_key) {
      if (!seen.insert(name).second) {
        return Invalid("Duplicate element in NonKeyAttributes: " + name);
      }
    }
  }
  return Status::Ok();
}

Status CheckStreamSemantics(const StreamSpec& s, bool creating) {
  if (*s.enabled && !s.view_type) {
    return Invalid(creating
                       ? "Table is being created with a stream enabled, UpdateViewType is required"
                       : "If stream is being enabled then UpdateViewType is required");
  }
  if (!*s.enabled && s.view_type) {
    return Invalid(creating ? "Table is being created with a stream disabled, UpdateViewType "
                              "should not be specified"
                            : "If stream is being disabled, then UpdateViewType must not be "
                              "specified");
  }
  return Status::Ok();
}

Status CheckSseSemantics(const SseSpec& s) {
  bool enabled = s.enabled.value_or(true);
  if (!enabled && s.type) return Invalid("SSEType can not be specified if Enabled is false");
  if (!enabled && s.kms_key) {
    return Invalid("KMSMasterKeyId can not be specified if Enabled is false");
  }
  if (s.kms_key && s.type != "KMS") {
    return Invalid("SSEType KMS is required if KMSMasterKeyId is specified");
  }
  if (s.type == "AES256") return Invalid("SSEType AES256 is not supported");
  return Status::Ok();
}

Status CheckTagSemantics(const std::vector<TagSpec>& tags) {
  std::set<std::string> keys;
  for (const auto& tag : tags) {
    if (tag.key->starts_with("aws:")) {
      return Status::InvalidArgument("Tag Key cannot be prefixed with aws:, Key: " + *tag.key);
    }
    if (!keys.insert(*tag.key).second) {
      return Status::InvalidArgument(
          "Duplicate Tag Keys provided as input: Duplicate Tag Key found " + *tag.key);
    }
  }
  return Status::Ok();
}

Status TooManyTags() {
  return Status::InvalidArgument(
      "Number of Tags exceed the current limit for the provided ResourceArn");
}

AttributeType ScalarType(std::string_view wire) {
  if (wire == "N") return AttributeType::kNumber;
  if (wire == "B") return AttributeType::kBinary;
  return AttributeType::kString;
}

ProjectionType ToProjectionType(std::string_view wire) {
  if (wire == "KEYS_ONLY") return ProjectionType::kKeysOnly;
  if (wire == "INCLUDE") return ProjectionType::kInclude;
  return ProjectionType::kAll;
}

std::string_view ProjectionTypeName(ProjectionType type) {
  switch (type) {
    case ProjectionType::kKeysOnly:
      return "KEYS_ONLY";
    case ProjectionType::kInclude:
      return "INCLUDE";
    case ProjectionType::kAll:
      return "ALL";
  }
  return "ALL";
}

KeySchema ToKeySchema(const std::vector<KeyElementSpec>& keys,
                      const std::map<std::string, AttributeType>& types) {
  KeySchema schema;
  schema.hash = KeyElement{.name = *keys[0].name, .type = types.at(*keys[0].name)};
  if (keys.size() == 2) {
    schema.range = KeyElement{.name = *keys[1].name, .type = types.at(*keys[1].name)};
  }
  return schema;
}

IndexDef ToIndexDef(const IndexSpec& spec, bool local, uint64_t index_id,
                    const std::map<std::string, AttributeType>& types, bool provisioned) {
  IndexDef index;
  index.name = *spec.name;
  index.index_id = index_id;
  index.local = local;
  index.keys = ToKeySchema(*spec.keys, types);
  index.projection = ToProjectionType(*spec.projection->type);
  if (spec.projection->non_key) index.non_key_attributes = *spec.projection->non_key;
  if (!local && provisioned && spec.throughput) {
    index.read_capacity = *spec.throughput->read;
    index.write_capacity = *spec.throughput->write;
  }
  return index;
}

void PruneAttributeDefinitions(TableDef& def) {
  std::set<std::string> used;
  auto use = [&](const KeySchema& keys) {
    used.insert(keys.hash.name);
    if (keys.range) used.insert(keys.range->name);
  };
  use(def.keys);
  for (const auto& index : def.indexes) use(index.keys);
  for (auto it = def.attribute_definitions.begin(); it != def.attribute_definitions.end();) {
    it = used.count(it->first) ? std::next(it) : def.attribute_definitions.erase(it);
  }
}

std::string StreamLabel(int64_t epoch_millis) {
  std::time_t seconds = static_cast<std::time_t>(epoch_millis / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(epoch_millis % 1000));
  return buf;
}

std::string NewStreamLabel(const TableDef& def, int64_t now_millis) {
  std::string label = StreamLabel(now_millis);
  while (label <= def.latest_stream_label) label = StreamLabel(++now_millis);
  return label;
}

void WriteKeySchema(JsonWriter& w, const KeySchema& keys) {
  w.StartArray();
  w.StartObject();
  WriteKey(w, "AttributeName");
  WriteString(w, keys.hash.name);
  WriteKey(w, "KeyType");
  WriteString(w, "HASH");
  w.EndObject();
  if (keys.range) {
    w.StartObject();
    WriteKey(w, "AttributeName");
    WriteString(w, keys.range->name);
    WriteKey(w, "KeyType");
    WriteString(w, "RANGE");
    w.EndObject();
  }
  w.EndArray();
}

void WriteThroughput(JsonWriter& w, int64_t read, int64_t write) {
  WriteKey(w, "ProvisionedThroughput");
  w.StartObject();
  WriteKey(w, "NumberOfDecreasesToday");
  w.Int64(0);
  WriteKey(w, "ReadCapacityUnits");
  w.Int64(read);
  WriteKey(w, "WriteCapacityUnits");
  w.Int64(write);
  w.EndObject();
}

void WriteProjection(JsonWriter& w, const IndexDef& index) {
  WriteKey(w, "Projection");
  w.StartObject();
  WriteKey(w, "ProjectionType");
  WriteString(w, ProjectionTypeName(index.projection));
  if (index.projection == ProjectionType::kInclude) {
    WriteKey(w, "NonKeyAttributes");
    w.StartArray();
    for (const auto& name : index.non_key_attributes) WriteString(w, name);
    w.EndArray();
  }
  w.EndObject();
}

void WriteIndexes(JsonWriter& w, const TableDef& def, bool local) {
  bool any = std::any_of(def.indexes.begin(), def.indexes.end(),
                         [&](const IndexDef& i) { return i.local == local; });
  if (!any) return;
  WriteKey(w, local ? "LocalSecondaryIndexes" : "GlobalSecondaryIndexes");
  w.StartArray();
  for (const auto& index : def.indexes) {
    if (index.local != local) continue;
    w.StartObject();
    WriteKey(w, "IndexName");
    WriteString(w, index.name);
    WriteKey(w, "KeySchema");
    WriteKeySchema(w, index.keys);
    WriteProjection(w, index);
    if (!local) {
      // Index creation is synchronous here (the backfill runs inside UpdateTable).
      WriteKey(w, "IndexStatus");
      WriteString(w, "ACTIVE");
      WriteThroughput(w, index.read_capacity, index.write_capacity);
    }
    // Per-index counters are not kept; AWS refreshes them only every six hours anyway.
    WriteKey(w, "IndexSizeBytes");
    w.Int64(0);
    WriteKey(w, "ItemCount");
    w.Int64(0);
    WriteKey(w, "IndexArn");
    WriteString(w, def.Arn() + "/index/" + index.name);
    w.EndObject();
  }
  w.EndArray();
}

void WriteDescriptionMembers(JsonWriter& w, const TableDef& def, int64_t item_count,
                             int64_t size_bytes, std::string_view status) {
  WriteKey(w, "AttributeDefinitions");
  w.StartArray();
  for (const auto& [name, type] : def.attribute_definitions) {
    w.StartObject();
    WriteKey(w, "AttributeName");
    WriteString(w, name);
    WriteKey(w, "AttributeType");
    WriteString(w, table::TypeName(type));
    w.EndObject();
  }
  w.EndArray();
  WriteKey(w, "TableName");
  WriteString(w, def.name);
  WriteKey(w, "KeySchema");
  WriteKeySchema(w, def.keys);
  WriteKey(w, "TableStatus");
  WriteString(w, status);
  WriteKey(w, "CreationDateTime");
  WriteEpochSeconds(w, def.creation_millis);
  const bool on_demand = def.billing_mode == "PAY_PER_REQUEST";
  WriteThroughput(w, on_demand ? 0 : def.read_capacity, on_demand ? 0 : def.write_capacity);
  WriteKey(w, "TableSizeBytes");
  w.Int64(size_bytes);
  WriteKey(w, "ItemCount");
  w.Int64(item_count);
  WriteKey(w, "TableArn");
  WriteString(w, def.Arn());
  WriteKey(w, "TableId");
  WriteString(w, def.table_uuid);
  WriteKey(w, "BillingModeSummary");
  w.StartObject();
  WriteKey(w, "BillingMode");
  WriteString(w, def.billing_mode);
  if (on_demand) {
    // TableDef keeps no switch time; the creation time stands in (docs/compat/dynamodb.md).
    WriteKey(w, "LastUpdateToPayPerRequestDateTime");
    WriteEpochSeconds(w, def.creation_millis);
  }
  w.EndObject();
  WriteIndexes(w, def, /*local=*/true);
  WriteIndexes(w, def, /*local=*/false);
  if (def.stream.enabled) {
    WriteKey(w, "StreamSpecification");
    w.StartObject();
    WriteKey(w, "StreamEnabled");
    w.Bool(true);
    WriteKey(w, "StreamViewType");
    WriteString(w, def.stream.view_type);
    w.EndObject();
  }
  if (!def.latest_stream_label.empty()) {
    WriteKey(w, "LatestStreamLabel");
    WriteString(w, def.latest_stream_label);
    WriteKey(w, "LatestStreamArn");
    WriteString(w, def.Arn() + "/stream/" + def.latest_stream_label);
  }
  WriteKey(w, "TableClassSummary");
  w.StartObject();
  WriteKey(w, "TableClass");
  WriteString(w, def.table_class);
  w.EndObject();
  WriteKey(w, "DeletionProtectionEnabled");
  w.Bool(def.deletion_protection);
}

std::string Finish(const rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<TableArnParts> ParseTableArn(const std::optional<std::string>& arn,
                                    const RequestContext& context) {
  // AWS answers a missing ResourceArn with this bare text (dynalite's tests pin it).
  if (!arn) return Status::InvalidArgument("Invalid TableArn");
  auto invalid = [&] {
    return Status::InvalidArgument("Invalid TableArn: Invalid ResourceArn provided as input " +
                                   *arn);
  };
  // arn:<partition>:dynamodb:<region>:<account>:table/<name>
  std::vector<std::string> parts;
  size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    size_t colon = arn->find(':', start);
    if (colon == std::string::npos) return invalid();
    parts.push_back(arn->substr(start, colon - start));
    start = colon + 1;
  }
  std::string resource = arn->substr(start);
  if (parts[2] != "dynamodb" || !resource.starts_with("table/")) return invalid();
  std::string name = resource.substr(6);
  if (name.find('/') != std::string::npos) {
    return Invalid(
        "Invalid resource arn provided, only table or stream is accepted. Provided resource "
        "arn: " +
        *arn);
  }
  if (!MatchesNamePattern(name) || name.size() < 3 || name.size() > 255) return invalid();
  // A table of another region can't be addressed from this endpoint.
  if (parts[3] != context.region) return invalid();
  return TableArnParts{.account = parts[4], .region = parts[3], .name = std::move(name)};
}

}  // namespace salespipe::services::dynamodb
