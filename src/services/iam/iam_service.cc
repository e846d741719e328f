#include "services/iam/iam_service.h"

#include <algorithm>

#include "common/logging.h"
#include "http/sigv4.h"
#include "services/json.h"

namespace salespipe::services::iam {
namespace {

constexpr std::string_view kTextXml = "text/xml";
constexpr int64_t kDefaultMaxItems = 100;
constexpr size_t kMaxPolicyBytes = 131072;
constexpr size_t kMaxTagsPerRole = 50;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// "roleName" for "RoleName": the member path in ValidationError messages.
std::string MemberPath(std::string_view name) {
  std::string path(name);
  if (!path.empty()) path[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(path[0])));
  return path;
}

Status ValidationError(std::string message) {
  return Status::InvalidArgument(std::move(message)).WithAwsCode("ValidationError");
}

Status Constraint(std::string_view value, std::string_view member, std::string_view constraint) {
  return ValidationError("1 validation error detected: Value '" + std::string(value) + "' at '" +
                         MemberPath(member) +
                         "' failed to satisfy constraint: " + std::string(constraint));
}

Status CheckLength(std::string_view value, std::string_view member, size_t min, size_t max) {
  if (value.size() < min) {
    return Constraint(value, member,
                      "Member must have length greater than or equal to " + std::to_string(min));
  }
  if (value.size() > max) {
    return Constraint(value, member,
                      "Member must have length less than or equal to " + std::to_string(max));
  }
  return Status::Ok();
}

// IAM names: [\w+=,.@-]+ (role, policy and session names).
Status CheckName(std::string_view value, std::string_view member, size_t min, size_t max) {
  RETURN_IF_ERROR(CheckLength(value, member, min, max));
  for (char c : value) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '=' ||
              c == ',' || c == '.' || c == '@' || c == '-';
    if (!ok) {
      return Constraint(value, member,
                        "Member must satisfy regular expression pattern: [\\w+=,.@-]+");
    }
  }
  return Status::Ok();
}

// Paths: "/" or "/.../" of printable ASCII.
Status CheckPath(std::string_view value, std::string_view member) {
  RETURN_IF_ERROR(CheckLength(value, member, 1, 512));
  bool ok = value.front() == '/' && value.back() == '/';
  for (char c : value) ok = ok && c >= 0x21 && c <= 0x7E;
  if (!ok) {
    return Constraint(value, member,
                      "Member must satisfy regular expression pattern: "
                      "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
  }
  return Status::Ok();
}

// Policies must be JSON objects (IAM checks their grammar too; we only check the JSON).
Status CheckPolicyDocument(std::string_view document, std::string_view member) {
  RETURN_IF_ERROR(CheckLength(document, member, 1, kMaxPolicyBytes));
  rapidjson::Document doc;
  doc.Parse(document.data(), document.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status::InvalidArgument("This policy contains invalid Json")
        .WithAwsCode("MalformedPolicyDocument");
  }
  return Status::Ok();
}

Status CheckPolicyArn(std::string_view arn) {
  RETURN_IF_ERROR(CheckLength(arn, "PolicyArn", 20, 2048));
  if (arn.substr(0, 4) != "arn:" || std::count(arn.begin(), arn.end(), ':') < 5) {
    return Status::InvalidArgument("ARN " + std::string(arn) + " is not valid.")
        .WithAwsCode("InvalidInput");
  }
  return Status::Ok();
}

Status CheckTags(const std::vector<std::pair<std::string_view, std::string_view>>& tags) {
  for (const auto& [key, value] : tags) {
    RETURN_IF_ERROR(CheckLength(key, "Tags.member.key", 1, 128));
    RETURN_IF_ERROR(CheckLength(value, "Tags.member.value", 0, 256));
  }
  return Status::Ok();
}

// Adds or replaces `tags` on `role`. Errors: LimitExceeded over 50 tags.
Status MergeTags(Role& role,
                 const std::vector<std::pair<std::string_view, std::string_view>>& tags) {
  for (const auto& [key, value] : tags) {
    auto it = std::find_if(role.tags.begin(), role.tags.end(),
                           [&](const Tag& tag) { return tag.key == key; });
    if (it != role.tags.end()) {
      it->value = std::string(value);
    } else {
      role.tags.push_back({.key = std::string(key), .value = std::string(value)});
    }
  }
  if (role.tags.size() > kMaxTagsPerRole) {
    return Status::ResourceExhausted("Cannot exceed quota for TagsPerRole: 50.")
        .WithAwsCode("LimitExceeded");
  }
  return Status::Ok();
}

// IAM returns policy documents URL-encoded (botocore decodes them back into dicts).
std::string EncodePolicy(std::string_view document) {
  return http::sigv4::UriEncode(document, /*encode_slash=*/true);
}

void WriteTags(QueryXmlWriter& xml, const std::vector<Tag>& tags) {
  xml.Open("Tags");
  for (const Tag& tag : tags) {
    xml.Open("member").Element("Key", tag.key).Element("Value", tag.value).Close("member");
  }
  xml.Close("Tags");
}

// <Role> as CreateRole, GetRole and UpdateRole return it (ListRoles leaves the tags out).
void WriteRole(QueryXmlWriter& xml, const Role& role, bool with_tags, std::string_view element) {
  xml.Open(element)
      .Element("Path", role.path)
      .Element("RoleName", role.name)
      .Element("RoleId", role.role_id)
      .Element("Arn", role.Arn())
      .Element("CreateDate", IsoDate(role.create_date))
      .Element("AssumeRolePolicyDocument", EncodePolicy(role.assume_role_policy_document));
  if (!role.description.empty()) xml.Element("Description", role.description);
  xml.Element("MaxSessionDuration", std::to_string(role.max_session_duration));
  if (with_tags && !role.tags.empty()) WriteTags(xml, role.tags);
  xml.Close(element);
}

// One page of `items` (sorted by `key`) from Marker, MaxItems long; writes IsTruncated and
// Marker after the caller's list. Returns [begin, end) indexes.
struct Page {
  size_t begin = 0;
  size_t end = 0;
  std::optional<std::string> next_marker;
};

template <typename T, typename KeyFn>
Result<Page> Paginate(const QueryParams& params, const std::vector<T>& items, KeyFn key) {
  ASSIGN_OR_RETURN(std::optional<int64_t> max_items, params.Integer("MaxItems", 1, 1000));
  int64_t limit = max_items.value_or(kDefaultMaxItems);
  Page page;
  if (std::optional<std::string_view> marker = params.Get("Marker")) {
    while (page.begin < items.size() && key(items[page.begin]) < *marker) ++page.begin;
  }
  page.end = std::min(items.size(), page.begin + static_cast<size_t>(limit));
  if (page.end < items.size()) page.next_marker = std::string(key(items[page.end]));
  return page;
}

void WritePageEnd(QueryXmlWriter& xml, const Page& page) {
  xml.Element("IsTruncated", page.next_marker ? "true" : "false");
  if (page.next_marker) xml.Element("Marker", *page.next_marker);
}

std::string LowerName(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsStsAction(std::string_view action) {
  return action == "GetCallerIdentity" || action == "AssumeRole" || action == "GetSessionToken";
}

bool IsFormContentType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return EqualsIgnoreCase(media, "application/x-www-form-urlencoded");
}

}  // namespace

http::RestResponse RenderQueryError(const Status& status, std::string_view xml_namespace,
                                    std::string_view request_id) {
  int http_status = 400;
  std::string_view code = "ValidationError";
  switch (status.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
      http_status = 400;
      code = "ValidationError";
      break;
    case ErrorCode::kNotFound:
      http_status = 404;
      code = "NoSuchEntity";
      break;
    case ErrorCode::kAlreadyExists:
      http_status = 409;
      code = "EntityAlreadyExists";
      break;
    case ErrorCode::kFailedPrecondition:
      http_status = 409;
      code = "DeleteConflict";
      break;
    case ErrorCode::kAborted:
      http_status = 409;
      code = "ConcurrentModification";
      break;
    case ErrorCode::kResourceExhausted:
      http_status = 409;
      code = "LimitExceeded";
      break;
    case ErrorCode::kPermissionDenied:
      http_status = 403;
      code = "AccessDenied";
      break;
    case ErrorCode::kUnauthenticated:
      http_status = 403;
      code = "InvalidClientTokenId";
      break;
    case ErrorCode::kUnimplemented:
      http_status = 400;
      code = "InvalidAction";
      break;
    case ErrorCode::kUnavailable:
    case ErrorCode::kDeadlineExceeded:
      http_status = 503;
      code = "ServiceUnavailable";
      break;
    case ErrorCode::kOk:
    case ErrorCode::kInternal:
      http_status = 500;
      code = "ServiceFailure";
      break;
  }
  std::string_view aws_code = status.aws_code();
  // The edge names auth failures as the JSON protocols do; the query protocol's names differ.
  if (aws_code == "UnrecognizedClientException") aws_code = "InvalidClientTokenId";
  if (aws_code == "InvalidSignatureException") aws_code = "SignatureDoesNotMatch";
  if (aws_code == "IncompleteSignatureException") aws_code = "IncompleteSignature";
  if (aws_code == "MissingAuthenticationTokenException") aws_code = "MissingAuthenticationToken";
  if (aws_code == "RequestEntityTooLarge") http_status = 413;
  if (!aws_code.empty()) code = aws_code;
  std::string_view message = status.code() == ErrorCode::kInternal
                                 ? std::string_view("Internal server error")
                                 : std::string_view(status.message());
  return http::RestResponse{
      .http_status = http_status,
      .content_type = std::string(kTextXml),
      .body = QueryErrorBody(xml_namespace, http_status < 500, code, message, request_id)};
}

IamService::IamService(kv::Db& db, const Clock& clock) : clock_(clock), store_(db, clock) {}

bool IamService::Claims(const http::RestRouteInput& input) const {
  if (!input.signing_service.empty()) {
    return input.signing_service == "iam" || input.signing_service == "sts";
  }
  return input.method == "POST" && input.path == "/" && IsFormContentType(input.content_type);
}

std::optional<http::RestResponse> IamService::RenderError(const Status& status,
                                                          std::string_view request_id) const {
  return RenderQueryError(status, kIamNamespace, request_id);
}

Result<http::RestResponse> IamService::Handle(const http::RestRequest& request,
                                              const services::RequestContext& context) {
  QueryParams params = QueryParams::Parse(request.query, request.body);
  std::optional<std::string_view> action = params.Get("Action");
  std::string_view xml_namespace = action && IsStsAction(*action) ? kStsNamespace : kIamNamespace;
  Result<std::string> body = Status::Ok();
  if (!action || action->empty()) {
    body = Status::InvalidArgument("Missing Action").WithAwsCode("MissingAction");
  } else {
    using Method = Result<std::string> (IamService::*)(const QueryParams&, const Context&);
    static constexpr std::pair<std::string_view, Method> kActions[] = {
        {"CreateRole", &IamService::CreateRole},
        {"GetRole", &IamService::GetRole},
        {"DeleteRole", &IamService::DeleteRole},
        {"ListRoles", &IamService::ListRoles},
        {"UpdateRole", &IamService::UpdateRole},
        {"UpdateAssumeRolePolicy", &IamService::UpdateAssumeRolePolicy},
        {"TagRole", &IamService::TagRole},
        {"UntagRole", &IamService::UntagRole},
        {"ListRoleTags", &IamService::ListRoleTags},
        {"PutRolePolicy", &IamService::PutRolePolicy},
        {"GetRolePolicy", &IamService::GetRolePolicy},
        {"DeleteRolePolicy", &IamService::DeleteRolePolicy},
        {"ListRolePolicies", &IamService::ListRolePolicies},
        {"AttachRolePolicy", &IamService::AttachRolePolicy},
        {"DetachRolePolicy", &IamService::DetachRolePolicy},
        {"ListAttachedRolePolicies", &IamService::ListAttachedRolePolicies},
        {"GetCallerIdentity", &IamService::GetCallerIdentity},
        {"AssumeRole", &IamService::AssumeRole},
        {"GetSessionToken", &IamService::GetSessionToken},
    };
    auto it = std::find_if(std::begin(kActions), std::end(kActions),
                           [&](const auto& entry) { return entry.first == *action; });
    if (it == std::end(kActions)) {
      body = Status::Unimplemented(
                 "Could not find operation " + std::string(*action) + " for version " +
                 std::string(xml_namespace == kStsNamespace ? "2011-06-15" : "2010-05-08"))
                 .WithAwsCode("InvalidAction");
    } else {
      body = (this->*(it->second))(params, context);
    }
  }
  if (!body.ok()) {
    if (body.status().code() == ErrorCode::kInternal) {
      SPDLOG_ERROR("[{}] iam {}: {}", context.request_id, action.value_or(""),
                   body.status().ToString());
    }
    return RenderQueryError(body.status(), xml_namespace, context.request_id);
  }
  return http::RestResponse{.content_type = std::string(kTextXml), .body = std::move(*body)};
}

// ---------------------------------------------------------------------------------------
// Roles

Result<std::string> IamService::CreateRole(const QueryParams& params, const Context& context) {
  ASSIGN_OR_RETURN(std::string_view name, params.Required("RoleName"));
  ASSIGN_OR_RETURN(std::string_view trust, params.Required("AssumeRolePolicyDocument"));
  RETURN_IF_ERROR(CheckName(name, "RoleName", 1, 64));
  std::string_view path = params.Get("Path").value_or("/");
  RETURN_IF_ERROR(CheckPath(path, "Path"));
  std::string_view description = params.Get("Description").value_or("");
  RETURN_IF_ERROR(CheckLength(description, "Description", 0, 1000));
  ASSIGN_OR_RETURN(std::optional<int64_t> max_session,
                   params.Integer("MaxSessionDuration", 3600, 43200));
  auto tags = params.Tags("Tags");
  RETURN_IF_ERROR(CheckTags(tags));
  RETURN_IF_ERROR(CheckPolicyDocument(trust, "AssumeRolePolicyDocument"));
  Role role{
      .account_id = context.account_id,
      .name = std::string(name),
      .path = std::string(path),
      .assume_role_policy_document = std::string(trust),
      .description = std::string(description),
      .max_session_duration = max_session.value_or(3600),
  };
  RETURN_IF_ERROR(MergeTags(role, tags));
  ASSIGN_OR_RETURN(Role created, store_.CreateRole(std::move(role)));
  QueryXmlWriter xml("CreateRole", kIamNamespace);
  WriteRole(xml, created, /*with_tags=*/true, "Role");
  return xml.Finish(context.request_id);
}

Result<std::string> IamService::GetRole(const QueryParams& params, const Context& context) {
  ASSIGN_OR_RETURN(std::string_view name, params.Required("RoleName"));
  RETURN_IF_ERROR(CheckName(name, "RoleName", 1, 64));
  ASSIGN_OR_RETURN(Role role, store_.GetRole(context.account_id, name));
  QueryXmlWriter xml("GetRole", kIamNamespace);
  WriteRole(xml, role, /*with_tags=*/true, "Role");
  return xml.Finish(context.request_id);
}

Result<std::string> IamService::DeleteRole(const QueryParams& params, const Context& context) {
  ASSIGN_OR_RETURN(std::string_view name, params.Required("RoleName"));
  RETURN_IF_ERROR(CheckName(name, "RoleName", 1, 64));
  RETURN_IF_ERROR(store_.DeleteRole(context.account_id, name));
  return QueryXmlWriter("DeleteRole", kIamNamespace, false).Finish(context.request_id);
}

Result<std::string> IamService::ListRoles(const QueryParams& params, const Context& context) {
  std::string_view path_prefix = params.Get("PathPrefix").value_or("/");
  RETURN_IF_ERROR(CheckLength(path_prefix, "PathPrefix", 1, 512));
  ASSIGN_OR_RETURN(std::vector<Role> roles, store_.ListRoles(context.account_id, path_prefix));
  // The store lists by lower-case name; the marker is that name.
  std::vector<std::string> keys;
  for (const Role& role : roles) keys.push_back(LowerName(role.name));
  ASSIGN_OR_RETURN(Page page, Paginate(params, keys,
                                       [](const std::string& k) -> std::string_view { return k; }));
  QueryXmlWriter xml("ListRoles", kIamNamespace);
  xml.Open("Roles");
  for (size_t i = page.begin; i < page.end; ++i) {
    WriteRole(xml, roles[i], /*with_tags=*/false, "member");
  }
  xml.Close("Roles");
  WritePageEnd(xml, page);
  return xml.Finish(context.request_id);
}

Result<std::string> IamService::UpdateRole(const QueryParams& params, const Context& context) {
  ASSIGN_OR_RETURN(std::string_view name, params.Required("RoleName"));
  RETURN_IF_ERROR(CheckName(name, "RoleName", 1, 64));
  std::optional<std::string_view> description = params.Get("Description");
  if (description) RETURN_IF_ERROR(CheckLength(*description, "Description", 0, 1000));
  ASSIGN_OR_RETURN(std::optional<int64_t> max_session,
                   params.Integer("MaxSessionDuration", 3600, 43200));
  RETURN_IF_ERROR(store_.UpdateRole(context.account_id, name, [&](Role& role) {
    if (description) role.description = std::string(*description);
    if (max_session) role.max_session_duration = *max_session;
    return Status::Ok();
  }));
  return QueryXmlWriter("UpdateRole", kIamNamespace).Finish(context.request_id);
}

Result<std::string> IamService::UpdateAssumeRolePolicy(const QueryParams& params,
                                                       const Context& context) {
  ASSIGN_OR_RETURN(std::string_view name, params.Required("RoleName"));
  ASSIGN_OR_RETURN(std::string_view document, params.Required("PolicyDocument"));
  RETURN_IF_ERROR(CheckName(name, "RoleName", 1, 64));
  RETURN_IF_ERROR(CheckPolicyDocument(document, "PolicyDocument"));
  RETURN_IF_ERROR(store_.UpdateRole(context.account_id, name, [&](Role& role) {
    role.assume_role_policy_document = std::string(document);
    return Status::Ok();
  }));
  return QueryXmlWriter("UpdateAssumeRolePolicy", kIamNamespace, false).Finish(context.request_id);
}

Result<std::string> IamService::TagRole(const QueryParams& params, const Context& context) {
  ASSIGN_OR_RETURN(std::string_view name, params.Required("RoleName"));
  RETURN_IF_ERROR(CheckName(name, "RoleName", 1, 64));
  auto tags = params.Tags("Tags");
  if (tags.empty()) RETURN_IF_ERROR(params.Required("Tags").status());
  RETURN_IF_ERROR(CheckTags(tags));
  RETURN_IF_ERROR(store_.UpdateRole(context.account_id, name,
                                    [&](Role& role) { return MergeTags(role, tags); }));
  return QueryXmlWriter("TagRole", kIamNamespace, false).Finish(context.request_id);
}

Result<std::string> IamService::UntagRole(const QueryParams& params, const Context& context) {
  ASSIGN_OR_RETURN(std::string_view name, params.Required("RoleName"));
  RETURN_IF_ERROR(CheckName(name, "RoleName", 1, 64));
  std::vector<std::string_view> keys = params.List("TagKeys");
  if (keys.empty()) RETURN_IF_ERROR(params.Required("TagKeys").status());
  RETURN_IF_ERROR(store_.UpdateRole(context.account_id, name, [&](Role& role) {
    std::erase_if(role.tags, [&](const Tag& tag) {
      return std::find(keys.begin(), keys.end(), tag.key) != keys.end();
    });
    return Status::Ok();
  }));
  return QueryXmlWriter("UntagRole", kIamNamespace, false).Finish(context.request_id);
}

Result<std::string> IamService::ListRoleTags(const QueryParams& params, const Context& context) {
  ASSIGN_OR_RETURN(std::string_view name, params.Required("RoleName"));
  RETURN_IF_ERROR(CheckName(name, "RoleName", 1, 64));
  ASSIGN_OR_RETURN(Role role, store_.GetRole(context.account_id, name));
  std::sort(role.tags.begin(), role.tags.end(),
            [](const Tag& a, const Tag& b) { return a.key < b.key; });
  ASSIGN_OR_RETURN(Page page, Paginate(params, role.tags,
                                       [](const Tag& tag) -> std::string_view { return tag.key; }));
  QueryXmlWriter xml("ListRoleTags", kIamNamespace);
  WriteTags(xml, std::vector<Tag>(role.tags.begin() + static_cast<ptrdiff_t>(page.begin),
                                  role.tags.begin() + static_cast<ptrdiff_t>(page.end)));
  WritePageEnd(xml, page);
  return xml.Finish(context.request_id);
}

// ---------------------------------------------------------------------------------------
// Inline and attached policies

Result<std::string> IamService::PutRolePolicy(const QueryParams& params, const Context& context) {
  ASSIGN_OR_RETURN(std::string_view role_name, params.Required("RoleName"));
  ASSIGN_OR_RETURN(std::string_view policy_name, params.Required("PolicyName"));
  ASSIGN_OR_RETURN(std::string_view document, params.Required("PolicyDocument"));
  RETURN_IF_ERROR(CheckName(role_name, "RoleName", 1, 64));
  RETURN_IF_ERROR(CheckName(policy_name, "PolicyName", 1, 128));
  RETURN_IF_ERROR(CheckPolicyDocument(document, "PolicyDocument"));
  RETURN_IF_ERROR(store_.PutRolePolicy(context.account_id, role_name, policy_name, document));
  return QueryXmlWriter("PutRolePolicy", kIamNamespace, false).Finish(context.request_id);
}

Result<std::string> IamService::GetRolePolicy(const QueryParams& params, const Context& context) {
  ASSIGN_OR_RETURN(std::string_view role_name, params.Required("RoleName"));
  ASSIGN_OR_RETURN(std::string_view policy_name, params.Required("PolicyName"));
  RETURN_IF_ERROR(CheckName(role_name, "RoleName", 1, 64));
  RETURN_IF_ERROR(CheckName(policy_name, "PolicyName", 1, 128));
  ASSIGN_OR_RETURN(Role role, store_.GetRole(context.account_id, role_name));
  ASSIGN_OR_RETURN(auto policy, store_.GetRolePolicy(context.account_id, role_name, policy_name));
  QueryXmlWriter xml("GetRolePolicy", kIamNamespace);
  xml.Element("RoleName", role.name)
      .Element("PolicyName", policy.first)
      .Element("PolicyDocument", EncodePolicy(policy.second));
  return xml.Finish(context.request_id);
}

Result<std::string> IamService::DeleteRolePolicy(const QueryParams& params,
                                                 const Context& context) {
  ASSIGN_OR_RETURN(std::string_view role_name, params.Required("RoleName"));
  ASSIGN_OR_RETURN(std::string_view policy_name, params.Required("PolicyName"));
  RETURN_IF_ERROR(CheckName(role_name, "RoleName", 1, 64));
  RETURN_IF_ERROR(CheckName(policy_name, "PolicyName", 1, 128));
  RETURN_IF_ERROR(store_.DeleteRolePolicy(context.account_id, role_name, policy_name));
  return QueryXmlWriter("DeleteRolePolicy", kIamNamespace, false).Finish(context.request_id);
}

Result<std::string> IamService::ListRolePolicies(const QueryParams& params,
                                                 const Context& context) {
  ASSIGN_OR_RETURN(std::string_view role_name, params.Required("RoleName"));
  RETURN_IF_ERROR(CheckName(role_name, "RoleName", 1, 64));
  ASSIGN_OR_RETURN(std::vector<std::string> names,
                   store_.ListRolePolicies(context.account_id, role_name));
  std::vector<std::string> keys;
  for (const std::string& name : names) keys.push_back(LowerName(name));
  ASSIGN_OR_RETURN(Page page, Paginate(params, keys,
                                       [](const std::string& k) -> std::string_view { return k; }));
  QueryXmlWriter xml("ListRolePolicies", kIamNamespace);
  xml.Open("PolicyNames");
  for (size_t i = page.begin; i < page.end; ++i) xml.Element("member", names[i]);
  xml.Close("PolicyNames");
  WritePageEnd(xml, page);
  return xml.Finish(context.request_id);
}

Result<std::string> IamService::AttachRolePolicy(const QueryParams& params,
                                                 const Context& context) {
  ASSIGN_OR_RETURN(std::string_view role_name, params.Required("RoleName"));
  ASSIGN_OR_RETURN(std::string_view arn, params.Required("PolicyArn"));
  RETURN_IF_ERROR(CheckName(role_name, "RoleName", 1, 64));
  RETURN_IF_ERROR(CheckPolicyArn(arn));
  RETURN_IF_ERROR(store_.AttachRolePolicy(context.account_id, role_name, arn));
  return QueryXmlWriter("AttachRolePolicy", kIamNamespace, false).Finish(context.request_id);
}

Result<std::string> IamService::DetachRolePolicy(const QueryParams& params,
                                                 const Context& context) {
  ASSIGN_OR_RETURN(std::string_view role_name, params.Required("RoleName"));
  ASSIGN_OR_RETURN(std::string_view arn, params.Required("PolicyArn"));
  RETURN_IF_ERROR(CheckName(role_name, "RoleName", 1, 64));
  RETURN_IF_ERROR(CheckPolicyArn(arn));
  RETURN_IF_ERROR(store_.DetachRolePolicy(context.account_id, role_name, arn));
  return QueryXmlWriter("DetachRolePolicy", kIamNamespace, false).Finish(context.request_id);
}

Result<std::string> IamService::ListAttachedRolePolicies(const QueryParams& params,
                                                         const Context& context) {
  ASSIGN_OR_RETURN(std::string_view role_name, params.Required("RoleName"));
  RETURN_IF_ERROR(CheckName(role_name, "RoleName", 1, 64));
  std::string_view path_prefix = params.Get("PathPrefix").value_or("/");
  ASSIGN_OR_RETURN(std::vector<AttachedPolicy> policies,
                   store_.ListAttachedRolePolicies(context.account_id, role_name));
  // Managed policy ARNs are arn:aws:iam::<account>:policy<path><name>.
  std::erase_if(policies, [&](const AttachedPolicy& policy) {
    size_t start = policy.arn.find(":policy/");
    std::string_view path = start == std::string::npos
                                ? std::string_view("/")
                                : std::string_view(policy.arn).substr(start + 7);
    return path.substr(0, path_prefix.size()) != path_prefix;
  });
  ASSIGN_OR_RETURN(Page page,
                   Paginate(params, policies,
                            [](const AttachedPolicy& p) -> std::string_view { return p.arn; }));
  QueryXmlWriter xml("ListAttachedRolePolicies", kIamNamespace);
  xml.Open("AttachedPolicies");
  for (size_t i = page.begin; i < page.end; ++i) {
    xml.Open("member")
        .Element("PolicyName", policies[i].name)
        .Element("PolicyArn", policies[i].arn)
        .Close("member");
  }
  xml.Close("AttachedPolicies");
  WritePageEnd(xml, page);
  return xml.Finish(context.request_id);
}

}  // namespace salespipe::services::iam
