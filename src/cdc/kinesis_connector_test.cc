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
    ASSERT_OK(w.connector.StartDestination(*handle->def(), kArn));
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
  ASSERT_OK(w.connector.StartDestination(*handle->def(), kArn));
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
  ASSERT_OK(w.connector.StartDestination(*handle->def(), kArn));
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

}  // namespace
}  // namespace salespipe::cdc
