#pragma once

// DynamoDB's pre-expression ("legacy") request parameters, which older SDKs still send:
// Expected, QueryFilter/ScanFilter, KeyConditions, AttributeUpdates and AttributesToGet.
// Each converts into the same objects the expression parser produces, so the table engine
// evaluates one representation. Structs here are engine-level (no JSON); services fill them
// from the wire. Attribute names are plain top-level names (no document paths). All functions
// are pure and thread-safe; errors are kInvalidArgument with DynamoDB's messages.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "table/attribute_value.h"
#include "table/expression.h"

namespace salespipe::table {

// One entry of Expected, QueryFilter, ScanFilter or KeyConditions, keyed by `attribute`.
// Absent optionals mean the member was absent from the request.
struct LegacyCondition {
  std::string attribute;
  // EQ NE LE LT GE GT NOT_NULL NULL CONTAINS NOT_CONTAINS BEGINS_WITH IN BETWEEN.
  std::optional<std::string> comparison_operator;
  std::optional<std::vector<AttributeValue>> attribute_value_list;
  // Expected only: the older Exists/Value form (Exists defaults to true).
  std::optional<bool> exists;
  std::optional<AttributeValue> value;
};

// Converts Expected (PutItem, UpdateItem, DeleteItem) and ConditionalOperator ("AND", the
// default when empty, or "OR"). Comparison semantics are those of the expression functions
// (table/expression.h): NE and NOT_CONTAINS hold on a missing attribute, NULL means "does not
// exist", NOT_NULL "exists". Errors: kInvalidArgument, e.g.
//   "One or more parameter values were invalid: Value and AttributeValueList cannot be used
//    together for Attribute: a"
//   "One or more parameter values were invalid: Exists and ComparisonOperator cannot be used
//    together for Attribute: a"
//   "One or more parameter values were invalid: Value or AttributeValueList must be used with
//    ComparisonOperator: EQ for Attribute: a"
//   "One or more parameter values were invalid: Invalid number of argument(s) for the EQ
//    ComparisonOperator"
//   "One or more parameter values were invalid: AttributeValues inside AttributeValueList must
//    be of same type"
//   "One or more parameter values were invalid: AttributeValueList can only be used with a
//    ComparisonOperator for Attribute: a"
//   "One or more parameter values were invalid: Value must be provided when Exists is true for
//    Attribute: a" (or "...when Exists is null...")
//   "One or more parameter values were invalid: Value cannot be used when Exists is false for
//    Attribute: a"
//   "The BETWEEN condition was provided a range where the lower bound is greater than the upper
//    bound"
Result<Condition> ConvertExpected(const std::vector<LegacyCondition>& expected,
                                  std::string_view conditional_operator);

// Converts QueryFilter or ScanFilter (ComparisonOperator and AttributeValueList; Exists and
// Value are ignored) with ConditionalOperator. Errors: kInvalidArgument, the argument-count,
// same-type and BETWEEN messages above, and
//   "One or more parameter values were invalid: ComparisonOperator LT is not valid for SS
//    AttributeValue type" (LE LT GE GT IN BETWEEN CONTAINS NOT_CONTAINS take S, N or B;
//    BEGINS_WITH takes S or B; EQ and NE take any type)
Result<Condition> ConvertFilter(const std::vector<LegacyCondition>& filter,
                                std::string_view conditional_operator);

// Converts KeyConditions (Query). Validates like ConvertFilter, then:
//   "Attempted conditional constraint is not an indexable operation" (NE, NULL, NOT_NULL,
//    CONTAINS, NOT_CONTAINS, IN)
//   "Conditions can be of length 1 or 2 only"
// Bind the result to the key schema with KeyCondition::Bind.
Result<KeyCondition> ConvertKeyConditions(const std::vector<LegacyCondition>& key_conditions);

// One entry of AttributeUpdates.
struct LegacyAttributeUpdate {
  std::string attribute;
  std::string action = "PUT";  // PUT (the default), ADD or DELETE
  std::optional<AttributeValue> value;
};

// Converts AttributeUpdates (UpdateItem) into an Update with DynamoDB's legacy semantics:
// PUT sets the attribute; DELETE without a value removes it, with a set value removes those
// members (an emptied set disappears); ADD adds a number (0 if missing), unions a set, or
// appends to a list. Applying it reports type clashes as "Type mismatch for attribute to
// update". Errors: kInvalidArgument
//   "One or more parameter values were invalid: Only DELETE action is allowed when no attribute
//    value is specified"
//   "One or more parameter values were invalid: DELETE action with value is not supported for
//    the type S"
//   "One or more parameter values were invalid: ADD action is not supported for the type S"
Result<Update> ConvertAttributeUpdates(const std::vector<LegacyAttributeUpdate>& updates);

// Converts AttributesToGet into a Projection of those top-level attributes.
// Errors: kInvalidArgument
//   "One or more parameter values were invalid: Duplicate value in attribute name: a"
Result<Projection> ConvertAttributesToGet(const std::vector<std::string>& attributes);

}  // namespace salespipe::table
