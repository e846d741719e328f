#pragma once

#include <cstddef>
#include <cstdint>

namespace salespipe::services::dynamodb {

// libFuzzer entry: the first byte picks an operation, the rest is its JSON body, handled by
// a DynamoDbService over a scratch database holding two tables. Never crashes.
int FuzzRequest(const uint8_t* data, size_t size);

}  // namespace salespipe::services::dynamodb
