#include "services/dynamodb/legacy_json.h"

#include "services/dynamodb/attribute_json.h"
#include "table/legacy_conditions.h"

namespace salespipe::services::dynamodb {
namespace {

// Reads {attr: {ComparisonOperator, AttributeValueList, Exists, Value}} (Expected, QueryFilter,
// ScanFilter, KeyConditions).
Result<std::vector<table::LegacyCondition>> ReadConditions(const JsonValue& map) {
  RETURN_IF_ERROR(ExpectObject(map));
  std::vector<table::LegacyCondition> conditions;
  for (const auto& m : map.GetObject()) {
    RETURN_IF_ERROR(ExpectObject(m.value));
    table::LegacyCondition c;
    c.attribute.assign(m.name.GetString(), m.name.GetStringLength());
    ASSIGN_OR_RETURN(std::optional<std::string_view> op, GetString(m.value, "ComparisonOperator"));
    if (op) c.comparison_operator = std::string(*op);
    ASSIGN_OR_RETURN(const JsonValue* list, GetArray(m.value, "AttributeValueList"));
    if (list) {
      std::vector<table::AttributeValue> values;
      for (const auto& v : list->GetArray()) {
        ASSIGN_OR_RETURN(table::AttributeValue value, ParseAttributeValue(v));
        values.push_back(std::move(value));
      }
      c.attribute_value_list = std::move(values);
    }
    ASSIGN_OR_RETURN(c.exists, GetBool(m.value, "Exists"));
    ASSIGN_OR_RETURN(const JsonValue* value, GetObject(m.value, "Value"));
    if (value) {
      ASSIGN_OR_RETURN(table::AttributeValue parsed, ParseAttributeValue(*value));
      c.value = std::move(parsed);
    }
    conditions.push_back(std::move(c));
  }
  return conditions;
}

Result<std::string_view> ConditionalOperator(const JsonValue& request) {
  ASSIGN_OR_RETURN(std::optional<std::string_view> op, GetString(request, "ConditionalOperator"));
  if (op && *op != "AND" && *op != "OR") {
    ValidationErrors errors;
    errors.AddConstraint("'" + std::string(*op) + "'", "conditionalOperator",
                         "Member must satisfy enum value set: [AND, OR]");
    return errors.ToStatus();
  }
  return op.value_or("AND");
}

}  // namespace

Status ParseLegacy(const JsonValue& request, const ExpressionParams& params,
                   ParsedExpressions& parsed) {
  ASSIGN_OR_RETURN(std::string_view conditional_operator, ConditionalOperator(request));
  if (params.condition) {
    if (const JsonValue* expected = FindMember(request, "Expected")) {
      ASSIGN_OR_RETURN(auto conditions, ReadConditions(*expected));
      ASSIGN_OR_RETURN(table::Condition c, table::ConvertExpected(conditions, conditional_operator));
      parsed.condition = std::move(c);
    }
  }
  if (!params.legacy_filter.empty()) {
    if (const JsonValue* filter = FindMember(request, params.legacy_filter)) {
      ASSIGN_OR_RETURN(auto conditions, ReadConditions(*filter));
      ASSIGN_OR_RETURN(table::Condition c, table::ConvertFilter(conditions, conditional_operator));
      parsed.filter = std::move(c);
    }
  }
  if (params.key_condition) {
    if (const JsonValue* keys = FindMember(request, "KeyConditions")) {
      ASSIGN_OR_RETURN(auto conditions, ReadConditions(*keys));
      ASSIGN_OR_RETURN(table::KeyCondition k, table::ConvertKeyConditions(conditions));
      parsed.key_condition = std::move(k);
    }
  }
  if (params.update) {
    if (const JsonValue* updates = FindMember(request, "AttributeUpdates")) {
      RETURN_IF_ERROR(ExpectObject(*updates));
      std::vector<table::LegacyAttributeUpdate> converted;
      for (const auto& m : updates->GetObject()) {
        RETURN_IF_ERROR(ExpectObject(m.value));
        table::LegacyAttributeUpdate u;
        u.attribute.assign(m.name.GetString(), m.name.GetStringLength());
        ASSIGN_OR_RETURN(std::optional<std::string_view> action, GetString(m.value, "Action"));
        if (action) u.action = std::string(*action);
        ASSIGN_OR_RETURN(const JsonValue* value, GetObject(m.value, "Value"));
        if (value) {
          ASSIGN_OR_RETURN(table::AttributeValue parsed_value, ParseAttributeValue(*value));
          u.value = std::move(parsed_value);
        }
        converted.push_back(std::move(u));
      }
      ASSIGN_OR_RETURN(table::Update update, table::ConvertAttributeUpdates(converted));
      parsed.update = std::move(update);
    }
  }
  if (params.projection) {
    ASSIGN_OR_RETURN(const JsonValue* names, GetArray(request, "AttributesToGet"));
    if (names) {
      std::vector<std::string> attributes;
      for (const auto& v : names->GetArray()) {
        ASSIGN_OR_RETURN(std::string_view name, AsString(v));
        attributes.emplace_back(name);
      }
      ASSIGN_OR_RETURN(table::Projection projection, table::ConvertAttributesToGet(attributes));
      parsed.projection = std::move(projection);
    }
  }
  return Status::Ok();
}

}  // namespace salespipe::services::dynamodb
