#pragma once

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "services/json.h"
#include "table/attribute_value.h"
#include "table/table_store.h"

// Small pieces shared by the item, query and batch operations.
namespace salespipe::services::dynamodb {

enum class CapacityMode { kNone, kTotal, kIndexes };

// ReturnConsumedCapacity: INDEXES | TOTAL | NONE (absent = NONE); anything else adds a
// constraint violation to `errors`.
Result<CapacityMode> ParseCapacityMode(const JsonValue& request, ValidationErrors& errors);

// Validates a TableName member (required, 3..255 chars of [a-zA-Z0-9_.-], or a table ARN).
// `path` is the member path for messages ("tableName").
void CheckTableName(std::optional<std::string_view> name, std::string_view path,
                    ValidationErrors& errors);

// Checks an enum member against its allowed values (adds the AWS constraint message).
void CheckEnum(std::optional<std::string_view> value, std::string_view path,
               std::initializer_list<std::string_view> allowed, ValidationErrors& errors);

// DynamoDB's capacity units: writes 1 per started KB, reads 1 per started 4 KB (half for
// eventually consistent reads).
inline double WriteUnits(size_t bytes) {
  return std::max<double>(1.0, std::ceil(static_cast<double>(bytes) / 1024.0));
}
inline double ReadUnits(size_t bytes, bool consistent) {
  double units = std::max<double>(1.0, std::ceil(static_cast<double>(bytes) / 4096.0));
  return consistent ? units : units / 2;
}

// Capacity consumed on secondary indexes, by index name.
struct IndexUnits {
  std::map<std::string, double> global;
  std::map<std::string, double> local;
};

// Writes the ConsumedCapacity object ({TableName, CapacityUnits[, Table{...}]}); nothing
// when mode is kNone. With kIndexes, index units are listed per index and added to the total.
// Call between a StartObject/EndObject as a member.
void WriteConsumedCapacity(JsonWriter& w, CapacityMode mode, std::string_view table_name,
                           double units, bool read, const IndexUnits* indexes = nullptr);

// The write units an item change costs on each secondary index that holds the old or the
// new item (1 per started KB of the larger version, as for the table).
IndexUnits IndexWriteUnits(const table::TableDef& def, const std::optional<table::Item>& old_item,
                           const std::optional<table::Item>& new_item);

// The JSON text of {"Item": {...}} for ConditionalCheckFailedException's details.
std::string ItemDetails(const table::Item& item);

}  // namespace salespipe::services::dynamodb
