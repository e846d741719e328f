#include "table/table_store.h"

#include "common/test_util.h"
#include "kv/test_db.h"
#include "table/expression.h"
#include "table/item_codec.h"
#include "table/ttl_sweeper.h"

namespace salespipe::table {
namespace {

using salespipe::testing::StatusIs;

constexpr int64_t kNowMillis = 1'750'000'000'000;  // a fixed Monday-ish instant

AttributeValue S(std::string s) { return AttributeValue::String(std::move(s)); }
AttributeValue N(std::string n) { return AttributeValue::Number(std::move(n)); }

// Records every change the store hands to the change hook.
class RecordingSink final : public ChangeSink {
 public:
  Status Append(kv::Batch& batch, const TableDef& table, const std::optional<Item>& old_item,
                const std::optional<Item>& new_item, std::string_view new_encoding,
                ChangeOrigin origin) override {
    // The encoding handed over is the stored one.
    EXPECT_EQ(new_encoding, new_item ? EncodeItem(*new_item) : std::string());
    changes.push_back({old_item, new_item, origin});
    return Status::Ok();
  }
  struct Change {
    std::optional<Item> old_item, new_item;
    ChangeOrigin origin;
  };
  std::vector<Change> changes;
};

class TableStoreTest : public ::testing::Test {
 protected:
  TableStoreTest() : clock_(kNowMillis), catalog_(db_.get()), store_(db_.get(), catalog_, clock_, &sink_) {
    EXPECT_OK(catalog_.Load());
    TableDef def;
    def.account_id = "000000000000";
    def.region = "us-east-1";
    def.name = "sales";
    def.table_id = catalog_.AllocateId().value();
    def.keys.hash = {"store", AttributeType::kString};
    def.keys.range = KeyElement{"amount", AttributeType::kNumber};
    IndexDef gsi;
    gsi.name = "by_sku";
    gsi.index_id = catalog_.AllocateId().value();
    gsi.keys.hash = {"sku", AttributeType::kString};
    gsi.projection = ProjectionType::kKeysOnly;
    def.indexes.push_back(gsi);
    def.ttl = {.enabled = true, .attribute = "expires"};
    table_ = catalog_.Create(def).value();
  }

  Item Sale(std::string store, std::string amount, std::optional<std::string> sku = {}) {
    Item item{{"store", S(std::move(store))}, {"amount", N(std::move(amount))}};
    if (sku) item["sku"] = S(*sku);
    return item;
  }

  std::vector<std::string> QueryAmounts(std::string store, std::optional<SortKeyCondition> range,
                                        bool forward = true) {
    QuerySpec spec{.hash_value = S(std::move(store)), .range = std::move(range), .forward = forward};
    auto page = store_.Query(*table_, spec);
    EXPECT_OK(page.status());
    std::vector<std::string> amounts;
    for (const auto& item : page->items) amounts.push_back(item.at("amount").scalar());
    return amounts;
  }

  kv::TestDb db_;
  FakeClock clock_;
  RecordingSink sink_;
  Catalog catalog_;
  TableStore store_;
  std::shared_ptr<TableHandle> table_;
};

TEST_F(TableStoreTest, PutGetDeleteAndChangeRecords) {
  ASSERT_OK(store_.Put(*table_, Sale("s1", "10"), nullptr).status());
  ASSERT_OK_AND_ASSIGN(auto got, store_.Get(*table_, Sale("s1", "10")));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->at("store").scalar(), "s1");
  // An identical put changes nothing and produces no change record.
  ASSERT_OK(store_.Put(*table_, Sale("s1", "10"), nullptr).status());
  ASSERT_OK(store_.Delete(*table_, Sale("s1", "10"), nullptr).status());
  // Deleting a missing item changes nothing either.
  ASSERT_OK(store_.Delete(*table_, Sale("s1", "10"), nullptr).status());
  ASSERT_EQ(sink_.changes.size(), 2u);
  EXPECT_FALSE(sink_.changes[0].old_item.has_value());
  EXPECT_FALSE(sink_.changes[1].new_item.has_value());
  EXPECT_EQ(table_->stats().item_count.load(), 0);
}

TEST_F(TableStoreTest, FailedConditionWritesNothing) {
  ASSERT_OK(store_.Put(*table_, Sale("s1", "10"), nullptr).status());
  ExpressionContext context;
  ASSERT_OK_AND_ASSIGN(Condition absent, ParseCondition("attribute_not_exists(amount)", context));
  ASSERT_OK_AND_ASSIGN(WriteOutcome outcome, store_.Put(*table_, Sale("s1", "10", "x"), &absent));
  EXPECT_TRUE(outcome.condition_failed);
  ASSERT_TRUE(outcome.old_item.has_value());
  ASSERT_OK_AND_ASSIGN(auto got, store_.Get(*table_, Sale("s1", "10")));
  EXPECT_EQ(got->count("sku"), 0u);
  EXPECT_EQ(sink_.changes.size(), 1u);
}

TEST_F(TableStoreTest, QueryOrdersNumbersNumerically) {
  for (const char* amount : {"100", "-5", "2", "10", "2.5", "-0.5"}) {
    ASSERT_OK(store_.Put(*table_, Sale("s1", amount), nullptr).status());
  }
  ASSERT_OK(store_.Put(*table_, Sale("s2", "1"), nullptr).status());
  EXPECT_EQ(QueryAmounts("s1", std::nullopt),
            (std::vector<std::string>{"-5", "-0.5", "2", "2.5", "10", "100"}));
  EXPECT_EQ(QueryAmounts("s1", std::nullopt, /*forward=*/false),
            (std::vector<std::string>{"100", "10", "2.5", "2", "-0.5", "-5"}));
  EXPECT_EQ(QueryAmounts("s1", SortKeyCondition{.op = SortKeyCondition::Op::kBetween,
                                                .values = {N("2"), N("10")}}),
            (std::vector<std::string>{"2", "2.5", "10"}));
  EXPECT_EQ(QueryAmounts("s1", SortKeyCondition{.op = SortKeyCondition::Op::kGt, .values = {N("2")}}),
            (std::vector<std::string>{"2.5", "10", "100"}));
  EXPECT_EQ(QueryAmounts("s1", SortKeyCondition{.op = SortKeyCondition::Op::kLe, .values = {N("2")}}),
            (std::vector<std::string>{"-5", "-0.5", "2"}));
}

TEST_F(TableStoreTest, QueryPagesWithLimitAndStartKey) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_OK(store_.Put(*table_, Sale("s1", std::to_string(i)), nullptr).status());
  }
  std::vector<std::string> seen;
  std::optional<Item> start;
  int pages = 0;
  do {
    QuerySpec spec{.hash_value = S("s1"), .exclusive_start_key = start, .limit = 3};
    ASSERT_OK_AND_ASSIGN(Page page, store_.Query(*table_, spec));
    for (const auto& item : page.items) seen.push_back(item.at("amount").scalar());
    start = page.last_evaluated_key;
    ++pages;
  } while (start && pages < 10);
  EXPECT_EQ(seen, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6"}));
  EXPECT_EQ(pages, 3);
}

TEST_F(TableStoreTest, GlobalIndexFollowsItemChanges) {
  const IndexDef* index = table_->def()->FindIndex("by_sku");
  ASSERT_OK(store_.Put(*table_, Sale("s1", "1", "phone"), nullptr).status());
  ASSERT_OK(store_.Put(*table_, Sale("s1", "2"), nullptr).status());  // sparse: not indexed
  auto count = [&](std::string sku) {
    QuerySpec spec{.index = index, .hash_value = S(std::move(sku))};
    return store_.Query(*table_, spec).value().items.size();
  };
  EXPECT_EQ(count("phone"), 1u);
  ASSERT_OK(store_.Put(*table_, Sale("s1", "1", "tablet"), nullptr).status());
  EXPECT_EQ(count("phone"), 0u);
  EXPECT_EQ(count("tablet"), 1u);
  // KEYS_ONLY: table and index keys only.
  QuerySpec spec{.index = index, .hash_value = S("tablet")};
  ASSERT_OK_AND_ASSIGN(Page page, store_.Query(*table_, spec));
  EXPECT_EQ(page.items[0].size(), 3u);
  ASSERT_OK(store_.Delete(*table_, Sale("s1", "1"), nullptr).status());
  EXPECT_EQ(count("tablet"), 0u);
}

TEST_F(TableStoreTest, TransactionIsAllOrNothing) {
  ASSERT_OK(store_.Put(*table_, Sale("s1", "1"), nullptr).status());
  ExpressionContext context;
  ASSERT_OK_AND_ASSIGN(Condition exists, ParseCondition("attribute_exists(amount)", context));
  std::vector<TransactWriteOp> ops = {
      {.kind = TransactWriteOp::Kind::kPut, .table = table_, .item = Sale("s9", "9")},
      {.kind = TransactWriteOp::Kind::kConditionCheck, .table = table_, .item = Sale("s1", "2"),
       .condition = &exists},
  };
  ASSERT_OK_AND_ASSIGN(auto outcomes, store_.TransactWrite(ops));
  EXPECT_FALSE(outcomes[0].condition_failed);
  EXPECT_TRUE(outcomes[1].condition_failed);
  ASSERT_OK_AND_ASSIGN(auto missing, store_.Get(*table_, Sale("s9", "9")));
  EXPECT_FALSE(missing.has_value());

  ops[1].item = Sale("s1", "1");
  ASSERT_OK_AND_ASSIGN(outcomes, store_.TransactWrite(ops));
  EXPECT_FALSE(outcomes[1].condition_failed);
  ASSERT_OK_AND_ASSIGN(auto written, store_.Get(*table_, Sale("s9", "9")));
  EXPECT_TRUE(written.has_value());
}

TEST_F(TableStoreTest, TtlSweepDeletesOnlyExpiredItemsWithServiceOrigin) {
  const int64_t now = kNowMillis / 1000;
  Item expired = Sale("s1", "1");
  expired["expires"] = N(std::to_string(now - 10));
  Item later = Sale("s1", "2");
  later["expires"] = N(std::to_string(now + 3600));
  Item ancient = Sale("s1", "3");  // more than five years old: DynamoDB ignores it
  ancient["expires"] = N(std::to_string(now - 6LL * 365 * 24 * 3600));
  Item text_ttl = Sale("s1", "4");  // not a number: ignored
  text_ttl["expires"] = S("yesterday");
  for (const Item& item : {expired, later, ancient, text_ttl}) {
    ASSERT_OK(store_.Put(*table_, item, nullptr).status());
  }
  sink_.changes.clear();
  TtlSweeper sweeper(catalog_, store_, std::chrono::hours(1));
  EXPECT_EQ(sweeper.SweepOnce(), 1);
  ASSERT_EQ(sink_.changes.size(), 1u);
  EXPECT_EQ(sink_.changes[0].origin, ChangeOrigin::kTtl);
  EXPECT_EQ(QueryAmounts("s1", std::nullopt), (std::vector<std::string>{"2", "3", "4"}));

  clock_.Advance(std::chrono::hours(2));
  EXPECT_EQ(sweeper.SweepOnce(), 1);
  EXPECT_EQ(QueryAmounts("s1", std::nullopt), (std::vector<std::string>{"3", "4"}));
}

TEST_F(TableStoreTest, ValidateItemUsesDynamoDbMessages) {
  const TableDef& def = *table_->def();
  EXPECT_THAT(TableStore::ValidateItem(def, {{"store", S("s")}}),
              StatusIs(ErrorCode::kInvalidArgument, "Missing the key amount in the item"));
  EXPECT_THAT(TableStore::ValidateItem(def, {{"store", N("1")}, {"amount", N("1")}}),
              StatusIs(ErrorCode::kInvalidArgument, "Type mismatch for key store expected: S actual: N"));
  EXPECT_THAT(TableStore::ValidateItem(def, Sale("", "1")),
              StatusIs(ErrorCode::kInvalidArgument, "cannot contain an empty string value"));
  EXPECT_THAT(TableStore::ValidateItem(def, {{"store", S("s")}, {"amount", N("1")}, {"sku", N("1")}}),
              StatusIs(ErrorCode::kInvalidArgument, "Type mismatch for Index Key sku"));
  EXPECT_THAT(TableStore::ValidateKey(def, {{"store", S("s")}}),
              StatusIs(ErrorCode::kInvalidArgument, "The provided key element does not match the schema"));
}

TEST_F(TableStoreTest, CatalogSurvivesReopen) {
  ASSERT_OK(store_.Put(*table_, Sale("s1", "1"), nullptr).status());
  Catalog reopened(db_.get());
  ASSERT_OK(reopened.Load());
  ASSERT_OK_AND_ASSIGN(auto handle, reopened.Get("000000000000", "us-east-1", "sales"));
  EXPECT_EQ(handle->stats().item_count.load(), 1);
  EXPECT_EQ(handle->def()->indexes.size(), 1u);
  EXPECT_TRUE(handle->def()->ttl.enabled);
  EXPECT_THAT(reopened.Get("000000000000", "us-east-1", "nope"), StatusIs(ErrorCode::kNotFound));
}

}  // namespace
}  // namespace salespipe::table
