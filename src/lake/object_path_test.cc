#include "lake/object_path.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/test_util.h"

namespace salespipe::lake {
namespace {

namespace fs = std::filesystem;

// No component of `relative` may be "." or ".." or empty, and it must not be absolute.
void ExpectContained(const std::string& relative, const std::string& key) {
  ASSERT_FALSE(relative.empty()) << key;
  ASSERT_NE(relative[0], '/') << key;
  size_t start = 0;
  while (true) {
    size_t slash = relative.find('/', start);
    std::string part = relative.substr(start, slash == std::string::npos ? slash : slash - start);
    EXPECT_FALSE(part.empty() || part == "." || part == "..") << "key " << key << " -> " << relative;
    EXPECT_LE(part.size(), kMaxNameBytes) << key;
    EXPECT_EQ(part.find('\0'), std::string::npos) << key;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
}

TEST(ObjectPathTest, NormalKeysAreRealPaths) {
  EXPECT_EQ(NaturalPath("sales/year=2026/part-0.parquet"), "sales/year=2026/part-0.parquet");
  EXPECT_EQ(NaturalPath("héllo wörld.txt"), "héllo wörld.txt");
  EXPECT_EQ(NaturalPath(".hidden"), ".hidden");
}

TEST(ObjectPathTest, UnsafePartsAreEscaped) {
  EXPECT_EQ(NaturalPath("../../etc/passwd"), ".%d%2E%2E/.%d%2E%2E/etc/passwd");
  EXPECT_EQ(NaturalPath("a//b"), "a/.%d/b");
  EXPECT_EQ(NaturalPath("dir/"), "dir/.%f");
  EXPECT_EQ(NaturalPath("./x"), ".%d%2E/x");
  EXPECT_EQ(NaturalPath(".%d"), ".%f%2E%25d");
  EXPECT_EQ(NaturalPath("/"), ".%d/.%f");
  EXPECT_EQ(NaturalPath(".."), ".%f%2E%2E");
}

TEST(ObjectPathTest, EscapingIsReversible) {
  for (const std::string& part : std::vector<std::string>{"..", ".", "", ".%x", std::string("a\0b", 3), "%2e%2e", "a\x01z"}) {
    for (bool directory : {true, false}) {
      std::string name = EscapePart(part, directory);
      ASSERT_TRUE(UnescapeName(name).has_value()) << name;
      EXPECT_EQ(*UnescapeName(name), part);
    }
  }
  EXPECT_EQ(UnescapeName("plain"), "plain");
  std::string long_part(300, 'x');
  EXPECT_EQ(EscapePart(long_part, false).size(), 3u + 64u);
}

TEST(ObjectPathTest, FileAndFolderOfTheSameName) {
  std::string dir = ::testing::TempDir() + "/object_path_test_collide";
  fs::remove_all(dir);
  fs::create_directories(dir);
  ASSERT_OK_AND_ASSIGN(std::string a, PlaceObject(dir, "a"));
  EXPECT_EQ(a, "a");
  std::ofstream(dir + "/" + a) << "x";
  ASSERT_OK_AND_ASSIGN(std::string ab, PlaceObject(dir, "a/b"));
  EXPECT_EQ(ab, ".%da/b");  // "a" is a file already
  std::ofstream(dir + "/" + ab) << "y";
  ASSERT_OK_AND_ASSIGN(std::string cd, PlaceObject(dir, "c/d"));
  std::ofstream(dir + "/" + cd) << "y";
  ASSERT_OK_AND_ASSIGN(std::string c, PlaceObject(dir, "c"));
  EXPECT_EQ(c, ".%fc");  // "c" is a folder already
  fs::remove_all(dir);
}

// Property: for random hostile keys, the placed path stays below the bucket folder.
TEST(ObjectPathTest, HostileKeysStayInside) {
  std::string dir = ::testing::TempDir() + "/object_path_test_fuzz";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::vector<std::string> pieces = {"..", ".", "", "/", "a", "%2e", ".%d", ".%f", "\\",
                                           std::string(1, '\0'), " ", "é", "~", "etc", "passwd",
                                           std::string(260, 'z'), "\x01", ".hidden"};
  std::mt19937 rng(20260401);  // fixed seed: deterministic
  fs::path root = fs::weakly_canonical(dir);
  for (int i = 0; i < 3000; ++i) {
    std::string key;
    int n = 1 + static_cast<int>(rng() % 8);
    for (int j = 0; j < n; ++j) {
      key += pieces[rng() % pieces.size()];
      if (rng() % 2) key += "/";
    }
    if (key.size() > kMaxKeyBytes) key.resize(kMaxKeyBytes);
    ExpectContained(NaturalPath(key), key);
    ASSERT_OK_AND_ASSIGN(std::string relative, PlaceObject(dir, key));
    ExpectContained(relative, key);
    fs::path full = fs::weakly_canonical(root / relative);
    auto [root_end, unused] = std::mismatch(root.begin(), root.end(), full.begin());
    EXPECT_EQ(root_end, root.end()) << key << " -> " << full;
    // Occupy the name so later keys meet files and folders of every kind.
    if (!fs::exists(full)) std::ofstream(full.string()) << "x";
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace salespipe::lake
