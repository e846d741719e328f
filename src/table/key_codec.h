#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "table/attribute_value.h"

// Order-preserving encoding of DynamoDB key attribute values (types S, N and B). Each part is
// self-delimiting, so a primary key is the hash part followed by the range part, and bytewise
// order of concatenated keys is the lexicographic order of their (hash, range) values:
//   S by UTF-8 bytes, B by unsigned bytes, N numerically.
// The format is documented in key_codec.cc. Pure functions; thread-safe.
namespace salespipe::table {

// Appends the encoding of `value` to `*out`.
// REQUIRES: value.type() is kString, kNumber or kBinary; a number holds valid decimal text
// (as every validated AttributeValue::Number does). Key values come from requests, so a
// value breaking this does not crash: it gets a deterministic, self-delimiting encoding that
// is unordered, may equal some string's encoding, and that ConsumeKeyPart cannot read back.
// Validate key values before building stored keys from them.
void AppendKeyPart(const AttributeValue& value, std::string* out);

// Reads one part of type `type` written by AppendKeyPart from the front of `*in` and advances
// `*in` past it. Numbers come back in canonical text.
// Errors: kInvalidArgument if `type` is not S, N or B; kInternal "corrupt key" if the bytes
// are malformed (then `*in` is left unchanged).
Result<AttributeValue> ConsumeKeyPart(AttributeType type, std::string_view* in);

}  // namespace salespipe::table
