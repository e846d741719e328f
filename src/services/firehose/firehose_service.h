#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/mutex.h"
#include "delivery/delivery_engine.h"
#include "services/json.h"
#include "services/json_operations.h"
#include "services/service.h"

namespace salespipe::services::firehose {

// Amazon Data Firehose's wire API (json 1.1, target Firehose_20150804, bare error codes) over
// the delivery engine. The stream's description, tags and encryption settings live in the
// engine's opaque attributes (JSON: {"extended", "destination", "tags", "encryption",
// "source_role"}). Differences from AWS: docs/compat/firehose.md. Thread-safe.
class FirehoseService final : public JsonOperationService<FirehoseService> {
 public:
  // `engine` and `clock` must outlive this object.
  FirehoseService(delivery::DeliveryEngine& engine, const Clock& clock);

  std::string_view target_prefix() const override { return "Firehose_20150804"; }
  std::string_view service_name() const override { return "firehose"; }
  std::string_view content_type() const override { return "application/x-amz-json-1.1"; }
  std::string_view error_namespace() const override { return ""; }

 private:
  Result<std::string> CreateDeliveryStream(const JsonValue& request, const RequestContext& context);
  Result<std::string> DescribeDeliveryStream(const JsonValue& request,
                                             const RequestContext& context);
  Result<std::string> ListDeliveryStreams(const JsonValue& request, const RequestContext& context);
  Result<std::string> DeleteDeliveryStream(const JsonValue& request, const RequestContext& context);
  Result<std::string> UpdateDestination(const JsonValue& request, const RequestContext& context);
  Result<std::string> PutRecord(const JsonValue& request, const RequestContext& context);
  Result<std::string> PutRecordBatch(const JsonValue& request, const RequestContext& context);
  Result<std::string> TagDeliveryStream(const JsonValue& request, const RequestContext& context);
  Result<std::string> UntagDeliveryStream(const JsonValue& request, const RequestContext& context);
  Result<std::string> ListTagsForDeliveryStream(const JsonValue& request,
                                                const RequestContext& context);
  Result<std::string> StartDeliveryStreamEncryption(const JsonValue& request,
                                                    const RequestContext& context);
  Result<std::string> StopDeliveryStreamEncryption(const JsonValue& request,
                                                   const RequestContext& context);

  // The stream named by DeliveryStreamName (validated). Errors: ValidationException,
  // ResourceNotFoundException.
  Result<delivery::StreamDef> FindStream(const JsonValue& request, const RequestContext& context,
                                         std::string* name);
  Result<std::string> ChangeEncryption(const JsonValue& request, const RequestContext& context,
                                       bool start);

  // Set at construction.
  delivery::DeliveryEngine& engine_;
  const Clock& clock_;

  // Serializes read-modify-writes of a stream's attributes (tags, encryption, updates).
  Mutex mu_;
};

}  // namespace salespipe::services::firehose
