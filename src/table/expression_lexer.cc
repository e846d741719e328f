#include "table/expression_lexer.h"

namespace salespipe::table::expr {
namespace {

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '_'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The length of the UTF-8 sequence starting with `lead`, so an invalid non-ASCII character is
// reported whole rather than as a broken byte.
size_t Utf8Length(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

}  // namespace

std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  const size_t n = text.size();
  auto add = [&](TokenKind kind, size_t begin, size_t end) {
    tokens.push_back(
        Token{.kind = kind, .text = text.substr(begin, end - begin), .begin = begin, .end = end});
  };
  while (i < n) {
    char c = text[i];
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    size_t begin = i;
    if (IsAlpha(c) || c == '_') {
      while (i < n && IsWordChar(text[i])) ++i;
      add(TokenKind::kName, begin, i);
      continue;
    }
    if (IsDigit(c)) {
      while (i < n && IsDigit(text[i])) ++i;
      add(TokenKind::kNumber, begin, i);
      continue;
    }
    if (c == '#' || c == ':') {
      ++i;
      while (i < n && IsWordChar(text[i])) ++i;
      if (i == begin + 1) {
        add(TokenKind::kInvalid, begin, i);
      } else {
        add(c == '#' ? TokenKind::kNamePlaceholder : TokenKind::kValuePlaceholder, begin, i);
      }
      continue;
    }
    TokenKind kind = TokenKind::kInvalid;
    size_t length = 1;
    switch (c) {
      case '(':
        kind = TokenKind::kLeftParen;
        break;
      case ')':
        kind = TokenKind::kRightParen;
        break;
      case '[':
        kind = TokenKind::kLeftBracket;
        break;
      case ']':
        kind = TokenKind::kRightBracket;
        break;
      case ',':
        kind = TokenKind::kComma;
        break;
      case '.':
        kind = TokenKind::kDot;
        break;
      case '=':
        kind = TokenKind::kEq;
        break;
      case '+':
        kind = TokenKind::kPlus;
        break;
      case '-':
        kind = TokenKind::kMinus;
        break;
      case '<':
        if (i + 1 < n && text[i + 1] == '>') {
          kind = TokenKind::kNe;
          length = 2;
        } else if (i + 1 < n && text[i + 1] == '=') {
          kind = TokenKind::kLe;
          length = 2;
        } else {
          kind = TokenKind::kLt;
        }
        break;
      case '>':
        if (i + 1 < n && text[i + 1] == '=') {
          kind = TokenKind::kGe;
          length = 2;
        } else {
          kind = TokenKind::kGt;
        }
        break;
      default:
        length = Utf8Length(static_cast<unsigned char>(c));
        if (length > n - i) length = n - i;
        break;
    }
    i += length;
    add(kind, begin, i);
  }
  tokens.push_back(Token{.kind = TokenKind::kEnd, .text = {}, .begin = n, .end = n});
  return tokens;
}

bool IsKeyword(const Token& token, std::string_view upper_keyword) {
  if (token.kind != TokenKind::kName || token.text.size() != upper_keyword.size()) return false;
  for (size_t i = 0; i < upper_keyword.size(); ++i) {
    char c = token.text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper_keyword[i]) return false;
  }
  return true;
}

}  // namespace salespipe::table::expr
