#include "services/iam/role_store.h"

#include <algorithm>
#include <random>

#include "services/json.h"

namespace salespipe::services::iam {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string AccountPrefix(std::string_view account_id) {
  return "iam/" + std::string(account_id) + "/";
}
std::string RoleKey(std::string_view account_id, std::string_view name) {
  return AccountPrefix(account_id) + "role/" + Lower(name);
}
std::string PolicyPrefix(std::string_view account_id, std::string_view role) {
  return AccountPrefix(account_id) + "policy/" + Lower(role) + "/";
}
std::string AttachedPrefix(std::string_view account_id, std::string_view role) {
  return AccountPrefix(account_id) + "attached/" + Lower(role) + "/";
}
std::string SessionKey(std::string_view access_key_id) {
  return "iam/session/" + std::string(access_key_id);
}

Status NoSuchRole(std::string_view name) {
  return Status::NotFound("The role with name " + std::string(name) + " cannot be found.")
      .WithAwsCode("NoSuchEntity");
}

std::string EncodeRole(const Role& role) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "account");
  WriteString(w, role.account_id);
  WriteKey(w, "name");
  WriteString(w, role.name);
  WriteKey(w, "path");
  WriteString(w, role.path);
  WriteKey(w, "id");
  WriteString(w, role.role_id);
  WriteKey(w, "created");
  w.Int64(role.create_date);
  WriteKey(w, "trust");
  WriteString(w, role.assume_role_policy_document);
  WriteKey(w, "description");
  WriteString(w, role.description);
  WriteKey(w, "max_session");
  w.Int64(role.max_session_duration);
  WriteKey(w, "tags");
  w.StartArray();
  for (const Tag& tag : role.tags) {
    w.StartArray();
    WriteString(w, tag.key);
    WriteString(w, tag.value);
    w.EndArray();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<Role> DecodeRole(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return Status::Internal("corrupt IAM role record");
  auto str = [&](const char* name) -> std::string {
    auto it = doc.FindMember(name);
    return it != doc.MemberEnd() && it->value.IsString()
               ? std::string(it->value.GetString(), it->value.GetStringLength())
               : std::string();
  };
  auto num = [&](const char* name, int64_t fallback) -> int64_t {
    auto it = doc.FindMember(name);
    return it != doc.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : fallback;
  };
  Role role{
      .account_id = str("account"),
      .name = str("name"),
      .path = str("path"),
      .role_id = str("id"),
      .create_date = num("created", 0),
      .assume_role_policy_document = str("trust"),
      .description = str("description"),
      .max_session_duration = num("max_session", 3600),
  };
  auto tags = doc.FindMember("tags");
  if (tags != doc.MemberEnd() && tags->value.IsArray()) {
    for (const auto& pair : tags->value.GetArray()) {
      if (!pair.IsArray() || pair.Size() != 2 || !pair[0].IsString() || !pair[1].IsString()) {
        return Status::Internal("corrupt IAM role record");
      }
      role.tags.push_back({.key = std::string(pair[0].GetString(), pair[0].GetStringLength()),
                           .value = std::string(pair[1].GetString(), pair[1].GetStringLength())});
    }
  }
  return role;
}

std::string EncodePair(std::string_view first_name, std::string_view first,
                       std::string_view second_name, std::string_view second) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, first_name);
  WriteString(w, first);
  WriteKey(w, second_name);
  WriteString(w, second);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// The string members `names` of a JSON object record. Errors: kInternal if malformed.
Result<std::vector<std::string>> DecodeStrings(std::string_view text,
                                               std::initializer_list<const char*> names) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return Status::Internal("corrupt IAM record");
  std::vector<std::string> out;
  for (const char* name : names) {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd() || !it->value.IsString()) {
      return Status::Internal("corrupt IAM record");
    }
    out.emplace_back(it->value.GetString(), it->value.GetStringLength());
  }
  return out;
}

}  // namespace

std::string Role::Arn() const { return "arn:aws:iam::" + account_id + ":role" + path + name; }

RoleStore::RoleStore(kv::Db& db, const Clock& clock)
    : db_(db), clock_(clock), random_state_(std::random_device{}()) {}

std::string RoleStore::NewId(std::string_view prefix, size_t length) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string id(prefix);
  MutexLock lock(random_mu_);
  std::mt19937_64 generator(random_state_);
  while (id.size() < length) id.push_back(kAlphabet[generator() % kAlphabet.size()]);
  random_state_ = generator();
  return id;
}

Result<std::optional<Role>> RoleStore::ReadRole(std::string_view account_id,
                                                std::string_view name) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   db_.Get(kv::Cf::kMeta, RoleKey(account_id, name)));
  if (!value) return std::optional<Role>();
  ASSIGN_OR_RETURN(Role role, DecodeRole(*value));
  return std::optional<Role>(std::move(role));
}

Result<Role> RoleStore::RequireRole(std::string_view account_id, std::string_view name) const {
  ASSIGN_OR_RETURN(std::optional<Role> role, ReadRole(account_id, name));
  if (!role) return NoSuchRole(name);
  return std::move(*role);
}

Result<Role> RoleStore::CreateRole(Role role) {
  role.role_id = NewId("AROA", 21);
  role.create_date =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(std::optional<Role> existing, ReadRole(role.account_id, role.name));
  if (existing) {
    return Status::AlreadyExists("Role with name " + role.name + " already exists.")
        .WithAwsCode("EntityAlreadyExists");
  }
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, RoleKey(role.account_id, role.name), EncodeRole(role));
  RETURN_IF_ERROR(db_.Commit(batch));
  return role;
}

Result<Role> RoleStore::GetRole(std::string_view account_id, std::string_view name) const {
  return RequireRole(account_id, name);
}

Status RoleStore::DeleteRole(std::string_view account_id, std::string_view name) {
  MutexLock lock(mu_);
  RETURN_IF_ERROR(RequireRole(account_id, name).status());
  ASSIGN_OR_RETURN(std::vector<std::string> inline_policies, ListRolePolicies(account_id, name));
  if (!inline_policies.empty()) {
    return Status::FailedPrecondition("Cannot delete entity, must delete policies first.")
        .WithAwsCode("DeleteConflict");
  }
  ASSIGN_OR_RETURN(std::vector<AttachedPolicy> attached,
                   ListAttachedRolePolicies(account_id, name));
  if (!attached.empty()) {
    return Status::FailedPrecondition("Cannot delete entity, must detach all policies first.")
        .WithAwsCode("DeleteConflict");
  }
  kv::Batch batch = db_.NewBatch();
  batch.Delete(kv::Cf::kMeta, RoleKey(account_id, name));
  return db_.Commit(batch);
}

Result<std::vector<Role>> RoleStore::ListRoles(std::string_view account_id,
                                               std::string_view path_prefix) const {
  std::string prefix = AccountPrefix(account_id) + "role/";
  std::unique_ptr<kv::Iterator> it =
      db_.NewIterator(kv::Cf::kMeta, prefix, kv::PrefixSuccessor(prefix));
  std::vector<Role> roles;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ASSIGN_OR_RETURN(Role role, DecodeRole(it->value()));
    if (std::string_view(role.path).substr(0, path_prefix.size()) == path_prefix) {
      roles.push_back(std::move(role));
    }
  }
  RETURN_IF_ERROR(it->status());
  return roles;
}

Status RoleStore::UpdateRole(std::string_view account_id, std::string_view name,
                             const std::function<Status(Role&)>& update) {
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(Role role, RequireRole(account_id, name));
  RETURN_IF_ERROR(update(role));
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, RoleKey(account_id, name), EncodeRole(role));
  return db_.Commit(batch);
}

Status RoleStore::PutRolePolicy(std::string_view account_id, std::string_view role_name,
                                std::string_view policy_name, std::string_view document) {
  MutexLock lock(mu_);
  RETURN_IF_ERROR(RequireRole(account_id, role_name).status());
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, PolicyPrefix(account_id, role_name) + Lower(policy_name),
            EncodePair("name", policy_name, "document", document));
  return db_.Commit(batch);
}

Result<std::pair<std::string, std::string>> RoleStore::GetRolePolicy(
    std::string_view account_id, std::string_view role_name, std::string_view policy_name) const {
  RETURN_IF_ERROR(RequireRole(account_id, role_name).status());
  ASSIGN_OR_RETURN(
      std::optional<std::string> value,
      db_.Get(kv::Cf::kMeta, PolicyPrefix(account_id, role_name) + Lower(policy_name)));
  if (!value) {
    return Status::NotFound("The role policy with name " + std::string(policy_name) +
                            " cannot be found.")
        .WithAwsCode("NoSuchEntity");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> parts, DecodeStrings(*value, {"name", "document"}));
  return std::make_pair(std::move(parts[0]), std::move(parts[1]));
}

Status RoleStore::DeleteRolePolicy(std::string_view account_id, std::string_view role_name,
                                   std::string_view policy_name) {
  MutexLock lock(mu_);
  RETURN_IF_ERROR(GetRolePolicy(account_id, role_name, policy_name).status());
  kv::Batch batch = db_.NewBatch();
  batch.Delete(kv::Cf::kMeta, PolicyPrefix(account_id, role_name) + Lower(policy_name));
  return db_.Commit(batch);
}

Result<std::vector<std::string>> RoleStore::ListRolePolicies(std::string_view account_id,
                                                             std::string_view role_name) const {
  RETURN_IF_ERROR(RequireRole(account_id, role_name).status());
  std::string prefix = PolicyPrefix(account_id, role_name);
  std::unique_ptr<kv::Iterator> it =
      db_.NewIterator(kv::Cf::kMeta, prefix, kv::PrefixSuccessor(prefix));
  std::vector<std::string> names;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ASSIGN_OR_RETURN(std::vector<std::string> parts, DecodeStrings(it->value(), {"name"}));
    names.push_back(std::move(parts[0]));
  }
  RETURN_IF_ERROR(it->status());
  return names;
}

Status RoleStore::AttachRolePolicy(std::string_view account_id, std::string_view role_name,
                                   std::string_view policy_arn) {
  MutexLock lock(mu_);
  RETURN_IF_ERROR(RequireRole(account_id, role_name).status());
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, AttachedPrefix(account_id, role_name) + std::string(policy_arn), "");
  return db_.Commit(batch);
}

Status RoleStore::DetachRolePolicy(std::string_view account_id, std::string_view role_name,
                                   std::string_view policy_arn) {
  MutexLock lock(mu_);
  RETURN_IF_ERROR(RequireRole(account_id, role_name).status());
  std::string key = AttachedPrefix(account_id, role_name) + std::string(policy_arn);
  ASSIGN_OR_RETURN(std::optional<std::string> value, db_.Get(kv::Cf::kMeta, key));
  if (!value) {
    return Status::NotFound("Policy " + std::string(policy_arn) + " was not found.")
        .WithAwsCode("NoSuchEntity");
  }
  kv::Batch batch = db_.NewBatch();
  batch.Delete(kv::Cf::kMeta, key);
  return db_.Commit(batch);
}

Result<std::vector<AttachedPolicy>> RoleStore::ListAttachedRolePolicies(
    std::string_view account_id, std::string_view role_name) const {
  RETURN_IF_ERROR(RequireRole(account_id, role_name).status());
  std::string prefix = AttachedPrefix(account_id, role_name);
  std::unique_ptr<kv::Iterator> it =
      db_.NewIterator(kv::Cf::kMeta, prefix, kv::PrefixSuccessor(prefix));
  std::vector<AttachedPolicy> policies;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string arn(it->key().substr(prefix.size()));
    size_t slash = arn.rfind('/');
    policies.push_back(
        {.name = slash == std::string::npos ? arn : arn.substr(slash + 1), .arn = std::move(arn)});
  }
  RETURN_IF_ERROR(it->status());
  return policies;
}

Status RoleStore::PutSession(std::string_view access_key_id, const Session& session) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "account");
  WriteString(w, session.account_id);
  WriteKey(w, "arn");
  WriteString(w, session.arn);
  WriteKey(w, "user_id");
  WriteString(w, session.user_id);
  w.EndObject();
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, SessionKey(access_key_id),
            std::string_view(buffer.GetString(), buffer.GetSize()));
  return db_.Commit(batch);
}

Result<std::optional<RoleStore::Session>> RoleStore::GetSession(
    std::string_view access_key_id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   db_.Get(kv::Cf::kMeta, SessionKey(access_key_id)));
  if (!value) return std::optional<Session>();
  ASSIGN_OR_RETURN(std::vector<std::string> parts,
                   DecodeStrings(*value, {"account", "arn", "user_id"}));
  return std::optional<Session>(
      Session{.account_id = parts[0], .arn = parts[1], .user_id = parts[2]});
}

}  // namespace salespipe::services::iam
