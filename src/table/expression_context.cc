#include "table/expression_context.h"

#include <utility>

namespace salespipe::table {

ExpressionContext::ExpressionContext(std::map<std::string, std::string> names, AttributeMap values)
    : names_(std::make_move_iterator(names.begin()), std::make_move_iterator(names.end())),
      values_(std::move(values)) {}

const std::string* ExpressionContext::ResolveName(std::string_view placeholder) {
  auto it = names_.find(placeholder);
  if (it == names_.end()) return nullptr;
  used_names_.emplace(placeholder);
  return &it->second;
}

const AttributeValue* ExpressionContext::ResolveValue(std::string_view placeholder) {
  auto it = values_.find(placeholder);
  if (it == values_.end()) return nullptr;
  used_values_.emplace(placeholder);
  return &it->second;
}

Status ExpressionContext::CheckAllUsed() const {
  // DynamoDB reports names before values (dynalite mirrors this order).
  auto unused = [](const auto& defined, const std::set<std::string, std::less<>>& used) {
    std::string keys;
    for (const auto& [key, ignored] : defined) {
      if (used.count(key) != 0) continue;
      if (!keys.empty()) keys += ", ";
      keys += key;
    }
    return keys;
  };
  if (std::string keys = unused(names_, used_names_); !keys.empty()) {
    return Status::InvalidArgument(
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {" + keys + "}");
  }
  if (std::string keys = unused(values_, used_values_); !keys.empty()) {
    return Status::InvalidArgument(
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {" + keys + "}");
  }
  return Status::Ok();
}

}  // namespace salespipe::table
