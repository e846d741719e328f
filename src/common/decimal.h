#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace salespipe {

// An exact decimal number with DynamoDB's limits: at most 38 significant digits, magnitude
// zero or between 1E-130 and 9.9999999999999999999999999999999999999E+125, either sign.
// A value type; thread-compatible.
class Decimal {
 public:
  Decimal() = default;  // zero

  // Parses DynamoDB number text: optional sign, digits with an optional point, optional
  // exponent (`e`/`E`, optional sign). Leading/trailing zeros don't count as significant.
  // Errors (kInvalidArgument, with DynamoDB's exact messages):
  //   "The parameter cannot be converted to a numeric value: <text>"
  //   "Attempting to store more than 38 significant digits in a Number"
  //   "Number overflow. Attempting to store a number with magnitude larger than supported range"
  //   "Number underflow. Attempting to store a number with magnitude smaller than supported range"
  static Result<Decimal> Parse(std::string_view text);

  // Canonical text: no exponent, no leading or trailing zeros, "-" only for negatives,
  // zero is "0". `1.50` -> "1.5", `1e2` -> "100", `-0` -> "0".
  std::string ToString() const;

  // Three-way numeric comparison: <0, 0, >0.
  int Compare(const Decimal& other) const;
  bool operator==(const Decimal& other) const { return Compare(other) == 0; }
  bool operator<(const Decimal& other) const { return Compare(other) < 0; }

  // Exact sum/difference. Errors as Parse's when the result breaks the limits.
  static Result<Decimal> Add(const Decimal& a, const Decimal& b);
  static Result<Decimal> Subtract(const Decimal& a, const Decimal& b);

  // Appends an order-preserving, self-delimiting encoding: bytewise order of encodings equals
  // numeric order, and a decoder knows where the encoding ends (keys are concatenated).
  void AppendOrderedKey(std::string* out) const;
  // Reads one encoding written by AppendOrderedKey from the front of `*in`, advancing it.
  // Errors: kInvalidArgument on malformed input (corruption).
  static Result<Decimal> ConsumeOrderedKey(std::string_view* in);

  // DynamoDB's billed size of the number: about one byte per two significant digits plus one.
  size_t SizeBytes() const;

  bool is_zero() const { return digits_.empty(); }
  bool is_negative() const { return negative_; }

 private:
  // Builds a value from significant digits (ASCII, no leading or trailing zeros, empty for
  // zero) and the exponent of 0.d1d2d3..., checking DynamoDB's limits. The exponent is 64-bit
  // so that callers may pass unchecked (saturated) values.
  static Result<Decimal> Make(bool negative, std::string digits, int64_t exponent);
  // Compares absolute values: <0, 0, >0.
  static int CompareMagnitude(const Decimal& a, const Decimal& b);

  // value = (negative_ ? -1 : 1) * 0.d1d2d3... * 10^exponent_; digits_ has no leading or
  // trailing zeros and is empty for zero (then negative_ is false and exponent_ is 0).
  bool negative_ = false;
  std::string digits_;
  int32_t exponent_ = 0;
};

}  // namespace salespipe
