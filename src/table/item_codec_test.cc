#include "table/item_codec.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/test_util.h"

namespace salespipe::table {
namespace {

using ::salespipe::testing::StatusIs;

AttributeValue S(std::string s) { return AttributeValue::String(std::move(s)); }
AttributeValue N(std::string s) { return AttributeValue::Number(std::move(s)); }
AttributeValue B(std::string s) { return AttributeValue::Binary(std::move(s)); }

std::string AllBytes() {
  std::string s;
  for (int b = 0; b < 256; ++b) s.push_back(static_cast<char>(b));
  return s;
}

Item SampleItem() {
  Item item;
  item["id"] = S("order-1");
  item["empty"] = S("");
  item["total"] = N("-1234.5678");
  item["blob"] = B(AllBytes());
  item["yes"] = AttributeValue::Bool(true);
  item["no"] = AttributeValue::Bool(false);
  item["nothing"] = AttributeValue::Null();
  item["tags"] = AttributeValue::Set(AttributeType::kStringSet, {"red", "blue", ""});
  item["sizes"] = AttributeValue::Set(AttributeType::kNumberSet, {"1", "10", "2.5"});
  item["keys"] = AttributeValue::Set(AttributeType::kBinarySet, {std::string("\0", 1), "\xff"});
  item["lines"] = AttributeValue::List({AttributeValue::Map({{"sku", S("g-1")}, {"qty", N("2")}}),
                                        AttributeValue::List({}), AttributeValue::Map({}),
                                        AttributeValue::Null()});
  item["\xe2\x82\xac name with spaces"] = S("unicode \xf0\x9f\x98\x80");
  item[""] = N("0");
  return item;
}

// Builds a byte string from numbers and characters, for hand-written encodings.
std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

TEST(ItemCodecTest, EmptyItemRoundTrips) {
  const std::string bytes = EncodeItem({});
  EXPECT_EQ(bytes, std::string("\x01\x00", 2));
  ASSERT_OK_AND_ASSIGN(Item item, DecodeItem(bytes));
  EXPECT_TRUE(item.empty());
}

TEST(ItemCodecTest, FormatIsPinned) {
  // Persisted: these bytes are on disk; a change here breaks existing data.
  Item item;
  item["a"] = S("x");
  item["b"] = N("12");
  item["c"] = AttributeValue::Bool(true);
  item["d"] = AttributeValue::Null();
  item["e"] = AttributeValue::Set(AttributeType::kStringSet, {"q", "p"});
  item["f"] = AttributeValue::List({B("\xff")});
  item["g"] = AttributeValue::Map({{"h", AttributeValue::Bool(false)}});
  const std::string expected = Bytes({0x01, 7}) +                          // version, 7 attributes
                               Bytes({1, 'a', 0x01, 1, 'x'}) +             // S
                               Bytes({1, 'b', 0x02, 2, '1', '2'}) +        // N
                               Bytes({1, 'c', 0x04, 1}) +                  // BOOL true
                               Bytes({1, 'd', 0x00}) +                     // NULL
                               Bytes({1, 'e', 0x05, 2, 1, 'p', 1, 'q'}) +  // SS, sorted
                               Bytes({1, 'f', 0x08, 1, 0x03, 1, 0xff}) +   // L [B]
                               Bytes({1, 'g', 0x09, 1, 1, 'h', 0x04, 0});  // M {h: false}
  EXPECT_EQ(EncodeItem(item), expected);
  ASSERT_OK_AND_ASSIGN(Item decoded, DecodeItem(expected));
  EXPECT_EQ(decoded, item);
}

TEST(ItemCodecTest, EveryTypeRoundTrips) {
  const Item item = SampleItem();
  ASSERT_OK_AND_ASSIGN(Item decoded, DecodeItem(EncodeItem(item)));
  EXPECT_EQ(decoded, item);
  EXPECT_EQ(decoded.at("blob").scalar(), AllBytes());
  EXPECT_EQ(decoded.at("tags").set(), (std::vector<std::string>{"", "blue", "red"}));
  EXPECT_EQ(decoded.at("lines").list()[0].map().at("qty").scalar(), "2");
  EXPECT_EQ(decoded.at("nothing").type(), AttributeType::kNull);
  EXPECT_EQ(EncodeItem(decoded), EncodeItem(item));
}

TEST(ItemCodecTest, LongValuesUseMultiByteLengths) {
  Item item;
  for (size_t length : {127u, 128u, 16383u, 16384u, 400000u}) {
    item["s" + std::to_string(length)] = S(std::string(length, 'x'));
  }
  std::vector<AttributeValue> many(300, N("7"));
  item["list"] = AttributeValue::List(std::move(many));
  ASSERT_OK_AND_ASSIGN(Item decoded, DecodeItem(EncodeItem(item)));
  EXPECT_EQ(decoded, item);
}

TEST(ItemCodecTest, DeepNestingRoundTrips) {
  // DynamoDB allows 32 levels; go further than that but within kMaxDecodeDepth.
  AttributeValue value = N("1");
  for (int i = 0; i < 100; ++i) {
    value = (i % 2 == 0) ? AttributeValue::List({std::move(value), S("x")})
                         : AttributeValue::Map({{"k", std::move(value)}});
  }
  Item item;
  item["deep"] = value;
  ASSERT_OK_AND_ASSIGN(Item decoded, DecodeItem(EncodeItem(item)));
  EXPECT_EQ(decoded, item);
}

TEST(ItemCodecTest, ValuesDecodeOneAfterAnother) {
  std::string bytes;
  const std::vector<AttributeValue> values = {
      S("a"),
      N("3.25"),
      B(""),
      AttributeValue::Bool(false),
      AttributeValue::Null(),
      AttributeValue::Set(AttributeType::kNumberSet, {"2", "1"}),
      AttributeValue::List({S("x"), AttributeValue::Map({{"y", N("1")}})})};
  for (const AttributeValue& v : values) EncodeValue(v, &bytes);
  std::string_view in = bytes;
  for (const AttributeValue& v : values) {
    ASSERT_OK_AND_ASSIGN(AttributeValue decoded, DecodeValue(&in));
    EXPECT_EQ(decoded, v);
  }
  EXPECT_TRUE(in.empty());
  EXPECT_THAT(DecodeValue(&in), StatusIs(ErrorCode::kInternal, "corrupt item"));
}

TEST(ItemCodecTest, UnsortedSetIsRepairedOnDecode) {
  // The encoder writes whatever order the set holds; decoding restores sorted and unique.
  AttributeValue set = AttributeValue::Set(AttributeType::kStringSet, {});
  set.mutable_set() = {"b", "a", "b"};
  Item item;
  item["s"] = set;
  ASSERT_OK_AND_ASSIGN(Item decoded, DecodeItem(EncodeItem(item)));
  EXPECT_EQ(decoded.at("s").set(), (std::vector<std::string>{"a", "b"}));
}

TEST(ItemCodecTest, RejectsMalformedBytes) {
  const std::vector<std::string> bad = {
      Bytes({}), Bytes({0x00}),                      // unknown version
      Bytes({0x02, 0}),                              // unknown version
      Bytes({0x01}),                                 // no count
      Bytes({0x01, 1}),                              // count 1, no entry
      Bytes({0x01, 1, 1, 'a'}),                      // no value
      Bytes({0x01, 1, 5, 'a'}),                      // name longer than the input
      Bytes({0x01, 1, 1, 'a', 10}),                  // unknown tag 10
      Bytes({0x01, 1, 1, 'a', 0xff}),                // unknown tag 255
      Bytes({0x01, 1, 1, 'a', 0x04, 2}),             // BOOL byte 2
      Bytes({0x01, 1, 1, 'a', 0x04}),                // BOOL without its byte
      Bytes({0x01, 1, 1, 'a', 0x01, 5, 'x', 'y'}),   // S longer than the input
      Bytes({0x01, 1, 1, 'a', 0x00, 0}),             // trailing byte
      Bytes({0x01, 2, 1, 'b', 0x00, 1, 'a', 0x00}),  // names out of order
      Bytes({0x01, 2, 1, 'a', 0x00, 1, 'a', 0x00}),  // duplicate name
      Bytes({0x01, 1, 1, 'a', 0x05, 0x7f}),          // set count beyond the input
      Bytes({0x01, 1, 1, 'a', 0x08, 5, 0x00}),       // list count beyond the input
      Bytes({0x01, 1, 1, 'a', 0x09, 1, 1}),          // map entry cut short
      // An 11-byte varint, and a 10-byte one that overflows 64 bits.
      Bytes({0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}),
      Bytes({0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}),
      Bytes({0x01, 0x80}),  // varint cut short
  };
  for (const std::string& bytes : bad) {
    EXPECT_THAT(DecodeItem(bytes), StatusIs(ErrorCode::kInternal, "corrupt item"))
        << ::testing::PrintToString(bytes);
  }
}

TEST(ItemCodecTest, RejectsNestingBeyondTheLimitWithoutExhaustingTheStack) {
  // A million nested one-element lists: far beyond any stack if decoding recursed freely.
  std::string bytes = Bytes({0x01, 1, 1, 'a'});
  for (int i = 0; i < 1000000; ++i) bytes.append("\x08\x01", 2);
  bytes.push_back('\0');
  EXPECT_THAT(DecodeItem(bytes), StatusIs(ErrorCode::kInternal, "corrupt item"));

  std::string maps = Bytes({0x01, 1, 1, 'a'});
  for (int i = 0; i < kMaxDecodeDepth + 1; ++i) maps += Bytes({0x09, 1, 1, 'k'});
  maps.push_back('\0');
  EXPECT_THAT(DecodeItem(maps), StatusIs(ErrorCode::kInternal, "corrupt item"));
}

TEST(ItemCodecTest, EveryTruncationIsRejected) {
  const std::string bytes = EncodeItem(SampleItem());
  for (size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_THAT(DecodeItem(std::string_view(bytes).substr(0, length)),
                StatusIs(ErrorCode::kInternal, "corrupt item"))
        << length;
  }
}

// Random items with every type, nested up to a few levels.
class RandomItems {
 public:
  explicit RandomItems(uint64_t seed) : rng_(seed) {}

  Item NextItem() {
    Item item;
    const int count = Uniform(0, 8);
    for (int i = 0; i < count; ++i) item[Bytes(0, 6)] = NextValue(0);
    return item;
  }

  AttributeValue NextValue(int depth) {
    const int type = Uniform(0, depth < 4 ? 9 : 7);
    switch (static_cast<AttributeType>(type)) {
      case AttributeType::kNull:
        return AttributeValue::Null();
      case AttributeType::kString:
        return S(Bytes(0, 20));
      case AttributeType::kNumber:
        return N(std::to_string(Uniform(-100000, 100000)));
      case AttributeType::kBinary:
        return B(Bytes(0, 300));
      case AttributeType::kBool:
        return AttributeValue::Bool(Uniform(0, 1) == 1);
      case AttributeType::kStringSet:
      case AttributeType::kNumberSet:
      case AttributeType::kBinarySet: {
        std::vector<std::string> members;
        for (int i = Uniform(1, 5); i > 0; --i) members.push_back(Bytes(1, 4));
        return AttributeValue::Set(static_cast<AttributeType>(type), std::move(members));
      }
      case AttributeType::kList: {
        std::vector<AttributeValue> list;
        for (int i = Uniform(0, 4); i > 0; --i) list.push_back(NextValue(depth + 1));
        return AttributeValue::List(std::move(list));
      }
      case AttributeType::kMap: {
        AttributeMap map;
        for (int i = Uniform(0, 4); i > 0; --i) map[Bytes(0, 4)] = NextValue(depth + 1);
        return AttributeValue::Map(std::move(map));
      }
    }
    return AttributeValue::Null();
  }

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

 private:
  std::string Bytes(int min_length, int max_length) {
    std::string s(Uniform(min_length, max_length), '\0');
    for (char& c : s)
      c = static_cast<char>(Uniform(0, 3) == 0 ? Uniform(0, 255) : 'a' + Uniform(0, 3));
    return s;
  }

  std::mt19937_64 rng_;
};

TEST(ItemCodecTest, RandomItemsRoundTrip) {
  RandomItems random(2024);
  for (int i = 0; i < 3000; ++i) {
    const Item item = random.NextItem();
    const std::string bytes = EncodeItem(item);
    ASSERT_OK_AND_ASSIGN(Item decoded, DecodeItem(bytes));
    ASSERT_EQ(decoded, item) << i;
    ASSERT_EQ(EncodeItem(decoded), bytes) << i;
  }
}

// Counts callbacks and collects scalars, to check VisitValue's walk.
class CountingVisitor final : public EncodedValueVisitor {
 public:
  void Null() override { ++values; }
  void Bool(bool) override { ++values; }
  void Scalar(AttributeType, std::string_view bytes) override {
    ++values;
    scalars.emplace_back(bytes);
  }
  void BeginSet(AttributeType) override { ++values; }
  void SetMember(std::string_view bytes) override { scalars.emplace_back(bytes); }
  void EndSet() override {}
  void BeginList() override { ++values; }
  void EndList() override {}
  void BeginMap() override { ++values; }
  void Key(std::string_view) override {}
  void EndMap() override {}
  int values = 0;
  std::vector<std::string> scalars;
};

TEST(ItemCodecTest, SplitItemGivesEachAttributesEncodingAndJoinRebuildsTheItem) {
  RandomItems random(99);
  for (int i = 0; i < 2000; ++i) {
    const Item item = random.NextItem();
    const std::string bytes = EncodeItem(item);
    ASSERT_OK_AND_ASSIGN(std::vector<EncodedEntry> entries, SplitItem(bytes));
    ASSERT_EQ(entries.size(), item.size());
    auto it = item.begin();
    for (const EncodedEntry& entry : entries) {
      EXPECT_EQ(entry.name, it->first);
      std::string encoded;
      EncodeValue(it->second, &encoded);
      EXPECT_EQ(entry.value, encoded);
      std::string_view in = entry.value;
      CountingVisitor visitor;
      ASSERT_OK(VisitValue(&in, visitor));
      EXPECT_TRUE(in.empty());
      EXPECT_GE(visitor.values, 1);
      ++it;
    }
    std::string joined;
    JoinItem(entries, &joined);
    EXPECT_EQ(joined, bytes);
  }
  const std::string sample = EncodeItem(SampleItem());
  for (size_t length = 0; length < sample.size(); ++length) {
    EXPECT_THAT(SplitItem(std::string_view(sample).substr(0, length)),
                StatusIs(ErrorCode::kInternal, "corrupt item"))
        << length;
  }
  EXPECT_THAT(SplitItem(sample + "x"), StatusIs(ErrorCode::kInternal, "corrupt item"));
}

TEST(ItemCodecTest, GarbageNeverCrashes) {
  std::mt19937_64 rng(31337);
  RandomItems random(77);
  int decoded_count = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      // Pure noise, with a valid version byte most of the time.
      bytes.resize(rng() % 64);
      for (char& c : bytes) c = static_cast<char>(rng());
      if (!bytes.empty() && i % 4 == 0) bytes[0] = '\x01';
    } else {
      // A valid encoding with a few bytes overwritten.
      bytes = EncodeItem(random.NextItem());
      for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
        bytes[rng() % bytes.size()] = static_cast<char>(rng());
      }
    }
    Result<Item> item = DecodeItem(bytes);
    // SplitItem walks the same bytes without building: never a crash, and it accepts every
    // encoding DecodeItem does.
    Result<std::vector<EncodedEntry>> split = SplitItem(bytes);
    if (item.ok()) EXPECT_TRUE(split.ok()) << i;
    if (item.ok()) {
      ++decoded_count;
      // Whatever decodes is a well-formed item that survives another round trip.
      ASSERT_OK_AND_ASSIGN(Item again, DecodeItem(EncodeItem(*item)));
      EXPECT_EQ(again, *item);
    } else {
      EXPECT_THAT(item, StatusIs(ErrorCode::kInternal, "corrupt item"));
    }
  }
  EXPECT_GT(decoded_count, 0);
}

}  // namespace
}  // namespace salespipe::table
