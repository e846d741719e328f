#include "kv/db.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include "common/logging.h"

namespace salespipe::kv {
namespace {

constexpr const char* kCfNames[kCfCount] = {"default", "items", "index", "log", "objects"};

rocksdb::ColumnFamilyOptions CfOptions(Cf which) {
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
  batch_.Put(db_->Handle(cf), rocksdb::Slice(key.data(), key.size()),
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
    descriptors.emplace_back(kCfNames[i], CfOptions(static_cast<Cf>(i)));
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
  if (!db_) return;
  for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  db_->Close().PermitUncheckedError();
}

Status Db::Commit(Batch& batch) {
  rocksdb::WriteOptions write_options;
  write_options.sync = durability_ == Durability::kSync;
  Status status = FromRocksDb(db_->Write(write_options, &batch.batch_), "write");
  batch.RunHooks(status.ok());
  return status;
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
