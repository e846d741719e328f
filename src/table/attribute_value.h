#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace salespipe::table {

// DynamoDB attribute types. Persisted (item encoding tags): append only, never renumber.
enum class AttributeType : uint8_t {
  kNull = 0,
  kString = 1,
  kNumber = 2,
  kBinary = 3,
  kBool = 4,
  kStringSet = 5,
  kNumberSet = 6,
  kBinarySet = 7,
  kList = 8,
  kMap = 9,
};

// The wire name of a type: "S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M".
std::string_view TypeName(AttributeType type);

class AttributeValue;
using AttributeMap = std::map<std::string, AttributeValue, std::less<>>;
using Item = AttributeMap;

// One DynamoDB value. A plain value type.
//   S: `scalar` holds UTF-8 text.  N: `scalar` holds the canonical decimal text
//   (Decimal::ToString).  B: `scalar` holds raw bytes.  BOOL: `boolean`.
//   SS/NS/BS: `set` holds the members (canonical text for NS, raw bytes for BS), sorted
//   bytewise and unique, non-empty once validated.  L: `list`.  M: `map`.
class AttributeValue {
 public:
  AttributeValue() = default;

  static AttributeValue Null();
  static AttributeValue String(std::string s);
  static AttributeValue Number(std::string canonical);  // REQUIRES: canonical decimal text
  static AttributeValue Binary(std::string bytes);
  static AttributeValue Bool(bool b);
  // Sorts and removes duplicates.
  static AttributeValue Set(AttributeType set_type, std::vector<std::string> members);
  static AttributeValue List(std::vector<AttributeValue> list);
  static AttributeValue Map(AttributeMap map);

  AttributeType type() const { return type_; }
  bool is_set() const {
    return type_ == AttributeType::kStringSet || type_ == AttributeType::kNumberSet ||
           type_ == AttributeType::kBinarySet;
  }
  // S/N/B payload.
  const std::string& scalar() const { return scalar_; }
  bool boolean() const { return boolean_; }
  const std::vector<std::string>& set() const { return set_; }
  std::vector<std::string>& mutable_set() { return set_; }
  const std::vector<AttributeValue>& list() const { return list_; }
  std::vector<AttributeValue>& mutable_list() { return list_; }
  const AttributeMap& map() const { return map_; }
  AttributeMap& mutable_map() { return map_; }

  // Deep equality; sets compare as sets (both are kept sorted), numbers by canonical text.
  bool operator==(const AttributeValue& other) const;
  bool operator!=(const AttributeValue& other) const { return !(*this == other); }

  // DynamoDB's billed size of this value (spec 2.4), without the attribute name.
  size_t SizeBytes() const;

 private:
  AttributeType type_ = AttributeType::kNull;
  bool boolean_ = false;
  std::string scalar_;
  std::vector<std::string> set_;
  std::vector<AttributeValue> list_;
  AttributeMap map_;
};

// DynamoDB's billed size of an item: attribute name bytes plus value sizes.
size_t ItemSizeBytes(const Item& item);

// The element type of a set type (kStringSet -> kString, ...).
AttributeType SetElementType(AttributeType set_type);

}  // namespace salespipe::table
