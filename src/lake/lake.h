#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "kv/db.h"

// The object store behind S3 (and later Firehose and Athena): buckets are folders under
// <data-dir>/lake/, objects are plain files (object_path.h), metadata lives in RocksDB
// (column family kObjects) so listings never touch the file system.
namespace salespipe::lake {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

struct BucketInfo {
  std::string name;
  std::string region;
  int64_t created_ms = 0;
};

// Everything stored about one object. The caller fills the descriptive fields; the lake
// fills size, last_modified_ms and path.
struct ObjectMeta {
  uint64_t size = 0;
  int64_t last_modified_ms = 0;
  std::string etag;  // with the quotes: "\"<hex md5>\"" or "\"<hex>-N\""
  std::string content_type;
  std::string content_encoding;
  std::string content_disposition;
  std::string content_language;
  std::string cache_control;
  std::string expires;
  KeyValues user_metadata;  // names lower-case, without "x-amz-meta-"
  std::string checksum_algorithm;  // "CRC32", ...; empty when none
  std::string checksum_value;      // base64, "-N" suffix for multipart composites
  std::string checksum_type;       // "FULL_OBJECT" or "COMPOSITE"
  KeyValues tags;
  uint32_t parts_count = 0;  // 0 for single-part objects
  std::string path;          // relative to the bucket folder (object_path.h)
};

struct ObjectEntry {
  std::string key;
  ObjectMeta meta;
};

struct ListOptions {
  std::string prefix;
  std::string delimiter;
  std::string start_after;  // exclusive; keys and common prefixes <= it are skipped
  int max_keys = 1000;
};

struct ListResult {
  std::vector<ObjectEntry> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string last;  // the last key or common prefix returned (for the next page)
};

// An open object: its metadata and a descriptor of exactly those bytes, even if the object is
// replaced or deleted while it is read.
struct OpenObject {
  ObjectMeta meta;
  UniqueFd fd;
};

// A temporary file in the staging folder that becomes an object (or a part). Move-only;
// removed on destruction unless committed.
class StagedFile {
 public:
  StagedFile() = default;
  StagedFile(StagedFile&&) noexcept;
  StagedFile& operator=(StagedFile&&) noexcept;
  ~StagedFile();

  // Appends `data`. Errors: kInternal on a write error (disk full).
  Status Append(std::string_view data);
  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }
  uint64_t size() const { return size_; }

 private:
  friend class Lake;
  StagedFile(std::string path, UniqueFd fd, uint64_t size)
      : path_(std::move(path)), fd_(std::move(fd)), size_(size) {}
  std::string path_;
  UniqueFd fd_;
  uint64_t size_ = 0;
};

// An object to write with Lake::PutObjects.
struct NewObject {
  std::string bucket;
  std::string key;
  StagedFile file;
  ObjectMeta meta;  // descriptive fields, as for PutObject
};

struct UploadInfo {
  std::string upload_id;
  std::string bucket;
  std::string key;
  int64_t initiated_ms = 0;
  ObjectMeta meta;  // what the object gets on completion (checksum_algorithm included)
};

struct PartInfo {
  int part_number = 0;
  uint64_t size = 0;
  int64_t last_modified_ms = 0;
  std::string etag;            // with quotes
  std::string md5;             // 16 raw bytes
  std::string checksum_value;  // base64 of the part's checksum (upload's algorithm), or empty
};

// Thread-safe: all methods may be called concurrently. Writes are atomic: a reader sees the
// old object or the new one, never a mix, and a crash (kill -9; with kSync also a power cut)
// leaves whole objects whose bytes match their metadata.
class Lake {
 public:
  struct Options {
    std::string root;  // <data-dir>/lake
    kv::Durability durability = kv::Durability::kOs;
  };

  // Creates the folders if needed and recovers from a crash: finishes or drops interrupted
  // writes and removes leftover temporary files. `db` and `clock` must outlive the Lake.
  // Errors: kInternal if the folders cannot be created or the database fails.
  static Result<std::unique_ptr<Lake>> Open(const Options& options, kv::Db& db, const Clock& clock);

  // The folder for request bodies that may become objects (same file system as the objects,
  // so AdoptStagedFile + PutObject renames instead of copying).
  const std::string& staging_dir() const { return staging_dir_; }

  // --- buckets. `name` must be a valid bucket name (the service validates it).
  // Errors: kAlreadyExists if it exists (BucketInfo of the existing one is not returned).
  Status CreateBucket(std::string_view name, std::string_view region);
  // Errors: kNotFound.
  Result<BucketInfo> GetBucket(std::string_view name) const;
  // All buckets by name.
  Result<std::vector<BucketInfo>> ListBuckets() const;
  // Errors: kNotFound; kFailedPrecondition if it holds objects. In-progress multipart
  // uploads are aborted with the bucket.
  Status DeleteBucket(std::string_view name);

  // --- staged bodies
  // Errors: kInternal if the file cannot be created.
  Result<StagedFile> NewStagedFile();
  // Takes over `path`, a file in staging_dir() (e.g. an edge spool file).
  // Errors: kInvalidArgument if it is not in staging_dir(); kInternal if it cannot be opened.
  Result<StagedFile> AdoptStagedFile(const std::string& path);

  // --- objects. Errors: kNotFound if the bucket (or, for reads, the object) does not exist.
  // Makes `file` the object `key`, replacing any previous one; returns the stored metadata.
  Result<ObjectMeta> PutObject(std::string_view bucket, std::string_view key, StagedFile file,
                               ObjectMeta meta);
  // Makes several staged files objects at once and commits `batch` (the caller's own writes,
  // e.g. a delivery checkpoint; it must be a batch of the lake's database) in the same
  // RocksDB commit as their metadata: after a crash, either every object and the caller's
  // writes are there, or none is. Files are renamed into place after the commit (recovery
  // finishes renames a crash interrupted). Returns the stored metadata in `objects` order.
  // Errors: kNotFound if a bucket does not exist (nothing is written); kInternal on storage
  // failure (if the commit happened, the objects appear at the latest on recovery).
  Result<std::vector<ObjectMeta>> PutObjects(std::vector<NewObject> objects, kv::Batch& batch);
  Result<ObjectMeta> HeadObject(std::string_view bucket, std::string_view key) const;
  Result<OpenObject> Open(std::string_view bucket, std::string_view key) const;
  // Deleting a missing key is OK (S3 semantics).
  Status DeleteObject(std::string_view bucket, std::string_view key);
  // Copies the bytes of an open object into a new object without reading them into memory
  // (a hard link when the whole file is copied). `meta` describes the target.
  Result<ObjectMeta> CopyObject(const OpenObject& source, std::string_view bucket,
                                std::string_view key, ObjectMeta meta);
  // Replaces the tags of an existing object. Errors: kNotFound.
  Status SetTags(std::string_view bucket, std::string_view key, KeyValues tags);
  // Objects in UTF-8 byte order of their keys, grouped by `delimiter`.
  Result<ListResult> List(std::string_view bucket, const ListOptions& options) const;

  // --- multipart uploads
  Result<UploadInfo> CreateUpload(std::string_view bucket, std::string_view key, ObjectMeta meta);
  // Errors: kNotFound if the upload is not in `bucket`.
  Result<UploadInfo> GetUpload(std::string_view bucket, std::string_view upload_id) const;
  // All uploads of the bucket ordered by key, then initiation time.
  Result<std::vector<UploadInfo>> ListUploads(std::string_view bucket) const;
  // Stores (or replaces) part `part.part_number` with the bytes of `file`.
  Status PutPart(const UploadInfo& upload, StagedFile file, PartInfo part);
  // Copies `length` bytes at `offset` of `source` into a new staged file (for UploadPartCopy).
  Result<StagedFile> StageRange(const OpenObject& source, uint64_t offset, uint64_t length);
  Result<std::vector<PartInfo>> ListParts(const UploadInfo& upload) const;
  // Concatenates `parts` (validated by the caller) into the object and ends the upload.
  Result<ObjectMeta> CompleteUpload(const UploadInfo& upload, const std::vector<PartInfo>& parts,
                                    ObjectMeta meta);
  Status AbortUpload(const UploadInfo& upload);

  // Reads `length` bytes at `offset` of `fd` in chunks, calling `sink` with each.
  // Errors: kInternal on a read error or early end of file.
  static Status ReadRange(int fd, uint64_t offset, uint64_t length,
                          const std::function<Status(std::string_view)>& sink);

 private:
  Lake(const Options& options, kv::Db& db, const Clock& clock);
  Status Recover();
  std::string BucketDir(std::string_view bucket) const;
  // Syncs `fd` (and later the directory) when durability is kSync.
  Status SyncFile(int fd) const;
  void SyncDir(const std::string& dir) const;
  // Commits `meta` and renames `file` into place for `key`, under commit_mu_ (one RocksDB
  // commit per write; see Recover for the crash cases).
  Result<ObjectMeta> Commit(std::string_view bucket, std::string_view key, StagedFile& file,
                            ObjectMeta meta);
  // Commit for several objects plus the caller's writes in `batch`, in one RocksDB commit.
  Result<std::vector<ObjectMeta>> CommitMany(std::vector<NewObject>& objects, kv::Batch& batch);
  // Removes a file and then its empty parent folders up to the bucket folder.
  void RemoveObjectFile(const std::string& bucket_dir, const std::string& relative) const;
  Result<std::optional<ObjectMeta>> ReadMeta(std::string_view bucket, std::string_view key) const;

  // Set at construction.
  const Options options_;
  kv::Db& db_;
  const Clock& clock_;
  std::string staging_dir_;
  std::string uploads_dir_;

  // Serializes placing, renaming and removing object files with their metadata commits, so
  // that file/folder name choices (object_path.h) and "last writer wins" are consistent.
  // Readers take it shared to read metadata and open the file as one step.
  mutable std::shared_mutex commit_mu_;
  // Staged names of roll-forward intents whose renames are done: deleted with the next commit
  // (recovery deletes any left at a crash). Guarded by commit_mu_ (exclusive).
  std::vector<std::string> finished_intents_;
};

}  // namespace salespipe::lake
