#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace salespipe::table::expr {

// Tokens of DynamoDB's expression language. Internal to the expression parser.
enum class TokenKind {
  kName,              // [A-Za-z_][A-Za-z0-9_]*: attribute name, function name or keyword
  kNamePlaceholder,   // #[A-Za-z0-9_]+
  kValuePlaceholder,  // :[A-Za-z0-9_]+
  kNumber,            // [0-9]+ (only valid as a list index)
  kLeftParen,
  kRightParen,
  kLeftBracket,
  kRightBracket,
  kComma,
  kDot,
  kEq,  // =
  kNe,  // <>
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
  kInvalid,  // any other character (one UTF-8 sequence), or a lone '#' / ':'
  kEnd,      // end of input; always the last token
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;  // a view into the tokenized text; empty for kEnd
  size_t begin = 0;       // byte offsets into the tokenized text
  size_t end = 0;
};

// Splits `text` into tokens, skipping whitespace (space, tab, CR, LF). Never fails: characters
// outside the language become kInvalid tokens, which the parser reports as syntax errors in
// order. The tokens view `text`, which must outlive them. Thread-safe, pure.
std::vector<Token> Tokenize(std::string_view text);

// True if `token` is the keyword `upper_keyword` (given in upper case), matched
// case-insensitively, as DynamoDB does for AND, OR, NOT, BETWEEN, IN, SET, REMOVE, ADD, DELETE.
bool IsKeyword(const Token& token, std::string_view upper_keyword);

}  // namespace salespipe::table::expr
