#pragma once

// DynamoDB's expression language: condition/filter, key condition, update and projection
// expressions, parsed into immutable objects that the table engine evaluates.
//
// Parsing validates everything DynamoDB validates before touching a table: syntax, reserved
// words, undefined placeholders, function names and arity, operand types of constants,
// overlapping paths. Every error is kInvalidArgument with DynamoDB's message, prefixed
// "Invalid <ParamName>: " where DynamoDB prefixes it. After parsing all expressions of a
// request, call ExpressionContext::CheckAllUsed() for the unused-placeholder errors.
//
// Limits (as DynamoDB): an expression is at most 4096 bytes ("Expression size has exceeded
// the maximum allowed size; expression size: N"), at most 300 operators ("The expression
// contains too many operators; operator count: N") and at most 100 IN operands ("The IN
// operator is provided with too many operands; number of operands: N"). To stay safe on
// hostile input, parentheses, NOT and function calls may nest at most kMaxExpressionNesting
// deep ("The expression has too many nested levels; maximum: 256", our own message: DynamoDB
// rejects such input for redundant parentheses or too many operators instead).
//
// Parsed objects are immutable values, cheap to copy (they share their tree), and safe to
// evaluate from several threads at once.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "table/attribute_value.h"
#include "table/expression_context.h"
#include "table/expression_path.h"

namespace salespipe::table {

namespace expr {
struct ConditionNode;
struct UpdateProgram;
struct ProjectionProgram;
struct Access;
}  // namespace expr

inline constexpr size_t kMaxExpressionBytes = 4096;
inline constexpr int kMaxExpressionNesting = 256;

// A ConditionExpression or FilterExpression (or a converted legacy Expected/QueryFilter/
// ScanFilter). A default-constructed Condition is always true.
//
// Evaluation follows DynamoDB:
//  - An operand naming a missing attribute (or a path through a missing/mistyped step) has
//    no value. Comparisons with a missing operand are false, except `<>`, which is true
//    (DynamoDB treats "absent" as "not equal"; a condition `status <> :done` holds on an item
//    without `status`).
//  - `=` / `<>` compare deeply for every type; values of different types are unequal (so `<>`
//    across types is true). Numbers compare numerically, sets as sets.
//  - `<` `<=` `>` `>=` and BETWEEN are defined for N (numerically), S and B (bytewise,
//    unsigned) when both sides have the same type; otherwise false.
//  - IN: true when the left operand equals any listed operand.
//  - attribute_exists / attribute_not_exists / attribute_type(path, :t).
//  - begins_with(a, b): S prefix of S, or B prefix of B.
//  - contains(a, b): substring for S in S and B in B; membership for S in SS, N in NS, B in
//    BS; element equality for a list; false otherwise.
//  - size(path): UTF-8 bytes of S, bytes of B, members of a set, elements of L, entries of
//    M; no value for N, BOOL and NULL (so a comparison with it is false).
//  - NOT negates, with two-valued logic: NOT (a < :v) holds when `a` is missing.
class Condition {
 public:
  Condition() = default;

  // True if the condition holds on `item`. A missing item is an empty Item.
  bool Evaluate(const Item& item) const;
  bool Evaluate(const std::optional<Item>& item) const;

  // The distinct top-level attribute names the condition reads, sorted (e.g. to reject a
  // Query filter on a key attribute).
  std::vector<std::string> TopLevelAttributes() const;

 private:
  friend struct expr::Access;
  std::shared_ptr<const expr::ConditionNode> root_;
};

// Parses a condition or filter expression. `param_name` ("ConditionExpression" or
// "FilterExpression") prefixes the error messages. Placeholders resolve through `context`,
// which records them as used. Errors: kInvalidArgument, e.g.
//   "Invalid ConditionExpression: The expression can not be empty;"
//   "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"a\""
//   "Invalid ConditionExpression: Invalid function name; function: foo"
//   "Invalid ConditionExpression: Incorrect number of operands for operator or function;
//    operator or function: begins_with, number of operands: 1"
//   "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name"
//   "Invalid ConditionExpression: An expression attribute value used in expression is not
//    defined; attribute value: :v"
//   "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than
//    or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand:
//    AttributeValue: {N:1}"
//   "Invalid ConditionExpression: The expression has redundant parentheses;"
Result<Condition> ParseCondition(std::string_view text, ExpressionContext& context,
                                 std::string_view param_name = "ConditionExpression");

// The comparison of one key attribute in a KeyConditionExpression (or legacy KeyConditions).
enum class KeyOperator { kEq, kLt, kLe, kGt, kGe, kBetween, kBeginsWith };

struct KeyConditionTerm {
  std::string attribute;
  KeyOperator op = KeyOperator::kEq;
  std::vector<AttributeValue> values;  // one, or two (lower, upper) for kBetween

  // True if `value` (the item's key attribute; nullptr when absent) satisfies the term.
  bool Matches(const AttributeValue* value) const;
};

// A key condition whose terms are matched to the key schema of the queried table or index.
struct BoundKeyCondition {
  std::string partition_attribute;
  AttributeValue partition_value;
  std::optional<KeyConditionTerm> sort;  // absent: the whole partition
};

// A parsed KeyConditionExpression: one or two terms joined by AND, as written. Which term is
// the partition key depends on the schema; Bind() decides.
struct KeyCondition {
  std::vector<KeyConditionTerm> terms;

  // Matches the terms to the key schema (`sort_key` null for a hash-only table or index).
  // Does not check value types against attribute definitions; the caller does.
  // Errors: kInvalidArgument
  //   "Query condition missed key schema element: <partition_key>" (no term on it)
  //   "Query key condition not supported" (partition term not `=`, or a second term on a
  //    hash-only schema)
  //   "Query condition missed key schema element: <sort_key>" (second term not on the sort key)
  Result<BoundKeyCondition> Bind(std::string_view partition_key, const std::string* sort_key) const;
};

// Parses a KeyConditionExpression. Besides the condition errors (prefixed
// "Invalid KeyConditionExpression: "), rejects what a key condition can't express, with
// DynamoDB's unprefixed messages:
//   "Invalid operator used in KeyConditionExpression: OR" (also NOT, IN, <>, and the
//    functions attribute_exists, attribute_not_exists, attribute_type, contains)
//   "KeyConditionExpressions cannot contain nested operations" (size())
//   "KeyConditionExpressions cannot have conditions on nested attributes"
//   "Invalid condition in KeyConditionExpression: Multiple attribute names used in one
//    condition" / "...: No key attribute specified" / "...: BETWEEN operator must have the key
//    attribute as its first operand" (same for begins_with)
//   "KeyConditionExpressions must only contain one condition per key"
//   "Conditions can be of length 1 or 2 only"
Result<KeyCondition> ParseKeyCondition(std::string_view text, ExpressionContext& context);

// An UpdateExpression (or converted legacy AttributeUpdates). A default-constructed Update
// changes nothing.
class Update {
 public:
  Update() = default;

  // Applies the update to `item` (the existing item, or just the key attributes when the item
  // is new), as DynamoDB does: every operand is evaluated against the item before the update;
  // SET actions run first (list appends in index order), then ADD, then DELETE, then REMOVE
  // (list indexes refer to the list before the update; removing past the end is a no-op).
  // Arithmetic is exact (Decimal). On error `item` is unchanged.
  // Does not check key attributes or item size; the caller does.
  // Errors: kInvalidArgument
  //   "The provided expression refers to an attribute that does not exist in the item"
  //   "An operand in the update expression has an incorrect data type"
  //   "The document path provided in the update expression is invalid for update"
  //   Decimal's overflow/underflow/precision messages from arithmetic.
  Status Apply(Item& item) const;

  // Every path the update writes (SET/REMOVE/ADD/DELETE targets), in written order.
  const std::vector<Path>& paths() const;
  // The distinct top-level attribute names of paths(), sorted; e.g. to reject updates of key
  // attributes ("Cannot update attribute <attr>. This attribute is part of the key").
  std::vector<std::string> TopLevelAttributes() const;
  // For ReturnValues UPDATED_OLD (pass the old item) / UPDATED_NEW (the new item): the parts
  // of `item` at paths(), nested like a projection (SET a.b returns {a: {b: ...}}).
  Item UpdatedAttributes(const Item& item) const;

 private:
  friend struct expr::Access;
  std::shared_ptr<const expr::UpdateProgram> program_;
};

// Parses an UpdateExpression. Errors: kInvalidArgument "Invalid UpdateExpression: ...", e.g.
//   "Syntax error; token: \"<EOF>\", near: \"SET\""
//   "The \"SET\" section can only be used once in an update expression;"
//   "Two document paths overlap with each other; must remove or rewrite one of these paths;
//    path one: [a], path two: [a, b]"
//   "Two document paths conflict with each other; must remove or rewrite one of these paths;
//    path one: [a, [0]], path two: [a, b]"
//   "Incorrect operand type for operator or function; operator: ADD, operand type: STRING"
//   "Incorrect operand type for operator or function; operator or function: list_append,
//    operand type: S"
//   "Operator or function requires a document path; operator or function: if_not_exists"
//   "Invalid function name; function: size"
Result<Update> ParseUpdate(std::string_view text, ExpressionContext& context);

// A ProjectionExpression (or converted legacy AttributesToGet). A default-constructed
// Projection keeps every attribute.
class Projection {
 public:
  Projection() = default;

  // The projected parts of `item`, keeping nesting: `a.b[1]` yields {a: {b: [element 1]}};
  // several indexes of one list yield its selected elements in index order; parts that don't
  // exist are left out, and so are containers left empty.
  Item Apply(const Item& item) const;

  const std::vector<Path>& paths() const;
  // The distinct top-level attribute names of paths(), sorted.
  std::vector<std::string> TopLevelAttributes() const;

 private:
  friend struct expr::Access;
  std::shared_ptr<const expr::ProjectionProgram> program_;
};

// Parses a ProjectionExpression: comma-separated document paths. Errors: kInvalidArgument
// "Invalid ProjectionExpression: ..." (syntax, reserved words, undefined names, overlapping or
// conflicting paths).
Result<Projection> ParseProjection(std::string_view text, ExpressionContext& context);

// Parses one document path (`a.b[2]`, `#n.x`), for callers that take a path outside an
// expression. Errors as ParseProjection, prefixed with `param_name`.
Result<Path> ParsePath(std::string_view text, ExpressionContext& context,
                       std::string_view param_name);

}  // namespace salespipe::table
