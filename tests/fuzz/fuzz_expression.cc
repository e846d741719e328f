// libFuzzer target for DynamoDB expressions (condition, key condition, filter, projection and
// update expressions with their name and value maps). Seeds: corpus/fuzz_expression/.
#include <cstddef>
#include <cstdint>

#include "table/expression_fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return salespipe::table::FuzzExpressions(data, size);
}
