// Aliases, resource policies, tags, reserved concurrency and account settings: small
// read-modify-writes of a stored function.
#include <algorithm>
#include <regex>

#include "common/arn.h"
#include "common/crypto.h"
#include "services/lambda/lambda_service.h"

namespace salespipe::services::lambda {
namespace {

using salespipe::lambda::AliasConfig;
using salespipe::lambda::Function;
using salespipe::lambda::FunctionRef;

constexpr int kAccountConcurrency = 1000;
constexpr int kMinUnreservedConcurrency = 100;

bool IsVersionNumber(std::string_view v) {
  return !v.empty() && v.size() < 18 && std::all_of(v.begin(), v.end(), ::isdigit);
}

// AliasName: (?!^[0-9]+$)([a-zA-Z0-9-_]+), 1..128.
void CheckAliasName(std::string_view name, ValidationErrors& errors) {
  static const std::regex kName("[a-zA-Z0-9-_]+");
  if (name.empty() || name.size() > 128 || IsVersionNumber(name) ||
      !std::regex_match(name.begin(), name.end(), kName)) {
    errors.AddConstraint(Quote(name), "name",
                         "Member must satisfy regular expression pattern: "
                         "(?!^[0-9]+$)([a-zA-Z0-9-_]+)");
  }
}

// RoutingConfig.AdditionalVersionWeights into `alias`.
Status ReadRouting(const JsonValue& body, const Function& function, AliasConfig& alias,
                   ValidationErrors& errors) {
  ASSIGN_OR_RETURN(const JsonValue* routing, GetObject(body, "RoutingConfig"));
  if (routing == nullptr) return Status::Ok();
  ASSIGN_OR_RETURN(const JsonValue* weights, GetObject(*routing, "AdditionalVersionWeights"));
  alias.additional_version_weights.clear();
  if (weights == nullptr) return Status::Ok();
  double total = 0;
  for (auto it = weights->MemberBegin(); it != weights->MemberEnd(); ++it) {
    std::string version(it->name.GetString(), it->name.GetStringLength());
    if (!it->value.IsNumber()) return SerializationError("Invalid routing weight");
    double weight = it->value.GetDouble();
    if (weight < 0 || weight > 1) {
      errors.AddConstraint(std::to_string(weight), "routingConfig.additionalVersionWeights",
                           "Map value must satisfy constraint: [Member must have value less "
                           "than or equal to 1.0, Member must have value greater than or equal "
                           "to 0.0]");
    }
    if (!IsVersionNumber(version) || function.Find(version) == nullptr) {
      return InvalidParameter("Version " + version + " does not exist for function " +
                              function.name);
    }
    if (version == alias.function_version) {
      return InvalidParameter(
          "Invalid function version " + version +
          ". Function version " + version + " is already included in routing configuration.");
    }
    total += weight;
    alias.additional_version_weights[version] = weight;
  }
  if (alias.additional_version_weights.size() > 1) {
    return InvalidParameter("Number of items in AdditionalVersionWeights cannot be greater than 1");
  }
  if (total > 1) return InvalidParameter("The sum of all routing weights must not exceed 1.");
  return Status::Ok();
}

std::string AliasJson(const Function& function, const AliasConfig& alias) {
  return ToJson([&](JsonWriter& w) { WriteAlias(w, function, alias); });
}

Status AliasNotFound(const Function& function, std::string_view alias) {
  return NotFound("Cannot find alias arn: " + function.arn() + ":" + std::string(alias));
}

}  // namespace

Result<http::RestResponse> LambdaService::CreateAlias(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(JsonDocument body, ParseJsonBody(call.raw.body));
  ValidationErrors errors;
  ASSIGN_OR_RETURN(std::optional<std::string_view> name, GetString(body, "Name"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> version, GetString(body, "FunctionVersion"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> description, GetString(body, "Description"));
  if (!name) errors.AddNull("name");
  else CheckAliasName(*name, errors);
  if (!version) errors.AddNull("functionVersion");
  RETURN_IF_ERROR(ValidationError(errors));
  AliasConfig alias{.name = std::string(*name),
                    .function_version = std::string(*version),
                    .description = std::string(description.value_or("")),
                    .revision_id = NewUuid()};
  ASSIGN_OR_RETURN(auto updated, store_.Update(ref, [&](Function& f) {
                     if (f.aliases.contains(alias.name)) {
                       return Conflict("Alias already exists: " + f.arn() + ":" + alias.name);
                     }
                     if (alias.function_version != "$LATEST" &&
                         (!IsVersionNumber(alias.function_version) ||
                          f.Find(alias.function_version) == nullptr)) {
                       return NotFound("Function not found: " + f.arn() + ":" +
                                       alias.function_version);
                     }
                     ValidationErrors routing_errors;
                     RETURN_IF_ERROR(ReadRouting(body, f, alias, routing_errors));
                     RETURN_IF_ERROR(ValidationError(routing_errors));
                     f.aliases[alias.name] = alias;
                     return Status::Ok();
                   }));
  return JsonResponse(201, AliasJson(*updated, updated->aliases.at(alias.name)));
}

Result<http::RestResponse> LambdaService::GetAlias(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(auto function, store_.Get(ref.account_id, ref.region, ref.name));
  auto it = function->aliases.find(call.labels[1]);
  if (it == function->aliases.end()) return AliasNotFound(*function, call.labels[1]);
  return JsonResponse(200, AliasJson(*function, it->second));
}

Result<http::RestResponse> LambdaService::UpdateAlias(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(JsonDocument body, ParseJsonBody(call.raw.body));
  ASSIGN_OR_RETURN(std::optional<std::string_view> version, GetString(body, "FunctionVersion"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> description, GetString(body, "Description"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> revision, GetString(body, "RevisionId"));
  const std::string& name = call.labels[1];
  ASSIGN_OR_RETURN(auto updated, store_.Update(ref, [&](Function& f) {
                     auto it = f.aliases.find(name);
                     if (it == f.aliases.end()) return AliasNotFound(f, name);
                     AliasConfig& alias = it->second;
                     if (revision && *revision != alias.revision_id) {
                       return Status::Aborted("The Revision Id provided does not match the "
                                              "latest Revision Id. Call the GetFunction/"
                                              "GetAlias API to retrieve the latest Revision Id")
                           .WithAwsCode("PreconditionFailedException");
                     }
                     if (version) {
                       if (*version != "$LATEST" &&
                           (!IsVersionNumber(*version) || f.Find(*version) == nullptr)) {
                         return NotFound("Function not found: " + f.arn() + ":" +
                                         std::string(*version));
                       }
                       alias.function_version = std::string(*version);
                     }
                     if (description) alias.description = std::string(*description);
                     ValidationErrors routing_errors;
                     RETURN_IF_ERROR(ReadRouting(body, f, alias, routing_errors));
                     RETURN_IF_ERROR(ValidationError(routing_errors));
                     alias.revision_id = NewUuid();
                     return Status::Ok();
                   }));
  return JsonResponse(200, AliasJson(*updated, updated->aliases.at(name)));
}

Result<http::RestResponse> LambdaService::DeleteAlias(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  const std::string& name = call.labels[1];
  RETURN_IF_ERROR(store_.Update(ref, [&](Function& f) {
                          if (f.aliases.erase(name) == 0) return AliasNotFound(f, name);
                          return Status::Ok();
                        })
                      .status());
  return http::RestResponse{.http_status = 204};
}

Result<http::RestResponse> LambdaService::ListAliases(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(Paging paging, ReadPaging(call, 50));
  ASSIGN_OR_RETURN(auto function, store_.Get(ref.account_id, ref.region, ref.name));
  std::optional<std::string> version = call.Query("FunctionVersion");
  std::vector<const AliasConfig*> page;
  bool more = false;
  for (const auto& [name, alias] : function->aliases) {
    if (!paging.marker.empty() && name <= paging.marker) continue;
    if (version && alias.function_version != *version) continue;
    if (static_cast<int>(page.size()) == paging.max_items) {
      more = true;
      break;
    }
    page.push_back(&alias);
  }
  return JsonResponse(200, ToJson([&](JsonWriter& w) {
                        w.StartObject();
                        WriteKey(w, "Aliases");
                        w.StartArray();
                        for (const AliasConfig* alias : page) WriteAlias(w, *function, *alias);
                        w.EndArray();
                        if (more) {
                          WriteKey(w, "NextMarker");
                          WriteString(w, page.back()->name);
                        }
                        w.EndObject();
                      }));
}

Result<http::RestResponse> LambdaService::AddPermission(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(JsonDocument body, ParseJsonBody(call.raw.body));
  ValidationErrors errors;
  ASSIGN_OR_RETURN(std::optional<std::string_view> sid, GetString(body, "StatementId"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> action, GetString(body, "Action"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> principal, GetString(body, "Principal"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> source_arn, GetString(body, "SourceArn"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> source_account,
                   GetString(body, "SourceAccount"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> org, GetString(body, "PrincipalOrgID"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> revision, GetString(body, "RevisionId"));
  static const std::regex kSid("[a-zA-Z0-9-_.]+");
  static const std::regex kAction("(lambda:[*]|lambda:[a-zA-Z]+|[*])");
  if (!sid) {
    errors.AddNull("statementId");
  } else if (sid->size() > 100 || !std::regex_match(sid->begin(), sid->end(), kSid)) {
    errors.AddConstraint(Quote(*sid), "statementId",
                         "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)");
  }
  if (!action) {
    errors.AddNull("action");
  } else if (!std::regex_match(action->begin(), action->end(), kAction)) {
    errors.AddConstraint(Quote(*action), "action",
                         "Member must satisfy regular expression pattern: "
                         "(lambda:[*]|lambda:[a-zA-Z]+|[*])");
  }
  if (!principal) errors.AddNull("principal");
  RETURN_IF_ERROR(ValidationError(errors));

  std::string statement;
  ASSIGN_OR_RETURN(auto updated, store_.Update(ref, [&](Function& f) {
                     if (!ref.qualifier.empty() && f.Find(ref.qualifier) == nullptr) {
                       return NotFound("Function not found: " + f.arn() + ":" + ref.qualifier);
                     }
                     if (revision && *revision != f.policy_revision_id &&
                         !f.policy_revision_id.empty()) {
                       return Status::Aborted("The Revision Id provided does not match the "
                                              "latest Revision Id.")
                           .WithAwsCode("PreconditionFailedException");
                     }
                     for (const auto& existing : f.policy) {
                       if (existing.sid == *sid) {
                         return Conflict(
                             "The statement id (" + std::string(*sid) +
                             ") provided already exists. Please provide a new statement id, or "
                             "remove the existing statement.");
                       }
                     }
                     std::string resource = f.arn();
                     if (!ref.qualifier.empty()) resource += ":" + ref.qualifier;
                     statement = ToJson([&](JsonWriter& w) {
                       w.StartObject();
                       WriteKey(w, "Sid");
                       WriteString(w, *sid);
                       WriteKey(w, "Effect");
                       WriteString(w, "Allow");
                       WriteKey(w, "Principal");
                       if (*principal == "*") {
                         WriteString(w, "*");
                       } else {
                         w.StartObject();
                         bool account = principal->size() == 12 &&
                                        std::all_of(principal->begin(), principal->end(), ::isdigit);
                         WriteKey(w, account || principal->starts_with("arn:") ? "AWS" : "Service");
                         WriteString(w, account ? "arn:aws:iam::" + std::string(*principal) + ":root"
                                                : std::string(*principal));
                         w.EndObject();
                       }
                       WriteKey(w, "Action");
                       WriteString(w, *action);
                       WriteKey(w, "Resource");
                       WriteString(w, resource);
                       if (source_arn || source_account || org) {
                         WriteKey(w, "Condition");
                         w.StartObject();
                         if (source_account || org) {
                           WriteKey(w, "StringEquals");
                           w.StartObject();
                           if (source_account) {
                             WriteKey(w, "AWS:SourceAccount");
                             WriteString(w, *source_account);
                           }
                           if (org) {
                             WriteKey(w, "aws:PrincipalOrgID");
                             WriteString(w, *org);
                           }
                           w.EndObject();
                         }
                         if (source_arn) {
                           WriteKey(w, "ArnLike");
                           w.StartObject();
                           WriteKey(w, "AWS:SourceArn");
                           WriteString(w, *source_arn);
                           w.EndObject();
                         }
                         w.EndObject();
                       }
                       w.EndObject();
                     });
                     f.policy.push_back({.sid = std::string(*sid),
                                         .qualifier = ref.qualifier,
                                         .json = statement});
                     f.policy_revision_id = NewUuid();
                     return Status::Ok();
                   }));
  (void)updated;
  return JsonResponse(201, ToJson([&](JsonWriter& w) {
                        w.StartObject();
                        WriteKey(w, "Statement");
                        WriteString(w, statement);
                        w.EndObject();
                      }));
}

Result<http::RestResponse> LambdaService::RemovePermission(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  const std::string& sid = call.labels[1];
  std::optional<std::string> revision = call.Query("RevisionId");
  RETURN_IF_ERROR(store_.Update(ref, [&](Function& f) {
                          if (revision && *revision != f.policy_revision_id) {
                            return Status::Aborted("The Revision Id provided does not match the "
                                                   "latest Revision Id.")
                                .WithAwsCode("PreconditionFailedException");
                          }
                          auto it = std::find_if(f.policy.begin(), f.policy.end(), [&](auto& s) {
                            return s.sid == sid && s.qualifier == ref.qualifier;
                          });
                          if (it == f.policy.end()) {
                            return NotFound("Statement " + sid +
                                            " is not found in resource policy.");
                          }
                          f.policy.erase(it);
                          f.policy_revision_id = NewUuid();
                          return Status::Ok();
                        })
                      .status());
  return http::RestResponse{.http_status = 204};
}

Result<http::RestResponse> LambdaService::GetPolicy(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(auto function, store_.Get(ref.account_id, ref.region, ref.name));
  std::string statements;
  for (const auto& statement : function->policy) {
    if (statement.qualifier != ref.qualifier) continue;
    if (!statements.empty()) statements += ",";
    statements += statement.json;
  }
  if (statements.empty()) return NotFound("The resource you requested does not exist.");
  std::string policy =
      R"({"Version":"2012-10-17","Id":"default","Statement":[)" + statements + "]}";
  return JsonResponse(200, ToJson([&](JsonWriter& w) {
                        w.StartObject();
                        WriteKey(w, "Policy");
                        WriteString(w, policy);
                        WriteKey(w, "RevisionId");
                        WriteString(w, function->policy_revision_id);
                        w.EndObject();
                      }));
}

namespace {

// The function a tagging ARN names (tags live on the unqualified function).
Result<FunctionRef> TaggedFunction(const LambdaCall& call) {
  const std::string& arn = call.labels[0];
  std::optional<ArnParts> parts = SplitArn(arn);
  if (!parts || parts->service != "lambda") {
    ValidationErrors errors;
    errors.AddConstraint(Quote(arn), "resource",
                         "Member must satisfy regular expression pattern: "
                         "arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-"
                         "\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|"
                         "layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|"
                         "event-source-mapping:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                         "[0-9a-f]{12})");
    return ValidationError(errors);
  }
  Result<FunctionRef> ref =
      salespipe::lambda::ParseFunctionRef(arn, call.context.account_id, call.context.region);
  if (!ref.ok()) return InvalidParameter("Tagging is supported on functions only: " + arn);
  if (!ref->qualifier.empty()) {
    return InvalidParameter("Tags are not supported for resource " + arn +
                            ": tag the unqualified function ARN.");
  }
  return ref;
}

}  // namespace

Result<http::RestResponse> LambdaService::TagResource(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, TaggedFunction(call));
  ASSIGN_OR_RETURN(JsonDocument body, ParseJsonBody(call.raw.body));
  ASSIGN_OR_RETURN(const JsonValue* tags, GetObject(body, "Tags"));
  if (tags == nullptr) {
    ValidationErrors errors;
    errors.AddNull("tags");
    return ValidationError(errors);
  }
  std::map<std::string, std::string> add;
  for (auto it = tags->MemberBegin(); it != tags->MemberEnd(); ++it) {
    ASSIGN_OR_RETURN(std::string_view value, AsString(it->value));
    add[it->name.GetString()] = std::string(value);
  }
  RETURN_IF_ERROR(store_.Update(ref, [&](Function& f) {
                          for (auto& [k, v] : add) f.tags[k] = v;
                          if (f.tags.size() > 50) {
                            return InvalidParameter("Number of tags exceeds resource tag limit.");
                          }
                          return Status::Ok();
                        })
                      .status());
  return http::RestResponse{.http_status = 204};
}

Result<http::RestResponse> LambdaService::UntagResource(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, TaggedFunction(call));
  std::vector<std::string> keys;
  for (auto [it, end] = call.query.equal_range("tagKeys"); it != end; ++it) {
    keys.push_back(it->second);
  }
  if (keys.empty()) {
    ValidationErrors errors;
    errors.AddNull("tagKeys");
    return ValidationError(errors);
  }
  RETURN_IF_ERROR(store_.Update(ref, [&](Function& f) {
                          for (const std::string& key : keys) f.tags.erase(key);
                          return Status::Ok();
                        })
                      .status());
  return http::RestResponse{.http_status = 204};
}

Result<http::RestResponse> LambdaService::ListTags(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, TaggedFunction(call));
  ASSIGN_OR_RETURN(auto function, store_.Get(ref.account_id, ref.region, ref.name));
  return JsonResponse(200, ToJson([&](JsonWriter& w) {
                        w.StartObject();
                        WriteKey(w, "Tags");
                        w.StartObject();
                        for (const auto& [k, v] : function->tags) {
                          WriteKey(w, k);
                          WriteString(w, v);
                        }
                        w.EndObject();
                        w.EndObject();
                      }));
}

Result<http::RestResponse> LambdaService::PutFunctionConcurrency(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(JsonDocument body, ParseJsonBody(call.raw.body));
  ASSIGN_OR_RETURN(std::optional<int64_t> reserved,
                   GetInteger(body, "ReservedConcurrentExecutions"));
  ValidationErrors errors;
  if (!reserved) {
    errors.AddNull("reservedConcurrentExecutions");
  } else if (*reserved < 0) {
    errors.AddConstraint(std::to_string(*reserved), "reservedConcurrentExecutions",
                         "Member must have value greater than or equal to 0");
  }
  RETURN_IF_ERROR(ValidationError(errors));
  int64_t others = 0;
  for (const auto& function : store_.List(ref.account_id, ref.region)) {
    if (function->name != ref.name) others += function->reserved_concurrency.value_or(0);
  }
  if (others + *reserved > kAccountConcurrency - kMinUnreservedConcurrency) {
    return InvalidParameter(
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100].");
  }
  ASSIGN_OR_RETURN(auto updated, store_.Update(ref, [&](Function& f) {
                     f.reserved_concurrency = static_cast<int>(*reserved);
                     return Status::Ok();
                   }));
  // Running environments keep their old bound until retired.
  engine_.Retire(updated->arn());
  return JsonResponse(200, "{\"ReservedConcurrentExecutions\":" + std::to_string(*reserved) + "}");
}

Result<http::RestResponse> LambdaService::GetFunctionConcurrency(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(auto function, store_.Get(ref.account_id, ref.region, ref.name));
  if (!function->reserved_concurrency) return JsonResponse(200, "{}");
  return JsonResponse(200, "{\"ReservedConcurrentExecutions\":" +
                               std::to_string(*function->reserved_concurrency) + "}");
}

Result<http::RestResponse> LambdaService::DeleteFunctionConcurrency(const LambdaCall& call) {
  ASSIGN_OR_RETURN(FunctionRef ref, FunctionLabel(call));
  ASSIGN_OR_RETURN(auto updated, store_.Update(ref, [&](Function& f) {
                     f.reserved_concurrency.reset();
                     return Status::Ok();
                   }));
  engine_.Retire(updated->arn());
  return http::RestResponse{.http_status = 204};
}

Result<http::RestResponse> LambdaService::GetAccountSettings(const LambdaCall& call) {
  int64_t code_size = 0;
  int64_t reserved = 0;
  auto functions = store_.List(call.context.account_id, call.context.region);
  for (const auto& function : functions) {
    code_size += function->latest.code_size;
    for (const auto& [number, config] : function->versions) code_size += config.code_size;
    reserved += function->reserved_concurrency.value_or(0);
  }
  return JsonResponse(200, ToJson([&](JsonWriter& w) {
                        w.StartObject();
                        WriteKey(w, "AccountLimit");
                        w.StartObject();
                        WriteKey(w, "TotalCodeSize");
                        w.Int64(80530636800);
                        WriteKey(w, "CodeSizeUnzipped");
                        w.Int64(salespipe::lambda::kMaxUnzippedBytes);
                        WriteKey(w, "CodeSizeZipped");
                        w.Int64(52428800);
                        WriteKey(w, "ConcurrentExecutions");
                        w.Int(kAccountConcurrency);
                        WriteKey(w, "UnreservedConcurrentExecutions");
                        w.Int64(kAccountConcurrency - reserved);
                        w.EndObject();
                        WriteKey(w, "AccountUsage");
                        w.StartObject();
                        WriteKey(w, "TotalCodeSize");
                        w.Int64(code_size);
                        WriteKey(w, "FunctionCount");
                        w.Int64(static_cast<int64_t>(functions.size()));
                        w.EndObject();
                        w.EndObject();
                      }));
}

}  // namespace salespipe::services::lambda
