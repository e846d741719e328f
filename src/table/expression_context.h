#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "common/status.h"
#include "table/attribute_value.h"

namespace salespipe::table {

// The placeholders of one request: its ExpressionAttributeNames (`#n` -> attribute name) and
// ExpressionAttributeValues (`:v` -> value). Every expression of the request (condition,
// filter, key condition, update, projection) is parsed against the same context, which records
// the placeholders they use; after parsing them all, CheckAllUsed() reports the leftovers the
// way DynamoDB does.
//
// The parse functions in table/expression.h resolve placeholders through this class; callers
// rarely need Resolve*. Not thread-safe: one per request.
class ExpressionContext {
 public:
  ExpressionContext() = default;
  ExpressionContext(std::map<std::string, std::string> names, AttributeMap values);

  // The attribute name for `placeholder` (with its '#'), marking it used; nullptr if the
  // request doesn't define it. The pointer is valid for the context's lifetime.
  const std::string* ResolveName(std::string_view placeholder);
  // The value for `placeholder` (with its ':'), marking it used; nullptr if undefined.
  const AttributeValue* ResolveValue(std::string_view placeholder);

  // Checks that every defined placeholder was used by some expression parsed with this
  // context. Names are checked before values; keys are listed in sorted order.
  // Errors: kInvalidArgument
  //   "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}"
  //   "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"
  Status CheckAllUsed() const;

  const std::map<std::string, std::string, std::less<>>& names() const { return names_; }
  const AttributeMap& values() const { return values_; }

 private:
  std::map<std::string, std::string, std::less<>> names_;
  AttributeMap values_;
  std::set<std::string, std::less<>> used_names_;
  std::set<std::string, std::less<>> used_values_;
};

}  // namespace salespipe::table
