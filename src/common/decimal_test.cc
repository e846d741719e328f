#include "common/decimal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/test_util.h"

namespace salespipe {
namespace {

using ::salespipe::testing::StatusIs;

constexpr char kTooManyDigits[] = "Attempting to store more than 38 significant digits in a Number";
constexpr char kOverflow[] =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
constexpr char kUnderflow[] =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";

const std::string kMaxText = "9.9999999999999999999999999999999999999E+125";
const std::string kMaxCanonical = std::string(38, '9') + std::string(88, '0');
const std::string kMinCanonical = "0." + std::string(129, '0') + "1";

Decimal D(std::string_view text) {
  Result<Decimal> d = Decimal::Parse(text);
  EXPECT_TRUE(d.ok()) << text << ": " << d.status().ToString();
  return d.ok() ? *d : Decimal();
}

std::string ErrorOf(std::string_view text) {
  Result<Decimal> d = Decimal::Parse(text);
  if (d.ok()) return "(accepted as " + d->ToString() + ")";
  EXPECT_EQ(d.status().code(), ErrorCode::kInvalidArgument) << text;
  return d.status().message();
}

std::string Key(const Decimal& d) {
  std::string out;
  d.AppendOrderedKey(&out);
  return out;
}

int Sign(int x) { return (x > 0) - (x < 0); }

// An independent reference order: the canonical text written as a fixed-point string wide
// enough for every representable value, compared digit by digit.
std::string FixedPoint(const Decimal& d) {
  std::string text = d.ToString();
  if (!text.empty() && text[0] == '-') text.erase(0, 1);
  const size_t point = text.find('.');
  std::string integer = text.substr(0, point);
  std::string fraction = point == std::string::npos ? "" : text.substr(point + 1);
  return std::string(130 - integer.size(), '0') + integer + fraction +
         std::string(170 - fraction.size(), '0');
}

int ReferenceCompare(const Decimal& a, const Decimal& b) {
  const int sa = a.is_zero() ? 0 : (a.is_negative() ? -1 : 1);
  const int sb = b.is_zero() ? 0 : (b.is_negative() ? -1 : 1);
  if (sa != sb) return sa < sb ? -1 : 1;
  return sa * Sign(FixedPoint(a).compare(FixedPoint(b)));
}

TEST(DecimalTest, DefaultIsZero) {
  Decimal zero;
  EXPECT_TRUE(zero.is_zero());
  EXPECT_FALSE(zero.is_negative());
  EXPECT_EQ(zero.ToString(), "0");
  EXPECT_EQ(zero, D("0"));
}

TEST(DecimalTest, CanonicalForms) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0", "0"},
      {"-0", "0"},
      {"+0", "0"},
      {"0.000", "0"},
      {"-0.000e-999", "0"},
      {"0e999999999999", "0"},
      {"000", "0"},
      {"1", "1"},
      {"1e2", "100"},
      {"1E2", "100"},
      {"1e+2", "100"},
      {"1.50", "1.5"},
      {"-1.50", "-1.5"},
      {"007", "7"},
      {"-007.100", "-7.1"},
      {"+5", "5"},
      {".5", "0.5"},
      {"-.5", "-0.5"},
      {"5.", "5"},
      {"5.e1", "50"},
      {"100", "100"},
      {"1000.0001", "1000.0001"},
      {"123.456e1", "1234.56"},
      {"123.456e3", "123456"},
      {"123.456e5", "12345600"},
      {"123.456E-5", "0.00123456"},
      {"0.001", "0.001"},
      {"0.0010e3", "1"},
      {"12e-1", "1.2"},
      {"-1.0e0", "-1"},
      {"1E-130", kMinCanonical},
      {"-1E-130", "-" + kMinCanonical},
      {"0.0001e-126", kMinCanonical},
      {kMaxText, kMaxCanonical},
      {"-" + kMaxText, "-" + kMaxCanonical},
      {"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
      // Leading and trailing zeros are not significant, so these have 38 digits.
      {"12345678901234567890123456789012345678000", "12345678901234567890123456789012345678000"},
      {"0.00012345678901234567890123456789012345678",
       "0.00012345678901234567890123456789012345678"},
      {"1.2345678901234567890123456789012345678000000", "1.2345678901234567890123456789012345678"},
  };
  for (const auto& [text, canonical] : cases) {
    ASSERT_OK_AND_ASSIGN(Decimal d, Decimal::Parse(text));
    EXPECT_EQ(d.ToString(), canonical) << text;
    // The canonical text parses back to the same value and prints identically.
    ASSERT_OK_AND_ASSIGN(Decimal again, Decimal::Parse(d.ToString()));
    EXPECT_EQ(again, d) << text;
    EXPECT_EQ(again.ToString(), canonical) << text;
  }
}

TEST(DecimalTest, NegativeZeroIsNotNegative) {
  EXPECT_FALSE(D("-0").is_negative());
  EXPECT_TRUE(D("-0").is_zero());
  EXPECT_TRUE(D("-1").is_negative());
  EXPECT_EQ(D("-0"), D("0"));
}

TEST(DecimalTest, RejectsNonNumbersWithTheText) {
  const std::vector<std::string> bad = {
      "",         " ",         " 1",    "1 ",    "\t1",      "1\n",   "1 0", "NaN",  "nan", "-NaN",
      "Infinity", "-Infinity", "inf",   "0x10",  "0X1F",     "1.2.3", "e5",  "E5",   "1e",  "1E",
      "1e+",      "1e-",       "1e5.5", "1e5e5", "--1",      "++1",   "+-1", "-+1",  "+",   "-",
      ".",        "-.",        "+.",    ".e5",   "1,5",      "1_000", "1d",  "1f",   "1L",  "abc",
      "1a",       "a1",        "1e 5",  "1 e5",  "\xd9\xa1", "0b101", "1/2", "1e5 ",
  };
  for (const std::string& text : bad) {
    EXPECT_THAT(Decimal::Parse(text), StatusIs(ErrorCode::kInvalidArgument)) << text;
    EXPECT_EQ(ErrorOf(text), "The parameter cannot be converted to a numeric value: " + text);
  }
  // The embedded NUL is part of the text, not a terminator.
  const std::string with_nul = std::string("12") + '\0' + "3";
  EXPECT_EQ(ErrorOf(with_nul), "The parameter cannot be converted to a numeric value: " + with_nul);
}

TEST(DecimalTest, RejectsMoreThan38SignificantDigits) {
  EXPECT_EQ(ErrorOf("123456789012345678901234567890123456789"), kTooManyDigits);
  EXPECT_EQ(ErrorOf("-1.23456789012345678901234567890123456789"), kTooManyDigits);
  EXPECT_EQ(ErrorOf("1.00000000000000000000000000000000000001"), kTooManyDigits);
  EXPECT_EQ(ErrorOf("0.000123456789012345678901234567890123456789"), kTooManyDigits);
  EXPECT_EQ(ErrorOf("1234567890123456789012345678901234567890"), kTooManyDigits);
  // Exactly 38 is fine.
  EXPECT_OK(Decimal::Parse("1.0000000000000000000000000000000000001"));
  EXPECT_OK(Decimal::Parse("99999999999999999999999999999999999999"));
}

TEST(DecimalTest, RejectsMagnitudeOutOfRange) {
  EXPECT_EQ(ErrorOf("1e126"), kOverflow);
  EXPECT_EQ(ErrorOf("-1e126"), kOverflow);
  EXPECT_EQ(ErrorOf("10e125"), kOverflow);
  EXPECT_EQ(ErrorOf("1" + std::string(126, '0')), kOverflow);
  EXPECT_EQ(ErrorOf("1e-131"), kUnderflow);
  EXPECT_EQ(ErrorOf("-1e-131"), kUnderflow);
  EXPECT_EQ(ErrorOf("0.1e-130"), kUnderflow);
  EXPECT_EQ(ErrorOf("0." + std::string(130, '0') + "1"), kUnderflow);
  EXPECT_EQ(ErrorOf("9.9999999999999999999999999999999999999e-131"), kUnderflow);
}

TEST(DecimalTest, HugeExponentsDoNotOverflowIntegerArithmetic) {
  EXPECT_EQ(ErrorOf("1e999999999999"), kOverflow);
  EXPECT_EQ(ErrorOf("-1e99999999999"), kOverflow);
  EXPECT_EQ(ErrorOf("1e2147483647"), kOverflow);
  EXPECT_EQ(ErrorOf("1e2147483648"), kOverflow);
  EXPECT_EQ(ErrorOf("1e4294967296"), kOverflow);
  EXPECT_EQ(ErrorOf("1e99999999999999999999999999999999999999999"), kOverflow);
  EXPECT_EQ(ErrorOf("1e-999999999999"), kUnderflow);
  EXPECT_EQ(ErrorOf("1e-2147483648"), kUnderflow);
  EXPECT_EQ(ErrorOf("1e-99999999999999999999999999999999999999999"), kUnderflow);
  // Zero has no magnitude, so any exponent leaves it zero.
  EXPECT_EQ(D("0.0e99999999999999999999999").ToString(), "0");
}

TEST(DecimalTest, LongInputsWithFewSignificantDigits) {
  // 10,000 leading zeros after the point, brought back by the exponent.
  const std::string text = "0." + std::string(10000, '0') + "15e10005";
  EXPECT_EQ(D(text).ToString(), "15000");
  const std::string trailing = "7" + std::string(10000, '0') + "e-10000";
  EXPECT_EQ(D(trailing).ToString(), "7");
}

TEST(DecimalTest, MagnitudeIsCheckedBeforePrecision) {
  // dynalite (matched against AWS) reports the range before the digit count.
  EXPECT_EQ(ErrorOf("1234567890123456789012345678901234567890e200"), kOverflow);
  EXPECT_EQ(ErrorOf("1234567890123456789012345678901234567890e-200"), kUnderflow);
}

TEST(DecimalTest, AcceptsTheLimitsExactly) {
  EXPECT_EQ(D("1E-130").ToString(), kMinCanonical);
  EXPECT_EQ(D(kMaxText).ToString(), kMaxCanonical);
  EXPECT_EQ(D("-" + kMaxText).ToString(), "-" + kMaxCanonical);
  // Magnitude is judged by the leading digit: 1.5E-130 is in range.
  EXPECT_EQ(D("1.5E-130").ToString(), "0." + std::string(129, '0') + "15");
  EXPECT_EQ(D("9.9999999999999999999999999999999999999E-130").Compare(D("1e-129")), -1);
}

TEST(DecimalTest, CompareIsNumeric) {
  const std::vector<std::string> ascending = {
      "-" + kMaxText,
      "-1e125",
      "-100",
      "-10.5",
      "-10",
      "-9.99",
      "-1.01",
      "-1",
      "-0.5",
      "-1E-129",
      "-1E-130",
      "0",
      "1E-130",
      "1.5E-130",
      "1E-129",
      "0.1",
      "0.5",
      "0.50000000000000000000000000000000000001",
      "1",
      "1.000000000000000000000000000000000001",
      "9",
      "10",
      "10.5",
      "11",
      "100",
      "1e125",
      kMaxText,
  };
  for (size_t i = 0; i < ascending.size(); ++i) {
    for (size_t j = 0; j < ascending.size(); ++j) {
      const Decimal a = D(ascending[i]);
      const Decimal b = D(ascending[j]);
      EXPECT_EQ(a.Compare(b), Sign(static_cast<int>(i) - static_cast<int>(j)))
          << ascending[i] << " vs " << ascending[j];
      EXPECT_EQ(a < b, i < j);
      EXPECT_EQ(a == b, i == j);
    }
  }
  EXPECT_EQ(D("1.50"), D("1.5"));
  EXPECT_EQ(D("1e2"), D("100"));
  EXPECT_EQ(D("-0"), D("0.000"));
}

TEST(DecimalTest, AddIsExact) {
  auto sum = [](std::string_view a, std::string_view b) {
    Result<Decimal> r = Decimal::Add(D(a), D(b));
    return r.ok() ? r->ToString() : r.status().message();
  };
  EXPECT_EQ(sum("0.1", "0.2"), "0.3");
  EXPECT_EQ(D("0.3"), *Decimal::Add(D("0.1"), D("0.2")));
  EXPECT_EQ(sum("1e125", "-1e125"), "0");
  EXPECT_TRUE(Decimal::Add(D("1e125"), D("-1e125"))->is_zero());
  EXPECT_FALSE(Decimal::Add(D("-1e125"), D("1e125"))->is_negative());
  EXPECT_EQ(sum("0", "0"), "0");
  EXPECT_EQ(sum("0", "-2.5"), "-2.5");
  EXPECT_EQ(sum("-2.5", "0"), "-2.5");
  EXPECT_EQ(sum("1", "2"), "3");
  EXPECT_EQ(sum("9.99", "0.01"), "10");
  EXPECT_EQ(sum("999", "1"), "1000");
  EXPECT_EQ(sum("0.999", "0.001"), "1");
  EXPECT_EQ(sum("99999999999999999999999999999999999999", "1"),
            "100000000000000000000000000000000000000");
  EXPECT_EQ(sum("-5", "3"), "-2");
  EXPECT_EQ(sum("3", "-5"), "-2");
  EXPECT_EQ(sum("-3", "-5"), "-8");
  EXPECT_EQ(sum("1000", "-0.001"), "999.999");
  EXPECT_EQ(sum("1", "-1e-37"), "0." + std::string(37, '9'));
  EXPECT_EQ(sum("1", "-1e-38"), "0." + std::string(38, '9'));
  EXPECT_EQ(
      sum("12345678901234567890123456789012345678", "-12345678901234567890123456789012345677"),
      "1");
  EXPECT_EQ(sum("1.23", "-1.2299999999999999999999999999999999999"),
            "0.0000000000000000000000000000000000001");
  // Digits 10^100 .. 10^63 span exactly 38 places; one more does not fit.
  EXPECT_EQ(D(sum("1e100", "1e63")), *Decimal::Parse("1" + std::string(36, '0') + "1e63"));
  EXPECT_EQ(sum("1e100", "1e62"), kTooManyDigits);
  EXPECT_EQ(sum("1", "-1e-39"), kTooManyDigits);
  EXPECT_EQ(sum("99999999999999999999999999999999999999", "0.1"), kTooManyDigits);
  EXPECT_EQ(sum(kMaxText, "1e-130"), kTooManyDigits);
  // Range limits on the result.
  EXPECT_EQ(sum(kMaxText, "1e88"), kOverflow);  // exactly 1e126
  EXPECT_EQ(sum(kMaxText, "1e125"), kOverflow);
  EXPECT_EQ(sum("-" + kMaxText, "-" + kMaxText), kOverflow);
  EXPECT_EQ(sum("1.5e-130", "-1.4e-130"), kUnderflow);
  EXPECT_EQ(sum("5e125", "4.9999999999999999999999999999999999999e125"), kMaxCanonical);
}

TEST(DecimalTest, SubtractIsExact) {
  auto difference = [](std::string_view a, std::string_view b) {
    Result<Decimal> r = Decimal::Subtract(D(a), D(b));
    return r.ok() ? r->ToString() : r.status().message();
  };
  EXPECT_EQ(difference("0.3", "0.1"), "0.2");
  EXPECT_EQ(difference("5", "5"), "0");
  EXPECT_EQ(difference("3", "5"), "-2");
  EXPECT_EQ(difference("-3", "-5"), "2");
  EXPECT_EQ(difference("-3", "5"), "-8");
  EXPECT_EQ(difference("0", "7.5"), "-7.5");
  EXPECT_EQ(difference("0", "0"), "0");
  EXPECT_EQ(difference("7.5", "0"), "7.5");
  EXPECT_EQ(difference("1000", "0.001"), "999.999");
  EXPECT_EQ(difference("1e-129", "1e-130"), "0." + std::string(129, '0') + "9");
  EXPECT_EQ(difference("1e125", "1e125"), "0");
  EXPECT_EQ(difference("-" + kMaxText, "1e88"), kOverflow);
  EXPECT_EQ(difference("1", "1e-38"), "0." + std::string(38, '9'));
  EXPECT_EQ(difference("1", "1e-39"), kTooManyDigits);
  EXPECT_EQ(difference("1.5e-130", "1.4e-130"), kUnderflow);
}

std::string Int128ToString(__int128 v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  unsigned __int128 u = negative ? -static_cast<unsigned __int128>(v) : v;
  std::string out;
  while (u > 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  if (negative) out.push_back('-');
  std::reverse(out.begin(), out.end());
  return out;
}

TEST(DecimalTest, AddAndSubtractMatchInt128) {
  std::mt19937_64 rng(20240611);
  // Values below 10^37 in magnitude, so sums and differences have at most 38 digits.
  const __int128 limit = [] {
    __int128 l = 1;
    for (int i = 0; i < 37; ++i) l *= 10;
    return l;
  }();
  auto random_value = [&]() -> __int128 {
    const int digits = std::uniform_int_distribution<int>(0, 37)(rng);
    __int128 bound = 1;
    for (int i = 0; i < digits; ++i) bound *= 10;
    const unsigned __int128 raw =
        (static_cast<unsigned __int128>(rng()) << 64) | static_cast<unsigned __int128>(rng());
    __int128 v = static_cast<__int128>(raw % static_cast<unsigned __int128>(bound));
    return (rng() & 1) ? -v : v;
  };
  for (int iteration = 0; iteration < 5000; ++iteration) {
    const __int128 a = random_value();
    const __int128 b =
        (iteration % 7 == 0) ? -a + static_cast<__int128>(rng() % 3) : random_value();
    ASSERT_LT(a < 0 ? -a : a, limit);
    // The same scale on both sides: value * 10^scale, which exercises the fractional grid.
    const int scale = std::uniform_int_distribution<int>(-60, 60)(rng);
    const std::string suffix = "e" + std::to_string(scale);
    const Decimal da = D(Int128ToString(a) + suffix);
    const Decimal db = D(Int128ToString(b) + suffix);
    ASSERT_OK_AND_ASSIGN(Decimal sum, Decimal::Add(da, db));
    ASSERT_OK_AND_ASSIGN(Decimal difference, Decimal::Subtract(da, db));
    EXPECT_EQ(sum.ToString(), D(Int128ToString(a + b) + suffix).ToString())
        << Int128ToString(a) << " + " << Int128ToString(b) << suffix;
    EXPECT_EQ(difference.ToString(), D(Int128ToString(a - b) + suffix).ToString())
        << Int128ToString(a) << " - " << Int128ToString(b) << suffix;
    // Commutative, and subtracting undoes adding.
    ASSERT_OK_AND_ASSIGN(Decimal reversed, Decimal::Add(db, da));
    EXPECT_EQ(reversed, sum);
    ASSERT_OK_AND_ASSIGN(Decimal back, Decimal::Subtract(sum, db));
    EXPECT_EQ(back, da);
  }
}

TEST(DecimalTest, SizeBytes) {
  EXPECT_EQ(D("0").SizeBytes(), 1u);
  EXPECT_EQ(D("1").SizeBytes(), 2u);
  EXPECT_EQ(D("-1").SizeBytes(), 2u);
  EXPECT_EQ(D("12").SizeBytes(), 2u);
  EXPECT_EQ(D("123").SizeBytes(), 3u);
  EXPECT_EQ(D("1.5").SizeBytes(), 2u);
  EXPECT_EQ(D("100").SizeBytes(), 2u);    // trailing zeros are not significant
  EXPECT_EQ(D("0.001").SizeBytes(), 2u);  // nor are leading ones
  EXPECT_EQ(D("12345678901234567890123456789012345678").SizeBytes(), 20u);
  EXPECT_EQ(D(kMaxText).SizeBytes(), 20u);
}

TEST(DecimalTest, OrderedKeyOfSpecialValues) {
  EXPECT_EQ(Key(D("0")), std::string("\x02", 1));
  EXPECT_EQ(Key(D("-0")), std::string("\x02", 1));
  // 1 = 0.1e1: exponent byte 1 + 129 = 130, pair "10" -> 11, terminator 0.
  EXPECT_EQ(Key(D("1")), std::string("\x03\x82\x0b\x00", 4));
  EXPECT_EQ(Key(D("-1")), std::string("\x01\x7d\xf4\xff", 4));
  EXPECT_EQ(Key(D("1E-130")).substr(0, 2), std::string("\x03\x00", 2));
  EXPECT_EQ(Key(D(kMaxText)).substr(0, 2), std::string("\x03\xff", 2));
  EXPECT_EQ(Key(D(kMaxText)).size(), 2u + 19u + 1u);
}

TEST(DecimalTest, OrderedKeysSortNumerically) {
  const std::vector<std::string> ascending = {
      "-" + kMaxText, "-1e125", "-100",    "-10.5",   "-10.05", "-10",    "-1.01",
      "-1",           "-0.5",   "-1E-129", "-1E-130", "0",      "1E-130", "1.5E-130",
      "1E-129",       "0.5",    "1",       "1.01",    "1.1",    "9",      "10",
      "10.05",        "10.5",   "11",      "100",     "1000",   "1e125",  kMaxText,
  };
  std::vector<std::string> keys;
  for (const std::string& text : ascending) keys.push_back(Key(D(text)));
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    EXPECT_LT(keys[i], keys[i + 1]) << ascending[i] << " vs " << ascending[i + 1];
    // Self-delimiting: whatever follows a key does not change the order.
    EXPECT_LT(keys[i] + std::string("\xff\xff", 2), keys[i + 1] + std::string("\x00", 1))
        << ascending[i] << " vs " << ascending[i + 1];
  }
}

TEST(DecimalTest, ConsumeOrderedKeyRejectsMalformedBytes) {
  const std::vector<std::string> bad = {
      std::string(),
      std::string("\x00", 1),
      std::string("\x04", 1),
      std::string("\x03", 1),                                         // no exponent
      std::string("\x03\x82", 2),                                     // no terminator
      std::string("\x03\x82\x0b", 3),                                 // no terminator
      std::string("\x03\x82\x00", 3),                                 // no digits
      std::string("\x03\x82\x65\x00", 4),                             // pair 100
      std::string("\x03\x82\xff\x00", 4),                             // pair out of range
      std::string("\x03\x82\x02\x00", 4),                             // leading zero ("01")
      std::string("\x03\x82\x01\x00", 4),                             // "00"
      std::string("\x03\x82\x0c\x01\x00", 5),                         // trailing "00" pair
      std::string("\x01\x7d\xf4", 3),                                 // negative without terminator
      std::string("\x01\x7d\x00\xff", 4),                             // negative pair out of range
      std::string("\x01\x7d\xff", 3),                                 // negative with no digits
      "\x03\x82" + std::string(20, '\x0c') + std::string("\x00", 1),  // 40 digits
  };
  for (const std::string& bytes : bad) {
    std::string_view in = bytes;
    EXPECT_THAT(Decimal::ConsumeOrderedKey(&in), StatusIs(ErrorCode::kInvalidArgument))
        << ::testing::PrintToString(bytes);
    EXPECT_EQ(in.size(), bytes.size()) << "input must not advance on error";
  }
}

// A random valid decimal. Digit strings are drawn from a small pool of prefixes and exponents
// from a narrow band half of the time, so equal values, shared prefixes and numbers differing
// only in length come up often.
class RandomDecimals {
 public:
  explicit RandomDecimals(uint64_t seed) : rng_(seed) {
    for (int i = 0; i < 8; ++i) prefixes_.push_back(RandomDigits(1 + Uniform(0, 20)));
  }

  Decimal Next() {
    if (Uniform(0, 40) == 0) return Decimal();
    std::string digits;
    if (Uniform(0, 1) == 0) {
      digits = prefixes_[Uniform(0, static_cast<int>(prefixes_.size()) - 1)];
      const int extra = Uniform(0, 3) == 0 ? Uniform(1, 17) : 0;
      digits += RandomDigits(extra);
    } else {
      digits = RandomDigits(Uniform(1, 38));
    }
    digits.resize(std::min<size_t>(digits.size(), 38));
    if (digits[0] == '0') digits[0] = '1';
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    if (digits.back() == '0') digits.back() = '5';
    const int exponent = Uniform(0, 1) == 0 ? Uniform(-3, 3) : Uniform(-129, 126);
    const std::string text =
        std::string(Uniform(0, 1) ? "-" : "") + "0." + digits + "e" + std::to_string(exponent);
    Result<Decimal> d = Decimal::Parse(text);
    EXPECT_TRUE(d.ok()) << text;
    return d.ok() ? *d : Decimal();
  }

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

 private:
  std::string RandomDigits(int count) {
    std::string s;
    for (int i = 0; i < count; ++i) s.push_back(static_cast<char>('0' + Uniform(0, 9)));
    return s;
  }

  std::mt19937_64 rng_;
  std::vector<std::string> prefixes_;
};

TEST(DecimalTest, RandomKeysOrderLikeCompareAndRoundTrip) {
  RandomDecimals random(42);
  std::vector<std::pair<Decimal, std::string>> values;
  for (int i = 0; i < 4000; ++i) {
    Decimal d = random.Next();
    std::string key = Key(d);
    values.emplace_back(std::move(d), std::move(key));
  }
  // Compare agrees with the fixed-point reference, and key order agrees with Compare.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 40000; ++i) {
    const auto& [a, key_a] = values[rng() % values.size()];
    const auto& [b, key_b] = values[rng() % values.size()];
    ASSERT_EQ(a.Compare(b), ReferenceCompare(a, b)) << a.ToString() << " vs " << b.ToString();
    ASSERT_EQ(Sign(key_a.compare(key_b)), a.Compare(b)) << a.ToString() << " vs " << b.ToString();
  }
  std::sort(values.begin(), values.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    const int order = values[i].first.Compare(values[i + 1].first);
    ASSERT_EQ(Sign(values[i].second.compare(values[i + 1].second)), order)
        << values[i].first.ToString() << " vs " << values[i + 1].first.ToString();
  }
  // Round trip, consuming exactly the key when more bytes follow.
  const std::string tails[] = {"", std::string("\x00", 1), "\xff", std::string("\x00\x01", 2),
                               "\x03\x82\x0b"};
  for (size_t i = 0; i < values.size(); ++i) {
    const auto& [d, key] = values[i];
    const std::string& tail = tails[i % std::size(tails)];
    const std::string bytes = key + tail;
    std::string_view in = bytes;
    ASSERT_OK_AND_ASSIGN(Decimal decoded, Decimal::ConsumeOrderedKey(&in));
    EXPECT_EQ(decoded, d);
    EXPECT_EQ(decoded.ToString(), d.ToString());
    EXPECT_EQ(decoded.is_negative(), d.is_negative());
    EXPECT_EQ(in, tail) << d.ToString();
  }
}

TEST(DecimalTest, RandomConcatenatedKeysOrderLexicographically) {
  RandomDecimals random(1234);
  std::vector<std::pair<Decimal, Decimal>> pairs;
  pairs.reserve(3000);
  for (int i = 0; i < 2000; ++i) pairs.emplace_back(random.Next(), random.Next());
  // Reuse first parts so that ties on the first part are common.
  for (int i = 0; i < 1000; ++i) pairs.emplace_back(pairs[i].first, random.Next());
  std::mt19937_64 rng(99);
  for (int i = 0; i < 30000; ++i) {
    const auto& x = pairs[rng() % pairs.size()];
    const auto& y = pairs[rng() % pairs.size()];
    int expected = x.first.Compare(y.first);
    if (expected == 0) expected = x.second.Compare(y.second);
    const std::string kx = Key(x.first) + Key(x.second);
    const std::string ky = Key(y.first) + Key(y.second);
    ASSERT_EQ(Sign(kx.compare(ky)), expected);
  }
}

TEST(DecimalTest, ConsumeOrderedKeyNeverOverReadsGarbage) {
  std::mt19937_64 rng(5);
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 24, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (!bytes.empty() && i % 2 == 0) bytes[0] = static_cast<char>(1 + rng() % 3);
    std::string_view in = bytes;
    Result<Decimal> d = Decimal::ConsumeOrderedKey(&in);
    if (!d.ok()) {
      EXPECT_EQ(in.size(), bytes.size());
      continue;
    }
    ++decoded;
    // Whatever decodes is canonical: re-encoding gives back exactly the consumed bytes.
    const size_t consumed = bytes.size() - in.size();
    EXPECT_EQ(Key(*d), bytes.substr(0, consumed));
  }
  EXPECT_GT(decoded, 0);
}

}  // namespace
}  // namespace salespipe
