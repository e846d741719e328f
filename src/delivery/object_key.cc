#include "delivery/object_key.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>

namespace salespipe::delivery {
namespace {

constexpr size_t kMaxEvaluatedPrefix = 512;
constexpr std::string_view kConstraint =
    "Ths supplied prefix(es) do not satisfy the following constraint: ";

// Days since 1970-01-01 -> civil date (H. Hinnant's algorithm).
struct Civil {
  int64_t year;
  unsigned month, day;
};
Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

struct LocalTime {
  Civil date;
  int hour, minute, second, millis;
  int day_of_year;  // 1-based
  int weekday;      // 0 = Monday .. 6 = Sunday
};

LocalTime ToLocal(int64_t epoch_millis, const TimeZone& zone) {
  int64_t seconds = FloorDiv(epoch_millis, 1000);
  int millis = static_cast<int>(epoch_millis - seconds * 1000);
  seconds += zone.OffsetAt(seconds);
  int64_t days = FloorDiv(seconds, 86400);
  int64_t rest = seconds - days * 86400;
  LocalTime t{.date = CivilFromDays(days),
              .hour = static_cast<int>(rest / 3600),
              .minute = static_cast<int>(rest / 60 % 60),
              .second = static_cast<int>(rest % 60),
              .millis = millis};
  static constexpr int kCumulative[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  t.day_of_year = kCumulative[t.date.month - 1] + static_cast<int>(t.date.day) +
                  (t.date.month > 2 && IsLeap(t.date.year) ? 1 : 0);
  t.weekday = static_cast<int>(((days % 7) + 7 + 3) % 7);  // 1970-01-01 was a Thursday
  return t;
}

std::string Padded(int64_t value, size_t width) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return value < 0 ? "-" + digits : digits;
}

constexpr const char* kMonths[] = {"January", "February", "March",     "April",
                                   "May",     "June",     "July",      "August",
                                   "September", "October", "November", "December"};
constexpr const char* kDays[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                 "Friday", "Saturday", "Sunday"};

// Formats one run of `count` letters `letter`.
Result<std::string> FormatField(char letter, size_t count, const LocalTime& t) {
  switch (letter) {
    case 'y':
    case 'u':
      if (count == 2) return Padded(t.date.year % 100, 2);
      return Padded(t.date.year, count);
    case 'M':
    case 'L':
      if (count >= 4) return std::string(kMonths[t.date.month - 1]);
      if (count == 3) return std::string(kMonths[t.date.month - 1]).substr(0, 3);
      return Padded(t.date.month, count);
    case 'd': return Padded(t.date.day, count);
    case 'D': return Padded(t.day_of_year, count);
    case 'H': return Padded(t.hour, count);
    case 'k': return Padded(t.hour == 0 ? 24 : t.hour, count);
    case 'h': return Padded(t.hour % 12 == 0 ? 12 : t.hour % 12, count);
    case 'K': return Padded(t.hour % 12, count);
    case 'm': return Padded(t.minute, count);
    case 's': return Padded(t.second, count);
    case 'S': {
      std::string fraction = Padded(t.millis, 3);
      fraction.resize(count, '0');
      return fraction;
    }
    case 'a': return std::string(t.hour < 12 ? "AM" : "PM");
    case 'E':
      if (count >= 4) return std::string(kDays[t.weekday]);
      return std::string(kDays[t.weekday]).substr(0, 3);
    default:
      break;
  }
  return Status::InvalidArgument(std::string("Unsupported timestamp pattern letter '") + letter +
                                 "'");
}

constexpr std::string_view kNamespaces[] = {"timestamp", "firehose", "partitionKeyFromQuery",
                                            "partitionKeyFromLambda"};

struct Expression {
  std::string_view ns;
  std::string_view value;
  size_t begin = 0, end = 0;  // [begin, end) of "!{...}" in the prefix
};

Status InvalidExpression(std::string_view prefix) {
  return Status::InvalidArgument(std::string(kConstraint) +
                                 "Prefix expressions must be of the form !{namespace:value} "
                                 "with namespace one of timestamp, firehose, "
                                 "partitionKeyFromQuery, partitionKeyFromLambda (prefix '" +
                                 std::string(prefix) + "')");
}

Result<std::vector<Expression>> ParseExpressions(std::string_view prefix) {
  std::vector<Expression> out;
  size_t pos = 0;
  while ((pos = prefix.find("!{", pos)) != std::string_view::npos) {
    size_t close = prefix.find('}', pos + 2);
    if (close == std::string_view::npos) return InvalidExpression(prefix);
    std::string_view body = prefix.substr(pos + 2, close - pos - 2);
    if (body.find("!{") != std::string_view::npos || body.find('{') != std::string_view::npos) {
      return InvalidExpression(prefix);  // nested
    }
    size_t colon = body.find(':');
    if (colon == std::string_view::npos) return InvalidExpression(prefix);
    Expression e{.ns = body.substr(0, colon), .value = body.substr(colon + 1), .begin = pos,
                 .end = close + 1};
    if (std::find(std::begin(kNamespaces), std::end(kNamespaces), e.ns) == std::end(kNamespaces) ||
        e.value.empty()) {
      return InvalidExpression(prefix);
    }
    if (e.ns == "firehose" && e.value != "random-string" && e.value != "error-output-type") {
      return InvalidExpression(prefix);
    }
    if (e.ns == "timestamp") {
      RETURN_IF_ERROR(FormatTimestamp(e.value, 0, TimeZone()).status());
    }
    out.push_back(e);
    pos = close + 1;
  }
  return out;
}

// "yyyy/MM/dd/HH/" of `millis`.
std::string HourPath(int64_t millis, const TimeZone& zone) {
  LocalTime t = ToLocal(millis, zone);
  return Padded(t.date.year, 4) + "/" + Padded(t.date.month, 2) + "/" + Padded(t.date.day, 2) +
         "/" + Padded(t.hour, 2) + "/";
}

int32_t ReadBe32(const std::string& data, size_t at) {
  return static_cast<int32_t>((static_cast<uint32_t>(static_cast<unsigned char>(data[at])) << 24) |
                              (static_cast<uint32_t>(static_cast<unsigned char>(data[at + 1])) << 16) |
                              (static_cast<uint32_t>(static_cast<unsigned char>(data[at + 2])) << 8) |
                              static_cast<uint32_t>(static_cast<unsigned char>(data[at + 3])));
}

int64_t ReadBe64(const std::string& data, size_t at) {
  return static_cast<int64_t>((static_cast<uint64_t>(static_cast<uint32_t>(ReadBe32(data, at)))
                               << 32) |
                              static_cast<uint32_t>(ReadBe32(data, at + 4)));
}

}  // namespace

// TZif (RFC 8536): we read the version-2 (64-bit) block when present, else version 1.
Result<TimeZone> TimeZone::Load(std::string_view name) {
  TimeZone zone;
  if (name.empty() || name == "UTC" || name == "Etc/UTC") return zone;
  auto invalid = [&] {
    return Status::InvalidArgument("CustomTimeZone " + std::string(name) + " is not a valid " +
                                   "time zone");
  };
  if (name.find("..") != std::string_view::npos || name.front() == '/') return invalid();
  std::ifstream in("/usr/share/zoneinfo/" + std::string(name), std::ios::binary);
  if (!in) return invalid();
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (data.size() < 44 || data.compare(0, 4, "TZif") != 0) return invalid();
  auto parse = [&](size_t at, int time_size, size_t* end) -> bool {
    if (data.size() < at + 44) return false;
    int64_t isutcnt = ReadBe32(data, at + 20), isstdcnt = ReadBe32(data, at + 24),
            leapcnt = ReadBe32(data, at + 28), timecnt = ReadBe32(data, at + 32),
            typecnt = ReadBe32(data, at + 36), charcnt = ReadBe32(data, at + 40);
    size_t p = at + 44;
    size_t need = timecnt * time_size + timecnt + typecnt * 6 + charcnt +
                  leapcnt * (time_size + 4) + isstdcnt + isutcnt;
    if (typecnt <= 0 || data.size() < p + need) return false;
    std::vector<int64_t> times(timecnt);
    for (int64_t i = 0; i < timecnt; ++i) {
      times[i] = time_size == 8 ? ReadBe64(data, p + i * 8) : ReadBe32(data, p + i * 4);
    }
    p += timecnt * time_size;
    std::vector<uint8_t> indexes(timecnt);
    for (int64_t i = 0; i < timecnt; ++i) indexes[i] = static_cast<uint8_t>(data[p + i]);
    p += timecnt;
    std::vector<int32_t> type_offsets(typecnt);
    for (int64_t i = 0; i < typecnt; ++i) type_offsets[i] = ReadBe32(data, p + i * 6);
    zone.transitions_ = times;
    zone.offsets_.clear();
    for (uint8_t index : indexes) {
      if (index >= typecnt) return false;
      zone.offsets_.push_back(type_offsets[index]);
    }
    zone.initial_offset_ = type_offsets[0];
    *end = p + need - timecnt * time_size - timecnt;
    return true;
  };
  size_t end = 0;
  if (!parse(0, 4, &end)) return invalid();
  if (data[4] >= '2' && data.size() > end + 44 && data.compare(end, 4, "TZif") == 0) {
    size_t end2 = 0;
    if (!parse(end, 8, &end2)) return invalid();
  }
  zone.name_ = std::string(name);
  return zone;
}

int64_t TimeZone::OffsetAt(int64_t epoch_seconds) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), epoch_seconds);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<size_t>(it - transitions_.begin()) - 1];
}

Result<std::string> FormatTimestamp(std::string_view pattern, int64_t epoch_millis,
                                    const TimeZone& zone) {
  LocalTime t = ToLocal(epoch_millis, zone);
  std::string out;
  size_t i = 0;
  while (i < pattern.size()) {
    char c = pattern[i];
    if (c == '\'') {
      size_t close = i + 1;
      std::string literal;
      while (true) {
        if (close >= pattern.size()) {
          return Status::InvalidArgument("Unterminated quote in timestamp pattern");
        }
        if (pattern[close] == '\'') {
          if (close + 1 < pattern.size() && pattern[close + 1] == '\'') {
            literal.push_back('\'');
            close += 2;
            continue;
          }
          break;
        }
        literal.push_back(pattern[close++]);
      }
      out += close == i + 1 ? "'" : literal;  // '' alone is a quote
      i = close + 1;
      continue;
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      size_t run = i;
      while (run < pattern.size() && pattern[run] == c) ++run;
      ASSIGN_OR_RETURN(std::string field, FormatField(c, run - i, t));
      out += field;
      i = run;
      continue;
    }
    if (c == '[' || c == ']' || c == '#' || c == '{' || c == '}') {
      return Status::InvalidArgument(std::string("Unsupported timestamp pattern character '") +
                                     c + "'");
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

Result<PrefixInfo> ParsePrefix(std::string_view prefix) {
  ASSIGN_OR_RETURN(std::vector<Expression> expressions, ParseExpressions(prefix));
  PrefixInfo info{.has_expressions = !expressions.empty()};
  for (const Expression& e : expressions) {
    if (e.ns == "firehose" && e.value == "error-output-type") info.uses_error_output_type = true;
    if (e.ns == "partitionKeyFromLambda") info.lambda_keys.emplace_back(e.value);
    if (e.ns == "partitionKeyFromQuery") info.query_keys.emplace_back(e.value);
  }
  return info;
}

Status ValidatePrefixes(std::string_view prefix, bool has_prefix, std::string_view error_prefix,
                        bool has_error_prefix, bool dynamic_partitioning) {
  auto violated = [](std::string_view what) {
    return Status::InvalidArgument(std::string(kConstraint) + std::string(what));
  };
  ASSIGN_OR_RETURN(PrefixInfo info, ParsePrefix(prefix));
  ASSIGN_OR_RETURN(PrefixInfo error_info, ParsePrefix(error_prefix));
  if (info.uses_error_output_type) {
    return violated("Prefix cannot contain the expression !{firehose:error-output-type}");
  }
  const bool uses_keys = !info.lambda_keys.empty() || !info.query_keys.empty();
  if (uses_keys && !dynamic_partitioning) {
    return violated(
        "Prefix can contain partitionKeyFromQuery or partitionKeyFromLambda expressions only "
        "when dynamic partitioning is enabled");
  }
  if (!error_info.lambda_keys.empty() || !error_info.query_keys.empty()) {
    return violated(
        "ErrorOutputPrefix cannot contain partitionKeyFromQuery or partitionKeyFromLambda "
        "expressions");
  }
  if (dynamic_partitioning && !uses_keys) {
    return violated(
        "Prefix must contain at least one partitionKeyFromQuery or partitionKeyFromLambda "
        "expression when dynamic partitioning is enabled");
  }
  if ((info.has_expressions || dynamic_partitioning) && (!has_error_prefix || error_prefix.empty())) {
    return violated("ErrorOutputPrefix cannot be null or empty when Prefix contains expressions");
  }
  if (error_info.has_expressions && !error_info.uses_error_output_type) {
    return violated(
        "ErrorOutputPrefix must contain !{firehose:error-output-type} when it contains "
        "expressions");
  }
  // Evaluated prefixes are at most 512 characters (partition keys counted as empty here;
  // longer values are checked when records are delivered).
  PrefixContext sample{.arrival_millis = 0, .error_output_type = "processing-failed",
                       .random_string = [] { return std::string(11, 'a'); }};
  for (const std::string& key : info.lambda_keys) sample.lambda_keys[key] = "";
  for (const std::string& key : info.query_keys) sample.query_keys[key] = "";
  ASSIGN_OR_RETURN(std::string evaluated, EvaluatePrefix(prefix, has_prefix, sample, TimeZone()));
  ASSIGN_OR_RETURN(std::string evaluated_error,
                   EvaluateErrorPrefix(prefix, error_prefix, has_error_prefix, sample, TimeZone()));
  if (evaluated.size() > kMaxEvaluatedPrefix ||
      (has_error_prefix && evaluated_error.size() > kMaxEvaluatedPrefix)) {
    return violated("The evaluated Prefix and ErrorOutputPrefix must not be longer than 512 "
                    "characters");
  }
  return Status::Ok();
}

namespace {

Result<std::string> Evaluate(std::string_view prefix, const PrefixContext& context,
                             const TimeZone& zone) {
  ASSIGN_OR_RETURN(std::vector<Expression> expressions, ParseExpressions(prefix));
  std::string out;
  size_t at = 0;
  for (const Expression& e : expressions) {
    out.append(prefix.substr(at, e.begin - at));
    at = e.end;
    if (e.ns == "timestamp") {
      ASSIGN_OR_RETURN(std::string text, FormatTimestamp(e.value, context.arrival_millis, zone));
      out += text;
    } else if (e.ns == "firehose") {
      if (e.value == "random-string") {
        out += context.random_string ? context.random_string() : RandomString();
      } else {
        out += context.error_output_type;
      }
    } else {
      const auto& keys = e.ns == "partitionKeyFromLambda" ? context.lambda_keys : context.query_keys;
      auto it = keys.find(std::string(e.value));
      if (it == keys.end()) {
        return Status::InvalidArgument("partition key " + std::string(e.value) + " is missing");
      }
      out += it->second;
    }
  }
  out.append(prefix.substr(at));
  return out;
}

}  // namespace

Result<std::string> EvaluatePrefix(std::string_view prefix, bool has_prefix,
                                   const PrefixContext& context, const TimeZone& zone) {
  if (!has_prefix || prefix.empty()) return HourPath(context.arrival_millis, zone);
  ASSIGN_OR_RETURN(PrefixInfo info, ParsePrefix(prefix));
  if (!info.has_expressions) {
    // Observed on AWS: a static prefix is followed directly by the date, no '/' inserted.
    return std::string(prefix) + HourPath(context.arrival_millis, zone);
  }
  return Evaluate(prefix, context, zone);
}

Result<std::string> EvaluateErrorPrefix(std::string_view prefix, std::string_view error_prefix,
                                        bool has_error_prefix, const PrefixContext& context,
                                        const TimeZone& zone) {
  if (has_error_prefix && !error_prefix.empty()) {
    ASSIGN_OR_RETURN(PrefixInfo info, ParsePrefix(error_prefix));
    if (!info.has_expressions) {
      return std::string(error_prefix) + HourPath(context.arrival_millis, zone);
    }
    return Evaluate(error_prefix, context, zone);
  }
  return std::string(prefix) + context.error_output_type + "/" +
         HourPath(context.arrival_millis, zone);
}

std::string ObjectName(std::string_view stream, int64_t version, int64_t write_millis,
                       std::string_view uuid, std::string_view extension, const TimeZone& zone) {
  LocalTime t = ToLocal(write_millis, zone);
  std::string out(stream);
  out += "-" + std::to_string(version) + "-" + Padded(t.date.year, 4) + "-" +
         Padded(t.date.month, 2) + "-" + Padded(t.date.day, 2) + "-" + Padded(t.hour, 2) + "-" +
         Padded(t.minute, 2) + "-" + Padded(t.second, 2) + "-";
  out += uuid;
  out += extension;
  return out;
}

std::string RandomString() {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 engine(std::random_device{}());
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string out(11, 'a');
  for (char& c : out) c = kAlphabet[pick(engine)];
  return out;
}

}  // namespace salespipe::delivery
