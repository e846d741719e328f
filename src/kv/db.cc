#include "kv/db.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/sst_partitioner.h>
#include <rocksdb/table.h>

#include "common/logging.h"

namespace salespipe::kv {
namespace {

constexpr const char* kCfNames[kCfCount] = {"default", "items", "index", "log", "objects"};

rocksdb::ColumnFamilyOptions CfOptions(Cf which, const Db::Options& options) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = rocksdb::NewLRUCache(256 << 20);
  // Block checksums are computed by every flush and compaction and verified by every read;
  // RocksDB's crc32c is its portable table-driven loop in the distribution's build, XXH3 is
  // several times faster. (Existing files keep their checksum type; the WAL is always crc32c.)
  table.checksum = rocksdb::kXXH3;
  cf.compression = rocksdb::kLZ4Compression;
  // Items and objects live long: their bottom level is worth ZSTD's ratio. Log records are
  // short-lived (retention) and written fast (every change, again by each connector), and an
  // L0 -> L1 compaction of the log rewrites all of L1 (every shard's newest keys overlap it),
  // so ZSTD there cost more CPU than the whole connector (bench/README.md, "CDC cost").
  if (which != Cf::kLog) cf.bottommost_compression = rocksdb::kZSTD;
  if (which == Cf::kLog && options.log_sequence_prefix_bytes > 0) {
    // Every sequence (a shard) grows at its own end, all at once: each flushed L0 file spans
    // from the first shard's newest keys to the last's, so it overlaps every L1 file in
    // between, and with the default 256 MB L1 each L0 -> L1 compaction rewrote all of L1
    // (104, 208, 312 MB in a row in bench/cdc_steady.py; the bench's CDC runs paid it).
    // Files cut where the sequence changes and a small L1 keep that rewrite to about one
    // flush: a shard's older records move on to L2 in files of their own, which the next
    // records (all greater) no longer overlap (bench/README.md, "Compaction of the log").
    cf.sst_partitioner_factory =
        rocksdb::NewSstPartitionerFixedPrefixFactory(options.log_sequence_prefix_bytes);
    cf.max_bytes_for_level_base = 32u << 20;
    cf.target_file_size_base = 16u << 20;
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

}  // namespace

Status FromRocksDb(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  SPDLOG_ERROR("rocksdb {} failed: {}", what, s.ToString());
  if (s.IsBusy() || s.IsTryAgain()) return Status::Unavailable("storage is busy, retry");
  return Status::Internal("storage error");
}

Batch::~Batch() { RunHooks(false); }

Batch& Batch::operator=(Batch&& other) {
  if (this == &other) return *this;
  RunHooks(false);
  db_ = other.db_;
  batch_ = std::move(other.batch_);
  hooks_ = std::move(other.hooks_);
  other.hooks_.clear();
  return *this;
}

void Batch::RunHooks(bool committed) {
  // Taken out first so a hook that touches the batch cannot run twice.
  std::vector<std::function<void(bool)>> hooks = std::move(hooks_);
  hooks_.clear();
  for (auto& hook : hooks) hook(committed);
}

void Batch::Put(Cf cf, std::string_view key, std::string_view value) {
  batch_
      .Put(db_->Handle(cf), rocksdb::Slice(key.data(), key.size()),
           rocksdb::Slice(value.data(), value.size()))
      .PermitUncheckedError();
}

void Batch::Delete(Cf cf, std::string_view key) {
  batch_.Delete(db_->Handle(cf), rocksdb::Slice(key.data(), key.size())).PermitUncheckedError();
}

void Batch::DeleteRange(Cf cf, std::string_view begin, std::string_view end) {
  batch_
      .DeleteRange(db_->Handle(cf), rocksdb::Slice(begin.data(), begin.size()),
                   rocksdb::Slice(end.data(), end.size()))
      .PermitUncheckedError();
}

Status Iterator::status() const { return FromRocksDb(it_->status(), "iterate"); }

Result<std::unique_ptr<Db>> Db::Open(const Options& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.enable_pipelined_write = true;
  // Writers that join a write group wait for its leader on a futex instead of first calling
  // sched_yield in a loop: with more writing threads than cores (io threads commit inline),
  // the yields were ~80% of all context switches and cost 8-10% of PutRecord/PutItem
  // throughput at 64 connections (bench/README.md, "The edge: one io_context per thread").
  db_options.enable_write_thread_adaptive_yield = false;
  db_options.max_open_files = 1024;
  db_options.keep_log_file_num = 4;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kCfCount; ++i) {
    descriptors.emplace_back(kCfNames[i], CfOptions(static_cast<Cf>(i), options));
  }
  std::unique_ptr<Db> db(new Db());
  db->durability_ = options.durability;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &db->handles_, &raw);
  if (!s.ok()) {
    SPDLOG_ERROR("cannot open RocksDB at {}: {}", options.path, s.ToString());
    return Status::Internal("cannot open the database: " + s.ToString());
  }
  db->db_.reset(raw);
  return db;
}

Db::~Db() {
  {
    MutexLock lock(group_mu_);
    group_stop_ = true;
  }
  group_cv_.notify_one();
  if (committer_.joinable()) committer_.join();
  if (!db_) return;
  for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  db_->Close().PermitUncheckedError();
}

rocksdb::WriteOptions Db::WriteOptions() const {
  rocksdb::WriteOptions write_options;
  write_options.sync = durability_ == Durability::kSync;
  return write_options;
}

Status Db::Commit(Batch& batch) {
  Status status = FromRocksDb(db_->Write(WriteOptions(), &batch.batch_), "write");
  batch.RunHooks(status.ok());
  return status;
}

void Db::CommitAsync(Batch batch, std::function<void(Status)> done) {
  {
    MutexLock lock(group_mu_);
    group_queue_.push_back({std::move(batch), std::move(done)});
    if (group_leader_) return;
    group_leader_ = true;
  }
  LeadGroups(std::chrono::steady_clock::now() + kLeaderBudget);
}

void Db::LeadGroups(std::optional<std::chrono::steady_clock::time_point> until) {
  std::vector<QueuedCommit> group;
  while (true) {
    {
      MutexLock lock(group_mu_);
      if (group_queue_.empty()) {
        group_leader_ = false;
        return;
      }
      if (until && std::chrono::steady_clock::now() >= *until) {
        // Still more: the committer thread leads on, and this thread goes back to its own
        // work (its connections waited long enough).
        if (!committer_.joinable()) {
          committer_ = std::thread([this] {
            NameThisThread("sp-commit");
            RunCommitter();
          });
        }
        group_handoff_ = true;
        group_cv_.notify_one();
        return;
      }
      group.swap(group_queue_);
    }
    WriteGroup(group);
    group.clear();
  }
}

void Db::RunCommitter() {
  std::unique_lock lock(group_mu_);
  while (true) {
    group_cv_.wait(lock, [this] { return group_handoff_ || group_stop_; });
    if (group_handoff_) {
      group_handoff_ = false;
      lock.unlock();
      LeadGroups(std::nullopt);
      lock.lock();
      continue;
    }
    return;  // stopping, nothing handed over
  }
}

namespace {

// Copies the writes of one batch into another (RocksDB has no public batch append).
class CopyInto : public rocksdb::WriteBatch::Handler {
 public:
  CopyInto(rocksdb::WriteBatch& to, const std::vector<rocksdb::ColumnFamilyHandle*>& handles)
      : to_(to), handles_(handles) {}

  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    rocksdb::ColumnFamilyHandle* handle = HandleOf(cf);
    return handle ? to_.Put(handle, key, value) : Unsupported();
  }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    rocksdb::ColumnFamilyHandle* handle = HandleOf(cf);
    return handle ? to_.Delete(handle, key) : Unsupported();
  }
  rocksdb::Status DeleteRangeCF(uint32_t cf, const rocksdb::Slice& begin,
                                const rocksdb::Slice& end) override {
    rocksdb::ColumnFamilyHandle* handle = HandleOf(cf);
    return handle ? to_.DeleteRange(handle, begin, end) : Unsupported();
  }
  // Batch offers Put, Delete and DeleteRange only; anything else is not ours to copy.
  rocksdb::Status SingleDeleteCF(uint32_t, const rocksdb::Slice&) override { return Unsupported(); }
  rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return Unsupported();
  }

 private:
  static rocksdb::Status Unsupported() {
    return rocksdb::Status::NotSupported("write kind not copied by group commit");
  }
  rocksdb::ColumnFamilyHandle* HandleOf(uint32_t id) const {
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      if (handle->GetID() == id) return handle;
    }
    return nullptr;
  }
  rocksdb::WriteBatch& to_;
  const std::vector<rocksdb::ColumnFamilyHandle*>& handles_;
};

// Batches above this are written on their own: copying them would cost more than the write
// it saves (a PutRecords can be 5 MiB).
constexpr size_t kMergeBatchBytes = 64u << 10;

}  // namespace

void Db::WriteGroup(std::vector<QueuedCommit>& group) {
  auto finish = [](QueuedCommit& queued, const Status& status) {
    queued.batch.RunHooks(status.ok());
    // A `done` that throws is a bug; it must not leave the group without a leader (every
    // later CommitAsync would wait forever) nor cost the rest of the group their answers.
    try {
      queued.done(status);
    } catch (const std::exception& e) {
      SPDLOG_ERROR("commit callback threw: {}", e.what());
    }
  };
  // Consecutive small batches share one write; a batch that is large (or cannot be copied)
  // is written on its own. Writes happen in queue order either way.
  rocksdb::WriteBatch combined;
  size_t merged_from = 0;  // group[merged_from, i) are in `combined`
  auto write_merged = [&](size_t end) {
    if (merged_from == end) return;
    Status status = FromRocksDb(db_->Write(WriteOptions(), &combined), "write");
    for (size_t k = merged_from; k < end; ++k) finish(group[k], status);
    combined.Clear();
  };
  for (size_t i = 0; i < group.size(); ++i) {
    QueuedCommit& queued = group[i];
    if (group.size() > 1 && queued.batch.ByteSize() <= kMergeBatchBytes) {
      combined.SetSavePoint();
      CopyInto copy(combined, handles_);
      if (queued.batch.batch_.Iterate(&copy).ok()) {
        combined.PopSavePoint().PermitUncheckedError();
        continue;
      }
      combined.RollbackToSavePoint().PermitUncheckedError();
    }
    write_merged(i);
    merged_from = i + 1;
    finish(queued, FromRocksDb(db_->Write(WriteOptions(), &queued.batch.batch_), "write"));
  }
  write_merged(group.size());
}

Result<std::optional<std::string>> Db::Get(Cf cf, std::string_view key) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), Handle(cf), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  RETURN_IF_ERROR(FromRocksDb(s, "get"));
  return std::optional<std::string>(value.ToString());
}

std::unique_ptr<Iterator> Db::NewIterator(Cf cf, std::string_view lower,
                                          std::string_view upper) const {
  auto it = std::unique_ptr<Iterator>(new Iterator());
  it->lower_ = std::string(lower);
  it->upper_ = std::string(upper);
  rocksdb::ReadOptions read_options;
  it->lower_slice_ = rocksdb::Slice(it->lower_);
  read_options.iterate_lower_bound = &it->lower_slice_;
  if (!it->upper_.empty()) {
    it->upper_slice_ = rocksdb::Slice(it->upper_);
    read_options.iterate_upper_bound = &it->upper_slice_;
  }
  it->it_.reset(db_->NewIterator(read_options, Handle(cf)));
  return it;
}

std::vector<std::pair<std::string, std::string>> Db::FileKeyRanges(Cf cf) const {
  rocksdb::ColumnFamilyMetaData meta;
  db_->GetColumnFamilyMetaData(Handle(cf), &meta);
  std::vector<std::pair<std::string, std::string>> ranges;
  for (const rocksdb::LevelMetaData& level : meta.levels) {
    for (const rocksdb::SstFileMetaData& file : level.files) {
      ranges.emplace_back(file.smallestkey, file.largestkey);
    }
  }
  return ranges;
}

uint64_t Db::ApproximateBytes(Cf cf) const {
  uint64_t sst = 0, mem = 0;
  db_->GetIntProperty(Handle(cf), rocksdb::DB::Properties::kLiveSstFilesSize, &sst);
  db_->GetIntProperty(Handle(cf), rocksdb::DB::Properties::kCurSizeAllMemTables, &mem);
  return sst + mem;
}

uint64_t Db::ApproximateKeys(Cf cf) const {
  uint64_t keys = 0;
  db_->GetIntProperty(Handle(cf), rocksdb::DB::Properties::kEstimateNumKeys, &keys);
  return keys;
}

Status Db::CompactAll(Cf cf) {
  return FromRocksDb(
      db_->CompactRange(rocksdb::CompactRangeOptions(), Handle(cf), nullptr, nullptr), "compact");
}

Status Db::Flush() {
  RETURN_IF_ERROR(FromRocksDb(db_->FlushWAL(/*sync=*/true), "flush wal"));
  return FromRocksDb(db_->Flush(rocksdb::FlushOptions(), handles_), "flush");
}

void AppendUint64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

bool ConsumeUint64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r = (r << 8) | static_cast<unsigned char>((*in)[i]);
  in->remove_prefix(8);
  *v = r;
  return true;
}

void AppendUint32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

bool ConsumeUint32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  uint32_t r = 0;
  for (int i = 0; i < 4; ++i) r = (r << 8) | static_cast<unsigned char>((*in)[i]);
  in->remove_prefix(4);
  *v = r;
  return true;
}

void AppendBytes(std::string* out, std::string_view bytes) {
  AppendUint32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

bool ConsumeBytes(std::string_view* in, std::string_view* bytes) {
  uint32_t size = 0;
  if (!ConsumeUint32(in, &size) || in->size() < size) return false;
  *bytes = in->substr(0, size);
  in->remove_prefix(size);
  return true;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    unsigned char c = s.back();
    if (c != 0xFF) {
      s.back() = static_cast<char>(c + 1);
      return s;
    }
    s.pop_back();
  }
  return s;
}

}  // namespace salespipe::kv
