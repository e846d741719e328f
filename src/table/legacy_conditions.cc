#include "table/legacy_conditions.h"

#include <array>
#include <cstddef>
#include <limits>
#include <set>
#include <utility>

#include "table/expression_access.h"
#include "table/expression_ast.h"

namespace salespipe::table {
namespace {

using expr::CompareOp;
using expr::ConditionNode;
using expr::Operand;

constexpr std::string_view kInvalid = "One or more parameter values were invalid: ";

// Which AttributeValue types an operator accepts in a filter or key condition.
enum class Accepts { kAny, kScalar /* S N B */, kStringOrBinary };

struct OperatorInfo {
  std::string_view name;
  size_t min_values;
  size_t max_values;
  Accepts accepts;
};

constexpr size_t kUnbounded = std::numeric_limits<size_t>::max();

constexpr std::array kOperators = {
    OperatorInfo{"EQ", 1, 1, Accepts::kAny},
    OperatorInfo{"NE", 1, 1, Accepts::kAny},
    OperatorInfo{"LE", 1, 1, Accepts::kScalar},
    OperatorInfo{"LT", 1, 1, Accepts::kScalar},
    OperatorInfo{"GE", 1, 1, Accepts::kScalar},
    OperatorInfo{"GT", 1, 1, Accepts::kScalar},
    OperatorInfo{"NOT_NULL", 0, 0, Accepts::kAny},
    OperatorInfo{"NULL", 0, 0, Accepts::kAny},
    OperatorInfo{"CONTAINS", 1, 1, Accepts::kScalar},
    OperatorInfo{"NOT_CONTAINS", 1, 1, Accepts::kScalar},
    OperatorInfo{"BEGINS_WITH", 1, 1, Accepts::kStringOrBinary},
    OperatorInfo{"IN", 1, kUnbounded, Accepts::kScalar},
    OperatorInfo{"BETWEEN", 2, 2, Accepts::kScalar},
};

const OperatorInfo* FindOperator(std::string_view name) {
  for (const OperatorInfo& info : kOperators) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

bool AcceptsType(Accepts accepts, AttributeType type) {
  switch (accepts) {
    case Accepts::kAny:
      return true;
    case Accepts::kScalar:
      return type == AttributeType::kString || type == AttributeType::kNumber ||
             type == AttributeType::kBinary;
    case Accepts::kStringOrBinary:
      return type == AttributeType::kString || type == AttributeType::kBinary;
  }
  return false;
}

Status CountError(std::string_view op) {
  return Status::InvalidArgument(std::string(kInvalid) + "Invalid number of argument(s) for the " +
                                 std::string(op) + " ComparisonOperator");
}

// The checks shared by every ComparisonOperator form: operator, argument count, one type,
// ordered BETWEEN bounds. `check_types` adds the per-operator type restrictions of filters.
Result<const OperatorInfo*> CheckOperator(std::string_view op,
                                          const std::vector<AttributeValue>& values,
                                          bool check_types) {
  const OperatorInfo* info = FindOperator(op);
  if (info == nullptr) {
    // The service rejects values outside the enum first; this is a backstop.
    return Status::InvalidArgument(std::string(kInvalid) +
                                   "Unsupported ComparisonOperator: " + std::string(op));
  }
  if (values.size() < info->min_values || values.size() > info->max_values) return CountError(op);
  for (const AttributeValue& value : values) {
    if (value.type() != values[0].type()) {
      return Status::InvalidArgument(
          std::string(kInvalid) + "AttributeValues inside AttributeValueList must be of same type");
    }
  }
  if (check_types) {
    for (const AttributeValue& value : values) {
      if (!AcceptsType(info->accepts, value.type())) {
        return Status::InvalidArgument(
            std::string(kInvalid) + "ComparisonOperator " + std::string(op) + " is not valid for " +
            std::string(TypeName(value.type())) + " AttributeValue type");
      }
    }
  }
  if (info->name == "BETWEEN" && expr::OrderValues(values[0], values[1]).value_or(0) > 0) {
    return Status::InvalidArgument(
        "The BETWEEN condition was provided a range where the lower bound is greater than the "
        "upper bound");
  }
  return info;
}

Operand PathOperand(const std::string& attribute) {
  Operand operand;
  operand.kind = Operand::Kind::kPath;
  operand.path = {PathElement::Name(attribute)};
  return operand;
}

Operand ValueOperand(const AttributeValue& value) {
  Operand operand;
  operand.kind = Operand::Kind::kValue;
  operand.value = value;
  return operand;
}

ConditionNode Comparison(const std::string& attribute, CompareOp op, const AttributeValue& value) {
  ConditionNode node;
  node.kind = ConditionNode::Kind::kCompare;
  node.op = op;
  node.operands = {PathOperand(attribute), ValueOperand(value)};
  return node;
}

// The condition node for `attribute <op> values` (validated).
ConditionNode BuildNode(const std::string& attribute, std::string_view op,
                        const std::vector<AttributeValue>& values) {
  ConditionNode node;
  if (op == "EQ") return Comparison(attribute, CompareOp::kEq, values[0]);
  if (op == "NE") return Comparison(attribute, CompareOp::kNe, values[0]);
  if (op == "LE") return Comparison(attribute, CompareOp::kLe, values[0]);
  if (op == "LT") return Comparison(attribute, CompareOp::kLt, values[0]);
  if (op == "GE") return Comparison(attribute, CompareOp::kGe, values[0]);
  if (op == "GT") return Comparison(attribute, CompareOp::kGt, values[0]);
  node.operands.push_back(PathOperand(attribute));
  if (op == "NOT_NULL") {
    node.kind = ConditionNode::Kind::kAttributeExists;
  } else if (op == "NULL") {
    node.kind = ConditionNode::Kind::kAttributeNotExists;
  } else if (op == "CONTAINS" || op == "NOT_CONTAINS") {
    node.kind = ConditionNode::Kind::kContains;
    node.operands.push_back(ValueOperand(values[0]));
    if (op == "NOT_CONTAINS") {
      ConditionNode negation;
      negation.kind = ConditionNode::Kind::kNot;
      negation.children.push_back(std::move(node));
      return negation;
    }
  } else if (op == "BEGINS_WITH") {
    node.kind = ConditionNode::Kind::kBeginsWith;
    node.operands.push_back(ValueOperand(values[0]));
  } else if (op == "IN") {
    node.kind = ConditionNode::Kind::kIn;
    for (const AttributeValue& value : values) node.operands.push_back(ValueOperand(value));
  } else {  // BETWEEN
    node.kind = ConditionNode::Kind::kBetween;
    node.operands.push_back(ValueOperand(values[0]));
    node.operands.push_back(ValueOperand(values[1]));
  }
  return node;
}

Result<Condition> Combine(std::vector<ConditionNode> nodes, std::string_view conditional_operator) {
  if (!conditional_operator.empty() && conditional_operator != "AND" &&
      conditional_operator != "OR") {
    return Status::InvalidArgument(std::string(kInvalid) + "Unsupported ConditionalOperator: " +
                                   std::string(conditional_operator));
  }
  if (nodes.empty()) return Condition();
  if (nodes.size() == 1) return expr::Access::MakeCondition(std::move(nodes[0]));
  ConditionNode root;
  root.kind = conditional_operator == "OR" ? ConditionNode::Kind::kOr : ConditionNode::Kind::kAnd;
  root.children = std::move(nodes);
  return expr::Access::MakeCondition(std::move(root));
}

// Validates and converts one filter or key condition entry.
Result<ConditionNode> ConvertFilterEntry(const LegacyCondition& condition) {
  if (!condition.comparison_operator) {
    return Status::InvalidArgument(
        std::string(kInvalid) +
        "ComparisonOperator is required for Attribute: " + condition.attribute);
  }
  static const std::vector<AttributeValue> kNoValues;
  const std::vector<AttributeValue>& values =
      condition.attribute_value_list ? *condition.attribute_value_list : kNoValues;
  RETURN_IF_ERROR(CheckOperator(*condition.comparison_operator, values, /*check_types=*/true));
  return BuildNode(condition.attribute, *condition.comparison_operator, values);
}

}  // namespace

Result<Condition> ConvertExpected(const std::vector<LegacyCondition>& expected,
                                  std::string_view conditional_operator) {
  std::vector<ConditionNode> nodes;
  for (const LegacyCondition& condition : expected) {
    const std::string& attribute = condition.attribute;
    if (condition.attribute_value_list && condition.value) {
      return Status::InvalidArgument(std::string(kInvalid) +
                                     "Value and AttributeValueList cannot be used together for "
                                     "Attribute: " +
                                     attribute);
    }
    if (condition.comparison_operator) {
      const std::string& op = *condition.comparison_operator;
      if (condition.exists) {
        return Status::InvalidArgument(std::string(kInvalid) +
                                       "Exists and ComparisonOperator cannot be used together for "
                                       "Attribute: " +
                                       attribute);
      }
      if (op != "NULL" && op != "NOT_NULL" && !condition.attribute_value_list && !condition.value) {
        return Status::InvalidArgument(std::string(kInvalid) +
                                       "Value or AttributeValueList must be used with "
                                       "ComparisonOperator: " +
                                       op + " for Attribute: " + attribute);
      }
      std::vector<AttributeValue> values;
      if (condition.attribute_value_list) {
        values = *condition.attribute_value_list;
      } else if (condition.value) {
        values.push_back(*condition.value);
      }
      RETURN_IF_ERROR(CheckOperator(op, values, /*check_types=*/false));
      nodes.push_back(BuildNode(attribute, op, values));
      continue;
    }
    if (condition.attribute_value_list) {
      return Status::InvalidArgument(std::string(kInvalid) +
                                     "AttributeValueList can only be used with a "
                                     "ComparisonOperator for Attribute: " +
                                     attribute);
    }
    bool exists = condition.exists.value_or(true);
    if (exists && !condition.value) {
      return Status::InvalidArgument(
          std::string(kInvalid) + "Value must be provided when Exists is " +
          (condition.exists ? "true" : "null") + " for Attribute: " + attribute);
    }
    if (!exists && condition.value) {
      return Status::InvalidArgument(
          std::string(kInvalid) +
          "Value cannot be used when Exists is false for Attribute: " + attribute);
    }
    if (exists) {
      nodes.push_back(Comparison(attribute, CompareOp::kEq, *condition.value));
    } else {
      nodes.push_back(BuildNode(attribute, "NULL", {}));
    }
  }
  return Combine(std::move(nodes), conditional_operator);
}

Result<Condition> ConvertFilter(const std::vector<LegacyCondition>& filter,
                                std::string_view conditional_operator) {
  std::vector<ConditionNode> nodes;
  for (const LegacyCondition& condition : filter) {
    ASSIGN_OR_RETURN(ConditionNode node, ConvertFilterEntry(condition));
    nodes.push_back(std::move(node));
  }
  return Combine(std::move(nodes), conditional_operator);
}

Result<KeyCondition> ConvertKeyConditions(const std::vector<LegacyCondition>& key_conditions) {
  KeyCondition result;
  for (const LegacyCondition& condition : key_conditions) {
    RETURN_IF_ERROR(ConvertFilterEntry(condition));
    const std::string& op = *condition.comparison_operator;
    KeyConditionTerm term;
    term.attribute = condition.attribute;
    if (op == "EQ") {
      term.op = KeyOperator::kEq;
    } else if (op == "LT") {
      term.op = KeyOperator::kLt;
    } else if (op == "LE") {
      term.op = KeyOperator::kLe;
    } else if (op == "GT") {
      term.op = KeyOperator::kGt;
    } else if (op == "GE") {
      term.op = KeyOperator::kGe;
    } else if (op == "BETWEEN") {
      term.op = KeyOperator::kBetween;
    } else if (op == "BEGINS_WITH") {
      term.op = KeyOperator::kBeginsWith;
    } else {
      return Status::InvalidArgument(
          "Attempted conditional constraint is not an indexable operation");
    }
    term.values = *condition.attribute_value_list;
    result.terms.push_back(std::move(term));
  }
  if (result.terms.empty() || result.terms.size() > 2) {
    return Status::InvalidArgument("Conditions can be of length 1 or 2 only");
  }
  return result;
}

Result<Update> ConvertAttributeUpdates(const std::vector<LegacyAttributeUpdate>& updates) {
  expr::UpdateProgram program;
  program.legacy = true;
  for (const LegacyAttributeUpdate& update : updates) {
    const std::string& action_name = update.action.empty() ? std::string("PUT") : update.action;
    if (action_name != "PUT" && action_name != "ADD" && action_name != "DELETE") {
      return Status::InvalidArgument(std::string(kInvalid) + "Unsupported Action: " + action_name);
    }
    if (!update.value && action_name != "DELETE") {
      return Status::InvalidArgument(
          std::string(kInvalid) +
          "Only DELETE action is allowed when no attribute value is specified");
    }
    expr::UpdateAction action;
    action.path = {PathElement::Name(update.attribute)};
    if (action_name == "PUT") {
      action.kind = expr::UpdateAction::Kind::kSet;
      action.value.kind = expr::SetValue::Kind::kValue;
      action.value.value = *update.value;
    } else if (action_name == "DELETE") {
      if (!update.value) {
        action.kind = expr::UpdateAction::Kind::kRemove;
      } else if (!update.value->is_set()) {
        return Status::InvalidArgument(std::string(kInvalid) +
                                       "DELETE action with value is not supported for the type " +
                                       std::string(TypeName(update.value->type())));
      } else {
        action.kind = expr::UpdateAction::Kind::kDelete;
        action.operand = *update.value;
      }
    } else {  // ADD
      AttributeType type = update.value->type();
      if (type == AttributeType::kList) {
        // ADD appends to a list (creating it): SET a = list_append(if_not_exists(a, []), :v).
        expr::SetValue existing;
        existing.kind = expr::SetValue::Kind::kIfNotExists;
        existing.path = action.path;
        expr::SetValue empty;
        empty.kind = expr::SetValue::Kind::kValue;
        empty.value = AttributeValue::List({});
        existing.args.push_back(std::move(empty));
        expr::SetValue appended;
        appended.kind = expr::SetValue::Kind::kValue;
        appended.value = *update.value;
        action.kind = expr::UpdateAction::Kind::kSet;
        action.value.kind = expr::SetValue::Kind::kListAppend;
        action.value.args.push_back(std::move(existing));
        action.value.args.push_back(std::move(appended));
      } else if (type == AttributeType::kNumber || update.value->is_set()) {
        action.kind = expr::UpdateAction::Kind::kAdd;
        action.operand = *update.value;
      } else {
        return Status::InvalidArgument(std::string(kInvalid) +
                                       "ADD action is not supported for the type " +
                                       std::string(TypeName(type)));
      }
    }
    program.paths.push_back(action.path);
    program.actions.push_back(std::move(action));
  }
  for (const Path& path : program.paths) expr::AddProjectionPath(program.targets, path);
  return expr::Access::MakeUpdate(std::move(program));
}

Result<Projection> ConvertAttributesToGet(const std::vector<std::string>& attributes) {
  expr::ProjectionProgram program;
  std::set<std::string_view> seen;
  for (const std::string& attribute : attributes) {
    if (!seen.insert(attribute).second) {
      return Status::InvalidArgument(std::string(kInvalid) +
                                     "Duplicate value in attribute name: " + attribute);
    }
    program.paths.push_back({PathElement::Name(attribute)});
  }
  for (const Path& path : program.paths) expr::AddProjectionPath(program.root, path);
  return expr::Access::MakeProjection(std::move(program));
}

}  // namespace salespipe::table
