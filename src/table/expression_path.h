#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "table/attribute_value.h"

namespace salespipe::table {

// One step of a document path: a map key (attribute name) or a list index.
// A plain value type.
class PathElement {
 public:
  static PathElement Name(std::string name) { return PathElement(std::move(name), 0, false); }
  static PathElement Index(size_t index) { return PathElement({}, index, true); }

  bool is_index() const { return is_index_; }
  // REQUIRES: !is_index().
  const std::string& name() const { return name_; }
  // REQUIRES: is_index().
  size_t index() const { return index_; }

  bool operator==(const PathElement& other) const {
    return is_index_ == other.is_index_ && index_ == other.index_ && name_ == other.name_;
  }
  bool operator!=(const PathElement& other) const { return !(*this == other); }

 private:
  PathElement(std::string name, size_t index, bool is_index)
      : name_(std::move(name)), index_(index), is_index_(is_index) {}

  std::string name_;
  size_t index_ = 0;
  bool is_index_ = false;
};

// A document path such as `a.b[2].c`, with expression attribute names already substituted.
// The first element is always a name (the top-level attribute). Parse one from text with
// ParsePath (table/expression.h).
using Path = std::vector<PathElement>;

// DynamoDB's rendering of a path in error messages: `a.b[2]` -> "[a, b, [2]]".
std::string PathToString(const Path& path);

// The value at `path` in `item`, or nullptr when some step is missing or of the wrong kind
// (a name applied to a non-map, an index applied to a non-list or past its end). The pointer
// is into `item` and valid until `item` changes.
const AttributeValue* FindAtPath(const Item& item, const Path& path);
AttributeValue* FindAtPath(Item& item, const Path& path);

// Stores `value` at `path` with UpdateExpression SET semantics: every step but the last must
// exist (nothing is created implicitly), a final name creates or replaces the map entry, and a
// final index replaces the list element or, when past the end, appends `value` to the list.
// Errors: kInvalidArgument "The document path provided in the update expression is invalid
// for update" when the parent is missing or is not a map (for a name) / list (for an index).
Status SetAtPath(Item& item, const Path& path, AttributeValue value);

// Removes the value at `path` with UpdateExpression REMOVE semantics: a missing final name or
// an index past the end is a no-op; removing a list element shifts the later elements down.
// Errors: kInvalidArgument "The document path provided in the update expression is invalid
// for update" when the parent of the last step is missing or of the wrong kind.
Status RemoveAtPath(Item& item, const Path& path);

// How two paths of one expression relate.
enum class PathRelation {
  kDisjoint,  // independent
  kOverlap,   // equal, or one is a prefix of the other
  kConflict,  // one uses a name where the other uses an index at the same depth
};
PathRelation RelatePaths(const Path& a, const Path& b);

// Orders paths element by element; indexes compare numerically, and an index sorts before a
// name. Used to apply list appends in index order.
bool PathLess(const Path& a, const Path& b);

}  // namespace salespipe::table
