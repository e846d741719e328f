// The persisted JSON form of an event source mapping (event_source_mapping.h). Members are
// only ever added; readers default what is missing.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "lambda/event_source_mapping.h"
#include "lambda/record_json.h"

namespace salespipe::lambda {
namespace {

using namespace record_json;  // NOLINT: the helpers are this file's vocabulary

}  // namespace

std::string EncodeMapping(const MappingConfig& m) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Str(w, "uuid", m.uuid);
  Str(w, "account", m.account_id);
  Str(w, "region", m.region);
  Str(w, "function", m.function_arn);
  Str(w, "source", m.event_source_arn);
  Str(w, "kind", m.kind == SourceKind::kKinesis ? "kinesis" : "dynamodb");
  Str(w, "log", m.log_name);
  Int(w, "batch", m.batch_size);
  Int(w, "window", m.maximum_batching_window_seconds);
  Str(w, "start", m.starting_position);
  Int(w, "start_ts", m.starting_timestamp_ms);
  Int(w, "bisect", m.bisect_batch_on_function_error ? 1 : 0);
  Int(w, "retries", m.maximum_retry_attempts);
  Int(w, "max_age", m.maximum_record_age_seconds);
  Int(w, "parallel", m.parallelization_factor);
  Int(w, "tumbling", m.tumbling_window_seconds);
  Int(w, "report_failures", m.report_batch_item_failures ? 1 : 0);
  Int(w, "enabled", m.enabled ? 1 : 0);
  Str(w, "state", m.state);
  Str(w, "reason", m.state_transition_reason);
  Int(w, "modified", m.last_modified_ms);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<MappingConfig> DecodeMapping(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return Status::Internal("corrupt mapping record");
  MappingConfig m;
  m.uuid = GetStr(doc, "uuid");
  if (m.uuid.empty()) return Status::Internal("corrupt mapping record");
  m.account_id = GetStr(doc, "account");
  m.region = GetStr(doc, "region");
  m.function_arn = GetStr(doc, "function");
  m.event_source_arn = GetStr(doc, "source");
  m.kind = GetStr(doc, "kind") == "dynamodb" ? SourceKind::kDynamoDbStream : SourceKind::kKinesis;
  m.log_name = GetStr(doc, "log");
  m.batch_size = static_cast<int>(GetInt(doc, "batch", 100));
  m.maximum_batching_window_seconds = static_cast<int>(GetInt(doc, "window", 0));
  m.starting_position = GetStr(doc, "start", "LATEST");
  m.starting_timestamp_ms = GetInt(doc, "start_ts", 0);
  m.bisect_batch_on_function_error = GetInt(doc, "bisect", 0) != 0;
  m.maximum_retry_attempts = static_cast<int>(GetInt(doc, "retries", -1));
  m.maximum_record_age_seconds = static_cast<int>(GetInt(doc, "max_age", -1));
  m.parallelization_factor = static_cast<int>(GetInt(doc, "parallel", 1));
  m.tumbling_window_seconds = static_cast<int>(GetInt(doc, "tumbling", 0));
  m.report_batch_item_failures = GetInt(doc, "report_failures", 0) != 0;
  m.enabled = GetInt(doc, "enabled", 1) != 0;
  m.state = GetStr(doc, "state", "Enabled");
  m.state_transition_reason = GetStr(doc, "reason", "USER_INITIATED");
  m.last_modified_ms = GetInt(doc, "modified", 0);
  return m;
}

}  // namespace salespipe::lambda
