#include "cdc/kinesis_connector.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "common/arn.h"
#include "common/logging.h"

namespace salespipe::cdc {

std::optional<std::string> KinesisLogNameForArn(std::string_view arn) {
  std::optional<ArnParts> parts = SplitArn(arn);
  if (!parts || parts->service != "kinesis" || parts->region.empty() || parts->account.empty() ||
      !parts->resource.starts_with("stream/")) {
    return std::nullopt;
  }
  std::string_view name = parts->resource.substr(7);
  if (name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
  std::string out = "kinesis/";
  out.append(parts->account).append("/").append(parts->region).append("/").append(name);
  return out;
}

KinesisConnector::KinesisConnector(kv::Db& db, log::ShardLog& log, table::Catalog& catalog,
                                   ChangeCapture& capture)
    : db_(db), log_(log), catalog_(catalog), capture_(capture) {}

KinesisConnector::~KinesisConnector() { Stop(); }

std::string KinesisConnector::CheckpointKey(uint64_t table_id, std::string_view stream_arn) {
  char digits[32];
  std::snprintf(digits, sizeof(digits), "%020llu", static_cast<unsigned long long>(table_id));
  std::string key = "cdc/checkpoint/";
  key.append(digits).append("/").append(stream_arn);
  return key;
}

void KinesisConnector::Start() {
  if (thread_.joinable()) return;
  {
    MutexLock lock(mu_);
    stopping_ = false;
    dirty_ = true;  // deliver whatever was left before a restart
  }
  // Runs on committing threads: only a set lookup and a notify.
  listener_ = log_.AddListener([this](log::ShardId shard) {
    if (capture_.IsChangeLog(shard.stream)) Wake();
  });
  thread_ = std::thread([this] { Loop(); });
}

void KinesisConnector::Stop() {
  if (!thread_.joinable()) return;
  log_.RemoveListener(listener_);
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void KinesisConnector::Wake() {
  // One signal per delivery pass, not per commit: while a wake-up is pending, later commits
  // only find dirty_ set (this runs on every committing writer's thread).
  if (dirty_.load()) return;
  bool notify = false;
  {
    MutexLock lock(mu_);
    notify = !dirty_;
    dirty_ = true;
  }
  if (notify) cv_.notify_one();
}

void KinesisConnector::Loop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return dirty_ || stopping_; });
      if (stopping_) return;
      // Linger: let a burst of commits pile up so one delivery step (one read, one commit)
      // carries many changes instead of one. Bounded, and cut short by Stop().
      cv_.wait_for(lock, kLinger, [this] { return stopping_; });
      if (stopping_) return;
      dirty_ = false;
    }
    Result<int64_t> delivered = RunOnce();
    if (!delivered.ok()) {
      // A storage failure: retry on the next wake-up rather than spin on a broken disk.
      SPDLOG_ERROR("kinesis destination delivery: {}", delivered.status().ToString());
    }
  }
}

Status KinesisConnector::StartDestination(const table::TableDef& table,
                                          std::string_view stream_arn) {
  ASSIGN_OR_RETURN(log::ShardId shard, capture_.EnsureChangeLog(table));
  MutexLock deliver(deliver_mu_);
  ASSIGN_OR_RETURN(log::SequenceNumber high, log_.VisibleHigh(shard));
  std::string value;
  kv::AppendUint64(&value, high.value + 1);
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, CheckpointKey(table.table_id, stream_arn), value);
  checkpoints_.erase(CheckpointKey(table.table_id, stream_arn));
  RETURN_IF_ERROR(db_.Commit(batch));
  checkpoints_[CheckpointKey(table.table_id, stream_arn)] = high.value + 1;
  {
    MutexLock lock(mu_);
    warned_.erase(CheckpointKey(table.table_id, stream_arn));
  }
  return Status::Ok();
}

Status KinesisConnector::Drain(const table::TableDef& table,
                               const table::KinesisDestination& destination) {
  for (;;) {
    ASSIGN_OR_RETURN(int64_t n, DeliverStep(table, destination, kMaxBatch));
    if (n < kMaxBatch) return Status::Ok();
  }
}

Result<int64_t> KinesisConnector::RunOnce() {
  int64_t total = 0;
  for (const auto& handle : catalog_.All()) {
    if (handle->deleted()) continue;
    auto def = handle->def();
    for (const auto& destination : def->kinesis_destinations) {
      if (!destination.active) continue;
      for (;;) {
        ASSIGN_OR_RETURN(int64_t n, DeliverStep(*def, destination, kMaxBatch));
        total += n;
        if (n < kMaxBatch) break;
        MutexLock lock(mu_);
        if (stopping_) return total;
      }
    }
  }
  return total;
}

int64_t KinesisConnector::Skip(const table::TableDef& table,
                               const table::KinesisDestination& destination,
                               const Status& status) {
  // The stream is being deleted or resharded under us: nothing of this batch is committed;
  // the next wake-up retries from the same checkpoint.
  SPDLOG_WARN("table {}: delivering to {}: {}", table.name, destination.stream_arn,
              status.ToString());
  return 0;
}

Result<int64_t> KinesisConnector::DeliverStep(const table::TableDef& table,
                                              const table::KinesisDestination& destination,
                                              int max_records) {
  std::optional<log::ShardId> change_log = capture_.FindChangeLog(table.table_id);
  if (!change_log) return 0;
  MutexLock deliver(deliver_mu_);
  const std::string checkpoint_key = CheckpointKey(table.table_id, destination.stream_arn);
  uint64_t next = 0;
  if (auto cached = checkpoints_.find(checkpoint_key); cached != checkpoints_.end()) {
    next = cached->second;
  } else {
    ASSIGN_OR_RETURN(std::optional<std::string> checkpoint,
                     db_.Get(kv::Cf::kMeta, checkpoint_key));
    if (!checkpoint) return 0;  // not started (StartDestination writes it before activating)
    std::string_view view = *checkpoint;
    if (!kv::ConsumeUint64(&view, &next)) return Status::Internal("corrupt checkpoint");
  }

  std::optional<std::string> log_name = KinesisLogNameForArn(destination.stream_arn);
  Result<log::StreamInfo> kinesis =
      log_name ? log_.FindStream(*log_name) : Status::NotFound("bad arn");
  if (!kinesis.ok()) {
    MutexLock lock(mu_);
    if (warned_.insert(checkpoint_key).second) {
      SPDLOG_WARN("table {}: Kinesis destination {} not found; its changes wait", table.name,
                  destination.stream_arn);
    }
    return 0;
  }

  Result<log::ReadResult> read =
      log_.Read(*change_log, {next}, {.max_records = max_records, .max_bytes = 8 << 20});
  if (!read.ok() && read.status().code() == ErrorCode::kOutOfRange) {
    // Changes older than the change log's retention are gone: AWS would have dropped them
    // too. Resume at the oldest retained change.
    ASSIGN_OR_RETURN(log::SequenceNumber oldest,
                     log_.Resolve(*change_log, {.type = log::StartPosition::Type::kTrimHorizon}));
    SPDLOG_WARN("table {}: changes for {} trimmed before delivery", table.name,
                destination.stream_arn);
    read = log_.Read(*change_log, oldest, {.max_records = max_records, .max_bytes = 8 << 20});
  }
  RETURN_IF_ERROR(read.status());
  if (read->records.empty()) return 0;

  // Format every change, then append them shard by shard (one AppendAll each: one lock, one
  // commit hook, one wake-up per shard). An item's changes all go to one shard, in log order.
  std::vector<DestinationRecordOut> outs;
  outs.reserve(read->records.size());
  std::vector<std::pair<log::ShardId, std::vector<log::RecordInput>>> groups;
  for (const log::Record& record : read->records) {
    ASSIGN_OR_RETURN(DestinationRecordOut out,
                     capture_.DestinationRecordJson(table, record,
                                                    destination.microsecond_precision));
    outs.push_back(std::move(out));
  }
  kv::Batch batch = db_.NewBatch();
  for (const DestinationRecordOut& out : outs) {
    Result<log::ShardId> shard =
        log_.ShardForHashKey(kinesis->id, log::HashOfPartitionKey(out.partition_key));
    if (!shard.ok()) return Skip(table, destination, shard.status());
    auto group = std::find_if(groups.begin(), groups.end(),
                              [&](const auto& g) { return g.first == *shard; });
    if (group == groups.end()) group = groups.insert(groups.end(), {*shard, {}});
    group->second.push_back({.partition_key = out.partition_key, .data = out.data});
  }
  for (const auto& [shard, records] : groups) {
    Result<log::SequenceNumber> appended = log_.AppendAll(batch, shard, records);
    if (!appended.ok()) return Skip(table, destination, appended.status());
  }
  const uint64_t advanced = read->records.back().sequence.value + 1;
  std::string value;
  kv::AppendUint64(&value, advanced);
  batch.Put(kv::Cf::kMeta, checkpoint_key, value);
  if (Status committed = db_.Commit(batch); !committed.ok()) {
    checkpoints_.erase(checkpoint_key);  // whatever happened, the next step reads RocksDB
    return committed;
  }
  checkpoints_[checkpoint_key] = advanced;
  return static_cast<int64_t>(read->records.size());
}

}  // namespace salespipe::cdc
