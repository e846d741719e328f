#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/mutex.h"
#include "services/json.h"
#include "services/json_operations.h"
#include "services/service.h"
#include "table/catalog.h"
#include "table/table_store.h"

namespace salespipe::cdc {
class ChangeCapture;
class KinesisConnector;
}  // namespace salespipe::cdc

namespace salespipe::services::dynamodb {

// DynamoDB's wire API (json 1.0, target DynamoDB_20120810) over table/: parses and
// validates each request fully before touching storage, then calls the engine.
// Thread-safe.
class DynamoDbService final : public JsonOperationService<DynamoDbService> {
 public:
  // `catalog`, `store` and `clock` must outlive this object.
  DynamoDbService(table::Catalog& catalog, table::TableStore& store, const Clock& clock);

  std::string_view target_prefix() const override { return "DynamoDB_20120810"; }
  std::string_view service_name() const override { return "dynamodb"; }
  std::string_view content_type() const override { return "application/x-amz-json-1.0"; }
  std::string_view error_namespace() const override {
    return "com.amazonaws.dynamodb.v20120810#";
  }
  bool wants_crc32() const override { return true; }
  // Wires change capture (streams lifecycle) and the Kinesis destination connector; both
  // must outlive this object. Without them, stream settings are only stored and the Kinesis
  // destination operations answer ValidationException.
  void set_change_capture(cdc::ChangeCapture* capture, cdc::KinesisConnector* connector) {
    capture_ = capture;
    connector_ = connector;
  }

 private:
  // Table management (table_ops.cc).
  Result<std::string> CreateTable(const JsonValue& request, const RequestContext& context);
  Result<std::string> DescribeTable(const JsonValue& request, const RequestContext& context);
  Result<std::string> DeleteTable(const JsonValue& request, const RequestContext& context);
  Result<std::string> ListTables(const JsonValue& request, const RequestContext& context);
  Result<std::string> UpdateTable(const JsonValue& request, const RequestContext& context);
  Result<std::string> UpdateTimeToLive(const JsonValue& request, const RequestContext& context);
  Result<std::string> DescribeTimeToLive(const JsonValue& request, const RequestContext& context);
  Result<std::string> TagResource(const JsonValue& request, const RequestContext& context);
  Result<std::string> UntagResource(const JsonValue& request, const RequestContext& context);
  Result<std::string> ListTagsOfResource(const JsonValue& request, const RequestContext& context);
  Result<std::string> DescribeLimits(const JsonValue& request, const RequestContext& context);
  Result<std::string> DescribeEndpoints(const JsonValue& request, const RequestContext& context);
  Result<std::string> DescribeContinuousBackups(const JsonValue& request,
                                                const RequestContext& context);
  Result<std::string> UpdateContinuousBackups(const JsonValue& request,
                                              const RequestContext& context);

  // Kinesis Data Streams destinations (table_ops.cc).
  Result<std::string> EnableKinesisStreamingDestination(const JsonValue& request,
                                                        const RequestContext& context);
  Result<std::string> DisableKinesisStreamingDestination(const JsonValue& request,
                                                         const RequestContext& context);
  Result<std::string> DescribeKinesisStreamingDestination(const JsonValue& request,
                                                          const RequestContext& context);
  Result<std::string> UpdateKinesisStreamingDestination(const JsonValue& request,
                                                        const RequestContext& context);
  // Enable and Disable: the same request, the same checks, one status change.
  Result<std::string> SetKinesisDestination(const JsonValue& request,
                                            const RequestContext& context, bool enable);

  // Single-item operations (item_ops.cc).
  Result<std::string> PutItem(const JsonValue& request, const RequestContext& context);
  Result<std::string> GetItem(const JsonValue& request, const RequestContext& context);
  Result<std::string> UpdateItem(const JsonValue& request, const RequestContext& context);
  Result<std::string> DeleteItem(const JsonValue& request, const RequestContext& context);

  // Reads of many items (query_ops.cc).
  Result<std::string> Query(const JsonValue& request, const RequestContext& context);
  Result<std::string> Scan(const JsonValue& request, const RequestContext& context);

  // Batches and transactions (batch_ops.cc).
  Result<std::string> BatchGetItem(const JsonValue& request, const RequestContext& context);
  Result<std::string> BatchWriteItem(const JsonValue& request, const RequestContext& context);
  Result<std::string> TransactWriteItems(const JsonValue& request, const RequestContext& context);
  Result<std::string> TransactGetItems(const JsonValue& request, const RequestContext& context);

  // Finds a table by name or ARN in the caller's account and region.
  // Errors: kNotFound "Requested resource not found" (or the Describe-style message when
  // `describe_message` is set).
  Result<std::shared_ptr<table::TableHandle>> FindTable(std::string_view name_or_arn,
                                                        const RequestContext& context,
                                                        bool describe_message = false) const;
  // Reads, validates and finds the request's TableName (name or ARN), with Describe-style
  // not-found messages. For the operations whose only input is the table.
  Result<std::shared_ptr<table::TableHandle>> FindRequestTable(const JsonValue& request,
                                                               const RequestContext& context) const;
  // Writes the TableDescription object of `table` (shared by Create/Describe/Update/Delete).
  void WriteTableDescription(JsonWriter& w, const table::TableHandle& table,
                             std::string_view status) const;

  // Set at construction.
  table::Catalog& catalog_;
  table::TableStore& store_;
  const Clock& clock_;
  cdc::ChangeCapture* capture_ = nullptr;        // optional
  cdc::KinesisConnector* connector_ = nullptr;   // optional

  // TransactWriteItems idempotency: token -> (request hash, time, response), 10 minutes.
  struct TokenEntry {
    std::string request_hash;
    int64_t millis = 0;
  };
  Mutex tokens_mu_;
  std::map<std::string, TokenEntry, std::less<>> tokens_ GUARDED_BY(tokens_mu_);
};





}  // namespace salespipe::services::dynamodb
