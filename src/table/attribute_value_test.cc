#include "table/attribute_value.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace salespipe::table {
namespace {

using Members = std::vector<std::string>;

TEST(AttributeValueTest, TypeNames) {
  EXPECT_EQ(TypeName(AttributeType::kNull), "NULL");
  EXPECT_EQ(TypeName(AttributeType::kString), "S");
  EXPECT_EQ(TypeName(AttributeType::kNumber), "N");
  EXPECT_EQ(TypeName(AttributeType::kBinary), "B");
  EXPECT_EQ(TypeName(AttributeType::kBool), "BOOL");
  EXPECT_EQ(TypeName(AttributeType::kStringSet), "SS");
  EXPECT_EQ(TypeName(AttributeType::kNumberSet), "NS");
  EXPECT_EQ(TypeName(AttributeType::kBinarySet), "BS");
  EXPECT_EQ(TypeName(AttributeType::kList), "L");
  EXPECT_EQ(TypeName(AttributeType::kMap), "M");
}

TEST(AttributeValueTest, PersistedTagsNeverChange) {
  // These numbers are the type tags of the stored item format.
  EXPECT_EQ(static_cast<int>(AttributeType::kNull), 0);
  EXPECT_EQ(static_cast<int>(AttributeType::kString), 1);
  EXPECT_EQ(static_cast<int>(AttributeType::kNumber), 2);
  EXPECT_EQ(static_cast<int>(AttributeType::kBinary), 3);
  EXPECT_EQ(static_cast<int>(AttributeType::kBool), 4);
  EXPECT_EQ(static_cast<int>(AttributeType::kStringSet), 5);
  EXPECT_EQ(static_cast<int>(AttributeType::kNumberSet), 6);
  EXPECT_EQ(static_cast<int>(AttributeType::kBinarySet), 7);
  EXPECT_EQ(static_cast<int>(AttributeType::kList), 8);
  EXPECT_EQ(static_cast<int>(AttributeType::kMap), 9);
}

TEST(AttributeValueTest, SetElementType) {
  EXPECT_EQ(SetElementType(AttributeType::kStringSet), AttributeType::kString);
  EXPECT_EQ(SetElementType(AttributeType::kNumberSet), AttributeType::kNumber);
  EXPECT_EQ(SetElementType(AttributeType::kBinarySet), AttributeType::kBinary);
}

TEST(AttributeValueTest, FactoriesSetTypeAndPayload) {
  EXPECT_EQ(AttributeValue::Null().type(), AttributeType::kNull);
  EXPECT_EQ(AttributeValue::String("hi").type(), AttributeType::kString);
  EXPECT_EQ(AttributeValue::String("hi").scalar(), "hi");
  EXPECT_EQ(AttributeValue::Number("1.5").type(), AttributeType::kNumber);
  EXPECT_EQ(AttributeValue::Number("1.5").scalar(), "1.5");
  EXPECT_EQ(AttributeValue::Binary(std::string("\0\1", 2)).scalar(), std::string("\0\1", 2));
  EXPECT_TRUE(AttributeValue::Bool(true).boolean());
  EXPECT_FALSE(AttributeValue::Bool(false).boolean());
  EXPECT_TRUE(AttributeValue::Set(AttributeType::kStringSet, {"a"}).is_set());
  EXPECT_FALSE(AttributeValue::List({}).is_set());
  EXPECT_EQ(AttributeValue::List({AttributeValue::Null()}).list().size(), 1u);
  EXPECT_EQ(AttributeValue::Map({{"k", AttributeValue::Null()}}).map().count("k"), 1u);
}

TEST(AttributeValueTest, SetsAreSortedAndUnique) {
  AttributeValue ss = AttributeValue::Set(AttributeType::kStringSet, {"b", "a", "c", "a", "b"});
  EXPECT_EQ(ss.set(), (Members{"a", "b", "c"}));
  // Numbers are sorted bytewise by their canonical text, not numerically.
  AttributeValue ns = AttributeValue::Set(AttributeType::kNumberSet, {"10", "9", "-1", "10"});
  EXPECT_EQ(ns.set(), (Members{"-1", "10", "9"}));
  // Binary members sort as unsigned bytes.
  AttributeValue bs = AttributeValue::Set(AttributeType::kBinarySet,
                                          {"\xff", std::string("\0", 1), "\x7f", "\x80", "\xff"});
  EXPECT_EQ(bs.set(), (Members{std::string("\0", 1), "\x7f", "\x80", "\xff"}));
}

TEST(AttributeValueTest, Equality) {
  EXPECT_EQ(AttributeValue::Null(), AttributeValue::Null());
  EXPECT_EQ(AttributeValue(), AttributeValue::Null());
  EXPECT_EQ(AttributeValue::String("a"), AttributeValue::String("a"));
  EXPECT_NE(AttributeValue::String("a"), AttributeValue::String("b"));
  EXPECT_NE(AttributeValue::String("a"), AttributeValue::Binary("a"));
  EXPECT_NE(AttributeValue::String("1"), AttributeValue::Number("1"));
  EXPECT_EQ(AttributeValue::Number("1.5"), AttributeValue::Number("1.5"));
  EXPECT_NE(AttributeValue::Number("1.5"), AttributeValue::Number("1.6"));
  EXPECT_EQ(AttributeValue::Bool(true), AttributeValue::Bool(true));
  EXPECT_NE(AttributeValue::Bool(true), AttributeValue::Bool(false));
  EXPECT_NE(AttributeValue::Bool(false), AttributeValue::Null());
  // Sets compare as sets.
  EXPECT_EQ(AttributeValue::Set(AttributeType::kStringSet, {"b", "a"}),
            AttributeValue::Set(AttributeType::kStringSet, {"a", "b", "a"}));
  EXPECT_NE(AttributeValue::Set(AttributeType::kStringSet, {"a"}),
            AttributeValue::Set(AttributeType::kStringSet, {"a", "b"}));
  EXPECT_NE(AttributeValue::Set(AttributeType::kStringSet, {"1"}),
            AttributeValue::Set(AttributeType::kNumberSet, {"1"}));
  // Lists are ordered.
  const AttributeValue one = AttributeValue::Number("1");
  const AttributeValue two = AttributeValue::Number("2");
  EXPECT_EQ(AttributeValue::List({one, two}), AttributeValue::List({one, two}));
  EXPECT_NE(AttributeValue::List({one, two}), AttributeValue::List({two, one}));
  EXPECT_NE(AttributeValue::List({one}), AttributeValue::List({one, one}));
  EXPECT_NE(AttributeValue::List({}), AttributeValue::Map({}));
  // Maps compare deeply.
  const AttributeValue nested_a =
      AttributeValue::Map({{"x", AttributeValue::List({one, AttributeValue::Map({{"y", two}})})}});
  const AttributeValue nested_b =
      AttributeValue::Map({{"x", AttributeValue::List({one, AttributeValue::Map({{"y", two}})})}});
  const AttributeValue nested_c =
      AttributeValue::Map({{"x", AttributeValue::List({one, AttributeValue::Map({{"y", one}})})}});
  EXPECT_EQ(nested_a, nested_b);
  EXPECT_NE(nested_a, nested_c);
  EXPECT_NE(AttributeValue::Map({{"x", one}}), AttributeValue::Map({{"z", one}}));
}

TEST(AttributeValueTest, SizeBytesOfScalars) {
  EXPECT_EQ(AttributeValue::Null().SizeBytes(), 1u);
  EXPECT_EQ(AttributeValue::Bool(true).SizeBytes(), 1u);
  EXPECT_EQ(AttributeValue::String("").SizeBytes(), 0u);
  EXPECT_EQ(AttributeValue::String("abc").SizeBytes(), 3u);
  EXPECT_EQ(AttributeValue::String("\xc3\xa9").SizeBytes(), 2u);  // "é" is two UTF-8 bytes
  EXPECT_EQ(AttributeValue::Binary(std::string(10, '\0')).SizeBytes(), 10u);
  // Numbers: one byte per two significant digits, plus one.
  EXPECT_EQ(AttributeValue::Number("0").SizeBytes(), 1u);
  EXPECT_EQ(AttributeValue::Number("1").SizeBytes(), 2u);
  EXPECT_EQ(AttributeValue::Number("123").SizeBytes(), 3u);
  EXPECT_EQ(AttributeValue::Number("100").SizeBytes(), 2u);
  EXPECT_EQ(AttributeValue::Number("-1.25").SizeBytes(), 3u);
}

TEST(AttributeValueTest, SizeBytesOfCollections) {
  EXPECT_EQ(AttributeValue::Set(AttributeType::kStringSet, {"a", "bc"}).SizeBytes(), 3u);
  EXPECT_EQ(AttributeValue::Set(AttributeType::kBinarySet, {"abcd"}).SizeBytes(), 4u);
  EXPECT_EQ(AttributeValue::Set(AttributeType::kNumberSet, {"1", "12345"}).SizeBytes(), 2u + 4u);
  // Lists and maps: 3 bytes, plus one byte per element, plus names and element sizes.
  EXPECT_EQ(AttributeValue::List({}).SizeBytes(), 3u);
  EXPECT_EQ(AttributeValue::Map({}).SizeBytes(), 3u);
  EXPECT_EQ(
      AttributeValue::List({AttributeValue::String("ab"), AttributeValue::Number("1")}).SizeBytes(),
      3u + (1u + 2u) + (1u + 2u));
  EXPECT_EQ(AttributeValue::Map({{"k", AttributeValue::String("v")}}).SizeBytes(),
            3u + 1u + 1u + 1u);
}

TEST(AttributeValueTest, ItemSizeBytesCountsNames) {
  Item item;
  EXPECT_EQ(ItemSizeBytes(item), 0u);
  item["id"] = AttributeValue::String("abc");
  item["n"] = AttributeValue::Number("12");
  EXPECT_EQ(ItemSizeBytes(item), (2u + 3u) + (1u + 2u));
}

}  // namespace
}  // namespace salespipe::table
