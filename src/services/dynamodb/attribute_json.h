#pragma once

#include <string_view>

#include "common/status.h"
#include "services/json.h"
#include "table/attribute_value.h"

namespace salespipe::services::dynamodb {

// Decodes a wire AttributeValue (`{"S": "x"}`, `{"N": "1.50"}`, `{"M": {...}}`, ...) with
// DynamoDB's validation: exactly one type, numbers exact and in range (canonicalized), sets
// non-empty and unique, NULL true, base64 blobs, nesting at most 32 deep.
// Errors: SerializationException for wrong JSON types; ValidationException otherwise.
Result<table::AttributeValue> ParseAttributeValue(const JsonValue& json);
// Decodes a map of name -> AttributeValue (an Item, a Key, ExpressionAttributeValues).
Result<table::Item> ParseAttributeMap(const JsonValue& json);

void WriteAttributeValue(JsonWriter& w, const table::AttributeValue& value);
void WriteAttributeMap(JsonWriter& w, const table::Item& item);

}  // namespace salespipe::services::dynamodb
