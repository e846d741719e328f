#pragma once

#include <cstddef>
#include <cstdint>

namespace salespipe::table {

// libFuzzer body for the expression engine (the fuzz harness's LLVMFuzzerTestOneInput calls
// it). Splits `data` at NUL bytes into up to five expression texts and runs each through every
// parser (condition, key condition, update, projection, single path) against a fixed set of
// placeholders, then evaluates/applies whatever parsed on a fixed sample item; the first byte
// also drives a legacy conversion. Any crash, sanitizer report, hang or exception is a bug.
// Always returns 0. Deterministic; thread-compatible.
int FuzzExpressions(const uint8_t* data, size_t size);

}  // namespace salespipe::table
