#include "lambda/code_package.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/crypto.h"
#include "common/test_util.h"
#include "lambda/test_zip.h"

namespace salespipe::lambda {
namespace {

namespace fs = std::filesystem;
using ::salespipe::lambda::testing::MakeZip;
using ::salespipe::testing::StatusIs;

class CodePackageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("salespipe-code-" + NewUuid());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  fs::path dir_;
};

TEST_F(CodePackageTest, UnpacksFilesWithModesAndDigest) {
  std::string zip = MakeZip({{"lambda_function.py", "def handler(e, c): return e\n"},
                             {"bin/bootstrap", "#!/bin/sh\n", 0100755},
                             {"pkg/", "", 040755},
                             {"pkg/mod.py", "X = 1\n"}});
  ASSERT_OK_AND_ASSIGN(CodePackage package, StorePackage(dir_.string(), zip));
  EXPECT_EQ(package.size, static_cast<int64_t>(zip.size()));
  EXPECT_EQ(package.sha256_base64, Base64Encode(Sha256(zip)));
  fs::path code = PackageCodeDir(dir_.string(), package.sha256_hex);
  EXPECT_EQ(Read(code / "lambda_function.py"), "def handler(e, c): return e\n");
  EXPECT_EQ(Read(code / "pkg/mod.py"), "X = 1\n");
  struct stat st;
  ASSERT_EQ(::stat((code / "bin/bootstrap").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_EQ(Read(PackageZipPath(dir_.string(), package.sha256_hex)), zip);
  // Storing the same package again reuses it.
  ASSERT_OK_AND_ASSIGN(CodePackage again, StorePackage(dir_.string(), zip));
  EXPECT_EQ(again.sha256_hex, package.sha256_hex);
}

TEST_F(CodePackageTest, RefusesNonZip) {
  EXPECT_THAT(StorePackage(dir_.string(), "not a zip at all"),
              StatusIs(ErrorCode::kInvalidArgument, "Could not unzip uploaded file"));
  EXPECT_THAT(StorePackage(dir_.string(), ""), StatusIs(ErrorCode::kInvalidArgument));
}

TEST_F(CodePackageTest, RefusesZipSlip) {
  EXPECT_THAT(StorePackage(dir_.string(), MakeZip({{"../evil.py", "x"}})),
              StatusIs(ErrorCode::kInvalidArgument, "Could not unzip uploaded file"));
  EXPECT_THAT(StorePackage(dir_.string(), MakeZip({{"a/../../evil.py", "x"}})),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(StorePackage(dir_.string(), MakeZip({{"/etc/evil", "x"}})),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_FALSE(fs::exists(dir_.parent_path() / "evil.py"));
}

TEST_F(CodePackageTest, SymlinksMustStayInside) {
  EXPECT_THAT(StorePackage(dir_.string(), MakeZip({{"link", "/etc/passwd", 0120777}})),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(StorePackage(dir_.string(), MakeZip({{"a/link", "../../x", 0120777}})),
              StatusIs(ErrorCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(CodePackage package,
                       StorePackage(dir_.string(), MakeZip({{"a/real.txt", "hi"},
                                                            {"a/link", "real.txt", 0120777}})));
  fs::path code = PackageCodeDir(dir_.string(), package.sha256_hex);
  EXPECT_TRUE(fs::is_symlink(code / "a/link"));
  EXPECT_EQ(Read(code / "a/link"), "hi");
}

}  // namespace
}  // namespace salespipe::lambda
