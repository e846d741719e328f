#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

// The subset of jq that Firehose's MetadataExtraction (partitionKeyFromQuery) examples use:
//   {key: .field, other: .a.b, "quoted key": .x["y z"], third: .list[0]}
// Keys are identifiers or JSON strings; values are paths made of .name, ."name", ["name"] and
// [index] steps (a lone "." is the whole record). Nothing else (pipes, functions) is accepted.
// Immutable after Parse; thread-safe.
namespace salespipe::delivery {

class JqQuery {
 public:
  // Errors: kInvalidArgument naming what is not supported, for any input (fuzzed).
  static Result<JqQuery> Parse(std::string_view text);

  // Evaluates the query against one JSON record: key -> value text (strings as they are,
  // numbers and booleans as JSON text).
  // Errors: kInvalidArgument if the record is not JSON, or a path leads to nothing, null,
  // an object or an array.
  Result<std::map<std::string, std::string>> Evaluate(std::string_view record) const;

  // The keys, in query order.
  std::vector<std::string> keys() const;

 private:
  struct Step {
    bool is_index = false;
    std::string name;
    size_t index = 0;
  };
  struct Field {
    std::string key;
    std::vector<Step> path;
  };
  std::vector<Field> fields_;
};

}  // namespace salespipe::delivery
