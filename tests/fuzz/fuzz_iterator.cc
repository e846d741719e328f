// libFuzzer target for shard-iterator tokens (log/shard_log.h DecodeIterator).
// Seeds: corpus/fuzz_iterator/.
#include <cstddef>
#include <cstdint>

#include "log/iterator_fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return salespipe::log::FuzzIterator(data, size);
}
