#include "cdc/change_capture.h"

#include "common/crypto.h"
#include "common/test_util.h"
#include "kv/test_db.h"
#include "table/catalog.h"
#include "table/table_store.h"

namespace salespipe::cdc {
namespace {

using ::salespipe::testing::StatusIs;
using table::AttributeValue;
using table::Item;

class SeqFormatter final : public RecordFormatter {
 public:
  std::string StreamRecord(const Change& change, std::string_view view_type,
                           std::string_view sequence_number,
                           std::string_view event_id) const override {
    return "{\"seq\":\"" + std::string(sequence_number) + "\",\"id\":\"" +
           std::string(event_id) + "\",\"ttl\":" +
           (change.origin == table::ChangeOrigin::kTtl ? "true" : "false") + "}";
  }
  std::string DestinationRecord(const Change& change, bool microseconds,
                                std::string_view event_id) const override {
    return "{}";
  }
};

struct Fixture {
  explicit Fixture(kv::Db& db)
      : clock(1714566896789), log(db, clock), catalog(db), capture(log, clock, formatter),
        store(db, catalog, clock, &capture) {
    EXPECT_OK(log.Open());
    EXPECT_OK(catalog.Load());
  }
  FakeClock clock;
  log::ShardLog log;
  table::Catalog catalog;
  SeqFormatter formatter;
  ChangeCapture capture;
  table::TableStore store;
};

table::TableDef StreamTable() {
  table::TableDef def;
  def.account_id = "000000000000";
  def.region = "us-east-1";
  def.name = "orders";
  def.table_id = 5;
  def.keys.hash = {.name = "id", .type = table::AttributeType::kString};
  def.stream = {.enabled = true, .view_type = "NEW_IMAGE"};
  def.latest_stream_label = "2024-05-01T12:34:56.789";
  return def;
}

Item ItemOf(std::string id) { return {{"id", AttributeValue::String(std::move(id))}}; }

TEST(ChangeCaptureTest, RecordsRideInTheWriteAndDisableClosesTheStream) {
  kv::TestDb db;
  Fixture f(db.get());
  ASSERT_OK_AND_ASSIGN(auto handle, f.catalog.Create(StreamTable()));
  ASSERT_OK(f.capture.SyncStreams(*handle->def()));
  ASSERT_OK(f.store.Put(*handle, ItemOf("a"), nullptr).status());
  ASSERT_OK(f.store.Put(*handle, ItemOf("a"), nullptr).status());  // no change: no record
  ASSERT_OK(f.store.Delete(*handle, ItemOf("a"), nullptr, table::ChangeOrigin::kTtl).status());

  auto streams = f.capture.ListStreams("000000000000", "us-east-1");
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0].meta.Arn(),
            "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2024-05-01T12:34:56.789");
  EXPECT_TRUE(streams[0].meta.enabled);
  const log::ShardInfo shard = streams[0].info.shards[0];
  ASSERT_OK_AND_ASSIGN(log::ReadResult read,
                       f.log.Read(shard.id, shard.starting_sequence, {.max_records = 10}));
  ASSERT_EQ(read.records.size(), 2u);
  ASSERT_OK_AND_ASSIGN(std::string first,
                       f.capture.StreamRecordJson(streams[0].meta, read.records[0], "1"));
  EXPECT_EQ(first, "{\"seq\":\"1\",\"id\":\"" + HexEncode(Md5(streams[0].meta.Arn() + "/1")) +
                       "\",\"ttl\":false}");
  ASSERT_OK_AND_ASSIGN(std::string second,
                       f.capture.StreamRecordJson(streams[0].meta, read.records[1], "2"));
  EXPECT_EQ(second, "{\"seq\":\"2\",\"id\":\"" + HexEncode(Md5(streams[0].meta.Arn() + "/2")) +
                        "\",\"ttl\":true}");
  // Formatting is a pure function of the stored record: a second read is the same.
  EXPECT_EQ(f.capture.StreamRecordJson(streams[0].meta, read.records[0], "1").value(), first);

  // Disable: the shard closes, the stream stays readable as DISABLED.
  table::TableDef disabled = *handle->def();
  disabled.stream.enabled = false;
  ASSERT_OK(f.catalog.Save(*handle, disabled));
  ASSERT_OK(f.capture.SyncStreams(disabled));
  ASSERT_OK_AND_ASSIGN(StreamView view, f.capture.GetStream("000000000000", "us-east-1", "orders",
                                                            "2024-05-01T12:34:56.789"));
  EXPECT_FALSE(view.meta.enabled);
  EXPECT_FALSE(view.info.shards[0].open());
  ASSERT_OK(f.store.Put(*handle, ItemOf("b"), nullptr).status());  // no stream: no record
  ASSERT_OK_AND_ASSIGN(read, f.log.Read(shard.id, shard.starting_sequence, {.max_records = 10}));
  EXPECT_EQ(read.records.size(), 2u);
  EXPECT_FALSE(read.next.has_value());  // closed and fully read

  // Past 24 hours a disabled stream is gone.
  f.clock.Advance(std::chrono::hours(25));
  EXPECT_THAT(f.capture.GetStream("000000000000", "us-east-1", "orders", "2024-05-01T12:34:56.789"),
              StatusIs(ErrorCode::kNotFound));
  EXPECT_TRUE(f.capture.ListStreams("000000000000", "us-east-1").empty());
}

TEST(ChangeCaptureTest, ReEnableMakesANewStream) {
  kv::TestDb db;
  Fixture f(db.get());
  ASSERT_OK_AND_ASSIGN(auto handle, f.catalog.Create(StreamTable()));
  ASSERT_OK(f.store.Put(*handle, ItemOf("a"), nullptr).status());  // creates the stream lazily
  table::TableDef next = *handle->def();
  next.latest_stream_label = "2024-05-02T00:00:00.000";
  ASSERT_OK(f.catalog.Save(*handle, next));
  ASSERT_OK(f.capture.SyncStreams(next));
  ASSERT_OK(f.store.Put(*handle, ItemOf("b"), nullptr).status());
  auto streams = f.capture.ListStreams("000000000000", "us-east-1");
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_FALSE(streams[0].meta.enabled);
  EXPECT_TRUE(streams[1].meta.enabled);
  for (const auto& s : streams) {
    auto read = f.log.Read(s.info.shards[0].id, s.info.shards[0].starting_sequence, {});
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(read->records.size(), 1u);
  }
}

TEST(ChangeCaptureTest, EncodedChangesRoundTripAndCorruptionIsAnError) {
  Item old_item = ItemOf("a");
  Item new_item = ItemOf("a");
  new_item.emplace("n", AttributeValue::Number("12.5"));
  for (int images = 1; images < 4; ++images) {
    std::optional<Item> before = (images & 1) ? std::optional<Item>(old_item) : std::nullopt;
    std::optional<Item> after = (images & 2) ? std::optional<Item>(new_item) : std::nullopt;
    std::string data = EncodeChange(before, after, table::ChangeOrigin::kTtl, 1714566896789123);
    ASSERT_OK_AND_ASSIGN(StoredChange change, DecodeChange(data));
    EXPECT_EQ(change.old_item, before);
    EXPECT_EQ(change.new_item, after);
    EXPECT_EQ(change.origin, table::ChangeOrigin::kTtl);
    EXPECT_EQ(change.micros, 1714566896789123);
    // Every truncation and a trailing byte are corrupt, never a crash or a wrong change.
    for (size_t n = 0; n < data.size(); ++n) {
      EXPECT_THAT(DecodeChange(std::string_view(data).substr(0, n)),
                  StatusIs(ErrorCode::kInternal));
    }
    EXPECT_THAT(DecodeChange(data + "x"), StatusIs(ErrorCode::kInternal));
  }
}

}  // namespace
}  // namespace salespipe::cdc
