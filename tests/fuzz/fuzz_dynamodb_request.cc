// libFuzzer target for whole DynamoDB requests: the X-Amz-Target operation and its JSON body,
// parsed, validated and executed against a fresh table store. Seeds:
// corpus/fuzz_dynamodb_request/.
#include <cstddef>
#include <cstdint>

#include "services/dynamodb/fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return salespipe::services::dynamodb::FuzzRequest(data, size);
}
