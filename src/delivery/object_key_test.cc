#include "delivery/object_key.h"

#include <gtest/gtest.h>

#include "common/test_util.h"

namespace salespipe::delivery {
namespace {

using ::salespipe::testing::StatusIs;

constexpr int64_t kArrival = 1714566910123;  // 2024-05-01T12:35:10.123Z (a Wednesday)

PrefixContext Context() {
  return PrefixContext{.arrival_millis = kArrival,
                       .error_output_type = "processing-failed",
                       .lambda_keys = {{"region", "EU"}},
                       .query_keys = {{"customer", "c-42"}},
                       .random_string = [] { return std::string("AbCdEfGhIjK"); }};
}

std::string Eval(std::string_view prefix, bool has_prefix = true) {
  Result<std::string> out = EvaluatePrefix(prefix, has_prefix, Context(), TimeZone());
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : "";
}

TEST(ObjectKeyTest, DefaultAndStaticPrefixes) {
  EXPECT_EQ(Eval("", false), "2024/05/01/12/");
  EXPECT_EQ(Eval("sales/"), "sales/2024/05/01/12/");
  // Observed on AWS: no '/' inserted after a static prefix.
  EXPECT_EQ(Eval("raw"), "raw2024/05/01/12/");
}

TEST(ObjectKeyTest, ExpressionsAreEvaluatedAsWritten) {
  EXPECT_EQ(Eval("year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
                 "hour=!{timestamp:HH}/"),
            "year=2024/month=05/day=01/hour=12/");
  EXPECT_EQ(Eval("t/!{timestamp:yyyy-MM-dd'T'HH:mm:ss.SSS}/"), "t/2024-05-01T12:35:10.123/");
  EXPECT_EQ(Eval("!{timestamp:yy/M/d/H/m/s}"), "24/5/1/12/35/10");
  EXPECT_EQ(Eval("!{timestamp:EEE MMM DDD a hh}/"), "Wed May 122 PM 12/");
  EXPECT_EQ(Eval("!{timestamp:'q''x'}/"), "q'x/");
  EXPECT_EQ(Eval("r/!{firehose:random-string}/"), "r/AbCdEfGhIjK/");
  EXPECT_EQ(Eval("r=!{partitionKeyFromLambda:region}/c=!{partitionKeyFromQuery:customer}/"),
            "r=EU/c=c-42/");
}

TEST(ObjectKeyTest, RandomStringIsElevenAlphanumerics) {
  std::string a = RandomString(), b = RandomString();
  EXPECT_EQ(a.size(), 11u);
  EXPECT_NE(a, b);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
}

TEST(ObjectKeyTest, ErrorPrefixes) {
  auto error = [](std::string_view prefix, std::string_view error_prefix, bool has) {
    Result<std::string> out = EvaluateErrorPrefix(prefix, error_prefix, has, Context(), TimeZone());
    EXPECT_TRUE(out.ok());
    return out.ok() ? *out : "";
  };
  EXPECT_EQ(error("sales/", "", false), "sales/processing-failed/2024/05/01/12/");
  EXPECT_EQ(error("", "", false), "processing-failed/2024/05/01/12/");
  EXPECT_EQ(error("x/!{timestamp:yyyy}/", "err/!{firehose:error-output-type}/!{timestamp:yyyy}/",
                  true),
            "err/processing-failed/2024/");
  EXPECT_EQ(error("sales/", "errors/", true), "errors/2024/05/01/12/");
}

TEST(ObjectKeyTest, ObjectNames) {
  EXPECT_EQ(ObjectName("orders-to-s3", 1, kArrival, "4f6a2c1e-9b7d-4e8f-a1b2-c3d4e5f60718", "",
                       TimeZone()),
            "orders-to-s3-1-2024-05-01-12-35-10-4f6a2c1e-9b7d-4e8f-a1b2-c3d4e5f60718");
  EXPECT_EQ(ObjectName("s", 3, kArrival, "u", ".gz", TimeZone()), "s-3-2024-05-01-12-35-10-u.gz");
}

TEST(ObjectKeyTest, CustomTimeZone) {
  ASSERT_OK_AND_ASSIGN(TimeZone tokyo, TimeZone::Load("Asia/Tokyo"));
  ASSERT_OK_AND_ASSIGN(std::string prefix, EvaluatePrefix("", false, Context(), tokyo));
  EXPECT_EQ(prefix, "2024/05/01/21/");
  ASSERT_OK_AND_ASSIGN(TimeZone paris, TimeZone::Load("Europe/Paris"));
  EXPECT_EQ(paris.OffsetAt(kArrival / 1000), 7200);      // summer time
  EXPECT_EQ(paris.OffsetAt(1704067200), 3600);          // 2024-01-01
  EXPECT_EQ(ObjectName("s", 1, kArrival, "u", "", paris), "s-1-2024-05-01-14-35-10-u");
  EXPECT_THAT(TimeZone::Load("Mars/Olympus"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(TimeZone::Load("../../etc/passwd"), StatusIs(ErrorCode::kInvalidArgument));
}

TEST(ObjectKeyTest, ValidationLikeAws) {
  EXPECT_OK(ValidatePrefixes("sales/", true, "", false, false));
  EXPECT_OK(ValidatePrefixes("", false, "", false, false));
  Status missing = ValidatePrefixes("y=!{timestamp:yyyy}/", true, "", false, false);
  EXPECT_THAT(missing, StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_EQ(missing.message(),
            "Ths supplied prefix(es) do not satisfy the following constraint: ErrorOutputPrefix "
            "cannot be null or empty when Prefix contains expressions");
  EXPECT_OK(ValidatePrefixes("y=!{timestamp:yyyy}/", true, "e/!{firehose:error-output-type}/",
                             true, false));
  EXPECT_OK(ValidatePrefixes("y/", true, "e/", true, false));
  for (std::string_view bad : {"!{foo:bar}/", "!{timestamp:yyyy", "!{timestamp:!{timestamp:y}}",
                               "!{firehose:nope}", "!{timestamp:}", "!{timestamp:yyyy-QQ}",
                               "!{firehose:error-output-type}/"}) {
    EXPECT_THAT(ValidatePrefixes(bad, true, "e/!{firehose:error-output-type}/", true, false),
                StatusIs(ErrorCode::kInvalidArgument))
        << bad;
  }
  // Error prefix with expressions but no error-output-type.
  EXPECT_THAT(ValidatePrefixes("y=!{timestamp:yyyy}/", true, "e/!{timestamp:yyyy}/", true, false),
              StatusIs(ErrorCode::kInvalidArgument));
  // Partition keys need dynamic partitioning, and dynamic partitioning needs partition keys.
  EXPECT_THAT(ValidatePrefixes("!{partitionKeyFromQuery:c}/", true,
                               "e/!{firehose:error-output-type}/", true, false),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(ValidatePrefixes("static/", true, "e/", true, true),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_OK(ValidatePrefixes("!{partitionKeyFromQuery:c}/", true, "e/!{firehose:error-output-type}/",
                             true, true));
  EXPECT_THAT(ValidatePrefixes("!{partitionKeyFromQuery:c}/", true, "", false, true),
              StatusIs(ErrorCode::kInvalidArgument));
  // Evaluated prefixes are at most 512 characters.
  EXPECT_OK(ValidatePrefixes(std::string(498, 'p'), true, "", false, false));  // + 14 date chars
  EXPECT_THAT(ValidatePrefixes(std::string(499, 'p'), true, "", false, false),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(ValidatePrefixes("!{timestamp:yyyy}" + std::string(510, 'p'), true,
                               "e/!{firehose:error-output-type}/", true, false),
              StatusIs(ErrorCode::kInvalidArgument));
}

}  // namespace
}  // namespace salespipe::delivery
