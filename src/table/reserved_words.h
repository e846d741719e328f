#pragma once

#include <cstddef>
#include <string_view>

namespace salespipe::table {

// True if `word` is one of DynamoDB's reserved words (compared case-insensitively). A reserved
// word can't appear as a bare attribute name in an expression; clients must use an expression
// attribute name (#placeholder) instead. Thread-safe, pure.
bool IsReservedWord(std::string_view word);

// The number of reserved words (573 in DynamoDB's published list).
size_t ReservedWordCount();

}  // namespace salespipe::table
