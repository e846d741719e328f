#include "table/attribute_value.h"

#include <algorithm>

#include "common/decimal.h"

namespace salespipe::table {

std::string_view TypeName(AttributeType type) {
  switch (type) {
    case AttributeType::kNull: return "NULL";
    case AttributeType::kString: return "S";
    case AttributeType::kNumber: return "N";
    case AttributeType::kBinary: return "B";
    case AttributeType::kBool: return "BOOL";
    case AttributeType::kStringSet: return "SS";
    case AttributeType::kNumberSet: return "NS";
    case AttributeType::kBinarySet: return "BS";
    case AttributeType::kList: return "L";
    case AttributeType::kMap: return "M";
  }
  return "?";
}

AttributeType SetElementType(AttributeType set_type) {
  switch (set_type) {
    case AttributeType::kStringSet: return AttributeType::kString;
    case AttributeType::kNumberSet: return AttributeType::kNumber;
    case AttributeType::kBinarySet: return AttributeType::kBinary;
    default: return set_type;
  }
}

AttributeValue AttributeValue::Null() {
  AttributeValue v;
  v.type_ = AttributeType::kNull;
  v.boolean_ = true;
  return v;
}

AttributeValue AttributeValue::String(std::string s) {
  AttributeValue v;
  v.type_ = AttributeType::kString;
  v.scalar_ = std::move(s);
  return v;
}

AttributeValue AttributeValue::Number(std::string canonical) {
  AttributeValue v;
  v.type_ = AttributeType::kNumber;
  v.scalar_ = std::move(canonical);
  return v;
}

AttributeValue AttributeValue::Binary(std::string bytes) {
  AttributeValue v;
  v.type_ = AttributeType::kBinary;
  v.scalar_ = std::move(bytes);
  return v;
}

AttributeValue AttributeValue::Bool(bool b) {
  AttributeValue v;
  v.type_ = AttributeType::kBool;
  v.boolean_ = b;
  return v;
}

AttributeValue AttributeValue::Set(AttributeType set_type, std::vector<std::string> members) {
  AttributeValue v;
  v.type_ = set_type;
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  v.set_ = std::move(members);
  return v;
}

AttributeValue AttributeValue::List(std::vector<AttributeValue> list) {
  AttributeValue v;
  v.type_ = AttributeType::kList;
  v.list_ = std::move(list);
  return v;
}

AttributeValue AttributeValue::Map(AttributeMap map) {
  AttributeValue v;
  v.type_ = AttributeType::kMap;
  v.map_ = std::move(map);
  return v;
}

bool AttributeValue::operator==(const AttributeValue& other) const {
  if (type_ != other.type_) return false;
  switch (type_) {
    case AttributeType::kNull: return true;
    case AttributeType::kBool: return boolean_ == other.boolean_;
    case AttributeType::kString:
    case AttributeType::kNumber:
    case AttributeType::kBinary: return scalar_ == other.scalar_;
    case AttributeType::kStringSet:
    case AttributeType::kNumberSet:
    case AttributeType::kBinarySet: return set_ == other.set_;
    case AttributeType::kList: return list_ == other.list_;
    case AttributeType::kMap: return map_ == other.map_;
  }
  return false;
}

namespace {
// Decimal::SizeBytes of a canonical number, without parsing it: this runs for every number
// of every written item. Significant digits are the digits less leading and trailing zeros.
size_t NumberSize(const std::string& canonical) {
  size_t first = std::string::npos, last = 0, digits = 0;
  for (size_t i = 0; i < canonical.size(); ++i) {
    char c = canonical[i];
    if (c >= '1' && c <= '9') {
      if (first == std::string::npos) first = i;
      last = i;
    }
  }
  if (first == std::string::npos) return Decimal().SizeBytes();  // zero
  for (size_t i = first; i <= last; ++i) digits += (canonical[i] >= '0' && canonical[i] <= '9');
  return (digits + 1) / 2 + 1;
}
}  // namespace

size_t AttributeValue::SizeBytes() const {
  switch (type_) {
    case AttributeType::kNull:
    case AttributeType::kBool: return 1;
    case AttributeType::kString:
    case AttributeType::kBinary: return scalar_.size();
    case AttributeType::kNumber: return NumberSize(scalar_);
    case AttributeType::kStringSet:
    case AttributeType::kBinarySet: {
      size_t n = 0;
      for (const auto& m : set_) n += m.size();
      return n;
    }
    case AttributeType::kNumberSet: {
      size_t n = 0;
      for (const auto& m : set_) n += NumberSize(m);
      return n;
    }
    case AttributeType::kList: {
      size_t n = 3;
      for (const auto& e : list_) n += 1 + e.SizeBytes();
      return n;
    }
    case AttributeType::kMap: {
      size_t n = 3;
      for (const auto& [k, e] : map_) n += 1 + k.size() + e.SizeBytes();
      return n;
    }
  }
  return 0;
}

size_t ItemSizeBytes(const Item& item) {
  size_t n = 0;
  for (const auto& [name, value] : item) n += name.size() + value.SizeBytes();
  return n;
}

}  // namespace salespipe::table
