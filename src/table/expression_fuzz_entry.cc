#include "table/expression_fuzz_entry.h"

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "table/expression.h"
#include "table/legacy_conditions.h"

namespace salespipe::table {
namespace {

AttributeValue S(std::string s) { return AttributeValue::String(std::move(s)); }
AttributeValue N(std::string n) { return AttributeValue::Number(std::move(n)); }

// Placeholders of every type, so fuzzed expressions reach type checks and arithmetic.
ExpressionContext MakeContext() {
  std::map<std::string, std::string> names = {
      {"#a", "a"}, {"#b", "b"}, {"#l", "l"}, {"#m", "m"}, {"#n", "name"}, {"#s", "ss"},
  };
  AttributeMap values = {
      {":s", S("abc")},
      {":e", S("")},
      {":t", S("N")},
      {":n", N("1")},
      {":f", N("0.1")},
      {":big", N("99999999999999999999999999999999999999")},
      {":neg", N("-1E-130")},
      {":b", AttributeValue::Binary(std::string("\x00\xff", 2))},
      {":bool", AttributeValue::Bool(true)},
      {":null", AttributeValue::Null()},
      {":ss", AttributeValue::Set(AttributeType::kStringSet, {"abc", "x"})},
      {":ns", AttributeValue::Set(AttributeType::kNumberSet, {"1", "2"})},
      {":bs", AttributeValue::Set(AttributeType::kBinarySet, {"b"})},
      {":l", AttributeValue::List({S("x"), N("2")})},
      {":m", AttributeValue::Map({{"k", S("v")}})},
  };
  return ExpressionContext(std::move(names), std::move(values));
}

Item MakeItem() {
  return Item{
      {"a", N("5")},
      {"b", S("abcdef")},
      {"l", AttributeValue::List({N("1"), AttributeValue::Map({{"x", S("y")}}), S("z")})},
      {"m", AttributeValue::Map({{"k", AttributeValue::List({N("3")})}, {"n", N("4")}})},
      {"name", S("n")},
      {"ss", AttributeValue::Set(AttributeType::kStringSet, {"abc", "q"})},
      {"ns", AttributeValue::Set(AttributeType::kNumberSet, {"1", "9"})},
  };
}

}  // namespace

int FuzzExpressions(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  while (parts.size() < 4) {
    size_t nul = input.find('\0');
    if (nul == std::string_view::npos) break;
    parts.push_back(input.substr(0, nul));
    input.remove_prefix(nul + 1);
  }
  parts.push_back(input);
  parts.resize(5, parts[0]);

  const Item item = MakeItem();
  ExpressionContext context = MakeContext();

  if (Result<Condition> condition = ParseCondition(parts[0], context); condition.ok()) {
    (void)condition->Evaluate(item);
    (void)condition->Evaluate(Item());
  }
  if (Result<KeyCondition> key = ParseKeyCondition(parts[1], context); key.ok()) {
    std::string sort_key = "b";
    if (Result<BoundKeyCondition> bound = key->Bind("a", &sort_key); bound.ok() && bound->sort) {
      (void)bound->sort->Matches(&item.at("b"));
    }
    (void)key->Bind("a", nullptr);
  }
  if (Result<Update> update = ParseUpdate(parts[2], context); update.ok()) {
    Item updated = item;
    (void)update->Apply(updated).ok();
    Item fresh;
    (void)update->Apply(fresh).ok();
    (void)update->UpdatedAttributes(updated);
    (void)update->TopLevelAttributes();
  }
  if (Result<Projection> projection = ParseProjection(parts[3], context); projection.ok()) {
    (void)projection->Apply(item);
  }
  if (Result<Path> path = ParsePath(parts[4], context, "ProjectionExpression"); path.ok()) {
    Item copy = item;
    (void)FindAtPath(copy, *path);
    (void)SetAtPath(copy, *path, S("v")).ok();
    (void)RemoveAtPath(copy, *path).ok();
  }
  (void)context.CheckAllUsed().ok();

  // Legacy conversions driven by the input: the operator from the first byte, the values from
  // the context.
  if (size > 0) {
    static constexpr std::string_view kOperators[] = {
        "EQ",   "NE",       "LE",           "LT",          "GE", "GT",      "NOT_NULL",
        "NULL", "CONTAINS", "NOT_CONTAINS", "BEGINS_WITH", "IN", "BETWEEN", "XX"};
    std::string_view op = kOperators[data[0] % std::size(kOperators)];
    std::vector<AttributeValue> values;
    size_t count = (data[0] >> 4) % 4;
    const AttributeMap& pool = context.values();
    auto it = pool.begin();
    for (size_t i = 0; i < count && it != pool.end(); ++i, ++it) values.push_back(it->second);
    LegacyCondition condition{.attribute = "a",
                              .comparison_operator = std::string(op),
                              .attribute_value_list = values,
                              .exists = std::nullopt,
                              .value = std::nullopt};
    if (Result<Condition> filter = ConvertFilter({condition}, "OR"); filter.ok()) {
      (void)filter->Evaluate(item);
    }
    if (Result<Condition> expected = ConvertExpected({condition}, "AND"); expected.ok()) {
      (void)expected->Evaluate(item);
    }
    (void)ConvertKeyConditions({condition}).ok();
    if (!values.empty()) {
      LegacyAttributeUpdate update{
          .attribute = "a", .action = (data[0] & 1) ? "ADD" : "DELETE", .value = values[0]};
      if (Result<Update> converted = ConvertAttributeUpdates({update}); converted.ok()) {
        Item updated = item;
        (void)converted->Apply(updated).ok();
      }
    }
  }
  return 0;
}

}  // namespace salespipe::table
