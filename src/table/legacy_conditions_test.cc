#include "table/legacy_conditions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/test_util.h"

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

LegacyCondition Op(std::string attribute, std::string op, std::vector<AttributeValue> values) {
  return LegacyCondition{.attribute = std::move(attribute),
                         .comparison_operator = std::move(op),
                         .attribute_value_list = std::move(values),
                         .exists = std::nullopt,
                         .value = std::nullopt};
}

LegacyCondition ExistsForm(std::string attribute, std::optional<bool> exists,
                           std::optional<AttributeValue> value) {
  return LegacyCondition{.attribute = std::move(attribute),
                         .comparison_operator = std::nullopt,
                         .attribute_value_list = std::nullopt,
                         .exists = exists,
                         .value = std::move(value)};
}

Item SampleItem() {
  return Item{{"a", N("5")},
              {"s", S("abc")},
              {"ss", SS({"x", "y"})},
              {"ns", NS({"1", "2"})},
              {"l", L({S("x")})}};
}

bool Filter(std::vector<LegacyCondition> conditions, std::string_view op = "",
            const Item& item = SampleItem()) {
  Result<Condition> condition = ConvertFilter(conditions, op);
  EXPECT_TRUE(condition.ok()) << condition.status().ToString();
  return condition.ok() && condition->Evaluate(item);
}

std::string FilterError(std::vector<LegacyCondition> conditions) {
  Result<Condition> condition = ConvertFilter(conditions, "");
  return condition.ok() ? "converted" : condition.status().message();
}

std::string ExpectedError(std::vector<LegacyCondition> conditions) {
  Result<Condition> condition = ConvertExpected(conditions, "");
  return condition.ok() ? "converted" : condition.status().message();
}

TEST(LegacyFilterTest, EveryComparisonOperator) {
  EXPECT_TRUE(Filter({Op("a", "EQ", {N("5")})}));
  EXPECT_FALSE(Filter({Op("a", "EQ", {S("5")})}));
  EXPECT_TRUE(Filter({Op("a", "NE", {N("4")})}));
  EXPECT_TRUE(Filter({Op("absent", "NE", {N("4")})}));
  EXPECT_TRUE(Filter({Op("a", "LE", {N("5")})}));
  EXPECT_TRUE(Filter({Op("a", "LT", {N("10")})}));
  EXPECT_TRUE(Filter({Op("a", "GE", {N("5")})}));
  EXPECT_FALSE(Filter({Op("a", "GT", {N("5")})}));
  EXPECT_TRUE(Filter({Op("a", "NOT_NULL", {})}));
  EXPECT_TRUE(Filter({Op("absent", "NULL", {})}));
  EXPECT_TRUE(Filter({Op("s", "CONTAINS", {S("b")})}));
  EXPECT_TRUE(Filter({Op("ss", "CONTAINS", {S("x")})}));
  EXPECT_TRUE(Filter({Op("ns", "CONTAINS", {N("2")})}));
  EXPECT_TRUE(Filter({Op("l", "CONTAINS", {S("x")})}));
  EXPECT_TRUE(Filter({Op("ss", "NOT_CONTAINS", {S("z")})}));
  EXPECT_TRUE(Filter({Op("absent", "NOT_CONTAINS", {S("z")})}));
  EXPECT_FALSE(Filter({Op("s", "NOT_CONTAINS", {S("a")})}));
  EXPECT_TRUE(Filter({Op("s", "BEGINS_WITH", {S("ab")})}));
  EXPECT_TRUE(Filter({Op("a", "IN", {N("1"), N("5")})}));
  EXPECT_FALSE(Filter({Op("a", "IN", {N("1"), N("2")})}));
  EXPECT_TRUE(Filter({Op("a", "BETWEEN", {N("5"), N("6")})}));
  EXPECT_FALSE(Filter({Op("s", "BETWEEN", {N("5"), N("6")})}));
}

TEST(LegacyFilterTest, ConditionalOperator) {
  std::vector<LegacyCondition> conditions = {Op("a", "EQ", {N("1")}), Op("s", "EQ", {S("abc")})};
  EXPECT_FALSE(Filter(conditions));
  EXPECT_FALSE(Filter(conditions, "AND"));
  EXPECT_TRUE(Filter(conditions, "OR"));
  EXPECT_TRUE(Filter({}));  // no conditions: everything matches
}

TEST(LegacyFilterTest, ArgumentCountErrors) {
  EXPECT_EQ(FilterError({Op("a", "EQ", {})}),
            "One or more parameter values were invalid: Invalid number of argument(s) for the EQ "
            "ComparisonOperator");
  EXPECT_EQ(FilterError({Op("a", "EQ", {N("1"), N("2")})}),
            "One or more parameter values were invalid: Invalid number of argument(s) for the EQ "
            "ComparisonOperator");
  EXPECT_EQ(FilterError({Op("a", "NULL", {N("1")})}),
            "One or more parameter values were invalid: Invalid number of argument(s) for the "
            "NULL ComparisonOperator");
  EXPECT_EQ(FilterError({Op("a", "BETWEEN", {N("1")})}),
            "One or more parameter values were invalid: Invalid number of argument(s) for the "
            "BETWEEN ComparisonOperator");
  EXPECT_EQ(FilterError({Op("a", "IN", {})}),
            "One or more parameter values were invalid: Invalid number of argument(s) for the IN "
            "ComparisonOperator");
}

TEST(LegacyFilterTest, TypeErrors) {
  EXPECT_EQ(FilterError({Op("a", "IN", {N("1"), S("1")})}),
            "One or more parameter values were invalid: AttributeValues inside "
            "AttributeValueList must be of same type");
  EXPECT_EQ(FilterError({Op("a", "LT", {SS({"x"})})}),
            "One or more parameter values were invalid: ComparisonOperator LT is not valid for SS "
            "AttributeValue type");
  EXPECT_EQ(FilterError({Op("a", "BEGINS_WITH", {N("1")})}),
            "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not "
            "valid for N AttributeValue type");
  EXPECT_EQ(FilterError({Op("a", "BETWEEN", {N("6"), N("5")})}),
            "The BETWEEN condition was provided a range where the lower bound is greater than the "
            "upper bound");
}

TEST(LegacyExpectedTest, ExistsAndValueForms) {
  auto holds = [](std::vector<LegacyCondition> conditions, const Item& item) {
    Result<Condition> condition = ConvertExpected(conditions, "");
    EXPECT_TRUE(condition.ok()) << condition.status().ToString();
    return condition.ok() && condition->Evaluate(item);
  };
  EXPECT_TRUE(holds({ExistsForm("absent", false, std::nullopt)}, SampleItem()));
  EXPECT_FALSE(holds({ExistsForm("a", false, std::nullopt)}, SampleItem()));
  EXPECT_TRUE(holds({ExistsForm("a", true, N("5"))}, SampleItem()));
  EXPECT_TRUE(holds({ExistsForm("a", std::nullopt, N("5"))}, SampleItem()));
  EXPECT_FALSE(holds({ExistsForm("a", std::nullopt, N("6"))}, SampleItem()));
  EXPECT_FALSE(holds({ExistsForm("a", true, N("5"))}, Item()));
  // ComparisonOperator with Value instead of AttributeValueList.
  LegacyCondition with_value = ExistsForm("a", std::nullopt, N("4"));
  with_value.comparison_operator = "GT";
  EXPECT_TRUE(holds({with_value}, SampleItem()));
  Result<Condition> either =
      ConvertExpected({Op("a", "EQ", {N("1")}), ExistsForm("s", true, S("abc"))}, "OR");
  ASSERT_TRUE(either.ok());
  EXPECT_TRUE(either->Evaluate(SampleItem()));
}

TEST(LegacyExpectedTest, Errors) {
  LegacyCondition both = Op("a", "EQ", {N("1")});
  both.value = N("1");
  EXPECT_EQ(ExpectedError({both}),
            "One or more parameter values were invalid: Value and AttributeValueList cannot be "
            "used together for Attribute: a");
  LegacyCondition exists_and_op = Op("a", "EQ", {N("1")});
  exists_and_op.exists = true;
  EXPECT_EQ(ExpectedError({exists_and_op}),
            "One or more parameter values were invalid: Exists and ComparisonOperator cannot be "
            "used together for Attribute: a");
  LegacyCondition no_values = ExistsForm("a", std::nullopt, std::nullopt);
  no_values.comparison_operator = "EQ";
  EXPECT_EQ(ExpectedError({no_values}),
            "One or more parameter values were invalid: Value or AttributeValueList must be used "
            "with ComparisonOperator: EQ for Attribute: a");
  EXPECT_EQ(ExpectedError({Op("a", "NOT_NULL", {N("1")})}),
            "One or more parameter values were invalid: Invalid number of argument(s) for the "
            "NOT_NULL ComparisonOperator");
  LegacyCondition list_only = ExistsForm("a", std::nullopt, std::nullopt);
  list_only.attribute_value_list = std::vector<AttributeValue>{N("1")};
  EXPECT_EQ(ExpectedError({list_only}),
            "One or more parameter values were invalid: AttributeValueList can only be used with "
            "a ComparisonOperator for Attribute: a");
  EXPECT_EQ(ExpectedError({ExistsForm("a", true, std::nullopt)}),
            "One or more parameter values were invalid: Value must be provided when Exists is "
            "true for Attribute: a");
  EXPECT_EQ(ExpectedError({ExistsForm("a", std::nullopt, std::nullopt)}),
            "One or more parameter values were invalid: Value must be provided when Exists is "
            "null for Attribute: a");
  EXPECT_EQ(ExpectedError({ExistsForm("a", false, N("1"))}),
            "One or more parameter values were invalid: Value cannot be used when Exists is false "
            "for Attribute: a");
}

TEST(LegacyKeyConditionsTest, ConvertsAndValidates) {
  ASSERT_OK_AND_ASSIGN(
      KeyCondition key,
      ConvertKeyConditions({Op("pk", "EQ", {S("p")}), Op("sk", "BETWEEN", {N("1"), N("2")})}));
  std::string sort_key = "sk";
  ASSERT_OK_AND_ASSIGN(BoundKeyCondition bound, key.Bind("pk", &sort_key));
  EXPECT_EQ(bound.partition_value, S("p"));
  EXPECT_EQ(bound.sort->op, KeyOperator::kBetween);
  EXPECT_THAT(ConvertKeyConditions({Op("pk", "NULL", {})}),
              StatusIs(ErrorCode::kInvalidArgument,
                       "Attempted conditional constraint is not an indexable operation"));
  EXPECT_THAT(ConvertKeyConditions(
                  {Op("pk", "EQ", {S("p")}), Op("sk", "EQ", {S("p")}), Op("x", "EQ", {S("p")})}),
              StatusIs(ErrorCode::kInvalidArgument, "Conditions can be of length 1 or 2 only"));
  EXPECT_THAT(ConvertKeyConditions({Op("pk", "EQ", {})}),
              StatusIs(ErrorCode::kInvalidArgument, "Invalid number of argument(s) for the EQ"));
}

TEST(LegacyAttributeUpdatesTest, Actions) {
  ASSERT_OK_AND_ASSIGN(Update update,
                       ConvertAttributeUpdates({
                           {.attribute = "put", .action = "PUT", .value = S("v")},
                           {.attribute = "default", .action = "", .value = N("1")},
                           {.attribute = "gone", .action = "DELETE", .value = std::nullopt},
                           {.attribute = "count", .action = "ADD", .value = N("0.5")},
                           {.attribute = "tags", .action = "ADD", .value = SS({"b"})},
                           {.attribute = "drop", .action = "DELETE", .value = SS({"x"})},
                           {.attribute = "log", .action = "ADD", .value = L({S("e2")})},
                           {.attribute = "new_log", .action = "ADD", .value = L({S("e")})},
                       }));
  Item item{{"gone", N("1")},
            {"count", N("1")},
            {"tags", SS({"a"})},
            {"drop", SS({"x"})},
            {"log", L({S("e1")})}};
  ASSERT_OK(update.Apply(item));
  EXPECT_EQ(item, (Item{{"put", S("v")},
                        {"default", N("1")},
                        {"count", N("1.5")},
                        {"tags", SS({"a", "b"})},
                        {"log", L({S("e1"), S("e2")})},
                        {"new_log", L({S("e")})}}));
  EXPECT_THAT(update.TopLevelAttributes(),
              ElementsAre("count", "default", "drop", "gone", "log", "new_log", "put", "tags"));
}

TEST(LegacyAttributeUpdatesTest, Errors) {
  EXPECT_THAT(ConvertAttributeUpdates({{.attribute = "a", .action = "PUT", .value = std::nullopt}}),
              StatusIs(ErrorCode::kInvalidArgument,
                       "One or more parameter values were invalid: Only DELETE action is allowed "
                       "when no attribute value is specified"));
  EXPECT_THAT(ConvertAttributeUpdates({{.attribute = "a", .action = "DELETE", .value = S("x")}}),
              StatusIs(ErrorCode::kInvalidArgument,
                       "One or more parameter values were invalid: DELETE action with value is "
                       "not supported for the type S"));
  EXPECT_THAT(ConvertAttributeUpdates({{.attribute = "a", .action = "ADD", .value = S("x")}}),
              StatusIs(ErrorCode::kInvalidArgument,
                       "One or more parameter values were invalid: ADD action is not supported "
                       "for the type S"));
  ASSERT_OK_AND_ASSIGN(
      Update add, ConvertAttributeUpdates({{.attribute = "a", .action = "ADD", .value = N("1")}}));
  Item item{{"a", S("x")}};
  EXPECT_THAT(add.Apply(item),
              StatusIs(ErrorCode::kInvalidArgument, "Type mismatch for attribute to update"));
}

TEST(LegacyAttributesToGetTest, ProjectsTopLevelAttributes) {
  ASSERT_OK_AND_ASSIGN(Projection projection, ConvertAttributesToGet({"a", "x.y", "absent"}));
  Item item{{"a", N("1")}, {"x.y", S("dotted")}, {"s", S("no")}};
  EXPECT_EQ(projection.Apply(item), (Item{{"a", N("1")}, {"x.y", S("dotted")}}));
  EXPECT_THAT(ConvertAttributesToGet({"a", "b", "a"}),
              StatusIs(ErrorCode::kInvalidArgument,
                       "One or more parameter values were invalid: Duplicate value in attribute "
                       "name: a"));
}

}  // namespace
}  // namespace salespipe::table
