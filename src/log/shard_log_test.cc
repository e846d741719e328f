#include "log/shard_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "common/test_util.h"
#include "kv/test_db.h"
#include "log/iterator_fuzz_entry.h"

namespace salespipe::log {
namespace {

using ::salespipe::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr int64_t kSomeMonday = 1'714'348'800'000;  // 2024-04-29T00:00:00Z

class ShardLogTest : public ::testing::Test {
 protected:
  ShardLogTest() : clock_(kSomeMonday) { Reopen(); }

  void Reopen() {
    log_.reset();
    db_.Reopen();
    log_ = std::make_unique<ShardLog>(db_.get(), clock_);
    ASSERT_OK(log_->Open());
  }

  ShardId MakeStream(const std::string& name, int shards = 1) {
    auto stream = log_->CreateStream({.name = name, .shards = UniformHashKeyRanges(shards)});
    EXPECT_OK(stream.status());
    return {stream->id, 0};
  }

  SequenceNumber Put(ShardId shard, std::string data) {
    auto seq = log_->AppendAndCommit(shard, {.partition_key = "pk", .data = data});
    EXPECT_OK(seq.status());
    return *seq;
  }

  std::vector<std::string> ReadAll(ShardId shard, SequenceNumber from, int limit = 10000) {
    std::vector<std::string> out;
    auto result = log_->Read(shard, from, {.max_records = limit});
    EXPECT_OK(result.status());
    for (auto& r : result->records) out.push_back(r.data);
    return out;
  }

  FakeClock clock_;
  kv::TestDb db_;
  std::unique_ptr<ShardLog> log_;
};

TEST(HashKeyTest, UniformRangesSplitAsKinesisDoes) {
  auto two = UniformHashKeyRanges(2);
  ASSERT_THAT(two, SizeIs(2));
  EXPECT_EQ(HashKeyToString(two[1].starting), "170141183460469231731687303715884105728");
  EXPECT_EQ(HashKeyToString(two[1].ending), "340282366920938463463374607431768211455");
  EXPECT_EQ(two[0].ending + 1, two[1].starting);
  auto three = UniformHashKeyRanges(3);
  EXPECT_EQ(HashKeyToString(three[1].starting), "113427455640312821154458202477256070485");
  EXPECT_EQ(three[2].ending, kMaxHashKey);
  EXPECT_THAT(UniformHashKeyRanges(1), ElementsAre(HashKeyRange{}));
}

TEST(HashKeyTest, ParseAndFormat) {
  EXPECT_EQ(ParseHashKey("340282366920938463463374607431768211455"), kMaxHashKey);
  EXPECT_EQ(ParseHashKey("340282366920938463463374607431768211456"), std::nullopt);
  EXPECT_EQ(ParseHashKey("-1"), std::nullopt);
  EXPECT_EQ(ParseHashKey(""), std::nullopt);
  EXPECT_EQ(ParseHashKey("0"), HashKey{0});
  EXPECT_EQ(HashKeyToString(*ParseHashKey("12345678901234567890123")), "12345678901234567890123");
  // MD5("a") = 0cc175b9c0f1b6a831c399e269772661
  EXPECT_EQ(HashKeyToString(HashOfPartitionKey("a")), "16955237001963240173058271559858726497");
}

TEST(IteratorTokenTest, RoundTripExpiryAndGarbage) {
  IteratorState state{.shard = {StreamId{7}, 3}, .next = {12345}, .created_millis = 1000};
  std::string token = EncodeIterator(state);
  ASSERT_OK_AND_ASSIGN(IteratorState back, DecodeIterator(token, 2000, std::chrono::minutes(5)));
  EXPECT_EQ(back.shard, state.shard);
  EXPECT_EQ(back.next, state.next);
  EXPECT_THAT(DecodeIterator(token, 1000 + 300001, std::chrono::minutes(5)),
              StatusIs(ErrorCode::kFailedPrecondition));
  EXPECT_THAT(DecodeIterator("garbage", 2000, std::chrono::minutes(5)),
              StatusIs(ErrorCode::kInvalidArgument));
  for (size_t i = 0; i < token.size(); ++i) {
    std::string bad = token;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_THAT(DecodeIterator(bad, 2000, std::chrono::minutes(5)),
                StatusIs(ErrorCode::kInvalidArgument))
        << i;
  }
  std::string seed = "any bytes at all";
  EXPECT_EQ(FuzzIterator(reinterpret_cast<const uint8_t*>(seed.data()), seed.size()), 0);
  EXPECT_EQ(FuzzIterator(reinterpret_cast<const uint8_t*>(token.data()), token.size()), 0);
}

TEST_F(ShardLogTest, AtIncludesAfterExcludes) {
  ShardId shard = MakeStream("s");
  SequenceNumber a = Put(shard, "a");
  SequenceNumber b = Put(shard, "b");
  Put(shard, "c");
  EXPECT_LT(a, b);
  ASSERT_OK_AND_ASSIGN(
      SequenceNumber at,
      log_->Resolve(shard, {.type = StartPosition::Type::kAtSequence, .sequence = b}));
  EXPECT_THAT(ReadAll(shard, at), ElementsAre("b", "c"));
  ASSERT_OK_AND_ASSIGN(
      SequenceNumber after,
      log_->Resolve(shard, {.type = StartPosition::Type::kAfterSequence, .sequence = b}));
  EXPECT_THAT(ReadAll(shard, after), ElementsAre("c"));
  ASSERT_OK_AND_ASSIGN(SequenceNumber horizon,
                       log_->Resolve(shard, {.type = StartPosition::Type::kTrimHorizon}));
  EXPECT_THAT(ReadAll(shard, horizon), ElementsAre("a", "b", "c"));
  // The shard's starting sequence number is valid for AT/AFTER though no record has it.
  ASSERT_OK_AND_ASSIGN(ShardInfo info, log_->GetShard(shard));
  ASSERT_OK_AND_ASSIGN(SequenceNumber at_start,
                       log_->Resolve(shard, {.type = StartPosition::Type::kAfterSequence,
                                             .sequence = info.starting_sequence}));
  EXPECT_THAT(ReadAll(shard, at_start), ElementsAre("a", "b", "c"));
  // Numbers never issued, or below the shard's start, are invalid.
  EXPECT_THAT(log_->Resolve(shard, {.type = StartPosition::Type::kAtSequence,
                                    .sequence = {b.value + 1000000000}}),
              StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(log_->Resolve(shard, {.type = StartPosition::Type::kAtSequence, .sequence = {1}}),
              StatusIs(ErrorCode::kInvalidArgument));
}

TEST_F(ShardLogTest, LatestSeesOnlyLaterWrites) {
  ShardId shard = MakeStream("s");
  Put(shard, "before");
  ASSERT_OK_AND_ASSIGN(std::string it,
                       log_->NewIterator(shard, {.type = StartPosition::Type::kLatest}));
  ASSERT_OK_AND_ASSIGN(auto empty, log_->ReadIterator(it, std::chrono::minutes(5), {}));
  EXPECT_THAT(empty.result.records, IsEmpty());
  ASSERT_TRUE(empty.next_iterator.has_value());
  Put(shard, "after");
  ASSERT_OK_AND_ASSIGN(auto got,
                       log_->ReadIterator(*empty.next_iterator, std::chrono::minutes(5), {}));
  ASSERT_THAT(got.result.records, SizeIs(1));
  EXPECT_EQ(got.result.records[0].data, "after");
  EXPECT_EQ(got.result.records[0].partition_key, "pk");
  // The original LATEST iterator also sees it (it was resolved at creation).
  ASSERT_OK_AND_ASSIGN(auto again, log_->ReadIterator(it, std::chrono::minutes(5), {}));
  ASSERT_THAT(again.result.records, SizeIs(1));
}

TEST_F(ShardLogTest, AtTimestamp) {
  ShardId shard = MakeStream("s");
  Put(shard, "old");
  clock_.Advance(std::chrono::seconds(10));
  int64_t t = clock_.NowMillis();
  Put(shard, "new");
  ASSERT_OK_AND_ASSIGN(
      SequenceNumber from,
      log_->Resolve(shard, {.type = StartPosition::Type::kAtTimestamp, .timestamp_millis = t}));
  EXPECT_THAT(ReadAll(shard, from), ElementsAre("new"));
  ASSERT_OK_AND_ASSIGN(
      SequenceNumber early,
      log_->Resolve(shard, {.type = StartPosition::Type::kAtTimestamp, .timestamp_millis = 5}));
  EXPECT_THAT(ReadAll(shard, early), ElementsAre("old", "new"));
}

TEST_F(ShardLogTest, ChainedReadsNeverRepeatOrSkip) {
  ShardId shard = MakeStream("s");
  std::mt19937 rng(42);
  std::vector<std::string> expected;
  std::vector<std::string> seen;
  ASSERT_OK_AND_ASSIGN(std::string it,
                       log_->NewIterator(shard, {.type = StartPosition::Type::kTrimHorizon}));
  for (int round = 0; round < 200; ++round) {
    int writes = static_cast<int>(rng() % 7);
    kv::Batch batch = db_.get().NewBatch();
    for (int i = 0; i < writes; ++i) {
      expected.push_back(std::to_string(expected.size()));
      ASSERT_OK(log_->Append(batch, shard, {.data = expected.back()}).status());
    }
    ASSERT_OK(db_.get().Commit(batch));
    if (rng() % 3 == 0) clock_.Advance(std::chrono::milliseconds(rng() % 5));
    int limit = 1 + static_cast<int>(rng() % 5);
    int64_t max_bytes = 1 + static_cast<int64_t>(rng() % 8);
    ASSERT_OK_AND_ASSIGN(auto page,
                         log_->ReadIterator(it, std::chrono::minutes(5),
                                            {.max_records = limit, .max_bytes = max_bytes}));
    for (auto& r : page.result.records) seen.push_back(r.data);
    ASSERT_TRUE(page.next_iterator.has_value());
    it = *page.next_iterator;
  }
  while (true) {
    ASSERT_OK_AND_ASSIGN(auto page, log_->ReadIterator(it, std::chrono::minutes(5), {}));
    if (page.result.records.empty()) break;
    for (auto& r : page.result.records) seen.push_back(r.data);
    it = *page.next_iterator;
  }
  EXPECT_EQ(seen, expected);
}

TEST_F(ShardLogTest, UncommittedBatchHidesLaterRecordsAndDroppedBatchAbandons) {
  ShardId shard = MakeStream("s");
  ASSERT_OK_AND_ASSIGN(SequenceNumber from,
                       log_->Resolve(shard, {.type = StartPosition::Type::kTrimHorizon}));
  {
    kv::Batch held = db_.get().NewBatch();
    ASSERT_OK(log_->Append(held, shard, {.data = "held"}).status());
    Put(shard, "later");  // committed, but behind an uncommitted lower number
    EXPECT_THAT(ReadAll(shard, from), IsEmpty());
    ASSERT_OK(db_.get().Commit(held));
  }
  EXPECT_THAT(ReadAll(shard, from), ElementsAre("held", "later"));
  {
    kv::Batch dropped = db_.get().NewBatch();
    ASSERT_OK(log_->Append(dropped, shard, {.data = "dropped"}).status());
    Put(shard, "last");
    EXPECT_THAT(ReadAll(shard, from), ElementsAre("held", "later"));
  }  // dropped without commit: its number is abandoned
  EXPECT_THAT(ReadAll(shard, from), ElementsAre("held", "later", "last"));
}

TEST_F(ShardLogTest, AppendAllTakesConsecutiveNumbersAndIsHeldBackAsOne) {
  ShardId shard = MakeStream("s");
  ASSERT_OK_AND_ASSIGN(SequenceNumber from,
                       log_->Resolve(shard, {.type = StartPosition::Type::kTrimHorizon}));
  const std::vector<RecordInput> run = {{.partition_key = "k1", .data = "a"},
                                        {.partition_key = "k2", .data = "b"},
                                        {.partition_key = "k3", .data = "c"}};
  {
    kv::Batch held = db_.get().NewBatch();
    ASSERT_OK_AND_ASSIGN(SequenceNumber first, log_->AppendAll(held, shard, run));
    Put(shard, "later");  // committed, but behind the whole uncommitted run
    EXPECT_THAT(ReadAll(shard, from), IsEmpty());
    ASSERT_OK(db_.get().Commit(held));
    ASSERT_OK_AND_ASSIGN(ReadResult read, log_->Read(shard, from, {}));
    ASSERT_EQ(read.records.size(), 4u);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(read.records[i].sequence.value, first.value + i);
      EXPECT_EQ(read.records[i].partition_key, run[i].partition_key);
      EXPECT_EQ(read.records[i].data, run[i].data);
    }
    EXPECT_GT(read.records[3].sequence.value, first.value + 2);
  }
  {
    kv::Batch dropped = db_.get().NewBatch();
    ASSERT_OK(log_->AppendAll(dropped, shard, run).status());
    Put(shard, "last");
  }  // dropped without commit: the whole run is abandoned, later records show
  EXPECT_THAT(ReadAll(shard, from), ElementsAre("a", "b", "c", "later", "last"));
  kv::Batch empty = db_.get().NewBatch();
  EXPECT_THAT(log_->AppendAll(empty, shard, {}), StatusIs(ErrorCode::kInvalidArgument));
}

TEST_F(ShardLogTest, LimitsAndMillisBehindLatest) {
  ShardId shard = MakeStream("s");
  Put(shard, "aaaa");
  clock_.Advance(std::chrono::seconds(3));
  Put(shard, "bbbb");
  Put(shard, "cccc");
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_OK_AND_ASSIGN(SequenceNumber from,
                       log_->Resolve(shard, {.type = StartPosition::Type::kTrimHorizon}));
  ASSERT_OK_AND_ASSIGN(auto one, log_->Read(shard, from, {.max_records = 1}));
  ASSERT_THAT(one.records, SizeIs(1));
  EXPECT_EQ(one.millis_behind_latest, 1000);
  ASSERT_OK_AND_ASSIGN(auto bytes, log_->Read(shard, from, {.max_bytes = 13}));
  EXPECT_THAT(bytes.records, SizeIs(2));  // 6 bytes each with the key
  ASSERT_OK_AND_ASSIGN(auto tiny, log_->Read(shard, from, {.max_bytes = 1}));
  EXPECT_THAT(tiny.records, SizeIs(1));  // at least one record
  ASSERT_OK_AND_ASSIGN(auto all, log_->Read(shard, from, {}));
  EXPECT_EQ(all.millis_behind_latest, 0);
}

TEST_F(ShardLogTest, ClosedShardsEndAndChildrenContinue) {
  ShardId parent = MakeStream("s");
  Put(parent, "p1");
  Put(parent, "p2");
  ASSERT_OK_AND_ASSIGN(auto children, log_->SplitShard(parent, HashKey{1} << 127));
  ASSERT_THAT(children, SizeIs(2));
  EXPECT_THAT(
      log_->Append(*std::make_unique<kv::Batch>(db_.get().NewBatch()), parent, {.data = "x"}),
      StatusIs(ErrorCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(ShardInfo closed, log_->GetShard(parent));
  ASSERT_TRUE(closed.ending_sequence.has_value());
  ASSERT_OK_AND_ASSIGN(ShardInfo left, log_->GetShard(children[0]));
  EXPECT_GT(left.starting_sequence, *closed.ending_sequence);
  EXPECT_EQ(left.parent, 0u);
  EXPECT_EQ(left.hash_range.ending, (HashKey{1} << 127) - 1);
  // Reading the closed shard: the final page, then no next position.
  ASSERT_OK_AND_ASSIGN(SequenceNumber from,
                       log_->Resolve(parent, {.type = StartPosition::Type::kTrimHorizon}));
  ASSERT_OK_AND_ASSIGN(auto first, log_->Read(parent, from, {.max_records = 1}));
  ASSERT_TRUE(first.next.has_value());
  ASSERT_OK_AND_ASSIGN(auto last, log_->Read(parent, *first.next, {}));
  EXPECT_THAT(last.records, SizeIs(1));
  EXPECT_FALSE(last.next.has_value());
  ASSERT_OK_AND_ASSIGN(SequenceNumber latest,
                       log_->Resolve(parent, {.type = StartPosition::Type::kLatest}));
  ASSERT_OK_AND_ASSIGN(auto at_end, log_->Read(parent, latest, {}));
  EXPECT_FALSE(at_end.next.has_value());
  // Merge the children back: lineage and ranges.
  SequenceNumber c = Put(children[1], "c");
  EXPECT_GT(c, *closed.ending_sequence);
  ASSERT_OK_AND_ASSIGN(ShardId merged, log_->MergeShards(children[0], children[1]));
  ASSERT_OK_AND_ASSIGN(ShardInfo m, log_->GetShard(merged));
  EXPECT_EQ(m.hash_range, HashKeyRange{});
  EXPECT_EQ(m.parent, children[0].index);
  EXPECT_EQ(m.adjacent_parent, children[1].index);
  EXPECT_THAT(log_->MergeShards(children[0], children[1]),
              StatusIs(ErrorCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(ShardId routed, log_->ShardForHashKey(parent.stream, 5));
  EXPECT_EQ(routed, merged);
  EXPECT_THAT(log_->SplitShard(merged, 0), StatusIs(ErrorCode::kInvalidArgument));
}

TEST_F(ShardLogTest, TrimmingWithFakeClock) {
  ShardId shard = MakeStream("s");
  SequenceNumber first = Put(shard, "order-1");
  ASSERT_OK_AND_ASSIGN(SequenceNumber horizon,
                       log_->Resolve(shard, {.type = StartPosition::Type::kTrimHorizon}));
  clock_.Advance(std::chrono::hours(23));
  Put(shard, "order-2");
  ASSERT_OK(log_->TrimOnce());
  EXPECT_THAT(ReadAll(shard, horizon), ElementsAre("order-1", "order-2"));
  clock_.Advance(std::chrono::hours(2));  // order-1 is now past the 24-hour retention
  ASSERT_OK(log_->TrimOnce());
  EXPECT_THAT(log_->Read(shard, first, {}), StatusIs(ErrorCode::kOutOfRange));
  EXPECT_THAT(log_->Resolve(shard, {.type = StartPosition::Type::kAtSequence, .sequence = first}),
              StatusIs(ErrorCode::kOutOfRange));
  ASSERT_OK_AND_ASSIGN(SequenceNumber new_horizon,
                       log_->Resolve(shard, {.type = StartPosition::Type::kTrimHorizon}));
  EXPECT_THAT(ReadAll(shard, new_horizon), ElementsAre("order-2"));
  // After a restart the trim mark survives and numbering continues above it.
  Reopen();
  EXPECT_THAT(log_->Read(shard, first, {}), StatusIs(ErrorCode::kOutOfRange));
  clock_.Advance(std::chrono::hours(48));
  ASSERT_OK(log_->TrimOnce());
  SequenceNumber next = Put(shard, "order-3");
  EXPECT_GT(next, first);
}

TEST_F(ShardLogTest, TrimBeforeDeletesConsumedRecords) {
  ShardId shard = MakeStream("firehose/x");
  SequenceNumber a = Put(shard, "a");
  SequenceNumber b = Put(shard, "b");
  SequenceNumber c = Put(shard, "c");
  ASSERT_OK(log_->TrimBefore(shard, a));  // nothing below the first record
  EXPECT_THAT(ReadAll(shard, a), ElementsAre("a", "b", "c"));
  ASSERT_OK(log_->TrimBefore(shard, c));  // a and b consumed
  EXPECT_THAT(log_->Read(shard, b, {}), StatusIs(ErrorCode::kOutOfRange));
  ASSERT_OK_AND_ASSIGN(SequenceNumber horizon,
                       log_->Resolve(shard, {.type = StartPosition::Type::kTrimHorizon}));
  EXPECT_EQ(horizon, SequenceNumber{b.value + 1});
  EXPECT_THAT(ReadAll(shard, c), ElementsAre("c"));
  Reopen();
  EXPECT_THAT(log_->Read(shard, a, {}), StatusIs(ErrorCode::kOutOfRange));
  EXPECT_THAT(ReadAll(shard, c), ElementsAre("c"));
  EXPECT_GT(Put(shard, "d"), c);
  EXPECT_THAT(log_->TrimBefore({shard.stream, 7}, c), StatusIs(ErrorCode::kNotFound));
  EXPECT_THAT(log_->TrimBefore({StreamId{999}, 0}, c), StatusIs(ErrorCode::kNotFound));
}

TEST_F(ShardLogTest, RestartRecovers) {
  ShardId shard = MakeStream("kinesis/orders", 2);
  ASSERT_OK(log_->SetAttributes(shard.stream, "{\"tags\":1}"));
  ASSERT_OK(log_->SetRetention(shard.stream, std::chrono::hours(48)));
  SequenceNumber a = Put(shard, "a");
  ASSERT_OK(log_->SplitShard({shard.stream, 1}, kMaxHashKey - 10).status());
  Reopen();
  ASSERT_OK_AND_ASSIGN(StreamInfo stream, log_->FindStream("kinesis/orders"));
  EXPECT_EQ(stream.id, shard.stream);
  EXPECT_EQ(stream.attributes, "{\"tags\":1}");
  EXPECT_EQ(stream.retention, std::chrono::hours(48));
  ASSERT_THAT(stream.shards, SizeIs(4));
  EXPECT_FALSE(stream.shards[1].open());
  EXPECT_EQ(stream.shards[3].parent, 1u);
  EXPECT_EQ(stream.open_shard_count(), 3);
  EXPECT_THAT(ReadAll(shard, a), ElementsAre("a"));
  SequenceNumber b = Put(shard, "b");
  EXPECT_GT(b, a);
  // Ids are never reused, even after deletion and restart.
  ASSERT_OK(log_->DeleteStream(shard.stream));
  EXPECT_THAT(log_->Read(shard, a, {}), StatusIs(ErrorCode::kNotFound));
  Reopen();
  EXPECT_THAT(log_->FindStream("kinesis/orders"), StatusIs(ErrorCode::kNotFound));
  ShardId again = MakeStream("kinesis/orders");
  EXPECT_GT(again.stream, shard.stream);
  EXPECT_THAT(ReadAll(again, {0}), IsEmpty());
  EXPECT_THAT(log_->ListStreams("kinesis/"), SizeIs(1));
  EXPECT_THAT(log_->ListStreams("ddb/"), IsEmpty());
  EXPECT_THAT(log_->CreateStream({.name = "kinesis/orders"}), StatusIs(ErrorCode::kAlreadyExists));
}

TEST_F(ShardLogTest, WaitForRecordsWakesOnCommit) {
  ShardId shard = MakeStream("s");
  ASSERT_OK_AND_ASSIGN(SequenceNumber from,
                       log_->Resolve(shard, {.type = StartPosition::Type::kLatest}));
  EXPECT_FALSE(log_->WaitForRecords(shard, from, std::chrono::milliseconds(5)));
  std::atomic<int> notified{0};
  uint64_t handle = log_->AddListener([&](ShardId id) {
    if (id == shard) ++notified;
  });
  auto start = std::chrono::steady_clock::now();
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Put(shard, "x");
  });
  EXPECT_TRUE(log_->WaitForRecords(shard, from, std::chrono::seconds(10)));
  auto waited = std::chrono::steady_clock::now() - start;
  writer.join();
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_EQ(notified.load(), 1);
  log_->RemoveListener(handle);
  Put(shard, "y");
  EXPECT_EQ(notified.load(), 1);
}

TEST(ShardLogConcurrencyTest, ConcurrentAppendersNeverProduceVisibleGaps) {
  SystemClock clock;
  kv::TestDb db;
  ShardLog log(db.get(), clock);
  ASSERT_OK(log.Open());
  ASSERT_OK_AND_ASSIGN(StreamInfo stream, log.CreateStream({.name = "s"}));
  ShardId shard{stream.id, 0};
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 300;
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 rng(w);
      for (int i = 0; i < kPerWriter;) {
        kv::Batch batch = db.get().NewBatch();
        int n = 1 + static_cast<int>(rng() % 3);
        for (int k = 0; k < n && i < kPerWriter; ++k, ++i) {
          log.Append(batch, shard, {.data = std::to_string(w) + ":" + std::to_string(i)})
              .status()
              .IgnoreError();
        }
        if (rng() % 4 == 0) std::this_thread::yield();
        if (rng() % 10 == 0) continue;  // dropped: abandoned numbers
        ASSERT_OK(db.get().Commit(batch));
      }
    });
  }
  // A tailing reader: whatever it sees must be exactly the final log, in order.
  std::vector<uint64_t> seen;
  ASSERT_OK_AND_ASSIGN(SequenceNumber from,
                       log.Resolve(shard, {.type = StartPosition::Type::kTrimHorizon}));
  SequenceNumber start = from;
  std::thread reader([&] {
    while (true) {
      bool finished = done.load();
      auto page = log.Read(shard, from, {.max_records = 7});
      ASSERT_OK(page.status());
      for (auto& r : page->records) seen.push_back(r.sequence.value);
      from = *page->next;
      if (finished && page->records.empty()) break;
      if (page->records.empty()) log.WaitForRecords(shard, from, std::chrono::milliseconds(2));
    }
  });
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  ASSERT_OK_AND_ASSIGN(auto all, log.Read(shard, start, {}));
  std::vector<uint64_t> expected;
  for (auto& r : all.records) expected.push_back(r.sequence.value);
  EXPECT_GT(expected.size(), 0u);
  EXPECT_EQ(seen, expected);
}

// A record stored with rendered_on_read comes back through the renderer, with its arrival
// time intact; the byte limit counts what readers get; other records are untouched.
TEST_F(ShardLogTest, RecordsRenderedOnReadComeBackRendered) {
  ShardId shard = MakeStream("rendered");
  Put(shard, "plain");
  kv::Batch batch = log_->NewBatch();
  ASSERT_OK(
      log_->Append(batch, shard, {.partition_key = "pk", .data = "abc", .rendered_on_read = true}));
  ASSERT_OK(log_->Append(batch, shard,
                         {.partition_key = "pk", .data = "defg", .rendered_on_read = true}));
  ASSERT_OK(log_->Commit(batch));

  // No renderer: refused, not served raw.
  EXPECT_THAT(log_->Read(shard, SequenceNumber{0}, {}), StatusIs(ErrorCode::kInternal));

  log_->SetRenderer([](std::string_view stored) -> Result<std::string> {
    if (stored == "bad") return Status::Internal("corrupt");
    return "<" + std::string(stored) + std::string(100, '.') + ">";
  });
  auto all = log_->Read(shard, SequenceNumber{0}, {});
  ASSERT_OK(all.status());
  ASSERT_THAT(all->records, SizeIs(3));
  EXPECT_EQ(all->records[0].data, "plain");
  EXPECT_EQ(all->records[1].data, "<abc" + std::string(100, '.') + ">");
  EXPECT_EQ(all->records[2].data, "<defg" + std::string(100, '.') + ">");
  EXPECT_EQ(all->records[1].arrival_millis, kSomeMonday);
  // 5 + 2 bytes stored for the first two; rendered they are 5 + 2 and 104 + 2: a 120-byte
  // limit takes the first two only.
  auto limited = log_->Read(shard, SequenceNumber{0}, {.max_bytes = 120});
  ASSERT_OK(limited.status());
  EXPECT_THAT(limited->records, SizeIs(2));

  // Renderer errors reach the reader.
  kv::Batch bad = log_->NewBatch();
  ASSERT_OK(log_->Append(bad, shard, {.data = "bad", .rendered_on_read = true}));
  ASSERT_OK(log_->Commit(bad));
  EXPECT_THAT(log_->Read(shard, SequenceNumber{0}, {}), StatusIs(ErrorCode::kInternal));
}

}  // namespace
}  // namespace salespipe::log
