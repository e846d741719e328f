#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "kv/db.h"

namespace salespipe::services::iam {

struct Tag {
  std::string key;
  std::string value;
};

// An IAM role as stored and echoed (never enforced).
struct Role {
  std::string account_id;
  std::string name;  // as created; unique per account ignoring case
  std::string path = "/";
  std::string role_id;                      // "AROA" + 17 characters
  int64_t create_date = 0;                  // epoch seconds
  std::string assume_role_policy_document;  // the JSON text as sent (decoded)
  std::string description;
  int64_t max_session_duration = 3600;
  std::vector<Tag> tags;

  // arn:aws:iam::<account>:role<path><name>
  std::string Arn() const;
};

struct AttachedPolicy {
  std::string name;  // the last '/'-segment of the ARN
  std::string arn;
};

// Roles, their inline policies and attached managed-policy ARNs, per account, in
// kv::Cf::kMeta. Writes of one account are serialized by a mutex (read, check, write); reads
// go straight to the database. Thread-safe.
//
// Key layout (Cf::kMeta; <role> is the role name in lower case: IAM names ignore case):
//   "iam/<account>/role/<role>"                -> Role as JSON (EncodeRole)
//   "iam/<account>/policy/<role>/<policy>"     -> {"name":..., "document":...}
//   "iam/<account>/attached/<role>/<arn>"      -> "" (the ARN as given)
//   "iam/session/<access key id>"              -> {"account":..., "arn":..., "user_id":...}
// Errors carry IAM's codes (aws_code): NoSuchEntity (kNotFound), EntityAlreadyExists
// (kAlreadyExists), DeleteConflict (kFailedPrecondition), LimitExceeded (kResourceExhausted);
// kInternal on storage failures.
class RoleStore {
 public:
  // `db` and `clock` must outlive the store.
  RoleStore(kv::Db& db, const Clock& clock);

  // Stores `role` (name, path, documents, tags set by the caller; id and date are filled in).
  // Errors: EntityAlreadyExists if a role of that name (any case) exists.
  Result<Role> CreateRole(Role role);
  // Errors: NoSuchEntity.
  Result<Role> GetRole(std::string_view account_id, std::string_view name) const;
  // Errors: NoSuchEntity; DeleteConflict while inline or attached policies remain.
  Status DeleteRole(std::string_view account_id, std::string_view name);
  // Every role of the account whose path starts with `path_prefix`, by lower-case name.
  Result<std::vector<Role>> ListRoles(std::string_view account_id,
                                      std::string_view path_prefix) const;
  // Applies `update` to the stored role and writes it back. Errors: NoSuchEntity, or what
  // `update` returns (nothing is written then).
  Status UpdateRole(std::string_view account_id, std::string_view name,
                    const std::function<Status(Role&)>& update);

  // Inline policies. Errors: NoSuchEntity for a missing role (or policy on Get/Delete).
  Status PutRolePolicy(std::string_view account_id, std::string_view role_name,
                       std::string_view policy_name, std::string_view document);
  // The policy's name as stored and its document.
  Result<std::pair<std::string, std::string>> GetRolePolicy(std::string_view account_id,
                                                            std::string_view role_name,
                                                            std::string_view policy_name) const;
  Status DeleteRolePolicy(std::string_view account_id, std::string_view role_name,
                          std::string_view policy_name);
  Result<std::vector<std::string>> ListRolePolicies(std::string_view account_id,
                                                    std::string_view role_name) const;

  // Managed policies attached by ARN. Attaching twice is a no-op. Errors: NoSuchEntity for a
  // missing role, or (Detach) a policy that is not attached.
  Status AttachRolePolicy(std::string_view account_id, std::string_view role_name,
                          std::string_view policy_arn);
  Status DetachRolePolicy(std::string_view account_id, std::string_view role_name,
                          std::string_view policy_arn);
  Result<std::vector<AttachedPolicy>> ListAttachedRolePolicies(std::string_view account_id,
                                                               std::string_view role_name) const;

  // Temporary credentials issued by STS, so GetCallerIdentity can name the assumed role.
  struct Session {
    std::string account_id;
    std::string arn;
    std::string user_id;
  };
  Status PutSession(std::string_view access_key_id, const Session& session);
  Result<std::optional<Session>> GetSession(std::string_view access_key_id) const;

  // "AROA" / "ASIA" style ids: `prefix` + upper-case letters and digits up to `length`.
  std::string NewId(std::string_view prefix, size_t length);

 private:
  Result<std::optional<Role>> ReadRole(std::string_view account_id, std::string_view name) const;
  Result<Role> RequireRole(std::string_view account_id, std::string_view name) const;

  // Set at construction.
  kv::Db& db_;
  const Clock& clock_;

  Mutex mu_;  // serializes read-check-write sequences

  Mutex random_mu_;
  uint64_t random_state_ GUARDED_BY(random_mu_);
};

}  // namespace salespipe::services::iam
