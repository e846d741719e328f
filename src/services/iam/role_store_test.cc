#include "services/iam/role_store.h"

#include "common/test_util.h"
#include "kv/test_db.h"

namespace salespipe::services::iam {
namespace {

using ::salespipe::testing::StatusIs;

class RoleStoreTest : public ::testing::Test {
 protected:
  Role NewRole(std::string name) {
    return Role{.account_id = "000000000000",
                .name = std::move(name),
                .assume_role_policy_document = "{}",
                .tags = {{.key = "team", .value = "data"}}};
  }

  kv::TestDb db_;
  FakeClock clock_{int64_t{1714564800000}};  // 2024-05-01T12:00:00Z
  RoleStore store_{db_.get(), clock_};
};

TEST_F(RoleStoreTest, CreateGetAndNamesIgnoreCase) {
  ASSERT_OK_AND_ASSIGN(Role created, store_.CreateRole(NewRole("Firehose-Role")));
  EXPECT_EQ(created.role_id.size(), 21u);
  EXPECT_EQ(created.role_id.substr(0, 4), "AROA");
  EXPECT_EQ(created.create_date, 1714564800);
  EXPECT_EQ(created.Arn(), "arn:aws:iam::000000000000:role/Firehose-Role");
  ASSERT_OK_AND_ASSIGN(Role read, store_.GetRole("000000000000", "firehose-role"));
  EXPECT_EQ(read.name, "Firehose-Role");
  EXPECT_EQ(read.role_id, created.role_id);
  ASSERT_EQ(read.tags.size(), 1u);
  EXPECT_EQ(read.tags[0].value, "data");
  EXPECT_THAT(store_.CreateRole(NewRole("FIREHOSE-ROLE")), StatusIs(ErrorCode::kAlreadyExists));
  EXPECT_THAT(store_.GetRole("111111111111", "Firehose-Role"), StatusIs(ErrorCode::kNotFound));
}

TEST_F(RoleStoreTest, DeleteConflictsWhilePoliciesRemainAndSurvivesReopen) {
  ASSERT_OK(store_.CreateRole(NewRole("r")).status());
  ASSERT_OK(store_.PutRolePolicy("000000000000", "r", "Inline", R"({"Version":"2012-10-17"})"));
  ASSERT_OK(
      store_.AttachRolePolicy("000000000000", "r", "arn:aws:iam::aws:policy/AmazonS3FullAccess"));
  EXPECT_THAT(store_.DeleteRole("000000000000", "r"),
              StatusIs(ErrorCode::kFailedPrecondition, "must delete policies first"));
  ASSERT_OK(store_.DeleteRolePolicy("000000000000", "r", "inline"));
  EXPECT_THAT(store_.DeleteRole("000000000000", "r"),
              StatusIs(ErrorCode::kFailedPrecondition, "must detach all policies first"));
  ASSERT_OK_AND_ASSIGN(std::vector<AttachedPolicy> attached,
                       store_.ListAttachedRolePolicies("000000000000", "r"));
  ASSERT_EQ(attached.size(), 1u);
  EXPECT_EQ(attached[0].name, "AmazonS3FullAccess");
  EXPECT_THAT(store_.DetachRolePolicy("000000000000", "r", "arn:aws:iam::aws:policy/Other"),
              StatusIs(ErrorCode::kNotFound));
  ASSERT_OK(
      store_.DetachRolePolicy("000000000000", "r", "arn:aws:iam::aws:policy/AmazonS3FullAccess"));

  db_.Reopen();
  RoleStore reopened(db_.get(), clock_);
  ASSERT_OK_AND_ASSIGN(std::vector<Role> roles, reopened.ListRoles("000000000000", "/"));
  ASSERT_EQ(roles.size(), 1u);
  ASSERT_OK(reopened.DeleteRole("000000000000", "r"));
  EXPECT_THAT(reopened.DeleteRole("000000000000", "r"), StatusIs(ErrorCode::kNotFound));
}

}  // namespace
}  // namespace salespipe::services::iam
