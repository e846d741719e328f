#pragma once

#include <string>
#include <string_view>

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

}  // namespace salespipe::table
