#pragma once

#include "common/status.h"
#include "services/dynamodb/request_expressions.h"
#include "services/json.h"

namespace salespipe::services::dynamodb {

// Converts the legacy parameters of `request` that `params` allows (Expected +
// ConditionalOperator, AttributeUpdates, AttributesToGet, KeyConditions, QueryFilter /
// ScanFilter) into the same parsed objects expressions produce, stored into `parsed`.
// Errors: kInvalidArgument with DynamoDB's messages; SerializationException for JSON types.
Status ParseLegacy(const JsonValue& request, const ExpressionParams& params,
                   ParsedExpressions& parsed);

}  // namespace salespipe::services::dynamodb
