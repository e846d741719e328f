#include "services/dynamodb/attribute_json.h"

#include "common/crypto.h"
#include "common/decimal.h"

namespace salespipe::services::dynamodb {
namespace {

using table::AttributeType;
using table::AttributeValue;

constexpr int kMaxDepth = 32;

Status Invalid(std::string msg) { return Status::InvalidArgument(std::move(msg)); }

Result<std::string> ParseNumber(const JsonValue& v) {
  ASSIGN_OR_RETURN(std::string_view text, AsString(v));
  ASSIGN_OR_RETURN(Decimal d, Decimal::Parse(text));
  return d.ToString();
}

Result<std::string> ParseBinary(const JsonValue& v) {
  ASSIGN_OR_RETURN(std::string_view text, AsString(v));
  std::optional<std::string> bytes = Base64Decode(text);
  if (!bytes) return SerializationError("Base64 encoded length is expected a multiple of 4 bytes but found: " + std::to_string(text.size()));
  return *bytes;
}

Result<AttributeValue> Parse(const JsonValue& json, int depth);

Result<AttributeValue> ParseSet(AttributeType type, const JsonValue& v) {
  if (!v.IsArray()) {
    if (v.IsObject()) return SerializationError("Start of structure or map found where not expected.");
    return SerializationError(std::string(JsonTypeToken(v)) + " cannot be converted to a list");
  }
  std::vector<std::string> members;
  members.reserve(v.Size());
  for (const auto& e : v.GetArray()) {
    switch (type) {
      case AttributeType::kStringSet: {
        ASSIGN_OR_RETURN(std::string_view s, AsString(e));
        members.emplace_back(s);
        break;
      }
      case AttributeType::kNumberSet: {
        ASSIGN_OR_RETURN(std::string n, ParseNumber(e));
        members.push_back(std::move(n));
        break;
      }
      default: {
        ASSIGN_OR_RETURN(std::string b, ParseBinary(e));
        members.push_back(std::move(b));
        break;
      }
    }
  }
  if (members.empty() && type == AttributeType::kBinarySet) {
    return Invalid("One or more parameter values were invalid: Binary sets should not be empty");
  }
  if (members.empty()) {
    const char* what = type == AttributeType::kStringSet   ? "string"
                       : type == AttributeType::kNumberSet ? "number"
                                                           : "binary";
    return Invalid(std::string("One or more parameter values were invalid: An ") + what +
                   " set  may not be empty");
  }
  size_t count = members.size();
  AttributeValue set = AttributeValue::Set(type, std::move(members));
  if (set.set().size() != count) {
    return Invalid("One or more parameter values were invalid: Input collection contains duplicates");
  }
  return set;
}

Result<AttributeValue> Parse(const JsonValue& json, int depth) {
  if (depth > kMaxDepth) return Invalid("Nesting Levels have exceeded supported limits");
  RETURN_IF_ERROR(ExpectObject(json));
  const JsonValue* chosen = nullptr;
  std::string_view type;
  int set_count = 0;
  for (const auto& m : json.GetObject()) {
    if (m.value.IsNull()) continue;
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (name == "S" || name == "N" || name == "B" || name == "BOOL" || name == "NULL" ||
        name == "SS" || name == "NS" || name == "BS" || name == "L" || name == "M") {
      ++set_count;
      chosen = &m.value;
      type = name;
    }
  }
  if (set_count == 0) {
    return Invalid(
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
  }
  if (set_count > 1) {
    return Invalid(
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
        "the supported datatypes");
  }
  const JsonValue& v = *chosen;
  if (type == "S") {
    ASSIGN_OR_RETURN(std::string_view s, AsString(v));
    return AttributeValue::String(std::string(s));
  }
  if (type == "N") {
    ASSIGN_OR_RETURN(std::string n, ParseNumber(v));
    return AttributeValue::Number(std::move(n));
  }
  if (type == "B") {
    ASSIGN_OR_RETURN(std::string b, ParseBinary(v));
    return AttributeValue::Binary(std::move(b));
  }
  if (type == "BOOL") {
    if (!v.IsBool()) return SerializationError(std::string(JsonTypeToken(v)) + " cannot be converted to Boolean");
    return AttributeValue::Bool(v.GetBool());
  }
  if (type == "NULL") {
    if (!v.IsBool()) return SerializationError(std::string(JsonTypeToken(v)) + " cannot be converted to Boolean");
    if (!v.GetBool()) {
      return Invalid(
          "One or more parameter values were invalid: Null attribute value types must have the "
          "value of true");
    }
    return AttributeValue::Null();
  }
  if (type == "SS") return ParseSet(AttributeType::kStringSet, v);
  if (type == "NS") return ParseSet(AttributeType::kNumberSet, v);
  if (type == "BS") return ParseSet(AttributeType::kBinarySet, v);
  if (type == "L") {
    if (!v.IsArray()) {
      if (v.IsObject()) return SerializationError("Start of structure or map found where not expected.");
      return SerializationError(std::string(JsonTypeToken(v)) + " cannot be converted to a list");
    }
    std::vector<AttributeValue> list;
    list.reserve(v.Size());
    for (const auto& e : v.GetArray()) {
      ASSIGN_OR_RETURN(AttributeValue element, Parse(e, depth + 1));
      list.push_back(std::move(element));
    }
    return AttributeValue::List(std::move(list));
  }
  // M
  RETURN_IF_ERROR(ExpectObject(v));
  table::AttributeMap map;
  for (const auto& m : v.GetObject()) {
    ASSIGN_OR_RETURN(AttributeValue element, Parse(m.value, depth + 1));
    map.insert_or_assign(std::string(m.name.GetString(), m.name.GetStringLength()),
                         std::move(element));
  }
  return AttributeValue::Map(std::move(map));
}

}  // namespace

Result<AttributeValue> ParseAttributeValue(const JsonValue& json) { return Parse(json, 1); }

Result<table::Item> ParseAttributeMap(const JsonValue& json) {
  RETURN_IF_ERROR(ExpectObject(json));
  table::Item item;
  for (const auto& m : json.GetObject()) {
    ASSIGN_OR_RETURN(AttributeValue value, Parse(m.value, 1));
    item.insert_or_assign(std::string(m.name.GetString(), m.name.GetStringLength()),
                          std::move(value));
  }
  return item;
}

void WriteAttributeValue(JsonWriter& w, const AttributeValue& value) {
  w.StartObject();
  switch (value.type()) {
    case AttributeType::kString:
      w.Key("S");
      WriteString(w, value.scalar());
      break;
    case AttributeType::kNumber:
      w.Key("N");
      WriteString(w, value.scalar());
      break;
    case AttributeType::kBinary:
      w.Key("B");
      WriteString(w, Base64Encode(value.scalar()));
      break;
    case AttributeType::kBool:
      w.Key("BOOL");
      w.Bool(value.boolean());
      break;
    case AttributeType::kNull:
      w.Key("NULL");
      w.Bool(true);
      break;
    case AttributeType::kStringSet:
    case AttributeType::kNumberSet:
    case AttributeType::kBinarySet: {
      WriteKey(w, table::TypeName(value.type()));
      w.StartArray();
      bool binary = value.type() == AttributeType::kBinarySet;
      for (const auto& m : value.set()) WriteString(w, binary ? Base64Encode(m) : m);
      w.EndArray();
      break;
    }
    case AttributeType::kList:
      w.Key("L");
      w.StartArray();
      for (const auto& e : value.list()) WriteAttributeValue(w, e);
      w.EndArray();
      break;
    case AttributeType::kMap:
      w.Key("M");
      WriteAttributeMap(w, value.map());
      break;
  }
  w.EndObject();
}

void WriteAttributeMap(JsonWriter& w, const table::Item& item) {
  w.StartObject();
  for (const auto& [name, value] : item) {
    WriteKey(w, name);
    WriteAttributeValue(w, value);
  }
  w.EndObject();
}

}  // namespace salespipe::services::dynamodb
