#pragma once

#include <optional>
#include <string_view>

#include "common/status.h"
#include "services/json.h"
#include "table/expression.h"

namespace salespipe::services::dynamodb {

// Which expression parameters (and their legacy equivalents) an operation takes.
struct ExpressionParams {
  bool condition = false;      // ConditionExpression | Expected (+ ConditionalOperator)
  bool update = false;         // UpdateExpression | AttributeUpdates
  bool projection = false;     // ProjectionExpression | AttributesToGet
  bool key_condition = false;  // KeyConditionExpression | KeyConditions
  // FilterExpression | <legacy_filter> ("QueryFilter" / "ScanFilter"); empty: no filter.
  std::string_view legacy_filter;
};

// The parsed expressions of one request, all resolved against one placeholder context.
struct ParsedExpressions {
  std::optional<table::Condition> condition;
  std::optional<table::Condition> filter;
  std::optional<table::Update> update;
  std::optional<table::Projection> projection;
  std::optional<table::KeyCondition> key_condition;

  const table::Condition* condition_ptr() const { return condition ? &*condition : nullptr; }
  const table::Condition* filter_ptr() const { return filter ? &*filter : nullptr; }
  const table::Update* update_ptr() const { return update ? &*update : nullptr; }
};

// Parses every expression parameter of `request` that `params` allows (or the map/object
// `request` of one batch/transaction element), with DynamoDB's request-level checks:
// placeholder maps only with expressions and never empty, placeholders used and defined,
// expression and legacy parameters never mixed.
// Errors: kInvalidArgument (ValidationException) or SerializationException.
Result<ParsedExpressions> ParseExpressions(const JsonValue& request, const ExpressionParams& params);

}  // namespace salespipe::services::dynamodb
