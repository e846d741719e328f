#include "cdc/kinesis_connector.h"

#include <map>
#include <memory>
#include <set>

#include "cdc/change_capture.h"
#include "common/test_util.h"
#include "kv/test_db.h"
#include "table/catalog.h"
#include "table/item_codec.h"
#include "table/table_store.h"

namespace salespipe::cdc {
namespace {

using ::salespipe::testing::StatusIs;
using table::AttributeValue;
using table::Item;

constexpr std::string_view kArn = "arn:aws:kinesis:us-east-1:000000000000:stream/out";

std::string ScalarOf(const std::vector<table::EncodedEntry>& image, std::string_view name) {
  for (const table::EncodedEntry& entry : image) {
    std::string_view value = entry.value;
    if (entry.name == name) return table::DecodeValue(&value).value().scalar();
  }
  return "";
}

// Records "<id>:<version or REMOVE>" so tests can check content and order without JSON.
class FakeFormatter final : public RecordFormatter {
 public:
  std::string StreamRecord(const Change& change, std::string_view view_type,
                           std::string_view sequence_number,
                           std::string_view event_id) const override {
    return "{\"seq\":\"" + std::string(sequence_number) + "\",\"view\":\"" +
           std::string(view_type) + "\",\"ttl\":" +
           (change.origin == table::ChangeOrigin::kTtl ? "true" : "false") + "}";
  }
  std::string DestinationRecord(const Change& change, bool microseconds,
                                std::string_view event_id) const override {
    const auto& image = change.new_image ? *change.new_image : *change.old_image;
    return ScalarOf(image, "id") + ":" +
           (change.new_image ? ScalarOf(*change.new_image, "v") : "REMOVE") + "@" +
           std::to_string(microseconds ? change.micros : change.micros / 1000);
  }
};

// Everything a server builds on one database, rebuilt after a simulated crash.
struct World {
  explicit World(kv::Db& db, const Clock& clock)
      : log(db, clock), catalog(db), capture(log, clock, formatter),
        store(db, catalog, clock, &capture), connector(db, log, catalog, capture) {
    EXPECT_OK(log.Open());
    EXPECT_OK(catalog.Load());
  }
  log::ShardLog log;
  table::Catalog catalog;
  FakeFormatter formatter;
  ChangeCapture capture;
  table::TableStore store;
  KinesisConnector connector;
};

table::TableDef OrdersDef() {
  table::TableDef def;
  def.account_id = "000000000000";
  def.region = "us-east-1";
  def.name = "orders";
  def.table_id = 42;
  def.keys.hash = {.name = "id", .type = table::AttributeType::kString};
  def.attribute_definitions["id"] = table::AttributeType::kString;
  def.kinesis_destinations.push_back({.stream_arn = std::string(kArn)});
  return def;
}

Item ItemOf(int id, int version) {
  return {{"id", AttributeValue::String("item-" + std::to_string(id))},
          {"v", AttributeValue::Number(std::to_string(version))}};
}

// Every record of the Kinesis stream, by shard, in order.
std::vector<log::Record> ReadAll(log::ShardLog& log) {
  std::vector<log::Record> out;
  auto stream = log.FindStream("kinesis/000000000000/us-east-1/out");
  EXPECT_TRUE(stream.ok());
  for (const auto& shard : stream->shards) {
    auto read = log.Read(shard.id, shard.starting_sequence, {.max_records = 100000});
    EXPECT_TRUE(read.ok());
    for (auto& r : read->records) out.push_back(std::move(r));
  }
  return out;
}

// What EnableKinesisStreamingDestination does for the table's (already active) destination.
void StartDestination(World& w, table::TableHandle& handle) {
  std::unique_lock lock(handle.op_mu());
  table::TableDef def = *handle.def();
  ASSERT_OK(w.connector.StartDestination(def, kArn));
  ASSERT_OK(w.catalog.Save(handle, std::move(def)));
}

TEST(KinesisConnectorTest, KinesisLogNames) {
  EXPECT_EQ(KinesisLogNameForArn(kArn), "kinesis/000000000000/us-east-1/out");
  EXPECT_FALSE(KinesisLogNameForArn("arn:aws:kinesis:us-east-1:000000000000:table/x"));
  EXPECT_FALSE(KinesisLogNameForArn("arn:aws:kinesis:us-east-1:000000000000:stream/"));
  EXPECT_FALSE(KinesisLogNameForArn("nonsense"));
}

TEST(KinesisConnectorTest, ExactlyOnceInItemOrderAcrossACrash) {
  FakeClock clock(1714566896789);
  kv::TestDb db;
  std::map<std::string, std::vector<std::string>> expected;  // item -> its changes in order
  {
    World w(db.get(), clock);
    ASSERT_OK(w.log.CreateStream({.name = "kinesis/000000000000/us-east-1/out",
                                  .shards = log::UniformHashKeyRanges(3)})
                  .status());
    ASSERT_OK_AND_ASSIGN(auto handle, w.catalog.Create(OrdersDef()));
    // A change before the destination starts is not published (no backfill).
    ASSERT_OK(w.store.Put(*handle, ItemOf(999, 0), nullptr).status());
    StartDestination(w, *handle);
    for (int i = 0; i < 300; ++i) {
      ASSERT_OK(w.store.Put(*handle, ItemOf(i, 1), nullptr).status());
      expected["item-" + std::to_string(i)].push_back("item-" + std::to_string(i) + ":1");
    }
    for (int i = 0; i < 300; i += 3) {
      ASSERT_OK(w.store.Put(*handle, ItemOf(i, 2), nullptr).status());
      expected["item-" + std::to_string(i)].push_back("item-" + std::to_string(i) + ":2");
    }
    // A write that changes nothing produces nothing.
    ASSERT_OK(w.store.Put(*handle, ItemOf(1, 1), nullptr).status());
    for (int i = 0; i < 300; i += 5) {
      Item key = {{"id", AttributeValue::String("item-" + std::to_string(i))}};
      ASSERT_OK(w.store.Delete(*handle, key, nullptr).status());
      expected["item-" + std::to_string(i)].push_back("item-" + std::to_string(i) + ":REMOVE");
    }
    // Deliver part of it, then "crash": nothing is flushed or stopped cleanly.
    ASSERT_OK_AND_ASSIGN(int64_t first, w.connector.DeliverStep(*handle->def(),
                                                                 handle->def()->kinesis_destinations[0], 150));
    EXPECT_EQ(first, 150);
  }
  db.Reopen();
  World w(db.get(), clock);
  ASSERT_OK_AND_ASSIGN(int64_t rest, w.connector.RunOnce());
  EXPECT_EQ(rest, 300 + 100 + 60 - 150);
  ASSERT_OK_AND_ASSIGN(int64_t again, w.connector.RunOnce());
  EXPECT_EQ(again, 0);

  std::map<std::string, std::vector<std::string>> got;
  for (const auto& record : ReadAll(w.log)) {
    std::string body = record.data.substr(0, record.data.find('@'));
    std::string item = body.substr(0, body.find(':'));
    got[item].push_back(body);
    // The time is in epoch milliseconds.
    EXPECT_EQ(record.data.substr(record.data.find('@') + 1), "1714566896789");
    EXPECT_EQ(record.partition_key.size(), 32u);
  }
  EXPECT_EQ(got, expected);
}

TEST(KinesisConnectorTest, MissingKinesisStreamHoldsChangesUntilItExists) {
  FakeClock clock(1714566896789);
  kv::TestDb db;
  World w(db.get(), clock);
  ASSERT_OK_AND_ASSIGN(auto handle, w.catalog.Create(OrdersDef()));
  StartDestination(w, *handle);
  ASSERT_OK(w.store.Put(*handle, ItemOf(1, 1), nullptr).status());
  ASSERT_OK_AND_ASSIGN(int64_t none, w.connector.RunOnce());
  EXPECT_EQ(none, 0);
  ASSERT_OK(w.log.CreateStream({.name = "kinesis/000000000000/us-east-1/out"}).status());
  ASSERT_OK_AND_ASSIGN(int64_t one, w.connector.RunOnce());
  EXPECT_EQ(one, 1);
}

TEST(KinesisConnectorTest, ThreadDeliversWhenWoken) {
  FakeClock clock(1714566896789);
  kv::TestDb db;
  World w(db.get(), clock);
  ASSERT_OK(w.log.CreateStream({.name = "kinesis/000000000000/us-east-1/out"}).status());
  ASSERT_OK_AND_ASSIGN(auto handle, w.catalog.Create(OrdersDef()));
  StartDestination(w, *handle);
  w.connector.Start();
  ASSERT_OK(w.store.Put(*handle, ItemOf(1, 1), nullptr).status());
  auto stream = w.log.FindStream("kinesis/000000000000/us-east-1/out");
  ASSERT_TRUE(stream.ok());
  // Woken by the change log's commit; waits on the log's own wake-up, not a sleep.
  EXPECT_TRUE(w.log.WaitForRecords(stream->shards[0].id,
                                   {stream->shards[0].starting_sequence.value + 1},
                                   std::chrono::seconds(30)));
  w.connector.Stop();
  EXPECT_EQ(ReadAll(w.log).size(), 1u);
}


// What UpdateTable does to enable or disable the table's stream.
void SetStream(World& w, table::TableHandle& handle, bool enabled, std::string label = "") {
  std::unique_lock lock(handle.op_mu());
  table::TableDef next = *handle.def();
  next.stream.enabled = enabled;
  next.stream.view_type = enabled ? "NEW_AND_OLD_IMAGES" : "";
  if (enabled) next.latest_stream_label = std::move(label);
  ASSERT_OK(w.capture.NoteStreamChange(next));
  ASSERT_OK(w.catalog.Save(handle, next));
  ASSERT_OK(w.capture.SyncStreams(next));
}

// How many records a table's change log holds (0 when it was never created).
size_t ChangeLogRecords(World& w, uint64_t table_id) {
  std::optional<log::ShardId> shard = w.capture.FindChangeLog(table_id);
  if (!shard) return 0;
  auto read = w.log.Read(*shard, {0}, {.max_records = 100000});
  EXPECT_TRUE(read.ok());
  return read.ok() ? read->records.size() : 0;
}

// item -> its published changes ("item-N:version" or "item-N:REMOVE"), in Kinesis order.
std::map<std::string, std::vector<std::string>> Published(log::ShardLog& log) {
  std::map<std::string, std::vector<std::string>> got;
  for (const auto& record : ReadAll(log)) {
    std::string body = record.data.substr(0, record.data.find('@'));
    got[body.substr(0, body.find(':'))].push_back(body);
  }
  return got;
}

TEST(KinesisConnectorTest, StreamIsTheOnlyCopyWhileItIsTheSource) {
  FakeClock clock(1714566896789);
  kv::TestDb db;
  World w(db.get(), clock);
  ASSERT_OK(w.log.CreateStream({.name = "kinesis/000000000000/us-east-1/out",
                                .shards = log::UniformHashKeyRanges(2)})
                .status());
  table::TableDef def = OrdersDef();
  def.stream = {.enabled = true, .view_type = "KEYS_ONLY"};
  def.latest_stream_label = "2024-05-01T12:34:56.789";
  ASSERT_OK_AND_ASSIGN(auto handle, w.catalog.Create(def));
  ASSERT_OK(w.capture.SyncStreams(*handle->def()));
  StartDestination(w, *handle);
  ASSERT_TRUE(handle->def()->ChangesInStream());
  std::map<std::string, std::vector<std::string>> expected;
  for (int i = 0; i < 50; ++i) {
    for (int v = 1; v <= 3; ++v) {
      ASSERT_OK(w.store.Put(*handle, ItemOf(i, v), nullptr).status());
      expected["item-" + std::to_string(i)].push_back("item-" + std::to_string(i) + ":" +
                                                      std::to_string(v));
    }
  }
  ASSERT_OK_AND_ASSIGN(int64_t delivered, w.connector.RunOnce());
  EXPECT_EQ(delivered, 150);
  EXPECT_EQ(Published(w.log), expected);
  // One record per change: the stream's (whatever its view type; images are cut on reading).
  EXPECT_EQ(ChangeLogRecords(w, def.table_id), 0u);
  ASSERT_OK_AND_ASSIGN(StreamView stream, w.capture.GetStream("000000000000", "us-east-1",
                                                              "orders", def.latest_stream_label));
  auto read = w.log.Read(stream.info.shards[0].id, {0}, {.max_records = 1000});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->records.size(), 150u);
}

TEST(KinesisConnectorTest, SourcesFollowStreamTogglesExactlyOnceAcrossCrashes) {
  FakeClock clock(1714566896789);
  kv::TestDb db;
  std::map<std::string, std::vector<std::string>> expected;
  uint64_t table_id = 0;
  int version = 0;
  // One round of writes: every item of 0..19 gets the next version; every fourth is removed.
  auto writes = [&](World& w, table::TableHandle& handle) {
    ++version;
    for (int i = 0; i < 20; ++i) {
      const std::string id = "item-" + std::to_string(i);
      ASSERT_OK(w.store.Put(handle, ItemOf(i, version), nullptr).status());
      expected[id].push_back(id + ":" + std::to_string(version));
      if (i % 4 == version % 4) {
        ASSERT_OK(w.store.Delete(handle, {{"id", AttributeValue::String(id)}}, nullptr).status());
        expected[id].push_back(id + ":REMOVE");
      }
    }
  };
  {
    World w(db.get(), clock);
    ASSERT_OK(w.log.CreateStream({.name = "kinesis/000000000000/us-east-1/out",
                                  .shards = log::UniformHashKeyRanges(3)})
                  .status());
    ASSERT_OK_AND_ASSIGN(auto handle, w.catalog.Create(OrdersDef()));
    table_id = handle->def()->table_id;
    StartDestination(w, *handle);
    writes(w, *handle);  // into the change log
    SetStream(w, *handle, true, "label-1");
    writes(w, *handle);  // into stream label-1 only
    EXPECT_EQ(ChangeLogRecords(w, table_id), 25u);
    // Part of the change log is delivered, then the stream goes away again.
    ASSERT_OK_AND_ASSIGN(int64_t part, w.connector.DeliverStep(
                                           *handle->def(), handle->def()->kinesis_destinations[0], 7));
    EXPECT_EQ(part, 7);
    SetStream(w, *handle, false);
    writes(w, *handle);  // the change log again
    SetStream(w, *handle, true, "label-2");
    writes(w, *handle);  // stream label-2
  }
  db.Reopen();  // a crash: nothing stopped cleanly
  {
    World w(db.get(), clock);
    ASSERT_OK_AND_ASSIGN(auto handle, w.catalog.Get("000000000000", "us-east-1", "orders"));
    EXPECT_EQ(handle->def()->change_sources.size(), 4u);
    EXPECT_EQ(ChangeLogRecords(w, table_id), 50u);
    // Deliver in small steps across the sources, with another crash in the middle.
    for (int step = 0; step < 6; ++step) {
      ASSERT_OK(w.connector.DeliverStep(*handle->def(), handle->def()->kinesis_destinations[0], 9)
                    .status());
    }
    writes(w, *handle);  // stream label-2, still the source
  }
  db.Reopen();
  World w(db.get(), clock);
  ASSERT_OK_AND_ASSIGN(auto handle, w.catalog.Get("000000000000", "us-east-1", "orders"));
  ASSERT_OK(w.connector.RunOnce().status());
  ASSERT_OK_AND_ASSIGN(int64_t again, w.connector.RunOnce());
  EXPECT_EQ(again, 0);
  EXPECT_EQ(Published(w.log), expected);
  EXPECT_EQ(ReadAll(w.log).size(), 5u * 25u);
}

TEST(KinesisConnectorTest, TableFromBeforeSourcesKeepsItsChangeLog) {
  FakeClock clock(1714566896789);
  kv::TestDb db;
  World w(db.get(), clock);
  ASSERT_OK(w.log.CreateStream({.name = "kinesis/000000000000/us-east-1/out"}).status());
  table::TableDef def = OrdersDef();
  def.stream = {.enabled = true, .view_type = "NEW_IMAGE"};
  def.latest_stream_label = "label-1";
  ASSERT_OK_AND_ASSIGN(auto handle, w.catalog.Create(def));
  ASSERT_OK(w.capture.SyncStreams(*handle->def()));
  // What an older salespipe left: no sources, a checkpoint of 8 bytes (the change log's next).
  ASSERT_OK_AND_ASSIGN(log::ShardId change_log, w.capture.EnsureChangeLog(*handle->def()));
  ASSERT_OK_AND_ASSIGN(log::SequenceNumber high, w.log.VisibleHigh(change_log));
  std::string key = "cdc/checkpoint/00000000000000000042/" + std::string(kArn);
  std::string value;
  kv::AppendUint64(&value, high.value + 1);
  kv::Batch batch = db.get().NewBatch();
  batch.Put(kv::Cf::kMeta, key, value);
  ASSERT_OK(db.get().Commit(batch));

  ASSERT_OK(w.store.Put(*handle, ItemOf(1, 1), nullptr).status());  // stream and change log
  EXPECT_EQ(ChangeLogRecords(w, 42), 1u);
  SetStream(w, *handle, false);
  ASSERT_OK(w.store.Put(*handle, ItemOf(1, 2), nullptr).status());
  SetStream(w, *handle, true, "label-2");
  ASSERT_OK(w.store.Put(*handle, ItemOf(1, 3), nullptr).status());  // the stream only
  EXPECT_EQ(ChangeLogRecords(w, 42), 2u);
  ASSERT_OK_AND_ASSIGN(int64_t delivered, w.connector.RunOnce());
  EXPECT_EQ(delivered, 3);
  std::map<std::string, std::vector<std::string>> expected{
      {"item-1", {"item-1:1", "item-1:2", "item-1:3"}}};
  EXPECT_EQ(Published(w.log), expected);
}

}  // namespace
}  // namespace salespipe::cdc
