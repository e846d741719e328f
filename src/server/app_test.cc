#include "server/app.h"

#include <filesystem>

#include "common/test_util.h"

namespace salespipe::server {
namespace {

class AppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("salespipe-app-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(AppTest, OpensCreatesTheDatabaseDirectoryAndCloses) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<App> app,
                       App::Open({.data_dir = (dir_ / "nested" / "data").string()}));
  EXPECT_TRUE(std::filesystem::is_directory(dir_ / "nested" / "data" / "db"));
  ASSERT_OK(app->Start());
  for (services::JsonService* service : app->json_services()) EXPECT_NE(service, nullptr);
  app->Stop();
  ASSERT_OK(app->Close());
  ASSERT_OK(app->Close());  // idempotent
}

TEST_F(AppTest, SecondOpenOfTheSameDirectoryFails) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<App> app, App::Open({.data_dir = dir_.string()}));
  EXPECT_THAT(App::Open({.data_dir = dir_.string()}),
              ::salespipe::testing::StatusIs(ErrorCode::kInternal));
}

TEST_F(AppTest, UncreatableDirectoryIsFailedPrecondition) {
  EXPECT_THAT(App::Open({.data_dir = "/proc/salespipe-cannot-create"}),
              ::salespipe::testing::StatusIs(ErrorCode::kFailedPrecondition));
}

}  // namespace
}  // namespace salespipe::server
