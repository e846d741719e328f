// libFuzzer target for the CBOR <-> JSON converter (services/cbor.h) that Kinesis CBOR
// requests go through. Seeds: corpus/fuzz_cbor/.
#include <cstddef>
#include <cstdint>

#include "services/cbor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return salespipe::services::FuzzCbor(data, size);
}
