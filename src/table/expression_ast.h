#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "table/attribute_value.h"
#include "table/expression_path.h"

// The checked, resolved trees behind Condition, Update and Projection (table/expression.h).
// Placeholders are substituted and every static error has been reported, so evaluation only
// meets data-dependent outcomes. Internal to the expression engine and legacy_conditions.cc;
// other code uses the classes in table/expression.h.
namespace salespipe::table::expr {

// A value inside a condition: an attribute (by path), a constant, or size(path).
struct Operand {
  enum class Kind { kPath, kValue, kSize };
  Kind kind = Kind::kValue;
  Path path;             // kPath, kSize
  AttributeValue value;  // kValue
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

struct ConditionNode {
  enum class Kind {
    kCompare,             // operands[0] op operands[1]
    kBetween,             // operands[0] BETWEEN operands[1] AND operands[2]
    kIn,                  // operands[0] IN (operands[1..])
    kAnd,                 // all children (two or more)
    kOr,                  // any child (two or more)
    kNot,                 // children[0]
    kAttributeExists,     // operands[0] is a path
    kAttributeNotExists,  // operands[0] is a path
    kAttributeType,       // operands[0] is a path; `type`
    kBeginsWith,          // operands[0], operands[1]
    kContains,            // operands[0], operands[1]
  };
  Kind kind = Kind::kAnd;
  CompareOp op = CompareOp::kEq;
  AttributeType type = AttributeType::kNull;
  std::vector<Operand> operands;
  std::vector<ConditionNode> children;
};

// The right-hand side of a SET action.
struct SetValue {
  enum class Kind { kPath, kValue, kPlus, kMinus, kIfNotExists, kListAppend };
  Kind kind = Kind::kValue;
  Path path;                   // kPath, and kIfNotExists's tested path
  AttributeValue value;        // kValue
  std::vector<SetValue> args;  // kPlus/kMinus/kListAppend: 2; kIfNotExists: 1 (the fallback)
};

struct UpdateAction {
  enum class Kind { kSet, kRemove, kAdd, kDelete };
  Kind kind = Kind::kSet;
  Path path;
  SetValue value;          // kSet
  AttributeValue operand;  // kAdd (N or a set), kDelete (a set)
};

// The requested paths of a projection as a tree: a node either takes its whole value or
// selects children (map keys or list indexes, never both).
struct ProjectionNode {
  bool whole = false;
  std::map<std::string, ProjectionNode, std::less<>> names;
  std::map<size_t, ProjectionNode> indexes;
};

struct UpdateProgram {
  std::vector<UpdateAction> actions;  // in written order
  std::vector<Path> paths;            // the action paths, in written order
  ProjectionNode targets;             // `paths` as a projection, for UPDATED_OLD/UPDATED_NEW
  // From legacy AttributeUpdates: type errors read "Type mismatch for attribute to update".
  bool legacy = false;
};

struct ProjectionProgram {
  std::vector<Path> paths;  // in written order
  ProjectionNode root;      // root.names holds the top-level attributes
};

// Adds `path` to the tree under `root`. Overlapping or conflicting paths must have been
// rejected already; an overlap keeps the shorter path.
void AddProjectionPath(ProjectionNode& root, const Path& path);

// The parts of `item` selected by `root`, shaped as DynamoDB returns projections.
Item ProjectItem(const Item& item, const ProjectionNode& root);

// Evaluation entry points shared by the public classes and the legacy converters.
bool EvaluateCondition(const ConditionNode& node, const Item& item);

// Orders two values of the same type N (numerically), S or B (bytewise, unsigned): <0, 0, >0.
// nullopt for other or mixed types.
std::optional<int> OrderValues(const AttributeValue& a, const AttributeValue& b);

}  // namespace salespipe::table::expr
