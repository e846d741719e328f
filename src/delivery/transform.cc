#include "delivery/transform.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <set>

#include "common/crypto.h"
#include "common/logging.h"

namespace salespipe::delivery {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string ShardIdText(uint32_t index) {
  char text[32];
  std::snprintf(text, sizeof(text), "shardId-%012u", index);
  return text;
}

constexpr std::string_view kMissingMessage =
    "One or more record Ids were not returned. Ensure that the Lambda function returns all "
    "received record Ids.";
constexpr std::string_view kDuplicateMessage =
    "One or more record Ids were returned more than once. Ensure that the Lambda function "
    "returns each received record Id only once.";

InvocationError JsonError(std::string detail) {
  return {"Lambda.JsonProcessingException",
          "The response from the Lambda function could not be processed: " + detail};
}

InvocationError FromInvokerStatus(const Status& status, std::string_view function) {
  switch (status.code()) {
    case ErrorCode::kNotFound:
      return {"Lambda.ResourceNotFound",
              "The Lambda function " + std::string(function) + " was not found."};
    case ErrorCode::kResourceExhausted:
      return {"Lambda.InvokeLimitExceeded",
              "The Lambda concurrent execution limit is exceeded: " + status.message()};
    default:
      break;
  }
  return {"Lambda.ServiceException",
          "The Lambda function could not be invoked: " + status.message()};
}

}  // namespace

std::string BuildTransformEvent(const TransformContext& context,
                                const std::vector<const SourceRecord*>& records,
                                std::string_view invocation_id) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Str(w, "invocationId", invocation_id);
  Str(w, "deliveryStreamArn", context.stream_arn);
  const bool kinesis = !context.source_kinesis_arn.empty();
  if (kinesis) Str(w, "sourceKinesisStreamArn", context.source_kinesis_arn);
  Str(w, "region", context.region);
  w.Key("records");
  w.StartArray();
  for (const SourceRecord* record : records) {
    w.StartObject();
    Str(w, "recordId", record->record_id);
    w.Key("approximateArrivalTimestamp");
    w.Int64(record->arrival_millis);
    Str(w, "data", Base64Encode(record->data));
    if (kinesis) {
      w.Key("kinesisRecordMetadata");
      w.StartObject();
      Str(w, "shardId", ShardIdText(record->shard));
      Str(w, "partitionKey", record->partition_key);
      w.Key("approximateArrivalTimestamp");
      w.Int64(record->arrival_millis);
      Str(w, "sequenceNumber", record->kinesis_sequence);
      w.Key("subsequenceNumber");
      w.Int(0);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::optional<InvocationError> ParseTransformResponse(
    std::string payload, const std::vector<const SourceRecord*>& records, int64_t now_millis,
    TransformResult* result) {
  if (payload.size() > kMaxInvokePayload) {
    // What AWS users see for an oversized response (spec 6.6).
    return InvocationError{"Lambda.MissingRecordId", std::string(kMissingMessage)};
  }
  rapidjson::Document doc;
  // In situ: the response is ours to consume, and its strings (the records' base64 data) are
  // then neither copied nor allocated apart. The terminator std::string keeps stops the scan.
  doc.ParseInsitu(payload.data());
  if (doc.HasParseError() || !doc.IsObject()) return JsonError("not a JSON object");
  auto list = doc.FindMember("records");
  if (list == doc.MemberEnd() || !list->value.IsArray()) {
    return JsonError("no records array");
  }
  std::map<std::string, size_t, std::less<>> index_of;
  for (size_t i = 0; i < records.size(); ++i) index_of.emplace(records[i]->record_id, i);
  struct Outcome {
    enum Kind { kOk, kDropped, kFailed } kind;
    std::string data;
    std::map<std::string, std::string> keys;
  };
  std::map<size_t, Outcome> outcomes;
  bool duplicate = false;
  for (const rapidjson::Value& entry : list->value.GetArray()) {
    if (!entry.IsObject()) return JsonError("a record is not an object");
    auto id = entry.FindMember("recordId");
    auto status = entry.FindMember("result");
    if (id == entry.MemberEnd() || !id->value.IsString()) return JsonError("recordId missing");
    if (status == entry.MemberEnd() || !status->value.IsString()) {
      return JsonError("result missing");
    }
    std::string_view id_text(id->value.GetString(), id->value.GetStringLength());
    std::string_view status_text(status->value.GetString(), status->value.GetStringLength());
    Outcome outcome;
    if (status_text == "Ok") {
      outcome.kind = Outcome::kOk;
      auto data = entry.FindMember("data");
      if (data == entry.MemberEnd() || !data->value.IsString()) {
        return JsonError("an Ok record has no data");
      }
      std::optional<std::string> decoded = Base64Decode(
          std::string_view(data->value.GetString(), data->value.GetStringLength()));
      if (!decoded) return JsonError("an Ok record's data is not valid base64");
      outcome.data = std::move(*decoded);
      auto metadata = entry.FindMember("metadata");
      if (metadata != entry.MemberEnd() && metadata->value.IsObject()) {
        auto keys = metadata->value.FindMember("partitionKeys");
        if (keys != metadata->value.MemberEnd() && keys->value.IsObject()) {
          for (const auto& key : keys->value.GetObject()) {
            if (!key.value.IsString()) return JsonError("a partition key is not a string");
            outcome.keys[std::string(key.name.GetString(), key.name.GetStringLength())] =
                std::string(key.value.GetString(), key.value.GetStringLength());
          }
        }
      }
    } else if (status_text == "Dropped") {
      outcome.kind = Outcome::kDropped;
    } else if (status_text == "ProcessingFailed") {
      outcome.kind = Outcome::kFailed;
    } else {
      return JsonError("unknown result " + std::string(status_text));
    }
    auto it = index_of.find(id_text);
    if (it == index_of.end()) continue;  // an id we never sent: ignored, as AWS does
    if (!outcomes.emplace(it->second, std::move(outcome)).second) duplicate = true;
  }
  if (duplicate) return InvocationError{"Lambda.DuplicatedRecordId", std::string(kDuplicateMessage)};
  if (outcomes.size() != records.size()) {
    return InvocationError{"Lambda.MissingRecordId", std::string(kMissingMessage)};
  }
  for (auto& [index, outcome] : outcomes) {
    switch (outcome.kind) {
      case Outcome::kOk:
        result->ok.push_back(TransformedRecord{
            .index = index, .data = std::move(outcome.data), .partition_keys = std::move(outcome.keys)});
        break;
      case Outcome::kDropped:
        ++result->dropped;
        break;
      case Outcome::kFailed:
        result->failed.push_back(FailedRecord{.index = index,
                                              .error_code = "Lambda.ProcessingFailedStatus",
                                              .error_message = "ProcessingFailed status set for record",
                                              .attempts = 1,
                                              .attempt_ending_millis = now_millis});
        break;
    }
  }
  return std::nullopt;
}

TransformResult Transform(lambda::Invoker* invoker, const LambdaProcessor& processor,
                          const TransformContext& context,
                          const std::vector<const SourceRecord*>& records, const Clock& clock) {
  TransformResult result;
  if (records.empty()) return result;
  InvocationError last;
  const int attempts = 1 + std::max(0, processor.retries);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    ++result.invocations;
    std::string event = BuildTransformEvent(context, records, NewUuid());
    if (invoker == nullptr) {
      last = FromInvokerStatus(Status::NotFound("no Lambda service"), processor.function_arn);
      continue;
    }
    Result<lambda::InvokeResult> invoked = invoker->Invoke(lambda::InvokeRequest{
        .function = processor.function_arn,
        .account_id = context.account,
        .region = context.region,
        .type = lambda::InvocationType::kRequestResponse,
        .payload = std::move(event),
        .payload_is_valid_json = true});
    if (!invoked.ok()) {
      last = FromInvokerStatus(invoked.status(), processor.function_arn);
      continue;
    }
    if (invoked->function_error) {
      last = {"Lambda.FunctionError",
              "The Lambda function was successfully invoked but it returned an error result."};
      continue;
    }
    TransformResult parsed;
    std::optional<InvocationError> error =
        ParseTransformResponse(std::move(invoked->payload), records, clock.NowMillis(), &parsed);
    if (error) {
      last = std::move(*error);
      continue;
    }
    parsed.invocations = result.invocations;
    return parsed;
  }
  SPDLOG_WARN("firehose: transform by {} failed {} times ({}: {}); {} records go to the error "
              "output",
              processor.function_arn, attempts, last.code, last.message, records.size());
  int64_t now = clock.NowMillis();
  for (size_t i = 0; i < records.size(); ++i) {
    result.failed.push_back(FailedRecord{.index = i,
                                         .error_code = last.code,
                                         .error_message = last.message,
                                         .attempts = attempts,
                                         .attempt_ending_millis = now});
  }
  return result;
}

std::string ErrorEnvelope(const SourceRecord& record, const FailedRecord& failure,
                          std::string_view lambda_arn) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("attemptsMade");
  w.Int(failure.attempts);
  w.Key("arrivalTimestamp");
  w.Int64(record.arrival_millis);
  Str(w, "errorCode", failure.error_code);
  Str(w, "errorMessage", failure.error_message);
  w.Key("attemptEndingTimestamp");
  w.Int64(failure.attempt_ending_millis);
  Str(w, "rawData", Base64Encode(record.data));
  if (!lambda_arn.empty()) Str(w, "lambdaArn", lambda_arn);
  w.EndObject();
  std::string out(buffer.GetString(), buffer.GetSize());
  out.push_back('\n');
  return out;
}

}  // namespace salespipe::delivery
