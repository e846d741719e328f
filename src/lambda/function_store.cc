#include "lambda/function_store.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "common/arn.h"
#include "common/crypto.h"
#include "common/logging.h"

namespace salespipe::lambda {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPrefix = "lambda/";

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Whether a published version equals $LATEST in what PublishVersion compares.
bool SameAsLatest(const FunctionConfig& version, const FunctionConfig& latest) {
  return version.code_sha256 == latest.code_sha256 && version.runtime == latest.runtime &&
         version.handler == latest.handler && version.role == latest.role &&
         version.timeout_seconds == latest.timeout_seconds &&
         version.memory_mb == latest.memory_mb && version.environment == latest.environment &&
         version.architectures == latest.architectures &&
         version.ephemeral_storage_mb == latest.ephemeral_storage_mb;
}

}  // namespace

std::string FunctionArn(std::string_view region, std::string_view account_id,
                        std::string_view name) {
  std::string arn = "arn:aws:lambda:";
  arn.append(region).append(":").append(account_id).append(":function:").append(name);
  return arn;
}

std::string Function::arn() const { return FunctionArn(region, account_id, name); }

const FunctionConfig* Function::Find(std::string_view qualifier) const {
  if (qualifier.empty() || qualifier == "$LATEST") return &latest;
  if (IsDigits(qualifier)) {
    if (qualifier.size() > 18) return nullptr;
    auto it = versions.find(std::stoll(std::string(qualifier)));
    return it == versions.end() ? nullptr : &it->second;
  }
  auto alias = aliases.find(qualifier);
  if (alias == aliases.end()) return nullptr;
  return Find(alias->second.function_version);
}

bool IsValidFunctionName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
  });
}

Result<FunctionRef> ParseFunctionRef(std::string_view text, std::string_view account_id,
                                     std::string_view region) {
  FunctionRef ref{.account_id = std::string(account_id), .region = std::string(region)};
  std::string_view rest = text;
  if (text.starts_with("arn:")) {
    std::optional<ArnParts> parts = SplitArn(text);
    if (!parts || parts->service != "lambda" || !parts->resource.starts_with("function:")) {
      return Status::InvalidArgument("Invalid function ARN: " + std::string(text));
    }
    if (!parts->region.empty()) ref.region = std::string(parts->region);
    if (!parts->account.empty()) ref.account_id = std::string(parts->account);
    rest = parts->resource.substr(9);
  } else if (size_t marker = text.find(":function:"); marker != std::string_view::npos) {
    std::string_view account = text.substr(0, marker);
    if (account.size() != 12 || !IsDigits(account)) {
      return Status::InvalidArgument("Invalid function name: " + std::string(text));
    }
    ref.account_id = std::string(account);
    rest = text.substr(marker + 10);
  }
  size_t colon = rest.find(':');
  ref.name = std::string(rest.substr(0, colon));
  if (colon != std::string_view::npos) {
    ref.qualifier = std::string(rest.substr(colon + 1));
    if (ref.qualifier.empty() || ref.qualifier.find(':') != std::string::npos) {
      return Status::InvalidArgument("Invalid function name: " + std::string(text));
    }
  }
  if (!IsValidFunctionName(ref.name)) {
    return Status::InvalidArgument("Invalid function name: " + std::string(text));
  }
  return ref;
}

FunctionStore::FunctionStore(kv::Db& db, const Clock& clock, std::string code_root)
    : db_(db), clock_(clock), code_root_(std::move(code_root)) {}

std::string FunctionStore::Key(std::string_view account_id, std::string_view region,
                               std::string_view name) {
  std::string key(kPrefix);
  key.append(account_id).append("/").append(region).append("/function/").append(name);
  return key;
}

std::string FunctionStore::MapKey(std::string_view account_id, std::string_view region,
                                  std::string_view name) {
  std::string key(account_id);
  key.append("/").append(region).append("/").append(name);
  return key;
}

std::string FunctionStore::FunctionDir(const Function& function) const {
  return (fs::path(code_root_) / function.account_id / function.region / function.name).string();
}

std::string FunctionStore::CodeDir(const Function& function, const FunctionConfig& config) const {
  return PackageCodeDir(FunctionDir(function), config.code_hex);
}

std::string FunctionStore::ZipPath(const Function& function, const FunctionConfig& config) const {
  return PackageZipPath(FunctionDir(function), config.code_hex);
}

std::vector<std::string> FunctionStore::PackagesOf(const Function& function) {
  std::vector<std::string> out = {function.latest.code_hex};
  for (const auto& [number, config] : function.versions) out.push_back(config.code_hex);
  return out;
}

Status FunctionStore::Open() {
  std::set<std::string> function_dirs;
  {
    std::unique_ptr<kv::Iterator> it =
        db_.NewIterator(kv::Cf::kMeta, kPrefix, kv::PrefixSuccessor(kPrefix));
    std::unique_lock lock(mu_);
    for (it->Seek(kPrefix); it->Valid(); it->Next()) {
      if (it->key().find("/function/") == std::string_view::npos) continue;
      ASSIGN_OR_RETURN(Function function, DecodeFunction(it->value()));
      auto shared = std::make_shared<const Function>(std::move(function));
      functions_[MapKey(shared->account_id, shared->region, shared->name)] = shared;
    }
    RETURN_IF_ERROR(it->status());
  }
  // Garbage: packages of deleted functions or replaced code, and interrupted unpacks.
  std::error_code ec;
  std::shared_lock lock(mu_);
  for (const auto& [key, function] : functions_) {
    CollectGarbage(FunctionDir(*function), PackagesOf(*function), false);
    function_dirs.insert(FunctionDir(*function));
  }
  for (fs::recursive_directory_iterator it(code_root_, ec), end; !ec && it != end;
       it.increment(ec)) {
    // <root>/<account>/<region>/<name>: depth 2. Other folders under the root (the runner's
    // runtimes/) are not ours.
    if (it.depth() == 0 && !IsDigits(it->path().filename().string())) {
      it.disable_recursion_pending();
      continue;
    }
    if (it.depth() == 2 && it->is_directory()) {
      if (!function_dirs.contains(it->path().string())) {
        CollectGarbage(it->path().string(), {}, true);
      }
      it.disable_recursion_pending();
    }
  }
  return Status::Ok();
}

void FunctionStore::CollectGarbage(const std::string& function_dir,
                                   const std::vector<std::string>& keep, bool remove_dir) const {
  std::error_code ec;
  if (remove_dir) {
    fs::remove_all(function_dir, ec);
    if (ec) SPDLOG_WARN("removing {}: {}", function_dir, ec.message());
    return;
  }
  for (fs::directory_iterator it(function_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (std::find(keep.begin(), keep.end(), name) != keep.end()) continue;
    std::error_code remove_error;
    fs::remove_all(it->path(), remove_error);
    if (remove_error) SPDLOG_WARN("removing {}: {}", it->path().string(), remove_error.message());
  }
}

Status FunctionStore::Persist(const Function& function) {
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, Key(function.account_id, function.region, function.name),
            EncodeFunction(function));
  return db_.Commit(batch);
}

Result<std::shared_ptr<const Function>> FunctionStore::Create(NewFunction input,
                                                              std::string_view zip) {
  MutexLock update(update_mu_);
  const std::string map_key = MapKey(input.account_id, input.region, input.name);
  {
    std::shared_lock lock(mu_);
    if (functions_.contains(map_key)) {
      return Status::AlreadyExists("Function already exist: " + input.name);
    }
  }
  auto function = std::make_shared<Function>();
  function->account_id = input.account_id;
  function->region = input.region;
  function->name = input.name;
  function->created_ms = clock_.NowMillis();
  function->tags = std::move(input.tags);
  ASSIGN_OR_RETURN(CodePackage package, StorePackage(FunctionDir(*function), zip));
  FunctionConfig& config = function->latest;
  config = std::move(input.config);
  config.version = "$LATEST";
  if (config.log_group.empty()) config.log_group = "/aws/lambda/" + input.name;
  config.code_sha256 = package.sha256_base64;
  config.code_hex = package.sha256_hex;
  config.code_size = package.size;
  config.revision_id = NewUuid();
  config.last_modified_ms = function->created_ms;
  if (input.publish) {
    function->last_version = 1;
    FunctionConfig published = config;
    published.version = "1";
    published.revision_id = NewUuid();
    function->versions[1] = std::move(published);
  }
  Status persisted = Persist(*function);
  if (!persisted.ok()) {
    CollectGarbage(FunctionDir(*function), {}, true);
    return persisted;
  }
  std::shared_ptr<const Function> out = function;
  std::unique_lock lock(mu_);
  functions_[map_key] = out;
  return out;
}

Result<std::shared_ptr<const Function>> FunctionStore::Get(std::string_view account_id,
                                                           std::string_view region,
                                                           std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = functions_.find(MapKey(account_id, region, name));
  if (it == functions_.end()) {
    return Status::NotFound("Function not found: " + FunctionArn(region, account_id, name));
  }
  return it->second;
}

std::vector<std::shared_ptr<const Function>> FunctionStore::List(std::string_view account_id,
                                                                 std::string_view region) const {
  std::string prefix(account_id);
  prefix.append("/").append(region).append("/");
  std::vector<std::shared_ptr<const Function>> out;
  std::shared_lock lock(mu_);
  for (auto it = functions_.lower_bound(prefix);
       it != functions_.end() && it->first.starts_with(prefix); ++it) {
    out.push_back(it->second);
  }
  return out;
}

Result<std::shared_ptr<Function>> FunctionStore::CopyForUpdate(const FunctionRef& ref) const {
  ASSIGN_OR_RETURN(std::shared_ptr<const Function> current,
                   Get(ref.account_id, ref.region, ref.name));
  return std::make_shared<Function>(*current);
}

Result<std::shared_ptr<const Function>> FunctionStore::Install(
    std::shared_ptr<Function> function) {
  RETURN_IF_ERROR(Persist(*function));
  std::shared_ptr<const Function> out = std::move(function);
  {
    std::unique_lock lock(mu_);
    functions_[MapKey(out->account_id, out->region, out->name)] = out;
  }
  CollectGarbage(FunctionDir(*out), PackagesOf(*out), false);
  return out;
}

Result<std::shared_ptr<const Function>> FunctionStore::Update(
    const FunctionRef& ref, const std::function<Status(Function&)>& change) {
  MutexLock update(update_mu_);
  ASSIGN_OR_RETURN(std::shared_ptr<Function> function, CopyForUpdate(ref));
  RETURN_IF_ERROR(change(*function));
  return Install(std::move(function));
}

Result<std::shared_ptr<const Function>> FunctionStore::UpdateCode(const FunctionRef& ref,
                                                                  std::string_view zip,
                                                                  std::string_view revision_id) {
  MutexLock update(update_mu_);
  ASSIGN_OR_RETURN(std::shared_ptr<Function> function, CopyForUpdate(ref));
  if (!revision_id.empty() && revision_id != function->latest.revision_id) {
    return Status::Aborted(
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/"
        "GetAlias API to retrieve the latest Revision Id");
  }
  ASSIGN_OR_RETURN(CodePackage package, StorePackage(FunctionDir(*function), zip));
  FunctionConfig& config = function->latest;
  config.code_sha256 = package.sha256_base64;
  config.code_hex = package.sha256_hex;
  config.code_size = package.size;
  config.revision_id = NewUuid();
  config.last_modified_ms = clock_.NowMillis();
  return Install(std::move(function));
}

Result<std::pair<std::shared_ptr<const Function>, int64_t>> FunctionStore::PublishVersion(
    const FunctionRef& ref, std::string_view description, std::string_view code_sha256,
    std::string_view revision_id) {
  int64_t number = 0;
  ASSIGN_OR_RETURN(std::shared_ptr<const Function> out, Update(ref, [&](Function& function) {
    if (!code_sha256.empty() && code_sha256 != function.latest.code_sha256) {
      return Status::InvalidArgument(
          "CodeSHA256 (" + std::string(code_sha256) +
          ") is different from current CodeSHA256 in $LATEST (" + function.latest.code_sha256 +
          "). Please try again with the CodeSHA256 in $LATEST.");
    }
    if (!revision_id.empty() && revision_id != function.latest.revision_id) {
      return Status::Aborted(
          "The Revision Id provided does not match the latest Revision Id. Call the "
          "GetFunction/GetAlias API to retrieve the latest Revision Id");
    }
    if (!function.versions.empty() &&
        SameAsLatest(function.versions.rbegin()->second, function.latest)) {
      number = function.versions.rbegin()->first;
      return Status::Ok();
    }
    number = ++function.last_version;
    FunctionConfig published = function.latest;
    published.version = std::to_string(number);
    published.description = description.empty() ? function.latest.description
                                                 : std::string(description);
    published.revision_id = NewUuid();
    published.last_modified_ms = clock_.NowMillis();
    function.versions[number] = std::move(published);
    return Status::Ok();
  }));
  return std::make_pair(std::move(out), number);
}

Status FunctionStore::Delete(const FunctionRef& ref) {
  if (!ref.qualifier.empty()) {
    if (ref.qualifier == "$LATEST" || !IsDigits(ref.qualifier)) {
      return Status::InvalidArgument(
          "Deletion of aliases or the $LATEST version is not supported. Use DeleteAlias to "
          "delete an alias.");
    }
    return Update(ref, [&](Function& function) {
             int64_t number = ref.qualifier.size() > 18 ? -1 : std::stoll(ref.qualifier);
             auto it = function.versions.find(number);
             if (it == function.versions.end()) {
               return Status::NotFound("Function not found: " + function.arn() + ":" +
                                       ref.qualifier);
             }
             for (const auto& [name, alias] : function.aliases) {
               if (alias.function_version == ref.qualifier ||
                   alias.additional_version_weights.contains(ref.qualifier)) {
                 return Status::FailedPrecondition("Unable to delete version because the "
                                                   "following aliases reference it: [" +
                                                   name + "]");
               }
             }
             function.versions.erase(it);
             return Status::Ok();
           })
        .status();
  }
  MutexLock update(update_mu_);
  ASSIGN_OR_RETURN(std::shared_ptr<const Function> function,
                   Get(ref.account_id, ref.region, ref.name));
  kv::Batch batch = db_.NewBatch();
  batch.Delete(kv::Cf::kMeta, Key(ref.account_id, ref.region, ref.name));
  RETURN_IF_ERROR(db_.Commit(batch));
  {
    std::unique_lock lock(mu_);
    functions_.erase(MapKey(ref.account_id, ref.region, ref.name));
  }
  CollectGarbage(FunctionDir(*function), {}, true);
  return Status::Ok();
}

}  // namespace salespipe::lambda
