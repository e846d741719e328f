// STS: who am I, and temporary credentials (never checked: any key is accepted, spec 1.7).
#include <chrono>

#include "services/iam/iam_service.h"

namespace salespipe::services::iam {
namespace {

constexpr int64_t kDefaultDurationSeconds = 3600;

Status StsValidation(std::string_view value, std::string_view member, std::string_view constraint) {
  return Status::InvalidArgument("1 validation error detected: Value '" + std::string(value) +
                                 "' at '" + std::string(member) +
                                 "' failed to satisfy constraint: " + std::string(constraint))
      .WithAwsCode("ValidationError");
}

// Session names: [\w+=,.@-]*, 2 to 64 characters.
Status CheckSessionName(std::string_view name) {
  if (name.size() < 2 || name.size() > 64) {
    return StsValidation(name, "roleSessionName", "Member must have length between 2 and 64");
  }
  for (char c : name) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '=' ||
              c == ',' || c == '.' || c == '@' || c == '-';
    if (!ok) {
      return StsValidation(name, "roleSessionName",
                           "Member must satisfy regular expression pattern: [\\w+=,.@-]*");
    }
  }
  return Status::Ok();
}

int64_t EpochSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

Status IamService::IssueCredentials(const RoleStore::Session& session, int64_t duration_seconds,
                                    QueryXmlWriter& xml) {
  std::string access_key_id = store_.NewId("ASIA", 20);
  RETURN_IF_ERROR(store_.PutSession(access_key_id, session));
  xml.Open("Credentials")
      .Element("AccessKeyId", access_key_id)
      .Element("SecretAccessKey", store_.NewId("", 40))
      .Element("SessionToken", "FwoGZXIvYXdzE" + store_.NewId("", 180))
      .Element("Expiration", IsoDate(EpochSeconds(clock_.Now()) + duration_seconds))
      .Close("Credentials");
  return Status::Ok();
}

Result<std::string> IamService::GetCallerIdentity(const QueryParams& params,
                                                  const Context& context) {
  // Temporary credentials we issued name their role; any other key is the account's root.
  std::optional<RoleStore::Session> session;
  if (!context.access_key_id.empty()) {
    ASSIGN_OR_RETURN(session, store_.GetSession(context.access_key_id));
  }
  QueryXmlWriter xml("GetCallerIdentity", kStsNamespace);
  if (session) {
    xml.Element("UserId", session->user_id)
        .Element("Account", session->account_id)
        .Element("Arn", session->arn);
  } else {
    xml.Element("UserId", context.account_id)
        .Element("Account", context.account_id)
        .Element("Arn", "arn:aws:iam::" + context.account_id + ":root");
  }
  return xml.Finish(context.request_id);
}

Result<std::string> IamService::AssumeRole(const QueryParams& params, const Context& context) {
  ASSIGN_OR_RETURN(std::string_view role_arn, params.Required("RoleArn"));
  ASSIGN_OR_RETURN(std::string_view session_name, params.Required("RoleSessionName"));
  if (role_arn.size() < 20 || role_arn.size() > 2048) {
    return StsValidation(role_arn, "roleArn", "Member must have length between 20 and 2048");
  }
  RETURN_IF_ERROR(CheckSessionName(session_name));
  ASSIGN_OR_RETURN(std::optional<int64_t> duration, params.Integer("DurationSeconds", 900, 43200));
  // arn:aws:iam::<account>:role/<path><name>
  constexpr std::string_view kRole = ":role/";
  size_t role_start = role_arn.find(kRole);
  size_t account_start =
      role_arn.rfind(':', role_start == std::string_view::npos ? 0 : role_start - 1);
  if (role_arn.substr(0, 4) != "arn:" || role_start == std::string_view::npos ||
      account_start == std::string_view::npos || role_arn.back() == '/') {
    return StsValidation(role_arn, "roleArn", "Member must be a role ARN");
  }
  std::string account_id(role_arn.substr(account_start + 1, role_start - account_start - 1));
  if (account_id.empty()) account_id = context.account_id;
  std::string_view role_name = role_arn.substr(role_arn.rfind('/') + 1);
  // Roles are not required to exist (nothing is enforced); a stored one lends its id.
  Result<Role> role = store_.GetRole(account_id, role_name);
  if (!role.ok() && role.status().code() != ErrorCode::kNotFound) return role.status();
  std::string role_id = role.ok() ? role->role_id : store_.NewId("AROA", 21);
  RoleStore::Session session{
      .account_id = account_id,
      .arn = "arn:aws:sts::" + account_id + ":assumed-role/" + std::string(role_name) + "/" +
             std::string(session_name),
      .user_id = role_id + ":" + std::string(session_name),
  };
  QueryXmlWriter xml("AssumeRole", kStsNamespace);
  RETURN_IF_ERROR(IssueCredentials(session, duration.value_or(kDefaultDurationSeconds), xml));
  xml.Open("AssumedRoleUser")
      .Element("AssumedRoleId", session.user_id)
      .Element("Arn", session.arn)
      .Close("AssumedRoleUser");
  return xml.Finish(context.request_id);
}

Result<std::string> IamService::GetSessionToken(const QueryParams& params, const Context& context) {
  ASSIGN_OR_RETURN(std::optional<int64_t> duration, params.Integer("DurationSeconds", 900, 129600));
  RoleStore::Session session{
      .account_id = context.account_id,
      .arn = "arn:aws:iam::" + context.account_id + ":root",
      .user_id = context.account_id,
  };
  QueryXmlWriter xml("GetSessionToken", kStsNamespace);
  RETURN_IF_ERROR(IssueCredentials(session, duration.value_or(43200), xml));
  return xml.Finish(context.request_id);
}

}  // namespace salespipe::services::iam
