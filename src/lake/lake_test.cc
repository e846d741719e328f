#include "lake/lake.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <fstream>
#include <sstream>

#include "common/crypto.h"
#include "common/test_util.h"
#include "kv/test_db.h"
#include "lake/records.h"

namespace salespipe::lake {
namespace {

namespace fs = std::filesystem;
using ::salespipe::testing::StatusIs;

class LakeTest : public ::testing::Test {
 protected:
  LakeTest() : clock_(1767225600000) {
    root_ = db_.path() + "-lake";
    fs::remove_all(root_);
    Reopen();
  }
  ~LakeTest() override {
    lake_.reset();
    fs::remove_all(root_);
  }
  void Reopen() {
    lake_.reset();
    auto opened = Lake::Open({.root = root_}, db_.get(), clock_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    lake_ = std::move(opened).value();
  }
  void Put(std::string_view bucket, std::string_view key, std::string_view body) {
    auto file = lake_->NewStagedFile();
    ASSERT_TRUE(file.ok());
    ASSERT_OK(file->Append(body));
    ObjectMeta meta{.etag = "\"" + HexEncode(Md5(body)) + "\""};
    ASSERT_OK(lake_->PutObject(bucket, key, std::move(file).value(), meta).status());
  }
  std::string Read(std::string_view bucket, std::string_view key) {
    auto object = lake_->Open(bucket, key);
    EXPECT_TRUE(object.ok()) << object.status().ToString();
    if (!object.ok()) return "";
    std::string out;
    EXPECT_OK(Lake::ReadRange(object->fd.get(), 0, object->meta.size, [&](std::string_view c) {
      out.append(c);
      return Status::Ok();
    }));
    return out;
  }
  std::vector<std::string> Keys(const ListResult& r) {
    std::vector<std::string> out;
    for (const auto& e : r.objects) out.push_back(e.key);
    return out;
  }
  size_t StagingCount() {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(lake_->staging_dir())) ++n;
    return n;
  }

  kv::TestDb db_;
  FakeClock clock_;
  std::string root_;
  std::unique_ptr<Lake> lake_;
};

TEST_F(LakeTest, PutGetDelete) {
  ASSERT_OK(lake_->CreateBucket("sales", "us-east-1"));
  EXPECT_THAT(lake_->CreateBucket("sales", "us-east-1"), StatusIs(ErrorCode::kAlreadyExists));
  Put("sales", "year=2026/part-0.parquet", "hello");
  EXPECT_EQ(Read("sales", "year=2026/part-0.parquet"), "hello");
  // A real path other tools can read.
  std::ifstream in(root_ + "/sales/year=2026/part-0.parquet");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "hello");
  EXPECT_THAT(lake_->DeleteBucket("sales"), StatusIs(ErrorCode::kFailedPrecondition));
  ASSERT_OK(lake_->DeleteObject("sales", "year=2026/part-0.parquet"));
  ASSERT_OK(lake_->DeleteObject("sales", "year=2026/part-0.parquet"));  // idempotent
  EXPECT_THAT(lake_->HeadObject("sales", "year=2026/part-0.parquet"),
              StatusIs(ErrorCode::kNotFound));
  EXPECT_FALSE(fs::exists(root_ + "/sales/year=2026"));  // empty folders go too
  ASSERT_OK(lake_->DeleteBucket("sales"));
  EXPECT_THAT(lake_->HeadObject("sales", "x"), StatusIs(ErrorCode::kNotFound));
  EXPECT_EQ(StagingCount(), 0u);
}

TEST_F(LakeTest, OverwriteKeepsReadersConsistent) {
  ASSERT_OK(lake_->CreateBucket("b", "us-east-1"));
  Put("b", "k", "old bytes");
  auto reader = lake_->Open("b", "k");
  ASSERT_TRUE(reader.ok());
  Put("b", "k", "new");
  std::string seen;
  ASSERT_OK(Lake::ReadRange(reader->fd.get(), 0, reader->meta.size, [&](std::string_view c) {
    seen.append(c);
    return Status::Ok();
  }));
  EXPECT_EQ(seen, "old bytes");
  EXPECT_EQ(Read("b", "k"), "new");
}

TEST_F(LakeTest, FileAndFolderOfTheSameKey) {
  ASSERT_OK(lake_->CreateBucket("b", "us-east-1"));
  Put("b", "a", "file a");
  Put("b", "a/b", "file a/b");
  Put("b", "a//c", "double slash");
  Put("b", "../../etc/passwd", "not really");
  EXPECT_EQ(Read("b", "a"), "file a");
  EXPECT_EQ(Read("b", "a/b"), "file a/b");
  EXPECT_EQ(Read("b", "a//c"), "double slash");
  EXPECT_EQ(Read("b", "../../etc/passwd"), "not really");
  EXPECT_TRUE(fs::exists(root_ + "/b/.%d%2E%2E/.%d%2E%2E/etc/passwd"));
}

TEST_F(LakeTest, ListingOrderDelimitersAndPages) {
  ASSERT_OK(lake_->CreateBucket("b", "us-east-1"));
  for (std::string key : {"z", "a/1", "a/2", "b", "a/b/c", "é", "A", "a-", "c/x/y", "c/z"}) {
    Put("b", key, key);
  }
  ASSERT_OK_AND_ASSIGN(ListResult all, lake_->List("b", {}));
  EXPECT_EQ(Keys(all), (std::vector<std::string>{"A", "a-", "a/1", "a/2", "a/b/c", "b", "c/x/y",
                                                 "c/z", "z", "é"}));
  ASSERT_OK_AND_ASSIGN(ListResult grouped, lake_->List("b", {.delimiter = "/"}));
  EXPECT_EQ(Keys(grouped), (std::vector<std::string>{"A", "a-", "b", "z", "é"}));
  EXPECT_EQ(grouped.common_prefixes, (std::vector<std::string>{"a/", "c/"}));
  ASSERT_OK_AND_ASSIGN(ListResult in_a, lake_->List("b", {.prefix = "a/", .delimiter = "/"}));
  EXPECT_EQ(Keys(in_a), (std::vector<std::string>{"a/1", "a/2"}));
  EXPECT_EQ(in_a.common_prefixes, (std::vector<std::string>{"a/b/"}));

  // Pages of 2 with the delimiter: every key or prefix exactly once.
  std::vector<std::string> seen;
  std::string after;
  for (int page = 0; page < 10; ++page) {
    ASSERT_OK_AND_ASSIGN(ListResult r,
                         lake_->List("b", {.delimiter = "/", .start_after = after, .max_keys = 2}));
    for (const auto& e : r.objects) seen.push_back(e.key);
    for (const auto& p : r.common_prefixes) seen.push_back(p);
    if (!r.truncated) break;
    after = r.last;
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"A", "a-", "a/", "b", "c/", "z", "é"}));
}

TEST_F(LakeTest, MultipartConcatenatesParts) {
  ASSERT_OK(lake_->CreateBucket("b", "us-east-1"));
  ASSERT_OK_AND_ASSIGN(UploadInfo upload, lake_->CreateUpload("b", "big", {}));
  for (int n : {2, 1, 3}) {
    ASSERT_OK_AND_ASSIGN(StagedFile file, lake_->NewStagedFile());
    ASSERT_OK(file.Append(std::string(10, static_cast<char>('a' + n))));
    ASSERT_OK(lake_->PutPart(upload, std::move(file), {.part_number = n}));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<PartInfo> parts, lake_->ListParts(upload));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].part_number, 1);
  ASSERT_OK_AND_ASSIGN(std::vector<UploadInfo> uploads, lake_->ListUploads("b"));
  EXPECT_EQ(uploads.size(), 1u);
  ASSERT_OK(lake_->CompleteUpload(upload, parts, {.etag = "\"x-3\"", .parts_count = 3}).status());
  EXPECT_EQ(Read("b", "big"), std::string(10, 'b') + std::string(10, 'c') + std::string(10, 'd'));
  EXPECT_THAT(lake_->GetUpload("b", upload.upload_id), StatusIs(ErrorCode::kNotFound));
}

// Crash between the intent and the rename: the write is dropped. Crash between the rename and
// the metadata commit: the write is finished. A leftover temp file is removed.
TEST_F(LakeTest, RecoveryFinishesOrDropsInterruptedWrites) {
  ASSERT_OK(lake_->CreateBucket("b", "us-east-1"));
  Put("b", "k", "old");
  ObjectMeta meta{.size = 3, .etag = "\"new\"", .path = "k"};

  // (1) intent committed, rename not done: staged file still there.
  std::string staged = lake_->staging_dir() + "/put-crash1";
  std::ofstream(staged) << "new";
  kv::Batch batch = db_.get().NewBatch();
  batch.Put(kv::Cf::kObjects, records::IntentKey("put-crash1"),
            records::EncodeIntent({.bucket = "b", .key = "k", .meta = meta}));
  // (2) intent committed, rename done: the object file has the new bytes.
  meta.path = "k2";
  std::ofstream(root_ + "/b/k2") << "new";
  batch.Put(kv::Cf::kObjects, records::IntentKey("put-crash2"),
            records::EncodeIntent({.bucket = "b", .key = "k2", .meta = meta}));
  ASSERT_OK(db_.get().Commit(batch));
  std::ofstream(lake_->staging_dir() + "/spool-abcdef") << "partial body";

  Reopen();
  EXPECT_EQ(Read("b", "k"), "old");
  EXPECT_EQ(Read("b", "k2"), "new");
  ASSERT_OK_AND_ASSIGN(ObjectMeta k2, lake_->HeadObject("b", "k2"));
  EXPECT_EQ(k2.etag, "\"new\"");
  EXPECT_EQ(StagingCount(), 0u);
}

// Crash between the metadata commit (with its roll-forward intent) and the rename: recovery
// renames the staged file into place. An intent whose rename happened, or whose staged file
// is not the one it names, changes nothing.
TEST_F(LakeTest, RecoveryRollsInterruptedWritesForward) {
  ASSERT_OK(lake_->CreateBucket("b", "us-east-1"));
  Put("b", "k", "old");
  Put("b", "k2", "old2");
  ObjectMeta meta{.size = 4, .last_modified_ms = 7, .etag = "\"new\"", .path = "k"};

  // (1) metadata + intent committed, rename not done.
  std::string staged = lake_->staging_dir() + "/put-crash3";
  std::ofstream(staged) << "new!";
  struct stat st;
  ASSERT_EQ(::stat(staged.c_str(), &st), 0);
  kv::Batch batch = db_.get().NewBatch();
  batch.Put(kv::Cf::kObjects, records::ObjectKey("b", "k"), records::EncodeMeta(meta));
  batch.Put(kv::Cf::kObjects, records::RollForwardKey("put-crash3"),
            records::EncodeRollForward({.bucket = "b", .key = "k", .meta = meta},
                                       static_cast<uint64_t>(st.st_ino)));
  // (2) an intent whose staged file is gone (renamed long ago).
  batch.Put(kv::Cf::kObjects, records::RollForwardKey("put-done"),
            records::EncodeRollForward({.bucket = "b", .key = "k2", .meta = meta}, 1));
  // (3) a staged file of the same name but another inode: never renamed into k2.
  std::ofstream(lake_->staging_dir() + "/put-other") << "xxxx";
  ObjectMeta meta2 = meta;
  meta2.path = "k2";
  batch.Put(kv::Cf::kObjects, records::RollForwardKey("put-other"),
            records::EncodeRollForward({.bucket = "b", .key = "k2", .meta = meta2}, 1));
  ASSERT_OK(db_.get().Commit(batch));

  Reopen();
  EXPECT_EQ(Read("b", "k"), "new!");
  EXPECT_EQ(Read("b", "k2"), "old2");
  EXPECT_EQ(StagingCount(), 0u);
  auto it = db_.get().NewIterator(kv::Cf::kObjects, "j/", "j0");
  it->Seek("j/");
  EXPECT_FALSE(it->Valid());

  // Writes after reopening leave their intents to the next commit, and all is well.
  Put("b", "k3", "three");
  Put("b", "k3", "four");
  EXPECT_EQ(Read("b", "k3"), "four");
}

TEST_F(LakeTest, RecoveryFinishesInterruptedDeletes) {
  ASSERT_OK(lake_->CreateBucket("b", "us-east-1"));
  Put("b", "dir/k", "bytes");
  kv::Batch batch = db_.get().NewBatch();
  batch.Delete(kv::Cf::kObjects, records::ObjectKey("b", "dir/k"));
  batch.Put(kv::Cf::kObjects, records::TombstoneKey("b", "dir/k"), "");
  ASSERT_OK(db_.get().Commit(batch));
  Reopen();
  EXPECT_FALSE(fs::exists(root_ + "/b/dir/k"));
  EXPECT_FALSE(fs::exists(root_ + "/b/dir"));
}

TEST_F(LakeTest, CopyLinksWithoutCopyingBytes) {
  ASSERT_OK(lake_->CreateBucket("b", "us-east-1"));
  Put("b", "src", "payload");
  ASSERT_OK_AND_ASSIGN(OpenObject source, lake_->Open("b", "src"));
  ASSERT_OK(lake_->CopyObject(source, "b", "dst", source.meta).status());
  ASSERT_OK(lake_->CopyObject(source, "b", "src", source.meta).status());  // onto itself
  EXPECT_EQ(Read("b", "dst"), "payload");
  EXPECT_EQ(Read("b", "src"), "payload");
  EXPECT_EQ(StagingCount(), 0u);
}

TEST_F(LakeTest, PutObjectsCommitsObjectsWithTheCallersWrites) {
  ASSERT_OK(lake_->CreateBucket("b", "us-east-1"));
  std::vector<NewObject> objects;
  for (std::string key : {"d/one", "d/two"}) {
    auto file = lake_->NewStagedFile();
    ASSERT_TRUE(file.ok());
    ASSERT_OK(file->Append("body of " + key));
    objects.push_back(NewObject{.bucket = "b", .key = key, .file = std::move(file).value()});
  }
  kv::Batch batch = db_.get().NewBatch();
  batch.Put(kv::Cf::kMeta, "checkpoint", "7");
  ASSERT_OK_AND_ASSIGN(std::vector<ObjectMeta> stored,
                       lake_->PutObjects(std::move(objects), batch));
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(Read("b", "d/one"), "body of d/one");
  EXPECT_EQ(Read("b", "d/two"), "body of d/two");
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> checkpoint,
                       db_.get().Get(kv::Cf::kMeta, "checkpoint"));
  EXPECT_EQ(checkpoint, "7");

  // A missing bucket writes nothing, not even the caller's writes.
  std::vector<NewObject> more;
  auto file = lake_->NewStagedFile();
  ASSERT_TRUE(file.ok());
  more.push_back(NewObject{.bucket = "missing", .key = "k", .file = std::move(file).value()});
  kv::Batch second = db_.get().NewBatch();
  second.Put(kv::Cf::kMeta, "checkpoint", "9");
  EXPECT_THAT(lake_->PutObjects(std::move(more), second), StatusIs(ErrorCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(checkpoint, db_.get().Get(kv::Cf::kMeta, "checkpoint"));
  EXPECT_EQ(checkpoint, "7");
}

}  // namespace
}  // namespace salespipe::lake
