#include "lambda/function_store.h"

#include <filesystem>

#include "common/crypto.h"
#include "common/test_util.h"
#include "kv/test_db.h"
#include "lambda/test_zip.h"

namespace salespipe::lambda {
namespace {

namespace fs = std::filesystem;
using ::salespipe::lambda::testing::MakeZip;
using ::salespipe::testing::StatusIs;

class FunctionStoreTest : public ::testing::Test {
 protected:
  FunctionStoreTest()
      : clock_(1717000000000), root_(fs::temp_directory_path() / ("salespipe-fn-" + NewUuid())) {}
  ~FunctionStoreTest() override { fs::remove_all(root_); }

  NewFunction Fn(std::string name) {
    NewFunction f{.account_id = "000000000000", .region = "us-east-1", .name = std::move(name)};
    f.config.runtime = "python3.12";
    f.config.handler = "lambda_function.lambda_handler";
    f.config.role = "arn:aws:iam::000000000000:role/r";
    return f;
  }
  FunctionRef Ref(std::string name, std::string qualifier = "") {
    return {.account_id = "000000000000", .region = "us-east-1", .name = std::move(name),
            .qualifier = std::move(qualifier)};
  }

  FakeClock clock_;
  kv::TestDb db_;
  fs::path root_;
};

TEST_F(FunctionStoreTest, CreateGetListAndReload) {
  FunctionStore store(db_.get(), clock_, root_.string());
  ASSERT_OK(store.Open());
  std::string zip = MakeZip({{"lambda_function.py", "def lambda_handler(e, c): return 1\n"}});
  ASSERT_OK_AND_ASSIGN(auto created, store.Create(Fn("f1"), zip));
  EXPECT_EQ(created->latest.code_sha256, Base64Encode(Sha256(zip)));
  EXPECT_EQ(created->latest.log_group, "/aws/lambda/f1");
  EXPECT_FALSE(created->latest.revision_id.empty());
  EXPECT_TRUE(fs::exists(store.CodeDir(*created, created->latest) + "/lambda_function.py"));
  EXPECT_THAT(store.Create(Fn("f1"), zip), StatusIs(ErrorCode::kAlreadyExists));
  ASSERT_OK(store.Create(Fn("f0"), zip).status());
  EXPECT_EQ(store.List("000000000000", "us-east-1").size(), 2u);
  EXPECT_TRUE(store.List("000000000000", "eu-west-1").empty());

  FunctionStore reopened(db_.get(), clock_, root_.string());
  ASSERT_OK(reopened.Open());
  ASSERT_OK_AND_ASSIGN(auto loaded, reopened.Get("000000000000", "us-east-1", "f1"));
  EXPECT_EQ(loaded->latest.revision_id, created->latest.revision_id);
  EXPECT_EQ(loaded->latest.handler, "lambda_function.lambda_handler");
  EXPECT_THAT(reopened.Get("000000000000", "us-east-1", "nope"),
              StatusIs(ErrorCode::kNotFound,
                       "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"));
}

TEST_F(FunctionStoreTest, UpdateCodeVersionsAndGarbage) {
  FunctionStore store(db_.get(), clock_, root_.string());
  ASSERT_OK(store.Open());
  std::string v1 = MakeZip({{"a.py", "1"}});
  std::string v2 = MakeZip({{"a.py", "2"}});
  std::string v3 = MakeZip({{"a.py", "3"}});
  ASSERT_OK_AND_ASSIGN(auto f, store.Create(Fn("f"), v1));
  std::string dir1 = store.CodeDir(*f, f->latest);
  ASSERT_OK_AND_ASSIGN(auto published, store.PublishVersion(Ref("f"), "first", "", ""));
  EXPECT_EQ(published.second, 1);
  // Publishing unchanged code returns the same version.
  ASSERT_OK_AND_ASSIGN(auto again, store.PublishVersion(Ref("f"), "", "", ""));
  EXPECT_EQ(again.second, 1);
  EXPECT_THAT(store.UpdateCode(Ref("f"), v2, "wrong-revision"), StatusIs(ErrorCode::kAborted));
  ASSERT_OK_AND_ASSIGN(f, store.UpdateCode(Ref("f"), v2, f->latest.revision_id));
  std::string dir2 = store.CodeDir(*f, f->latest);
  EXPECT_TRUE(fs::exists(dir1));  // version 1 still uses it
  ASSERT_OK_AND_ASSIGN(f, store.UpdateCode(Ref("f"), v3, ""));
  EXPECT_FALSE(fs::exists(dir2));  // nothing refers to it any more
  ASSERT_OK_AND_ASSIGN(auto second, store.PublishVersion(Ref("f"), "", "", ""));
  EXPECT_EQ(second.second, 2);
  ASSERT_NE(second.first->Find("1"), nullptr);
  EXPECT_EQ(second.first->Find("1")->description, "first");
  EXPECT_EQ(second.first->Find("3"), nullptr);

  EXPECT_THAT(store.Delete(Ref("f", "$LATEST")), StatusIs(ErrorCode::kInvalidArgument));
  ASSERT_OK(store.Delete(Ref("f", "1")));
  EXPECT_FALSE(fs::exists(dir1));
  EXPECT_THAT(store.Delete(Ref("f", "1")), StatusIs(ErrorCode::kNotFound));
  std::string function_dir = store.FunctionDir(*f);
  ASSERT_OK(store.Delete(Ref("f")));
  EXPECT_FALSE(fs::exists(function_dir));
  EXPECT_THAT(store.Get("000000000000", "us-east-1", "f"), StatusIs(ErrorCode::kNotFound));
}

TEST_F(FunctionStoreTest, OpenRemovesOrphanedCode) {
  fs::create_directories(root_ / "000000000000/us-east-1/ghost/abc/code");
  fs::create_directories(root_ / "runtimes/python/x");
  FunctionStore store(db_.get(), clock_, root_.string());
  ASSERT_OK(store.Open());
  EXPECT_FALSE(fs::exists(root_ / "000000000000/us-east-1/ghost"));
  EXPECT_TRUE(fs::exists(root_ / "runtimes/python/x"));  // the runner's, not ours
}

TEST(FunctionRefTest, ParsesNamesAndArns) {
  ASSERT_OK_AND_ASSIGN(FunctionRef a, ParseFunctionRef("f", "111111111111", "eu-west-1"));
  EXPECT_EQ(a.name, "f");
  EXPECT_EQ(a.account_id, "111111111111");
  ASSERT_OK_AND_ASSIGN(FunctionRef b, ParseFunctionRef("f:prod", "111111111111", "eu-west-1"));
  EXPECT_EQ(b.qualifier, "prod");
  ASSERT_OK_AND_ASSIGN(FunctionRef c,
                       ParseFunctionRef("123456789012:function:f:3", "111111111111", "r"));
  EXPECT_EQ(c.account_id, "123456789012");
  EXPECT_EQ(c.qualifier, "3");
  ASSERT_OK_AND_ASSIGN(FunctionRef d,
                       ParseFunctionRef("arn:aws:lambda:us-west-2:123456789012:function:f",
                                        "111111111111", "eu-west-1"));
  EXPECT_EQ(d.region, "us-west-2");
  EXPECT_EQ(d.name, "f");
  EXPECT_THAT(ParseFunctionRef("bad name", "1", "r"), StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(ParseFunctionRef("arn:aws:s3:::bucket", "1", "r"),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(ParseFunctionRef("f:a:b", "1", "r"), StatusIs(ErrorCode::kInvalidArgument));
}

}  // namespace
}  // namespace salespipe::lambda
