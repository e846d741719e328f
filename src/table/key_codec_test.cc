#include "table/key_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/decimal.h"
#include "common/test_util.h"

namespace salespipe::table {
namespace {

using ::salespipe::testing::StatusIs;

AttributeValue S(std::string s) { return AttributeValue::String(std::move(s)); }
AttributeValue N(std::string s) { return AttributeValue::Number(std::move(s)); }
AttributeValue B(std::string s) { return AttributeValue::Binary(std::move(s)); }

std::string Encode(const AttributeValue& v) {
  std::string out;
  AppendKeyPart(v, &out);
  return out;
}

int Sign(int x) { return (x > 0) - (x < 0); }

// The order DynamoDB sorts key values of one type in.
int ValueCompare(const AttributeValue& a, const AttributeValue& b) {
  if (a.type() == AttributeType::kNumber) {
    return Decimal::Parse(a.scalar())->Compare(*Decimal::Parse(b.scalar()));
  }
  // std::string compares as unsigned bytes (char_traits<char>::compare is memcmp-like).
  return Sign(a.scalar().compare(b.scalar()));
}

TEST(KeyCodecTest, StringFormatIsPinned) {
  // Persisted: these bytes are part of stored keys.
  EXPECT_EQ(Encode(S("")), std::string("\x00\x01", 2));
  EXPECT_EQ(Encode(S("ab")), std::string("ab\x00\x01", 4));
  EXPECT_EQ(Encode(B(std::string("a\0b", 3))),
            std::string("a\x00\xff", 3) + "b" + std::string("\x00\x01", 2));
  EXPECT_EQ(Encode(B(std::string("\0\0", 2))), std::string("\x00\xff\x00\xff\x00\x01", 6));
  EXPECT_EQ(Encode(B("\xff")), std::string("\xff\x00\x01", 3));
}

TEST(KeyCodecTest, NumberFormatIsDecimalOrderedKey) {
  for (const char* text : {"0", "1", "-1", "10.5", "-1E-130", "123456789012345678901234567890"}) {
    std::string expected;
    Decimal::Parse(text)->AppendOrderedKey(&expected);
    EXPECT_EQ(Encode(N(text)), expected) << text;
  }
  EXPECT_EQ(Encode(N("1")), std::string("\x03\x82\x0b\x00", 4));
}

TEST(KeyCodecTest, RoundTripsConsumingExactlyOnePart) {
  const std::vector<AttributeValue> values = {
      S(""),
      S("a"),
      S("order#2024-06-11"),
      S("\xe2\x82\xac\xf0\x9f\x98\x80"),
      B(""),
      B(std::string("\0", 1)),
      B(std::string("\0\x01", 2)),
      B(std::string("\0\xff", 2)),
      B(std::string("\xff\0\0\x01\0", 5)),
      B(std::string(1000, '\0')),
      N("0"),
      N("1"),
      N("-1"),
      N("10.5"),
      N("-0.001"),
      N("1E-130"),
      N("9.9999999999999999999999999999999999999E+125"),
  };
  const std::string tails[] = {"", std::string("\x00", 1), std::string("\x00\x01", 2), "\xff",
                               "more"};
  for (const AttributeValue& value : values) {
    for (const std::string& tail : tails) {
      const std::string bytes = Encode(value) + tail;
      std::string_view in = bytes;
      ASSERT_OK_AND_ASSIGN(AttributeValue decoded, ConsumeKeyPart(value.type(), &in));
      EXPECT_EQ(decoded.type(), value.type());
      EXPECT_EQ(in, tail);
      if (value.type() == AttributeType::kNumber) {
        EXPECT_EQ(decoded.scalar(), Decimal::Parse(value.scalar())->ToString());
      } else {
        EXPECT_EQ(decoded, value);
      }
    }
  }
}

TEST(KeyCodecTest, NumbersComeBackCanonical) {
  std::string bytes = Encode(N("1.50")) + Encode(N("1e2")) + Encode(N("-0"));
  std::string_view in = bytes;
  EXPECT_EQ(ConsumeKeyPart(AttributeType::kNumber, &in)->scalar(), "1.5");
  EXPECT_EQ(ConsumeKeyPart(AttributeType::kNumber, &in)->scalar(), "100");
  EXPECT_EQ(ConsumeKeyPart(AttributeType::kNumber, &in)->scalar(), "0");
  EXPECT_TRUE(in.empty());
}

TEST(KeyCodecTest, RejectsNonKeyTypes) {
  const std::string bytes("a\x00\x01", 3);
  for (AttributeType type : {AttributeType::kNull, AttributeType::kBool, AttributeType::kStringSet,
                             AttributeType::kNumberSet, AttributeType::kBinarySet,
                             AttributeType::kList, AttributeType::kMap}) {
    std::string_view in = bytes;
    EXPECT_THAT(ConsumeKeyPart(type, &in), StatusIs(ErrorCode::kInvalidArgument));
    EXPECT_EQ(in.size(), bytes.size());
  }
}

TEST(KeyCodecTest, RejectsCorruptBytesWithoutMoving) {
  const std::vector<std::pair<AttributeType, std::string>> bad = {
      {AttributeType::kString, ""},
      {AttributeType::kString, "abc"},                        // no terminator
      {AttributeType::kString, std::string("abc\x00", 4)},    // cut after 0x00
      {AttributeType::kBinary, std::string("a\x00\x02", 3)},  // bad escape
      {AttributeType::kBinary, std::string("a\x00\x00", 3)},  // bad escape
      {AttributeType::kBinary, std::string("\x00\xff", 2)},   // escaped 0x00, no terminator
      {AttributeType::kNumber, ""},
      {AttributeType::kNumber, "\x07"},
      {AttributeType::kNumber, std::string("\x03\x82\x0b", 3)},  // no terminator
      {AttributeType::kNumber, std::string("\x03\x82\x00", 3)},  // no digits
  };
  for (const auto& [type, bytes] : bad) {
    std::string_view in = bytes;
    EXPECT_THAT(ConsumeKeyPart(type, &in), StatusIs(ErrorCode::kInternal, "corrupt key"))
        << TypeName(type) << " " << ::testing::PrintToString(bytes);
    EXPECT_EQ(in.size(), bytes.size());
  }
}

TEST(KeyCodecTest, ValuesBreakingTheContractGetAStableEncodingInsteadOfACrash) {
  const std::vector<AttributeValue> values = {
      AttributeValue::Bool(true),
      AttributeValue::Bool(false),
      AttributeValue::Null(),
      AttributeValue::List({S("a")}),
      AttributeValue::Map({{"a", N("1")}}),
      AttributeValue::Set(AttributeType::kStringSet, {"a"}),
      N("not a number"),
      N(""),
  };
  std::vector<std::string> keys;
  for (const AttributeValue& value : values) {
    const std::string key = Encode(value);
    EXPECT_EQ(Encode(value), key);  // deterministic
    // Still self-delimiting: it reads as one escaped string, so what follows stays separate.
    const std::string bytes = key + "tail";
    std::string_view in = bytes;
    ASSERT_OK(ConsumeKeyPart(AttributeType::kBinary, &in));
    EXPECT_EQ(in, "tail");
    keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(std::unique(keys.begin(), keys.end()), keys.end()) << "distinct values collided";
}

// Random key values. Strings come from a tiny alphabet heavy in 0x00, 0x01 and 0xFF, so that
// shared prefixes, embedded zeros and escape look-alikes are common.
class RandomKeys {
 public:
  explicit RandomKeys(uint64_t seed) : rng_(seed) {}

  AttributeValue Next(AttributeType type) {
    switch (type) {
      case AttributeType::kString:
        return S(Text());
      case AttributeType::kBinary:
        return B(Text());
      default:
        return N(Number());
    }
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  std::string Text() {
    static constexpr char kAlphabet[] = {'\x00', '\x01', '\xff', '\xfe', 'a', 'b', '\x7f', '\x80'};
    std::string s(Uniform(0, 6), '\0');
    for (char& c : s) c = kAlphabet[Uniform(0, static_cast<int>(sizeof(kAlphabet)) - 1)];
    return s;
  }

  std::string Number() {
    static const char* const kPool[] = {"0",       "1",
                                        "-1",      "10",
                                        "100",     "10.5",
                                        "-10.5",   "0.1",
                                        "-0.01",   "1E-130",
                                        "-1E-130", "1e125",
                                        "-1e125",  "99999999999999999999999999999999999999",
                                        "1.01",    "101"};
    if (Uniform(0, 2) == 0) return kPool[Uniform(0, static_cast<int>(std::size(kPool)) - 1)];
    std::string digits(Uniform(1, 12), '0');
    for (char& c : digits) c = static_cast<char>('0' + Uniform(0, 9));
    return (Uniform(0, 1) ? "-" : "") + digits + "e" + std::to_string(Uniform(-8, 8));
  }

  std::mt19937_64 rng_;
};

TEST(KeyCodecTest, RandomPartsOrderLikeTheirValues) {
  RandomKeys random(8675309);
  for (AttributeType type :
       {AttributeType::kString, AttributeType::kBinary, AttributeType::kNumber}) {
    std::vector<AttributeValue> values;
    std::vector<std::string> keys;
    for (int i = 0; i < 600; ++i) {
      values.push_back(random.Next(type));
      keys.push_back(Encode(values.back()));
    }
    // Every pair: byte order of the encodings is the order of the values.
    for (size_t i = 0; i < values.size(); ++i) {
      for (size_t j = 0; j < values.size(); ++j) {
        ASSERT_EQ(Sign(keys[i].compare(keys[j])), ValueCompare(values[i], values[j]))
            << TypeName(type) << " " << ::testing::PrintToString(values[i].scalar()) << " vs "
            << ::testing::PrintToString(values[j].scalar());
      }
    }
  }
}

TEST(KeyCodecTest, RandomHashRangePairsOrderLexicographically) {
  RandomKeys random(4242);
  const AttributeType kTypes[] = {AttributeType::kString, AttributeType::kNumber,
                                  AttributeType::kBinary};
  for (AttributeType hash_type : kTypes) {
    for (AttributeType range_type : kTypes) {
      std::vector<std::pair<AttributeValue, AttributeValue>> pairs;
      for (int i = 0; i < 300; ++i) {
        // Reuse hash values so that ties on the hash part are common.
        AttributeValue hash =
            (i >= 10 && i % 3 == 0) ? pairs[i % 10].first : random.Next(hash_type);
        pairs.emplace_back(std::move(hash), random.Next(range_type));
      }
      std::vector<std::string> keys;
      for (const auto& [hash, range] : pairs) {
        std::string key;
        AppendKeyPart(hash, &key);
        AppendKeyPart(range, &key);
        keys.push_back(std::move(key));
        // Both parts decode back, in order, using up the key exactly.
        std::string_view in = keys.back();
        ASSERT_OK_AND_ASSIGN(AttributeValue h, ConsumeKeyPart(hash_type, &in));
        ASSERT_OK_AND_ASSIGN(AttributeValue r, ConsumeKeyPart(range_type, &in));
        EXPECT_EQ(ValueCompare(h, hash), 0);
        EXPECT_EQ(ValueCompare(r, range), 0);
        EXPECT_TRUE(in.empty());
      }
      for (size_t i = 0; i < pairs.size(); ++i) {
        for (size_t j = 0; j < pairs.size(); ++j) {
          int expected = ValueCompare(pairs[i].first, pairs[j].first);
          if (expected == 0) expected = ValueCompare(pairs[i].second, pairs[j].second);
          ASSERT_EQ(Sign(keys[i].compare(keys[j])), expected)
              << TypeName(hash_type) << "/" << TypeName(range_type) << " "
              << ::testing::PrintToString(keys[i]) << " vs " << ::testing::PrintToString(keys[j]);
        }
      }
    }
  }
}

TEST(KeyCodecTest, ShorterPrefixSortsFirstEvenBeforeZeroBytes) {
  const std::vector<std::string> ascending = {"",
                                              std::string("\0", 1),
                                              std::string("\0\0", 2),
                                              std::string("\0\x01", 2),
                                              std::string("\0\xff", 2),
                                              "\x01",
                                              "a",
                                              std::string("a\0", 2),
                                              "a\x01",
                                              "ab",
                                              "\xff",
                                              "\xff\xff"};
  for (size_t i = 0; i + 1 < ascending.size(); ++i) {
    // Followed by the smallest possible next part vs. the largest: the first part decides.
    const std::string lo = Encode(B(ascending[i])) + std::string("\xff\xff", 2);
    const std::string hi = Encode(B(ascending[i + 1])) + std::string("\x00", 1);
    EXPECT_LT(lo, hi) << i;
  }
}

}  // namespace
}  // namespace salespipe::table
