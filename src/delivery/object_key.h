#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

// S3 object keys exactly as Firehose names them (spec 6.5):
//   <evaluated prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><extension>
// Prefix evaluation:
//   - no prefix                 -> "yyyy/MM/dd/HH/" of the oldest record's arrival
//   - prefix without expressions -> the prefix, then "yyyy/MM/dd/HH/" with no '/' inserted
//   - prefix with expressions    -> evaluated as written, nothing appended
// Expressions: !{timestamp:<java DateTimeFormatter pattern>} (one instant for the whole
// prefix: the oldest record's arrival), !{firehose:random-string} (11 alphanumerics, fresh per
// occurrence), !{firehose:error-output-type}, !{partitionKeyFromLambda:k},
// !{partitionKeyFromQuery:k}. Pure functions; thread-safe.
namespace salespipe::delivery {

// A time zone (CustomTimeZone): UTC or an IANA zone read from /usr/share/zoneinfo (TZif).
// Immutable after loading; thread-safe.
class TimeZone {
 public:
  TimeZone() = default;  // UTC
  // Errors: kInvalidArgument if `name` is not a zone under /usr/share/zoneinfo.
  static Result<TimeZone> Load(std::string_view name);
  // The offset from UTC in seconds at the instant `epoch_seconds`.
  int64_t OffsetAt(int64_t epoch_seconds) const;
  const std::string& name() const { return name_; }

 private:
  std::string name_ = "UTC";
  std::vector<int64_t> transitions_;  // epoch seconds, ascending
  std::vector<int32_t> offsets_;      // offset in force from transitions_[i]
  int32_t initial_offset_ = 0;        // before the first transition (and with none)
};

// Formats `epoch_millis` in `zone` with a java.time DateTimeFormatter pattern. Supported
// letters: y u (year), M L (month: M/MM numbers, MMM/MMMM names), d, D (day of year), H, h,
// k, K, m, s, S (fraction), a, E (day names), 'quoted text' ('' is a quote); other letters are
// rejected. Errors: kInvalidArgument naming the unsupported pattern letter.
Result<std::string> FormatTimestamp(std::string_view pattern, int64_t epoch_millis,
                                    const TimeZone& zone);

// What a prefix refers to; evaluation fills the values.
struct PrefixContext {
  int64_t arrival_millis = 0;                       // the oldest record of the object
  std::string error_output_type;                    // e.g. "processing-failed"
  std::map<std::string, std::string> lambda_keys;   // partitionKeyFromLambda
  std::map<std::string, std::string> query_keys;    // partitionKeyFromQuery
  std::function<std::string()> random_string;       // 11 alphanumerics (tests fix it)
};

// Parsed prefix expressions (for validation and for listing the partition keys used).
struct PrefixInfo {
  bool has_expressions = false;
  bool uses_error_output_type = false;
  std::vector<std::string> lambda_keys;
  std::vector<std::string> query_keys;
};

// Checks the syntax of a prefix: every "!{" opens one expression "!{namespace:value}" with a
// known namespace, no nesting, and timestamp patterns must be supported.
// Errors: kInvalidArgument with AWS's wording.
Result<PrefixInfo> ParsePrefix(std::string_view prefix);

// Checks the prefixes of an S3 destination as CreateDeliveryStream does (spec 6.3).
// `dynamic_partitioning`: whether DynamicPartitioningConfiguration.Enabled.
// Errors: kInvalidArgument with AWS's messages (incl. the "Ths" typo).
Status ValidatePrefixes(std::string_view prefix, bool has_prefix, std::string_view error_prefix,
                        bool has_error_prefix, bool dynamic_partitioning);

// Evaluates `prefix` (already validated) per the rules above; `has_prefix` false means the
// prefix was not given. Errors: kInvalidArgument if a partition key is missing from `context`.
Result<std::string> EvaluatePrefix(std::string_view prefix, bool has_prefix,
                                   const PrefixContext& context, const TimeZone& zone);

// The error-output prefix: ErrorOutputPrefix evaluated like a prefix, or, when none was given,
// "<Prefix>processing-failed/yyyy/MM/dd/HH/" ("<error-output-type>/..." in general).
Result<std::string> EvaluateErrorPrefix(std::string_view prefix, std::string_view error_prefix,
                                        bool has_error_prefix, const PrefixContext& context,
                                        const TimeZone& zone);

// "<stream>-<version>-<yyyy-MM-dd-HH-mm-ss of write_millis in zone>-<uuid><extension>".
std::string ObjectName(std::string_view stream, int64_t version, int64_t write_millis,
                       std::string_view uuid, std::string_view extension, const TimeZone& zone);

// 11 random alphanumeric characters.
std::string RandomString();

}  // namespace salespipe::delivery
