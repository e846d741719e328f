// Event source mappings: Create / Get / Update / Delete / List (spec 7.4).
#include <algorithm>
#include <cmath>

#include "cdc/kinesis_connector.h"
#include "services/dynamodb_streams/dynamodb_streams_service.h"
#include "services/lambda/lambda_service.h"

namespace salespipe::services::lambda {
namespace {

using salespipe::lambda::MappingConfig;
using salespipe::lambda::SourceKind;

void WriteMapping(JsonWriter& w, const MappingConfig& m) {
  w.StartObject();
  WriteKey(w, "UUID");
  WriteString(w, m.uuid);
  WriteKey(w, "StartingPosition");
  WriteString(w, m.starting_position);
  if (m.starting_position == "AT_TIMESTAMP") {
    WriteKey(w, "StartingPositionTimestamp");
    WriteEpochSeconds(w, m.starting_timestamp_ms);
  }
  WriteKey(w, "BatchSize");
  w.Int(m.batch_size);
  WriteKey(w, "MaximumBatchingWindowInSeconds");
  w.Int(m.maximum_batching_window_seconds);
  WriteKey(w, "ParallelizationFactor");
  w.Int(m.parallelization_factor);
  WriteKey(w, "EventSourceArn");
  WriteString(w, m.event_source_arn);
  WriteKey(w, "FunctionArn");
  WriteString(w, m.function_arn);
  WriteKey(w, "LastModified");
  WriteEpochSeconds(w, m.last_modified_ms);
  WriteKey(w, "LastProcessingResult");
  WriteString(w, m.last_processing_result);
  WriteKey(w, "State");
  WriteString(w, m.state);
  WriteKey(w, "StateTransitionReason");
  WriteString(w, m.state_transition_reason);
  WriteKey(w, "DestinationConfig");
  w.StartObject();
  WriteKey(w, "OnFailure");
  w.StartObject();
  w.EndObject();
  w.EndObject();
  WriteKey(w, "MaximumRecordAgeInSeconds");
  w.Int(m.maximum_record_age_seconds);
  WriteKey(w, "BisectBatchOnFunctionError");
  w.Bool(m.bisect_batch_on_function_error);
  WriteKey(w, "MaximumRetryAttempts");
  w.Int(m.maximum_retry_attempts);
  WriteKey(w, "TumblingWindowInSeconds");
  w.Int(m.tumbling_window_seconds);
  WriteKey(w, "FunctionResponseTypes");
  w.StartArray();
  if (m.report_batch_item_failures) WriteString(w, "ReportBatchItemFailures");
  w.EndArray();
  WriteKey(w, "EventSourceMappingArn");
  WriteString(w, "arn:aws:lambda:" + m.region + ":" + m.account_id + ":event-source-mapping:" +
                     m.uuid);
  w.EndObject();
}

std::string MappingJson(const MappingConfig& m) {
  return ToJson([&](JsonWriter& w) { WriteMapping(w, m); });
}

// An integer member within [min, max] into `*out`.
Status ReadBounded(const JsonValue& body, std::string_view name, std::string_view path,
                   int64_t min, int64_t max, int* out, ValidationErrors& errors) {
  ASSIGN_OR_RETURN(std::optional<int64_t> value, GetInteger(body, name));
  if (!value) return Status::Ok();
  if (*value < min) {
    errors.AddConstraint(std::to_string(*value), path,
                         "Member must have value greater than or equal to " + std::to_string(min));
  } else if (*value > max) {
    errors.AddConstraint(std::to_string(*value), path,
                         "Member must have value less than or equal to " + std::to_string(max));
  } else {
    *out = static_cast<int>(*value);
  }
  return Status::Ok();
}

// The members Create and Update share.
Status ApplyMappingMembers(const JsonValue& body, MappingConfig& m, ValidationErrors& errors) {
  RETURN_IF_ERROR(ReadBounded(body, "BatchSize", "batchSize", 1, 10000, &m.batch_size, errors));
  RETURN_IF_ERROR(ReadBounded(body, "MaximumBatchingWindowInSeconds",
                              "maximumBatchingWindowInSeconds", 0, 300,
                              &m.maximum_batching_window_seconds, errors));
  RETURN_IF_ERROR(ReadBounded(body, "MaximumRetryAttempts", "maximumRetryAttempts", -1, 10000,
                              &m.maximum_retry_attempts, errors));
  RETURN_IF_ERROR(ReadBounded(body, "MaximumRecordAgeInSeconds", "maximumRecordAgeInSeconds", -1,
                              604800, &m.maximum_record_age_seconds, errors));
  RETURN_IF_ERROR(ReadBounded(body, "ParallelizationFactor", "parallelizationFactor", 1, 10,
                              &m.parallelization_factor, errors));
  RETURN_IF_ERROR(ReadBounded(body, "TumblingWindowInSeconds", "tumblingWindowInSeconds", 0, 900,
                              &m.tumbling_window_seconds, errors));
  ASSIGN_OR_RETURN(std::optional<bool> bisect, GetBool(body, "BisectBatchOnFunctionError"));
  if (bisect) m.bisect_batch_on_function_error = *bisect;
  ASSIGN_OR_RETURN(std::optional<bool> enabled, GetBool(body, "Enabled"));
  if (enabled) m.enabled = *enabled;
  ASSIGN_OR_RETURN(const JsonValue* types, GetArray(body, "FunctionResponseTypes"));
  if (types != nullptr) {
    m.report_batch_item_failures = false;
    for (const JsonValue& type : types->GetArray()) {
      ASSIGN_OR_RETURN(std::string_view value, AsString(type));
      if (value != "ReportBatchItemFailures") {
        errors.AddConstraint("[" + std::string(value) + "]", "functionResponseTypes",
                             "Member must satisfy constraint: [Member must satisfy enum value "
                             "set: [ReportBatchItemFailures]]");
      }
      m.report_batch_item_failures = true;
    }
  }
  if (m.maximum_record_age_seconds >= 0 && m.maximum_record_age_seconds < 60) {
    errors.AddConstraint(std::to_string(m.maximum_record_age_seconds),
                         "maximumRecordAgeInSeconds",
                         "Member must have value greater than or equal to 60");
  }
  // Accepted members with behaviour salespipe does not implement are refused (compat doc).
  if (m.tumbling_window_seconds > 0) {
    return InvalidParameter("TumblingWindowInSeconds is not supported by salespipe");
  }
  for (std::string_view member : {"FilterCriteria", "DestinationConfig"}) {
    const JsonValue* value = FindMember(body, member);
    if (value == nullptr || !value->IsObject()) continue;
    bool empty = true;
    for (auto it = value->MemberBegin(); it != value->MemberEnd(); ++it) {
      bool inner_empty = it->value.IsNull() ||
                         (it->value.IsObject() && it->value.MemberCount() == 0) ||
                         (it->value.IsArray() && it->value.Empty());
      if (!inner_empty) empty = false;
    }
    if (!empty) return InvalidParameter(std::string(member) + " is not supported by salespipe");
  }
  return Status::Ok();
}

}  // namespace

Result<http::RestResponse> LambdaService::CreateEventSourceMapping(const LambdaCall& call) {
  if (mappings_ == nullptr) return Status::Internal("event source mappings are not wired");
  ASSIGN_OR_RETURN(JsonDocument body, ParseJsonBody(call.raw.body));
  ValidationErrors errors;
  ASSIGN_OR_RETURN(std::optional<std::string_view> source, GetString(body, "EventSourceArn"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> function, GetString(body, "FunctionName"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> position, GetString(body, "StartingPosition"));
  if (!function) errors.AddNull("functionName");
  if (position && *position != "TRIM_HORIZON" && *position != "LATEST" &&
      *position != "AT_TIMESTAMP") {
    errors.AddConstraint("'" + std::string(*position) + "'", "startingPosition",
                         "Member must satisfy enum value set: [AT_TIMESTAMP, LATEST, "
                         "TRIM_HORIZON]");
  }
  MappingConfig mapping{.account_id = call.context.account_id, .region = call.context.region};
  RETURN_IF_ERROR(ApplyMappingMembers(body, mapping, errors));
  RETURN_IF_ERROR(ValidationError(errors));
  if (!source) {
    return InvalidParameter("Unrecognized event source, must be kinesis, dynamodb stream or sqs.");
  }
  mapping.event_source_arn = std::string(*source);
  if (std::optional<std::string> log_name = cdc::KinesisLogNameForArn(*source)) {
    mapping.kind = SourceKind::kKinesis;
    mapping.log_name = *log_name;
  } else if (std::optional<dynamodb_streams::StreamArnParts> parts =
                 dynamodb_streams::ParseStreamArn(*source)) {
    mapping.kind = SourceKind::kDynamoDbStream;
    mapping.log_name = "ddbstream/" + parts->account_id + "/" + parts->region + "/" +
                       parts->table_name + "/" + parts->label;
  } else {
    return InvalidParameter(
        "Unrecognized event source, must be kinesis, dynamodb stream or sqs (salespipe: "
        "Kinesis and DynamoDB streams only).");
  }
  if (!position) return InvalidParameter("StartingPosition is required for stream sources.");
  mapping.starting_position = std::string(*position);
  if (*position == "AT_TIMESTAMP") {
    if (mapping.kind == SourceKind::kDynamoDbStream) {
      return InvalidParameter("Unsupported starting position for DynamoDB: AT_TIMESTAMP");
    }
    const JsonValue* timestamp = FindMember(body, "StartingPositionTimestamp");
    if (timestamp == nullptr || !timestamp->IsNumber()) {
      return InvalidParameter(
          "StartingPositionTimestamp must be specified when StartingPosition is AT_TIMESTAMP.");
    }
    mapping.starting_timestamp_ms = static_cast<int64_t>(std::llround(timestamp->GetDouble() * 1000));
  }
  // The function must exist; the mapping keeps its ARN (with the qualifier, if any).
  Result<salespipe::lambda::ResolvedFunction> resolved =
      engine_.Resolve(*function, "", call.context.account_id, call.context.region);
  if (!resolved.ok()) {
    if (resolved.status().code() == ErrorCode::kNotFound) {
      return NotFound("Function does not exist");
    }
    return InvalidParameter(resolved.status().message());
  }
  mapping.function_arn = resolved->spec.invoked_arn;
  Result<MappingConfig> created = mappings_->Create(std::move(mapping));
  if (!created.ok()) {
    if (created.status().code() == ErrorCode::kAlreadyExists) {
      return Conflict(created.status().message());
    }
    if (created.status().code() == ErrorCode::kNotFound) {
      return InvalidParameter("Stream not found: " + std::string(*source));
    }
    return created.status();
  }
  return JsonResponse(202, MappingJson(*created));
}

Result<http::RestResponse> LambdaService::GetEventSourceMapping(const LambdaCall& call) {
  if (mappings_ == nullptr) return Status::Internal("event source mappings are not wired");
  // kNotFound renders as ResourceNotFoundException.
  ASSIGN_OR_RETURN(MappingConfig mapping, mappings_->Get(call.labels[0]));
  return JsonResponse(200, MappingJson(mapping));
}

Result<http::RestResponse> LambdaService::UpdateEventSourceMapping(const LambdaCall& call) {
  if (mappings_ == nullptr) return Status::Internal("event source mappings are not wired");
  ASSIGN_OR_RETURN(JsonDocument body, ParseJsonBody(call.raw.body));
  ASSIGN_OR_RETURN(std::optional<std::string_view> function, GetString(body, "FunctionName"));
  std::string function_arn;
  if (function) {
    Result<salespipe::lambda::ResolvedFunction> resolved =
        engine_.Resolve(*function, "", call.context.account_id, call.context.region);
    if (!resolved.ok()) return NotFound("Function does not exist");
    function_arn = resolved->spec.invoked_arn;
  }
  ASSIGN_OR_RETURN(MappingConfig updated,
                   mappings_->Update(call.labels[0], [&](MappingConfig& m) {
                     ValidationErrors errors;
                     RETURN_IF_ERROR(ApplyMappingMembers(body, m, errors));
                     RETURN_IF_ERROR(ValidationError(errors));
                     if (!function_arn.empty()) m.function_arn = function_arn;
                     return Status::Ok();
                   }));
  return JsonResponse(202, MappingJson(updated));
}

Result<http::RestResponse> LambdaService::DeleteEventSourceMapping(const LambdaCall& call) {
  if (mappings_ == nullptr) return Status::Internal("event source mappings are not wired");
  ASSIGN_OR_RETURN(MappingConfig deleted, mappings_->Delete(call.labels[0]));
  return JsonResponse(202, MappingJson(deleted));
}

Result<http::RestResponse> LambdaService::ListEventSourceMappings(const LambdaCall& call) {
  if (mappings_ == nullptr) return Status::Internal("event source mappings are not wired");
  ASSIGN_OR_RETURN(Paging paging, ReadPaging(call, 100));
  std::string function_arn;
  if (std::optional<std::string> function = call.Query("FunctionName")) {
    Result<salespipe::lambda::FunctionRef> ref = salespipe::lambda::ParseFunctionRef(
        *function, call.context.account_id, call.context.region);
    if (!ref.ok()) return InvalidParameter(ref.status().message());
    function_arn = salespipe::lambda::FunctionArn(ref->region, ref->account_id, ref->name);
    if (!ref->qualifier.empty()) function_arn += ":" + ref->qualifier;
  }
  std::vector<MappingConfig> all =
      mappings_->List(call.context.account_id, call.context.region,
                      call.Query("EventSourceArn").value_or(""), function_arn);
  std::vector<const MappingConfig*> page;
  bool more = false;
  for (const MappingConfig& m : all) {
    if (!paging.marker.empty() && m.uuid <= paging.marker) continue;
    if (static_cast<int>(page.size()) == paging.max_items) {
      more = true;
      break;
    }
    page.push_back(&m);
  }
  return JsonResponse(200, ToJson([&](JsonWriter& w) {
                        w.StartObject();
                        WriteKey(w, "EventSourceMappings");
                        w.StartArray();
                        for (const MappingConfig* m : page) WriteMapping(w, *m);
                        w.EndArray();
                        if (more) {
                          WriteKey(w, "NextMarker");
                          WriteString(w, page.back()->uuid);
                        }
                        w.EndObject();
                      }));
}

}  // namespace salespipe::services::lambda
