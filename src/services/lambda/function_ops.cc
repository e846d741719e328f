// Functions: create, read, update, delete, versions, code download and Invoke.
#include <fcntl.h>

#include <algorithm>
#include <regex>

#include "common/crypto.h"
#include "common/logging.h"
#include "services/lambda/lambda_service.h"

namespace salespipe::services::lambda {
namespace {

using salespipe::lambda::Function;
using salespipe::lambda::FunctionConfig;
using salespipe::lambda::FunctionRef;

// A zip over 50 MB may not be uploaded directly (spec 7.5).
constexpr size_t kMaxDirectZipBytes = 52428800;

bool IsValidRole(std::string_view role) {
  static const std::regex kRole(R"(arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+)");
  return std::regex_match(role.begin(), role.end(), kRole);
}

// The members CreateFunction and UpdateFunctionConfiguration share, applied to `config`.
// Model constraints go to `errors`; semantic problems are returned.
Status ApplyConfiguration(const JsonValue& body, FunctionConfig& config, ValidationErrors& errors) {
  ASSIGN_OR_RETURN(std::optional<std::string_view> role, GetString(body, "Role"));
  if (role) {
    if (!IsValidRole(*role)) {
      errors.AddConstraint(Quote(*role), "role",
                           "Member must satisfy regular expression pattern: "
                           "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
    }
    config.role = std::string(*role);
  }
  ASSIGN_OR_RETURN(std::optional<std::string_view> runtime, GetString(body, "Runtime"));
  if (runtime) {
    CheckRuntimeEnum(*runtime, errors);
    config.runtime = std::string(*runtime);
  }
  ASSIGN_OR_RETURN(std::optional<std::string_view> handler, GetString(body, "Handler"));
  if (handler) {
    if (handler->size() > 128) {
      errors.AddConstraint(Quote(*handler), "handler",
                           "Member must have length less than or equal to 128");
    } else if (handler->empty() || handler->find_first_of(" \t\r\n") != std::string_view::npos) {
      errors.AddConstraint(Quote(*handler), "handler",
                           "Member must satisfy regular expression pattern: [^\\s]+");
    }
    config.handler = std::string(*handler);
  }
  ASSIGN_OR_RETURN(std::optional<std::string_view> description, GetString(body, "Description"));
  if (description) {
    if (description->size() > 256) {
      errors.AddConstraint(Quote(*description), "description",
                           "Member must have length less than or equal to 256");
    }
    config.description = std::string(*description);
  }
  ASSIGN_OR_RETURN(std::optional<int64_t> timeout, GetInteger(body, "Timeout"));
  if (timeout) {
    if (*timeout < 1) {
      errors.AddConstraint(std::to_string(*timeout), "timeout",
                           "Member must have value greater than or equal to 1");
    } else if (*timeout > 900) {
      errors.AddConstraint(std::to_string(*timeout), "timeout",
                           "Member must have value less than or equal to 900");
    }
    config.timeout_seconds = static_cast<int>(std::clamp<int64_t>(*timeout, 1, 900));
  }
  ASSIGN_OR_RETURN(std::optional<int64_t> memory, GetInteger(body, "MemorySize"));
  if (memory) {
    if (*memory < 128) {
      errors.AddConstraint(std::to_string(*memory), "memorySize",
                           "Member must have value greater than or equal to 128");
    } else if (*memory > 10240) {
      errors.AddConstraint(std::to_string(*memory), "memorySize",
                           "Member must have value less than or equal to 10240");
    }
    config.memory_mb = static_cast<int>(std::clamp<int64_t>(*memory, 128, 10240));
  }
  ASSIGN_OR_RETURN(const JsonValue* environment, GetObject(body, "Environment"));
  if (environment != nullptr) {
    ASSIGN_OR_RETURN(const JsonValue* variables, GetObject(*environment, "Variables"));
    std::map<std::string, std::string> values;
    size_t total = 0;
    if (variables != nullptr) {
      for (auto it = variables->MemberBegin(); it != variables->MemberEnd(); ++it) {
        ASSIGN_OR_RETURN(std::string_view value, AsString(it->value));
        std::string name(it->name.GetString(), it->name.GetStringLength());
        static const std::regex kName("[a-zA-Z]([a-zA-Z0-9_])+");
        if (!std::regex_match(name, kName)) {
          errors.AddConstraint(Quote(name), "environment.variables",
                               "Member must satisfy regular expression pattern: "
                               "[a-zA-Z]([a-zA-Z0-9_])+");
        }
        total += name.size() + value.size();
        values[std::move(name)] = std::string(value);
      }
    }
    if (total > 4096) {
      return InvalidParameter(
          "Lambda was unable to configure your environment variables because the environment "
          "variables you have provided exceeded the 4KB limit. String measured: " +
          std::to_string(total));
    }
    config.environment = std::move(values);
  }
  ASSIGN_OR_RETURN(const JsonValue* ephemeral, GetObject(body, "EphemeralStorage"));
  if (ephemeral != nullptr) {
    ASSIGN_OR_RETURN(std::optional<int64_t> size, GetInteger(*ephemeral, "Size"));
    if (!size) {
      errors.AddNull("ephemeralStorage.size");
    } else if (*size < 512 || *size > 10240) {
      errors.AddConstraint(std::to_string(*size), "ephemeralStorage.size",
                           *size < 512 ? "Member must have value greater than or equal to 512"
                                       : "Member must have value less than or equal to 10240");
    } else {
      config.ephemeral_storage_mb = static_cast<int>(*size);
    }
  }
  ASSIGN_OR_RETURN(const JsonValue* tracing, GetObject(body, "TracingConfig"));
  if (tracing != nullptr) {
    ASSIGN_OR_RETURN(std::optional<std::string_view> mode, GetString(*tracing, "Mode"));
    if (mode && *mode != "Active" && *mode != "PassThrough") {
      errors.AddConstraint(Quote(*mode), "tracingConfig.mode",
                           "Member must satisfy enum value set: [Active, PassThrough]");
    } else if (mode) {
      config.tracing_mode = std::string(*mode);
    }
  }
  ASSIGN_OR_RETURN(const JsonValue* logging, GetObject(body, "LoggingConfig"));
  if (logging != nullptr) {
    ASSIGN_OR_RETURN(std::optional<std::string_view> format, GetString(*logging, "LogFormat"));
    if (format && *format != "JSON" && *format != "Text") {
      errors.AddConstraint(Quote(*format), "loggingConfig.logFormat",
                           "Member must satisfy enum value set: [JSON, Text]");
    } else if (format) {
      config.log_format = std::string(*format);
    }
    ASSIGN_OR_RETURN(std::optional<std::string_view> group, GetString(*logging, "LogGroup"));
    if (group) config.log_group = std::string(*group);
  }
  // Members whose behaviour salespipe does not implement are refused, never ignored
  // (docs/compat/lambda.md).
  for (std::string_view unsupported :
       {"Layers", "FileSystemConfigs", "DeadLetterConfig", "ImageConfig", "CodeSigningConfigArn",
        "KMSKeyArn"}) {
    const JsonValue* value = FindMember(body, unsupported);
    bool empty = value == nullptr || (value->IsArray() && value->Empty()) ||
                 (value->IsString() && value->GetStringLength() == 0) ||
                 (value->IsObject() && value->MemberCount() == 0);
    if (!empty) {
      return InvalidParameter(std::string(unsupported) + " is not supported by salespipe");
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ReadArchitectures(const JsonValue& body, ValidationErrors& errors) {
  ASSIGN_OR_RETURN(const JsonValue* list, GetArray(body, "Architectures"));
  if (list == nullptr) return std::vector<std::string>{};
  std::vector<std::string> out;
  for (const JsonValue& item : list->GetArray()) {
    ASSIGN_OR_RETURN(std::string_view value, AsString(item));
    if (value != "x86_64" && value != "arm64") {
      errors.AddConstraint("[" + std::string(value) + "]", "architectures",
                           "Member must satisfy constraint: [Member must satisfy enum value set: "
                           "[x86_64, arm64]]");
    }
    out.emplace_back(value);
  }
  if (out.size() != 1) {
    errors.AddConstraint("[]", "architectures",
                         "Member must have length less than or equal to 1 and greater than or "
                         "equal to 1");
  }
  return out;
}

std::string CodeLocation(const LambdaCall& call, const Function& function,
                         const FunctionConfig& config) {
  std::string host = call.host.empty() ? "localhost.localstack.cloud:4566" : call.host;
  return "http://" + host + std::string(kCodePathPrefix) + function.account_id + "/" +
         function.region + "/" + function.name + "/" + config.code_hex + ".zip";
}

std::string ConfigurationJson(const Function& function, const FunctionConfig& config,
                              FunctionState state = FunctionState::kActive) {
  return ToJson([&](JsonWriter& w) { WriteFunctionConfiguration(w, function, config, state); });
}

}  // namespace

Result<std::string> LambdaService::ReadCode(const JsonValue& code, bool* given) const {
  ASSIGN_OR_RETURN(std::optional<std::string_view> zip_file, GetString(code, "ZipFile"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> bucket, GetString(code, "S3Bucket"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> key, GetString(code, "S3Key"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> image, GetString(code, "ImageUri"));
  *given = zip_file || bucket || key || image;
  if (image) return InvalidParameter("Container images (ImageUri) are not supported by salespipe");
  if (zip_file) {
    if (bucket || key) {
      return InvalidParameter(
          "Please provide a source for function code: either ZipFile or S3Bucket and S3Key.");
    }
    std::optional<std::string> bytes = Base64Decode(*zip_file);
    if (!bytes) {
      return InvalidParameter(
          "Could not unzip uploaded file. Please check your file, then try to upload again.");
    }
    if (bytes->size() > kMaxDirectZipBytes) {
      return Status::InvalidArgument("Request must be smaller than 69905067 bytes for the "
                                     "CreateFunction operation")
          .WithAwsCode("RequestTooLargeException");
    }
    return std::move(*bytes);
  }
  if (!bucket || !key) {
    return InvalidParameter(
        "Please provide a source for function code: either ZipFile or S3Bucket and S3Key.");
  }
  Result<lake::OpenObject> object = lake_.Open(*bucket, *key);
  if (!object.ok()) {
    if (object.status().code() == ErrorCode::kNotFound) {
      bool no_bucket = !lake_.GetBucket(*bucket).ok();
      return InvalidParameter(
          no_bucket ? "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error "
                      "Message: The specified bucket does not exist"
                    : "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error "
                      "Message: The specified key does not exist.");
    }
    return object.status();
  }
  if (object->meta.size > salespipe::lambda::kMaxUnzippedBytes) {
    return InvalidParameter("Unzipped size must be smaller than 262144000 bytes");
  }
  std::string out;
  out.reserve(object->meta.size);
  RETURN_IF_ERROR(lake::Lake::ReadRange(object->fd.get(), 0, object->meta.size,
                                        [&](std::string_view chunk) {
                                          out.append(chunk);
                                          return Status::Ok();
                                        }));
  return out;
}

Result<http::RestResponse> LambdaService::CreateFunction(const LambdaCall& call) {
  ASSIGN_OR_RETURN(JsonDocument body, ParseJsonBody(call.raw.body));
  ValidationErrors errors;
  ASSIGN_OR_RETURN(std::optional<std::string_view> name, GetString(body, "FunctionName"));
  salespipe::lambda::NewFunction input{.account_id = call.context.account_id,
                                       .region = call.context.region};
  if (!name) {
    errors.AddNull("functionName");
  } else {
    Result<FunctionRef> ref =
        salespipe::lambda::ParseFunctionRef(*name, call.context.account_id, call.context.region);
    if (!ref.ok() || !ref->qualifier.empty()) {
      errors.AddConstraint(Quote(*name), "functionName",
                           "Member must satisfy regular expression pattern: "
                           "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?"
                           "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)");
    } else {
      input.name = ref->name;
      input.account_id = ref->account_id;
      input.region = ref->region;
    }
  }
  if (FindMember(body, "Role") == nullptr) errors.AddNull("role");
  ASSIGN_OR_RETURN(const JsonValue* code, GetObject(body, "Code"));
  if (code == nullptr) errors.AddNull("code");
  RETURN_IF_ERROR(ApplyConfiguration(body, input.config, errors));
  ASSIGN_OR_RETURN(std::vector<std::string> architectures, ReadArchitectures(body, errors));
  if (!architectures.empty()) input.config.architectures = architectures;
  ASSIGN_OR_RETURN(std::optional<std::string_view> package_type, GetString(body, "PackageType"));
  if (package_type && *package_type != "Zip" && *package_type != "Image") {
    errors.AddConstraint(Quote(*package_type), "packageType",
                         "Member must satisfy enum value set: [Image, Zip]");
  }
  ASSIGN_OR_RETURN(const JsonValue* tags, GetObject(body, "Tags"));
  if (tags != nullptr) {
    for (auto it = tags->MemberBegin(); it != tags->MemberEnd(); ++it) {
      ASSIGN_OR_RETURN(std::string_view value, AsString(it->value));
      input.tags[it->name.GetString()] = std::string(value);
    }
  }
  ASSIGN_OR_RETURN(std::optional<bool> publish, GetBool(body, "Publish"));
  input.publish = publish.value_or(false);
  RETURN_IF_ERROR(ValidationError(errors));
  if (package_type && *package_type == "Image") {
    return InvalidParameter("Container images (PackageType Image) are not supported by salespipe");
  }
  if (input.config.runtime.empty() || input.config.handler.empty()) {
    return InvalidParameter(
        "Runtime and Handler are mandatory parameters for functions created with deployment "
        "packages.");
  }
  RETURN_IF_ERROR(CheckRuntimeSupported(input.config.runtime));
  bool given = false;
  ASSIGN_OR_RETURN(std::string zip, ReadCode(*code, &given));
  Result<std::shared_ptr<const Function>> created = store_.Create(std::move(input), zip);
  if (!created.ok() && created.status().code() == ErrorCode::kAlreadyExists) {
    return Conflict(created.status().message());
  }
  RETURN_IF_ERROR(created.status());
  // The create response shows Pending; every read after it shows Active (spec 7.2). With
  // Publish it describes the new version 1, as AWS's does.
  const FunctionConfig* shown = (*created)->Find(publish.value_or(false) ? "1" : "");
  return JsonResponse(201, ConfigurationJson(**created, *shown, FunctionState::kPending));
}

Result<http::RestResponse> LambdaService::GetFunction(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(auto function, store_.Get(ref.account_id, ref.region, ref.name));
  const FunctionConfig* config = function->Find(ref.qualifier);
  if (config == nullptr) return NotFound("Function not found: " + function->arn() + ":" + ref.qualifier);
  return JsonResponse(200, ToJson([&](JsonWriter& w) {
                        w.StartObject();
                        WriteKey(w, "Configuration");
                        WriteFunctionConfiguration(w, *function, *config);
                        WriteKey(w, "Code");
                        w.StartObject();
                        WriteKey(w, "RepositoryType");
                        WriteString(w, "S3");
                        WriteKey(w, "Location");
                        WriteString(w, CodeLocation(call, *function, *config));
                        w.EndObject();
                        if (!function->tags.empty()) {
                          WriteKey(w, "Tags");
                          w.StartObject();
                          for (const auto& [k, v] : function->tags) {
                            WriteKey(w, k);
                            WriteString(w, v);
                          }
                          w.EndObject();
                        }
                        if (function->reserved_concurrency) {
                          WriteKey(w, "Concurrency");
                          w.StartObject();
                          WriteKey(w, "ReservedConcurrentExecutions");
                          w.Int(*function->reserved_concurrency);
                          w.EndObject();
                        }
                        w.EndObject();
                      }));
}

Result<http::RestResponse> LambdaService::GetFunctionConfiguration(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(auto function, store_.Get(ref.account_id, ref.region, ref.name));
  const FunctionConfig* config = function->Find(ref.qualifier);
  if (config == nullptr) return NotFound("Function not found: " + function->arn() + ":" + ref.qualifier);
  return JsonResponse(200, ConfigurationJson(*function, *config));
}

Result<http::RestResponse> LambdaService::ListFunctions(const LambdaCall& call) {
  ASSIGN_OR_RETURN(Paging paging, ReadPaging(call, 50));
  std::optional<std::string> version = call.Query("FunctionVersion");
  if (version && *version != "ALL") {
    ValidationErrors errors;
    errors.AddConstraint(Quote(*version), "functionVersion",
                         "Member must satisfy enum value set: [ALL]");
    return ValidationError(errors);
  }
  // The marker is the name of the last function of the previous page (opaque to clients).
  std::vector<std::shared_ptr<const Function>> page;
  bool more = false;
  for (const auto& function : store_.List(call.context.account_id, call.context.region)) {
    if (!paging.marker.empty() && function->name <= paging.marker) continue;
    if (static_cast<int>(page.size()) == paging.max_items) {
      more = true;
      break;
    }
    page.push_back(function);
  }
  std::string body = ToJson([&](JsonWriter& w) {
    w.StartObject();
    WriteKey(w, "Functions");
    w.StartArray();
    for (const auto& function : page) {
      WriteFunctionConfiguration(w, *function, function->latest);
      if (version) {
        for (const auto& [number, config] : function->versions) {
          WriteFunctionConfiguration(w, *function, config);
        }
      }
    }
    w.EndArray();
    if (more) {
      WriteKey(w, "NextMarker");
      WriteString(w, page.back()->name);
    }
    w.EndObject();
  });
  return JsonResponse(200, std::move(body));
}

Result<http::RestResponse> LambdaService::UpdateFunctionCode(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(JsonDocument body, ParseJsonBody(call.raw.body));
  ValidationErrors errors;
  ASSIGN_OR_RETURN(std::vector<std::string> architectures, ReadArchitectures(body, errors));
  RETURN_IF_ERROR(ValidationError(errors));
  ASSIGN_OR_RETURN(std::optional<std::string_view> revision, GetString(body, "RevisionId"));
  ASSIGN_OR_RETURN(std::optional<bool> publish, GetBool(body, "Publish"));
  ASSIGN_OR_RETURN(std::optional<bool> dry_run, GetBool(body, "DryRun"));
  bool given = false;
  ASSIGN_OR_RETURN(std::string zip, ReadCode(body, &given));
  ASSIGN_OR_RETURN(auto current, store_.Get(ref.account_id, ref.region, ref.name));
  if (dry_run.value_or(false)) {
    salespipe::lambda::CodePackage package = salespipe::lambda::DescribePackage(zip);
    FunctionConfig preview = current->latest;
    preview.code_sha256 = package.sha256_base64;
    preview.code_size = package.size;
    return JsonResponse(200, ConfigurationJson(*current, preview));
  }
  Result<std::shared_ptr<const Function>> updated =
      store_.UpdateCode(ref, zip, revision.value_or(""));
  if (!updated.ok() && updated.status().code() == ErrorCode::kAborted) {
    return Status(updated.status()).WithAwsCode("PreconditionFailedException");
  }
  RETURN_IF_ERROR(updated.status());
  if (!architectures.empty()) {
    ASSIGN_OR_RETURN(updated, store_.Update(ref, [&](Function& f) {
                       f.latest.architectures = architectures;
                       return Status::Ok();
                     }));
  }
  engine_.Retire((*updated)->arn());
  if (publish.value_or(false)) {
    ASSIGN_OR_RETURN(auto published, store_.PublishVersion(ref, "", "", ""));
    const FunctionConfig* version = published.first->Find(std::to_string(published.second));
    return JsonResponse(200, ConfigurationJson(*published.first, *version));
  }
  return JsonResponse(200, ConfigurationJson(**updated, (*updated)->latest));
}

Result<http::RestResponse> LambdaService::UpdateFunctionConfiguration(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(JsonDocument body, ParseJsonBody(call.raw.body));
  ASSIGN_OR_RETURN(std::optional<std::string_view> revision, GetString(body, "RevisionId"));
  ASSIGN_OR_RETURN(auto current, store_.Get(ref.account_id, ref.region, ref.name));
  ValidationErrors errors;
  FunctionConfig changed = current->latest;
  RETURN_IF_ERROR(ApplyConfiguration(body, changed, errors));
  RETURN_IF_ERROR(ValidationError(errors));
  if (FindMember(body, "Runtime") != nullptr) RETURN_IF_ERROR(CheckRuntimeSupported(changed.runtime));
  Result<std::shared_ptr<const Function>> updated = store_.Update(ref, [&](Function& f) {
    if (revision && *revision != f.latest.revision_id) {
      return Status::Aborted(
                 "The Revision Id provided does not match the latest Revision Id. Call the "
                 "GetFunction/GetAlias API to retrieve the latest Revision Id")
          .WithAwsCode("PreconditionFailedException");
    }
    // Code fields may have changed since `current` was read; keep the stored ones.
    changed.code_sha256 = f.latest.code_sha256;
    changed.code_hex = f.latest.code_hex;
    changed.code_size = f.latest.code_size;
    changed.revision_id = NewUuid();
    changed.last_modified_ms = clock_.NowMillis();
    f.latest = changed;
    return Status::Ok();
  });
  RETURN_IF_ERROR(updated.status());
  engine_.Retire((*updated)->arn());
  return JsonResponse(200, ConfigurationJson(**updated, (*updated)->latest));
}

Result<http::RestResponse> LambdaService::DeleteFunction(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  Status deleted = store_.Delete(ref);
  if (deleted.code() == ErrorCode::kFailedPrecondition) return Conflict(deleted.message());
  RETURN_IF_ERROR(deleted);
  engine_.Retire(salespipe::lambda::FunctionArn(ref.region, ref.account_id, ref.name));
  return http::RestResponse{.http_status = 204};
}

Result<http::RestResponse> LambdaService::PublishVersion(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(JsonDocument body, ParseJsonBody(call.raw.body));
  ASSIGN_OR_RETURN(std::optional<std::string_view> sha, GetString(body, "CodeSha256"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> description, GetString(body, "Description"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> revision, GetString(body, "RevisionId"));
  auto published = store_.PublishVersion(ref, description.value_or(""), sha.value_or(""),
                                         revision.value_or(""));
  if (!published.ok() && published.status().code() == ErrorCode::kAborted) {
    return Status(published.status()).WithAwsCode("PreconditionFailedException");
  }
  RETURN_IF_ERROR(published.status());
  const FunctionConfig* version = published->first->Find(std::to_string(published->second));
  return JsonResponse(201, ConfigurationJson(*published->first, *version));
}

Result<http::RestResponse> LambdaService::ListVersionsByFunction(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(Paging paging, ReadPaging(call, 50));
  ASSIGN_OR_RETURN(auto function, store_.Get(ref.account_id, ref.region, ref.name));
  std::vector<const FunctionConfig*> all = {&function->latest};
  for (const auto& [number, config] : function->versions) all.push_back(&config);
  // The marker is the index of the next entry.
  size_t start = 0;
  if (!paging.marker.empty()) {
    if (paging.marker.size() > 6 ||
        !std::all_of(paging.marker.begin(), paging.marker.end(), ::isdigit)) {
      return InvalidParameter("Invalid Marker");
    }
    start = std::stoul(paging.marker);
  }
  return JsonResponse(200, ToJson([&](JsonWriter& w) {
                        w.StartObject();
                        WriteKey(w, "Versions");
                        w.StartArray();
                        size_t i = start;
                        for (; i < all.size() && i < start + paging.max_items; ++i) {
                          WriteFunctionConfiguration(w, *function, *all[i]);
                        }
                        w.EndArray();
                        if (i < all.size()) {
                          WriteKey(w, "NextMarker");
                          WriteString(w, std::to_string(i));
                        }
                        w.EndObject();
                      }));
}

Result<http::RestResponse> LambdaService::Invoke(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  salespipe::lambda::InvokeRequest request{
      .function = ref.account_id + ":function:" + ref.name,
      .qualifier = ref.qualifier,
      .account_id = ref.account_id,
      .region = ref.region,
      .payload = std::string(call.raw.body)};
  ValidationErrors errors;
  std::string_view type = call.Header("X-Amz-Invocation-Type").value_or("RequestResponse");
  if (type == "Event") {
    request.type = salespipe::lambda::InvocationType::kEvent;
  } else if (type == "DryRun") {
    request.type = salespipe::lambda::InvocationType::kDryRun;
  } else if (type != "RequestResponse") {
    errors.AddConstraint(Quote(type), "invocationType",
                         "Member must satisfy enum value set: [RequestResponse, Event, DryRun]");
  }
  std::string_view log_type = call.Header("X-Amz-Log-Type").value_or("None");
  if (log_type != "None" && log_type != "Tail") {
    errors.AddConstraint(Quote(log_type), "logType",
                         "Member must satisfy enum value set: [None, Tail]");
  }
  request.tail_logs = log_type == "Tail";
  request.client_context = std::string(call.Header("X-Amz-Client-Context").value_or(""));
  RETURN_IF_ERROR(ValidationError(errors));
  size_t limit = request.type == salespipe::lambda::InvocationType::kEvent
                     ? salespipe::lambda::kMaxAsyncPayloadBytes
                     : salespipe::lambda::kMaxSyncPayloadBytes;
  if (request.payload.size() > limit) {
    return Status::InvalidArgument("Request must be smaller than " + std::to_string(limit) +
                                   " bytes for the InvokeFunction operation")
        .WithAwsCode("RequestTooLargeException");
  }
  Result<salespipe::lambda::InvokeResult> result = engine_.Invoke(request);
  if (!result.ok()) {
    Status status = result.status();
    switch (status.code()) {
      case ErrorCode::kInvalidArgument:
        return std::move(status).WithAwsCode("InvalidRequestContentException");
      case ErrorCode::kResourceExhausted:
        return std::move(status).WithAwsCode("TooManyRequestsException");
      case ErrorCode::kNotFound:
        return std::move(status).WithAwsCode("ResourceNotFoundException");
      default:
        return status;
    }
  }
  if (request.type == salespipe::lambda::InvocationType::kEvent) {
    return http::RestResponse{.http_status = 202};
  }
  if (request.type == salespipe::lambda::InvocationType::kDryRun) {
    return http::RestResponse{.http_status = 204};
  }
  http::RestResponse response = JsonResponse(200, std::move(result->payload));
  response.headers.emplace_back("X-Amz-Executed-Version", result->executed_version);
  if (result->function_error) {
    response.headers.emplace_back("X-Amz-Function-Error", *result->function_error);
  }
  if (request.tail_logs) response.headers.emplace_back("X-Amz-Log-Result", result->log_tail);
  return response;
}

Result<http::RestResponse> LambdaService::InvokeAsync(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  salespipe::lambda::InvokeRequest request{.function = ref.account_id + ":function:" + ref.name,
                                           .qualifier = ref.qualifier,
                                           .account_id = ref.account_id,
                                           .region = ref.region,
                                           .type = salespipe::lambda::InvocationType::kEvent,
                                           .payload = std::string(call.raw.body)};
  Result<salespipe::lambda::InvokeResult> result = engine_.Invoke(request);
  if (!result.ok()) {
    Status status = result.status();
    if (status.code() == ErrorCode::kInvalidArgument) {
      return std::move(status).WithAwsCode("InvalidRequestContentException");
    }
    return status;
  }
  return JsonResponse(202, R"({"Status":202})");
}

Result<http::RestResponse> LambdaService::GetCode(const LambdaCall& call) {
  // labels: account, region, name, "<sha256 hex>.zip"
  const std::string& file = call.labels[3];
  if (!file.ends_with(".zip")) return NotFound("No such code package");
  std::string hex = file.substr(0, file.size() - 4);
  ASSIGN_OR_RETURN(auto function, store_.Get(call.labels[0], call.labels[1], call.labels[2]));
  const FunctionConfig* match = nullptr;
  if (function->latest.code_hex == hex) match = &function->latest;
  for (const auto& [number, config] : function->versions) {
    if (config.code_hex == hex) match = &config;
  }
  if (match == nullptr) return NotFound("No such code package");
  std::string path = store_.ZipPath(*function, *match);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return NotFound("No such code package");
  http::RestResponse response{.http_status = 200, .content_type = "application/zip"};
  response.file = http::ResponseFile{.fd = std::move(fd),
                                     .offset = 0,
                                     .length = static_cast<uint64_t>(match->code_size)};
  return response;
}

}  // namespace salespipe::services::lambda
