// libFuzzer target for the jq subset of Firehose's MetadataExtraction (delivery/jq.h), which
// parses user-supplied queries and evaluates them on every record. Seeds: corpus/fuzz_jq/.
#include <cstddef>
#include <cstdint>

#include "delivery/jq_fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return salespipe::delivery::FuzzJq(data, size);
}
