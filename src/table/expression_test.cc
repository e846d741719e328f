// Condition/filter expressions, the expression context, document paths, reserved words and
// hostile input. Update, projection and key condition expressions are in
// expression_update_test.cc.

#include "table/expression.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "common/test_util.h"
#include "table/expression_fuzz_entry.h"
#include "table/reserved_words.h"

namespace salespipe::table {
namespace {

using ::salespipe::testing::StatusIs;
using ::testing::HasSubstr;

AttributeValue S(std::string s) { return AttributeValue::String(std::move(s)); }
AttributeValue N(std::string n) { return AttributeValue::Number(std::move(n)); }
AttributeValue B(std::string b) { return AttributeValue::Binary(std::move(b)); }
AttributeValue SS(std::vector<std::string> m) {
  return AttributeValue::Set(AttributeType::kStringSet, std::move(m));
}
AttributeValue NS(std::vector<std::string> m) {
  return AttributeValue::Set(AttributeType::kNumberSet, std::move(m));
}
AttributeValue BS(std::vector<std::string> m) {
  return AttributeValue::Set(AttributeType::kBinarySet, std::move(m));
}
AttributeValue L(std::vector<AttributeValue> l) { return AttributeValue::List(std::move(l)); }
AttributeValue M(AttributeMap m) { return AttributeValue::Map(std::move(m)); }

// Placeholders available to every test expression.
ExpressionContext Context() {
  return ExpressionContext({{"#n", "name"}, {"#a", "a"}, {"#dot", "x.y"}, {"#m", "m"}},
                           {
                               {":n1", N("1")},
                               {":n2", N("2")},
                               {":n5", N("5")},
                               {":n9", N("9")},
                               {":n10", N("10")},
                               {":n100", N("100")},
                               {":s", S("abc")},
                               {":a", S("a")},
                               {":ab", S("ab")},
                               {":z", S("z")},
                               {":B", S("B")},
                               {":e_acute", S("\xC3\xA9")},
                               {":b1", B("\x01")},
                               {":b80", B("\x80")},
                               {":bprefix", B("\x80\x01")},
                               {":true", AttributeValue::Bool(true)},
                               {":false", AttributeValue::Bool(false)},
                               {":null", AttributeValue::Null()},
                               {":ss", SS({"x", "abc"})},
                               {":ns", NS({"1", "2"})},
                               {":bs", BS({"\x01"})},
                               {":l", L({S("x"), N("2")})},
                               {":m", M({{"k", S("v")}})},
                               {":tS", S("S")},
                               {":tN", S("N")},
                               {":tB", S("B")},
                               {":tBOOL", S("BOOL")},
                               {":tNULL", S("NULL")},
                               {":tSS", S("SS")},
                               {":tNS", S("NS")},
                               {":tBS", S("BS")},
                               {":tL", S("L")},
                               {":tM", S("M")},
                               {":tX", S("X")},
                               {":sx", S("x")},
                           });
}

Item SampleItem() {
  return Item{
      {"a", N("5")},
      {"ten", N("10")},
      {"s", S("abc")},
      {"cap", S("B")},
      {"utf", S("\xC3\xA9t\xC3\xA9")},  // "été": 5 bytes, 3 characters
      {"bin", B("\x80\x01\x02")},
      {"flag", AttributeValue::Bool(true)},
      {"nothing", AttributeValue::Null()},
      {"ss", SS({"abc", "x"})},
      {"ns", NS({"1", "2", "10"})},
      {"bs", BS({"\x01", "\x02"})},
      {"l", L({S("x"), N("2"), M({{"k", S("v")}})})},
      {"m", M({{"k", S("v")}, {"nest", M({{"deep", L({N("7"), N("8")})}})}})},
      {"name", S("reserved")},
      {"x.y", S("dotted")},
  };
}

// Parses `text` with Context() and evaluates it on `item`.
bool Eval(std::string_view text, const Item& item = SampleItem()) {
  ExpressionContext context = Context();
  Result<Condition> condition = ParseCondition(text, context);
  EXPECT_TRUE(condition.ok()) << text << ": " << condition.status().ToString();
  return condition.ok() && condition->Evaluate(item);
}

Status ParseError(std::string_view text, std::string_view param = "ConditionExpression") {
  ExpressionContext context = Context();
  Result<Condition> condition = ParseCondition(text, context, param);
  if (condition.ok()) return Status::Internal("parsed");
  return condition.status();
}

std::string MessageOf(std::string_view text) { return ParseError(text).message(); }

// ---------------------------------------------------------------------------------------
// Comparisons

TEST(ConditionTest, NumbersCompareNumerically) {
  EXPECT_TRUE(Eval("a = :n5"));
  EXPECT_FALSE(Eval("a = :n1"));
  EXPECT_TRUE(Eval("a <> :n1"));
  EXPECT_TRUE(Eval("a < :n10"));
  EXPECT_TRUE(Eval("a <= :n5"));
  EXPECT_FALSE(Eval("a < :n5"));
  EXPECT_TRUE(Eval("a > :n1"));
  EXPECT_TRUE(Eval("a >= :n5"));
  EXPECT_TRUE(Eval("ten > :n9"));  // "10" < "9" as text, but not as numbers
  EXPECT_TRUE(Eval("ten >= a"));   // two paths
}

TEST(ConditionTest, StringsAndBinariesCompareBytewise) {
  EXPECT_TRUE(Eval("cap < :a"));       // "B" (0x42) < "a" (0x61)
  EXPECT_TRUE(Eval(":e_acute > :z"));  // UTF-8 lead byte 0xC3 > 'z'
  EXPECT_TRUE(Eval("s > :ab"));
  EXPECT_TRUE(Eval("bin > :b1"));        // unsigned: 0x80 > 0x01
  EXPECT_TRUE(Eval("bin >= :bprefix"));  // a longer value with the same prefix is greater
  EXPECT_FALSE(Eval("bin < :b80"));
}

TEST(ConditionTest, DifferentTypesAreUnequalAndUnordered) {
  EXPECT_FALSE(Eval("a = :s"));
  EXPECT_TRUE(Eval("a <> :s"));
  EXPECT_FALSE(Eval("a < :s"));
  EXPECT_FALSE(Eval("a > :s"));
  EXPECT_FALSE(Eval("s >= :n1"));
  EXPECT_FALSE(Eval("flag < :true"));  // BOOL has no order
  EXPECT_FALSE(Eval("ss < :ss"));      // neither do sets
}

TEST(ConditionTest, MissingAttributeMakesComparisonsFalseExceptNotEqual) {
  EXPECT_FALSE(Eval("absent = :n1"));
  EXPECT_TRUE(Eval("absent <> :n1"));
  EXPECT_FALSE(Eval("absent < :n1"));
  EXPECT_FALSE(Eval("absent >= :n1"));
  EXPECT_TRUE(Eval("NOT absent < :n1"));
  EXPECT_TRUE(Eval("absent <> other_absent"));
  EXPECT_FALSE(Eval("m.nope.deeper = :n1"));
  EXPECT_FALSE(Eval("a.b = :n1"));  // a step into a number has no value
  EXPECT_FALSE(Eval("a = :n5", Item()));
}

TEST(ConditionTest, EqualityIsDeepForEveryType) {
  EXPECT_TRUE(Eval("ss = :ss"));  // sets compare as sets, whatever the written order
  EXPECT_TRUE(Eval("l[2] = :m"));
  EXPECT_FALSE(Eval("m.k = :sx"));
  EXPECT_TRUE(Eval("flag = :true"));
  EXPECT_TRUE(Eval("flag <> :false"));
  EXPECT_TRUE(Eval("nothing = :null"));
  EXPECT_FALSE(Eval("l = :l"));
  Item item{{"l", L({S("x"), N("2")})}};
  EXPECT_TRUE(Eval("l = :l", item));
}

TEST(ConditionTest, Between) {
  EXPECT_TRUE(Eval("a BETWEEN :n1 AND :n10"));
  EXPECT_TRUE(Eval("a BETWEEN :n5 AND :n5"));  // inclusive
  EXPECT_FALSE(Eval("a BETWEEN :n9 AND :n10"));
  EXPECT_TRUE(Eval("s BETWEEN :ab AND :z"));
  EXPECT_FALSE(Eval("s BETWEEN :n1 AND :n10"));  // type mismatch
  EXPECT_FALSE(Eval("absent BETWEEN :n1 AND :n10"));
  EXPECT_TRUE(Eval("a between :n1 and :n10"));  // keywords are case-insensitive
  EXPECT_TRUE(Eval("size(s) BETWEEN :n1 AND ten"));
}

TEST(ConditionTest, In) {
  EXPECT_TRUE(Eval("a IN (:n1, :n5)"));
  EXPECT_FALSE(Eval("a IN (:n1, :n2)"));
  EXPECT_TRUE(Eval("s IN (:s)"));
  EXPECT_FALSE(Eval("s IN (:n1, :sx)"));
  EXPECT_FALSE(Eval("absent IN (:n1)"));
  EXPECT_TRUE(Eval("a in (ten, a)"));  // paths as candidates
  EXPECT_TRUE(Eval("l IN (:l, l)"));
}

// ---------------------------------------------------------------------------------------
// Logic

TEST(ConditionTest, AndBindsTighterThanOr) {
  // a = 1 OR (a = 5 AND s = "abc")
  EXPECT_TRUE(Eval("a = :n1 OR a = :n5 AND s = :s"));
  // (a = 5 OR ...) AND s = "z" would be false; precedence makes it true.
  EXPECT_TRUE(Eval("a = :n5 OR a = :n1 AND s = :z"));
  EXPECT_FALSE(Eval("(a = :n5 OR a = :n1) AND s = :z"));
}

TEST(ConditionTest, NotBindsTighterThanAnd) {
  // (NOT a = 1) AND s = "abc"
  EXPECT_TRUE(Eval("NOT a = :n1 AND s = :s"));
  EXPECT_FALSE(Eval("NOT (a = :n5 AND s = :s)"));
  EXPECT_TRUE(Eval("NOT NOT a = :n5"));
  EXPECT_TRUE(Eval("not a = :n1 and s = :s or a = :n1"));
}

TEST(ConditionTest, LongChains) {
  std::string text = "a = :n1";
  for (int i = 0; i < 100; ++i) text += " OR a = :n1";
  text += " OR a = :n5";
  EXPECT_TRUE(Eval(text));
}

// ---------------------------------------------------------------------------------------
// Functions

TEST(ConditionTest, AttributeExists) {
  EXPECT_TRUE(Eval("attribute_exists(a)"));
  EXPECT_TRUE(Eval("attribute_exists(m.nest.deep[1])"));
  EXPECT_FALSE(Eval("attribute_exists(m.nest.deep[2])"));
  EXPECT_FALSE(Eval("attribute_exists(absent)"));
  EXPECT_TRUE(Eval("attribute_not_exists(absent)"));
  EXPECT_TRUE(Eval("attribute_not_exists(l[3])"));
  EXPECT_FALSE(Eval("attribute_not_exists(nothing)"));  // a NULL value exists
  EXPECT_TRUE(Eval("attribute_not_exists(a)", Item()));
}

TEST(ConditionTest, AttributeTypeForEveryType) {
  EXPECT_TRUE(Eval("attribute_type(s, :tS)"));
  EXPECT_TRUE(Eval("attribute_type(a, :tN)"));
  EXPECT_TRUE(Eval("attribute_type(bin, :tB)"));
  EXPECT_TRUE(Eval("attribute_type(flag, :tBOOL)"));
  EXPECT_TRUE(Eval("attribute_type(nothing, :tNULL)"));
  EXPECT_TRUE(Eval("attribute_type(ss, :tSS)"));
  EXPECT_TRUE(Eval("attribute_type(ns, :tNS)"));
  EXPECT_TRUE(Eval("attribute_type(bs, :tBS)"));
  EXPECT_TRUE(Eval("attribute_type(l, :tL)"));
  EXPECT_TRUE(Eval("attribute_type(m, :tM)"));
  EXPECT_FALSE(Eval("attribute_type(a, :tS)"));
  EXPECT_FALSE(Eval("attribute_type(absent, :tS)"));
}

TEST(ConditionTest, BeginsWith) {
  EXPECT_TRUE(Eval("begins_with(s, :ab)"));
  EXPECT_TRUE(Eval("begins_with(s, :s)"));
  EXPECT_FALSE(Eval("begins_with(s, :z)"));
  EXPECT_TRUE(Eval("begins_with(bin, :bprefix)"));
  EXPECT_FALSE(Eval("begins_with(bin, :ab)"));  // B vs S
  EXPECT_FALSE(Eval("begins_with(a, :ab)"));    // N has no prefix
  EXPECT_FALSE(Eval("begins_with(absent, :ab)"));
}

TEST(ConditionTest, Contains) {
  EXPECT_TRUE(Eval("contains(s, :ab)"));
  EXPECT_FALSE(Eval("contains(s, :z)"));
  EXPECT_TRUE(Eval("contains(ss, :s)"));
  EXPECT_FALSE(Eval("contains(ss, :ab)"));  // membership, not substring
  EXPECT_TRUE(Eval("contains(ns, :n2)"));
  EXPECT_FALSE(Eval("contains(ns, :n5)"));
  EXPECT_FALSE(Eval("contains(ss, :n1)"));  // element type must match
  EXPECT_TRUE(Eval("contains(bs, :b1)"));
  EXPECT_TRUE(Eval("contains(bin, :b1)"));  // binary subsequence
  EXPECT_TRUE(Eval("contains(l, :sx)"));
  EXPECT_TRUE(Eval("contains(l, :n2)"));
  EXPECT_TRUE(Eval("contains(l, :m)"));
  EXPECT_FALSE(Eval("contains(l, :s)"));
  EXPECT_FALSE(Eval("contains(a, :n5)"));
  EXPECT_FALSE(Eval("contains(absent, :s)"));
  EXPECT_TRUE(Eval("NOT contains(absent, :s)"));
}

TEST(ConditionTest, Size) {
  EXPECT_TRUE(Eval("size(utf) = :n5"));  // UTF-8 bytes, not characters
  EXPECT_TRUE(Eval("size(bin) > :n2"));
  EXPECT_TRUE(Eval("size(ss) = :n2"));
  EXPECT_TRUE(Eval("size(ns) > :n2"));
  EXPECT_TRUE(Eval("size(l) IN (:n1, :n2, ten, a, size(ns))"));
  EXPECT_TRUE(Eval("size(m) = :n2"));
  EXPECT_TRUE(Eval("size(m.nest.deep) = :n2"));
  EXPECT_FALSE(Eval("size(a) = :n1"));  // N has no size
  EXPECT_TRUE(Eval("size(a) <> :n1"));  // no value, so `<>` holds
  EXPECT_FALSE(Eval("size(flag) >= :n1"));
  EXPECT_FALSE(Eval("size(absent) >= :n1"));
  EXPECT_FALSE(Eval("size(:s) = :n2"));
  EXPECT_TRUE(Eval("size(s) = size(:s)"));  // size of a constant
}

TEST(ConditionTest, PathsAndNameSubstitution) {
  EXPECT_FALSE(Eval("#n = :s"));
  EXPECT_FALSE(Eval("#dot = :s"));
  Item item = SampleItem();
  item["name"] = S("abc");
  EXPECT_TRUE(Eval("#n = :s", item));
  EXPECT_TRUE(Eval("attribute_exists(#dot)"));  // a dot inside a substituted name is literal
  EXPECT_FALSE(Eval("attribute_exists(x.y)"));
  EXPECT_FALSE(Eval("#m.nest.deep[0] = :n5"));
  EXPECT_TRUE(Eval("#m.nest.deep[1] > :n5"));
  EXPECT_TRUE(Eval("l[2].k = #m.k"));
  EXPECT_TRUE(Eval("l [ 1 ] = :n2"));  // whitespace inside paths
}

TEST(ConditionTest, ParenthesizedOperands) {
  EXPECT_TRUE(Eval("(a) = :n5"));
  EXPECT_TRUE(Eval("a = (:n5)"));
  EXPECT_TRUE(Eval("((a = :n5) AND (s = :s))"));
  EXPECT_TRUE(Eval("a = :n5 OR (s = :z AND a = :n1)"));
}

TEST(ConditionTest, DefaultConditionIsTrue) {
  Condition condition;
  EXPECT_TRUE(condition.Evaluate(Item()));
  EXPECT_TRUE(condition.Evaluate(std::optional<Item>()));
}

TEST(ConditionTest, MissingItemIsEmpty) {
  ExpressionContext context = Context();
  ASSERT_OK_AND_ASSIGN(Condition condition, ParseCondition("attribute_not_exists(a)", context));
  EXPECT_TRUE(condition.Evaluate(std::optional<Item>()));
  EXPECT_FALSE(condition.Evaluate(std::optional<Item>(SampleItem())));
}

// ---------------------------------------------------------------------------------------
// Errors

TEST(ConditionErrorTest, EmptyExpression) {
  EXPECT_THAT(ParseError(""), StatusIs(ErrorCode::kInvalidArgument,
                                       "Invalid ConditionExpression: The expression can not be "
                                       "empty;"));
  EXPECT_THAT(ParseError("", "FilterExpression"),
              StatusIs(ErrorCode::kInvalidArgument,
                       "Invalid FilterExpression: The expression can not be empty;"));
}

TEST(ConditionErrorTest, SyntaxErrorsQuoteTokenAndContext) {
  EXPECT_EQ(MessageOf("a"),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"a\"");
  EXPECT_EQ(MessageOf("a = :n1 :n2"),
            "Invalid ConditionExpression: Syntax error; token: \":n2\", near: \":n1 :n2\"");
  EXPECT_EQ(MessageOf("attribute_type()"),
            "Invalid ConditionExpression: Syntax error; token: \")\", near: \"()\"");
  EXPECT_EQ(MessageOf("a = = :n1"),
            "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"= = :n1\"");
  EXPECT_EQ(MessageOf("a = 1"),
            "Invalid ConditionExpression: Syntax error; token: \"1\", near: \"= 1\"");
  EXPECT_EQ(MessageOf("a = :n1 $ b"),
            "Invalid ConditionExpression: Syntax error; token: \"$\", near: \":n1 $ b\"");
  EXPECT_EQ(MessageOf("a = :n1 AND"),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"AND\"");
  EXPECT_EQ(MessageOf("a AND b = :n1"),
            "Invalid ConditionExpression: Syntax error; token: \"AND\", near: \"a AND b\"");
  EXPECT_EQ(MessageOf("a BETWEEN :n1 OR :n2"),
            "Invalid ConditionExpression: Syntax error; token: \"OR\", near: \":n1 OR :n2\"");
  EXPECT_EQ(MessageOf("a IN :n1"),
            "Invalid ConditionExpression: Syntax error; token: \":n1\", near: \"IN :n1\"");
  EXPECT_EQ(MessageOf("a != :n1"),
            "Invalid ConditionExpression: Syntax error; token: \"!\", near: \"a !=\"");
  EXPECT_EQ(MessageOf("(a = :n1"),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \":n1\"");
  EXPECT_EQ(MessageOf("a = :n1)"),
            "Invalid ConditionExpression: Syntax error; token: \")\", near: \":n1)\"");
  EXPECT_EQ(MessageOf("a. = :n1"),
            "Invalid ConditionExpression: Syntax error; token: \"=\", near: \". = :n1\"");
  EXPECT_EQ(MessageOf("a[x] = :n1"),
            "Invalid ConditionExpression: Syntax error; token: \"x\", near: \"[x]\"");
  EXPECT_EQ(MessageOf("# = :n1"),
            "Invalid ConditionExpression: Syntax error; token: \"#\", near: \"# =\"");
  EXPECT_EQ(MessageOf("a = :n1 AND (b = :n1) = :n2"),
            "Invalid ConditionExpression: Syntax error; token: \"=\", near: \") = :n2\"");
  EXPECT_THAT(ParseError("a b", "FilterExpression"),
              StatusIs(ErrorCode::kInvalidArgument,
                       "Invalid FilterExpression: Syntax error; token: \"b\", near: \"a b\""));
}

TEST(ConditionErrorTest, BarePathOrValueIsNotACondition) {
  EXPECT_THAT(ParseError("a"), StatusIs(ErrorCode::kInvalidArgument, "Syntax error"));
  EXPECT_THAT(ParseError(":n1"), StatusIs(ErrorCode::kInvalidArgument, "Syntax error"));
  EXPECT_THAT(ParseError("NOT a"), StatusIs(ErrorCode::kInvalidArgument, "Syntax error"));
  EXPECT_THAT(ParseError("a = :n1 OR b"), StatusIs(ErrorCode::kInvalidArgument, "Syntax error"));
  EXPECT_THAT(ParseError("(a)"), StatusIs(ErrorCode::kInvalidArgument, "Syntax error"));
}

TEST(ConditionErrorTest, UnknownFunction) {
  EXPECT_EQ(MessageOf("foo(a)"),
            "Invalid ConditionExpression: Invalid function name; function: foo");
  EXPECT_EQ(MessageOf("a = bar(b)"),
            "Invalid ConditionExpression: Invalid function name; function: bar");
  EXPECT_EQ(MessageOf("SIZE(a) = :n1"),
            "Invalid ConditionExpression: Invalid function name; function: SIZE");
  // An unknown function outranks a reserved word that comes first.
  EXPECT_EQ(MessageOf("name = :n1 AND foo(a)"),
            "Invalid ConditionExpression: Invalid function name; function: foo");
}

TEST(ConditionErrorTest, WrongNumberOfOperands) {
  EXPECT_EQ(MessageOf("begins_with(a)"),
            "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
            "operator or function: begins_with, number of operands: 1");
  EXPECT_EQ(MessageOf("attribute_exists(a, b)"),
            "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
            "operator or function: attribute_exists, number of operands: 2");
  EXPECT_EQ(MessageOf("size(a, b) = :n1"),
            "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
            "operator or function: size, number of operands: 2");
  EXPECT_EQ(MessageOf("contains(a, :s, :s)"),
            "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
            "operator or function: contains, number of operands: 3");
}

TEST(ConditionErrorTest, MisusedFunctions) {
  EXPECT_EQ(MessageOf("size(a)"),
            "Invalid ConditionExpression: The function is not allowed to be used this way in an "
            "expression; function: size");
  EXPECT_EQ(MessageOf("attribute_exists(a) = :true"),
            "Invalid ConditionExpression: The function is not allowed to be used this way in an "
            "expression; function: attribute_exists");
  EXPECT_EQ(MessageOf("a = :n1 AND size(s)"),
            "Invalid ConditionExpression: The function is not allowed to be used this way in an "
            "expression; function: size");
  EXPECT_EQ(MessageOf("contains(begins_with(a, :s), :s)"),
            "Invalid ConditionExpression: The function is not allowed to be used this way in an "
            "expression; function: begins_with");
}

TEST(ConditionErrorTest, OperandTypes) {
  EXPECT_EQ(MessageOf("attribute_exists(:n1)"),
            "Invalid ConditionExpression: Operator or function requires a document path; "
            "operator or function: attribute_exists");
  EXPECT_EQ(MessageOf("attribute_not_exists(size(a))"),
            "Invalid ConditionExpression: Operator or function requires a document path; "
            "operator or function: attribute_not_exists");
  EXPECT_EQ(MessageOf("begins_with(a, :n1)"),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N");
  EXPECT_EQ(MessageOf("size(:n1) = :n1"),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: size, operand type: N");
  EXPECT_EQ(MessageOf("size(:true) = :n1"),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: size, operand type: BOOL");
  EXPECT_EQ(MessageOf("size(size(a)) = :n1"),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: size, operand type: N");
  EXPECT_EQ(MessageOf("attribute_type(a, :n1)"),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: attribute_type, operand type: N");
}

TEST(ConditionErrorTest, InvalidAttributeTypeName) {
  EXPECT_EQ(MessageOf("attribute_type(a, :tX)"),
            "Invalid ConditionExpression: Invalid attribute type name found; type: X, valid "
            "types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
  EXPECT_EQ(MessageOf("attribute_type(a, :s)"),
            "Invalid ConditionExpression: Invalid attribute type name found; type: abc, valid "
            "types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
}

TEST(ConditionErrorTest, BetweenBounds) {
  EXPECT_EQ(MessageOf("a BETWEEN :n5 AND :n1"),
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
            "than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper "
            "bound operand: AttributeValue: {N:1}");
  EXPECT_EQ(MessageOf("a BETWEEN :n10 AND :n9"),
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
            "than or equal to lower bound; lower bound operand: AttributeValue: {N:10}, upper "
            "bound operand: AttributeValue: {N:9}");
  EXPECT_EQ(MessageOf("a BETWEEN :n1 AND :s"),
            "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower "
            "and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: "
            "AttributeValue: {S:abc}");
  EXPECT_EQ(MessageOf("a BETWEEN :z AND :a"),
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
            "than or equal to lower bound; lower bound operand: AttributeValue: {S:z}, upper "
            "bound operand: AttributeValue: {S:a}");
}

TEST(ConditionErrorTest, ReservedWords) {
  EXPECT_EQ(MessageOf("name = :s"),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: name");
  EXPECT_EQ(MessageOf("a = :n1 AND Status = :s"),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: Status");
  EXPECT_EQ(MessageOf("m.count > :n1"),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: count");
  EXPECT_EQ(MessageOf("attribute_exists(timestamp)"),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: timestamp");
  EXPECT_FALSE(Eval("#n = :s"));        // the placeholder is the way around it
  EXPECT_FALSE(Eval("size(s) = :n2"));  // `size` is reserved, but fine as a function
}

TEST(ConditionErrorTest, UndefinedPlaceholders) {
  EXPECT_THAT(ParseError("a = :nope"),
              StatusIs(ErrorCode::kInvalidArgument,
                       "Invalid ConditionExpression: An expression attribute value used in "
                       "expression is not defined; attribute value: :nope"));
  EXPECT_THAT(ParseError("#nope = :n1"),
              StatusIs(ErrorCode::kInvalidArgument,
                       "Invalid ConditionExpression: An expression attribute name used in the "
                       "document path is not defined; attribute name: #nope"));
  EXPECT_THAT(ParseError("a.#nope = :n1", "FilterExpression"),
              StatusIs(ErrorCode::kInvalidArgument,
                       "Invalid FilterExpression: An expression attribute name used in the "
                       "document path is not defined; attribute name: #nope"));
  // The first undefined placeholder is reported, name or value.
  EXPECT_EQ(MessageOf("a = :nope AND #nope = :n1"),
            "Invalid ConditionExpression: An expression attribute value used in expression is not "
            "defined; attribute value: :nope");
  // A reserved word outranks an undefined placeholder.
  EXPECT_EQ(MessageOf("#nope = :n1 AND name = :s"),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: name");
}

TEST(ConditionErrorTest, OperandsMustBeDistinct) {
  EXPECT_EQ(MessageOf("a = a"),
            "Invalid ConditionExpression: The first operand must be distinct from the remaining "
            "operands for this operator or function; operator: =, first operand: [a]");
  EXPECT_EQ(MessageOf("m.k <> #m.k"),
            "Invalid ConditionExpression: The first operand must be distinct from the remaining "
            "operands for this operator or function; operator: <>, first operand: [m, k]");
  EXPECT_EQ(MessageOf("contains(l[0], l[0])"),
            "Invalid ConditionExpression: The first operand must be distinct from the remaining "
            "operands for this operator or function; operator: contains, first operand: [l, [0]]");
  EXPECT_TRUE(Eval(":n1 = :n1"));  // constants may repeat
}

TEST(ConditionErrorTest, RedundantParentheses) {
  constexpr std::string_view kRedundant =
      "Invalid ConditionExpression: The expression has redundant parentheses;";
  EXPECT_EQ(MessageOf("((a = :n5))"), kRedundant);
  EXPECT_EQ(MessageOf("((a = :n5 AND s = :s))"), kRedundant);
  EXPECT_EQ(MessageOf("(a = :n5) AND ((a IN (:n1, :n2)))"), kRedundant);
  EXPECT_EQ(MessageOf("((a)) = :n5"), kRedundant);
  EXPECT_TRUE(Eval("(a = :n5)"));
  EXPECT_TRUE(Eval("((a = :n5) AND (s = :s))"));
  EXPECT_TRUE(Eval("((a = :n5 AND s = :s) AND a = :n5)"));
  EXPECT_TRUE(Eval("attribute_not_exists(x) OR a < :n1 OR (s = :s AND attribute_exists(a))"));
}

TEST(ConditionErrorTest, InOperandLimit) {
  std::string hundred = "a IN (:n1";
  for (int i = 1; i < 100; ++i) hundred += ", :n1";
  EXPECT_FALSE(Eval(hundred + ")"));
  EXPECT_EQ(MessageOf(hundred + ", :n5)"),
            "Invalid ConditionExpression: The IN operator is provided with too many operands; "
            "number of operands: 101");
}

TEST(ConditionErrorTest, ExpressionSizeLimit) {
  std::string padded = "a = :n5" + std::string(kMaxExpressionBytes - 7, ' ');
  ASSERT_EQ(padded.size(), 4096u);
  EXPECT_TRUE(Eval(padded));
  std::string big = "a = :n5" + std::string(5000 - 7, ' ');
  EXPECT_EQ(MessageOf(big),
            "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; "
            "expression size: 5000");
}

TEST(ConditionErrorTest, OperatorLimit) {
  std::string text = "a = :n5";
  for (int i = 0; i < 149; ++i) text += " AND a = :n5";  // 150 comparisons + 149 ANDs = 299
  EXPECT_TRUE(Eval(text));
  text += " AND a = :n5";  // 301
  EXPECT_EQ(MessageOf(text),
            "Invalid ConditionExpression: The expression contains too many operators; operator "
            "count: 301");
}

// ---------------------------------------------------------------------------------------
// Hostile input: errors, never crashes.

TEST(ConditionHostileTest, DeepNestingIsRejected) {
  std::string parens(100000, '(');
  EXPECT_THAT(ParseError(parens), StatusIs(ErrorCode::kInvalidArgument,
                                           "Expression size has exceeded the maximum allowed "
                                           "size; expression size: 100000"));
  std::string nested = std::string(2000, '(') + "a = :n1" + std::string(2000, ')');
  EXPECT_THAT(ParseError(nested),
              StatusIs(ErrorCode::kInvalidArgument,
                       "Invalid ConditionExpression: The expression has too many nested levels"));
  std::string nots;
  for (int i = 0; i < 600; ++i) nots += "NOT ";
  EXPECT_THAT(ParseError(nots + "a = :n1"),
              StatusIs(ErrorCode::kInvalidArgument, "too many nested levels"));
  std::string sizes;
  for (int i = 0; i < 500; ++i) sizes += "size(";
  EXPECT_THAT(ParseError(sizes + "a" + std::string(500, ')') + " = :n1"),
              StatusIs(ErrorCode::kInvalidArgument, "too many nested levels"));
  std::string unclosed = std::string(3000, '(');
  EXPECT_THAT(ParseError(unclosed), StatusIs(ErrorCode::kInvalidArgument));
}

TEST(ConditionHostileTest, NestingWithinTheLimitEvaluates) {
  std::string nots;
  for (int i = 0; i < 250; ++i) nots += "NOT ";
  EXPECT_TRUE(Eval(nots + "a = :n5"));  // an even number of NOTs
  std::string nested;
  for (int i = 0; i < 100; ++i) nested += "a = :n5 AND (";
  nested += "a = :n5" + std::string(100, ')');
  EXPECT_TRUE(Eval(nested));
}

TEST(ConditionHostileTest, HugeInListAndGarbage) {
  std::string in = "a IN (";
  for (int i = 0; i < 800; ++i) in += ":n1,";
  in += ":n1)";
  EXPECT_THAT(ParseError(in), StatusIs(ErrorCode::kInvalidArgument, "too many operands"));
  EXPECT_THAT(ParseError(std::string(5000, 'a')), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(ParseError(std::string("a = :n1\0b", 9)),
              StatusIs(ErrorCode::kInvalidArgument, "Syntax error"));
  EXPECT_THAT(ParseError("\xff\xfe"), StatusIs(ErrorCode::kInvalidArgument, "Syntax error"));
  EXPECT_FALSE(Eval("a[99999999999999999999999] = :n1"));  // the index saturates
}

template <size_t N>
void Fuzz(const char (&literal)[N]) {  // keeps embedded NULs
  FuzzExpressions(reinterpret_cast<const uint8_t*>(literal), N - 1);
}

TEST(ConditionHostileTest, FuzzEntrySurvivesRandomInput) {
  static constexpr char kAlphabet[] =
      "abn#:()[].,=<>+- \0ANDORNOTINBETWEENSETREMOVEADDDELETE1size_contains";
  std::mt19937 random(12345);
  for (int round = 0; round < 2000; ++round) {
    std::string input;
    size_t length = random() % 200;
    for (size_t i = 0; i < length; ++i) input += kAlphabet[random() % (sizeof(kAlphabet) - 1)];
    FuzzExpressions(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  Fuzz("a = :n\0pk = :s\0SET a = a + :n, l[9] = :s REMOVE b ADD ns :ns\0a, l[0]\0m.k");
  Fuzz("begins_with(b, :s)\0a = :n AND b BETWEEN :s AND :s\0SET l = list_append(l, :l)\0#a\0#b");
  Fuzz("contains(ss, :s)\0a = :n\0SET m.k[3] = :m DELETE ss :ss\0l[2].x, m\0l[1]");
  FuzzExpressions(nullptr, 0);
}

// ---------------------------------------------------------------------------------------
// ExpressionContext

TEST(ExpressionContextTest, ReportsUnusedValuesAndNames) {
  ExpressionContext context({{"#x", "x"}}, {{":v", N("1")}, {":w", N("2")}, {":u", N("3")}});
  ASSERT_OK(ParseCondition("#x = :u", context));
  EXPECT_THAT(context.CheckAllUsed(),
              StatusIs(ErrorCode::kInvalidArgument,
                       "Value provided in ExpressionAttributeValues unused in expressions: keys: "
                       "{:v, :w}"));

  ExpressionContext names({{"#n", "n"}, {"#o", "o"}}, {{":v", N("1")}});
  ASSERT_OK(ParseCondition("#o = :v", names));
  EXPECT_THAT(names.CheckAllUsed(),
              StatusIs(ErrorCode::kInvalidArgument,
                       "Value provided in ExpressionAttributeNames unused in expressions: keys: "
                       "{#n}"));
}

TEST(ExpressionContextTest, NamesAreReportedBeforeValues) {
  ExpressionContext context({{"#n", "n"}}, {{":v", N("1")}});
  EXPECT_THAT(context.CheckAllUsed(),
              StatusIs(ErrorCode::kInvalidArgument, "ExpressionAttributeNames unused"));
}

TEST(ExpressionContextTest, UsageSpansAllExpressionsOfARequest) {
  ExpressionContext context({{"#k", "k"}, {"#p", "p"}}, {{":c", N("1")}, {":u", N("2")}});
  ASSERT_OK(ParseCondition("attribute_exists(#k) AND a < :c", context));
  ASSERT_OK(ParseUpdate("SET b = :u", context));
  EXPECT_THAT(context.CheckAllUsed(), StatusIs(ErrorCode::kInvalidArgument, "{#p}"));
  ASSERT_OK(ParseProjection("#p", context));
  EXPECT_OK(context.CheckAllUsed());
}

TEST(ExpressionContextTest, EmptyContextIsFine) {
  ExpressionContext context;
  EXPECT_OK(context.CheckAllUsed());
  EXPECT_EQ(context.ResolveName("#x"), nullptr);
  EXPECT_EQ(context.ResolveValue(":x"), nullptr);
}

// ---------------------------------------------------------------------------------------
// Reserved words

TEST(ReservedWordsTest, FullOfficialList) {
  EXPECT_EQ(ReservedWordCount(), 573u);
  for (const char* word :
       {"ABORT",     "abort", "Absolute", "ACTION", "ADD",  "NAME", "DATE",     "STATUS",
        "TIMESTAMP", "COUNT", "SIZE",     "VALUE",  "YEAR", "ZONE", "FLATTERN", "INNTER",
        "LOGED",     "ttl",   "user",     "data",   "key",  "type", "Comment"}) {
    EXPECT_TRUE(IsReservedWord(word)) << word;
  }
  for (const char* word : {"", "foo", "customer", "amount", "sizes", "abortx", "ABOR"}) {
    EXPECT_FALSE(IsReservedWord(word)) << word;
  }
}

// ---------------------------------------------------------------------------------------
// Paths

TEST(PathTest, ParseAndPrint) {
  ExpressionContext context({{"#n", "x.y"}}, {});
  ASSERT_OK_AND_ASSIGN(Path path, ParsePath("a.b[2].#n", context, "ProjectionExpression"));
  ASSERT_EQ(path.size(), 4u);
  EXPECT_EQ(path[0].name(), "a");
  EXPECT_TRUE(path[2].is_index());
  EXPECT_EQ(path[2].index(), 2u);
  EXPECT_EQ(path[3].name(), "x.y");
  EXPECT_EQ(PathToString(path), "[a, b, [2], x.y]");
  EXPECT_THAT(ParsePath("[1]", context, "ProjectionExpression"),
              StatusIs(ErrorCode::kInvalidArgument, "Syntax error; token: \"[\""));
}

TEST(PathTest, FindAtPath) {
  Item item = SampleItem();
  EXPECT_EQ(*FindAtPath(item, {PathElement::Name("a")}), N("5"));
  EXPECT_EQ(
      *FindAtPath(item, {PathElement::Name("l"), PathElement::Index(2), PathElement::Name("k")}),
      S("v"));
  EXPECT_EQ(FindAtPath(item, {PathElement::Name("l"), PathElement::Index(3)}), nullptr);
  EXPECT_EQ(FindAtPath(item, {PathElement::Name("l"), PathElement::Name("k")}), nullptr);
  EXPECT_EQ(FindAtPath(item, {PathElement::Name("m"), PathElement::Index(0)}), nullptr);
  EXPECT_EQ(FindAtPath(item, {}), nullptr);
}

TEST(PathTest, SetAtPathCreatesOnlyTheLastStep) {
  Item item{{"m", M({})}, {"l", L({N("0"), N("1")})}};
  ASSERT_OK(SetAtPath(item, {PathElement::Name("m"), PathElement::Name("x")}, N("1")));
  EXPECT_EQ(item["m"], M({{"x", N("1")}}));
  ASSERT_OK(SetAtPath(item, {PathElement::Name("l"), PathElement::Index(0)}, S("zero")));
  ASSERT_OK(SetAtPath(item, {PathElement::Name("l"), PathElement::Index(10)}, S("end")));
  EXPECT_EQ(item["l"], L({S("zero"), N("1"), S("end")}));
  constexpr std::string_view kInvalid =
      "The document path provided in the update expression is invalid for update";
  EXPECT_THAT(SetAtPath(item, {PathElement::Name("a"), PathElement::Name("b")}, N("1")),
              StatusIs(ErrorCode::kInvalidArgument, kInvalid));
  EXPECT_THAT(SetAtPath(item, {PathElement::Name("m"), PathElement::Index(0)}, N("1")),
              StatusIs(ErrorCode::kInvalidArgument, kInvalid));
  EXPECT_THAT(SetAtPath(item, {PathElement::Name("l"), PathElement::Name("b")}, N("1")),
              StatusIs(ErrorCode::kInvalidArgument, kInvalid));
}

TEST(PathTest, RemoveAtPath) {
  Item item{{"l", L({N("0"), N("1"), N("2")})}, {"m", M({{"k", N("1")}})}};
  ASSERT_OK(RemoveAtPath(item, {PathElement::Name("l"), PathElement::Index(0)}));
  EXPECT_EQ(item["l"], L({N("1"), N("2")}));  // later elements shift down
  ASSERT_OK(RemoveAtPath(item, {PathElement::Name("l"), PathElement::Index(7)}));  // no-op
  EXPECT_EQ(item["l"], L({N("1"), N("2")}));
  ASSERT_OK(RemoveAtPath(item, {PathElement::Name("m"), PathElement::Name("nope")}));
  ASSERT_OK(RemoveAtPath(item, {PathElement::Name("m"), PathElement::Name("k")}));
  EXPECT_EQ(item["m"], M({}));
  ASSERT_OK(RemoveAtPath(item, {PathElement::Name("nope")}));
  EXPECT_THAT(RemoveAtPath(item, {PathElement::Name("nope"), PathElement::Name("x")}),
              StatusIs(ErrorCode::kInvalidArgument, "document path provided"));
}

TEST(PathTest, RelatePaths) {
  Path a{PathElement::Name("a")};
  Path ab{PathElement::Name("a"), PathElement::Name("b")};
  Path a0{PathElement::Name("a"), PathElement::Index(0)};
  Path ac{PathElement::Name("a"), PathElement::Name("c")};
  EXPECT_EQ(RelatePaths(a, ab), PathRelation::kOverlap);
  EXPECT_EQ(RelatePaths(ab, ab), PathRelation::kOverlap);
  EXPECT_EQ(RelatePaths(ab, ac), PathRelation::kDisjoint);
  EXPECT_EQ(RelatePaths(ab, a0), PathRelation::kConflict);
  EXPECT_TRUE(PathLess(a0, ab));
  EXPECT_TRUE(PathLess(a, ab));
}

}  // namespace
}  // namespace salespipe::table
