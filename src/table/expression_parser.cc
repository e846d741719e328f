// Parsing of DynamoDB expressions in two passes:
//  1. Parser: tokens -> a raw tree, reporting the first syntax error in token order, as
//     DynamoDB's generated parser does ("Syntax error; token: ..., near: ...").
//  2. Binder: raw tree -> the checked trees of expression_ast.h. It substitutes placeholders
//     and collects the semantic errors. DynamoDB reports them by category, not by position
//     (an unknown function beats a reserved word that comes earlier), so the binder keeps the
//     first error of each category and returns the highest-ranked one. The ranking follows
//     the observed behaviour mirrored by dynalite's grammars.
//
// Both passes recurse along the nesting of the input, which is bounded by
// kMaxExpressionNesting, so hostile input can't exhaust the stack.

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/crypto.h"
#include "table/expression.h"
#include "table/expression_access.h"
#include "table/expression_ast.h"
#include "table/expression_syntax.h"
#include "table/reserved_words.h"

namespace salespipe::table {
namespace expr {
namespace {

constexpr size_t kMaxOperators = 300;
constexpr size_t kMaxInOperands = 100;

// ---------------------------------------------------------------------------------------
// Binder

// Categories of semantic errors; each expression kind ranks them (see kConditionRanking...).
enum class Slot {
  kLimits,
  kParens,
  kUnknownFunction,
  kMisusedFunction,
  kReserved,
  kSection,
  kUndefined,  // conditions: names and values share one category
  kUndefinedName,
  kUndefinedValue,
  kOverlap,
  kConflict,
  kOperandCount,
  kDistinct,
  kOperand,
  kFunction,
  kCount,
};

constexpr std::array kConditionRanking = {
    Slot::kLimits,          Slot::kParens,   Slot::kUnknownFunction,
    Slot::kMisusedFunction, Slot::kReserved, Slot::kUndefined,
    Slot::kOperandCount,    Slot::kDistinct, Slot::kFunction,
};
constexpr std::array kUpdateRanking = {
    Slot::kLimits,        Slot::kReserved,       Slot::kUnknownFunction, Slot::kSection,
    Slot::kUndefinedName, Slot::kUndefinedValue, Slot::kOverlap,         Slot::kConflict,
    Slot::kOperand,       Slot::kFunction,
};
constexpr std::array kProjectionRanking = {
    Slot::kLimits, Slot::kReserved, Slot::kUndefinedName, Slot::kOverlap, Slot::kConflict,
};

struct FunctionInfo {
  std::string_view name;
  size_t arity;
};
constexpr std::array kConditionFunctions = {
    FunctionInfo{"attribute_exists", 1}, FunctionInfo{"attribute_not_exists", 1},
    FunctionInfo{"attribute_type", 2},   FunctionInfo{"begins_with", 2},
    FunctionInfo{"contains", 2},         FunctionInfo{"size", 1},
};
constexpr std::array kUpdateFunctions = {
    FunctionInfo{"if_not_exists", 2},
    FunctionInfo{"list_append", 2},
};

template <size_t N>
const FunctionInfo* FindFunction(const std::array<FunctionInfo, N>& functions,
                                 std::string_view name) {
  for (const FunctionInfo& info : functions) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::optional<AttributeType> TypeFromName(std::string_view name) {
  static constexpr std::array kTypes = {
      AttributeType::kNull,      AttributeType::kString,    AttributeType::kNumber,
      AttributeType::kBinary,    AttributeType::kBool,      AttributeType::kStringSet,
      AttributeType::kNumberSet, AttributeType::kBinarySet, AttributeType::kList,
      AttributeType::kMap,
  };
  for (AttributeType type : kTypes) {
    if (TypeName(type) == name) return type;
  }
  return std::nullopt;
}

// DynamoDB's spelled-out type names in ADD/DELETE operand errors.
std::string_view LongTypeName(AttributeType type) {
  switch (type) {
    case AttributeType::kString:
      return "STRING";
    case AttributeType::kNumber:
      return "NUMBER";
    case AttributeType::kBinary:
      return "BINARY";
    case AttributeType::kNull:
      return "NULL";
    case AttributeType::kBool:
      return "BOOLEAN";
    case AttributeType::kList:
      return "LIST";
    case AttributeType::kMap:
      return "MAP";
    default:
      return TypeName(type);
  }
}

// "AttributeValue: {N:5}" as in DynamoDB's BETWEEN messages.
std::string DescribeValue(const AttributeValue& value) {
  std::string payload;
  switch (value.type()) {
    case AttributeType::kString:
    case AttributeType::kNumber:
      payload = value.scalar();
      break;
    case AttributeType::kBinary:
      payload = Base64Encode(value.scalar());
      break;
    case AttributeType::kBool:
      payload = value.boolean() ? "true" : "false";
      break;
    case AttributeType::kNull:
      payload = "true";
      break;
    default:
      payload = "...";
      break;
  }
  return "AttributeValue: {" + std::string(TypeName(value.type())) + ":" + payload + "}";
}

// Resolves a raw tree against the context and collects semantic errors by category.
// An undefined placeholder leaves a default (NULL) operand behind; any type error it then
// causes ranks below the undefined-placeholder error, so it is never the one reported.
class Binder {
 public:
  template <size_t N>
  Binder(ExpressionContext& context, std::string_view param_name,
         const std::array<Slot, N>& ranking)
      : context_(context), param_name_(param_name), ranking_(ranking.begin(), ranking.end()) {}

  Status Finish() {
    if (operators_ > kMaxOperators) {
      Report(Slot::kLimits, "The expression contains too many operators; operator count: " +
                                std::to_string(operators_));
    }
    for (Slot slot : ranking_) {
      const std::optional<std::string>& message = errors_[static_cast<size_t>(slot)];
      if (message) return Status::InvalidArgument(Prefix(param_name_) + *message);
    }
    return Status::Ok();
  }

  // --- paths ---

  // The resolved path, or nullopt when a placeholder is undefined (reported).
  std::optional<Path> BindPath(const RawPath& raw) {
    Path path;
    path.reserve(raw.size());
    bool resolved = true;
    for (const RawPathElement& element : raw) {
      switch (element.kind) {
        case RawPathElement::Kind::kName:
          if (IsReservedWord(element.text)) {
            Report(Slot::kReserved, "Attribute name is a reserved keyword; reserved keyword: " +
                                        std::string(element.text));
          }
          path.push_back(PathElement::Name(std::string(element.text)));
          break;
        case RawPathElement::Kind::kPlaceholder:
          if (const std::string* name = context_.ResolveName(element.text)) {
            path.push_back(PathElement::Name(*name));
          } else {
            Report(undefined_name_slot_,
                   "An expression attribute name used in the document path is not defined; "
                   "attribute name: " +
                       std::string(element.text));
            resolved = false;
          }
          break;
        case RawPathElement::Kind::kIndex:
          path.push_back(PathElement::Index(element.index));
          break;
      }
    }
    if (!resolved) return std::nullopt;
    return path;
  }

  // Records `path` as a target and reports overlaps/conflicts with earlier targets.
  void AddTargetPath(const Path& path) {
    for (const Path& earlier : targets_) {
      switch (RelatePaths(earlier, path)) {
        case PathRelation::kDisjoint:
          break;
        case PathRelation::kOverlap:
          Report(Slot::kOverlap,
                 "Two document paths overlap with each other; must remove or rewrite one of "
                 "these paths; path one: " +
                     PathToString(earlier) + ", path two: " + PathToString(path));
          break;
        case PathRelation::kConflict:
          Report(Slot::kConflict,
                 "Two document paths conflict with each other; must remove or rewrite one of "
                 "these paths; path one: " +
                     PathToString(earlier) + ", path two: " + PathToString(path));
          break;
      }
    }
    targets_.push_back(path);
  }

  void SplitUndefinedSlots() {
    undefined_name_slot_ = Slot::kUndefinedName;
    undefined_value_slot_ = Slot::kUndefinedValue;
  }

  // --- conditions ---

  ConditionNode BindCondition(const RawNode& raw) {
    CheckParens(raw);
    ConditionNode node;
    switch (raw.kind) {
      case RawNode::Kind::kAnd:
      case RawNode::Kind::kOr:
        operators_ += raw.args.size() - 1;
        node.kind =
            raw.kind == RawNode::Kind::kAnd ? ConditionNode::Kind::kAnd : ConditionNode::Kind::kOr;
        for (const RawNode& child : raw.args) node.children.push_back(BindCondition(child));
        return node;
      case RawNode::Kind::kNot:
        ++operators_;
        node.kind = ConditionNode::Kind::kNot;
        node.children.push_back(BindCondition(raw.args[0]));
        return node;
      case RawNode::Kind::kCompare:
        ++operators_;
        node.kind = ConditionNode::Kind::kCompare;
        node.op = raw.op;
        node.operands.push_back(BindOperand(raw.args[0]));
        node.operands.push_back(BindOperand(raw.args[1]));
        CheckDistinct(raw.text, raw.args, node.operands);
        return node;
      case RawNode::Kind::kBetween:
        ++operators_;
        node.kind = ConditionNode::Kind::kBetween;
        for (const RawNode& argument : raw.args) node.operands.push_back(BindOperand(argument));
        CheckBetweenBounds(raw, node.operands);
        return node;
      case RawNode::Kind::kIn:
        ++operators_;
        node.kind = ConditionNode::Kind::kIn;
        if (raw.args.size() - 1 > kMaxInOperands) {
          Report(Slot::kLimits,
                 "The IN operator is provided with too many operands; number of operands: " +
                     std::to_string(raw.args.size() - 1));
        }
        for (const RawNode& argument : raw.args) node.operands.push_back(BindOperand(argument));
        return node;
      case RawNode::Kind::kCall:
        return BindConditionFunction(raw);
      default:
        // The parser never yields a bare operand as a condition.
        return node;
    }
  }

  // --- updates ---

  SetValue BindSetValue(const RawNode& raw) {
    SetValue value;
    switch (raw.kind) {
      case RawNode::Kind::kPath:
        value.kind = SetValue::Kind::kPath;
        if (std::optional<Path> path = BindPath(raw.path)) value.path = std::move(*path);
        return value;
      case RawNode::Kind::kValue:
        value.kind = SetValue::Kind::kValue;
        if (const AttributeValue* constant = BindValue(raw.text)) value.value = *constant;
        return value;
      case RawNode::Kind::kPlus:
      case RawNode::Kind::kMinus:
        ++operators_;
        value.kind =
            raw.kind == RawNode::Kind::kPlus ? SetValue::Kind::kPlus : SetValue::Kind::kMinus;
        for (const RawNode& argument : raw.args) value.args.push_back(BindSetValue(argument));
        CheckConstantTypes(raw, value.args, AttributeType::kNumber);
        return value;
      case RawNode::Kind::kCall:
        return BindUpdateFunction(raw);
      default:
        return value;
    }
  }

  void BindUpdateOperand(const RawAction& raw, UpdateAction& action) {
    const AttributeValue* value = BindValue(raw.value_placeholder);
    if (value == nullptr) return;
    action.operand = *value;
    AttributeType type = value->type();
    bool is_add = raw.kind == UpdateAction::Kind::kAdd;
    bool allowed = value->is_set() || (is_add && type == AttributeType::kNumber);
    if (!allowed) {
      Report(Slot::kOperand, std::string("Incorrect operand type for operator or function; "
                                         "operator: ") +
                                 (is_add ? "ADD" : "DELETE") +
                                 ", operand type: " + std::string(LongTypeName(type)));
    }
  }

  void CheckSections(const std::vector<std::string_view>& sections) {
    for (size_t i = 0; i < sections.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (sections[i] == sections[j]) {
          Report(Slot::kSection, "The \"" + std::string(sections[i]) +
                                     "\" section can only be used once in an update expression;");
        }
      }
    }
  }

 private:
  void Report(Slot slot, std::string message) {
    std::optional<std::string>& entry = errors_[static_cast<size_t>(slot)];
    if (!entry) entry = std::move(message);
  }

  const AttributeValue* BindValue(std::string_view placeholder) {
    const AttributeValue* value = context_.ResolveValue(placeholder);
    if (value == nullptr) {
      Report(undefined_value_slot_,
             "An expression attribute value used in expression is not defined; attribute "
             "value: " +
                 std::string(placeholder));
    }
    return value;
  }

  void CheckParens(const RawNode& raw) {
    if (raw.parens >= 2) Report(Slot::kParens, "The expression has redundant parentheses;");
  }

  void ReportMisused(std::string_view function) {
    Report(Slot::kMisusedFunction,
           "The function is not allowed to be used this way in an expression; function: " +
               std::string(function));
  }

  void ReportUnknownFunction(std::string_view function) {
    Report(Slot::kUnknownFunction, "Invalid function name; function: " + std::string(function));
  }

  void ReportOperandType(std::string_view function, std::string_view type, Slot slot) {
    Report(slot, "Incorrect operand type for operator or function; operator or function: " +
                     std::string(function) + ", operand type: " + std::string(type));
  }

  void ReportArity(std::string_view function, size_t count, Slot slot) {
    Report(slot, "Incorrect number of operands for operator or function; operator or function: " +
                     std::string(function) + ", number of operands: " + std::to_string(count));
  }

  void ReportNeedsPath(std::string_view function, Slot slot) {
    Report(slot, "Operator or function requires a document path; operator or function: " +
                     std::string(function));
  }

  // The type an operand has whatever the item holds (constants and size()).
  static std::optional<AttributeType> StaticType(const Operand& operand) {
    switch (operand.kind) {
      case Operand::Kind::kValue:
        return operand.value.type();
      case Operand::Kind::kSize:
        return AttributeType::kNumber;
      case Operand::Kind::kPath:
        return std::nullopt;
    }
    return std::nullopt;
  }

  // An operand of a comparison, BETWEEN, IN or condition function.
  Operand BindOperand(const RawNode& raw) {
    CheckParens(raw);
    Operand operand;
    switch (raw.kind) {
      case RawNode::Kind::kPath:
        operand.kind = Operand::Kind::kPath;
        if (std::optional<Path> path = BindPath(raw.path)) operand.path = std::move(*path);
        return operand;
      case RawNode::Kind::kValue:
        if (const AttributeValue* value = BindValue(raw.text)) operand.value = *value;
        return operand;
      case RawNode::Kind::kCall:
        return BindSize(raw);
      default:
        return operand;  // the parser yields only operands here
    }
  }

  // size(...) used as an operand; other functions are misused there.
  Operand BindSize(const RawNode& raw) {
    Operand operand;
    ++operators_;
    if (raw.text != "size") {
      if (FindFunction(kConditionFunctions, raw.text) == nullptr) {
        ReportUnknownFunction(raw.text);
      } else {
        ReportMisused(raw.text);
      }
      return operand;
    }
    if (raw.args.size() != 1) {
      ReportArity(raw.text, raw.args.size(), Slot::kOperandCount);
      return operand;
    }
    const RawNode& argument = raw.args[0];
    Operand inner = BindOperand(argument);
    switch (inner.kind) {
      case Operand::Kind::kPath:
        operand.kind = Operand::Kind::kSize;
        operand.path = std::move(inner.path);
        return operand;
      case Operand::Kind::kSize:
        ReportOperandType("size", "N", Slot::kFunction);
        return operand;
      case Operand::Kind::kValue:
        break;
    }
    if (argument.kind != RawNode::Kind::kValue) return operand;  // already reported
    // size() of a constant folds to a constant.
    const AttributeValue& value = inner.value;
    size_t size = 0;
    switch (value.type()) {
      case AttributeType::kString:
      case AttributeType::kBinary:
        size = value.scalar().size();
        break;
      case AttributeType::kStringSet:
      case AttributeType::kNumberSet:
      case AttributeType::kBinarySet:
        size = value.set().size();
        break;
      case AttributeType::kList:
        size = value.list().size();
        break;
      case AttributeType::kMap:
        size = value.map().size();
        break;
      default:
        ReportOperandType("size", TypeName(value.type()), Slot::kFunction);
        return operand;
    }
    operand.value = AttributeValue::Number(std::to_string(size));
    return operand;
  }

  ConditionNode BindConditionFunction(const RawNode& raw) {
    ++operators_;
    ConditionNode node;
    const FunctionInfo* info = FindFunction(kConditionFunctions, raw.text);
    if (info == nullptr) {
      ReportUnknownFunction(raw.text);
      return node;
    }
    if (raw.text == "size") {
      ReportMisused(raw.text);
      return node;
    }
    if (raw.args.size() != info->arity) {
      ReportArity(raw.text, raw.args.size(), Slot::kOperandCount);
      return node;
    }
    for (const RawNode& argument : raw.args) node.operands.push_back(BindOperand(argument));
    CheckDistinct(raw.text, raw.args, node.operands);
    std::string_view name = raw.text;
    if (name == "attribute_exists" || name == "attribute_not_exists") {
      node.kind = name == "attribute_exists" ? ConditionNode::Kind::kAttributeExists
                                             : ConditionNode::Kind::kAttributeNotExists;
      if (raw.args[0].kind != RawNode::Kind::kPath) ReportNeedsPath(name, Slot::kFunction);
    } else if (name == "attribute_type") {
      node.kind = ConditionNode::Kind::kAttributeType;
      if (raw.args[0].kind != RawNode::Kind::kPath) ReportNeedsPath(name, Slot::kFunction);
      const Operand& type_operand = node.operands[1];
      std::optional<AttributeType> static_type = StaticType(type_operand);
      if (raw.args[1].kind == RawNode::Kind::kValue && type_operand.kind == Operand::Kind::kValue &&
          static_type == AttributeType::kString) {
        if (std::optional<AttributeType> type = TypeFromName(type_operand.value.scalar())) {
          node.type = *type;
        } else {
          Report(Slot::kFunction,
                 "Invalid attribute type name found; type: " + type_operand.value.scalar() +
                     ", valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
        }
      } else if (raw.args[1].kind != RawNode::Kind::kValue || static_type) {
        ReportOperandType(name,
                          static_type ? TypeName(*static_type) : "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}",
                          Slot::kFunction);
      }
    } else if (name == "begins_with") {
      node.kind = ConditionNode::Kind::kBeginsWith;
      for (const Operand& operand : node.operands) {
        std::optional<AttributeType> type = StaticType(operand);
        if (type && *type != AttributeType::kString && *type != AttributeType::kBinary) {
          ReportOperandType(name, TypeName(*type), Slot::kFunction);
          break;
        }
      }
    } else {
      node.kind = ConditionNode::Kind::kContains;
    }
    return node;
  }

  void CheckDistinct(std::string_view op, const std::vector<RawNode>& raw,
                     const std::vector<Operand>& operands) {
    if (operands.size() != 2 || raw[0].kind != RawNode::Kind::kPath ||
        raw[1].kind != RawNode::Kind::kPath || operands[0].path.empty() ||
        operands[0].path != operands[1].path) {
      return;
    }
    Report(Slot::kDistinct,
           "The first operand must be distinct from the remaining operands for this operator or "
           "function; operator: " +
               std::string(op) + ", first operand: " + PathToString(operands[0].path));
  }

  void CheckBetweenBounds(const RawNode& raw, const std::vector<Operand>& operands) {
    if (raw.args[1].kind != RawNode::Kind::kValue || raw.args[2].kind != RawNode::Kind::kValue) {
      return;
    }
    const AttributeValue& lower = operands[1].value;
    const AttributeValue& upper = operands[2].value;
    std::string bounds = "lower bound operand: " + DescribeValue(lower) +
                         ", upper bound operand: " + DescribeValue(upper);
    if (lower.type() != upper.type()) {
      Report(Slot::kFunction,
             "The BETWEEN operator requires same data type for lower and upper bounds; " + bounds);
      return;
    }
    std::optional<int> order = OrderValues(lower, upper);
    if (order && *order > 0) {
      Report(Slot::kFunction,
             "The BETWEEN operator requires upper bound to be greater than or equal to lower "
             "bound; " +
                 bounds);
    }
  }

  SetValue BindUpdateFunction(const RawNode& raw) {
    ++operators_;
    SetValue value;
    const FunctionInfo* info = FindFunction(kUpdateFunctions, raw.text);
    if (info == nullptr) {
      ReportUnknownFunction(raw.text);
      return value;
    }
    if (raw.args.size() != info->arity) {
      ReportArity(raw.text, raw.args.size(), Slot::kFunction);
      return value;
    }
    std::vector<SetValue> args;
    for (const RawNode& argument : raw.args) args.push_back(BindSetValue(argument));
    if (raw.text == "if_not_exists") {
      value.kind = SetValue::Kind::kIfNotExists;
      if (raw.args[0].kind != RawNode::Kind::kPath) {
        ReportNeedsPath(raw.text, Slot::kFunction);
        return value;
      }
      value.path = std::move(args[0].path);
      value.args.push_back(std::move(args[1]));
      return value;
    }
    value.kind = SetValue::Kind::kListAppend;
    value.args = std::move(args);
    CheckConstantTypes(raw, value.args, AttributeType::kList);
    return value;
  }

  // Reports the first constant argument of `raw` whose type isn't `expected`.
  void CheckConstantTypes(const RawNode& raw, const std::vector<SetValue>& args,
                          AttributeType expected) {
    for (size_t i = 0; i < raw.args.size(); ++i) {
      if (raw.args[i].kind != RawNode::Kind::kValue) continue;
      AttributeType type = args[i].value.type();
      if (type != expected) {
        ReportOperandType(raw.text, TypeName(type), Slot::kFunction);
        return;
      }
    }
  }

  ExpressionContext& context_;
  std::string_view param_name_;
  std::vector<Slot> ranking_;
  std::array<std::optional<std::string>, static_cast<size_t>(Slot::kCount)> errors_;
  Slot undefined_name_slot_ = Slot::kUndefined;
  Slot undefined_value_slot_ = Slot::kUndefined;
  std::vector<Path> targets_;
  size_t operators_ = 0;
};

Status CheckText(std::string_view text, std::string_view param_name) {
  if (text.empty()) {
    return Status::InvalidArgument(Prefix(param_name) + "The expression can not be empty;");
  }
  if (text.size() > kMaxExpressionBytes) {
    return Status::InvalidArgument(
        Prefix(param_name) +
        "Expression size has exceeded the maximum allowed size; expression size: " +
        std::to_string(text.size()));
  }
  return Status::Ok();
}

Result<ConditionNode> ParseConditionTree(std::string_view text, ExpressionContext& context,
                                         std::string_view param_name) {
  RETURN_IF_ERROR(CheckText(text, param_name));
  ASSIGN_OR_RETURN(RawNode raw, ParseRawCondition(text, param_name));
  Binder binder(context, param_name, kConditionRanking);
  ConditionNode root = binder.BindCondition(raw);
  RETURN_IF_ERROR(binder.Finish());
  return root;
}

// --- key conditions ---

std::string_view KeyOperatorName(const ConditionNode& node) {
  switch (node.kind) {
    case ConditionNode::Kind::kOr:
      return "OR";
    case ConditionNode::Kind::kNot:
      return "NOT";
    case ConditionNode::Kind::kIn:
      return "IN";
    case ConditionNode::Kind::kAttributeExists:
      return "attribute_exists";
    case ConditionNode::Kind::kAttributeNotExists:
      return "attribute_not_exists";
    case ConditionNode::Kind::kAttributeType:
      return "attribute_type";
    case ConditionNode::Kind::kContains:
      return "contains";
    case ConditionNode::Kind::kCompare:
      return node.op == CompareOp::kNe ? "<>" : "";
    default:
      return "";
  }
}

// Mirrors a comparison so the key attribute is on the left: `:v < k` is `k > :v`.
KeyOperator KeyOperatorFor(CompareOp op, bool swapped) {
  switch (op) {
    case CompareOp::kLt:
      return swapped ? KeyOperator::kGt : KeyOperator::kLt;
    case CompareOp::kLe:
      return swapped ? KeyOperator::kGe : KeyOperator::kLe;
    case CompareOp::kGt:
      return swapped ? KeyOperator::kLt : KeyOperator::kGt;
    case CompareOp::kGe:
      return swapped ? KeyOperator::kLe : KeyOperator::kGe;
    default:
      return KeyOperator::kEq;
  }
}

Status KeyConditionTerms(const ConditionNode& node, std::vector<KeyConditionTerm>& terms) {
  if (node.kind == ConditionNode::Kind::kAnd) {
    for (const ConditionNode& child : node.children) {
      RETURN_IF_ERROR(KeyConditionTerms(child, terms));
    }
    return Status::Ok();
  }
  if (std::string_view name = KeyOperatorName(node); !name.empty()) {
    return Status::InvalidArgument("Invalid operator used in KeyConditionExpression: " +
                                   std::string(name));
  }
  bool is_between = node.kind == ConditionNode::Kind::kBetween;
  bool is_begins_with = node.kind == ConditionNode::Kind::kBeginsWith;
  if ((is_between || is_begins_with) && node.operands[0].kind != Operand::Kind::kPath) {
    for (const Operand& operand : node.operands) {
      if (operand.kind == Operand::Kind::kSize) {
        return Status::InvalidArgument("KeyConditionExpressions cannot contain nested operations");
      }
    }
    return Status::InvalidArgument(std::string("Invalid condition in KeyConditionExpression: ") +
                                   (is_between ? "BETWEEN" : "begins_with") +
                                   " operator must have the key attribute as its first operand");
  }
  const Path* path = nullptr;
  size_t path_index = 0;
  for (size_t i = 0; i < node.operands.size(); ++i) {
    const Operand& operand = node.operands[i];
    if (operand.kind == Operand::Kind::kSize) {
      return Status::InvalidArgument("KeyConditionExpressions cannot contain nested operations");
    }
    if (operand.kind != Operand::Kind::kPath) continue;
    if (path != nullptr) {
      return Status::InvalidArgument(
          "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
          "condition");
    }
    if (operand.path.size() > 1) {
      return Status::InvalidArgument(
          "KeyConditionExpressions cannot have conditions on nested attributes");
    }
    path = &operand.path;
    path_index = i;
  }
  if (path == nullptr) {
    return Status::InvalidArgument(
        "Invalid condition in KeyConditionExpression: No key attribute specified");
  }
  KeyConditionTerm term;
  term.attribute = (*path)[0].name();
  for (const KeyConditionTerm& earlier : terms) {
    if (earlier.attribute == term.attribute) {
      return Status::InvalidArgument(
          "KeyConditionExpressions must only contain one condition per key");
    }
  }
  for (size_t i = 0; i < node.operands.size(); ++i) {
    if (i != path_index) term.values.push_back(node.operands[i].value);
  }
  if (is_between) {
    term.op = KeyOperator::kBetween;
  } else if (is_begins_with) {
    term.op = KeyOperator::kBeginsWith;
  } else {
    term.op = KeyOperatorFor(node.op, /*swapped=*/path_index != 0);
  }
  terms.push_back(std::move(term));
  return Status::Ok();
}

}  // namespace
}  // namespace expr

using expr::Access;
using expr::Binder;
using expr::RawNode;
using expr::RawPath;
using expr::RawUpdate;

Result<Condition> ParseCondition(std::string_view text, ExpressionContext& context,
                                 std::string_view param_name) {
  ASSIGN_OR_RETURN(expr::ConditionNode root, expr::ParseConditionTree(text, context, param_name));
  return Access::MakeCondition(std::move(root));
}

Result<KeyCondition> ParseKeyCondition(std::string_view text, ExpressionContext& context) {
  ASSIGN_OR_RETURN(expr::ConditionNode root,
                   expr::ParseConditionTree(text, context, "KeyConditionExpression"));
  KeyCondition condition;
  RETURN_IF_ERROR(expr::KeyConditionTerms(root, condition.terms));
  if (condition.terms.size() > 2) {
    return Status::InvalidArgument("Conditions can be of length 1 or 2 only");
  }
  return condition;
}

Result<Update> ParseUpdate(std::string_view text, ExpressionContext& context) {
  constexpr std::string_view kParam = "UpdateExpression";
  RETURN_IF_ERROR(expr::CheckText(text, kParam));
  ASSIGN_OR_RETURN(RawUpdate raw, expr::ParseRawUpdate(text, kParam));
  Binder binder(context, kParam, expr::kUpdateRanking);
  binder.SplitUndefinedSlots();
  binder.CheckSections(raw.sections);
  expr::UpdateProgram program;
  for (const expr::RawAction& raw_action : raw.actions) {
    expr::UpdateAction action;
    action.kind = raw_action.kind;
    if (std::optional<Path> path = binder.BindPath(raw_action.path)) {
      binder.AddTargetPath(*path);
      action.path = std::move(*path);
    }
    switch (raw_action.kind) {
      case expr::UpdateAction::Kind::kSet:
        action.value = binder.BindSetValue(raw_action.value);
        break;
      case expr::UpdateAction::Kind::kRemove:
        break;
      case expr::UpdateAction::Kind::kAdd:
      case expr::UpdateAction::Kind::kDelete:
        binder.BindUpdateOperand(raw_action, action);
        break;
    }
    program.paths.push_back(action.path);
    program.actions.push_back(std::move(action));
  }
  RETURN_IF_ERROR(binder.Finish());
  for (const Path& path : program.paths) expr::AddProjectionPath(program.targets, path);
  return Access::MakeUpdate(std::move(program));
}

Result<Projection> ParseProjection(std::string_view text, ExpressionContext& context) {
  constexpr std::string_view kParam = "ProjectionExpression";
  RETURN_IF_ERROR(expr::CheckText(text, kParam));
  ASSIGN_OR_RETURN(std::vector<RawPath> raw_paths, expr::ParseRawProjection(text, kParam));
  Binder binder(context, kParam, expr::kProjectionRanking);
  binder.SplitUndefinedSlots();
  expr::ProjectionProgram program;
  for (const RawPath& raw_path : raw_paths) {
    if (std::optional<Path> path = binder.BindPath(raw_path)) {
      binder.AddTargetPath(*path);
      program.paths.push_back(std::move(*path));
    }
  }
  RETURN_IF_ERROR(binder.Finish());
  for (const Path& path : program.paths) expr::AddProjectionPath(program.root, path);
  return Access::MakeProjection(std::move(program));
}

Result<Path> ParsePath(std::string_view text, ExpressionContext& context,
                       std::string_view param_name) {
  RETURN_IF_ERROR(expr::CheckText(text, param_name));
  ASSIGN_OR_RETURN(RawPath raw_path, expr::ParseRawPath(text, param_name));
  Binder binder(context, param_name, expr::kProjectionRanking);
  binder.SplitUndefinedSlots();
  std::optional<Path> path = binder.BindPath(raw_path);
  RETURN_IF_ERROR(binder.Finish());
  return std::move(*path);
}

}  // namespace salespipe::table
