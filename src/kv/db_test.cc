#include "kv/db.h"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

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

// With log_sequence_prefix_bytes, the log's table files never span two sequences, so new
// records (each sequence's greatest keys) do not overlap the older files of the others.
TEST(DbTest, LogFilesAreCutWhereTheSequenceChanges) {
  for (size_t prefix : {size_t{0}, size_t{2}}) {
    SCOPED_TRACE(prefix);
    TestDb db(Db::Options{.log_sequence_prefix_bytes = prefix});
    for (int round = 0; round < 3; ++round) {  // three flushes, each touching every sequence
      Batch batch = db.get().NewBatch();
      for (const char* sequence : {"s1", "s2", "s3"}) {
        for (int i = 0; i < 100; ++i) {
          char seq[16];
          std::snprintf(seq, sizeof(seq), "%06d", round * 100 + i);
          batch.Put(Cf::kLog, std::string(sequence) + seq, std::string(100, 'v'));
        }
      }
      ASSERT_OK(db.get().Commit(batch));
      ASSERT_OK(db.get().Flush());
    }
    ASSERT_OK(db.get().CompactAll(Cf::kLog));
    auto ranges = db.get().FileKeyRanges(Cf::kLog);
    int spanning = 0;
    for (const auto& [smallest, largest] : ranges) {
      if (smallest.substr(0, 2) != largest.substr(0, 2)) ++spanning;
    }
    if (prefix == 0) {
      EXPECT_EQ(spanning, 1);  // the default: one file holds all three
    } else {
      EXPECT_EQ(spanning, 0);
      EXPECT_EQ(ranges.size(), 3u);
    }
  }
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

TEST(DbTest, CommitAsyncAloneCommitsBeforeItReturns) {
  TestDb db;
  Batch batch = db.get().NewBatch();
  batch.Put(Cf::kItems, "a", "1");
  std::vector<std::string> events;
  batch.OnCommit([&](bool committed) { events.push_back(committed ? "hook" : "abandoned"); });
  db.get().CommitAsync(std::move(batch), [&](Status status) {
    events.push_back(status.ok() ? "done" : status.message());
  });
  // No other writer: this thread was the leader and finished its own batch.
  EXPECT_EQ(events, (std::vector<std::string>{"hook", "done"}));
  db.Reopen();
  ASSERT_OK_AND_ASSIGN(auto a, db.get().Get(Cf::kItems, "a"));
  EXPECT_EQ(a, "1");
}

// Batches queued while a leader writes are written as one group: here they are queued from
// the leader's own `done`, so the second round deterministically holds all of them. Each
// keeps its writes (puts, deletes, a range delete, another column family), and they are
// committed in queue order (a large batch is written on its own, between the others).
TEST(DbTest, CommitAsyncGroupsQueuedBatchesAndKeepsTheirWrites) {
  TestDb db;
  Batch setup = db.get().NewBatch();
  for (const char* k : {"d1", "d2", "r1", "r2", "r3", "s"}) setup.Put(Cf::kItems, k, "old");
  ASSERT_OK(db.get().Commit(setup));

  std::vector<std::string> order;
  std::thread::id leader = std::this_thread::get_id();
  bool all_on_leader = true;
  auto note = [&](std::string name) {
    return [&, name](Status status) {
      order.push_back(name + (status.ok() ? "" : "!"));
      if (std::this_thread::get_id() != leader) all_on_leader = false;
    };
  };
  Batch first = db.get().NewBatch();
  first.Put(Cf::kItems, "first", "1");
  db.get().CommitAsync(std::move(first), [&](Status status) {
    order.push_back(status.ok() ? "first" : "first!");
    Batch put = db.get().NewBatch();
    put.Put(Cf::kItems, "p", "new");
    put.Put(Cf::kIndex, "p", "index");
    put.Put(Cf::kItems, "s", "overwritten-later");
    Batch deletes = db.get().NewBatch();
    deletes.Delete(Cf::kItems, "d1");
    deletes.DeleteRange(Cf::kItems, "r", "r3");
    Batch last = db.get().NewBatch();
    last.Put(Cf::kItems, "s", "last");
    std::string big(100u << 10, 'x');  // above the merge limit: written on its own
    Batch large = db.get().NewBatch();
    large.Put(Cf::kObjects, "big", big);
    db.get().CommitAsync(std::move(put), note("put"));
    db.get().CommitAsync(std::move(deletes), note("deletes"));
    db.get().CommitAsync(std::move(large), note("large"));
    db.get().CommitAsync(std::move(last), note("last"));
    // The leader is busy in this callback: nothing of the above has been written yet.
    EXPECT_EQ(order.size(), 1u);
  });
  EXPECT_EQ(order, (std::vector<std::string>{"first", "put", "deletes", "large", "last"}));
  EXPECT_TRUE(all_on_leader);

  db.Reopen();
  auto get = [&](Cf cf, const char* key) {
    auto value = db.get().Get(cf, key);
    EXPECT_OK(value.status());
    return value.ok() && value->has_value() ? **value : std::string("<none>");
  };
  EXPECT_EQ(get(Cf::kItems, "first"), "1");
  EXPECT_EQ(get(Cf::kItems, "p"), "new");
  EXPECT_EQ(get(Cf::kIndex, "p"), "index");
  EXPECT_EQ(get(Cf::kItems, "d1"), "<none>");
  EXPECT_EQ(get(Cf::kItems, "d2"), "old");
  EXPECT_EQ(get(Cf::kItems, "r1"), "<none>");
  EXPECT_EQ(get(Cf::kItems, "r2"), "<none>");
  EXPECT_EQ(get(Cf::kItems, "r3"), "old");
  EXPECT_EQ(get(Cf::kItems, "s"), "last");
  EXPECT_EQ(get(Cf::kObjects, "big").size(), 100u << 10);
}

// A leader that has led for longer than its budget hands what is queued to the committer
// thread and returns to its own work; the committer finishes it.
TEST(DbTest, CommitAsyncLeaderHandsALongBacklogToTheCommitter) {
  TestDb db;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<std::thread::id> second_on;
  Batch first = db.get().NewBatch();
  first.Put(Cf::kItems, "first", "1");
  db.get().CommitAsync(std::move(first), [&](Status status) {
    EXPECT_OK(status);
    Batch second = db.get().NewBatch();
    second.Put(Cf::kItems, "second", "2");
    db.get().CommitAsync(std::move(second), [&](Status status) {
      EXPECT_OK(status);
      std::lock_guard lock(mu);
      second_on = std::this_thread::get_id();
      cv.notify_all();
    });
    // Outlast the leader's budget while the second batch waits in the queue.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return second_on.has_value(); });
  EXPECT_NE(*second_on, std::this_thread::get_id());
  lock.unlock();
  db.Reopen();
  ASSERT_OK_AND_ASSIGN(auto second, db.get().Get(Cf::kItems, "second"));
  EXPECT_EQ(second, "2");
}

// Many threads committing at once: every batch is written, every `done` runs exactly once
// (on whichever thread led its group, or the committer thread a leader handed over to), and
// all of it survives a reopen.
TEST(DbTest, CommitAsyncFromManyThreadsFinishesEveryBatchOnce) {
  TestDb db;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<std::atomic<int>> done(kThreads * kPerThread);
  std::atomic<int> hooks{0};
  std::mutex mu;
  std::condition_variable all_done;
  int finished = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        int n = t * kPerThread + i;
        Batch batch = db.get().NewBatch();
        batch.Put(Cf::kItems, "k" + std::to_string(n), std::to_string(n));
        batch.OnCommit([&](bool committed) { hooks.fetch_add(committed ? 1 : 1000000); });
        db.get().CommitAsync(std::move(batch), [&, n](Status status) {
          done[n].fetch_add(status.ok() ? 1 : 100);
          std::lock_guard lock(mu);
          if (++finished == kThreads * kPerThread) all_done.notify_all();
        });
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  {
    std::unique_lock lock(mu);
    all_done.wait(lock, [&] { return finished == kThreads * kPerThread; });
  }
  for (int n = 0; n < kThreads * kPerThread; ++n) ASSERT_EQ(done[n].load(), 1) << n;
  EXPECT_EQ(hooks.load(), kThreads * kPerThread);
  db.Reopen();
  for (int n = 0; n < kThreads * kPerThread; n += 97) {
    ASSERT_OK_AND_ASSIGN(auto value, db.get().Get(Cf::kItems, "k" + std::to_string(n)));
    EXPECT_EQ(value, std::to_string(n));
  }
}

}  // namespace
}  // namespace salespipe::kv
