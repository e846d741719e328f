#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "table/attribute_value.h"

// The binary form of items as stored in RocksDB (the value under an item's key). Pure
// functions; thread-safe. The format is documented in item_codec.cc.
namespace salespipe::table {

// Decoding gives up below this many levels of L/M nesting (DynamoDB allows 32), so that
// corrupt input cannot exhaust the stack.
inline constexpr int kMaxDecodeDepth = 128;

// Returns the encoding of `item`. Never fails.
std::string EncodeItem(const Item& item);
// Appends what EncodeItem returns to `out`.
void EncodeItem(const Item& item, std::string* out);

// Decodes bytes written by EncodeItem. Never reads outside `bytes`, whatever they hold.
// Errors: kInternal "corrupt item" if `bytes` is not a whole, well-formed encoding.
Result<Item> DecodeItem(std::string_view bytes);

// Appends the encoding of one value to `*out`.
void EncodeValue(const AttributeValue& value, std::string* out);

// Decodes one value written by EncodeValue from the front of `*in` and advances `*in` past it.
// Errors: kInternal "corrupt item" on malformed input; `*in` is then unspecified.
Result<AttributeValue> DecodeValue(std::string_view* in);

// Streaming access to an encoding, for readers that format items without building them (the
// change records of services/dynamodb_streams). Callbacks come in encoding order: a set's or
// list's members, a map's entries by name ascending.
class EncodedValueVisitor {
 public:
  virtual ~EncodedValueVisitor() = default;
  virtual void Null() = 0;
  virtual void Bool(bool value) = 0;
  // S, N (canonical decimal text) or B (raw bytes).
  virtual void Scalar(AttributeType type, std::string_view bytes) = 0;
  // SS, NS or BS: BeginSet, one SetMember per member, EndSet.
  virtual void BeginSet(AttributeType type) = 0;
  virtual void SetMember(std::string_view bytes) = 0;
  virtual void EndSet() = 0;
  virtual void BeginList() = 0;
  virtual void EndList() = 0;
  // M: BeginMap, then per entry Key and the value's callbacks, EndMap.
  virtual void BeginMap() = 0;
  virtual void Key(std::string_view name) = 0;
  virtual void EndMap() = 0;
};

// Walks one value written by EncodeValue from the front of `*in` through `visitor` and
// advances `*in` past it. Errors: kInternal "corrupt item"; callbacks made before the error
// are not undone.
Status VisitValue(std::string_view* in, EncodedValueVisitor& visitor);

// A top-level attribute of an encoded item: its name and the encoding of its value (for
// VisitValue; EncodeValue's bytes).
struct EncodedEntry {
  std::string_view name;
  std::string_view value;
};
// The attributes of an item encoding, by name ascending, without decoding the values; the
// views point into `bytes`. Errors: kInternal "corrupt item" (as DecodeItem).
Result<std::vector<EncodedEntry>> SplitItem(std::string_view bytes);
// Appends the item encoding of `entries` (names strictly ascending) to `*out`: what EncodeItem
// returns for the item they describe.
void JoinItem(const std::vector<EncodedEntry>& entries, std::string* out);

}  // namespace salespipe::table
