#include "services/dynamodb/dynamodb_service.h"

#include "common/logging.h"

namespace salespipe::services::dynamodb {

DynamoDbService::DynamoDbService(table::Catalog& catalog, table::TableStore& store,
                                 const Clock& clock)
    : catalog_(catalog), store_(store), clock_(clock) {
  SetOperations({
      {"CreateTable", &DynamoDbService::CreateTable},
      {"DescribeTable", &DynamoDbService::DescribeTable},
      {"DeleteTable", &DynamoDbService::DeleteTable},
      {"ListTables", &DynamoDbService::ListTables},
      {"UpdateTable", &DynamoDbService::UpdateTable},
      {"UpdateTimeToLive", &DynamoDbService::UpdateTimeToLive},
      {"DescribeTimeToLive", &DynamoDbService::DescribeTimeToLive},
      {"TagResource", &DynamoDbService::TagResource},
      {"UntagResource", &DynamoDbService::UntagResource},
      {"ListTagsOfResource", &DynamoDbService::ListTagsOfResource},
      {"DescribeLimits", &DynamoDbService::DescribeLimits},
      {"DescribeEndpoints", &DynamoDbService::DescribeEndpoints},
      {"DescribeContinuousBackups", &DynamoDbService::DescribeContinuousBackups},
      {"UpdateContinuousBackups", &DynamoDbService::UpdateContinuousBackups},
      {"PutItem", &DynamoDbService::PutItem},
      {"GetItem", &DynamoDbService::GetItem},
      {"UpdateItem", &DynamoDbService::UpdateItem},
      {"DeleteItem", &DynamoDbService::DeleteItem},
      {"Query", &DynamoDbService::Query},
      {"Scan", &DynamoDbService::Scan},
      {"BatchGetItem", &DynamoDbService::BatchGetItem},
      {"BatchWriteItem", &DynamoDbService::BatchWriteItem},
      {"TransactWriteItems", &DynamoDbService::TransactWriteItems},
      {"TransactGetItems", &DynamoDbService::TransactGetItems},
      {"EnableKinesisStreamingDestination", &DynamoDbService::EnableKinesisStreamingDestination},
      {"DisableKinesisStreamingDestination",
       &DynamoDbService::DisableKinesisStreamingDestination},
      {"DescribeKinesisStreamingDestination",
       &DynamoDbService::DescribeKinesisStreamingDestination},
      {"UpdateKinesisStreamingDestination", &DynamoDbService::UpdateKinesisStreamingDestination},
  });
}

Result<std::shared_ptr<table::TableHandle>> DynamoDbService::FindTable(
    std::string_view name_or_arn, const RequestContext& context, bool describe_message) const {
  std::string_view name = name_or_arn;
  std::string_view account = context.account_id;
  std::string_view region = context.region;
  // arn:aws:dynamodb:<region>:<account>:table/<name>
  if (name.substr(0, 4) == "arn:") {
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (int i = 0; i < 5; ++i) {
      size_t colon = name.find(':', start);
      if (colon == std::string_view::npos) break;
      parts.push_back(name.substr(start, colon - start));
      start = colon + 1;
    }
    std::string_view resource = start < name.size() ? name.substr(start) : std::string_view();
    if (parts.size() == 5 && resource.substr(0, 6) == "table/") {
      region = parts[3];
      account = parts[4];
      name = resource.substr(6);
      size_t slash = name.find('/');
      if (slash != std::string_view::npos) name = name.substr(0, slash);
    }
  }
  auto table = catalog_.Get(account, region, name);
  if (!table.ok() && !describe_message) return Status::NotFound("Requested resource not found");
  return table;
}

}  // namespace salespipe::services::dynamodb
