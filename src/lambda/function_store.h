#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "kv/db.h"
#include "lambda/code_package.h"

// The Lambda control plane's engine: functions, their published versions, aliases, resource
// policies, tags and reserved concurrency, persisted in RocksDB, with their code on disk
// (code_package.h). No wire formats: services/lambda renders these as AWS shapes.
//
// Keys (kv::Cf::kMeta), values are JSON documents (function_codec.cc; members only added):
//   "lambda/<account>/<region>/function/<name>"  -> the whole Function (config, versions, ...)
// Code: <data>/lambda/<account>/<region>/<name>/<sha256 hex>/ (see code_package.h).
namespace salespipe::lambda {

// The configuration of one version of a function ($LATEST or a published number).
struct FunctionConfig {
  std::string version = "$LATEST";
  std::string runtime;
  std::string handler;
  std::string role;
  std::string description;
  int timeout_seconds = 3;
  int memory_mb = 128;
  std::optional<std::map<std::string, std::string>> environment;  // Environment.Variables
  std::vector<std::string> architectures = {"x86_64"};
  int ephemeral_storage_mb = 512;
  std::string tracing_mode = "PassThrough";
  std::string log_format = "Text";
  std::string log_group;  // "/aws/lambda/<name>" unless configured
  std::string package_type = "Zip";
  std::string code_sha256;  // base64
  std::string code_hex;     // the package folder
  int64_t code_size = 0;
  std::string revision_id;  // a UUID, new on every change
  int64_t last_modified_ms = 0;
};

struct AliasConfig {
  std::string name;
  std::string function_version;
  std::string description;
  std::map<std::string, double> additional_version_weights;  // RoutingConfig
  std::string revision_id;
};

// One statement of the function's resource policy.
struct PolicyStatement {
  std::string sid;
  std::string qualifier;  // "" for the unqualified function
  std::string json;       // the statement as GetPolicy shows it
};

struct Function {
  std::string account_id;
  std::string region;
  std::string name;
  FunctionConfig latest;
  std::map<int64_t, FunctionConfig> versions;  // published, immutable
  int64_t last_version = 0;                    // numbers are never reused
  std::map<std::string, AliasConfig, std::less<>> aliases;
  std::vector<PolicyStatement> policy;
  std::string policy_revision_id;
  std::map<std::string, std::string> tags;
  std::optional<int> reserved_concurrency;
  int64_t created_ms = 0;

  // arn:aws:lambda:<region>:<account>:function:<name>
  std::string arn() const;
  // The configuration of `qualifier` ("" or "$LATEST", a version number, or an alias name
  // resolved to its primary version). nullptr if there is none.
  const FunctionConfig* Find(std::string_view qualifier) const;
};

// A function named by FunctionName as the API accepts it: a name, a partial ARN
// ("<account>:function:<name>") or a full ARN, each optionally ":<qualifier>".
struct FunctionRef {
  std::string account_id;
  std::string region;
  std::string name;
  std::string qualifier;  // "" when not given
};
// Errors: kInvalidArgument when `text` is none of those forms (or the name is not
// [a-zA-Z0-9-_]{1,64}).
Result<FunctionRef> ParseFunctionRef(std::string_view text, std::string_view account_id,
                                     std::string_view region);
bool IsValidFunctionName(std::string_view name);
std::string FunctionArn(std::string_view region, std::string_view account_id,
                        std::string_view name);

// What CreateFunction needs besides the code.
struct NewFunction {
  std::string account_id;
  std::string region;
  std::string name;
  FunctionConfig config;  // version, code and revision fields are filled by the store
  std::map<std::string, std::string> tags;
  bool publish = false;
};

// Thread-safe. Reads come from memory (loaded by Open, written through on every change), so
// resolving a function for an invocation costs a map lookup.
class FunctionStore {
 public:
  // `db` and `clock` must outlive the store. `code_root` is <data>/lambda.
  FunctionStore(kv::Db& db, const Clock& clock, std::string code_root);

  // Loads every function and removes code folders nothing refers to (deleted functions, old
  // packages, interrupted unpacks). Errors: kInternal.
  Status Open();

  // Creates a function with `zip` as its code (and version 1 when `publish`).
  // Errors: kAlreadyExists; those of StorePackage; kInternal.
  Result<std::shared_ptr<const Function>> Create(NewFunction function, std::string_view zip);

  // Errors: kNotFound "Function not found: <arn>".
  Result<std::shared_ptr<const Function>> Get(std::string_view account_id,
                                              std::string_view region,
                                              std::string_view name) const;
  // Every function of an account and region, by name.
  std::vector<std::shared_ptr<const Function>> List(std::string_view account_id,
                                                    std::string_view region) const;

  // Replaces $LATEST's code. `revision_id`, when not empty, must match $LATEST's.
  // Errors: kNotFound; kAborted on a revision mismatch; those of StorePackage.
  Result<std::shared_ptr<const Function>> UpdateCode(const FunctionRef& ref, std::string_view zip,
                                                     std::string_view revision_id);

  // Applies `change` to a copy of the function and stores it (the read-modify-write of every
  // other update: configuration, aliases, policy, tags, concurrency). `change` returns an
  // error to store nothing. Code folders no longer referenced are removed afterwards.
  // Errors: kNotFound; whatever `change` returns; kInternal.
  Result<std::shared_ptr<const Function>> Update(const FunctionRef& ref,
                                                 const std::function<Status(Function&)>& change);

  // Publishes $LATEST as the next version, unless the newest version already has $LATEST's
  // code and configuration (then that version is returned, as AWS does).
  // `code_sha256` / `revision_id`, when not empty, must match $LATEST (kAborted otherwise...
  // AWS: InvalidParameterValueException for the digest, PreconditionFailed for the revision).
  // Errors: kNotFound; kInvalidArgument (digest mismatch); kAborted (revision); kInternal.
  Result<std::pair<std::shared_ptr<const Function>, int64_t>> PublishVersion(
      const FunctionRef& ref, std::string_view description, std::string_view code_sha256,
      std::string_view revision_id);

  // Deletes the function (qualifier "") or one published version (kFailedPrecondition if an
  // alias points to it; kInvalidArgument for "$LATEST" or an alias name).
  // Errors: kNotFound; kFailedPrecondition; kInvalidArgument; kInternal.
  Status Delete(const FunctionRef& ref);

  // The folder holding the function's packages, and a version's unpacked code / zip.
  std::string FunctionDir(const Function& function) const;
  std::string CodeDir(const Function& function, const FunctionConfig& config) const;
  std::string ZipPath(const Function& function, const FunctionConfig& config) const;

  const Clock& clock() const { return clock_; }

 private:
  static std::string Key(std::string_view account_id, std::string_view region,
                         std::string_view name);
  static std::string MapKey(std::string_view account_id, std::string_view region,
                            std::string_view name);
  Status Persist(const Function& function);
  // Removes package folders of `function_dir` not in `keep` (all of them when `keep` is empty
  // and `remove_dir`). Best effort: failures are logged.
  void CollectGarbage(const std::string& function_dir, const std::vector<std::string>& keep,
                      bool remove_dir) const;
  static std::vector<std::string> PackagesOf(const Function& function);
  Result<std::shared_ptr<Function>> CopyForUpdate(const FunctionRef& ref) const;
  // Persists an updated function, publishes it to readers and removes the code folders it no
  // longer refers to. REQUIRES: update_mu_ held.
  Result<std::shared_ptr<const Function>> Install(std::shared_ptr<Function> function);

  // Set at construction.
  kv::Db& db_;
  const Clock& clock_;
  const std::string code_root_;

  // Serializes read-modify-write updates (and their code stores); held across RocksDB
  // commits and unpacks, which only control-plane calls wait for (never an invocation).
  Mutex update_mu_;
  mutable SharedMutex mu_;  // guards functions_; held only to swap or copy pointers
  std::map<std::string, std::shared_ptr<const Function>, std::less<>> functions_ GUARDED_BY(mu_);
};

// The persisted form (function_codec.cc). Errors: kInternal for a corrupt document.
std::string EncodeFunction(const Function& function);
Result<Function> DecodeFunction(std::string_view json);

}  // namespace salespipe::lambda
