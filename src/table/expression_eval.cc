// Evaluation of parsed expressions: conditions, key conditions, updates and projections.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/decimal.h"
#include "table/expression.h"
#include "table/expression_access.h"
#include "table/expression_ast.h"

namespace salespipe::table {
namespace expr {
namespace {

constexpr std::string_view kMissingAttribute =
    "The provided expression refers to an attribute that does not exist in the item";
constexpr std::string_view kIncorrectType =
    "An operand in the update expression has an incorrect data type";
constexpr std::string_view kInvalidDocumentPath =
    "The document path provided in the update expression is invalid for update";

Status IncorrectType() { return Status::InvalidArgument(std::string(kIncorrectType)); }

// size(): defined for S and B (bytes), sets, lists and maps.
std::optional<size_t> SizeOf(const AttributeValue& value) {
  switch (value.type()) {
    case AttributeType::kString:
    case AttributeType::kBinary:
      return value.scalar().size();
    case AttributeType::kStringSet:
    case AttributeType::kNumberSet:
    case AttributeType::kBinarySet:
      return value.set().size();
    case AttributeType::kList:
      return value.list().size();
    case AttributeType::kMap:
      return value.map().size();
    default:
      return std::nullopt;
  }
}

// The value of `operand` on `item`, or nullptr when it has none. `scratch` holds computed
// values (size()).
const AttributeValue* Resolve(const Operand& operand, const Item& item, AttributeValue& scratch) {
  switch (operand.kind) {
    case Operand::Kind::kValue:
      return &operand.value;
    case Operand::Kind::kPath:
      return FindAtPath(item, operand.path);
    case Operand::Kind::kSize: {
      const AttributeValue* value = FindAtPath(item, operand.path);
      if (value == nullptr) return nullptr;
      std::optional<size_t> size = SizeOf(*value);
      if (!size) return nullptr;
      scratch = AttributeValue::Number(std::to_string(*size));
      return &scratch;
    }
  }
  return nullptr;
}

bool BeginsWith(const AttributeValue& value, const AttributeValue& prefix) {
  if (value.type() != prefix.type()) return false;
  if (value.type() != AttributeType::kString && value.type() != AttributeType::kBinary) {
    return false;
  }
  return value.scalar().starts_with(prefix.scalar());
}

bool Contains(const AttributeValue& haystack, const AttributeValue& needle) {
  switch (haystack.type()) {
    case AttributeType::kString:
    case AttributeType::kBinary:
      return needle.type() == haystack.type() &&
             haystack.scalar().find(needle.scalar()) != std::string::npos;
    case AttributeType::kStringSet:
    case AttributeType::kNumberSet:
    case AttributeType::kBinarySet:
      // Members are sorted bytewise, and numbers are canonical, so text equality is numeric
      // equality.
      return needle.type() == SetElementType(haystack.type()) &&
             std::binary_search(haystack.set().begin(), haystack.set().end(), needle.scalar());
    case AttributeType::kList:
      return std::any_of(haystack.list().begin(), haystack.list().end(),
                         [&](const AttributeValue& element) { return element == needle; });
    default:
      return false;
  }
}

bool Compare(CompareOp op, const AttributeValue* a, const AttributeValue* b) {
  if (op == CompareOp::kNe) return !(a != nullptr && b != nullptr && *a == *b);
  if (a == nullptr || b == nullptr) return false;
  if (op == CompareOp::kEq) return *a == *b;
  std::optional<int> order = OrderValues(*a, *b);
  if (!order) return false;
  switch (op) {
    case CompareOp::kLt:
      return *order < 0;
    case CompareOp::kLe:
      return *order <= 0;
    case CompareOp::kGt:
      return *order > 0;
    case CompareOp::kGe:
      return *order >= 0;
    default:
      return false;
  }
}

bool Between(const AttributeValue* value, const AttributeValue* lower,
             const AttributeValue* upper) {
  if (value == nullptr || lower == nullptr || upper == nullptr) return false;
  std::optional<int> above_lower = OrderValues(*value, *lower);
  std::optional<int> below_upper = OrderValues(*value, *upper);
  return above_lower && below_upper && *above_lower >= 0 && *below_upper <= 0;
}

Result<Decimal> NumberOf(const AttributeValue& value) {
  if (value.type() != AttributeType::kNumber) return IncorrectType();
  return Decimal::Parse(value.scalar());
}

Result<AttributeValue> EvaluateSetValue(const SetValue& value, const Item& item) {
  switch (value.kind) {
    case SetValue::Kind::kValue:
      return value.value;
    case SetValue::Kind::kPath: {
      const AttributeValue* found = FindAtPath(item, value.path);
      if (found == nullptr) return Status::InvalidArgument(std::string(kMissingAttribute));
      return *found;
    }
    case SetValue::Kind::kPlus:
    case SetValue::Kind::kMinus: {
      ASSIGN_OR_RETURN(AttributeValue left, EvaluateSetValue(value.args[0], item));
      ASSIGN_OR_RETURN(Decimal x, NumberOf(left));
      ASSIGN_OR_RETURN(AttributeValue right, EvaluateSetValue(value.args[1], item));
      ASSIGN_OR_RETURN(Decimal y, NumberOf(right));
      ASSIGN_OR_RETURN(Decimal result, value.kind == SetValue::Kind::kPlus
                                           ? Decimal::Add(x, y)
                                           : Decimal::Subtract(x, y));
      return AttributeValue::Number(result.ToString());
    }
    case SetValue::Kind::kIfNotExists: {
      if (const AttributeValue* found = FindAtPath(item, value.path)) return *found;
      return EvaluateSetValue(value.args[0], item);
    }
    case SetValue::Kind::kListAppend: {
      ASSIGN_OR_RETURN(AttributeValue left, EvaluateSetValue(value.args[0], item));
      if (left.type() != AttributeType::kList) return IncorrectType();
      ASSIGN_OR_RETURN(AttributeValue right, EvaluateSetValue(value.args[1], item));
      if (right.type() != AttributeType::kList) return IncorrectType();
      std::vector<AttributeValue> elements = left.list();
      elements.insert(elements.end(), right.list().begin(), right.list().end());
      return AttributeValue::List(std::move(elements));
    }
  }
  return IncorrectType();
}

// Checks that the parent of `path`'s last step exists and has the right kind, as REMOVE,
// ADD and DELETE require even when the target itself is missing.
Status CheckParent(const Item& item, const Path& path) {
  if (path.size() <= 1) return Status::Ok();
  Path parent_path(path.begin(), path.end() - 1);
  const AttributeValue* parent = FindAtPath(item, parent_path);
  AttributeType needed = path.back().is_index() ? AttributeType::kList : AttributeType::kMap;
  if (parent == nullptr || parent->type() != needed) {
    return Status::InvalidArgument(std::string(kInvalidDocumentPath));
  }
  return Status::Ok();
}

std::optional<AttributeValue> ProjectValue(const AttributeValue& value,
                                           const ProjectionNode& node) {
  if (node.whole) return value;
  if (value.type() == AttributeType::kMap && !node.names.empty()) {
    AttributeMap map;
    for (const auto& [name, child] : node.names) {
      auto it = value.map().find(name);
      if (it == value.map().end()) continue;
      if (std::optional<AttributeValue> projected = ProjectValue(it->second, child)) {
        map.emplace(name, std::move(*projected));
      }
    }
    if (map.empty()) return std::nullopt;
    return AttributeValue::Map(std::move(map));
  }
  if (value.type() == AttributeType::kList && !node.indexes.empty()) {
    std::vector<AttributeValue> list;
    for (const auto& [index, child] : node.indexes) {
      if (index >= value.list().size()) break;  // the map is ordered: the rest are past the end
      if (std::optional<AttributeValue> projected = ProjectValue(value.list()[index], child)) {
        list.push_back(std::move(*projected));
      }
    }
    if (list.empty()) return std::nullopt;
    return AttributeValue::List(std::move(list));
  }
  return std::nullopt;
}

std::vector<std::string> TopLevelNames(const std::vector<Path>& paths) {
  std::set<std::string> names;
  for (const Path& path : paths) {
    if (!path.empty() && !path[0].is_index()) names.insert(path[0].name());
  }
  return {names.begin(), names.end()};
}

}  // namespace

std::optional<int> OrderValues(const AttributeValue& a, const AttributeValue& b) {
  if (a.type() != b.type()) return std::nullopt;
  switch (a.type()) {
    case AttributeType::kNumber: {
      Result<Decimal> x = Decimal::Parse(a.scalar());
      Result<Decimal> y = Decimal::Parse(b.scalar());
      if (!x.ok() || !y.ok()) return std::nullopt;
      return x->Compare(*y);
    }
    case AttributeType::kString:
    case AttributeType::kBinary: {
      int order = a.scalar().compare(b.scalar());  // char_traits<char> compares as unsigned
      return order < 0 ? -1 : (order > 0 ? 1 : 0);
    }
    default:
      return std::nullopt;
  }
}

bool EvaluateCondition(const ConditionNode& node, const Item& item) {
  switch (node.kind) {
    case ConditionNode::Kind::kAnd:
      return std::all_of(
          node.children.begin(), node.children.end(),
          [&](const ConditionNode& child) { return EvaluateCondition(child, item); });
    case ConditionNode::Kind::kOr:
      return std::any_of(
          node.children.begin(), node.children.end(),
          [&](const ConditionNode& child) { return EvaluateCondition(child, item); });
    case ConditionNode::Kind::kNot:
      return !EvaluateCondition(node.children[0], item);
    case ConditionNode::Kind::kCompare: {
      AttributeValue scratch0, scratch1;
      return Compare(node.op, Resolve(node.operands[0], item, scratch0),
                     Resolve(node.operands[1], item, scratch1));
    }
    case ConditionNode::Kind::kBetween: {
      AttributeValue scratch0, scratch1, scratch2;
      return Between(Resolve(node.operands[0], item, scratch0),
                     Resolve(node.operands[1], item, scratch1),
                     Resolve(node.operands[2], item, scratch2));
    }
    case ConditionNode::Kind::kIn: {
      AttributeValue scratch;
      const AttributeValue* value = Resolve(node.operands[0], item, scratch);
      if (value == nullptr) return false;
      for (size_t i = 1; i < node.operands.size(); ++i) {
        AttributeValue candidate_scratch;
        const AttributeValue* candidate = Resolve(node.operands[i], item, candidate_scratch);
        if (candidate != nullptr && *candidate == *value) return true;
      }
      return false;
    }
    case ConditionNode::Kind::kAttributeExists:
      return FindAtPath(item, node.operands[0].path) != nullptr;
    case ConditionNode::Kind::kAttributeNotExists:
      return FindAtPath(item, node.operands[0].path) == nullptr;
    case ConditionNode::Kind::kAttributeType: {
      const AttributeValue* value = FindAtPath(item, node.operands[0].path);
      return value != nullptr && value->type() == node.type;
    }
    case ConditionNode::Kind::kBeginsWith:
    case ConditionNode::Kind::kContains: {
      AttributeValue scratch0, scratch1;
      const AttributeValue* a = Resolve(node.operands[0], item, scratch0);
      const AttributeValue* b = Resolve(node.operands[1], item, scratch1);
      if (a == nullptr || b == nullptr) return false;
      return node.kind == ConditionNode::Kind::kBeginsWith ? BeginsWith(*a, *b) : Contains(*a, *b);
    }
  }
  return false;
}

void AddProjectionPath(ProjectionNode& root, const Path& path) {
  ProjectionNode* node = &root;
  for (const PathElement& element : path) {
    if (node->whole) return;  // an enclosing path takes the whole value already
    node = element.is_index() ? &node->indexes[element.index()] : &node->names[element.name()];
  }
  node->whole = true;
  node->names.clear();
  node->indexes.clear();
}

Item ProjectItem(const Item& item, const ProjectionNode& root) {
  Item projected;
  for (const auto& [name, child] : root.names) {
    auto it = item.find(name);
    if (it == item.end()) continue;
    if (std::optional<AttributeValue> value = ProjectValue(it->second, child)) {
      projected.emplace(name, std::move(*value));
    }
  }
  return projected;
}

}  // namespace expr

// --- Condition ---

bool Condition::Evaluate(const Item& item) const {
  return root_ == nullptr || expr::EvaluateCondition(*root_, item);
}

bool Condition::Evaluate(const std::optional<Item>& item) const {
  static const Item kEmpty;
  return Evaluate(item ? *item : kEmpty);
}

// --- KeyCondition ---

bool KeyConditionTerm::Matches(const AttributeValue* value) const {
  if (value == nullptr || values.empty()) return false;
  switch (op) {
    case KeyOperator::kEq:
      return *value == values[0];
    case KeyOperator::kLt:
      return expr::Compare(expr::CompareOp::kLt, value, &values[0]);
    case KeyOperator::kLe:
      return expr::Compare(expr::CompareOp::kLe, value, &values[0]);
    case KeyOperator::kGt:
      return expr::Compare(expr::CompareOp::kGt, value, &values[0]);
    case KeyOperator::kGe:
      return expr::Compare(expr::CompareOp::kGe, value, &values[0]);
    case KeyOperator::kBetween:
      return values.size() == 2 && expr::Between(value, &values[0], &values[1]);
    case KeyOperator::kBeginsWith:
      return expr::BeginsWith(*value, values[0]);
  }
  return false;
}

Result<BoundKeyCondition> KeyCondition::Bind(std::string_view partition_key,
                                             const std::string* sort_key) const {
  const KeyConditionTerm* partition = nullptr;
  const KeyConditionTerm* other = nullptr;
  for (const KeyConditionTerm& term : terms) {
    if (partition == nullptr && term.attribute == partition_key) {
      partition = &term;
    } else {
      other = &term;
    }
  }
  if (partition == nullptr) {
    return Status::InvalidArgument("Query condition missed key schema element: " +
                                   std::string(partition_key));
  }
  if (partition->op != KeyOperator::kEq || (other != nullptr && sort_key == nullptr)) {
    return Status::InvalidArgument("Query key condition not supported");
  }
  BoundKeyCondition bound;
  bound.partition_attribute = partition->attribute;
  bound.partition_value = partition->values.empty() ? AttributeValue() : partition->values[0];
  if (other != nullptr) {
    if (other->attribute != *sort_key) {
      return Status::InvalidArgument("Query condition missed key schema element: " + *sort_key);
    }
    bound.sort = *other;
  }
  return bound;
}

// --- Update ---

namespace {
Status ApplyProgram(const expr::UpdateProgram& program, Item& item);
}  // namespace

Status Update::Apply(Item& item) const {
  if (program_ == nullptr) return Status::Ok();
  Status status = ApplyProgram(*program_, item);
  if (!status.ok() && program_->legacy && status.message() == expr::kIncorrectType) {
    // AttributeUpdates words the same failure differently.
    return Status::InvalidArgument("Type mismatch for attribute to update");
  }
  return status;
}

namespace {

Status ApplyProgram(const expr::UpdateProgram& program, Item& item) {
  const std::vector<expr::UpdateAction>& actions = program.actions;
  using Kind = expr::UpdateAction::Kind;

  // Every operand sees the item as it was before the update (SET a = b, b = a swaps).
  std::vector<std::optional<AttributeValue>> set_values(actions.size());
  std::vector<Path> removals;
  for (size_t i = 0; i < actions.size(); ++i) {
    const expr::UpdateAction& action = actions[i];
    if (action.kind == Kind::kSet) {
      ASSIGN_OR_RETURN(set_values[i], expr::EvaluateSetValue(action.value, item));
    } else if (action.kind == Kind::kRemove) {
      // Removals address the list as it was, so whether a target exists is decided now.
      RETURN_IF_ERROR(expr::CheckParent(item, action.path));
      if (FindAtPath(item, action.path) != nullptr) removals.push_back(action.path);
    }
  }

  Item result = item;
  // SET, in path order: several appends to one list land in index order, as DynamoDB says.
  std::vector<size_t> set_order;
  for (size_t i = 0; i < actions.size(); ++i) {
    if (actions[i].kind == Kind::kSet) set_order.push_back(i);
  }
  std::stable_sort(set_order.begin(), set_order.end(),
                   [&](size_t a, size_t b) { return PathLess(actions[a].path, actions[b].path); });
  for (size_t i : set_order) {
    RETURN_IF_ERROR(SetAtPath(result, actions[i].path, std::move(*set_values[i])));
  }

  for (const expr::UpdateAction& action : actions) {
    if (action.kind != Kind::kAdd) continue;
    const AttributeValue& operand = action.operand;
    AttributeValue* existing = FindAtPath(result, action.path);
    if (existing == nullptr) {
      RETURN_IF_ERROR(expr::CheckParent(result, action.path));
      RETURN_IF_ERROR(SetAtPath(result, action.path, operand));
      continue;
    }
    if (existing->type() != operand.type()) return expr::IncorrectType();
    if (operand.type() == AttributeType::kNumber) {
      ASSIGN_OR_RETURN(Decimal x, expr::NumberOf(*existing));
      ASSIGN_OR_RETURN(Decimal y, expr::NumberOf(operand));
      ASSIGN_OR_RETURN(Decimal sum, Decimal::Add(x, y));
      *existing = AttributeValue::Number(sum.ToString());
    } else {
      std::vector<std::string> merged;
      std::set_union(existing->set().begin(), existing->set().end(), operand.set().begin(),
                     operand.set().end(), std::back_inserter(merged));
      existing->mutable_set() = std::move(merged);
    }
  }

  for (const expr::UpdateAction& action : actions) {
    if (action.kind != Kind::kDelete) continue;
    AttributeValue* existing = FindAtPath(result, action.path);
    if (existing == nullptr) {
      RETURN_IF_ERROR(expr::CheckParent(result, action.path));
      continue;
    }
    if (existing->type() != action.operand.type()) return expr::IncorrectType();
    std::vector<std::string> remaining;
    std::set_difference(existing->set().begin(), existing->set().end(),
                        action.operand.set().begin(), action.operand.set().end(),
                        std::back_inserter(remaining));
    if (remaining.empty()) {
      removals.push_back(action.path);  // an emptied set disappears, as DynamoDB does
    } else {
      existing->mutable_set() = std::move(remaining);
    }
  }

  // Highest paths first, so removing one list element doesn't shift the others' indexes.
  std::sort(removals.begin(), removals.end(),
            [](const Path& a, const Path& b) { return PathLess(b, a); });
  for (const Path& path : removals) RETURN_IF_ERROR(RemoveAtPath(result, path));

  item = std::move(result);
  return Status::Ok();
}

}  // namespace

const std::vector<Path>& Update::paths() const {
  static const std::vector<Path> kNone;
  return program_ ? program_->paths : kNone;
}

namespace {
void CollectConditionPaths(const expr::ConditionNode& node, std::vector<Path>& paths) {
  for (const auto& operand : node.operands) {
    if (operand.kind != expr::Operand::Kind::kValue) paths.push_back(operand.path);
  }
  for (const auto& child : node.children) CollectConditionPaths(child, paths);
}
}  // namespace

std::vector<std::string> Condition::TopLevelAttributes() const {
  if (root_ == nullptr) return {};
  std::vector<Path> paths;
  CollectConditionPaths(*root_, paths);
  return expr::TopLevelNames(paths);
}

std::vector<std::string> Update::TopLevelAttributes() const { return expr::TopLevelNames(paths()); }

Item Update::UpdatedAttributes(const Item& item) const {
  if (program_ == nullptr) return {};
  return expr::ProjectItem(item, program_->targets);
}

// --- Projection ---

Item Projection::Apply(const Item& item) const {
  if (program_ == nullptr) return item;
  return expr::ProjectItem(item, program_->root);
}

const std::vector<Path>& Projection::paths() const {
  static const std::vector<Path> kNone;
  return program_ ? program_->paths : kNone;
}

std::vector<std::string> Projection::TopLevelAttributes() const {
  return expr::TopLevelNames(paths());
}

}  // namespace salespipe::table
