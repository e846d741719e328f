#include "services/dynamodb/attribute_json.h"

#include "common/test_util.h"

namespace salespipe::services::dynamodb {
namespace {

using salespipe::testing::StatusIs;
using table::AttributeType;

Result<table::AttributeValue> ParseText(std::string_view text) {
  auto doc = ParseJsonBody(text);
  if (!doc.ok()) return doc.status();
  return ParseAttributeValue(*doc);
}

std::string Write(const table::AttributeValue& v) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  WriteAttributeValue(w, v);
  return buffer.GetString();
}

TEST(AttributeJsonTest, NumbersAreCanonical) {
  ASSERT_OK_AND_ASSIGN(auto v, ParseText(R"({"N":"1.50"})"));
  EXPECT_EQ(v.type(), AttributeType::kNumber);
  EXPECT_EQ(Write(v), R"({"N":"1.5"})");
}

TEST(AttributeJsonTest, RoundTripsNestedValues) {
  const char* text =
      R"({"M":{"a":{"L":[{"S":"x"},{"BOOL":true},{"NULL":true}]},"b":{"NS":["1","2"]},"c":{"B":"AAE="}}})";
  ASSERT_OK_AND_ASSIGN(auto v, ParseText(text));
  EXPECT_EQ(Write(v), text);
}

TEST(AttributeJsonTest, RejectsEmptyAndDoubleTyped) {
  EXPECT_THAT(ParseText("{}"), StatusIs(ErrorCode::kInvalidArgument, "Supplied AttributeValue is empty"));
  EXPECT_THAT(ParseText(R"({"S":"a","N":"1"})"),
              StatusIs(ErrorCode::kInvalidArgument, "more than one datatypes"));
}

TEST(AttributeJsonTest, RejectsBadSetsAndNull) {
  EXPECT_THAT(ParseText(R"({"SS":[]})"), StatusIs(ErrorCode::kInvalidArgument, "may not be empty"));
  EXPECT_THAT(ParseText(R"({"SS":["a","a"]})"),
              StatusIs(ErrorCode::kInvalidArgument, "contains duplicates"));
  EXPECT_THAT(ParseText(R"({"NS":["1","1.0"]})"),
              StatusIs(ErrorCode::kInvalidArgument, "contains duplicates"));
  EXPECT_THAT(ParseText(R"({"NULL":false})"), StatusIs(ErrorCode::kInvalidArgument, "Null attribute"));
}

TEST(AttributeJsonTest, WrongJsonTypeIsSerializationError) {
  auto r = ParseText(R"({"S":5})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().aws_code(), "SerializationException");
  EXPECT_EQ(r.status().message(), "NUMBER_VALUE cannot be converted to String");
}

TEST(AttributeJsonTest, RejectsDeepNesting) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += R"({"L":[)";
  text += R"({"S":"x"})";
  for (int i = 0; i < 40; ++i) text += "]}";
  EXPECT_THAT(ParseText(text), StatusIs(ErrorCode::kInvalidArgument, "Nesting Levels"));
}

TEST(AttributeJsonTest, BadNumberMessage) {
  EXPECT_THAT(ParseText(R"({"N":"abc"})"),
              StatusIs(ErrorCode::kInvalidArgument,
                       "The parameter cannot be converted to a numeric value: abc"));
}

}  // namespace
}  // namespace salespipe::services::dynamodb
