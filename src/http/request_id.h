#pragma once

#include <string>

namespace salespipe::http {

// Writes a fresh random version-4 UUID (36 characters) into `*out`, reusing its capacity.
// Request ids only need to be unique, not secret: a per-thread generator seeded from
// std::random_device avoids a system call or a lock per request. Thread-safe.
void NewRequestId(std::string* out);

// Rewrites a NewRequestId value into S3's form: 16 upper-case hex digits (spec 1.6).
void ToS3RequestId(std::string* id);

}  // namespace salespipe::http
