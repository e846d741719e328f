#include "common/decimal.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>

namespace salespipe {
namespace {

constexpr size_t kMaxDigits = 38;
// Limits on `exponent_` (value = 0.d1d2... * 10^exponent_): the smallest magnitude 1E-130 is
// 0.1E-129 and the largest 9.99...E+125 is 0.999...E+126. The range spans exactly 256 values,
// which lets the ordered key store the exponent in one byte.
constexpr int64_t kMinExponent = -129;
constexpr int64_t kMaxExponent = 126;
// Parsed exponents saturate here. Anything this large is out of range whatever the mantissa,
// and it is small enough that adding the mantissa's length cannot overflow int64_t.
constexpr int64_t kExponentSaturation = int64_t{1} << 50;

constexpr char kNotNumeric[] = "The parameter cannot be converted to a numeric value: ";
constexpr char kTooManyDigits[] = "Attempting to store more than 38 significant digits in a Number";
constexpr char kOverflow[] =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
constexpr char kUnderflow[] =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";

// Ordered key layout (see AppendOrderedKey).
constexpr unsigned char kKeyNegative = 0x01;
constexpr unsigned char kKeyZero = 0x02;
constexpr unsigned char kKeyPositive = 0x03;
constexpr unsigned char kKeyPositiveEnd = 0x00;
constexpr unsigned char kKeyNegativeEnd = 0xFF;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Status NotNumeric(std::string_view text) {
  std::string message = kNotNumeric;
  message.append(text);
  return Status::InvalidArgument(std::move(message));
}

Status MalformedKey() { return Status::InvalidArgument("malformed number key"); }

}  // namespace

Result<Decimal> Decimal::Make(bool negative, std::string digits, int64_t exponent) {
  if (digits.empty()) return Decimal();
  // Magnitude is checked before precision, as DynamoDB does: "1234...(40 digits)e200" is an
  // overflow, not a precision error (dynalite's validations, which were matched against AWS).
  if (exponent > kMaxExponent) return Status::InvalidArgument(kOverflow);
  if (exponent < kMinExponent) return Status::InvalidArgument(kUnderflow);
  if (digits.size() > kMaxDigits) return Status::InvalidArgument(kTooManyDigits);
  Decimal d;
  d.negative_ = negative;
  d.digits_ = std::move(digits);
  d.exponent_ = static_cast<int32_t>(exponent);
  return d;
}

// Grammar: [+-]? (D+ ('.' D*)? | '.' D+) ([eE] [+-]? D+)?
// Like Java's BigDecimal (which DynamoDB's number parsing follows), a leading '+', a bare
// leading point (".5") and a trailing point ("5.") are accepted; whitespace, "NaN", "Infinity",
// hex and any other character are not.
Result<Decimal> Decimal::Parse(std::string_view text) {
  const size_t n = text.size();
  size_t i = 0;
  bool negative = false;
  if (i < n && (text[i] == '+' || text[i] == '-')) {
    negative = text[i] == '-';
    ++i;
  }
  const size_t int_begin = i;
  while (i < n && IsDigit(text[i])) ++i;
  const size_t int_end = i;
  size_t frac_begin = i;
  size_t frac_end = i;
  if (i < n && text[i] == '.') {
    ++i;
    frac_begin = i;
    while (i < n && IsDigit(text[i])) ++i;
    frac_end = i;
  }
  if (int_begin == int_end && frac_begin == frac_end) return NotNumeric(text);

  int64_t exponent = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exponent_negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) {
      exponent_negative = text[i] == '-';
      ++i;
    }
    const size_t exponent_begin = i;
    for (; i < n && IsDigit(text[i]); ++i) {
      exponent = std::min(exponent * 10 + (text[i] - '0'), kExponentSaturation);
    }
    if (i == exponent_begin) return NotNumeric(text);
    if (exponent_negative) exponent = -exponent;
  }
  if (i != n) return NotNumeric(text);

  // The mantissa's digits are int_digits followed by frac_digits; as 0.<digits> its exponent
  // is the integer part's length. Each leading zero dropped moves the exponent down by one;
  // trailing zeros are dropped without changing it.
  std::string digits;
  digits.reserve((int_end - int_begin) + (frac_end - frac_begin));
  int64_t leading_zeros = 0;
  auto append = [&](size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) {
      if (digits.empty() && text[k] == '0') {
        ++leading_zeros;
      } else {
        digits.push_back(text[k]);
      }
    }
  };
  append(int_begin, int_end);
  append(frac_begin, frac_end);
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  if (digits.empty()) return Decimal();  // "-0", "0.000", "0e999999": all plain zero
  const int64_t point = static_cast<int64_t>(int_end - int_begin) - leading_zeros;
  return Make(negative, std::move(digits), point + exponent);
}

std::string Decimal::ToString() const {
  if (digits_.empty()) return "0";
  const int64_t length = static_cast<int64_t>(digits_.size());
  std::string out;
  out.reserve(digits_.size() + static_cast<size_t>(std::abs(exponent_)) + 3);
  if (negative_) out.push_back('-');
  if (exponent_ <= 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-exponent_), '0');
    out.append(digits_);
  } else if (exponent_ >= length) {
    out.append(digits_);
    out.append(static_cast<size_t>(exponent_ - length), '0');
  } else {
    out.append(digits_, 0, static_cast<size_t>(exponent_));
    out.push_back('.');
    out.append(digits_, static_cast<size_t>(exponent_));
  }
  return out;
}

int Decimal::CompareMagnitude(const Decimal& a, const Decimal& b) {
  if (a.is_zero() || b.is_zero()) return static_cast<int>(!a.is_zero()) - !b.is_zero();
  if (a.exponent_ != b.exponent_) return a.exponent_ < b.exponent_ ? -1 : 1;
  // Same exponent: the digit strings carry no trailing zeros, so plain string order is numeric
  // order (a proper prefix is the smaller number).
  const int c = a.digits_.compare(b.digits_);
  return (c > 0) - (c < 0);
}

int Decimal::Compare(const Decimal& other) const {
  const int sign = is_zero() ? 0 : (negative_ ? -1 : 1);
  const int other_sign = other.is_zero() ? 0 : (other.negative_ ? -1 : 1);
  if (sign != other_sign) return sign < other_sign ? -1 : 1;
  return sign * CompareMagnitude(*this, other);
}

Result<Decimal> Decimal::Add(const Decimal& a, const Decimal& b) {
  if (a.is_zero()) return b;
  if (b.is_zero()) return a;
  const bool same_sign = a.negative_ == b.negative_;
  const int magnitude_order = CompareMagnitude(a, b);
  if (!same_sign && magnitude_order == 0) return Decimal();  // exact cancellation
  // For a difference, subtract the smaller magnitude from the larger; the larger sets the sign.
  const Decimal& big = magnitude_order >= 0 ? a : b;
  const Decimal& small = magnitude_order >= 0 ? b : a;

  // Align both on a fixed-point digit grid. Slot k has weight 10^(top - k); slot 0 is spare for
  // a carry. Both inputs are in range, so the grid has at most about 300 slots.
  const int64_t top = std::max(a.exponent_, b.exponent_);
  const int64_t bottom = std::min(a.exponent_ - static_cast<int64_t>(a.digits_.size()),
                                  b.exponent_ - static_cast<int64_t>(b.digits_.size()));
  const size_t width = static_cast<size_t>(top - bottom) + 1;
  std::string grid(width, 0);  // digit values 0..9, not ASCII
  auto slot_of = [&](const Decimal& d) { return static_cast<size_t>(top - d.exponent_ + 1); };
  for (size_t i = 0, k = slot_of(big); i < big.digits_.size(); ++i, ++k) {
    grid[k] = static_cast<char>(big.digits_[i] - '0');
  }
  int carry = 0;
  const size_t small_first = slot_of(small);
  const size_t small_last = small_first + small.digits_.size();  // one past
  for (size_t k = width; k-- > 0;) {
    int digit = grid[k] + (same_sign ? carry : -carry);
    if (k >= small_first && k < small_last) {
      const int s = small.digits_[k - small_first] - '0';
      digit += same_sign ? s : -s;
    }
    if (same_sign) {
      carry = digit >= 10;
      if (carry) digit -= 10;
    } else {
      carry = digit < 0;  // a borrow
      if (carry) digit += 10;
    }
    grid[k] = static_cast<char>(digit);
    if (k < small_first && carry == 0) break;  // nothing left to change above
  }

  size_t first = 0;
  while (first < width && grid[first] == 0) ++first;
  size_t last = width;
  while (last > first && grid[last - 1] == 0) --last;
  std::string digits;
  digits.reserve(last - first);
  for (size_t k = first; k < last; ++k) digits.push_back(static_cast<char>('0' + grid[k]));
  return Make(big.negative_, std::move(digits), top - static_cast<int64_t>(first) + 1);
}

Result<Decimal> Decimal::Subtract(const Decimal& a, const Decimal& b) {
  Decimal negated = b;
  if (!negated.is_zero()) negated.negative_ = !negated.negative_;
  return Add(a, negated);
}

// Persisted (table keys): never change the layout of existing encodings.
//   zero:      0x02
//   positive:  0x03, E, P1 .. Pn, 0x00
//   negative:  0x01, 0xFF - E, 0xFF - P1 .. 0xFF - Pn, 0xFF
// E = exponent_ + 129 (0..255). Digits are taken in pairs, the last one padded with a 0, and
// P = 10 * d1 + d2 + 1 (1..100), so a pair never equals the terminator. With no trailing zeros,
// a shorter digit string that is a prefix of a longer one is the smaller magnitude, and its
// terminator sorts below any pair byte. Negatives invert every byte, which reverses the order
// of magnitudes, and end in 0xFF, which sorts above any inverted pair (155..254).
void Decimal::AppendOrderedKey(std::string* out) const {
  if (is_zero()) {
    out->push_back(static_cast<char>(kKeyZero));
    return;
  }
  const unsigned char flip = negative_ ? 0xFF : 0x00;
  out->reserve(out->size() + 3 + (digits_.size() + 1) / 2);
  out->push_back(static_cast<char>(negative_ ? kKeyNegative : kKeyPositive));
  out->push_back(static_cast<char>(static_cast<unsigned char>(exponent_ - kMinExponent) ^ flip));
  for (size_t i = 0; i < digits_.size(); i += 2) {
    const int high = digits_[i] - '0';
    const int low = i + 1 < digits_.size() ? digits_[i + 1] - '0' : 0;
    out->push_back(static_cast<char>(static_cast<unsigned char>(10 * high + low + 1) ^ flip));
  }
  out->push_back(static_cast<char>(negative_ ? kKeyNegativeEnd : kKeyPositiveEnd));
}

Result<Decimal> Decimal::ConsumeOrderedKey(std::string_view* in) {
  std::string_view s = *in;
  if (s.empty()) return MalformedKey();
  const auto sign = static_cast<unsigned char>(s[0]);
  if (sign == kKeyZero) {
    in->remove_prefix(1);
    return Decimal();
  }
  if (sign != kKeyNegative && sign != kKeyPositive) return MalformedKey();
  const bool negative = sign == kKeyNegative;
  const unsigned char flip = negative ? 0xFF : 0x00;
  const unsigned char end = negative ? kKeyNegativeEnd : kKeyPositiveEnd;
  if (s.size() < 2) return MalformedKey();
  Decimal d;
  d.negative_ = negative;
  d.exponent_ = static_cast<int32_t>((static_cast<unsigned char>(s[1]) ^ flip) + kMinExponent);
  d.digits_.reserve(kMaxDigits);
  size_t pos = 2;
  for (;; ++pos) {
    if (pos >= s.size()) return MalformedKey();  // no terminator
    const auto byte = static_cast<unsigned char>(s[pos]);
    if (byte == end) break;
    const int pair = (byte ^ flip) - 1;
    if (pair < 0 || pair > 99 || d.digits_.size() >= kMaxDigits) return MalformedKey();
    d.digits_.push_back(static_cast<char>('0' + pair / 10));
    d.digits_.push_back(static_cast<char>('0' + pair % 10));
  }
  // Only the padding of an odd-length string may be a trailing zero; anything else means the
  // bytes were not written by AppendOrderedKey.
  if (!d.digits_.empty() && d.digits_.back() == '0') d.digits_.pop_back();
  if (d.digits_.empty() || d.digits_.front() == '0' || d.digits_.back() == '0') {
    return MalformedKey();
  }
  in->remove_prefix(pos + 1);
  return d;
}

size_t Decimal::SizeBytes() const { return (digits_.size() + 1) / 2 + 1; }

}  // namespace salespipe
