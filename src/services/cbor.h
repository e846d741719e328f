#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

// CBOR (RFC 8949) <-> the JSON texts JsonServices speak, for AWS's `application/x-amz-cbor-1.1`
// (the Java SDKs and the KCL talk CBOR to Kinesis by default). The edge converts a CBOR
// request to JSON, lets the service answer in JSON, and converts the answer back.
namespace salespipe::services {

// Which JSON members are not plain JSON values on the CBOR side.
struct CborHints {
  // Members holding base64 text in JSON and a byte string in CBOR (e.g. Kinesis "Data").
  std::vector<std::string> blob_members;
  // Members whose name ends with one of these hold epoch seconds in JSON and, in CBOR,
  // tag 1 around an integer of epoch milliseconds (what the AWS Java SDK writes and reads).
  std::vector<std::string> timestamp_suffixes;
};

// CBOR request bytes -> JSON text. Byte strings become base64 text; tag 1 around an integer
// (epoch milliseconds) or a float (epoch seconds) becomes JSON epoch seconds; other tags are
// dropped around their value; undefined becomes null. Map keys must be text.
// Errors: kInvalidArgument (aws code SerializationException) for malformed or truncated
// input, nesting deeper than 64, or trailing bytes. Any input is safe (fuzzed).
Result<std::string> CborToJson(std::string_view cbor);

// JSON text -> CBOR bytes with `hints`. Numbers that are integers stay integers.
// Errors: kInternal if `json` does not parse (services only produce valid JSON).
Result<std::string> JsonToCbor(std::string_view json, const CborHints& hints);

// libFuzzer body: decodes `data` as CBOR, and whatever decodes goes back through JsonToCbor
// and CborToJson again. Always returns 0.
int FuzzCbor(const uint8_t* data, size_t size);

}  // namespace salespipe::services
