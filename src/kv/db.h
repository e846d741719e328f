#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"

// kv/ is the only code that includes RocksDB.
namespace salespipe::kv {

// Column families. Persisted by name: append only, never rename.
//   meta   : catalog records (tables, counters), see table/catalog.h
//   items  : table items, key = TableId(8, big-endian) | encoded primary key
//   index  : secondary index entries, key = IndexId(8) | index key | primary key
//   log    : change logs (streams issue)
//   objects: the lake's buckets, object metadata and uploads, see lake/records.h
enum class Cf { kMeta = 0, kItems, kIndex, kLog, kObjects };
inline constexpr int kCfCount = 5;

enum class Durability {
  kOs,    // WAL written to the OS before acknowledging: survives kill -9
  kSync,  // WAL fsynced before acknowledging: survives a power cut
};

class Db;

// An atomic group of writes. Not thread-safe; one owner at a time.
class Batch {
 public:
  Batch(Batch&&) = default;
  // Runs this batch's pending OnCommit hooks with `false` first.
  Batch& operator=(Batch&& other);
  // Runs the pending OnCommit hooks with `false` if the batch was never committed.
  ~Batch();

  void Put(Cf cf, std::string_view key, std::string_view value);
  void Delete(Cf cf, std::string_view key);
  void DeleteRange(Cf cf, std::string_view begin, std::string_view end);
  size_t Count() const { return batch_.Count(); }
  size_t ByteSize() const { return batch_.GetDataSize(); }

  // Registers `hook` to run exactly once: right after Db::Commit of this batch returns
  // (`committed` = whether the write succeeded), or from the destructor with `false` if the
  // batch is never committed. Hooks run in registration order on the committing thread, must
  // not throw and must not commit batches themselves. Used by log/ to publish sequence numbers
  // only once their records are durable (see log/shard_log.h).
  void OnCommit(std::function<void(bool committed)> hook) { hooks_.push_back(std::move(hook)); }

 private:
  friend class Db;
  explicit Batch(Db& db) : db_(&db) {}
  void RunHooks(bool committed);
  Db* db_;
  rocksdb::WriteBatch batch_;
  std::vector<std::function<void(bool)>> hooks_;
};

// Forward iterator over one column family, bounded to [lower, upper).
class Iterator {
 public:
  bool Valid() const { return it_->Valid(); }
  void Seek(std::string_view key) { it_->Seek(ToSlice(key)); }
  void SeekForPrev(std::string_view key) { it_->SeekForPrev(ToSlice(key)); }
  void SeekToFirst() { it_->SeekToFirst(); }
  void SeekToLast() { it_->SeekToLast(); }
  void Next() { it_->Next(); }
  void Prev() { it_->Prev(); }
  std::string_view key() const { return ToView(it_->key()); }
  std::string_view value() const { return ToView(it_->value()); }
  // Errors: kInternal if the scan hit an I/O error.
  Status status() const;

 private:
  friend class Db;
  static rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }
  static std::string_view ToView(rocksdb::Slice s) { return {s.data(), s.size()}; }
  std::string lower_, upper_;
  rocksdb::Slice lower_slice_, upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// The RocksDB database under `<data-dir>/db`. Thread-safe.
class Db {
 public:
  struct Options {
    std::string path;
    Durability durability = Durability::kOs;
    // Cf::kLog holds append-only sequences (log/: shards) whose keys start with this many
    // bytes naming the sequence; 0 if unknown. See CfOptions in db.cc.
    size_t log_sequence_prefix_bytes = 0;
  };

  // Errors: kInternal if RocksDB cannot open or create the database.
  static Result<std::unique_ptr<Db>> Open(const Options& options);
  ~Db();

  Batch NewBatch() { return Batch(*this); }
  // Commits `batch` atomically with the configured durability.
  // Errors: kInternal on I/O failure.
  Status Commit(Batch& batch);
  // Commits `batch` as Commit does, without waiting for other writers: calls `done` with the
  // outcome exactly once, after the batch's OnCommit hooks, in queue order. If no group commit
  // is running, this thread leads one: it writes `batch` together with every batch queued
  // meanwhile (one WAL write per group), and goes on until the queue is empty or
  // kLeaderBudget has passed, then hands what is left to a committer thread. So `done` may
  // run before CommitAsync returns, or on another thread: it must be quick (e.g. post the
  // answer to its connection's thread) and must not wait for another commit. For callers
  // that must not block in a write group (an io thread serving other connections).
  void CommitAsync(Batch batch, std::function<void(Status)> done) EXCLUDES(group_mu_);

  // Errors: kInternal on I/O failure. A missing key is nullopt, not an error.
  Result<std::optional<std::string>> Get(Cf cf, std::string_view key) const;

  // An iterator over keys in [lower, upper); an empty `upper` means unbounded.
  std::unique_ptr<Iterator> NewIterator(Cf cf, std::string_view lower,
                                        std::string_view upper) const;

  // The [smallest, largest] keys of each table file of a column family (for tests and
  // diagnostics of the compaction layout).
  std::vector<std::pair<std::string, std::string>> FileKeyRanges(Cf cf) const;

  // Approximate live bytes and keys of a column family (for metrics).
  uint64_t ApproximateBytes(Cf cf) const;
  uint64_t ApproximateKeys(Cf cf) const;

  // Flushes memtables and the WAL (used on clean shutdown).
  Status Flush();
  // Compacts all of a column family now (tests and maintenance).
  Status CompactAll(Cf cf);

  Durability durability() const { return durability_; }

 private:
  friend class Batch;
  Db() = default;
  rocksdb::ColumnFamilyHandle* Handle(Cf cf) const { return handles_[static_cast<int>(cf)]; }
  struct QueuedCommit {
    Batch batch;
    std::function<void(Status)> done;
  };
  // How long a thread that called CommitAsync leads group commits before it hands the queue
  // to the committer thread: a leader's own work (its connections) waits meanwhile. Under
  // steady small puts it rarely runs out; big batches (PutRecords of 5 MiB) would otherwise
  // hold one io thread for seconds.
  static constexpr std::chrono::microseconds kLeaderBudget{500};
  // Writes queued groups until the queue is empty, or hands it to the committer thread once
  // `until` has passed (never, for the committer itself).
  void LeadGroups(std::optional<std::chrono::steady_clock::time_point> until) EXCLUDES(group_mu_);
  void RunCommitter() EXCLUDES(group_mu_);
  // Writes `group` (merged into one write when its batches are small) and finishes each.
  void WriteGroup(std::vector<QueuedCommit>& group);
  rocksdb::WriteOptions WriteOptions() const;

  Durability durability_ = Durability::kOs;
  Mutex group_mu_;
  std::vector<QueuedCommit> group_queue_ GUARDED_BY(group_mu_);
  bool group_leader_ GUARDED_BY(group_mu_) = false;  // someone is writing the queue
  std::condition_variable group_cv_;
  bool group_handoff_ GUARDED_BY(group_mu_) = false;  // the committer is to lead on
  bool group_stop_ GUARDED_BY(group_mu_) = false;
  std::thread committer_;  // started at the first hand-off
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// Converts a RocksDB status to ours. Details go to the log; the message stays generic.
Status FromRocksDb(const rocksdb::Status& s, std::string_view what);

// Appends `v` as 8 big-endian bytes (so numeric order is byte order).
void AppendUint64(std::string* out, uint64_t v);
// Reads 8 big-endian bytes from the front of `*in`; false if too short.
bool ConsumeUint64(std::string_view* in, uint64_t* v);
// The same for 4 bytes.
void AppendUint32(std::string* out, uint32_t v);
bool ConsumeUint32(std::string_view* in, uint32_t* v);
// `bytes` behind its 4-byte length; Consume views them in `*in` (false if truncated).
void AppendBytes(std::string* out, std::string_view bytes);
bool ConsumeBytes(std::string_view* in, std::string_view* bytes);
// The smallest key greater than every key with prefix `prefix` (empty if none exists).
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace salespipe::kv
