#include "services/dynamodb/ops_common.h"

#include "services/dynamodb/attribute_json.h"

namespace salespipe::services::dynamodb {

Result<CapacityMode> ParseCapacityMode(const JsonValue& request, ValidationErrors& errors) {
  ASSIGN_OR_RETURN(std::optional<std::string_view> mode, GetString(request, "ReturnConsumedCapacity"));
  if (!mode || *mode == "NONE") return CapacityMode::kNone;
  if (*mode == "TOTAL") return CapacityMode::kTotal;
  if (*mode == "INDEXES") return CapacityMode::kIndexes;
  errors.AddConstraint("'" + std::string(*mode) + "'", "returnConsumedCapacity",
                       "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]");
  return CapacityMode::kNone;
}

void CheckTableName(std::optional<std::string_view> name, std::string_view path,
                    ValidationErrors& errors) {
  if (!name) {
    errors.AddNull(path);
    return;
  }
  if (name->substr(0, 4) == "arn:") return;  // resolved (or rejected) by FindTable
  std::string quoted = "'" + std::string(*name) + "'";
  if (name->size() < 3) {
    errors.AddConstraint(quoted, path, "Member must have length greater than or equal to 3");
  }
  if (name->size() > 255) {
    errors.AddConstraint(quoted, path, "Member must have length less than or equal to 255");
  }
  for (char c : *name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) {
      errors.AddConstraint(quoted, path,
                           "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
      break;
    }
  }
}

void CheckEnum(std::optional<std::string_view> value, std::string_view path,
               std::initializer_list<std::string_view> allowed, ValidationErrors& errors) {
  if (!value) return;
  std::string set = "[";
  bool found = false;
  for (auto a : allowed) {
    if (set.size() > 1) set += ", ";
    set += a;
    if (a == *value) found = true;
  }
  set += "]";
  if (!found) {
    errors.AddConstraint("'" + std::string(*value) + "'", path,
                         "Member must satisfy enum value set: " + set);
  }
}

IndexUnits IndexWriteUnits(const table::TableDef& def, const std::optional<table::Item>& old_item,
                           const std::optional<table::Item>& new_item) {
  IndexUnits units;
  size_t bytes = std::max(old_item ? table::ItemSizeBytes(*old_item) : 0,
                          new_item ? table::ItemSizeBytes(*new_item) : 0);
  for (const auto& index : def.indexes) {
    bool touched = (old_item && table::TableStore::IndexesItem(def, index, *old_item)) ||
                   (new_item && table::TableStore::IndexesItem(def, index, *new_item));
    if (!touched) continue;
    (index.local ? units.local : units.global)[index.name] += WriteUnits(bytes);
  }
  return units;
}

namespace {
void WriteIndexUnits(JsonWriter& w, const char* member, const std::map<std::string, double>& units) {
  if (units.empty()) return;
  w.Key(member);
  w.StartObject();
  for (const auto& [name, u] : units) {
    WriteKey(w, name);
    w.StartObject();
    w.Key("CapacityUnits");
    w.Double(u);
    w.EndObject();
  }
  w.EndObject();
}
}  // namespace

void WriteConsumedCapacity(JsonWriter& w, CapacityMode mode, std::string_view table_name,
                           double units, bool read, const IndexUnits* indexes) {
  if (mode == CapacityMode::kNone) return;
  double total = units;
  if (indexes) {
    for (const auto& [name, u] : indexes->global) total += u;
    for (const auto& [name, u] : indexes->local) total += u;
  }
  w.Key("ConsumedCapacity");
  w.StartObject();
  w.Key("TableName");
  WriteString(w, table_name);
  w.Key("CapacityUnits");
  w.Double(total);
  w.Key(read ? "ReadCapacityUnits" : "WriteCapacityUnits");
  w.Double(total);
  if (mode == CapacityMode::kIndexes) {
    w.Key("Table");
    w.StartObject();
    w.Key("CapacityUnits");
    w.Double(units);
    w.EndObject();
    if (indexes) {
      WriteIndexUnits(w, "GlobalSecondaryIndexes", indexes->global);
      WriteIndexUnits(w, "LocalSecondaryIndexes", indexes->local);
    }
  }
  w.EndObject();
}

std::string ItemDetails(const table::Item& item) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("Item");
  WriteAttributeMap(w, item);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace salespipe::services::dynamodb
