#include "kv/db.h"

#include "common/test_util.h"
#include "kv/test_db.h"

namespace salespipe::kv {
namespace {

TEST(DbTest, BatchIsAtomicAndSurvivesReopen) {
  TestDb db;
  Batch batch = db.get().NewBatch();
  batch.Put(Cf::kItems, "a", "1");
  batch.Put(Cf::kIndex, "b", "2");
  ASSERT_OK(db.get().Commit(batch));
  db.Reopen();
  ASSERT_OK_AND_ASSIGN(auto a, db.get().Get(Cf::kItems, "a"));
  ASSERT_OK_AND_ASSIGN(auto b, db.get().Get(Cf::kIndex, "b"));
  ASSERT_OK_AND_ASSIGN(auto missing, db.get().Get(Cf::kItems, "b"));
  EXPECT_EQ(a, "1");
  EXPECT_EQ(b, "2");
  EXPECT_FALSE(missing.has_value());
}

TEST(DbTest, IteratorHonoursBounds) {
  TestDb db;
  Batch batch = db.get().NewBatch();
  for (const char* k : {"a1", "a2", "b1", "b2", "c"}) batch.Put(Cf::kItems, k, k);
  ASSERT_OK(db.get().Commit(batch));
  auto it = db.get().NewIterator(Cf::kItems, "b", PrefixSuccessor("b"));
  std::vector<std::string> keys;
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.emplace_back(it->key());
  EXPECT_EQ(keys, (std::vector<std::string>{"b1", "b2"}));
}

TEST(DbTest, Uint64EncodingOrdersNumerically) {
  std::string a, b;
  AppendUint64(&a, 255);
  AppendUint64(&b, 256);
  EXPECT_LT(a, b);
  std::string_view view = b;
  uint64_t v = 0;
  ASSERT_TRUE(ConsumeUint64(&view, &v));
  EXPECT_EQ(v, 256u);
  EXPECT_TRUE(view.empty());
}

TEST(DbTest, PrefixSuccessorSkipsFf) {
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
}

}  // namespace
}  // namespace salespipe::kv
