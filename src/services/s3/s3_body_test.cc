#include "services/s3/s3_body.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "common/crypto.h"
#include "common/test_util.h"

namespace salespipe::services::s3 {
namespace {

// A spool file the test writes the way the edge does: write, then Update with the same bytes.
class SpoolFile {
 public:
  SpoolFile() {
    path_ = ::testing::TempDir() + "/spool-XXXXXX";
    fd_ = ::mkstemp(path_.data());
  }
  ~SpoolFile() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  void Write(http::BodyObserver& observer, std::string_view data) {
    ASSERT_EQ(::write(fd_, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    observer.Update(data);
  }

 private:
  std::string path_;
  int fd_ = -1;
};

std::string Body(size_t size) {
  std::string body(size, '\0');
  uint32_t x = 12345;
  for (char& c : body) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 24);
  }
  return body;
}

TEST(SpoolHashesTest, LargeBodiesAreHashedOnAThreadReadingTheSpoolFile) {
  std::atomic<int> slots{1};
  std::string body = Body(3u << 20);
  SpoolFile file;
  SpoolHashes hashes(ChecksumAlgorithm::kCrc32, /*with_sha256=*/true, &slots);
  hashes.Begin(file.fd(), body.size());
  EXPECT_EQ(slots.load(), 0);  // the thread took the slot
  for (size_t offset = 0; offset < body.size(); offset += 300000) {
    file.Write(hashes, std::string_view(body).substr(offset, 300000));
  }
  ASSERT_OK(hashes.Finish());
  EXPECT_EQ(slots.load(), 1);
  EXPECT_EQ(hashes.md5.Finish(), Md5(body));
  EXPECT_EQ(hashes.checksum.Finish(), lake::Digest(ChecksumAlgorithm::kCrc32, body));
  EXPECT_EQ(hashes.sha256.Finish(), Sha256(body));
}

TEST(SpoolHashesTest, SmallBodiesAndNoFreeSlotHashInline) {
  std::atomic<int> slots{0};
  std::string body = Body(1u << 20);
  SpoolFile file;
  SpoolHashes hashes(ChecksumAlgorithm::kNone, /*with_sha256=*/false, &slots);
  hashes.Begin(file.fd(), std::nullopt);  // unknown length, but no slot left
  file.Write(hashes, body);
  ASSERT_OK(hashes.Finish());
  EXPECT_EQ(slots.load(), 0);
  EXPECT_EQ(hashes.md5.Finish(), Md5(body));

  std::atomic<int> more_slots{4};
  SpoolFile small_file;
  SpoolHashes small(ChecksumAlgorithm::kNone, false, &more_slots);
  small.Begin(small_file.fd(), 1000);  // under the threshold
  EXPECT_EQ(more_slots.load(), 4);
  small_file.Write(small, "abc");
  ASSERT_OK(small.Finish());
  EXPECT_EQ(small.md5.Finish(), Md5("abc"));
}

TEST(SpoolHashesTest, AbandonedBodyStopsTheThreadAndReturnsTheSlot) {
  std::atomic<int> slots{1};
  SpoolFile file;
  {
    SpoolHashes hashes(ChecksumAlgorithm::kNone, false, &slots);
    hashes.Begin(file.fd(), 10u << 20);
    file.Write(hashes, Body(1u << 20));
    // The client went away: no Finish.
  }
  EXPECT_EQ(slots.load(), 1);
}

}  // namespace
}  // namespace salespipe::services::s3
