// Query and Scan.
#include "services/dynamodb/attribute_json.h"
#include "services/dynamodb/dynamodb_service.h"
#include "services/dynamodb/ops_common.h"
#include "services/dynamodb/request_expressions.h"

namespace salespipe::services::dynamodb {
namespace {

Status Invalid(std::string msg) { return Status::InvalidArgument(std::move(msg)); }

// The parameters Query and Scan share.
struct ReadRequest {
  std::string_view table_name;
  std::optional<std::string_view> index_name;
  std::optional<std::string_view> select;
  std::optional<int64_t> limit;
  bool consistent = false;
  CapacityMode capacity = CapacityMode::kNone;
  std::optional<table::Item> exclusive_start_key;
};

Result<ReadRequest> ReadCommon(const JsonValue& request, ValidationErrors& errors) {
  ReadRequest out;
  ASSIGN_OR_RETURN(std::optional<std::string_view> table_name, GetString(request, "TableName"));
  CheckTableName(table_name, "tableName", errors);
  ASSIGN_OR_RETURN(out.index_name, GetString(request, "IndexName"));
  if (out.index_name) {
    // Index names follow the table-name rules.
    CheckTableName(out.index_name, "indexName", errors);
  }
  ASSIGN_OR_RETURN(out.select, GetString(request, "Select"));
  CheckEnum(out.select, "select",
            {"ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"}, errors);
  ASSIGN_OR_RETURN(out.limit, GetInteger(request, "Limit"));
  if (out.limit && *out.limit < 1) {
    errors.AddConstraint(std::to_string(*out.limit), "limit",
                         "Member must have value greater than or equal to 1");
  }
  ASSIGN_OR_RETURN(std::optional<bool> consistent, GetBool(request, "ConsistentRead"));
  out.consistent = consistent.value_or(false);
  ASSIGN_OR_RETURN(out.capacity, ParseCapacityMode(request, errors));
  ASSIGN_OR_RETURN(const JsonValue* start, GetObject(request, "ExclusiveStartKey"));
  if (start) {
    ASSIGN_OR_RETURN(table::Item key, ParseAttributeMap(*start));
    out.exclusive_start_key = std::move(key);
  }
  if (table_name) out.table_name = *table_name;
  return out;
}

// Resolves IndexName and checks Select/projection/consistency against it.
Result<const table::IndexDef*> ResolveIndex(const table::TableDef& def, const ReadRequest& req,
                                            const ParsedExpressions& expr) {
  const table::IndexDef* index = nullptr;
  if (req.index_name) {
    index = def.FindIndex(*req.index_name);
    if (!index) {
      return Invalid("The table does not have the specified index: " + std::string(*req.index_name));
    }
    if (!index->local && req.consistent) {
      return Invalid("Consistent reads are not supported on global secondary indexes");
    }
  }
  if (req.select == "ALL_PROJECTED_ATTRIBUTES" && !index) {
    return Invalid("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName");
  }
  if (req.select == "SPECIFIC_ATTRIBUTES" && !expr.projection) {
    return Invalid(
        "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
        "SPECIFIC_ATTRIBUTES");
  }
  if (req.select && *req.select != "SPECIFIC_ATTRIBUTES" && expr.projection) {
    return Invalid("Cannot specify the ProjectionExpression when choosing to get " +
                   std::string(*req.select));
  }
  if (index && !index->local && index->projection != table::ProjectionType::kAll &&
      req.select == "ALL_ATTRIBUTES") {
    return Invalid(
        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
        "supported for global secondary index " + index->name +
        " because its projection type is not ALL");
  }
  return index;
}

Status CheckStartKey(const table::TableDef& def, const table::IndexDef* index,
                     const table::Item& start) {
  static const Status kInvalid = Status::InvalidArgument(
      "The provided starting key is invalid: The provided key element does not match the schema");
  auto has = [&](const table::KeyElement& k) {
    auto it = start.find(k.name);
    return it != start.end() && it->second.type() == k.type;
  };
  if (!has(def.keys.hash) || (def.keys.range && !has(*def.keys.range))) return kInvalid;
  if (index && (!has(index->keys.hash) || (index->keys.range && !has(*index->keys.range)))) {
    return kInvalid;
  }
  return Status::Ok();
}

std::string WritePage(const table::Page& page, const ReadRequest& req,
                      const ParsedExpressions& expr, std::string_view table_name) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  if (req.select != "COUNT") {
    w.Key("Items");
    w.StartArray();
    for (const auto& item : page.items) {
      WriteAttributeMap(w, expr.projection ? expr.projection->Apply(item) : item);
    }
    w.EndArray();
  }
  w.Key("Count");
  w.Int64(static_cast<int64_t>(page.items.size()));
  w.Key("ScannedCount");
  w.Int64(page.scanned_count);
  if (page.last_evaluated_key) {
    w.Key("LastEvaluatedKey");
    WriteAttributeMap(w, *page.last_evaluated_key);
  }
  WriteConsumedCapacity(w, req.capacity, table_name,
                        ReadUnits(static_cast<size_t>(page.bytes_read), req.consistent), true);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// A local index returns attributes outside its projection by reading the table, as DynamoDB
// does; a global index can't (ResolveIndex rejects ALL_ATTRIBUTES there).
bool NeedsTableFetch(const table::IndexDef* index, const ReadRequest& req,
                     const ParsedExpressions& expr) {
  if (!index || !index->local || index->projection == table::ProjectionType::kAll) return false;
  if (req.select == "ALL_ATTRIBUTES") return true;
  std::vector<std::string> wanted;
  if (expr.projection) wanted = expr.projection->TopLevelAttributes();
  if (expr.filter) {
    auto more = expr.filter->TopLevelAttributes();
    wanted.insert(wanted.end(), more.begin(), more.end());
  }
  for (const std::string& name : wanted) {
    bool projected = name == index->keys.hash.name ||
                     (index->keys.range && name == index->keys.range->name);
    if (index->projection == table::ProjectionType::kInclude) {
      for (const auto& a : index->non_key_attributes) projected |= (a == name);
    }
    // Table key attributes are always projected.
    if (!projected) return true;
  }
  return false;
}

table::SortKeyCondition::Op ToSortOp(table::KeyOperator op) {
  switch (op) {
    case table::KeyOperator::kEq: return table::SortKeyCondition::Op::kEq;
    case table::KeyOperator::kLt: return table::SortKeyCondition::Op::kLt;
    case table::KeyOperator::kLe: return table::SortKeyCondition::Op::kLe;
    case table::KeyOperator::kGt: return table::SortKeyCondition::Op::kGt;
    case table::KeyOperator::kGe: return table::SortKeyCondition::Op::kGe;
    case table::KeyOperator::kBetween: return table::SortKeyCondition::Op::kBetween;
    case table::KeyOperator::kBeginsWith: return table::SortKeyCondition::Op::kBeginsWith;
  }
  return table::SortKeyCondition::Op::kEq;
}

}  // namespace

Result<std::string> DynamoDbService::Query(const JsonValue& request,
                                           const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(ReadRequest req, ReadCommon(request, errors));
  ASSIGN_OR_RETURN(std::optional<bool> forward, GetBool(request, "ScanIndexForward"));
  RETURN_IF_ERROR(errors.ToStatus());
  ASSIGN_OR_RETURN(ParsedExpressions expr,
                   ParseExpressions(request, {.projection = true,
                                              .key_condition = true,
                                              .legacy_filter = "QueryFilter"}));
  if (!expr.key_condition) {
    return Invalid(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request.");
  }
  ASSIGN_OR_RETURN(auto handle, FindTable(req.table_name, context));
  auto def = handle->def();
  ASSIGN_OR_RETURN(const table::IndexDef* index, ResolveIndex(*def, req, expr));
  const table::KeySchema& keys = index ? index->keys : def->keys;
  const std::string* range_name = keys.range ? &keys.range->name : nullptr;
  ASSIGN_OR_RETURN(table::BoundKeyCondition bound,
                   expr.key_condition->Bind(keys.hash.name, range_name));
  if (bound.partition_value.type() != keys.hash.type) {
    return Invalid(
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type");
  }
  table::QuerySpec spec{.index = index,
                        .hash_value = bound.partition_value,
                        .forward = forward.value_or(true),
                        .exclusive_start_key = req.exclusive_start_key,
                        .limit = req.limit.value_or(0),
                        .filter = expr.filter_ptr()};
  if (bound.sort) {
    for (const auto& v : bound.sort->values) {
      if (v.type() != keys.range->type) {
        return Invalid(
            "One or more parameter values were invalid: Condition parameter type does not match "
            "schema type");
      }
    }
    if (bound.sort->op == table::KeyOperator::kBeginsWith &&
        keys.range->type == table::AttributeType::kNumber) {
      return Invalid(
          "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
          "operator or function: begins_with, operand type: N");
    }
    spec.range = table::SortKeyCondition{.op = ToSortOp(bound.sort->op),
                                         .values = bound.sort->values};
  }
  if (expr.filter) {
    for (const std::string& name : expr.filter->TopLevelAttributes()) {
      if (name == keys.hash.name || (keys.range && name == keys.range->name)) {
        return Invalid(
            "Filter Expression can only contain non-primary key attributes: Primary key "
            "attribute: " + name);
      }
    }
  }
  spec.fetch_from_table = NeedsTableFetch(index, req, expr);
  if (spec.exclusive_start_key) RETURN_IF_ERROR(CheckStartKey(*def, index, *spec.exclusive_start_key));
  ASSIGN_OR_RETURN(table::Page page, store_.Query(*handle, spec));
  return WritePage(page, req, expr, def->name);
}

Result<std::string> DynamoDbService::Scan(const JsonValue& request,
                                          const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(ReadRequest req, ReadCommon(request, errors));
  ASSIGN_OR_RETURN(std::optional<int64_t> segment, GetInteger(request, "Segment"));
  ASSIGN_OR_RETURN(std::optional<int64_t> total, GetInteger(request, "TotalSegments"));
  if (segment && *segment < 0) {
    errors.AddConstraint(std::to_string(*segment), "segment",
                         "Member must have value greater than or equal to 0");
  }
  if (segment && *segment > 999999) {
    errors.AddConstraint(std::to_string(*segment), "segment",
                         "Member must have value less than or equal to 999999");
  }
  if (total && *total < 1) {
    errors.AddConstraint(std::to_string(*total), "totalSegments",
                         "Member must have value greater than or equal to 1");
  }
  if (total && *total > 1000000) {
    errors.AddConstraint(std::to_string(*total), "totalSegments",
                         "Member must have value less than or equal to 1000000");
  }
  RETURN_IF_ERROR(errors.ToStatus());
  if (segment.has_value() != total.has_value()) {
    return Invalid(segment ? "The TotalSegments parameter is required but was not present in the request when Segment parameter is present"
                           : "The Segment parameter is required but was not present in the request when parameter TotalSegments is present");
  }
  if (segment && *segment >= *total) {
    return Invalid("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: " +
                   std::to_string(*segment) + " is out of bounds for TotalSegments: " +
                   std::to_string(*total));
  }
  ASSIGN_OR_RETURN(ParsedExpressions expr,
                   ParseExpressions(request, {.projection = true, .legacy_filter = "ScanFilter"}));
  ASSIGN_OR_RETURN(auto handle, FindTable(req.table_name, context));
  auto def = handle->def();
  ASSIGN_OR_RETURN(const table::IndexDef* index, ResolveIndex(*def, req, expr));
  table::ScanSpec spec{.index = index,
                       .exclusive_start_key = req.exclusive_start_key,
                       .limit = req.limit.value_or(0),
                       .filter = expr.filter_ptr(),
                       .segment = static_cast<int>(segment.value_or(0)),
                       .total_segments = static_cast<int>(total.value_or(1))};
  spec.fetch_from_table = NeedsTableFetch(index, req, expr);
  if (spec.exclusive_start_key) RETURN_IF_ERROR(CheckStartKey(*def, index, *spec.exclusive_start_key));
  ASSIGN_OR_RETURN(table::Page page, store_.Scan(*handle, spec));
  return WritePage(page, req, expr, def->name);
}

}  // namespace salespipe::services::dynamodb
