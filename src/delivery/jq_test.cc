#include "delivery/jq.h"

#include <gtest/gtest.h>

#include <random>

#include "common/test_util.h"

namespace salespipe::delivery {
namespace {

using ::salespipe::testing::StatusIs;

TEST(JqTest, FormsAwsExamplesUse) {
  ASSERT_OK_AND_ASSIGN(JqQuery q, JqQuery::Parse("{customer_id: .customer_id}"));
  ASSERT_OK_AND_ASSIGN(auto v, q.Evaluate(R"({"customer_id":"c-1","x":2})"));
  EXPECT_EQ(v, (std::map<std::string, std::string>{{"customer_id", "c-1"}}));

  ASSERT_OK_AND_ASSIGN(JqQuery nested,
                       JqQuery::Parse(R"({ region : .a.b, "the year":.when["year"], n:.list[1], t: .flag })"));
  ASSERT_OK_AND_ASSIGN(
      auto w, nested.Evaluate(R"({"a":{"b":"EU"},"when":{"year":2024},"list":[0,7.5],"flag":true})"));
  EXPECT_EQ(w, (std::map<std::string, std::string>{
                   {"region", "EU"}, {"the year", "2024"}, {"n", "7.5"}, {"t", "true"}}));
  EXPECT_EQ(nested.keys(), (std::vector<std::string>{"region", "the year", "n", "t"}));
}

TEST(JqTest, EvaluationErrors) {
  ASSERT_OK_AND_ASSIGN(JqQuery q, JqQuery::Parse("{k:.a.b}"));
  EXPECT_THAT(q.Evaluate("not json"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(q.Evaluate(R"({"a":{}})"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(q.Evaluate(R"({"a":{"b":null}})"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(q.Evaluate(R"({"a":{"b":{"c":1}}})"), StatusIs(ErrorCode::kInvalidArgument));
}

TEST(JqTest, RejectsWhatItDoesNotSupport) {
  for (std::string_view bad : {"", ".a", "{}", "{k:}", "{k:a}", "{k:.a | tostring}", "{k:.a,}",
                               "{k:.a} x", "{k:.a, k:.b}", "{k:.a[}", "{k:.a[\"x]}", "{:.a}",
                               "{k:..a}", "{k:.a.}"}) {
    EXPECT_THAT(JqQuery::Parse(bad), StatusIs(ErrorCode::kInvalidArgument)) << bad;
  }
}

TEST(JqTest, RandomInputNeverCrashes) {
  std::mt19937 rng(42);
  const std::string alphabet = "{}[]:.,\"ab \\|0129";
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    int length = static_cast<int>(rng() % 24);
    for (int j = 0; j < length; ++j) text.push_back(alphabet[rng() % alphabet.size()]);
    Result<JqQuery> q = JqQuery::Parse(text);
    if (q.ok()) q->Evaluate(R"({"a":{"b":[1,"x"]}})").status().IgnoreError();
  }
}

}  // namespace
}  // namespace salespipe::delivery
