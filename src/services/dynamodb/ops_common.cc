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

void WriteConsumedCapacity(JsonWriter& w, CapacityMode mode, std::string_view table_name,
                           double units, bool read) {
  if (mode == CapacityMode::kNone) return;
  w.Key("ConsumedCapacity");
  w.StartObject();
  w.Key("TableName");
  WriteString(w, table_name);
  w.Key("CapacityUnits");
  w.Double(units);
  if (read) {
    w.Key("ReadCapacityUnits");
  } else {
    w.Key("WriteCapacityUnits");
  }
  w.Double(units);
  if (mode == CapacityMode::kIndexes) {
    w.Key("Table");
    w.StartObject();
    w.Key("CapacityUnits");
    w.Double(units);
    w.EndObject();
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
