// Parser: tokens -> the raw trees of expression_syntax.h.

#include "table/expression_syntax.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "table/expression_lexer.h"

namespace salespipe::table::expr {
namespace {

// ---------------------------------------------------------------------------------------
// Parser

class Parser {
 public:
  enum class Mode { kCondition, kUpdate, kProjection };

  Parser(std::string_view text, std::string_view param_name, Mode mode)
      : text_(text), param_name_(param_name), mode_(mode), tokens_(Tokenize(text)) {}

  Result<RawNode> ParseConditionRoot() {
    ASSIGN_OR_RETURN(RawNode root, ParseOr());
    if (Peek().kind != TokenKind::kEnd || IsBareOperand(root)) return SyntaxError(pos_);
    return root;
  }

  Result<RawUpdate> ParseUpdateRoot() {
    RawUpdate update;
    do {
      const Token& token = Peek();
      UpdateAction::Kind kind;
      std::string_view section;
      if (IsKeyword(token, "SET")) {
        kind = UpdateAction::Kind::kSet;
        section = "SET";
      } else if (IsKeyword(token, "REMOVE")) {
        kind = UpdateAction::Kind::kRemove;
        section = "REMOVE";
      } else if (IsKeyword(token, "ADD")) {
        kind = UpdateAction::Kind::kAdd;
        section = "ADD";
      } else if (IsKeyword(token, "DELETE")) {
        kind = UpdateAction::Kind::kDelete;
        section = "DELETE";
      } else {
        return SyntaxError(pos_);
      }
      ++pos_;
      update.sections.push_back(section);
      while (true) {
        ASSIGN_OR_RETURN(RawAction action, ParseAction(kind));
        update.actions.push_back(std::move(action));
        if (Peek().kind != TokenKind::kComma) break;
        ++pos_;
      }
    } while (Peek().kind != TokenKind::kEnd);
    return update;
  }

  Result<std::vector<RawPath>> ParseProjectionRoot() {
    std::vector<RawPath> paths;
    while (true) {
      ASSIGN_OR_RETURN(RawPath path, ParsePath());
      paths.push_back(std::move(path));
      if (Peek().kind == TokenKind::kEnd) break;
      if (Peek().kind != TokenKind::kComma) return SyntaxError(pos_);
      ++pos_;
    }
    return paths;
  }

  Result<RawPath> ParseSinglePath() {
    ASSIGN_OR_RETURN(RawPath path, ParsePath());
    if (Peek().kind != TokenKind::kEnd) return SyntaxError(pos_);
    return path;
  }

 private:
  // Counts one level of nesting for the lifetime of the guard.
  class Nesting {
   public:
    explicit Nesting(int& depth) : depth_(depth) { ++depth_; }
    ~Nesting() { --depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;
    bool too_deep() const { return depth_ > kMaxExpressionNesting; }

   private:
    int& depth_;
  };

  const Token& Peek() const { return tokens_[pos_]; }
  const Token& PeekAt(size_t offset) const {
    return tokens_[std::min(pos_ + offset, tokens_.size() - 1)];
  }

  // DynamoDB quotes the offending token and the text from the token before it to the token
  // after it: `SET a = :v 1` -> token: "1", near: ":v 1".
  Status SyntaxError(size_t index) const {
    const Token& token = tokens_[index];
    bool at_end = token.kind == TokenKind::kEnd;
    size_t begin = index > 0 ? tokens_[index - 1].begin : token.begin;
    size_t end = token.end;
    if (at_end) {
      end = text_.size();
    } else if (tokens_[index + 1].kind != TokenKind::kEnd) {
      end = tokens_[index + 1].end;
    }
    std::string token_text = at_end ? "<EOF>" : std::string(token.text);
    return Status::InvalidArgument(Prefix(param_name_) + "Syntax error; token: \"" + token_text +
                                   "\", near: \"" + std::string(text_.substr(begin, end - begin)) +
                                   "\"");
  }

  Status TooDeep() const {
    return Status::InvalidArgument(Prefix(param_name_) +
                                   "The expression has too many nested levels; maximum: " +
                                   std::to_string(kMaxExpressionNesting));
  }

  static bool IsConditionKeyword(const Token& token) {
    return IsKeyword(token, "AND") || IsKeyword(token, "OR") || IsKeyword(token, "NOT") ||
           IsKeyword(token, "BETWEEN") || IsKeyword(token, "IN");
  }

  static std::optional<CompareOp> Comparator(const Token& token) {
    switch (token.kind) {
      case TokenKind::kEq:
        return CompareOp::kEq;
      case TokenKind::kNe:
        return CompareOp::kNe;
      case TokenKind::kLt:
        return CompareOp::kLt;
      case TokenKind::kLe:
        return CompareOp::kLe;
      case TokenKind::kGt:
        return CompareOp::kGt;
      case TokenKind::kGe:
        return CompareOp::kGe;
      default:
        return std::nullopt;
    }
  }

  static RawNode Combine(RawNode::Kind kind, RawNode left, RawNode right) {
    // AND/OR chains become one n-ary node, so long chains don't deepen the tree.
    if (left.kind == kind && left.parens == 0) {
      left.args.push_back(std::move(right));
      return left;
    }
    RawNode node;
    node.kind = kind;
    node.args.push_back(std::move(left));
    node.args.push_back(std::move(right));
    return node;
  }

  Result<RawNode> ParseOr() {
    ASSIGN_OR_RETURN(RawNode left, ParseAnd());
    while (IsKeyword(Peek(), "OR")) {
      if (IsBareOperand(left)) return SyntaxError(pos_);
      ++pos_;
      ASSIGN_OR_RETURN(RawNode right, ParseAnd());
      if (IsBareOperand(right)) return SyntaxError(pos_);
      left = Combine(RawNode::Kind::kOr, std::move(left), std::move(right));
    }
    return left;
  }

  Result<RawNode> ParseAnd() {
    ASSIGN_OR_RETURN(RawNode left, ParseNot());
    while (IsKeyword(Peek(), "AND")) {
      if (IsBareOperand(left)) return SyntaxError(pos_);
      ++pos_;
      ASSIGN_OR_RETURN(RawNode right, ParseNot());
      if (IsBareOperand(right)) return SyntaxError(pos_);
      left = Combine(RawNode::Kind::kAnd, std::move(left), std::move(right));
    }
    return left;
  }

  Result<RawNode> ParseNot() {
    if (!IsKeyword(Peek(), "NOT")) return ParsePredicate();
    ++pos_;
    Nesting nesting(depth_);
    if (nesting.too_deep()) return TooDeep();
    ASSIGN_OR_RETURN(RawNode child, ParseNot());
    if (IsBareOperand(child)) return SyntaxError(pos_);
    RawNode node;
    node.kind = RawNode::Kind::kNot;
    node.args.push_back(std::move(child));
    return node;
  }

  Result<RawNode> ParsePredicate() {
    ASSIGN_OR_RETURN(RawNode left, ParseConditionOperand(/*operand_only=*/false));
    const Token& token = Peek();
    if (std::optional<CompareOp> op = Comparator(token)) {
      if (IsBoolean(left)) return SyntaxError(pos_);
      ++pos_;
      ASSIGN_OR_RETURN(RawNode right, ParseConditionOperand(/*operand_only=*/true));
      RawNode node;
      node.kind = RawNode::Kind::kCompare;
      node.op = *op;
      node.text = token.text;
      node.args.push_back(std::move(left));
      node.args.push_back(std::move(right));
      return node;
    }
    if (IsKeyword(token, "BETWEEN")) {
      if (IsBoolean(left)) return SyntaxError(pos_);
      ++pos_;
      ASSIGN_OR_RETURN(RawNode lower, ParseConditionOperand(/*operand_only=*/true));
      if (!IsKeyword(Peek(), "AND")) return SyntaxError(pos_);
      ++pos_;
      ASSIGN_OR_RETURN(RawNode upper, ParseConditionOperand(/*operand_only=*/true));
      RawNode node;
      node.kind = RawNode::Kind::kBetween;
      node.args.push_back(std::move(left));
      node.args.push_back(std::move(lower));
      node.args.push_back(std::move(upper));
      return node;
    }
    if (IsKeyword(token, "IN")) {
      if (IsBoolean(left)) return SyntaxError(pos_);
      ++pos_;
      if (Peek().kind != TokenKind::kLeftParen) return SyntaxError(pos_);
      ++pos_;
      RawNode node;
      node.kind = RawNode::Kind::kIn;
      node.args.push_back(std::move(left));
      while (true) {
        ASSIGN_OR_RETURN(RawNode item, ParseConditionOperand(/*operand_only=*/true));
        node.args.push_back(std::move(item));
        if (Peek().kind == TokenKind::kComma) {
          ++pos_;
          continue;
        }
        if (Peek().kind != TokenKind::kRightParen) return SyntaxError(pos_);
        ++pos_;
        break;
      }
      return node;
    }
    return left;
  }

  // An operand of a condition. At the start of a predicate a '(' may open a parenthesized
  // condition or a parenthesized operand, so it parses a whole condition there; elsewhere
  // (`operand_only`) only an operand may follow.
  Result<RawNode> ParseConditionOperand(bool operand_only) {
    const Token& token = Peek();
    switch (token.kind) {
      case TokenKind::kLeftParen: {
        ++pos_;
        Nesting nesting(depth_);
        if (nesting.too_deep()) return TooDeep();
        RawNode inner;
        if (operand_only) {
          ASSIGN_OR_RETURN(inner, ParseConditionOperand(/*operand_only=*/true));
        } else {
          ASSIGN_OR_RETURN(inner, ParseOr());
        }
        if (Peek().kind != TokenKind::kRightParen) return SyntaxError(pos_);
        ++pos_;
        ++inner.parens;
        return inner;
      }
      case TokenKind::kName:
        if (IsConditionKeyword(token)) return SyntaxError(pos_);
        if (PeekAt(1).kind == TokenKind::kLeftParen) return ParseCall();
        return ParsePathNode();
      case TokenKind::kNamePlaceholder:
        return ParsePathNode();
      case TokenKind::kValuePlaceholder:
        return ParseValueNode();
      default:
        return SyntaxError(pos_);
    }
  }

  Result<RawNode> ParseValueNode() {
    RawNode node;
    node.kind = RawNode::Kind::kValue;
    node.text = Peek().text;
    ++pos_;
    return node;
  }

  Result<RawNode> ParsePathNode() {
    RawNode node;
    node.kind = RawNode::Kind::kPath;
    ASSIGN_OR_RETURN(node.path, ParsePath());
    return node;
  }

  // name '(' argument {',' argument} ')'; the caller checked the name and the '('.
  Result<RawNode> ParseCall() {
    RawNode node;
    node.kind = RawNode::Kind::kCall;
    node.text = Peek().text;
    pos_ += 2;
    Nesting nesting(depth_);
    if (nesting.too_deep()) return TooDeep();
    while (true) {
      RawNode argument;
      if (mode_ == Mode::kUpdate) {
        ASSIGN_OR_RETURN(argument, ParseSetValue());
      } else {
        ASSIGN_OR_RETURN(argument, ParseConditionOperand(/*operand_only=*/true));
      }
      node.args.push_back(std::move(argument));
      if (Peek().kind == TokenKind::kComma) {
        ++pos_;
        continue;
      }
      if (Peek().kind != TokenKind::kRightParen) return SyntaxError(pos_);
      ++pos_;
      return node;
    }
  }

  Result<RawPath> ParsePath() {
    RawPath path;
    const Token& first = Peek();
    if (first.kind == TokenKind::kName) {
      path.push_back({.kind = RawPathElement::Kind::kName, .text = first.text});
    } else if (first.kind == TokenKind::kNamePlaceholder) {
      path.push_back({.kind = RawPathElement::Kind::kPlaceholder, .text = first.text});
    } else {
      return SyntaxError(pos_);
    }
    ++pos_;
    while (true) {
      if (Peek().kind == TokenKind::kDot) {
        ++pos_;
        const Token& token = Peek();
        if (token.kind == TokenKind::kName) {
          path.push_back({.kind = RawPathElement::Kind::kName, .text = token.text});
        } else if (token.kind == TokenKind::kNamePlaceholder) {
          path.push_back({.kind = RawPathElement::Kind::kPlaceholder, .text = token.text});
        } else {
          return SyntaxError(pos_);
        }
        ++pos_;
      } else if (Peek().kind == TokenKind::kLeftBracket) {
        ++pos_;
        if (Peek().kind != TokenKind::kNumber) return SyntaxError(pos_);
        path.push_back({.kind = RawPathElement::Kind::kIndex,
                        .text = Peek().text,
                        .index = ParseIndex(Peek().text)});
        ++pos_;
        if (Peek().kind != TokenKind::kRightBracket) return SyntaxError(pos_);
        ++pos_;
      } else {
        return path;
      }
    }
  }

  static size_t ParseIndex(std::string_view digits) {
    size_t value = 0;
    for (char c : digits) {
      value = value * 10 + static_cast<size_t>(c - '0');
      if (value > kMaxListIndex) return kMaxListIndex;  // saturate: no list is that long
    }
    return value;
  }

  Result<RawAction> ParseAction(UpdateAction::Kind kind) {
    RawAction action;
    action.kind = kind;
    ASSIGN_OR_RETURN(action.path, ParsePath());
    switch (kind) {
      case UpdateAction::Kind::kSet: {
        if (Peek().kind != TokenKind::kEq) return SyntaxError(pos_);
        ++pos_;
        ASSIGN_OR_RETURN(action.value, ParseSetValue());
        break;
      }
      case UpdateAction::Kind::kRemove:
        break;
      case UpdateAction::Kind::kAdd:
      case UpdateAction::Kind::kDelete:
        if (Peek().kind != TokenKind::kValuePlaceholder) return SyntaxError(pos_);
        action.value_placeholder = Peek().text;
        ++pos_;
        break;
    }
    return action;
  }

  // operand [('+' | '-') operand]
  Result<RawNode> ParseSetValue() {
    ASSIGN_OR_RETURN(RawNode left, ParseSetOperand());
    TokenKind kind = Peek().kind;
    if (kind != TokenKind::kPlus && kind != TokenKind::kMinus) return left;
    ++pos_;
    ASSIGN_OR_RETURN(RawNode right, ParseSetOperand());
    RawNode node;
    node.kind = kind == TokenKind::kPlus ? RawNode::Kind::kPlus : RawNode::Kind::kMinus;
    node.text = kind == TokenKind::kPlus ? "+" : "-";
    node.args.push_back(std::move(left));
    node.args.push_back(std::move(right));
    return node;
  }

  Result<RawNode> ParseSetOperand() {
    const Token& token = Peek();
    switch (token.kind) {
      case TokenKind::kLeftParen: {
        ++pos_;
        Nesting nesting(depth_);
        if (nesting.too_deep()) return TooDeep();
        ASSIGN_OR_RETURN(RawNode inner, ParseSetValue());
        if (Peek().kind != TokenKind::kRightParen) return SyntaxError(pos_);
        ++pos_;
        ++inner.parens;
        return inner;
      }
      case TokenKind::kName:
        if (PeekAt(1).kind == TokenKind::kLeftParen) return ParseCall();
        return ParsePathNode();
      case TokenKind::kNamePlaceholder:
        return ParsePathNode();
      case TokenKind::kValuePlaceholder:
        return ParseValueNode();
      default:
        return SyntaxError(pos_);
    }
  }

  std::string_view text_;
  std::string_view param_name_;
  Mode mode_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<RawNode> ParseRawCondition(std::string_view text, std::string_view param_name) {
  return Parser(text, param_name, Parser::Mode::kCondition).ParseConditionRoot();
}

Result<RawUpdate> ParseRawUpdate(std::string_view text, std::string_view param_name) {
  return Parser(text, param_name, Parser::Mode::kUpdate).ParseUpdateRoot();
}

Result<std::vector<RawPath>> ParseRawProjection(std::string_view text,
                                                std::string_view param_name) {
  return Parser(text, param_name, Parser::Mode::kProjection).ParseProjectionRoot();
}

Result<RawPath> ParseRawPath(std::string_view text, std::string_view param_name) {
  return Parser(text, param_name, Parser::Mode::kProjection).ParseSinglePath();
}

}  // namespace salespipe::table::expr
