#include "services/dynamodb/fuzz_entry.h"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "services/dynamodb/dynamodb_service.h"

namespace salespipe::services::dynamodb {
namespace {

constexpr const char* kOperations[] = {
    "PutItem",          "GetItem",           "UpdateItem",       "DeleteItem",
    "Query",            "Scan",              "BatchGetItem",     "BatchWriteItem",
    "TransactWriteItems", "TransactGetItems", "CreateTable",     "UpdateTable",
    "DescribeTable",    "ListTables",        "UpdateTimeToLive", "TagResource",
};

struct Scratch {
  SystemClock clock;
  std::unique_ptr<kv::Db> db;
  std::unique_ptr<table::Catalog> catalog;
  std::unique_ptr<table::TableStore> store;
  std::unique_ptr<DynamoDbService> service;

  Scratch() {
    std::string dir = (std::filesystem::temp_directory_path() / "salespipe-fuzz-XXXXXX").string();
    if (!mkdtemp(dir.data())) std::abort();
    db = std::move(kv::Db::Open({.path = dir + "/db"}).value());
    catalog = std::make_unique<table::Catalog>(*db);
    if (!catalog->Load().ok()) std::abort();
    store = std::make_unique<table::TableStore>(*db, *catalog, clock);
    service = std::make_unique<DynamoDbService>(*catalog, *store, clock);
    RequestContext context;
    // Two tables the fuzzed requests can hit: hash-only and hash+range with a GSI.
    service
        ->Handle("CreateTable",
                 R"({"TableName":"t1","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
                     "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
                     "BillingMode":"PAY_PER_REQUEST"})",
                 context)
        .status()
        .IgnoreError();  // best effort: the fuzzer still exercises parsing without it
    service
        ->Handle("CreateTable",
                 R"({"TableName":"t2","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},
                     {"AttributeName":"sk","KeyType":"RANGE"}],
                     "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},
                     {"AttributeName":"sk","AttributeType":"N"},
                     {"AttributeName":"g","AttributeType":"S"}],
                     "GlobalSecondaryIndexes":[{"IndexName":"gi","KeySchema":[
                     {"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}],
                     "BillingMode":"PAY_PER_REQUEST"})",
                 context)
        .status()
        .IgnoreError();  // best effort, as above
  }
};

}  // namespace

int FuzzRequest(const uint8_t* data, size_t size) {
  static Scratch* scratch = new Scratch();  // lives for the fuzzing process
  if (size == 0) return 0;
  const char* operation = kOperations[data[0] % std::size(kOperations)];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  RequestContext context;
  auto result = scratch->service->Handle(operation, body, context);
  (void)result;
  return 0;
}

}  // namespace salespipe::services::dynamodb
