#include "lake/lake.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "common/crypto.h"
#include "common/logging.h"
#include "lake/object_path.h"
#include "lake/records.h"

namespace salespipe::lake {
namespace {

constexpr kv::Cf kCf = kv::Cf::kObjects;
constexpr size_t kCopyChunk = 1u << 20;

Status IoError(std::string_view what, const std::string& path) {
  SPDLOG_ERROR("lake: {} {}: {}", what, path, std::strerror(errno));
  return Status::Internal("storage error");
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status NoSuchBucket(std::string_view bucket) {
  return Status::NotFound("The specified bucket does not exist").WithAwsCode("NoSuchBucket");
}

// Copies `length` bytes at `offset` of `in` to the end of `out` in the kernel when it can.
Status CopyRange(int in, uint64_t offset, uint64_t length, int out) {
  loff_t in_offset = static_cast<loff_t>(offset);
  while (length > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(length, 1ull << 30));
    ssize_t n = ::copy_file_range(in, &in_offset, out, nullptr, want, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
      // Fall back to read/write.
      return Lake::ReadRange(in, static_cast<uint64_t>(in_offset), length,
                             [out](std::string_view chunk) -> Status {
                               while (!chunk.empty()) {
                                 ssize_t w = ::write(out, chunk.data(), chunk.size());
                                 if (w < 0 && errno == EINTR) continue;
                                 if (w < 0) return IoError("write", "copy target");
                                 chunk.remove_prefix(static_cast<size_t>(w));
                               }
                               return Status::Ok();
                             });
    }
    if (n < 0) return IoError("copy_file_range", "object");
    if (n == 0) return Status::Internal("object file shorter than its metadata");
    length -= static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// StagedFile

StagedFile::StagedFile(StagedFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::move(other.fd_)), size_(other.size_) {
  other.path_.clear();
}

StagedFile& StagedFile::operator=(StagedFile&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) ::unlink(path_.c_str());
    path_ = std::move(other.path_);
    other.path_.clear();
    fd_ = std::move(other.fd_);
    size_ = other.size_;
  }
  return *this;
}

StagedFile::~StagedFile() {
  if (!path_.empty()) ::unlink(path_.c_str());  // best effort: not committed
}

Status StagedFile::Append(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("write", path_);
    data.remove_prefix(static_cast<size_t>(n));
    size_ += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Lake: opening and recovery

Lake::Lake(const Options& options, kv::Db& db, const Clock& clock)
    : options_(options),
      db_(db),
      clock_(clock),
      staging_dir_(options.root + "/.staging"),
      uploads_dir_(options.root + "/.uploads") {}

Result<std::unique_ptr<Lake>> Lake::Open(const Options& options, kv::Db& db, const Clock& clock) {
  std::unique_ptr<Lake> lake(new Lake(options, db, clock));
  std::error_code ec;
  for (const std::string& dir : {options.root, lake->staging_dir_, lake->uploads_dir_}) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      SPDLOG_ERROR("lake: cannot create {}: {}", dir, ec.message());
      return Status::Internal("cannot create the lake folders");
    }
  }
  RETURN_IF_ERROR(lake->Recover());
  return lake;
}

Status Lake::Recover() {
  // 1. Interrupted object writes. An intent is committed before the rename and removed with
  //    the metadata commit after it, so: staged file still there = the rename never happened
  //    (drop the write); staged file gone = it happened (finish the metadata commit).
  kv::Batch batch = db_.NewBatch();
  int finished = 0, dropped = 0, removed = 0;
  {
    auto it = db_.NewIterator(kCf, "i/", "i0");
    for (it->Seek("i/"); it->Valid(); it->Next()) {
      std::string name(it->key().substr(2));
      records::Intent intent;
      batch.Delete(kCf, it->key());
      if (!records::DecodeIntent(it->value(), &intent)) continue;
      if (::access((staging_dir_ + "/" + name).c_str(), F_OK) == 0) {
        ++dropped;
      } else {
        batch.Put(kCf, records::ObjectKey(intent.bucket, intent.key),
                  records::EncodeMeta(intent.meta));
        ++finished;
      }
    }
    RETURN_IF_ERROR(it->status());
  }
  // 1b. Interrupted object writes (current layout): the metadata is committed together with a
  //     roll-forward intent before the rename. Staged file still there (the same inode, as
  //     large as the metadata says) and the metadata unchanged = the rename never happened:
  //     do it now. Otherwise it happened; only the intent is left to delete.
  {
    auto it = db_.NewIterator(kCf, "j/", "j0");
    for (it->Seek("j/"); it->Valid(); it->Next()) {
      std::string name(it->key().substr(2));
      batch.Delete(kCf, it->key());
      records::Intent intent;
      uint64_t inode = 0;
      if (!records::DecodeRollForward(it->value(), &intent, &inode)) continue;
      std::string staged = staging_dir_ + "/" + name;
      struct stat st;
      if (::stat(staged.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_ino) != inode ||
          static_cast<uint64_t>(st.st_size) != intent.meta.size) {
        continue;
      }
      ASSIGN_OR_RETURN(std::optional<ObjectMeta> current, ReadMeta(intent.bucket, intent.key));
      if (!current || current->path != intent.meta.path || current->etag != intent.meta.etag ||
          current->last_modified_ms != intent.meta.last_modified_ms) {
        continue;  // superseded: step 3 removes the staged file
      }
      std::string target = BucketDir(intent.bucket) + "/" + intent.meta.path;
      std::error_code ec;
      std::filesystem::create_directories(target.substr(0, target.rfind('/')), ec);
      if (::rename(staged.c_str(), target.c_str()) != 0) return IoError("rename to", target);
      SyncDir(target.substr(0, target.rfind('/')));
      ++finished;
    }
    RETURN_IF_ERROR(it->status());
  }
  // 2. Interrupted deletes: the metadata is gone; remove the file.
  {
    auto it = db_.NewIterator(kCf, "t/", "t0");
    for (it->Seek("t/"); it->Valid(); it->Next()) {
      std::string_view rest = it->key().substr(2);
      size_t nul = rest.find('\0');
      if (nul != std::string_view::npos) {
        RemoveObjectFile(BucketDir(rest.substr(0, nul)), std::string(rest.substr(nul + 1)));
        ++removed;
      }
      batch.Delete(kCf, it->key());
    }
    RETURN_IF_ERROR(it->status());
  }
  RETURN_IF_ERROR(db_.Commit(batch));
  // 3. Leftover temporary files (bodies being received, unfinished writes).
  std::error_code ec;
  int temps = 0;
  for (const auto& entry : std::filesystem::directory_iterator(staging_dir_, ec)) {
    std::filesystem::remove_all(entry.path(), ec);
    ++temps;
  }
  // 4. Part folders of uploads that no longer exist.
  for (const auto& entry : std::filesystem::directory_iterator(uploads_dir_, ec)) {
    std::string id = entry.path().filename().string();
    bool known = false;
    auto it = db_.NewIterator(kCf, "u/", "u0");
    for (it->Seek("u/"); it->Valid() && !known; it->Next()) {
      UploadInfo upload;
      if (records::DecodeUpload(it->value(), &upload) && upload.upload_id == id) known = true;
    }
    if (!known) std::filesystem::remove_all(entry.path(), ec);
  }
  if (finished + dropped + removed + temps > 0) {
    SPDLOG_INFO("lake recovery: {} writes finished, {} dropped, {} deletes finished, {} temp "
                "files removed",
                finished, dropped, removed, temps);
  }
  return Status::Ok();
}

std::string Lake::BucketDir(std::string_view bucket) const {
  return options_.root + "/" + std::string(bucket);
}

Status Lake::SyncFile(int fd) const {
  if (options_.durability != kv::Durability::kSync) return Status::Ok();
  if (::fsync(fd) != 0) return IoError("fsync", "staged file");
  return Status::Ok();
}

void Lake::SyncDir(const std::string& dir) const {
  if (options_.durability != kv::Durability::kSync) return;
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.valid()) ::fsync(fd.get());
}

Status Lake::ReadRange(int fd, uint64_t offset, uint64_t length,
                       const std::function<Status(std::string_view)>& sink) {
  std::unique_ptr<char[]> buffer(new char[kCopyChunk]);
  while (length > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(length, kCopyChunk));
    ssize_t n = ::pread(fd, buffer.get(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("read", "object");
    if (n == 0) return Status::Internal("file shorter than expected");
    RETURN_IF_ERROR(sink(std::string_view(buffer.get(), static_cast<size_t>(n))));
    offset += static_cast<uint64_t>(n);
    length -= static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Buckets

Status Lake::CreateBucket(std::string_view name, std::string_view region) {
  std::unique_lock lock(commit_mu_);
  ASSIGN_OR_RETURN(std::optional<std::string> existing, db_.Get(kCf, records::BucketKey(name)));
  if (existing) return Status::AlreadyExists("bucket exists");
  std::string dir = BucketDir(name);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return IoError("mkdir", dir);
  SyncDir(options_.root);
  kv::Batch batch = db_.NewBatch();
  BucketInfo info{.name = std::string(name),
                  .region = std::string(region),
                  .created_ms = clock_.NowMillis()};
  batch.Put(kCf, records::BucketKey(name), records::EncodeBucket(info));
  return db_.Commit(batch);
}

Result<BucketInfo> Lake::GetBucket(std::string_view name) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value, db_.Get(kCf, records::BucketKey(name)));
  BucketInfo info;
  if (!value) return NoSuchBucket(name);
  if (!records::DecodeBucket(*value, &info)) return Status::Internal("corrupt bucket record");
  return info;
}

Result<std::vector<BucketInfo>> Lake::ListBuckets() const {
  std::vector<BucketInfo> out;
  auto it = db_.NewIterator(kCf, "b/", "b0");
  for (it->Seek("b/"); it->Valid(); it->Next()) {
    BucketInfo info;
    if (records::DecodeBucket(it->value(), &info)) out.push_back(std::move(info));
  }
  RETURN_IF_ERROR(it->status());
  return out;
}

Status Lake::DeleteBucket(std::string_view name) {
  std::vector<UploadInfo> uploads;
  {
    std::unique_lock lock(commit_mu_);
    RETURN_IF_ERROR(GetBucket(name).status());
    std::string prefix = records::ObjectPrefix(name);
    auto it = db_.NewIterator(kCf, prefix, kv::PrefixSuccessor(prefix));
    it->Seek(prefix);
    if (it->Valid()) {
      return Status::FailedPrecondition("The bucket you tried to delete is not empty")
          .WithAwsCode("BucketNotEmpty");
    }
    RETURN_IF_ERROR(it->status());
    kv::Batch batch = db_.NewBatch();
    batch.Delete(kCf, records::BucketKey(name));
    std::string upload_prefix = records::UploadPrefix(name);
    auto uit = db_.NewIterator(kCf, upload_prefix, kv::PrefixSuccessor(upload_prefix));
    for (uit->Seek(upload_prefix); uit->Valid(); uit->Next()) {
      UploadInfo upload;
      if (records::DecodeUpload(uit->value(), &upload)) uploads.push_back(upload);
      batch.Delete(kCf, uit->key());
    }
    for (const UploadInfo& upload : uploads) {
      std::string part_prefix = records::PartPrefix(upload.upload_id);
      batch.DeleteRange(kCf, part_prefix, kv::PrefixSuccessor(part_prefix));
    }
    RETURN_IF_ERROR(db_.Commit(batch));
    std::error_code ec;
    std::filesystem::remove_all(BucketDir(name), ec);  // only empty folders can be left
  }
  std::error_code ec;
  for (const UploadInfo& upload : uploads) {
    std::filesystem::remove_all(uploads_dir_ + "/" + upload.upload_id, ec);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Staged files

Result<StagedFile> Lake::NewStagedFile() {
  std::string path = staging_dir_ + "/put-XXXXXX";
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return IoError("mkstemp", path);
  ::fchmod(fd, 0644);  // objects are for other tools (DuckDB, the crawler) to read too
  return StagedFile(std::move(path), UniqueFd(fd), 0);
}

Result<StagedFile> Lake::AdoptStagedFile(const std::string& path) {
  if (path.rfind(staging_dir_ + "/", 0) != 0 || path.find("/..") != std::string::npos) {
    return Status::InvalidArgument("not a staged file");
  }
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return IoError("open", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return IoError("stat", path);
  if (::lseek(fd.get(), 0, SEEK_END) < 0) return IoError("seek", path);
  if ((st.st_mode & 0777) != 0644) ::fchmod(fd.get(), 0644);
  return StagedFile(path, std::move(fd), static_cast<uint64_t>(st.st_size));
}

// ---------------------------------------------------------------------------------------
// Objects

Result<std::optional<ObjectMeta>> Lake::ReadMeta(std::string_view bucket,
                                                 std::string_view key) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value, db_.Get(kCf, records::ObjectKey(bucket, key)));
  if (!value) return std::optional<ObjectMeta>();
  ObjectMeta meta;
  if (!records::DecodeMeta(*value, &meta)) return Status::Internal("corrupt object metadata");
  return std::optional<ObjectMeta>(std::move(meta));
}

Result<ObjectMeta> Lake::Commit(std::string_view bucket, std::string_view key, StagedFile& file,
                                ObjectMeta meta) {
  std::vector<NewObject> objects;
  objects.push_back(NewObject{.bucket = std::string(bucket),
                              .key = std::string(key),
                              .file = std::move(file),
                              .meta = std::move(meta)});
  kv::Batch batch = db_.NewBatch();
  Result<std::vector<ObjectMeta>> stored = CommitMany(objects, batch);
  file = std::move(objects[0].file);  // the caller's file is empty if it became the object
  if (!stored.ok()) return stored.status();
  return std::move((*stored)[0]);
}

Result<std::vector<ObjectMeta>> Lake::CommitMany(std::vector<NewObject>& objects,
                                                 kv::Batch& batch) {
  // Bytes (and, for kSync, the staged names recovery renames) reach the disk before anything
  // points at them.
  std::vector<uint64_t> inodes;
  for (NewObject& object : objects) {
    RETURN_IF_ERROR(SyncFile(object.file.fd()));
    struct stat st;
    if (::fstat(object.file.fd(), &st) != 0) return IoError("stat", object.file.path());
    inodes.push_back(static_cast<uint64_t>(st.st_ino));
  }
  SyncDir(staging_dir_);
  // A caller batch that already holds writes (a delivery checkpoint) cannot be undone once
  // committed: a failed rename then stays a roll-forward intent that recovery finishes.
  const bool undoable = batch.Count() == 0;
  std::unique_lock lock(commit_mu_);
  std::vector<std::optional<ObjectMeta>> old(objects.size());
  std::vector<ObjectMeta> metas;
  std::vector<std::string> names;
  for (size_t i = 0; i < objects.size(); ++i) {
    NewObject& object = objects[i];
    RETURN_IF_ERROR(GetBucket(object.bucket).status());
    ASSIGN_OR_RETURN(old[i], ReadMeta(object.bucket, object.key));
    ObjectMeta meta = std::move(object.meta);
    if (old[i]) {
      meta.path = old[i]->path;  // replace in place: the rename is the atomic switch
    } else {
      ASSIGN_OR_RETURN(meta.path, PlaceObject(BucketDir(object.bucket), object.key));
    }
    meta.size = object.file.size();
    meta.last_modified_ms = clock_.NowMillis();
    metas.push_back(std::move(meta));
    names.push_back(BaseName(object.file.path()));
  }

  // One commit: the new metadata and a roll-forward intent naming each staged file (and the
  // caller's writes). Readers (Open) wait for the lock, so none sees the metadata before the
  // renames below; a crash in between leaves the staged files, which recovery renames into
  // place (see Recover). Intents of earlier writes, whose renames are done, are deleted in
  // the same batch.
  for (const std::string& done : finished_intents_) {
    batch.Delete(kCf, records::RollForwardKey(done));
  }
  for (size_t i = 0; i < objects.size(); ++i) {
    records::Intent intent{.bucket = objects[i].bucket, .key = objects[i].key, .meta = metas[i]};
    batch.Put(kCf, records::RollForwardKey(names[i]), records::EncodeRollForward(intent, inodes[i]));
    batch.Put(kCf, records::ObjectKey(objects[i].bucket, objects[i].key),
              records::EncodeMeta(metas[i]));
  }
  RETURN_IF_ERROR(db_.Commit(batch));
  finished_intents_.clear();

  for (size_t i = 0; i < objects.size(); ++i) {
    std::string target = BucketDir(objects[i].bucket) + "/" + metas[i].path;
    if (::rename(objects[i].file.path().c_str(), target.c_str()) != 0) {
      Status error = IoError("rename to", target);
      if (!undoable) {
        // Recovery renames the rest (their intents stay).
        for (size_t j = i; j < objects.size(); ++j) objects[j].file.path_.clear();
        return error;
      }
      kv::Batch undo = db_.NewBatch();
      for (size_t j = i; j < objects.size(); ++j) {
        undo.Delete(kCf, records::RollForwardKey(names[j]));
        if (old[j]) {
          undo.Put(kCf, records::ObjectKey(objects[j].bucket, objects[j].key),
                   records::EncodeMeta(*old[j]));
        } else {
          undo.Delete(kCf, records::ObjectKey(objects[j].bucket, objects[j].key));
        }
      }
      db_.Commit(undo).IgnoreError();
      return error;
    }
    objects[i].file.path_.clear();  // it is the object now
    // Renaming a hard link onto another link of the same file (copying an object onto itself)
    // leaves the staged name in place.
    if (names[i].starts_with("copy-")) ::unlink((staging_dir_ + "/" + names[i]).c_str());
    SyncDir(target.substr(0, target.rfind('/')));
    finished_intents_.push_back(names[i]);
  }
  return metas;
}

Result<std::vector<ObjectMeta>> Lake::PutObjects(std::vector<NewObject> objects,
                                                 kv::Batch& batch) {
  return CommitMany(objects, batch);
}

Result<ObjectMeta> Lake::PutObject(std::string_view bucket, std::string_view key, StagedFile file,
                                   ObjectMeta meta) {
  return Commit(bucket, key, file, std::move(meta));
}

Result<ObjectMeta> Lake::HeadObject(std::string_view bucket, std::string_view key) const {
  ASSIGN_OR_RETURN(std::optional<ObjectMeta> meta, ReadMeta(bucket, key));
  if (meta) return std::move(*meta);
  RETURN_IF_ERROR(GetBucket(bucket).status());
  return Status::NotFound("The specified key does not exist.").WithAwsCode("NoSuchKey");
}

Result<OpenObject> Lake::Open(std::string_view bucket, std::string_view key) const {
  std::shared_lock lock(commit_mu_);
  ASSIGN_OR_RETURN(ObjectMeta meta, HeadObject(bucket, key));
  std::string path = BucketDir(bucket) + "/" + meta.path;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return IoError("open", path);
  return OpenObject{.meta = std::move(meta), .fd = std::move(fd)};
}

void Lake::RemoveObjectFile(const std::string& bucket_dir, const std::string& relative) const {
  std::string path = bucket_dir + "/" + relative;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    SPDLOG_WARN("lake: cannot remove {}: {}", path, std::strerror(errno));
    return;
  }
  // Empty folders left behind would make "a" (a file) need an escaped name later.
  size_t slash = relative.rfind('/');
  while (slash != std::string::npos && slash > 0) {
    std::string dir = bucket_dir + "/" + relative.substr(0, slash);
    if (::rmdir(dir.c_str()) != 0) break;  // not empty: stop
    slash = relative.rfind('/', slash - 1);
  }
}

Status Lake::DeleteObject(std::string_view bucket, std::string_view key) {
  std::unique_lock lock(commit_mu_);
  RETURN_IF_ERROR(GetBucket(bucket).status());
  ASSIGN_OR_RETURN(std::optional<ObjectMeta> meta, ReadMeta(bucket, key));
  if (!meta) return Status::Ok();
  // The metadata goes first (with a tombstone naming the file), so no reader can open a
  // half-deleted object; recovery removes the file if we crash before unlinking it.
  std::string tombstone = records::TombstoneKey(bucket, meta->path);
  kv::Batch batch = db_.NewBatch();
  batch.Delete(kCf, records::ObjectKey(bucket, key));
  batch.Put(kCf, tombstone, "");
  RETURN_IF_ERROR(db_.Commit(batch));
  RemoveObjectFile(BucketDir(bucket), meta->path);
  kv::Batch done = db_.NewBatch();
  done.Delete(kCf, tombstone);
  return db_.Commit(done);
}

Result<ObjectMeta> Lake::CopyObject(const OpenObject& source, std::string_view bucket,
                                    std::string_view key, ObjectMeta meta) {
  // Object files are never modified in place (only replaced by rename), so a hard link is a
  // safe zero-copy copy. Linking through /proc needs no privilege.
  std::string path = staging_dir_ + "/copy-" + NewUuid();
  std::string proc = "/proc/self/fd/" + std::to_string(source.fd.get());
  StagedFile file;
  if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) == 0) {
    ASSIGN_OR_RETURN(file, AdoptStagedFile(path));
  } else {
    ASSIGN_OR_RETURN(file, StageRange(source, 0, source.meta.size));
  }
  return Commit(bucket, key, file, std::move(meta));
}

Status Lake::SetTags(std::string_view bucket, std::string_view key, KeyValues tags) {
  std::unique_lock lock(commit_mu_);
  ASSIGN_OR_RETURN(ObjectMeta meta, HeadObject(bucket, key));
  meta.tags = std::move(tags);
  kv::Batch batch = db_.NewBatch();
  batch.Put(kCf, records::ObjectKey(bucket, key), records::EncodeMeta(meta));
  return db_.Commit(batch);
}

Result<ListResult> Lake::List(std::string_view bucket, const ListOptions& options) const {
  RETURN_IF_ERROR(GetBucket(bucket).status());
  ListResult result;
  const std::string base = records::ObjectPrefix(bucket);
  const std::string lower = base + options.prefix;
  const std::string upper = kv::PrefixSuccessor(lower);
  auto it = db_.NewIterator(kCf, lower, upper);
  if (!options.start_after.empty() && options.start_after >= options.prefix) {
    std::string after = base + options.start_after;
    after.push_back('\0');  // the smallest key greater than start_after
    it->Seek(std::max(after, lower));
  } else {
    it->Seek(lower);
  }
  const std::string_view delimiter = options.delimiter;
  while (it->Valid()) {
    std::string_view key = it->key().substr(base.size());
    if (!delimiter.empty()) {
      size_t pos = key.find(delimiter, options.prefix.size());
      if (pos != std::string_view::npos) {
        std::string common(key.substr(0, pos + delimiter.size()));
        if (common > options.start_after || options.start_after.empty()) {
          if (static_cast<int>(result.objects.size() + result.common_prefixes.size()) >=
              options.max_keys) {
            result.truncated = true;
            break;
          }
          result.common_prefixes.push_back(common);
          result.last = common;
        }
        // Skip every key under this common prefix.
        std::string next = kv::PrefixSuccessor(base + common);
        if (next.empty()) break;
        it->Seek(next);
        continue;
      }
    }
    if (static_cast<int>(result.objects.size() + result.common_prefixes.size()) >=
        options.max_keys) {
      result.truncated = true;
      break;
    }
    ObjectEntry entry{.key = std::string(key)};
    if (!records::DecodeMeta(it->value(), &entry.meta)) {
      return Status::Internal("corrupt object metadata");
    }
    result.last = entry.key;
    result.objects.push_back(std::move(entry));
    it->Next();
  }
  RETURN_IF_ERROR(it->status());
  return result;
}

// ---------------------------------------------------------------------------------------
// Multipart uploads

Result<UploadInfo> Lake::CreateUpload(std::string_view bucket, std::string_view key,
                                      ObjectMeta meta) {
  RETURN_IF_ERROR(GetBucket(bucket).status());
  std::string id = NewUuid();
  id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
  UploadInfo upload{.upload_id = id,
                    .bucket = std::string(bucket),
                    .key = std::string(key),
                    .initiated_ms = clock_.NowMillis(),
                    .meta = std::move(meta)};
  std::string dir = uploads_dir_ + "/" + id;
  if (::mkdir(dir.c_str(), 0755) != 0) return IoError("mkdir", dir);
  kv::Batch batch = db_.NewBatch();
  batch.Put(kCf, records::UploadKey(bucket, id), records::EncodeUpload(upload));
  RETURN_IF_ERROR(db_.Commit(batch));
  return upload;
}

Result<UploadInfo> Lake::GetUpload(std::string_view bucket, std::string_view upload_id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   db_.Get(kCf, records::UploadKey(bucket, upload_id)));
  UploadInfo upload;
  if (!value || !records::DecodeUpload(*value, &upload)) {
    RETURN_IF_ERROR(GetBucket(bucket).status());
    return Status::NotFound(
               "The specified upload does not exist. The upload ID may be invalid, or the upload "
               "may have been aborted or completed.")
        .WithAwsCode("NoSuchUpload");
  }
  return upload;
}

Result<std::vector<UploadInfo>> Lake::ListUploads(std::string_view bucket) const {
  RETURN_IF_ERROR(GetBucket(bucket).status());
  std::vector<UploadInfo> out;
  std::string prefix = records::UploadPrefix(bucket);
  auto it = db_.NewIterator(kCf, prefix, kv::PrefixSuccessor(prefix));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    UploadInfo upload;
    if (records::DecodeUpload(it->value(), &upload)) out.push_back(std::move(upload));
  }
  RETURN_IF_ERROR(it->status());
  std::sort(out.begin(), out.end(), [](const UploadInfo& a, const UploadInfo& b) {
    return std::tie(a.key, a.initiated_ms, a.upload_id) <
           std::tie(b.key, b.initiated_ms, b.upload_id);
  });
  return out;
}

Status Lake::PutPart(const UploadInfo& upload, StagedFile file, PartInfo part) {
  RETURN_IF_ERROR(SyncFile(file.fd()));
  std::unique_lock lock(commit_mu_);
  RETURN_IF_ERROR(GetUpload(upload.bucket, upload.upload_id).status());
  part.size = file.size();
  part.last_modified_ms = clock_.NowMillis();
  std::string target = uploads_dir_ + "/" + upload.upload_id + "/" + std::to_string(part.part_number);
  if (::rename(file.path().c_str(), target.c_str()) != 0) return IoError("rename to", target);
  file.path_.clear();
  kv::Batch batch = db_.NewBatch();
  batch.Put(kCf, records::PartKey(upload.upload_id, part.part_number), records::EncodePart(part));
  return db_.Commit(batch);
}

Result<StagedFile> Lake::StageRange(const OpenObject& source, uint64_t offset, uint64_t length) {
  ASSIGN_OR_RETURN(StagedFile file, NewStagedFile());
  RETURN_IF_ERROR(CopyRange(source.fd.get(), offset, length, file.fd()));
  file.size_ = length;
  return file;
}

Result<std::vector<PartInfo>> Lake::ListParts(const UploadInfo& upload) const {
  std::vector<PartInfo> out;
  std::string prefix = records::PartPrefix(upload.upload_id);
  auto it = db_.NewIterator(kCf, prefix, kv::PrefixSuccessor(prefix));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    PartInfo part;
    if (records::DecodePart(it->value(), &part)) out.push_back(std::move(part));
  }
  RETURN_IF_ERROR(it->status());
  return out;
}

Result<ObjectMeta> Lake::CompleteUpload(const UploadInfo& upload,
                                        const std::vector<PartInfo>& parts, ObjectMeta meta) {
  ASSIGN_OR_RETURN(StagedFile file, NewStagedFile());
  for (const PartInfo& part : parts) {
    std::string path =
        uploads_dir_ + "/" + upload.upload_id + "/" + std::to_string(part.part_number);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return IoError("open", path);
    RETURN_IF_ERROR(CopyRange(fd.get(), 0, part.size, file.fd()));
    file.size_ += part.size;
  }
  ASSIGN_OR_RETURN(ObjectMeta stored, Commit(upload.bucket, upload.key, file, std::move(meta)));
  RETURN_IF_ERROR(AbortUpload(upload));
  return stored;
}

Status Lake::AbortUpload(const UploadInfo& upload) {
  kv::Batch batch = db_.NewBatch();
  batch.Delete(kCf, records::UploadKey(upload.bucket, upload.upload_id));
  std::string part_prefix = records::PartPrefix(upload.upload_id);
  batch.DeleteRange(kCf, part_prefix, kv::PrefixSuccessor(part_prefix));
  RETURN_IF_ERROR(db_.Commit(batch));
  std::error_code ec;
  std::filesystem::remove_all(uploads_dir_ + "/" + upload.upload_id, ec);
  return Status::Ok();
}

}  // namespace salespipe::lake
