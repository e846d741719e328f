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

std::string KinesisConnector::EncodeCheckpoint(const Checkpoint& checkpoint) {
  std::string value;
  kv::AppendUint64(&value, checkpoint.next);
  kv::AppendUint64(&value, checkpoint.source);
  return value;
}

void KinesisConnector::Start() {
  if (thread_.joinable()) return;
  {
    MutexLock lock(mu_);
    stopping_ = false;
    dirty_ = true;  // deliver whatever was left before a restart
  }
  // Runs on committing threads: only a flag check, at most a notify.
  capture_.SetChangeListener([this] { Wake(); });
  thread_ = std::thread([this] {
    NameThisThread("sp-cdc");
    Loop();
  });
}

void KinesisConnector::Stop() {
  if (!thread_.joinable()) return;
  capture_.SetChangeListener(nullptr);
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

Status KinesisConnector::StartDestination(table::TableDef& table, std::string_view stream_arn) {
  const bool others_active = std::any_of(
      table.kinesis_destinations.begin(), table.kinesis_destinations.end(),
      [&](const table::KinesisDestination& d) { return d.active && d.stream_arn != stream_arn; });
  // Alone, the destination starts a fresh list of sources: the one changes go to now. With
  // others active the list is current already (a table from before sources keeps its change
  // log, still written: see ChangeCapture::Append).
  if (!others_active) {
    ASSIGN_OR_RETURN(table::ChangeSource source, capture_.CurrentSource(table));
    table.change_sources = {std::move(source)};
  }
  const table::ChangeSource& current = table.Sources().back();
  MutexLock deliver(deliver_mu_);
  Checkpoint start{.source = current.id, .next = 0};
  ASSIGN_OR_RETURN(std::optional<log::ShardId> shard, capture_.SourceShard(table, current));
  if (!current.in_stream() && !shard) {
    ASSIGN_OR_RETURN(log::ShardId log, capture_.EnsureChangeLog(table));
    shard = log;
  }
  if (shard) {
    ASSIGN_OR_RETURN(log::SequenceNumber high, log_.VisibleHigh(*shard));
    start.next = high.value + 1;
  }
  const std::string key = CheckpointKey(table.table_id, stream_arn);
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, key, EncodeCheckpoint(start));
  checkpoints_.erase(key);
  RETURN_IF_ERROR(db_.Commit(batch));
  checkpoints_[key] = start;
  {
    MutexLock lock(mu_);
    warned_.erase(key);
  }
  return Status::Ok();
}

Status KinesisConnector::Drain(const table::TableDef& table,
                               const table::KinesisDestination& destination) {
  for (;;) {
    ASSIGN_OR_RETURN(int64_t n, DeliverStep(table, destination, kMaxBatch));
    if (n == 0) return Status::Ok();
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
        if (n == 0) break;
        MutexLock lock(mu_);
        if (stopping_) return total;
      }
    }
  }
  return total;
}

int64_t KinesisConnector::Skip(const table::TableDef& table,
                               const table::KinesisDestination& destination, const Status& status) {
  // The stream is being deleted or resharded under us: nothing of this batch is committed;
  // the next wake-up retries from the same checkpoint.
  SPDLOG_WARN("table {}: delivering to {}: {}", table.name, destination.stream_arn,
              status.ToString());
  return 0;
}

Result<std::vector<log::Record>> KinesisConnector::ReadSource(
    const table::TableDef& table, const table::KinesisDestination& destination,
    const std::vector<table::ChangeSource>& sources,
    std::vector<table::ChangeSource>::const_iterator source, uint64_t* next, int max_records) {
  ASSIGN_OR_RETURN(std::optional<log::ShardId> shard, capture_.SourceShard(table, *source));
  if (!shard) return std::vector<log::Record>();  // nothing was ever written to it
  const log::ReadLimits limits{.max_records = max_records, .max_bytes = 8 << 20};
  Result<log::ReadResult> read = log_.Read(*shard, {*next}, limits);
  if (!read.ok() && read.status().code() == ErrorCode::kOutOfRange) {
    // Changes older than the source's retention are gone: AWS would have dropped them too.
    // Resume at the oldest retained change.
    ASSIGN_OR_RETURN(log::SequenceNumber oldest,
                     log_.Resolve(*shard, {.type = log::StartPosition::Type::kTrimHorizon}));
    SPDLOG_WARN("table {}: changes for {} trimmed before delivery", table.name,
                destination.stream_arn);
    *next = oldest.value;
    read = log_.Read(*shard, oldest, limits);
  }
  if (!read.ok() && read.status().code() == ErrorCode::kNotFound) {
    // A disabled stream deleted after its retention, its changes undelivered.
    SPDLOG_WARN("table {}: changes for {} deleted before delivery", table.name,
                destination.stream_arn);
    return std::vector<log::Record>();
  }
  RETURN_IF_ERROR(read.status());
  std::vector<log::Record> records = std::move(read->records);
  if (!source->in_stream()) {
    // A change-log source ends where the next change-log source starts.
    auto later = std::find_if(source + 1, sources.end(),
                              [](const table::ChangeSource& s) { return !s.in_stream(); });
    if (later != sources.end()) {
      while (!records.empty() && records.back().sequence.value >= later->log_from) {
        records.pop_back();
      }
    }
  }
  return records;
}

Result<int64_t> KinesisConnector::DeliverStep(const table::TableDef& table,
                                              const table::KinesisDestination& destination,
                                              int max_records) {
  MutexLock deliver(deliver_mu_);
  const std::string checkpoint_key = CheckpointKey(table.table_id, destination.stream_arn);
  Checkpoint at;
  if (auto cached = checkpoints_.find(checkpoint_key); cached != checkpoints_.end()) {
    at = cached->second;
  } else {
    ASSIGN_OR_RETURN(std::optional<std::string> checkpoint, db_.Get(kv::Cf::kMeta, checkpoint_key));
    if (!checkpoint) return 0;  // not started (StartDestination writes it before activating)
    std::string_view view = *checkpoint;
    if (!kv::ConsumeUint64(&view, &at.next) ||
        (!view.empty() && !kv::ConsumeUint64(&view, &at.source))) {
      return Status::Internal("corrupt checkpoint");
    }
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

  // The source the checkpoint is in. `table` was read before any record below, so when it
  // lists a later source, this one gets no more writes.
  const std::vector<table::ChangeSource>& sources = table.Sources();
  auto current = std::find_if(sources.begin(), sources.end(),
                              [&](const table::ChangeSource& s) { return s.id == at.source; });
  if (current == sources.end()) return Status::Internal("checkpoint of an unknown change source");
  const Checkpoint from = at;
  std::vector<log::Record> records;
  for (;;) {
    ASSIGN_OR_RETURN(records,
                     ReadSource(table, destination, sources, current, &at.next, max_records));
    if (!records.empty() || current + 1 == sources.end()) break;
    // Read to its end, and no change is written to it any more: on to the next source.
    ++current;
    at = {.source = current->id, .next = current->in_stream() ? 0 : current->log_from};
  }
  if (records.empty()) {
    if (at.source != from.source || at.next != from.next) {
      // Caught up in a later source (or past trimmed changes): keep the walk.
      kv::Batch batch = db_.NewBatch();
      batch.Put(kv::Cf::kMeta, checkpoint_key, EncodeCheckpoint(at));
      checkpoints_.erase(checkpoint_key);
      RETURN_IF_ERROR(db_.Commit(batch));
      checkpoints_[checkpoint_key] = at;
    }
    return 0;
  }

  // Format every change, then append them shard by shard (one AppendAll each: one lock, one
  // commit hook, one wake-up per shard). An item's changes all go to one shard, in log order.
  std::vector<DestinationRecordOut> outs;
  outs.reserve(records.size());
  std::vector<std::pair<log::ShardId, std::vector<log::RecordInput>>> groups;
  for (const log::Record& record : records) {
    ASSIGN_OR_RETURN(DestinationRecordOut out,
                     capture_.DestinationRecord(table, record, destination.microsecond_precision));
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
    group->second.push_back({.partition_key = out.partition_key,
                             .data = out.data,
                             .rendered_on_read = out.rendered_on_read});
  }
  for (const auto& [shard, records] : groups) {
    Result<log::SequenceNumber> appended = log_.AppendAll(batch, shard, records);
    if (!appended.ok()) return Skip(table, destination, appended.status());
  }
  const Checkpoint advanced{.source = at.source, .next = records.back().sequence.value + 1};
  batch.Put(kv::Cf::kMeta, checkpoint_key, EncodeCheckpoint(advanced));
  if (Status committed = db_.Commit(batch); !committed.ok()) {
    checkpoints_.erase(checkpoint_key);  // whatever happened, the next step reads RocksDB
    return committed;
  }
  checkpoints_[checkpoint_key] = advanced;
  return static_cast<int64_t>(records.size());
}

}  // namespace salespipe::cdc
