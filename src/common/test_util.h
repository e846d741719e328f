#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/status.h"

namespace salespipe::testing {

inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
const Status& GetStatus(const Result<T>& r) {
  return r.status();
}

MATCHER_P(StatusIs, code, "") {
  const Status& s = ::salespipe::testing::GetStatus(arg);
  if (s.code() != code) {
    *result_listener << "status is " << s.ToString();
    return false;
  }
  return true;
}

MATCHER_P2(StatusIs, code, message_substring, "") {
  const Status& s = ::salespipe::testing::GetStatus(arg);
  if (s.code() != code || s.message().find(message_substring) == std::string::npos) {
    *result_listener << "status is " << s.ToString();
    return false;
  }
  return true;
}

}  // namespace salespipe::testing

#define ASSERT_OK(expr)                                                    \
  do {                                                                     \
    ::salespipe::Status _s = ::salespipe::internal::AsStatus((expr));      \
    ASSERT_TRUE(_s.ok()) << _s.ToString();                                 \
  } while (0)
#define EXPECT_OK(expr)                                                    \
  do {                                                                     \
    ::salespipe::Status _s = ::salespipe::internal::AsStatus((expr));      \
    EXPECT_TRUE(_s.ok()) << _s.ToString();                                 \
  } while (0)

#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)     \
  auto tmp = (expr);                                  \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();   \
  lhs = std::move(tmp).value()
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(SALESPIPE_CONCAT(_assign_, __LINE__), lhs, expr)
