#pragma once

#include <cstddef>
#include <cstdint>

namespace salespipe::log {

// libFuzzer body for shard-iterator decoding (the harness's LLVMFuzzerTestOneInput calls it).
// Decodes `data` as a token with DecodeIterator; whatever decodes must re-encode to the same
// token (tokens are canonical). Also decodes a mutated valid token built from the input.
// Any crash, sanitizer report or exception is a bug. Always returns 0. Deterministic.
int FuzzIterator(const uint8_t* data, size_t size);

}  // namespace salespipe::log
