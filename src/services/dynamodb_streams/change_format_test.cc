#include "services/dynamodb_streams/change_format.h"

#include <rapidjson/document.h>

#include "common/test_util.h"
#include "services/dynamodb/attribute_json.h"
#include "table/item_codec.h"
#include "services/dynamodb_streams/dynamodb_streams_service.h"

namespace salespipe::services::dynamodb_streams {
namespace {

using table::AttributeValue;
using table::ChangeOrigin;
using table::Item;

table::TableDef Orders() {
  table::TableDef def;
  def.account_id = "000000000000";
  def.region = "eu-west-1";
  def.name = "orders";
  def.table_id = 7;
  def.keys.hash = {.name = "id", .type = table::AttributeType::kString};
  return def;
}

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return doc;
}

const Item kOld = {{"id", AttributeValue::String("o1")}, {"amount", AttributeValue::Number("1")}};
const Item kNew = {{"id", AttributeValue::String("o1")}, {"amount", AttributeValue::Number("2")}};

// An image as a cdc::Change holds it: the item's encoding split into attributes.
struct Image {
  explicit Image(const Item& item)
      : bytes(table::EncodeItem(item)), entries(table::SplitItem(bytes).value()) {}
  Image(const Image&) = delete;
  std::string bytes;
  std::vector<table::EncodedEntry> entries;
};

TEST(ChangeFormatTest, ViewTypesChooseImages) {
  const auto def = Orders();
  ChangeFormatter f;
  const Image old_item(kOld), new_item(kNew);
  cdc::Change modify{.keys = def.keys, .region = def.region, .table_name = def.name,
                     .old_image = &old_item.entries, .new_image = &new_item.entries,
                     .origin = ChangeOrigin::kUser, .micros = 1714566897123456};
  struct Case {
    const char* view;
    bool has_new, has_old;
  };
  for (const Case& c : {Case{"KEYS_ONLY", false, false}, Case{"NEW_IMAGE", true, false},
                        Case{"OLD_IMAGE", false, true}, Case{"NEW_AND_OLD_IMAGES", true, true}}) {
    auto doc = Parse(f.StreamRecord(modify, c.view, "400000000000000000001", std::string(32, 'a')));
    const auto& ddb = doc["dynamodb"];
    EXPECT_STREQ(doc["eventName"].GetString(), "MODIFY");
    EXPECT_STREQ(doc["eventVersion"].GetString(), "1.1");
    EXPECT_STREQ(doc["eventSource"].GetString(), "aws:dynamodb");
    EXPECT_STREQ(doc["awsRegion"].GetString(), "eu-west-1");
    EXPECT_EQ(std::string(doc["eventID"].GetString()).size(), 32u);
    EXPECT_STREQ(ddb["StreamViewType"].GetString(), c.view);
    EXPECT_STREQ(ddb["SequenceNumber"].GetString(), "400000000000000000001");
    EXPECT_EQ(ddb["ApproximateCreationDateTime"].GetInt64(), 1714566897);
    EXPECT_STREQ(ddb["Keys"]["id"]["S"].GetString(), "o1");
    EXPECT_EQ(ddb.HasMember("NewImage"), c.has_new) << c.view;
    EXPECT_EQ(ddb.HasMember("OldImage"), c.has_old) << c.view;
    // Keys: "id"(2) + "o1"(2) = 4; each image: 4 + "amount"(6) + number 1 = 11+.
    size_t expected = 4 + (c.has_new ? table::ItemSizeBytes(kNew) : 0) +
                      (c.has_old ? table::ItemSizeBytes(kOld) : 0);
    EXPECT_EQ(ddb["SizeBytes"].GetUint64(), expected) << c.view;
    EXPECT_FALSE(doc.HasMember("userIdentity"));
  }
  cdc::Change insert{.keys = def.keys, .region = def.region, .table_name = def.name,
                     .old_image = nullptr, .new_image = &new_item.entries,
                     .origin = ChangeOrigin::kUser, .micros = 0};
  auto doc = Parse(f.StreamRecord(insert, "OLD_IMAGE", "400000000000000000002", "e"));
  EXPECT_STREQ(doc["eventName"].GetString(), "INSERT");
  EXPECT_FALSE(doc["dynamodb"].HasMember("OldImage"));
  EXPECT_FALSE(doc["dynamodb"].HasMember("NewImage"));
}

TEST(ChangeFormatTest, TtlRemovalCarriesServiceIdentity) {
  const auto def = Orders();
  ChangeFormatter f;
  const Image old_item(kOld);
  cdc::Change ttl{.keys = def.keys, .region = def.region, .table_name = def.name,
                  .old_image = &old_item.entries, .new_image = nullptr,
                  .origin = ChangeOrigin::kTtl, .micros = 5'000'000};
  auto doc = Parse(f.StreamRecord(ttl, "NEW_AND_OLD_IMAGES", "400000000000000000003", "e"));
  EXPECT_STREQ(doc["eventName"].GetString(), "REMOVE");
  EXPECT_STREQ(doc["userIdentity"]["Type"].GetString(), "Service");
  EXPECT_STREQ(doc["userIdentity"]["PrincipalId"].GetString(), "dynamodb.amazonaws.com");
  EXPECT_TRUE(doc["dynamodb"].HasMember("OldImage"));

  auto kinesis = Parse(f.DestinationRecord(ttl, false, "e"));
  EXPECT_STREQ(kinesis["userIdentity"]["type"].GetString(), "Service");
  EXPECT_STREQ(kinesis["userIdentity"]["principalId"].GetString(), "dynamodb.amazonaws.com");
}

TEST(ChangeFormatTest, DestinationRecordHasBothImagesAndMillis) {
  const auto def = Orders();
  ChangeFormatter f;
  const Image old_item(kOld), new_item(kNew);
  cdc::Change modify{.keys = def.keys, .region = def.region, .table_name = def.name,
                     .old_image = &old_item.entries, .new_image = &new_item.entries,
                     .origin = ChangeOrigin::kUser, .micros = 1714566897123456};
  const std::string uuid = "4f6a2c1e-9b7d-4e8f-a1b2-c3d4e5f60718";
  rapidjson::Document doc = Parse(f.DestinationRecord(modify, false, uuid));
  EXPECT_EQ(doc["dynamodb"]["ApproximateCreationDateTime"].GetInt64(), 1714566897123);
  EXPECT_TRUE(doc["userIdentity"].IsNull());
  EXPECT_STREQ(doc["recordFormat"].GetString(), "application/json");
  EXPECT_STREQ(doc["tableName"].GetString(), "orders");
  EXPECT_STREQ(doc["eventSource"].GetString(), "aws:dynamodb");
  EXPECT_EQ(doc["eventID"].GetString(), uuid);
  EXPECT_TRUE(doc["dynamodb"].HasMember("NewImage"));
  EXPECT_TRUE(doc["dynamodb"].HasMember("OldImage"));
  EXPECT_FALSE(doc["dynamodb"].HasMember("SequenceNumber"));
  EXPECT_FALSE(doc["dynamodb"].HasMember("StreamViewType"));
  const std::string micros = f.DestinationRecord(modify, true, uuid);
  EXPECT_NE(micros.find("\"ApproximateCreationDateTime\":1714566897123456,"), std::string::npos);
}

// The images are written from their encoding: the JSON and SizeBytes must be what
// dynamodb::WriteAttributeMap and table::ItemSizeBytes give for the decoded item.
TEST(ChangeFormatTest, ImagesMatchTheAttributeJsonOfTheDecodedItem) {
  auto def = Orders();
  def.keys.range = table::KeyElement{.name = "at", .type = table::AttributeType::kNumber};
  const Item item = {
      {"id", AttributeValue::String("o\"1\u00e9")},
      {"at", AttributeValue::Number("-12.500")},
      {"blob", AttributeValue::Binary(std::string("\0\xff\x10", 3))},
      {"flag", AttributeValue::Bool(true)},
      {"gone", AttributeValue::Null()},
      {"tags", AttributeValue::Set(table::AttributeType::kStringSet, {"a", "b"})},
      {"nums", AttributeValue::Set(table::AttributeType::kNumberSet, {"0.001", "100"})},
      {"bins", AttributeValue::Set(table::AttributeType::kBinarySet, {"x", "yz"})},
      {"list", AttributeValue::List({AttributeValue::Number("0"), AttributeValue::List({}),
                                     AttributeValue::Map({{"k", AttributeValue::Null()}})})},
      {"map", AttributeValue::Map({{"inner", AttributeValue::Map({{"deep", AttributeValue::String("")}})},
                                   {"n", AttributeValue::Number("7")}})},
      {"empty", AttributeValue::Map({})},
  };
  auto json_of = [](const Item& i) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    dynamodb::WriteAttributeMap(w, i);
    return std::string(buffer.GetString(), buffer.GetSize());
  };
  auto member_json = [](const rapidjson::Value& v) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    v.Accept(w);
    return std::string(buffer.GetString(), buffer.GetSize());
  };
  const Image image(item);
  ChangeFormatter f;
  cdc::Change insert{.keys = def.keys, .region = def.region, .table_name = def.name,
                     .old_image = nullptr, .new_image = &image.entries,
                     .origin = ChangeOrigin::kUser, .micros = 0};
  const Item keys = {{"at", item.at("at")}, {"id", item.at("id")}};
  for (const std::string& json : {f.DestinationRecord(insert, false, "e"),
                                  f.StreamRecord(insert, "NEW_IMAGE", "400000000000000000001", "e")}) {
    auto doc = Parse(json);
    EXPECT_EQ(member_json(doc["dynamodb"]["NewImage"]), json_of(item));
    EXPECT_EQ(member_json(doc["dynamodb"]["Keys"]), json_of(keys));
    EXPECT_EQ(doc["dynamodb"]["SizeBytes"].GetUint64(),
              table::ItemSizeBytes(keys) + table::ItemSizeBytes(item));
  }
}

TEST(StreamIdentifiersTest, FormatsMatchBotocoreLengths) {
  log::ShardInfo shard;
  shard.id = {.stream = {3}, .index = 0};
  shard.created_millis = 1714566896789;
  std::string id = FormatShardId(shard);
  EXPECT_EQ(id.size(), 37u);
  EXPECT_TRUE(id.starts_with("shardId-00000001714566896789-")) << id;
  std::string seq = FormatSequenceNumber({1714566896789ULL << 20});
  EXPECT_EQ(seq.size(), 21u);
  ASSERT_TRUE(ParseSequenceNumber(seq).has_value());
  EXPECT_EQ(ParseSequenceNumber(seq)->value, 1714566896789ULL << 20);
  EXPECT_FALSE(ParseSequenceNumber("14").has_value());
  EXPECT_FALSE(ParseSequenceNumber("499999999999999999999").has_value());  // > 2^64
  EXPECT_FALSE(ParseSequenceNumber("40000000000000000000x").has_value());
  auto arn = ParseStreamArn("arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/2024-05-01T12:34:56.789");
  ASSERT_TRUE(arn.has_value());
  EXPECT_EQ(arn->table_name, "Orders");
  EXPECT_EQ(arn->label, "2024-05-01T12:34:56.789");
  EXPECT_FALSE(ParseStreamArn("arn:aws:dynamodb:us-east-1:000000000000:table/Orders").has_value());
  EXPECT_FALSE(ParseStreamArn("garbage").has_value());
}

}  // namespace
}  // namespace salespipe::services::dynamodb_streams
