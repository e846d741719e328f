#pragma once

// The first pass of expression parsing (see expression_parser.cc): tokens -> a raw tree,
// reporting the first syntax error in token order, as DynamoDB's generated parser does
// ("Syntax error; token: ..., near: ..."). Placeholders are not resolved here; the binder
// in expression_parser.cc checks and substitutes them. Internal to the expression engine.
//
// Recursion follows the nesting of the input, bounded by kMaxExpressionNesting.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "table/expression.h"
#include "table/expression_ast.h"

namespace salespipe::table::expr {

// List indexes beyond this are treated as "past the end" of any list an item can hold.
inline constexpr size_t kMaxListIndex = size_t{1} << 40;

// ---------------------------------------------------------------------------------------
// Raw tree

struct RawPathElement {
  enum class Kind { kName, kPlaceholder, kIndex };
  Kind kind = Kind::kName;
  std::string_view text;  // kName, kPlaceholder
  size_t index = 0;       // kIndex
};
using RawPath = std::vector<RawPathElement>;

struct RawNode {
  enum class Kind {
    kPath,
    kValue,  // :placeholder
    kCall,   // function call: text = name
    kCompare,
    kBetween,
    kIn,
    kAnd,
    kOr,
    kNot,
    kPlus,
    kMinus,
  };
  Kind kind = Kind::kPath;
  std::string_view text;  // placeholder, function name or comparator as written
  CompareOp op = CompareOp::kEq;
  RawPath path;
  std::vector<RawNode> args;
  int parens = 0;  // how many parenthesis pairs directly enclose this node
};

// Operands that can't stand as a condition (a function call can be either).
inline bool IsBareOperand(const RawNode& node) {
  return node.kind == RawNode::Kind::kPath || node.kind == RawNode::Kind::kValue ||
         node.kind == RawNode::Kind::kPlus || node.kind == RawNode::Kind::kMinus;
}

// Conditions that can't stand as an operand.
inline bool IsBoolean(const RawNode& node) {
  switch (node.kind) {
    case RawNode::Kind::kCompare:
    case RawNode::Kind::kBetween:
    case RawNode::Kind::kIn:
    case RawNode::Kind::kAnd:
    case RawNode::Kind::kOr:
    case RawNode::Kind::kNot:
      return true;
    default:
      return false;
  }
}

struct RawAction {
  UpdateAction::Kind kind = UpdateAction::Kind::kSet;
  RawPath path;
  RawNode value;                       // kSet
  std::string_view value_placeholder;  // kAdd, kDelete
};

struct RawUpdate {
  std::vector<std::string_view> sections;  // section keywords in order, upper case
  std::vector<RawAction> actions;
};

// "Invalid <param_name>: ", the prefix of expression errors.
inline std::string Prefix(std::string_view param_name) {
  return "Invalid " + std::string(param_name) + ": ";
}


// Each parses one whole expression of its kind; `param_name` prefixes syntax errors.
// Errors: kInvalidArgument "Invalid <param_name>: Syntax error; token: ..., near: ..." and
// the nesting limit.
Result<RawNode> ParseRawCondition(std::string_view text, std::string_view param_name);
Result<RawUpdate> ParseRawUpdate(std::string_view text, std::string_view param_name);
Result<std::vector<RawPath>> ParseRawProjection(std::string_view text,
                                                std::string_view param_name);
Result<RawPath> ParseRawPath(std::string_view text, std::string_view param_name);

}  // namespace salespipe::table::expr
