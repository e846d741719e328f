// Table management through DynamoDbService::Handle, below HTTP: exact errors, validation
// order and what only a fake clock can pin (stream labels). The wire behaviour is covered by
// tests/wire/test_dynamodb_tables.py.

#include <string>

#include "common/clock.h"
#include "common/test_util.h"
#include "kv/test_db.h"
#include "services/dynamodb/dynamodb_service.h"
#include "table/catalog.h"
#include "table/table_store.h"

namespace salespipe::services::dynamodb {
namespace {

using salespipe::testing::StatusIs;

// 2024-05-01T12:00:00.000Z
constexpr int64_t kStartMillis = 1714564800000;

constexpr const char* kHashTable = R"({
  "TableName": "orders",
  "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
  "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
  "BillingMode": "PAY_PER_REQUEST"})";

class TableOpsTest : public ::testing::Test {
 protected:
  TableOpsTest()
      : catalog_(db_.get()),
        clock_(kStartMillis),
        store_(db_.get(), catalog_, clock_),
        service_(catalog_, store_, clock_) {}

  void SetUp() override { ASSERT_OK(catalog_.Load()); }

  Result<std::string> Call(std::string_view operation, std::string_view body) {
    return service_.Handle(operation, body, context_);
  }

  // Calls and parses the response; fails the test on an error.
  JsonDocument Ok(std::string_view operation, std::string_view body) {
    auto result = Call(operation, body);
    EXPECT_TRUE(result.ok()) << operation << ": " << result.status().ToString();
    JsonDocument doc;
    if (result.ok()) doc.Parse(result->data(), result->size());
    return doc;
  }

  kv::TestDb db_;
  table::Catalog catalog_;
  FakeClock clock_;
  table::TableStore store_;
  DynamoDbService service_;
  RequestContext context_;
};

std::string Str(const JsonValue& v) { return std::string(v.GetString(), v.GetStringLength()); }

TEST_F(TableOpsTest, CreateThenDescribe) {
  JsonDocument created = Ok("CreateTable", kHashTable);
  const JsonValue& desc = created["TableDescription"];
  EXPECT_EQ(Str(desc["TableStatus"]), "ACTIVE");
  EXPECT_EQ(Str(desc["TableArn"]), "arn:aws:dynamodb:us-east-1:000000000000:table/orders");
  EXPECT_EQ(desc["CreationDateTime"].GetDouble(), kStartMillis / 1000.0);
  EXPECT_EQ(Str(desc["BillingModeSummary"]["BillingMode"]), "PAY_PER_REQUEST");

  JsonDocument described = Ok("DescribeTable", R"({"TableName": "orders"})");
  EXPECT_EQ(Str(described["Table"]["TableId"]), Str(desc["TableId"]));
  EXPECT_EQ(described["Table"]["ItemCount"].GetInt64(), 0);

  EXPECT_THAT(Call("CreateTable", kHashTable),
              StatusIs(ErrorCode::kAlreadyExists, "Table already exists: orders"));
  EXPECT_THAT(
      Call("DescribeTable", R"({"TableName": "nope"})"),
      StatusIs(ErrorCode::kNotFound, "Requested resource not found: Table: nope not found"));
}

TEST_F(TableOpsTest, TypeErrorsWinOverConstraints) {
  auto result = Call("CreateTable", R"({"TableName": "a;", "KeySchema": "x"})");
  EXPECT_THAT(result, StatusIs(ErrorCode::kInvalidArgument));
  EXPECT_EQ(result.status().aws_code(), "SerializationException");
}

TEST_F(TableOpsTest, ConstraintMessagesStopAtTen) {
  // Nine empty LSIs make 27 violations; AWS lists the first ten.
  std::string body = R"({"TableName": "abc",
    "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
    "LocalSecondaryIndexes": [{},{},{},{},{},{},{},{},{}]})";
  auto result = Call("CreateTable", body);
  EXPECT_THAT(result, StatusIs(ErrorCode::kInvalidArgument,
                               "10 validation errors detected: "
                               "Value null at 'localSecondaryIndexes"
                               ".1.member.projection'"));
  EXPECT_EQ(result.status().aws_code(), "");
}

TEST_F(TableOpsTest, SemanticChecksFollowConstraints) {
  EXPECT_THAT(Call("CreateTable", R"({"TableName": "abc",
    "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"},
                             {"AttributeName": "a", "AttributeType": "N"}],
    "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST"})"),
              StatusIs(ErrorCode::kInvalidArgument, "Attribute Name is duplicated: a"));
  EXPECT_THAT(Call("CreateTable", R"({"TableName": "abc",
    "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
    "ProvisionedThroughput": {"ReadCapacityUnits": 1000000000001, "WriteCapacityUnits": 1}})"),
              StatusIs(ErrorCode::kInvalidArgument,
                       "Given value 1000000000001 for ReadCapacityUnits is out of bounds"));
  EXPECT_THAT(Call("ListTables", "{}"), StatusIs(ErrorCode::kOk));
}

TEST_F(TableOpsTest, StreamLabelsDifferWithinOneMillisecond) {
  Ok("CreateTable", R"({"TableName": "streamed",
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
    "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}})");
  JsonDocument first = Ok("DescribeTable", R"({"TableName": "streamed"})");
  EXPECT_EQ(Str(first["Table"]["LatestStreamLabel"]), "2024-05-01T12:00:00.000");
  EXPECT_EQ(Str(first["Table"]["LatestStreamArn"]),
            "arn:aws:dynamodb:us-east-1:000000000000:table/streamed/stream/"
            "2024-05-01T12:00:00.000");

  // The clock has not moved: the re-enabled stream still gets a new, later label.
  Ok("UpdateTable",
     R"({"TableName": "streamed", "StreamSpecification": {"StreamEnabled": false}})");
  JsonDocument again = Ok("UpdateTable", R"({"TableName": "streamed",
    "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"}})");
  EXPECT_EQ(Str(again["TableDescription"]["LatestStreamLabel"]), "2024-05-01T12:00:00.001");
  EXPECT_THAT(Call("UpdateTable", R"({"TableName": "streamed",
    "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"}})"),
              StatusIs(ErrorCode::kInvalidArgument,
                       "Table already has an enabled stream: TableName: streamed"));
}

TEST_F(TableOpsTest, DeletionProtectionIsValidationException) {
  Ok("CreateTable", R"({"TableName": "kept",
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST", "DeletionProtectionEnabled": true})");
  auto result = Call("DeleteTable", R"({"TableName": "kept"})");
  EXPECT_THAT(result, StatusIs(ErrorCode::kInvalidArgument, "protected against deletion"));
  EXPECT_EQ(result.status().aws_code(), "");
  Ok("UpdateTable", R"({"TableName": "kept", "DeletionProtectionEnabled": false})");
  JsonDocument deleted = Ok("DeleteTable", R"({"TableName": "kept"})");
  EXPECT_EQ(Str(deleted["TableDescription"]["TableStatus"]), "DELETING");
  EXPECT_THAT(Call("DescribeTable", R"({"TableName": "kept"})"), StatusIs(ErrorCode::kNotFound));
}

TEST_F(TableOpsTest, GsiCreatedByUpdateTableIsBackfilled) {
  Ok("CreateTable", kHashTable);
  Ok("PutItem", R"({"TableName": "orders", "Item": {"pk": {"S": "o1"}, "c": {"S": "ann"}}})");
  Ok("PutItem", R"({"TableName": "orders", "Item": {"pk": {"S": "o2"}, "c": {"S": "bob"}}})");
  Ok("PutItem", R"({"TableName": "orders", "Item": {"pk": {"S": "o3"}, "c": {"N": "1"}}})");
  Ok("UpdateTable", R"({"TableName": "orders",
    "AttributeDefinitions": [{"AttributeName": "c", "AttributeType": "S"}],
    "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": "by_c",
      "KeySchema": [{"AttributeName": "c", "KeyType": "HASH"}],
      "Projection": {"ProjectionType": "ALL"}}}]})");
  JsonDocument found = Ok("Query", R"({"TableName": "orders", "IndexName": "by_c",
    "KeyConditionExpression": "c = :c", "ExpressionAttributeValues": {":c": {"S": "bob"}}})");
  ASSERT_EQ(found["Count"].GetInt(), 1);
  EXPECT_EQ(Str(found["Items"][0]["pk"]["S"]), "o2");

  EXPECT_THAT(Call("UpdateTable", R"({"TableName": "orders",
    "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "ghost"}}]})"),
              StatusIs(ErrorCode::kNotFound, "Index ghost for table orders"));
  EXPECT_THAT(Call("UpdateTable", R"({"TableName": "orders",
    "AttributeDefinitions": [{"AttributeName": "c", "AttributeType": "N"}],
    "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": "by_c2",
      "KeySchema": [{"AttributeName": "c", "KeyType": "HASH"}],
      "Projection": {"ProjectionType": "ALL"}}}]})"),
              StatusIs(ErrorCode::kInvalidArgument, "Cannot change the type of attribute c"));
  auto limited = Call("UpdateTable", R"({"TableName": "orders",
    "AttributeDefinitions": [{"AttributeName": "d", "AttributeType": "S"}],
    "GlobalSecondaryIndexUpdates": [
      {"Delete": {"IndexName": "by_c"}},
      {"Create": {"IndexName": "by_d", "KeySchema": [{"AttributeName": "d", "KeyType": "HASH"}],
                  "Projection": {"ProjectionType": "ALL"}}}]})");
  EXPECT_THAT(limited, StatusIs(ErrorCode::kResourceExhausted));
  EXPECT_EQ(limited.status().aws_code(), "LimitExceededException");

  Ok("UpdateTable", R"({"TableName": "orders",
    "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "by_c"}}]})");
  JsonDocument described = Ok("DescribeTable", R"({"TableName": "orders"})");
  EXPECT_FALSE(described["Table"].HasMember("GlobalSecondaryIndexes"));
  EXPECT_EQ(described["Table"]["AttributeDefinitions"].Size(), 1u);
}

TEST_F(TableOpsTest, ListTablesPagesEndWithoutToken) {
  for (const char* name : {"t_a", "t_b", "t_c"}) {
    Ok("CreateTable",
       std::string(kHashTable).replace(std::string(kHashTable).find("orders"), 6, name));
  }
  JsonDocument full = Ok("ListTables", R"({"Limit": 3})");
  EXPECT_EQ(full["TableNames"].Size(), 3u);
  EXPECT_FALSE(full.HasMember("LastEvaluatedTableName"));
  JsonDocument partial = Ok("ListTables", R"({"Limit": 2})");
  EXPECT_EQ(Str(partial["LastEvaluatedTableName"]), "t_b");
}

TEST_F(TableOpsTest, BackupApisUseTableNotFound) {
  auto result = Call("DescribeContinuousBackups", R"({"TableName": "nope"})");
  EXPECT_THAT(result, StatusIs(ErrorCode::kNotFound, "Table not found: nope"));
  EXPECT_EQ(result.status().aws_code(), "TableNotFoundException");
}

TEST_F(TableOpsTest, TtlIsStoredForTheSweeper) {
  Ok("CreateTable", kHashTable);
  Ok("UpdateTimeToLive", R"({"TableName": "orders",
    "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "expires"}})");
  ASSERT_OK_AND_ASSIGN(auto handle, catalog_.Get("000000000000", "us-east-1", "orders"));
  EXPECT_TRUE(handle->def()->ttl.enabled);
  EXPECT_EQ(handle->def()->ttl.attribute, "expires");
}

}  // namespace
}  // namespace salespipe::services::dynamodb
