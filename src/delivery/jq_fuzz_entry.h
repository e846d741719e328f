#pragma once

#include <cstddef>
#include <cstdint>

namespace salespipe::delivery {

// libFuzzer body for the MetadataExtraction jq subset (jq.h; the harness's
// LLVMFuzzerTestOneInput calls it). The input is split at its first NUL byte into a query and
// a record: the query is parsed and, if it parses, evaluated against the record and against a
// fixed nested record. Any crash, sanitizer report or exception is a bug. Always returns 0.
int FuzzJq(const uint8_t* data, size_t size);

}  // namespace salespipe::delivery
