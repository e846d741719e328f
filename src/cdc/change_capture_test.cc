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
    return "{\"seq\":\"" + std::string(sequence_number) + "\",\"id\":\"" + std::string(event_id) +
           "\",\"ttl\":" + (change.origin == table::ChangeOrigin::kTtl ? "true" : "false") + "}";
  }
  // Everything a destination record is made of, flattened.
  std::string DestinationRecord(const Change& change, bool microseconds,
                                std::string_view event_id) const override {
    std::string keys =
        change.keys.hash.name + ":" + std::to_string(static_cast<int>(change.keys.hash.type));
    if (change.keys.range) {
      keys += "," + change.keys.range->name + ":" +
              std::to_string(static_cast<int>(change.keys.range->type));
    }
    return std::string(change.table_name) + "|" + std::string(change.region) + "|" + keys + "|" +
           std::string(event_id) + "|" +
           std::to_string(microseconds ? change.micros : change.micros / 1000) + "|" +
           (change.origin == table::ChangeOrigin::kTtl ? "ttl" : "user") + "|" +
           (change.old_image ? std::to_string(change.old_image->size()) : "-") + "|" +
           (change.new_image ? std::to_string(change.new_image->size()) : "-");
  }
};

struct Fixture {
  explicit Fixture(kv::Db& db)
      : clock(1714566896789),
        log(db, clock),
        catalog(db),
        capture(log, clock, formatter),
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

// A binary change goes to Kinesis as a compact record (rendered on read) that carries what
// rendering needs of the table; rendering it gives what the formatter makes of the change,
// with an event id fixed by the table and the change's place in its source. A damaged
// record is an error, never a crash.
TEST(ChangeCaptureTest, DestinationRecordsAreStoredCompactAndRenderedOnRead) {
  kv::TestDb db;
  Fixture f(db.get());
  table::TableDef def = StreamTable();
  def.keys.range = table::KeyElement{.name = "at", .type = table::AttributeType::kNumber};
  Item old_item = {{"id", AttributeValue::String("o-1")}, {"at", AttributeValue::Number("7")}};
  Item new_item = old_item;
  new_item["total"] = AttributeValue::Number("12.5");
  log::Record record{.sequence = {77},
                     .data = EncodeChange(old_item, new_item, table::ChangeOrigin::kTtl,
                                          int64_t{1714566896789123})};

  ASSERT_OK_AND_ASSIGN(DestinationRecordOut out, f.capture.DestinationRecord(def, record, true));
  EXPECT_TRUE(out.rendered_on_read);
  ASSERT_OK_AND_ASSIGN(auto entries, table::SplitItem(*SplitChange(record.data)->new_image));
  EXPECT_EQ(out.partition_key, DestinationPartitionKey(def.keys, entries));

  std::string digest = Md5("cdc/5/77");
  digest[6] = static_cast<char>((digest[6] & 0x0f) | 0x40);
  digest[8] = static_cast<char>((digest[8] & 0x3f) | 0x80);
  std::string hex = HexEncode(digest);
  std::string event_id = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
                         hex.substr(16, 4) + "-" + hex.substr(20);
  const std::string expected =
      "orders|us-east-1|id:" + std::to_string(static_cast<int>(table::AttributeType::kString)) +
      ",at:" + std::to_string(static_cast<int>(table::AttributeType::kNumber)) + "|" + event_id +
      "|1714566896789123|ttl|2|3";
  ASSERT_OK_AND_ASSIGN(std::string rendered, f.capture.RenderDestinationRecord(out.data));
  EXPECT_EQ(rendered, expected);
  // Millisecond precision, and through the log as a reader gets it.
  ASSERT_OK_AND_ASSIGN(DestinationRecordOut millis,
                       f.capture.DestinationRecord(def, record, false));
  ASSERT_OK_AND_ASSIGN(
      log::StreamInfo stream,
      f.log.CreateStream({.name = "kinesis/x", .shards = log::UniformHashKeyRanges(1)}));
  kv::Batch batch = f.log.NewBatch();
  ASSERT_OK(f.log.Append(batch, {stream.id, 0},
                         {.partition_key = millis.partition_key,
                          .data = millis.data,
                          .rendered_on_read = millis.rendered_on_read}));
  ASSERT_OK(f.log.Commit(batch));
  ASSERT_OK_AND_ASSIGN(log::ReadResult read, f.log.Read({stream.id, 0}, {0}, {}));
  ASSERT_EQ(read.records.size(), 1u);
  std::string expected_millis = expected;
  expected_millis.replace(expected_millis.find("1714566896789123"), 16, "1714566896789");
  EXPECT_EQ(read.records[0].data, expected_millis);

  for (size_t length = 0; length < out.data.size(); ++length) {
    EXPECT_THAT(f.capture.RenderDestinationRecord(std::string_view(out.data).substr(0, length)),
                StatusIs(ErrorCode::kInternal))
        << length;
  }
  std::string other_version = out.data;
  other_version[1] = 9;
  EXPECT_THAT(f.capture.RenderDestinationRecord(other_version), StatusIs(ErrorCode::kInternal));
}

}  // namespace
}  // namespace salespipe::cdc
