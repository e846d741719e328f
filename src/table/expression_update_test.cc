// Update, projection and key condition expressions.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/test_util.h"
#include "table/expression.h"

namespace salespipe::table {
namespace {

using ::salespipe::testing::StatusIs;
using ::testing::ElementsAre;

AttributeValue S(std::string s) { return AttributeValue::String(std::move(s)); }
AttributeValue N(std::string n) { return AttributeValue::Number(std::move(n)); }
AttributeValue SS(std::vector<std::string> m) {
  return AttributeValue::Set(AttributeType::kStringSet, std::move(m));
}
AttributeValue NS(std::vector<std::string> m) {
  return AttributeValue::Set(AttributeType::kNumberSet, std::move(m));
}
AttributeValue L(std::vector<AttributeValue> l) { return AttributeValue::List(std::move(l)); }
AttributeValue M(AttributeMap m) { return AttributeValue::Map(std::move(m)); }

ExpressionContext Context() {
  return ExpressionContext({{"#a", "a"}, {"#n", "name"}, {"#k", "k"}},
                           {
                               {":one", N("1")},
                               {":p1", N("0.1")},
                               {":p2", N("0.2")},
                               {":neg", N("-2.5")},
                               {":zero", N("0")},
                               {":big", N("9.9999999999999999999999999999999999999E+125")},
                               {":s", S("str")},
                               {":t", S("t")},
                               {":l", L({S("x")})},
                               {":l2", L({N("1"), N("2")})},
                               {":empty", L({})},
                               {":ss", SS({"a", "b"})},
                               {":ss_c", SS({"c"})},
                               {":ns", NS({"1", "3"})},
                               {":true", AttributeValue::Bool(true)},
                               {":null", AttributeValue::Null()},
                               {":m", M({{"k", S("v")}})},
                               {":bin", AttributeValue::Binary("b")},
                           });
}

Update MustParseUpdate(std::string_view text) {
  ExpressionContext context = Context();
  Result<Update> update = ParseUpdate(text, context);
  EXPECT_TRUE(update.ok()) << text << ": " << update.status().ToString();
  return update.ok() ? *update : Update();
}

// Applies `text` to `item` and returns the new item; fails the test on errors.
Item Apply(std::string_view text, Item item) {
  Update update = MustParseUpdate(text);
  Status status = update.Apply(item);
  EXPECT_TRUE(status.ok()) << text << ": " << status.ToString();
  return item;
}

Status ApplyError(std::string_view text, Item item) {
  Update update = MustParseUpdate(text);
  Item before = item;
  Status status = update.Apply(item);
  EXPECT_EQ(item, before) << "a failed update must leave the item unchanged";
  return status;
}

std::string UpdateParseError(std::string_view text) {
  ExpressionContext context = Context();
  Result<Update> update = ParseUpdate(text, context);
  return update.ok() ? "parsed" : update.status().message();
}

constexpr std::string_view kInvalidPath =
    "The document path provided in the update expression is invalid for update";
constexpr std::string_view kIncorrectType =
    "An operand in the update expression has an incorrect data type";
constexpr std::string_view kMissingAttribute =
    "The provided expression refers to an attribute that does not exist in the item";

// ---------------------------------------------------------------------------------------
// SET

TEST(UpdateSetTest, SetsTopLevelAndNestedValues) {
  Item item = Apply("SET a = :s, m.k = :one, l[0] = :t", {{"m", M({})}, {"l", L({N("9")})}});
  EXPECT_EQ(item, (Item{{"a", S("str")}, {"m", M({{"k", N("1")}})}, {"l", L({S("t")})}}));
}

TEST(UpdateSetTest, NestedSetNeedsTheParent) {
  EXPECT_THAT(ApplyError("SET a.b = :one", {}),
              StatusIs(ErrorCode::kInvalidArgument, kInvalidPath));
  EXPECT_THAT(ApplyError("SET a.b = :one", {{"a", N("1")}}),
              StatusIs(ErrorCode::kInvalidArgument, kInvalidPath));
  EXPECT_THAT(ApplyError("SET a[0] = :one", {{"a", M({})}}),
              StatusIs(ErrorCode::kInvalidArgument, kInvalidPath));
}

TEST(UpdateSetTest, ArithmeticIsExact) {
  EXPECT_EQ(Apply("SET a = :p1 + :p2", {})["a"], N("0.3"));
  EXPECT_EQ(Apply("SET a = a + :p2", {{"a", N("0.1")}})["a"], N("0.3"));
  EXPECT_EQ(Apply("SET a = a - :neg", {{"a", N("0.5")}})["a"], N("3"));
  EXPECT_EQ(Apply("SET a = b - a", {{"a", N("1")}, {"b", N("0.1")}})["a"], N("-0.9"));
  EXPECT_EQ(Apply("SET a = (a + :one)", {{"a", N("99")}})["a"], N("100"));
}

TEST(UpdateSetTest, ArithmeticErrors) {
  EXPECT_THAT(ApplyError("SET a = b + :one", {{"a", N("1")}}),
              StatusIs(ErrorCode::kInvalidArgument, kMissingAttribute));
  EXPECT_THAT(ApplyError("SET a = b + :one", {{"b", S("x")}}),
              StatusIs(ErrorCode::kInvalidArgument, kIncorrectType));
  EXPECT_THAT(ApplyError("SET a = b", {}),
              StatusIs(ErrorCode::kInvalidArgument, kMissingAttribute));
  EXPECT_THAT(
      ApplyError("SET a = a + :big", {{"a", N("9.9999999999999999999999999999999999999E+125")}}),
      StatusIs(ErrorCode::kInvalidArgument, "Number overflow"));
  EXPECT_EQ(UpdateParseError("SET a = a + :s"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
            "or function: +, operand type: S");
  EXPECT_EQ(UpdateParseError("SET a = :l - a"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
            "or function: -, operand type: L");
}

TEST(UpdateSetTest, IfNotExists) {
  EXPECT_EQ(Apply("SET a = if_not_exists(a, :one)", {})["a"], N("1"));
  EXPECT_EQ(Apply("SET a = if_not_exists(a, :one)", {{"a", S("kept")}})["a"], S("kept"));
  EXPECT_EQ(Apply("SET a = if_not_exists(b, c)", {{"c", N("7")}})["a"], N("7"));
  EXPECT_EQ(Apply("SET n = if_not_exists(n, :zero) + :one", {})["n"], N("1"));
  EXPECT_EQ(Apply("SET n = if_not_exists(n, :zero) + :one", {{"n", N("41")}})["n"], N("42"));
  EXPECT_THAT(ApplyError("SET a = if_not_exists(b, c)", {}),
              StatusIs(ErrorCode::kInvalidArgument, kMissingAttribute));
  EXPECT_EQ(UpdateParseError("SET a = if_not_exists(:one, :one)"),
            "Invalid UpdateExpression: Operator or function requires a document path; operator "
            "or function: if_not_exists");
}

TEST(UpdateSetTest, ListAppendBothOrders) {
  Item item{{"l", L({N("0")})}};
  EXPECT_EQ(Apply("SET l = list_append(l, :l)", item)["l"], L({N("0"), S("x")}));
  EXPECT_EQ(Apply("SET l = list_append(:l, l)", item)["l"], L({S("x"), N("0")}));
  EXPECT_EQ(Apply("SET l = list_append(if_not_exists(l, :empty), :l2)", {})["l"],
            L({N("1"), N("2")}));
  EXPECT_THAT(ApplyError("SET l = list_append(l, :l)", {}),
              StatusIs(ErrorCode::kInvalidArgument, kMissingAttribute));
  EXPECT_THAT(ApplyError("SET l = list_append(l, :l)", {{"l", S("x")}}),
              StatusIs(ErrorCode::kInvalidArgument, kIncorrectType));
  EXPECT_EQ(UpdateParseError("SET l = list_append(l, :s)"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
            "or function: list_append, operand type: S");
  EXPECT_EQ(UpdateParseError("SET l = list_append(l)"),
            "Invalid UpdateExpression: Incorrect number of operands for operator or function; "
            "operator or function: list_append, number of operands: 1");
}

TEST(UpdateSetTest, OperandsSeeTheItemBeforeTheUpdate) {
  Item item = Apply("SET a = b, b = a", {{"a", N("1")}, {"b", N("2")}});
  EXPECT_EQ(item["a"], N("2"));
  EXPECT_EQ(item["b"], N("1"));
}

TEST(UpdateSetTest, ListIndexPastTheEndAppendsInIndexOrder) {
  Item item = Apply("SET l[10] = :one", {{"l", L({S("x")})}});
  EXPECT_EQ(item["l"], L({S("x"), N("1")}));
  item = Apply("SET l[5] = :s, l[4] = :t", {{"l", L({N("0"), N("1")})}});
  EXPECT_EQ(item["l"], L({N("0"), N("1"), S("t"), S("str")}));
}

// ---------------------------------------------------------------------------------------
// REMOVE

TEST(UpdateRemoveTest, RemovesAttributesAndShiftsLists) {
  Item item{{"a", N("1")}, {"l", L({N("0"), N("1"), N("2"), N("3")})}, {"m", M({{"k", N("1")}})}};
  EXPECT_EQ(Apply("REMOVE a, m.k", item),
            (Item{{"l", L({N("0"), N("1"), N("2"), N("3")})}, {"m", M({})}}));
  EXPECT_EQ(Apply("REMOVE l[1]", item)["l"], L({N("0"), N("2"), N("3")}));
  // Indexes refer to the list before the update: elements 0 and 2 go.
  EXPECT_EQ(Apply("REMOVE l[0], l[2]", item)["l"], L({N("1"), N("3")}));
  EXPECT_EQ(Apply("REMOVE l[2], l[0]", item)["l"], L({N("1"), N("3")}));
  EXPECT_EQ(Apply("REMOVE l[9], absent, m.nope", item), item);  // all no-ops
  EXPECT_EQ(Apply("REMOVE l[0] SET l[1] = :s", item)["l"], L({S("str"), N("2"), N("3")}));
}

TEST(UpdateRemoveTest, ParentMustExist) {
  EXPECT_THAT(ApplyError("REMOVE a.b", {}), StatusIs(ErrorCode::kInvalidArgument, kInvalidPath));
  EXPECT_THAT(ApplyError("REMOVE a[0]", {{"a", S("x")}}),
              StatusIs(ErrorCode::kInvalidArgument, kInvalidPath));
}

// ---------------------------------------------------------------------------------------
// ADD / DELETE

TEST(UpdateAddTest, Numbers) {
  EXPECT_EQ(Apply("ADD n :p1", {{"n", N("0.2")}})["n"], N("0.3"));
  EXPECT_EQ(Apply("ADD n :neg", {})["n"], N("-2.5"));  // created from zero
  EXPECT_EQ(Apply("ADD m.n :one", {{"m", M({})}})["m"], M({{"n", N("1")}}));
  EXPECT_THAT(ApplyError("ADD n :one", {{"n", S("x")}}),
              StatusIs(ErrorCode::kInvalidArgument, kIncorrectType));
  EXPECT_THAT(ApplyError("ADD m.n :one", {}), StatusIs(ErrorCode::kInvalidArgument, kInvalidPath));
}

TEST(UpdateAddTest, Sets) {
  EXPECT_EQ(Apply("ADD s :ss", {{"s", SS({"b", "z"})}})["s"], SS({"a", "b", "z"}));
  EXPECT_EQ(Apply("ADD s :ss", {})["s"], SS({"a", "b"}));
  EXPECT_EQ(Apply("ADD s :ns", {{"s", NS({"2"})}})["s"], NS({"1", "2", "3"}));
  EXPECT_THAT(ApplyError("ADD s :ss", {{"s", NS({"2"})}}),
              StatusIs(ErrorCode::kInvalidArgument, kIncorrectType));
  EXPECT_THAT(ApplyError("ADD s :ns", {{"s", N("2")}}),
              StatusIs(ErrorCode::kInvalidArgument, kIncorrectType));
}

TEST(UpdateAddTest, OperandTypes) {
  EXPECT_EQ(UpdateParseError("ADD a :s"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
            "ADD, operand type: STRING");
  EXPECT_EQ(UpdateParseError("ADD a :l"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
            "ADD, operand type: LIST");
  EXPECT_EQ(UpdateParseError("ADD a :true"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
            "ADD, operand type: BOOLEAN");
  EXPECT_EQ(UpdateParseError("DELETE a :one"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
            "DELETE, operand type: NUMBER");
  EXPECT_EQ(UpdateParseError("DELETE a :m"),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
            "DELETE, operand type: MAP");
  EXPECT_EQ(UpdateParseError("ADD a b"),
            "Invalid UpdateExpression: Syntax error; token: \"b\", near: \"a b\"");
}

TEST(UpdateDeleteTest, RemovesMembersAndEmptiedSets) {
  EXPECT_EQ(Apply("DELETE s :ss", {{"s", SS({"a", "c"})}})["s"], SS({"c"}));
  EXPECT_EQ(Apply("DELETE s :ss", {{"s", SS({"a"})}, {"x", N("1")}}), (Item{{"x", N("1")}}));
  EXPECT_EQ(Apply("DELETE s :ss", {}), Item());
  EXPECT_EQ(Apply("DELETE s :ss_c", {{"s", SS({"a"})}})["s"], SS({"a"}));
  EXPECT_THAT(ApplyError("DELETE s :ss", {{"s", NS({"1"})}}),
              StatusIs(ErrorCode::kInvalidArgument, kIncorrectType));
  EXPECT_THAT(ApplyError("DELETE s :ss", {{"s", S("a")}}),
              StatusIs(ErrorCode::kInvalidArgument, kIncorrectType));
}

// ---------------------------------------------------------------------------------------
// Structure and errors

TEST(UpdateParseTest, SectionsInAnyOrderOnceEach) {
  Item item =
      Apply("remove r ADD n :one set a = :s DELETE s :ss", {{"r", N("1")}, {"s", SS({"a", "x"})}});
  EXPECT_EQ(item, (Item{{"a", S("str")}, {"n", N("1")}, {"s", SS({"x"})}}));
  EXPECT_EQ(UpdateParseError("SET a = :one SET b = :one"),
            "Invalid UpdateExpression: The \"SET\" section can only be used once in an update "
            "expression;");
  EXPECT_EQ(UpdateParseError("REMOVE a ADD n :one remove b"),
            "Invalid UpdateExpression: The \"REMOVE\" section can only be used once in an update "
            "expression;");
}

TEST(UpdateParseTest, OverlappingAndConflictingPaths) {
  EXPECT_EQ(UpdateParseError("SET a = :one, a.b = :one"),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
            "rewrite one of these paths; path one: [a], path two: [a, b]");
  EXPECT_EQ(UpdateParseError("SET a = :one REMOVE #a"),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
            "rewrite one of these paths; path one: [a], path two: [a]");
  EXPECT_EQ(UpdateParseError("SET a[0] = :one, a.b = :one"),
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove "
            "or rewrite one of these paths; path one: [a, [0]], path two: [a, b]");
  EXPECT_EQ(UpdateParseError("SET a.b = :one, a.c = :one, l[1] = :one, l[2] = :one"), "parsed");
}

TEST(UpdateParseTest, SyntaxErrors) {
  EXPECT_EQ(UpdateParseError(""), "Invalid UpdateExpression: The expression can not be empty;");
  EXPECT_EQ(UpdateParseError("SET"),
            "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \"SET\"");
  EXPECT_EQ(UpdateParseError("SET a = "),
            "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \"= \"");
  EXPECT_EQ(UpdateParseError("SET a = 1"),
            "Invalid UpdateExpression: Syntax error; token: \"1\", near: \"= 1\"");
  EXPECT_EQ(UpdateParseError("SET a = :one + :one + :one"),
            "Invalid UpdateExpression: Syntax error; token: \"+\", near: \":one + :one\"");
  EXPECT_EQ(UpdateParseError("SET a = :one b = :one"),
            "Invalid UpdateExpression: Syntax error; token: \"b\", near: \":one b =\"");
  EXPECT_EQ(UpdateParseError("UPDATE a = :one"),
            "Invalid UpdateExpression: Syntax error; token: \"UPDATE\", near: \"UPDATE a\"");
  EXPECT_EQ(UpdateParseError("SET a :one"),
            "Invalid UpdateExpression: Syntax error; token: \":one\", near: \"a :one\"");
  EXPECT_EQ(UpdateParseError("REMOVE a,"),
            "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \",\"");
}

TEST(UpdateParseTest, SemanticErrors) {
  EXPECT_EQ(UpdateParseError("SET a = size(b)"),
            "Invalid UpdateExpression: Invalid function name; function: size");
  EXPECT_EQ(UpdateParseError("SET name = :one"),
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: "
            "name");
  EXPECT_EQ(UpdateParseError("SET a = :nope"),
            "Invalid UpdateExpression: An expression attribute value used in expression is not "
            "defined; attribute value: :nope");
  EXPECT_EQ(UpdateParseError("REMOVE #nope"),
            "Invalid UpdateExpression: An expression attribute name used in the document path is "
            "not defined; attribute name: #nope");
  // Names are reported before values, and a reserved word before both.
  EXPECT_EQ(UpdateParseError("SET a = :nope, #nope = :one"),
            "Invalid UpdateExpression: An expression attribute name used in the document path is "
            "not defined; attribute name: #nope");
  EXPECT_EQ(UpdateParseError("SET a = :nope, #nope = :one, year = :one"),
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: "
            "year");
  std::string long_update = "SET a = :one" + std::string(4100, ' ');
  EXPECT_EQ(UpdateParseError(long_update),
            "Invalid UpdateExpression: Expression size has exceeded the maximum allowed size; "
            "expression size: 4112");
  std::string deep = "SET a = " + std::string(1000, '(') + ":one" + std::string(1000, ')');
  ExpressionContext context = Context();
  EXPECT_THAT(ParseUpdate(deep, context),
              StatusIs(ErrorCode::kInvalidArgument, "too many nested levels"));
}

TEST(UpdateParseTest, ReportsTouchedAttributes) {
  Update update = MustParseUpdate("SET a.b = :one, #n = :s REMOVE l[2] ADD c :one DELETE a.c :ss");
  std::vector<std::string> paths;
  for (const Path& path : update.paths()) paths.push_back(PathToString(path));
  EXPECT_THAT(paths, ElementsAre("[a, b]", "[name]", "[l, [2]]", "[c]", "[a, c]"));
  EXPECT_THAT(update.TopLevelAttributes(), ElementsAre("a", "c", "l", "name"));
}

TEST(UpdateParseTest, UpdatedAttributesKeepTheNestedShape) {
  Update update = MustParseUpdate("SET m.k = :one, l[1] = :s, top = :t REMOVE gone");
  Item old_item{{"m", M({{"k", N("0")}, {"extra", N("5")}})},
                {"l", L({N("0"), N("1"), N("2")})},
                {"gone", N("1")},
                {"untouched", N("1")}};
  Item new_item = old_item;
  ASSERT_OK(update.Apply(new_item));
  EXPECT_EQ(update.UpdatedAttributes(old_item),
            (Item{{"m", M({{"k", N("0")}})}, {"l", L({N("1")})}, {"gone", N("1")}}));
  EXPECT_EQ(update.UpdatedAttributes(new_item),
            (Item{{"m", M({{"k", N("1")}})}, {"l", L({S("str")})}, {"top", S("t")}}));
}

TEST(UpdateParseTest, DefaultUpdateDoesNothing) {
  Update update;
  Item item{{"a", N("1")}};
  ASSERT_OK(update.Apply(item));
  EXPECT_EQ(item, (Item{{"a", N("1")}}));
  EXPECT_TRUE(update.paths().empty());
}

// ---------------------------------------------------------------------------------------
// Projection

Projection MustParseProjection(std::string_view text) {
  ExpressionContext context = Context();
  Result<Projection> projection = ParseProjection(text, context);
  EXPECT_TRUE(projection.ok()) << text << ": " << projection.status().ToString();
  return projection.ok() ? *projection : Projection();
}

std::string ProjectionError(std::string_view text) {
  ExpressionContext context = Context();
  Result<Projection> projection = ParseProjection(text, context);
  return projection.ok() ? "parsed" : projection.status().message();
}

Item ProjectionItem() {
  return Item{
      {"a", N("1")},
      {"b", M({{"c", S("x")}, {"d", S("y")}, {"e", L({N("0"), N("1"), N("2")})}})},
      {"l", L({M({{"x", N("1")}, {"y", N("2")}}), S("s"), N("3")})},
      {"name", S("n")},
  };
}

TEST(ProjectionTest, KeepsNestingAndListElements) {
  EXPECT_EQ(MustParseProjection("a, #n").Apply(ProjectionItem()),
            (Item{{"a", N("1")}, {"name", S("n")}}));
  EXPECT_EQ(MustParseProjection("b.e[1]").Apply(ProjectionItem()),
            (Item{{"b", M({{"e", L({N("1")})}})}}));
  EXPECT_EQ(MustParseProjection("b.c, b.e[2], b.e[0]").Apply(ProjectionItem()),
            (Item{{"b", M({{"c", S("x")}, {"e", L({N("0"), N("2")})}})}}));
  EXPECT_EQ(MustParseProjection("l[0].y, l[2]").Apply(ProjectionItem()),
            (Item{{"l", L({M({{"y", N("2")}}), N("3")})}}));
}

TEST(ProjectionTest, LeavesOutWhatIsMissing) {
  EXPECT_EQ(MustParseProjection("absent, b.nope, l[7], a.x, l[1].x").Apply(ProjectionItem()),
            Item());
  EXPECT_EQ(MustParseProjection("a, absent").Apply(ProjectionItem()), (Item{{"a", N("1")}}));
  Projection projection;  // default: everything
  EXPECT_EQ(projection.Apply(ProjectionItem()), ProjectionItem());
}

TEST(ProjectionTest, Errors) {
  EXPECT_EQ(ProjectionError("a, a.b"),
            "Invalid ProjectionExpression: Two document paths overlap with each other; must "
            "remove or rewrite one of these paths; path one: [a], path two: [a, b]");
  EXPECT_EQ(ProjectionError("a, #a"),
            "Invalid ProjectionExpression: Two document paths overlap with each other; must "
            "remove or rewrite one of these paths; path one: [a], path two: [a]");
  EXPECT_EQ(ProjectionError("l[0], l.x"),
            "Invalid ProjectionExpression: Two document paths conflict with each other; must "
            "remove or rewrite one of these paths; path one: [l, [0]], path two: [l, x]");
  EXPECT_EQ(ProjectionError("a, name"),
            "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: name");
  EXPECT_EQ(ProjectionError("#nope"),
            "Invalid ProjectionExpression: An expression attribute name used in the document path "
            "is not defined; attribute name: #nope");
  EXPECT_EQ(ProjectionError("a,"),
            "Invalid ProjectionExpression: Syntax error; token: \"<EOF>\", near: \",\"");
  EXPECT_EQ(ProjectionError("a, :one"),
            "Invalid ProjectionExpression: Syntax error; token: \":one\", near: \", :one\"");
  EXPECT_EQ(ProjectionError(""), "Invalid ProjectionExpression: The expression can not be empty;");
}

TEST(ProjectionTest, TopLevelAttributes) {
  Projection projection = MustParseProjection("b.c, a, b.d");
  EXPECT_THAT(projection.TopLevelAttributes(), ElementsAre("a", "b"));
  EXPECT_EQ(projection.paths().size(), 3u);
}

// ---------------------------------------------------------------------------------------
// Key conditions

ExpressionContext KeyContext() {
  return ExpressionContext({{"#pk", "pk"}, {"#sk", "sk"}},
                           {{":p", S("p1")}, {":a", N("1")}, {":b", N("5")}, {":pre", S("ab")}});
}

KeyCondition MustParseKey(std::string_view text) {
  ExpressionContext context = KeyContext();
  Result<KeyCondition> key = ParseKeyCondition(text, context);
  EXPECT_TRUE(key.ok()) << text << ": " << key.status().ToString();
  return key.ok() ? *key : KeyCondition();
}

std::string KeyError(std::string_view text) {
  ExpressionContext context = KeyContext();
  Result<KeyCondition> key = ParseKeyCondition(text, context);
  return key.ok() ? "parsed" : key.status().message();
}

TEST(KeyConditionTest, PartitionOnly) {
  KeyCondition key = MustParseKey("pk = :p");
  ASSERT_EQ(key.terms.size(), 1u);
  std::string sort_key = "sk";
  ASSERT_OK_AND_ASSIGN(BoundKeyCondition bound, key.Bind("pk", &sort_key));
  EXPECT_EQ(bound.partition_attribute, "pk");
  EXPECT_EQ(bound.partition_value, S("p1"));
  EXPECT_FALSE(bound.sort.has_value());
}

TEST(KeyConditionTest, SortOperators) {
  std::string sort_key = "sk";
  struct Case {
    std::string text;
    KeyOperator op;
  };
  for (const Case& c : std::vector<Case>{
           {"pk = :p AND sk = :a", KeyOperator::kEq},
           {"pk = :p AND sk < :a", KeyOperator::kLt},
           {"pk = :p AND sk <= :a", KeyOperator::kLe},
           {"pk = :p AND sk > :a", KeyOperator::kGt},
           {"pk = :p AND sk >= :a", KeyOperator::kGe},
           {"pk = :p AND :a > #sk", KeyOperator::kLt},  // mirrored
           {"pk = :p AND sk BETWEEN :a AND :b", KeyOperator::kBetween},
           {"#pk = :p and begins_with(#sk, :pre)", KeyOperator::kBeginsWith},
           {"sk >= :a AND pk = :p", KeyOperator::kGe},  // either order
           {"(pk = :p) AND (sk >= :a)", KeyOperator::kGe},
       }) {
    KeyCondition key = MustParseKey(c.text);
    Result<BoundKeyCondition> bound = key.Bind("pk", &sort_key);
    ASSERT_TRUE(bound.ok()) << c.text << ": " << bound.status().ToString();
    ASSERT_TRUE(bound->sort.has_value()) << c.text;
    EXPECT_EQ(bound->sort->op, c.op) << c.text;
    EXPECT_EQ(bound->sort->attribute, "sk");
  }
}

TEST(KeyConditionTest, TwoEqualitiesBindByName) {
  KeyCondition key = MustParseKey("sk = :a AND pk = :p");
  std::string sort_key = "sk";
  ASSERT_OK_AND_ASSIGN(BoundKeyCondition bound, key.Bind("pk", &sort_key));
  EXPECT_EQ(bound.partition_value, S("p1"));
  EXPECT_EQ(bound.sort->values[0], N("1"));
}

TEST(KeyConditionTest, TermMatching) {
  KeyConditionTerm between{
      .attribute = "sk", .op = KeyOperator::kBetween, .values = {N("1"), N("5")}};
  AttributeValue one = N("1"), three = N("3"), six = N("6"), text = S("3");
  EXPECT_TRUE(between.Matches(&one));
  EXPECT_TRUE(between.Matches(&three));
  EXPECT_FALSE(between.Matches(&six));
  EXPECT_FALSE(between.Matches(&text));
  EXPECT_FALSE(between.Matches(nullptr));
  KeyConditionTerm prefix{.attribute = "sk", .op = KeyOperator::kBeginsWith, .values = {S("ab")}};
  AttributeValue abc = S("abc"), b = S("b");
  EXPECT_TRUE(prefix.Matches(&abc));
  EXPECT_FALSE(prefix.Matches(&b));
  KeyConditionTerm less{.attribute = "sk", .op = KeyOperator::kLt, .values = {N("10")}};
  AttributeValue nine = N("9"), ten = N("10");
  EXPECT_TRUE(less.Matches(&nine));
  EXPECT_FALSE(less.Matches(&ten));
}

TEST(KeyConditionTest, SyntaxLevelErrors) {
  EXPECT_EQ(KeyError("pk = :p OR sk = :a"), "Invalid operator used in KeyConditionExpression: OR");
  EXPECT_EQ(KeyError("NOT pk = :p"), "Invalid operator used in KeyConditionExpression: NOT");
  EXPECT_EQ(KeyError("pk IN (:p)"), "Invalid operator used in KeyConditionExpression: IN");
  EXPECT_EQ(KeyError("pk <> :p"), "Invalid operator used in KeyConditionExpression: <>");
  EXPECT_EQ(KeyError("pk = :p AND attribute_exists(sk)"),
            "Invalid operator used in KeyConditionExpression: attribute_exists");
  EXPECT_EQ(KeyError("pk = :p AND contains(sk, :pre)"),
            "Invalid operator used in KeyConditionExpression: contains");
  EXPECT_EQ(KeyError("pk = :p AND size(sk) > :a"),
            "KeyConditionExpressions cannot contain nested operations");
  EXPECT_EQ(KeyError("pk.x = :p"),
            "KeyConditionExpressions cannot have conditions on nested attributes");
  EXPECT_EQ(KeyError("pk = sk"),
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
            "condition");
  EXPECT_EQ(KeyError(":p = :p"),
            "Invalid condition in KeyConditionExpression: No key attribute specified");
  EXPECT_EQ(KeyError("pk = :p AND pk = :p"),
            "KeyConditionExpressions must only contain one condition per key");
  EXPECT_EQ(KeyError("pk = :p AND sk = :a AND extra = :b"),
            "Conditions can be of length 1 or 2 only");
  EXPECT_EQ(KeyError("pk = :p AND :a BETWEEN sk AND :b"),
            "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key "
            "attribute as its first operand");
  EXPECT_EQ(KeyError("pk = :p AND begins_with(:pre, sk)"),
            "Invalid condition in KeyConditionExpression: begins_with operator must have the key "
            "attribute as its first operand");
  EXPECT_EQ(KeyError("pk = :nope"),
            "Invalid KeyConditionExpression: An expression attribute value used in expression is "
            "not defined; attribute value: :nope");
  EXPECT_EQ(KeyError("pk"),
            "Invalid KeyConditionExpression: Syntax error; token: \"<EOF>\", near: \"pk\"");
  EXPECT_EQ(KeyError("((pk = :p))"),
            "Invalid KeyConditionExpression: The expression has redundant parentheses;");
}

TEST(KeyConditionTest, SchemaErrors) {
  std::string sort_key = "sk";
  EXPECT_THAT(
      MustParseKey("sk = :a").Bind("pk", &sort_key),
      StatusIs(ErrorCode::kInvalidArgument, "Query condition missed key schema element: pk"));
  EXPECT_THAT(MustParseKey("pk > :p").Bind("pk", &sort_key),
              StatusIs(ErrorCode::kInvalidArgument, "Query key condition not supported"));
  EXPECT_THAT(
      MustParseKey("pk = :p AND extra = :a").Bind("pk", &sort_key),
      StatusIs(ErrorCode::kInvalidArgument, "Query condition missed key schema element: sk"));
  EXPECT_THAT(MustParseKey("pk = :p AND sk = :a").Bind("pk", nullptr),
              StatusIs(ErrorCode::kInvalidArgument, "Query key condition not supported"));
}

}  // namespace
}  // namespace salespipe::table
