// Table management: CreateTable, DescribeTable, DeleteTable, ListTables, UpdateTable, TTL,
// tags, limits, endpoints and continuous backups.
//
// Every operation checks its request in AWS's order before touching the catalog:
//   1. JSON types (SerializationException, the first one found ends the request),
//   2. model constraints from the botocore model, aggregated into one ValidationException
//      ("N validation errors detected: ...", at most 10 like AWS),
//   3. semantic checks that need no table, with DynamoDB's own messages,
//   4. the table lookup (ResourceNotFoundException / ResourceInUseException),
//   5. checks against the table's current definition.
// Changes to a table's definition hold its op_mu() exclusively, so they are serialized with
// each other and with item writes (which hold it shared).
// Differences from AWS are listed in docs/compat/dynamodb.md (section "Table management").

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
namespace {

using table::AttributeType;
using table::IndexDef;
using table::KeyElement;
using table::KeySchema;
using table::ProjectionType;
using table::TableDef;
using table::TableHandle;

// AWS stops listing model-constraint violations after ten.
constexpr size_t kMaxConstraintMessages = 10;
constexpr size_t kMaxGlobalIndexes = 20;
constexpr size_t kMaxLocalIndexes = 5;
constexpr size_t kMaxTags = 50;
// Above this DynamoDB answers "Given value N for ReadCapacityUnits is out of bounds".
constexpr int64_t kMaxCapacityUnits = 1000000000000;
constexpr int kDefaultRecoveryPeriodDays = 35;

constexpr std::string_view kInvalidPrefix = "One or more parameter values were invalid: ";
constexpr std::string_view kNamePattern = "[a-zA-Z0-9_.-]+";

// --- Model constraints ---------------------------------------------------------------------

// ValidationErrors capped at AWS's ten messages.
class Constraints {
 public:
  void Null(std::string_view path) { Add("null", path, "Member must not be null"); }
  // `value` is shown quoted, as AWS does for every non-null value.
  void Bad(std::string_view value, std::string_view path, std::string_view constraint) {
    Add("'" + std::string(value) + "'", path, constraint);
  }
  Status ToStatus() const { return errors_.ToStatus(); }

 private:
  void Add(std::string value, std::string_view path, std::string_view constraint) {
    if (count_ >= kMaxConstraintMessages) return;
    ++count_;
    errors_.AddConstraint(value, path, constraint);
  }

  ValidationErrors errors_;
  size_t count_ = 0;
};

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

// Length in characters (code points), as AWS counts it.
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

// A table or index name: pattern, then 3..255 characters (the order AWS lists them in).
void CheckName(Constraints& c, std::string_view value, std::string_view path) {
  if (!MatchesNamePattern(value)) {
    c.Bad(value, path,
          "Member must satisfy regular expression pattern: " + std::string(kNamePattern));
  }
  CheckLength(c, value, path, 3, 255);
}

// TableName of the operations that accept a name or an ARN (botocore's TableArn shape).
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

// --- Request parsing (JSON types only; constraints are checked afterwards) -----------------

std::optional<std::string> Copy(const std::optional<std::string_view>& v) {
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

Result<std::optional<std::string>> ReadString(const JsonValue& obj, std::string_view name) {
  ASSIGN_OR_RETURN(std::optional<std::string_view> value, GetString(obj, name));
  return Copy(value);
}

struct KeyElementSpec {
  std::optional<std::string> name;
  std::optional<std::string> key_type;
};

struct AttributeDefinitionSpec {
  std::optional<std::string> name;
  std::optional<std::string> type;
};

struct ThroughputSpec {
  std::optional<int64_t> read;
  std::optional<int64_t> write;
};

struct ProjectionSpec {
  std::optional<std::string> type;
  std::optional<std::vector<std::string>> non_key;
};

struct IndexSpec {
  std::optional<std::string> name;
  std::optional<std::vector<KeyElementSpec>> keys;
  std::optional<ProjectionSpec> projection;
  std::optional<ThroughputSpec> throughput;
};

struct StreamSpec {
  std::optional<bool> enabled;
  std::optional<std::string> view_type;
};

struct SseSpec {
  std::optional<bool> enabled;
  std::optional<std::string> type;
  std::optional<std::string> kms_key;
};

struct TagSpec {
  std::optional<std::string> key;
  std::optional<std::string> value;
};

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

// Members AWS accepts that salespipe ignores (no capacity model): type-checked only.
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

// --- Constraint checks on parsed pieces ----------------------------------------------------

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

// A secondary index of CreateTable, or the Create action of UpdateTable.
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

// --- Semantic checks -----------------------------------------------------------------------

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

// The key-schema rules DynamoDB applies to a table or index (dynalite's order, which mirrors
// DynamoDB's). `defined` lists the attribute definitions in request order.
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

// Tag rules shared by CreateTable and TagResource.
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

// --- Definitions -----------------------------------------------------------------------------

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

// REQUIRES: every key attribute is in `types` (checked by CheckKeySchemaSemantics).
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

// Keeps only the attribute definitions some table or index key uses (AWS drops the
// definitions of a deleted index's keys).
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

// A stream label: the UTC time of enabling with milliseconds, "2024-05-01T12:00:00.000".
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

// A label for a newly enabled stream. Each enable gets a new stream, so the label must differ
// from the previous one even when both fall in the same millisecond.
std::string NewStreamLabel(const TableDef& def, int64_t now_millis) {
  std::string label = StreamLabel(now_millis);
  while (label <= def.latest_stream_label) label = StreamLabel(++now_millis);
  return label;
}

// --- Response writing ----------------------------------------------------------------------

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

// The members of a TableDescription, without the enclosing braces (CreateTable appends
// SSEDescription).
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

// --- Table ARNs of the tagging operations --------------------------------------------------

// Resolves the ResourceArn of TagResource/UntagResource/ListTagsOfResource to the table's
// account, region and name.
struct TableArnParts {
  std::string account;
  std::string region;
  std::string name;
};

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

}  // namespace

// --- DynamoDbService members -----------------------------------------------------------------

void DynamoDbService::WriteTableDescription(JsonWriter& w, const TableHandle& table,
                                            std::string_view status) const {
  auto def = table.def();
  const auto& stats = table.stats();
  w.StartObject();
  WriteDescriptionMembers(w, *def, stats.item_count.load(), stats.size_bytes.load(), status);
  w.EndObject();
}

Result<std::string> DynamoDbService::CreateTable(const JsonValue& request,
                                                 const RequestContext& context) {
  // 1. JSON types.
  ASSIGN_OR_RETURN(std::optional<std::string> table_name, ReadString(request, "TableName"));
  ASSIGN_OR_RETURN(auto attribute_definitions, ParseAttributeDefinitions(request));
  ASSIGN_OR_RETURN(auto key_schema, ParseKeySchema(request, "KeySchema"));
  ASSIGN_OR_RETURN(auto local_indexes,
                   ParseIndexList(request, "LocalSecondaryIndexes", /*global=*/false));
  ASSIGN_OR_RETURN(auto global_indexes,
                   ParseIndexList(request, "GlobalSecondaryIndexes", /*global=*/true));
  ASSIGN_OR_RETURN(std::optional<std::string> billing_mode, ReadString(request, "BillingMode"));
  ASSIGN_OR_RETURN(std::optional<ThroughputSpec> throughput, ParseThroughput(request));
  ASSIGN_OR_RETURN(std::optional<StreamSpec> stream, ParseStream(request));
  ASSIGN_OR_RETURN(std::optional<SseSpec> sse, ParseSse(request));
  ASSIGN_OR_RETURN(auto tags, ParseTags(request));
  ASSIGN_OR_RETURN(std::optional<std::string> table_class, ReadString(request, "TableClass"));
  ASSIGN_OR_RETURN(std::optional<bool> deletion_protection,
                   GetBool(request, "DeletionProtectionEnabled"));
  RETURN_IF_ERROR(ParseIgnoredStructs(request));
  RETURN_IF_ERROR(GetString(request, "ResourcePolicy"));

  // 2. Model constraints.
  Constraints c;
  CheckAttributeDefinitions(c, attribute_definitions, "attributeDefinitions", /*required=*/true);
  if (!table_name) {
    c.Null("tableName");
  } else {
    CheckName(c, *table_name, "tableName");
  }
  CheckKeySchema(c, key_schema, "keySchema");
  if (local_indexes) {
    for (size_t i = 0; i < local_indexes->size(); ++i) {
      CheckIndex(c, (*local_indexes)[i], Member("localSecondaryIndexes", i, ""));
    }
  }
  if (global_indexes) {
    for (size_t i = 0; i < global_indexes->size(); ++i) {
      CheckIndex(c, (*global_indexes)[i], Member("globalSecondaryIndexes", i, ""));
    }
  }
  CheckEnum(c, billing_mode, "billingMode", {"PROVISIONED", "PAY_PER_REQUEST"});
  CheckThroughput(c, throughput, "provisionedThroughput");
  CheckStream(c, stream, "streamSpecification");
  CheckSse(c, sse, "sSESpecification");
  if (tags) CheckTags(c, *tags, "tags");
  CheckEnum(c, table_class, "tableClass", {"STANDARD", "STANDARD_INFREQUENT_ACCESS"});
  RETURN_IF_ERROR(c.ToStatus());

  // 3. Semantic checks, in DynamoDB's order.
  const bool provisioned = billing_mode.value_or("PROVISIONED") == "PROVISIONED";
  if (!provisioned && throughput) {
    return Invalid(
        "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
        "PAY_PER_REQUEST");
  }
  if (provisioned) {
    if (!throughput) {
      return Invalid(
          "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is "
          "PROVISIONED");
    }
    RETURN_IF_ERROR(CheckCapacityBounds(*throughput));
  }
  std::vector<std::string> defined;
  std::map<std::string, AttributeType> types;
  for (const auto& d : *attribute_definitions) {
    if (types.count(*d.name)) {
      return Status::InvalidArgument("Attribute Name is duplicated: " + *d.name);
    }
    defined.push_back(*d.name);
    types[*d.name] = ScalarType(*d.type);
  }
  RETURN_IF_ERROR(CheckKeySchemaSemantics(*key_schema, defined, /*is_table=*/true));
  if (!local_indexes && !global_indexes && key_schema->size() != defined.size()) {
    return Invalid(
        "Number of attributes in KeySchema does not exactly match number of attributes defined "
        "in AttributeDefinitions");
  }
  std::set<std::string> used_attributes;
  for (const auto& name : KeyNames(*key_schema)) used_attributes.insert(name);
  std::set<std::string> index_names;
  if (local_indexes) {
    if (local_indexes->empty()) return Invalid("List of LocalSecondaryIndexes is empty");
    if (key_schema->size() != 2) {
      return Invalid(
          "Table KeySchema does not have a range key, which is required when specifying a "
          "LocalSecondaryIndex");
    }
    const std::string& table_hash = *(*key_schema)[0].name;
    for (const auto& index : *local_indexes) {
      RETURN_IF_ERROR(CheckKeySchemaSemantics(*index.keys, defined, /*is_table=*/false));
      if (index.keys->size() != 2) {
        return Invalid("Index KeySchema does not have a range key for index: " + *index.name);
      }
      const std::string& index_hash = *(*index.keys)[0].name;
      if (index_hash != table_hash) {
        return Invalid(
            "Index KeySchema does not have the same leading hash key as table KeySchema for "
            "index: " +
            *index.name + ". index hash key: " + index_hash + ", table hash key: " + table_hash);
      }
      RETURN_IF_ERROR(CheckProjectionSemantics(*index.projection));
      if (!index_names.insert(*index.name).second) {
        return Invalid("Duplicate index name: " + *index.name);
      }
      for (const auto& name : KeyNames(*index.keys)) used_attributes.insert(name);
    }
    if (local_indexes->size() > kMaxLocalIndexes) {
      return Invalid("Number of LocalSecondaryIndexes exceeds per-table limit of " +
                     std::to_string(kMaxLocalIndexes));
    }
  }
  if (global_indexes) {
    if (global_indexes->empty()) return Invalid("List of GlobalSecondaryIndexes is empty");
    for (const auto& index : *global_indexes) {
      RETURN_IF_ERROR(CheckKeySchemaSemantics(*index.keys, defined, /*is_table=*/false));
      RETURN_IF_ERROR(CheckProjectionSemantics(*index.projection));
      if (provisioned && !index.throughput) {
        return Invalid("ProvisionedThroughput is not specified for index: " + *index.name);
      }
      if (!provisioned && index.throughput) {
        return Invalid("ProvisionedThroughput should not be specified for index: " + *index.name +
                       " when BillingMode is PAY_PER_REQUEST");
      }
      if (index.throughput) RETURN_IF_ERROR(CheckCapacityBounds(*index.throughput));
      if (!index_names.insert(*index.name).second) {
        return Invalid("Duplicate index name: " + *index.name);
      }
      for (const auto& name : KeyNames(*index.keys)) used_attributes.insert(name);
    }
    if (global_indexes->size() > kMaxGlobalIndexes) {
      return Invalid("GlobalSecondaryIndex count exceeds the per-table limit of " +
                     std::to_string(kMaxGlobalIndexes));
    }
  }
  if (used_attributes.size() != defined.size()) {
    return Invalid("Some AttributeDefinitions are not used. AttributeDefinitions: [" +
                   Join(defined) + "], keys used: [" +
                   Join(std::vector<std::string>(used_attributes.begin(), used_attributes.end())) +
                   "]");
  }
  if (stream) RETURN_IF_ERROR(CheckStreamSemantics(*stream, /*creating=*/true));
  if (sse) RETURN_IF_ERROR(CheckSseSemantics(*sse));
  if (tags) {
    RETURN_IF_ERROR(CheckTagSemantics(*tags));
    if (tags->size() > kMaxTags) return TooManyTags();
  }

  // 4. The name must be free. Checked before allocating ids (Catalog::Create checks again).
  if (catalog_.Get(context.account_id, context.region, *table_name).ok()) {
    return Status::AlreadyExists("Table already exists: " + *table_name);
  }

  TableDef def;
  def.account_id = context.account_id;
  def.region = context.region;
  def.name = *table_name;
  ASSIGN_OR_RETURN(def.table_id, catalog_.AllocateId());
  def.table_uuid = NewUuid();
  def.creation_millis = clock_.NowMillis();
  def.keys = ToKeySchema(*key_schema, types);
  def.attribute_definitions = types;
  def.billing_mode = provisioned ? "PROVISIONED" : "PAY_PER_REQUEST";
  if (provisioned) {
    def.read_capacity = *throughput->read;
    def.write_capacity = *throughput->write;
  }
  for (const auto* list : {&local_indexes, &global_indexes}) {
    if (!*list) continue;
    const bool local = list == &local_indexes;
    for (const auto& spec : **list) {
      ASSIGN_OR_RETURN(uint64_t index_id, catalog_.AllocateId());
      def.indexes.push_back(ToIndexDef(spec, local, index_id, types, provisioned));
    }
  }
  if (stream && *stream->enabled) {
    def.stream.enabled = true;
    def.stream.view_type = *stream->view_type;
    def.latest_stream_label = StreamLabel(def.creation_millis);
  }
  if (tags) {
    for (const auto& tag : *tags) def.tags[*tag.key] = *tag.value;
  }
  def.deletion_protection = deletion_protection.value_or(false);
  def.table_class = table_class.value_or("STANDARD");
  const std::string account_id = def.account_id;
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle, catalog_.Create(std::move(def)));
  // The stream exists from the first moment, so DescribeTable's LatestStreamArn resolves.
  if (capture_) RETURN_IF_ERROR(capture_->SyncStreams(*handle->def()));

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "TableDescription");
  w.StartObject();
  // AWS answers CREATING here; the table is already usable, so salespipe says so
  // (docs/compat/dynamodb.md; waiters accept either).
  WriteDescriptionMembers(w, *handle->def(), 0, 0, "ACTIVE");
  if (sse && sse->enabled.value_or(false)) {
    WriteKey(w, "SSEDescription");
    w.StartObject();
    WriteKey(w, "Status");
    WriteString(w, "ENABLED");
    WriteKey(w, "SSEType");
    WriteString(w, "KMS");
    WriteKey(w, "KMSMasterKeyArn");
    std::string key = sse->kms_key.value_or(NewUuid());
    WriteString(w, key.starts_with("arn:")
                       ? key
                       : "arn:aws:kms:" + context.region + ":" + account_id + ":key/" + key);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbService::DescribeTable(const JsonValue& request,
                                                   const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string> table_name, ReadString(request, "TableName"));
  Constraints c;
  CheckTableNameOrArn(c, table_name, "tableName");
  RETURN_IF_ERROR(c.ToStatus());
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle,
                   FindTable(*table_name, context, /*describe_message=*/true));
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "Table");
  WriteTableDescription(w, *handle, "ACTIVE");
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbService::DeleteTable(const JsonValue& request,
                                                 const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string> table_name, ReadString(request, "TableName"));
  Constraints c;
  CheckTableNameOrArn(c, table_name, "tableName");
  RETURN_IF_ERROR(c.ToStatus());
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle,
                   FindTable(*table_name, context, /*describe_message=*/true));
  // Waits for in-flight item operations; none can start on this handle afterwards.
  std::unique_lock lock(handle->op_mu());
  if (handle->deleted()) return TableNotFound(handle->def()->name);
  if (handle->def()->deletion_protection) {
    // AWS answers ValidationException here, not ResourceInUseException
    // (test_dynamodb_tables.py::DeleteListTest::test_deletion_protection).
    return Status::InvalidArgument(
        "Resource cannot be deleted as it is currently protected against deletion. Disable "
        "deletion protection first.");
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "TableDescription");
  WriteTableDescription(w, *handle, "DELETING");
  w.EndObject();
  const TableDef dropped_def = *handle->def();
  RETURN_IF_ERROR(store_.DropTable(*handle));
  // Its streams stay readable (DISABLED) for 24 hours, as on AWS.
  if (capture_) RETURN_IF_ERROR(capture_->TableDeleted(dropped_def));
  return Finish(buffer);
}

Result<std::string> DynamoDbService::ListTables(const JsonValue& request,
                                                const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string> start,
                   ReadString(request, "ExclusiveStartTableName"));
  ASSIGN_OR_RETURN(std::optional<int64_t> limit, GetInteger(request, "Limit"));
  Constraints c;
  if (start) CheckName(c, *start, "exclusiveStartTableName");
  if (limit && *limit < 1) {
    c.Bad(std::to_string(*limit), "limit", "Member must have value greater than or equal to 1");
  }
  if (limit && *limit > 100) {
    c.Bad(std::to_string(*limit), "limit", "Member must have value less than or equal to 100");
  }
  RETURN_IF_ERROR(c.ToStatus());

  const size_t page = static_cast<size_t>(limit.value_or(100));
  // One more than the page tells whether another page follows: AWS sends no
  // LastEvaluatedTableName when the page ends exactly at the last table.
  std::vector<std::string> names =
      catalog_.List(context.account_id, context.region, start.value_or(""), page + 1);
  const bool more = names.size() > page;
  if (more) names.resize(page);

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "TableNames");
  w.StartArray();
  for (const auto& name : names) WriteString(w, name);
  w.EndArray();
  if (more) {
    WriteKey(w, "LastEvaluatedTableName");
    WriteString(w, names.back());
  }
  w.EndObject();
  return Finish(buffer);
}

namespace {

struct GsiUpdateSpec {
  std::optional<IndexSpec> create;
  std::optional<IndexSpec> update;
  std::optional<IndexSpec> remove;

  const std::optional<std::string>& name() const {
    if (create) return create->name;
    if (update) return update->name;
    return remove->name;
  }
};

// An absent list reads as empty: both mean "no index changes".
Result<std::vector<GsiUpdateSpec>> ParseGsiUpdates(const JsonValue& request) {
  ASSIGN_OR_RETURN(const JsonValue* list, GetArray(request, "GlobalSecondaryIndexUpdates"));
  std::vector<GsiUpdateSpec> updates;
  if (!list) return updates;
  for (const JsonValue& v : list->GetArray()) {
    RETURN_IF_ERROR(ExpectObject(v));
    GsiUpdateSpec spec;
    ASSIGN_OR_RETURN(const JsonValue* create, GetObject(v, "Create"));
    if (create) {
      ASSIGN_OR_RETURN(spec.create, ParseIndex(*create, /*with_keys=*/true, /*with_tp=*/true));
    }
    ASSIGN_OR_RETURN(const JsonValue* update, GetObject(v, "Update"));
    if (update) {
      ASSIGN_OR_RETURN(spec.update, ParseIndex(*update, /*with_keys=*/false, /*with_tp=*/true));
    }
    ASSIGN_OR_RETURN(const JsonValue* remove, GetObject(v, "Delete"));
    if (remove) {
      ASSIGN_OR_RETURN(spec.remove, ParseIndex(*remove, /*with_keys=*/false, /*with_tp=*/false));
    }
    updates.push_back(std::move(spec));
  }
  return updates;
}

Status IndexNotFound(std::string_view index, std::string_view table) {
  return Status::NotFound("Requested resource not found: Index " + std::string(index) +
                          " for table " + std::string(table));
}

}  // namespace

Result<std::string> DynamoDbService::UpdateTable(const JsonValue& request,
                                                 const RequestContext& context) {
  // 1. JSON types.
  ASSIGN_OR_RETURN(std::optional<std::string> table_name, ReadString(request, "TableName"));
  ASSIGN_OR_RETURN(auto attribute_definitions, ParseAttributeDefinitions(request));
  ASSIGN_OR_RETURN(std::optional<std::string> billing_mode, ReadString(request, "BillingMode"));
  ASSIGN_OR_RETURN(std::optional<ThroughputSpec> throughput, ParseThroughput(request));
  ASSIGN_OR_RETURN(std::vector<GsiUpdateSpec> gsi_updates, ParseGsiUpdates(request));
  ASSIGN_OR_RETURN(std::optional<StreamSpec> stream, ParseStream(request));
  ASSIGN_OR_RETURN(std::optional<SseSpec> sse, ParseSse(request));
  ASSIGN_OR_RETURN(const JsonValue* replica_updates, GetArray(request, "ReplicaUpdates"));
  ASSIGN_OR_RETURN(std::optional<std::string> table_class, ReadString(request, "TableClass"));
  ASSIGN_OR_RETURN(std::optional<bool> deletion_protection,
                   GetBool(request, "DeletionProtectionEnabled"));
  ASSIGN_OR_RETURN(const JsonValue* on_demand, GetObject(request, "OnDemandThroughput"));
  ASSIGN_OR_RETURN(const JsonValue* warm, GetObject(request, "WarmThroughput"));
  RETURN_IF_ERROR(ParseIgnoredStructs(request));

  // 2. Model constraints.
  Constraints c;
  CheckAttributeDefinitions(c, attribute_definitions, "attributeDefinitions",
                            /*required=*/false);
  CheckTableNameOrArn(c, table_name, "tableName");
  CheckEnum(c, billing_mode, "billingMode", {"PROVISIONED", "PAY_PER_REQUEST"});
  CheckThroughput(c, throughput, "provisionedThroughput");
  for (size_t i = 0; i < gsi_updates.size(); ++i) {
    const auto& u = gsi_updates[i];
    std::string path = Member("globalSecondaryIndexUpdates", i, "");
    if (u.create) CheckIndex(c, *u.create, Child(path, "create"));
    if (u.update) {
      CheckIndexName(c, u.update->name, Child(path, "update.indexName"));
      CheckThroughput(c, u.update->throughput, Child(path, "update.provisionedThroughput"));
    }
    if (u.remove) CheckIndexName(c, u.remove->name, Child(path, "delete.indexName"));
  }
  CheckStream(c, stream, "streamSpecification");
  CheckSse(c, sse, "sSESpecification");
  CheckEnum(c, table_class, "tableClass", {"STANDARD", "STANDARD_INFREQUENT_ACCESS"});
  RETURN_IF_ERROR(c.ToStatus());

  // 3. Semantic checks that need no table.
  const bool has_gsi_updates = !gsi_updates.empty();
  if (!throughput && !billing_mode && !stream && !has_gsi_updates && !sse && !replica_updates &&
      !deletion_protection && !on_demand && !warm && !table_class) {
    return Status::InvalidArgument(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, "
        "MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, "
        "DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is "
        "required");
  }
  if (replica_updates) {
    return Invalid("ReplicaUpdates are not supported: salespipe has no global tables");
  }
  if (sse && (throughput || billing_mode || stream || has_gsi_updates || deletion_protection ||
              table_class)) {
    return Invalid("Server-Side Encryption modification must be the only operation in the request");
  }
  if (billing_mode == "PAY_PER_REQUEST" && throughput) {
    return Invalid(
        "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
        "PAY_PER_REQUEST");
  }
  if (throughput) RETURN_IF_ERROR(CheckCapacityBounds(*throughput));
  if (stream) RETURN_IF_ERROR(CheckStreamSemantics(*stream, /*creating=*/false));
  int structural_changes = 0;  // GSI creations and deletions
  std::set<std::string> seen;
  for (const auto& u : gsi_updates) {
    int actions = (u.create ? 1 : 0) + (u.update ? 1 : 0) + (u.remove ? 1 : 0);
    if (actions == 0) {
      return Invalid(
          "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
          "GlobalSecondaryIndexUpdate.Delete must not be null");
    }
    if (actions > 1) {
      return Invalid(
          "Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate "
          "object");
    }
    if (!seen.insert(*u.name()).second) {
      return Invalid(
          "Only one global secondary index update per index is allowed simultaneously. "
          "Index: " +
          *u.name());
    }
    if (u.create) {
      RETURN_IF_ERROR(CheckProjectionSemantics(*u.create->projection));
      if (u.create->throughput) RETURN_IF_ERROR(CheckCapacityBounds(*u.create->throughput));
    }
    if (u.update && u.update->throughput) {
      RETURN_IF_ERROR(CheckCapacityBounds(*u.update->throughput));
    }
    if (u.create || u.remove) ++structural_changes;
  }
  if (structural_changes > 0 && stream) {
    return Invalid("You cannot create or delete index while changing stream status");
  }
  if (structural_changes > 0 && throughput) {
    return Invalid("You cannot create or delete index while updating table IOPS");
  }
  if (stream && throughput) {
    return Invalid("You cannot modify stream status while updating table IOPS");
  }
  if (structural_changes > 1) {
    // DynamoDB builds one index at a time per UpdateTable call.
    return Status::ResourceExhausted(
               "Subscriber limit exceeded: Only 1 online index can be created or deleted "
               "simultaneously per table")
        .WithAwsCode("LimitExceededException");
  }
  std::map<std::string, AttributeType> requested_types;
  if (attribute_definitions) {
    for (const auto& d : *attribute_definitions) {
      if (requested_types.count(*d.name)) {
        return Status::InvalidArgument("Attribute Name is duplicated: " + *d.name);
      }
      requested_types[*d.name] = ScalarType(*d.type);
    }
  }

  // 4. The table, locked against item operations and other definition changes.
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle,
                   FindTable(*table_name, context, /*describe_message=*/true));
  std::unique_lock lock(handle->op_mu());
  if (handle->deleted()) return TableNotFound(handle->def()->name);
  const TableDef current = *handle->def();
  TableDef next = current;

  // 5. Checks against the current definition, building `next`.
  const bool was_provisioned = current.billing_mode == "PROVISIONED";
  const bool provisioned = billing_mode.value_or(current.billing_mode) == "PROVISIONED";
  if (!provisioned && throughput) {
    return Invalid(
        "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
        "PAY_PER_REQUEST");
  }
  if (provisioned && !was_provisioned && !throughput) {
    return Invalid("ProvisionedThroughput must be specified when BillingMode is PROVISIONED");
  }
  next.billing_mode = provisioned ? "PROVISIONED" : "PAY_PER_REQUEST";
  if (!provisioned) {
    next.read_capacity = 0;
    next.write_capacity = 0;
    for (auto& index : next.indexes) index.read_capacity = index.write_capacity = 0;
  } else if (throughput) {
    const bool only_change =
        !billing_mode && !stream && !has_gsi_updates && !deletion_protection && !table_class;
    if (only_change && *throughput->read == current.read_capacity &&
        *throughput->write == current.write_capacity) {
      const std::string r = std::to_string(current.read_capacity);
      const std::string wc = std::to_string(current.write_capacity);
      return Status::InvalidArgument(
          "The provisioned throughput for the table will not change. The requested value "
          "equals the current value. Current ReadCapacityUnits provisioned for the table: " +
          r + ". Requested ReadCapacityUnits: " + r +
          ". Current WriteCapacityUnits provisioned for the table: " + wc +
          ". Requested WriteCapacityUnits: " + wc +
          ". Refer to the Amazon DynamoDB Developer Guide for current limits and how to request "
          "higher limits.");
    }
    next.read_capacity = *throughput->read;
    next.write_capacity = *throughput->write;
  }

  std::optional<IndexDef> created;
  std::optional<IndexDef> dropped;
  for (const auto& u : gsi_updates) {
    const std::string& name = *u.name();
    auto existing = std::find_if(next.indexes.begin(), next.indexes.end(),
                                 [&](const IndexDef& i) { return i.name == name; });
    if (u.create) {
      if (existing != next.indexes.end()) {
        return Status::InvalidArgument("Attempting to create an index which already exists");
      }
      size_t globals = std::count_if(next.indexes.begin(), next.indexes.end(),
                                     [](const IndexDef& i) { return !i.local; });
      if (globals >= kMaxGlobalIndexes) {
        return Status::ResourceExhausted(
                   "Subscriber limit exceeded: GlobalSecondaryIndex count exceeds the per-table "
                   "limit of " +
                   std::to_string(kMaxGlobalIndexes))
            .WithAwsCode("LimitExceededException");
      }
      if (!attribute_definitions) {
        return Invalid("AttributeDefinitions is not specified for index: " + name);
      }
      // The index keys may use attributes the table defines already or new ones.
      std::map<std::string, AttributeType> types = current.attribute_definitions;
      std::vector<std::string> defined;
      for (const auto& d : *attribute_definitions) {
        auto it = types.find(*d.name);
        if (it != types.end() && it->second != ScalarType(*d.type)) {
          return Invalid("Cannot change the type of attribute " + *d.name + " from " +
                         std::string(table::TypeName(it->second)) + " to " + *d.type +
                         ": it is part of the table's or an index's key");
        }
        types[*d.name] = ScalarType(*d.type);
        defined.push_back(*d.name);
      }
      for (const auto& [attr, type] : current.attribute_definitions) {
        if (!requested_types.count(attr)) defined.push_back(attr);
      }
      RETURN_IF_ERROR(CheckKeySchemaSemantics(*u.create->keys, defined, /*is_table=*/false));
      if (provisioned && !u.create->throughput) {
        return Invalid("ProvisionedThroughput must be specified for index: " + name);
      }
      if (!provisioned && u.create->throughput) {
        return Invalid(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified for "
            "index: " +
            name + " when BillingMode is PAY_PER_REQUEST");
      }
      IndexDef index = ToIndexDef(*u.create, /*local=*/false, 0, types, provisioned);
      for (const auto* key : {&index.keys.hash, index.keys.range ? &*index.keys.range : nullptr}) {
        if (key) next.attribute_definitions[key->name] = key->type;
      }
      next.indexes.push_back(index);
      created = std::move(index);
    } else if (u.update) {
      if (existing == next.indexes.end()) return IndexNotFound(name, current.name);
      if (existing->local) {
        return Status::InvalidArgument(
            "Cannot update an index that is not a GlobalSecondaryIndex: " + name);
      }
      if (!provisioned) {
        if (u.update->throughput) {
          return Invalid("The only Updates for index: " + name +
                         " when TableThroughputMode is PAY_PER_REQUEST can be to "
                         "OnDemandThroughput, WarmThroughput");
        }
        continue;  // OnDemandThroughput / WarmThroughput only: accepted, not modelled
      }
      if (!u.update->throughput) {
        return Invalid(
            "Both ReadCapacityUnits and WriteCapacityUnits must be specified for "
            "index: " +
            name);
      }
      existing->read_capacity = *u.update->throughput->read;
      existing->write_capacity = *u.update->throughput->write;
    } else {
      if (existing == next.indexes.end()) return IndexNotFound(name, current.name);
      if (existing->local) {
        return Status::InvalidArgument(
            "Cannot delete an index that is not a GlobalSecondaryIndex: " + name);
      }
      dropped = *existing;
      next.indexes.erase(existing);
    }
  }
  if (provisioned && !was_provisioned) {
    // Leaving on-demand: every remaining GSI needs its own throughput in this request.
    for (const auto& index : next.indexes) {
      if (!index.local && index.read_capacity == 0) {
        return Invalid("ProvisionedThroughput must be specified for index: " + index.name);
      }
    }
  }
  PruneAttributeDefinitions(next);

  if (stream) {
    if (*stream->enabled) {
      if (current.stream.enabled) {
        return Status::InvalidArgument("Table already has an enabled stream: TableName: " +
                                       current.name);
      }
      next.stream.enabled = true;
      next.stream.view_type = *stream->view_type;
      next.latest_stream_label = NewStreamLabel(current, clock_.NowMillis());
    } else {
      if (!current.stream.enabled) {
        return Status::InvalidArgument("Table has no stream to disable: TableName: " +
                                       current.name);
      }
      // The label stays: AWS keeps showing LatestStreamArn of the disabled stream.
      next.stream.enabled = false;
      next.stream.view_type.clear();
    }
  }
  if (deletion_protection) next.deletion_protection = *deletion_protection;
  if (table_class) next.table_class = *table_class;

  // 6. Apply. A new index is filled before the definition naming it is saved, so readers
  // never see a half-built index; a dropped one is removed from the definition first.
  if (created) {
    ASSIGN_OR_RETURN(uint64_t index_id, catalog_.AllocateId());
    for (auto& index : next.indexes) {
      if (index.name == created->name) index.index_id = index_id;
    }
    created->index_id = index_id;
    RETURN_IF_ERROR(store_.BackfillIndex(next, *created));
  }
  Status saved = catalog_.Save(*handle, next);
  if (!saved.ok()) {
    if (created) {
      store_.DropIndex(*created).IgnoreError();  // best effort: the entries are unreachable
    }
    return saved;
  }
  // op_mu() is held exclusively: no write is between the old and the new stream.
  if (capture_ && stream) RETURN_IF_ERROR(capture_->SyncStreams(next));
  if (dropped) {
    Status s = store_.DropIndex(*dropped);
    // The index is gone from the definition; leftover entries are unreachable garbage.
    if (!s.ok())
      SPDLOG_WARN("[{}] DropIndex {}: {}", context.request_id, dropped->name, s.ToString());
  }

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "TableDescription");
  // AWS answers UPDATING; every change here is complete when the call returns.
  WriteTableDescription(w, *handle, "ACTIVE");
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbService::UpdateTimeToLive(const JsonValue& request,
                                                      const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string> table_name, ReadString(request, "TableName"));
  ASSIGN_OR_RETURN(const JsonValue* spec, GetObject(request, "TimeToLiveSpecification"));
  std::optional<bool> enabled;
  std::optional<std::string> attribute;
  if (spec) {
    ASSIGN_OR_RETURN(enabled, GetBool(*spec, "Enabled"));
    ASSIGN_OR_RETURN(attribute, ReadString(*spec, "AttributeName"));
  }
  Constraints c;
  CheckTableNameOrArn(c, table_name, "tableName");
  if (!spec) {
    c.Null("timeToLiveSpecification");
  } else {
    if (!enabled) c.Null("timeToLiveSpecification.enabled");
    if (!attribute) {
      c.Null("timeToLiveSpecification.attributeName");
    } else {
      CheckLength(c, *attribute, "timeToLiveSpecification.attributeName", 1, 255);
    }
  }
  RETURN_IF_ERROR(c.ToStatus());

  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle,
                   FindTable(*table_name, context, /*describe_message=*/true));
  std::unique_lock lock(handle->op_mu());
  if (handle->deleted()) return TableNotFound(handle->def()->name);
  TableDef def = *handle->def();
  if (*enabled) {
    if (def.ttl.enabled && def.ttl.attribute == *attribute) {
      return Status::InvalidArgument("TimeToLive is already enabled");
    }
    if (def.ttl.enabled) {
      return Status::InvalidArgument(
          "TimeToLive is active on a different AttributeName: current AttributeName is " +
          def.ttl.attribute);
    }
  } else {
    if (!def.ttl.enabled) return Status::InvalidArgument("TimeToLive is already disabled");
    if (def.ttl.attribute != *attribute) {
      return Status::InvalidArgument(
          "TimeToLive is active on a different AttributeName: current AttributeName is " +
          def.ttl.attribute);
    }
  }
  def.ttl.enabled = *enabled;
  // The attribute is forgotten on disable: DescribeTimeToLive then shows no AttributeName.
  def.ttl.attribute = *enabled ? *attribute : std::string();
  RETURN_IF_ERROR(catalog_.Save(*handle, std::move(def)));

  // The response echoes the request's shape, not DescribeTimeToLive's.
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "TimeToLiveSpecification");
  w.StartObject();
  WriteKey(w, "Enabled");
  w.Bool(*enabled);
  WriteKey(w, "AttributeName");
  WriteString(w, *attribute);
  w.EndObject();
  w.EndObject();
  return Finish(buffer);
}

Result<std::shared_ptr<TableHandle>> DynamoDbService::FindRequestTable(
    const JsonValue& request, const RequestContext& context) const {
  ASSIGN_OR_RETURN(std::optional<std::string> table_name, ReadString(request, "TableName"));
  Constraints c;
  CheckTableNameOrArn(c, table_name, "tableName");
  RETURN_IF_ERROR(c.ToStatus());
  return FindTable(*table_name, context, /*describe_message=*/true);
}

Result<std::string> DynamoDbService::DescribeTimeToLive(const JsonValue& request,
                                                        const RequestContext& context) {
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle, FindRequestTable(request, context));
  auto def = handle->def();
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "TimeToLiveDescription");
  w.StartObject();
  WriteKey(w, "TimeToLiveStatus");
  WriteString(w, def->ttl.enabled ? "ENABLED" : "DISABLED");
  if (def->ttl.enabled) {
    WriteKey(w, "AttributeName");
    WriteString(w, def->ttl.attribute);
  }
  w.EndObject();
  w.EndObject();
  return Finish(buffer);
}

namespace {

// Finds the table named by a tagging call's ResourceArn.
Result<std::shared_ptr<TableHandle>> FindTaggedTable(const table::Catalog& catalog,
                                                     const std::optional<std::string>& arn,
                                                     const RequestContext& context) {
  ASSIGN_OR_RETURN(TableArnParts parts, ParseTableArn(arn, context));
  auto handle = catalog.Get(parts.account, parts.region, parts.name);
  if (!handle.ok()) {
    // Sic: AWS spells it "ResourcArn".
    return Status::NotFound("Requested resource not found: ResourcArn: " + *arn + " not found");
  }
  return handle;
}

}  // namespace

Result<std::string> DynamoDbService::TagResource(const JsonValue& request,
                                                 const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string> arn, ReadString(request, "ResourceArn"));
  ASSIGN_OR_RETURN(auto tags, ParseTags(request));
  if (!arn) return Status::InvalidArgument("Invalid TableArn");
  Constraints c;
  CheckLength(c, *arn, "resourceArn", 1, 1283);
  if (!tags) {
    c.Null("tags");
  } else {
    CheckTags(c, *tags, "tags");
  }
  RETURN_IF_ERROR(c.ToStatus());
  if (tags->empty()) {
    return Status::InvalidArgument("Atleast one Tag needs to be provided as Input.");
  }
  RETURN_IF_ERROR(CheckTagSemantics(*tags));
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle, FindTaggedTable(catalog_, arn, context));
  std::unique_lock lock(handle->op_mu());
  if (handle->deleted()) {
    return Status::NotFound("Requested resource not found: ResourcArn: " + *arn + " not found");
  }
  TableDef def = *handle->def();
  for (const auto& tag : *tags) def.tags[*tag.key] = *tag.value;
  if (def.tags.size() > kMaxTags) return TooManyTags();
  RETURN_IF_ERROR(catalog_.Save(*handle, std::move(def)));
  return std::string("{}");
}

Result<std::string> DynamoDbService::UntagResource(const JsonValue& request,
                                                   const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string> arn, ReadString(request, "ResourceArn"));
  ASSIGN_OR_RETURN(const JsonValue* list, GetArray(request, "TagKeys"));
  std::vector<std::string> keys;
  if (list) {
    for (const JsonValue& v : list->GetArray()) {
      ASSIGN_OR_RETURN(std::string_view key, AsString(v));
      keys.emplace_back(key);
    }
  }
  if (!arn) return Status::InvalidArgument("Invalid TableArn");
  Constraints c;
  CheckLength(c, *arn, "resourceArn", 1, 1283);
  if (!list) c.Null("tagKeys");
  for (size_t i = 0; i < keys.size(); ++i)
    CheckLength(c, keys[i], Member("tagKeys", i, ""), 1, 128);
  RETURN_IF_ERROR(c.ToStatus());
  if (keys.empty()) {
    return Status::InvalidArgument("Atleast one Tag Key needs to be provided as Input.");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle, FindTaggedTable(catalog_, arn, context));
  std::unique_lock lock(handle->op_mu());
  if (handle->deleted()) {
    return Status::NotFound("Requested resource not found: ResourcArn: " + *arn + " not found");
  }
  TableDef def = *handle->def();
  for (const auto& key : keys) def.tags.erase(key);
  RETURN_IF_ERROR(catalog_.Save(*handle, std::move(def)));
  return std::string("{}");
}

Result<std::string> DynamoDbService::ListTagsOfResource(const JsonValue& request,
                                                        const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string> arn, ReadString(request, "ResourceArn"));
  // At most 50 tags: one page always holds them all, so NextToken is accepted and ignored.
  RETURN_IF_ERROR(GetString(request, "NextToken"));
  if (!arn) return Status::InvalidArgument("Invalid TableArn");
  Constraints c;
  CheckLength(c, *arn, "resourceArn", 1, 1283);
  RETURN_IF_ERROR(c.ToStatus());
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle, FindTaggedTable(catalog_, arn, context));
  auto def = handle->def();
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "Tags");
  w.StartArray();
  for (const auto& [key, value] : def->tags) {
    w.StartObject();
    WriteKey(w, "Key");
    WriteString(w, key);
    WriteKey(w, "Value");
    WriteString(w, value);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbService::DescribeLimits(const JsonValue& request,
                                                    const RequestContext& context) {
  // AWS's default account quotas; salespipe enforces none of them.
  return std::string(
      "{\"AccountMaxReadCapacityUnits\":80000,\"AccountMaxWriteCapacityUnits\":80000,"
      "\"TableMaxReadCapacityUnits\":40000,\"TableMaxWriteCapacityUnits\":40000}");
}

Result<std::string> DynamoDbService::DescribeEndpoints(const JsonValue& request,
                                                       const RequestContext& context) {
  // SDKs only use endpoint discovery without an explicit endpoint URL, so this address is
  // informational for clients of salespipe.
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "Endpoints");
  w.StartArray();
  w.StartObject();
  WriteKey(w, "Address");
  WriteString(w, "dynamodb." + context.region + ".amazonaws.com");
  WriteKey(w, "CachePeriodInMinutes");
  w.Int64(1440);
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return Finish(buffer);
}

namespace {

void WriteContinuousBackups(JsonWriter& w, bool pitr_enabled, std::optional<int64_t> period,
                            int64_t now_millis) {
  w.StartObject();
  WriteKey(w, "ContinuousBackupsDescription");
  w.StartObject();
  WriteKey(w, "ContinuousBackupsStatus");
  WriteString(w, "ENABLED");
  WriteKey(w, "PointInTimeRecoveryDescription");
  w.StartObject();
  WriteKey(w, "PointInTimeRecoveryStatus");
  WriteString(w, pitr_enabled ? "ENABLED" : "DISABLED");
  if (pitr_enabled) {
    WriteKey(w, "RecoveryPeriodInDays");
    w.Int64(period.value_or(kDefaultRecoveryPeriodDays));
    WriteKey(w, "EarliestRestorableDateTime");
    WriteEpochSeconds(w, now_millis);
    WriteKey(w, "LatestRestorableDateTime");
    WriteEpochSeconds(w, now_millis);
  }
  w.EndObject();
  w.EndObject();
  w.EndObject();
}

}  // namespace

Result<std::string> DynamoDbService::DescribeContinuousBackups(const JsonValue& request,
                                                               const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string> table_name, ReadString(request, "TableName"));
  Constraints c;
  CheckTableNameOrArn(c, table_name, "tableName");
  RETURN_IF_ERROR(c.ToStatus());
  auto handle = FindTable(*table_name, context);
  if (!handle.ok()) {
    // The backup APIs have their own not-found error.
    return Status::NotFound("Table not found: " + *table_name)
        .WithAwsCode("TableNotFoundException");
  }
  // Point-in-time recovery is not emulated and TableDef has no flag for it.
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  WriteContinuousBackups(w, /*pitr_enabled=*/false, std::nullopt, clock_.NowMillis());
  return Finish(buffer);
}

Result<std::string> DynamoDbService::UpdateContinuousBackups(const JsonValue& request,
                                                             const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string> table_name, ReadString(request, "TableName"));
  ASSIGN_OR_RETURN(const JsonValue* spec, GetObject(request, "PointInTimeRecoverySpecification"));
  std::optional<bool> enabled;
  std::optional<int64_t> period;
  if (spec) {
    ASSIGN_OR_RETURN(enabled, GetBool(*spec, "PointInTimeRecoveryEnabled"));
    ASSIGN_OR_RETURN(period, GetInteger(*spec, "RecoveryPeriodInDays"));
  }
  Constraints c;
  CheckTableNameOrArn(c, table_name, "tableName");
  if (!spec) {
    c.Null("pointInTimeRecoverySpecification");
  } else {
    if (!enabled) c.Null("pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled");
    std::string period_path = "pointInTimeRecoverySpecification.recoveryPeriodInDays";
    if (period && *period < 1) {
      c.Bad(std::to_string(*period), period_path,
            "Member must have value greater than or equal to 1");
    }
    if (period && *period > 35) {
      c.Bad(std::to_string(*period), period_path,
            "Member must have value less than or equal to 35");
    }
  }
  RETURN_IF_ERROR(c.ToStatus());
  if (!*enabled && period) {
    return Status::InvalidArgument(
        "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling point-in-time "
        "recovery.");
  }
  auto handle = FindTable(*table_name, context);
  if (!handle.ok()) {
    return Status::NotFound("Table not found: " + *table_name)
        .WithAwsCode("TableNotFoundException");
  }
  // Echoes the requested state; it is not stored (docs/compat/dynamodb.md).
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  WriteContinuousBackups(w, *enabled, period, clock_.NowMillis());
  return Finish(buffer);
}

// --- Kinesis Data Streams destinations ---------------------------------------------------
// Enable answers ENABLING and Disable DISABLING, as AWS does; the change is complete when the
// call returns, so DescribeKinesisStreamingDestination shows ACTIVE/DISABLED at once and the
// boto3 waiter kinesis_streaming_destination_active never sleeps.

namespace {

constexpr std::string_view kPrecisionMember = "ApproximateCreationDateTimePrecision";

struct DestinationRequest {
  std::optional<std::string> table_name;
  std::optional<std::string> stream_arn;
  bool has_configuration = false;
  std::optional<std::string> precision;
};

Result<DestinationRequest> ParseDestinationRequest(const JsonValue& request,
                                                   std::string_view configuration_member,
                                                   std::string_view configuration_path) {
  DestinationRequest r;
  ASSIGN_OR_RETURN(r.table_name, ReadString(request, "TableName"));
  ASSIGN_OR_RETURN(r.stream_arn, ReadString(request, "StreamArn"));
  ASSIGN_OR_RETURN(const JsonValue* configuration, GetObject(request, configuration_member));
  if (configuration) {
    r.has_configuration = true;
    ASSIGN_OR_RETURN(r.precision, ReadString(*configuration, kPrecisionMember));
  }
  Constraints c;
  CheckTableNameOrArn(c, r.table_name, "tableName");
  if (!r.stream_arn) {
    c.Null("streamArn");
  } else {
    CheckLength(c, *r.stream_arn, "streamArn", 37, 1024);
  }
  CheckEnum(c, r.precision, Child(configuration_path, "approximateCreationDateTimePrecision"),
            {"MILLISECOND", "MICROSECOND"});
  RETURN_IF_ERROR(c.ToStatus());
  return r;
}

std::string_view PrecisionName(bool micros) { return micros ? "MICROSECOND" : "MILLISECOND"; }

}  // namespace

Result<std::string> DynamoDbService::EnableKinesisStreamingDestination(
    const JsonValue& request, const RequestContext& context) {
  return SetKinesisDestination(request, context, /*enable=*/true);
}

Result<std::string> DynamoDbService::DisableKinesisStreamingDestination(
    const JsonValue& request, const RequestContext& context) {
  return SetKinesisDestination(request, context, /*enable=*/false);
}

Result<std::string> DynamoDbService::SetKinesisDestination(const JsonValue& request,
                                                           const RequestContext& context,
                                                           bool enable) {
  ASSIGN_OR_RETURN(DestinationRequest r,
                   ParseDestinationRequest(request, "EnableKinesisStreamingConfiguration",
                                           "enableKinesisStreamingConfiguration"));
  if (capture_ == nullptr || connector_ == nullptr) {
    return Status::InvalidArgument("Kinesis streaming destinations are not available");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle,
                   FindTable(*r.table_name, context, /*describe_message=*/true));
  // AWS lists ResourceNotFoundException for this operation; whether a missing Kinesis stream
  // is reported this way or as ENABLE_FAILED later is unverified (docs/compat/dynamodb.md).
  std::optional<std::string> log_name = cdc::KinesisLogNameForArn(*r.stream_arn);
  if (!log_name) return Status::InvalidArgument("Invalid StreamArn: " + *r.stream_arn);
  if (enable && !capture_->log().FindStream(*log_name).ok()) {
    return Status::NotFound("Requested resource not found: Stream: " + *r.stream_arn +
                            " not found");
  }
  // Exclusive: no write is in flight while the destination's start point is taken.
  std::unique_lock lock(handle->op_mu());
  if (handle->deleted()) return TableNotFound(handle->def()->name);
  TableDef def = *handle->def();
  auto it = std::find_if(def.kinesis_destinations.begin(), def.kinesis_destinations.end(),
                         [&](const table::KinesisDestination& d) {
                           return d.stream_arn == *r.stream_arn;
                         });
  const bool micros = r.precision.value_or("MILLISECOND") == "MICROSECOND";
  if (enable) {
    if (it != def.kinesis_destinations.end() && it->active) {
      return Status::InvalidArgument(
          "Table is not in a valid state to enable Kinesis Streaming Destination:"
          "DestinationStatus must be DISABLED or ENABLE_FAILED to perform ENABLE operation.");
    }
    RETURN_IF_ERROR(connector_->StartDestination(def, *r.stream_arn));
    if (it == def.kinesis_destinations.end()) {
      def.kinesis_destinations.push_back({.stream_arn = *r.stream_arn});
      it = def.kinesis_destinations.end() - 1;
    }
    it->active = true;
    it->microsecond_precision = micros;
  } else {
    if (it == def.kinesis_destinations.end() || !it->active) {
      return Status::InvalidArgument(
          "Table is not in a valid state to disable Kinesis Streaming Destination:"
          "DestinationStatus must be ACTIVE to perform DISABLE operation.");
    }
    // Changes made before the disable are still delivered (no write is in flight).
    RETURN_IF_ERROR(connector_->Drain(def, *it));
    it->active = false;
  }
  const bool shown_micros = it->microsecond_precision;
  RETURN_IF_ERROR(catalog_.Save(*handle, std::move(def)));
  if (enable) connector_->Wake();

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "TableName");
  WriteString(w, handle->def()->name);
  WriteKey(w, "StreamArn");
  WriteString(w, *r.stream_arn);
  WriteKey(w, "DestinationStatus");
  WriteString(w, enable ? "ENABLING" : "DISABLING");
  WriteKey(w, "EnableKinesisStreamingConfiguration");
  w.StartObject();
  if (r.precision || enable) {
    WriteKey(w, kPrecisionMember);
    WriteString(w, PrecisionName(shown_micros));
  }
  w.EndObject();
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbService::DescribeKinesisStreamingDestination(
    const JsonValue& request, const RequestContext& context) {
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle, FindRequestTable(request, context));
  auto def = handle->def();
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "TableName");
  WriteString(w, def->name);
  WriteKey(w, "KinesisDataStreamDestinations");
  w.StartArray();
  for (const auto& d : def->kinesis_destinations) {
    w.StartObject();
    WriteKey(w, "StreamArn");
    WriteString(w, d.stream_arn);
    WriteKey(w, "DestinationStatus");
    WriteString(w, d.active ? "ACTIVE" : "DISABLED");
    WriteKey(w, kPrecisionMember);
    WriteString(w, PrecisionName(d.microsecond_precision));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbService::UpdateKinesisStreamingDestination(
    const JsonValue& request, const RequestContext& context) {
  ASSIGN_OR_RETURN(DestinationRequest r,
                   ParseDestinationRequest(request, "UpdateKinesisStreamingConfiguration",
                                           "updateKinesisStreamingConfiguration"));
  if (!r.has_configuration || !r.precision) {
    return Status::InvalidArgument(
        "Invalid Request: UpdateKinesisStreamingConfiguration must have at least one "
        "parameter");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle,
                   FindTable(*r.table_name, context, /*describe_message=*/true));
  std::unique_lock lock(handle->op_mu());
  if (handle->deleted()) return TableNotFound(handle->def()->name);
  TableDef def = *handle->def();
  auto it = std::find_if(def.kinesis_destinations.begin(), def.kinesis_destinations.end(),
                         [&](const table::KinesisDestination& d) {
                           return d.stream_arn == *r.stream_arn && d.active;
                         });
  if (it == def.kinesis_destinations.end()) {
    return Status::InvalidArgument(
        "Table is not in a valid state to update Kinesis Streaming Destination:"
        "DestinationStatus must be ACTIVE to perform UPDATE operation.");
  }
  const bool micros = *r.precision == "MICROSECOND";
  if (it->microsecond_precision == micros) {
    return Status::InvalidArgument(
        "Invalid Request: Precision is already set to the desired value of " + *r.precision +
        " for this Kinesis Data Streams destination");
  }
  it->microsecond_precision = micros;
  RETURN_IF_ERROR(catalog_.Save(*handle, std::move(def)));

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "TableName");
  WriteString(w, handle->def()->name);
  WriteKey(w, "StreamArn");
  WriteString(w, *r.stream_arn);
  WriteKey(w, "DestinationStatus");
  w.String("UPDATING");
  WriteKey(w, "UpdateKinesisStreamingConfiguration");
  w.StartObject();
  WriteKey(w, kPrecisionMember);
  WriteString(w, *r.precision);
  w.EndObject();
  w.EndObject();
  return Finish(buffer);
}

}  // namespace salespipe::services::dynamodb
