#include "lambda/event_source_mapping.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cstdio>

#include "common/crypto.h"
#include "common/logging.h"

namespace salespipe::lambda {
namespace {

constexpr std::string_view kCheckpointRoot = "lambda/esm-checkpoint/";
// A finished shard (closed and every record delivered).
constexpr uint64_t kFinished = ~uint64_t{0};
// What one invocation may carry: under the 6 MB synchronous payload with room for the event's
// envelope (base64 grows Kinesis data by a third).
constexpr int64_t kMaxBatchBytes = 4 << 20;

bool ParentsFinished(const log::StreamInfo& stream, const log::ShardInfo& shard,
                     const std::map<uint32_t, bool>& finished) {
  for (std::optional<uint32_t> parent : {shard.parent, shard.adjacent_parent}) {
    if (!parent) continue;
    bool exists = std::any_of(stream.shards.begin(), stream.shards.end(),
                              [&](const log::ShardInfo& s) { return s.id.index == *parent; });
    if (!exists) continue;  // trimmed away: nothing left to wait for
    auto it = finished.find(*parent);
    if (it == finished.end() || !it->second) return false;
  }
  return true;
}

// The lowest sequence number a batchItemFailures response names, kFinished when it names none,
// or nullopt when the response breaks the contract (malformed, or an identifier that is not a
// record of the batch): then the whole batch failed, as on AWS.
std::optional<uint64_t> FirstFailure(const EventFormatter& formatter, const MappingConfig& mapping,
                                     const std::vector<log::Record>& records,
                                     std::string_view payload) {
  rapidjson::Document doc;
  doc.Parse(payload.data(), payload.size());
  if (doc.HasParseError()) return std::nullopt;
  if (doc.IsNull() || !doc.IsObject()) return kFinished;  // no failures reported
  auto it = doc.FindMember("batchItemFailures");
  if (it == doc.MemberEnd() || it->value.IsNull()) return kFinished;
  if (!it->value.IsArray()) return std::nullopt;
  uint64_t first = kFinished;
  for (const auto& item : it->value.GetArray()) {
    if (!item.IsObject()) return std::nullopt;
    auto id = item.FindMember("itemIdentifier");
    if (id == item.MemberEnd() || !id->value.IsString()) return std::nullopt;
    std::optional<log::SequenceNumber> sequence = formatter.ParseItemIdentifier(
        mapping, std::string_view(id->value.GetString(), id->value.GetStringLength()));
    if (!sequence) return std::nullopt;
    bool in_batch = std::ranges::binary_search(
        records, sequence->value, {}, [](const log::Record& r) { return r.sequence.value; });
    if (!in_batch) return std::nullopt;
    first = std::min(first, sequence->value);
  }
  return first;
}

}  // namespace

struct EventSourceMappings::Worker {
  std::string uuid;
  std::thread thread;
  std::condition_variable cv;
  bool dirty = true;       // guarded by mu_
  bool stopping = false;   // guarded by mu_
  uint64_t stream_id = 0;  // guarded by mu_; 0 until the stream is found
};

EventSourceMappings::EventSourceMappings(kv::Db& db, log::ShardLog& log, Invoker& invoker,
                                         const EventFormatter& formatter, const Clock& clock)
    : db_(db), log_(log), invoker_(invoker), formatter_(formatter), clock_(clock) {}

EventSourceMappings::~EventSourceMappings() { Stop(); }

std::string EventSourceMappings::MappingKey(const MappingConfig& mapping) {
  return "lambda/" + mapping.account_id + "/" + mapping.region + "/esm/" + mapping.uuid;
}

std::string EventSourceMappings::CheckpointPrefix(std::string_view uuid) {
  std::string key(kCheckpointRoot);
  key.append(uuid).append("/");
  return key;
}

std::string EventSourceMappings::CheckpointKey(std::string_view uuid, uint32_t shard) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%010u", shard);
  return CheckpointPrefix(uuid) + digits;
}

Status EventSourceMappings::Open() {
  std::unique_ptr<kv::Iterator> it = db_.NewIterator(kv::Cf::kMeta, "lambda/", "lambda0");
  MutexLock lock(mu_);
  for (it->Seek("lambda/"); it->Valid(); it->Next()) {
    if (it->key().find("/esm/") == std::string_view::npos) continue;
    ASSIGN_OR_RETURN(MappingConfig mapping, DecodeMapping(it->value()));
    mappings_[mapping.uuid] = std::move(mapping);
  }
  return it->status();
}

void EventSourceMappings::Start() {
  std::vector<MappingConfig> all;
  {
    MutexLock lock(mu_);
    if (started_) return;
    started_ = true;
    for (const auto& [uuid, mapping] : mappings_) all.push_back(mapping);
  }
  // Runs on committing threads: a few flag sets and notifies.
  listener_ = log_.AddListener([this](log::ShardId shard) {
    // Every commit of every stream lands here: skip the lock while no mapping runs.
    if (worker_count_.load(std::memory_order_acquire) == 0) return;
    MutexLock lock(mu_);
    for (auto& [uuid, worker] : workers_) {
      if (worker->stream_id == 0 || worker->stream_id == shard.stream.value) {
        if (!worker->dirty) {
          worker->dirty = true;
          worker->cv.notify_one();
        }
      }
    }
  });
  for (const MappingConfig& mapping : all) StartWorker(mapping);
}

void EventSourceMappings::Stop() {
  std::vector<std::string> uuids;
  {
    MutexLock lock(mu_);
    if (!started_) return;
    started_ = false;
    for (const auto& [uuid, worker] : workers_) uuids.push_back(uuid);
  }
  log_.RemoveListener(listener_);
  for (const std::string& uuid : uuids) StopWorker(uuid);
}

void EventSourceMappings::RequestStop() {
  MutexLock lock(mu_);
  for (auto& [uuid, worker] : workers_) {
    worker->stopping = true;
    worker->cv.notify_all();
  }
}

void EventSourceMappings::StartWorker(const MappingConfig& mapping) {
  MutexLock lock(mu_);
  if (!started_ || workers_.contains(mapping.uuid)) return;
  auto worker = std::make_unique<Worker>();
  worker->uuid = mapping.uuid;
  Worker* raw = worker.get();
  workers_[mapping.uuid] = std::move(worker);
  worker_count_.store(static_cast<int>(workers_.size()), std::memory_order_release);
  raw->thread = std::thread([this, raw] { Loop(raw); });
}

void EventSourceMappings::StopWorker(std::string_view uuid) {
  std::unique_ptr<Worker> worker;
  {
    MutexLock lock(mu_);
    auto it = workers_.find(uuid);
    if (it == workers_.end()) return;
    it->second->stopping = true;
    it->second->cv.notify_all();
    worker = std::move(it->second);
    workers_.erase(it);
    worker_count_.store(static_cast<int>(workers_.size()), std::memory_order_release);
  }
  // Waits for an invocation in progress (at most the function's timeout).
  worker->thread.join();
}

Status EventSourceMappings::Persist(const MappingConfig& mapping) {
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, MappingKey(mapping), EncodeMapping(mapping));
  return db_.Commit(batch);
}

Result<MappingConfig> EventSourceMappings::Create(MappingConfig mapping) {
  ASSIGN_OR_RETURN(log::StreamInfo stream, log_.FindStream(mapping.log_name));
  mapping.uuid = NewUuid();
  mapping.state = "Creating";
  mapping.last_modified_ms = clock_.NowMillis();
  MutexLock change(change_mu_);
  {
    MutexLock lock(mu_);
    for (const auto& [uuid, existing] : mappings_) {
      if (existing.event_source_arn == mapping.event_source_arn &&
          existing.function_arn == mapping.function_arn) {
        return Status::AlreadyExists(
            "An event source mapping with " + std::string(mapping.kind == SourceKind::kKinesis
                                                              ? "Kinesis"
                                                              : "DynamoDB") +
            " arn \" " + mapping.event_source_arn + " \" and function \" " +
            mapping.function_arn + " \" already exists. Please update or delete the existing "
            "mapping with UUID " + uuid);
      }
    }
  }
  kv::Batch batch = db_.NewBatch();
  // LATEST means the newest record at creation, not at the thread's first read.
  for (const log::ShardInfo& shard : stream.shards) {
    std::string value;
    if (!shard.open()) {
      if (mapping.starting_position != "LATEST") continue;
      kv::AppendUint64(&value, kFinished);
    } else if (mapping.starting_position == "LATEST") {
      ASSIGN_OR_RETURN(log::SequenceNumber high, log_.VisibleHigh(shard.id));
      kv::AppendUint64(&value, high.value + 1);
    } else {
      continue;
    }
    batch.Put(kv::Cf::kMeta, CheckpointKey(mapping.uuid, shard.id.index), value);
  }
  batch.Put(kv::Cf::kMeta, MappingKey(mapping), EncodeMapping(mapping));
  RETURN_IF_ERROR(db_.Commit(batch));
  {
    MutexLock lock(mu_);
    mappings_[mapping.uuid] = mapping;
  }
  StartWorker(mapping);
  return mapping;
}

Result<MappingConfig> EventSourceMappings::Get(std::string_view uuid) {
  MutexLock change(change_mu_);
  MappingConfig mapping;
  {
    MutexLock lock(mu_);
    auto it = mappings_.find(uuid);
    if (it == mappings_.end()) {
      return Status::NotFound("The resource you requested does not exist.");
    }
    mapping = it->second;
  }
  // States settle on the first read (spec: waiters must not sleep).
  std::string settled = mapping.enabled ? "Enabled" : "Disabled";
  if (mapping.state != settled) {
    mapping.state = settled;
    RETURN_IF_ERROR(Persist(mapping));
    MutexLock lock(mu_);
    auto it = mappings_.find(uuid);
    if (it != mappings_.end()) it->second.state = settled;
  }
  return mapping;
}

std::vector<MappingConfig> EventSourceMappings::List(std::string_view account_id,
                                                     std::string_view region,
                                                     std::string_view event_source_arn,
                                                     std::string_view function_arn) const {
  std::vector<MappingConfig> out;
  MutexLock lock(mu_);
  for (const auto& [uuid, mapping] : mappings_) {
    if (mapping.account_id != account_id || mapping.region != region) continue;
    if (!event_source_arn.empty() && mapping.event_source_arn != event_source_arn) continue;
    if (!function_arn.empty() && mapping.function_arn != function_arn &&
        !mapping.function_arn.starts_with(std::string(function_arn) + ":")) {
      continue;
    }
    out.push_back(mapping);
  }
  return out;
}

Result<MappingConfig> EventSourceMappings::Update(
    std::string_view uuid, const std::function<Status(MappingConfig&)>& change) {
  MutexLock serialize(change_mu_);
  MappingConfig updated;
  {
    MutexLock lock(mu_);
    auto it = mappings_.find(uuid);
    if (it == mappings_.end()) {
      return Status::NotFound("The resource you requested does not exist.");
    }
    updated = it->second;
  }
  RETURN_IF_ERROR(change(updated));
  updated.state = "Updating";
  updated.last_modified_ms = clock_.NowMillis();
  RETURN_IF_ERROR(Persist(updated));
  MutexLock lock(mu_);
  auto it = mappings_.find(uuid);
  if (it != mappings_.end()) {
    updated.last_processing_result = it->second.last_processing_result;  // the worker's
    it->second = updated;
  }
  auto worker = workers_.find(uuid);
  if (worker != workers_.end()) {
    worker->second->dirty = true;
    worker->second->cv.notify_one();
  }
  return updated;
}

Result<MappingConfig> EventSourceMappings::Delete(std::string_view uuid) {
  MappingConfig deleted;
  {
    MutexLock change(change_mu_);
    {
      MutexLock lock(mu_);
      auto it = mappings_.find(uuid);
      if (it == mappings_.end()) {
        return Status::NotFound("The resource you requested does not exist.");
      }
      deleted = it->second;
    }
    kv::Batch batch = db_.NewBatch();
    batch.Delete(kv::Cf::kMeta, MappingKey(deleted));
    std::string prefix = CheckpointPrefix(uuid);
    batch.DeleteRange(kv::Cf::kMeta, prefix, kv::PrefixSuccessor(prefix));
    RETURN_IF_ERROR(db_.Commit(batch));
    MutexLock lock(mu_);
    mappings_.erase(mappings_.find(uuid));  // present: checked under change_mu_
  }
  // Outside change_mu_: the worker may be saving a checkpoint (it finds the mapping gone).
  StopWorker(uuid);
  deleted.state = "Deleting";
  return deleted;
}

Result<std::map<uint32_t, EventSourceMappings::ShardCursor>> EventSourceMappings::LoadCursors(
    std::string_view uuid) const {
  std::map<uint32_t, ShardCursor> cursors;
  std::string prefix = CheckpointPrefix(uuid);
  std::unique_ptr<kv::Iterator> it =
      db_.NewIterator(kv::Cf::kMeta, prefix, kv::PrefixSuccessor(prefix));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    std::string_view digits = it->key().substr(prefix.size());
    uint32_t index = 0;
    for (char c : digits) index = index * 10 + static_cast<uint32_t>(c - '0');
    std::string_view value = it->value();
    uint64_t next = 0;
    if (!kv::ConsumeUint64(&value, &next)) return Status::Internal("corrupt ESM checkpoint");
    ShardCursor& cursor = cursors[index];
    if (next == kFinished) {
      cursor.finished = true;
    } else {
      cursor.next = next;
    }
  }
  RETURN_IF_ERROR(it->status());
  return cursors;
}

Status EventSourceMappings::SaveCursor(std::string_view uuid, uint32_t shard,
                                       const ShardCursor& cursor) {
  std::string value;
  kv::AppendUint64(&value, cursor.finished ? kFinished : cursor.next.value_or(0));
  kv::Batch batch = db_.NewBatch();
  // A deleted mapping must not get its checkpoints back: Delete holds change_mu_ too.
  MutexLock change(change_mu_);
  {
    MutexLock lock(mu_);
    if (!mappings_.contains(uuid)) return Status::Ok();
  }
  batch.Put(kv::Cf::kMeta, CheckpointKey(uuid, shard), value);
  return db_.Commit(batch);
}

void EventSourceMappings::SetLastResult(std::string_view uuid, std::string_view result) {
  MutexLock lock(mu_);
  auto it = mappings_.find(uuid);
  // In memory only: a restart shows the result of the first batch after it.
  if (it != mappings_.end()) it->second.last_processing_result = std::string(result);
}

void EventSourceMappings::Loop(Worker* worker) {
  std::optional<std::chrono::steady_clock::time_point> wake_at;
  Result<std::map<uint32_t, ShardCursor>> loaded = LoadCursors(worker->uuid);
  if (!loaded.ok()) {
    SPDLOG_ERROR("event source mapping {}: {}", worker->uuid, loaded.status().ToString());
    return;
  }
  std::map<uint32_t, ShardCursor> cursors = std::move(loaded).value();
  for (;;) {
    {
      std::unique_lock lock(mu_);
      auto ready = [&] { return worker->dirty || worker->stopping; };
      if (wake_at) {
        worker->cv.wait_until(lock, *wake_at, ready);
      } else {
        worker->cv.wait(lock, ready);
      }
      if (worker->stopping) return;
      worker->dirty = false;
    }
    wake_at.reset();
    for (;;) {
      MappingConfig mapping;
      {
        MutexLock lock(mu_);
        auto it = mappings_.find(worker->uuid);
        if (it == mappings_.end() || worker->stopping) return;
        mapping = it->second;
      }
      if (!mapping.enabled) break;
      Result<log::StreamInfo> stream = log_.FindStream(mapping.log_name);
      if (!stream.ok()) {
        SetLastResult(mapping.uuid, "PROBLEM: Stream not found");
        MutexLock lock(mu_);
        worker->stream_id = 0;  // a stream created under that name wakes us
        break;
      }
      {
        MutexLock lock(mu_);
        worker->stream_id = stream->id.value;
      }
      std::map<uint32_t, bool> finished;
      for (const auto& [index, cursor] : cursors) finished[index] = cursor.finished;
      int64_t progress = 0;
      for (const log::ShardInfo& shard : stream->shards) {
        ShardCursor& cursor = cursors[shard.id.index];
        if (cursor.finished || !ParentsFinished(*stream, shard, finished)) continue;
        Result<int64_t> stepped = Step(mapping, shard, cursor, &wake_at);
        if (!stepped.ok()) {
          SPDLOG_WARN("event source mapping {}: shard {}: {}", mapping.uuid, shard.id.index,
                      stepped.status().ToString());
          wake_at = std::chrono::steady_clock::now() + kRetryBackoff;
          continue;
        }
        progress += *stepped;
        MutexLock lock(mu_);
        if (worker->stopping) return;
      }
      if (progress == 0) break;
    }
  }
}

Result<int64_t> EventSourceMappings::Step(
    const MappingConfig& mapping, const log::ShardInfo& shard, ShardCursor& cursor,
    std::optional<std::chrono::steady_clock::time_point>* wake_at) {
  if (!cursor.next) {
    // No checkpoint: children of a reshard and TRIM_HORIZON start at the oldest record,
    // AT_TIMESTAMP at its time (LATEST checkpoints were written at creation).
    log::StartPosition position;
    if (!shard.parent && mapping.starting_position == "AT_TIMESTAMP") {
      position = {.type = log::StartPosition::Type::kAtTimestamp,
                  .timestamp_millis = mapping.starting_timestamp_ms};
    }
    ASSIGN_OR_RETURN(log::SequenceNumber start, log_.Resolve(shard.id, position));
    cursor.next = start.value;
  }
  const int limit = cursor.batch_limit > 0 ? cursor.batch_limit : mapping.batch_size;
  Result<log::ReadResult> read =
      log_.Read(shard.id, {*cursor.next}, {.max_records = limit, .max_bytes = kMaxBatchBytes});
  if (!read.ok() && read.status().code() == ErrorCode::kOutOfRange) {
    // Records expired before they were delivered: AWS drops them too.
    ASSIGN_OR_RETURN(log::SequenceNumber oldest, log_.Resolve(shard.id, {}));
    SPDLOG_WARN("event source mapping {}: records of shard {} expired before delivery",
                mapping.uuid, shard.id.index);
    cursor.next = oldest.value;
    read = log_.Read(shard.id, oldest, {.max_records = limit, .max_bytes = kMaxBatchBytes});
  }
  RETURN_IF_ERROR(read.status());
  std::vector<log::Record>& records = read->records;
  if (records.empty()) {
    if (!read->next) {
      cursor.finished = true;  // closed and fully delivered: its children may start
      RETURN_IF_ERROR(SaveCursor(mapping.uuid, shard.id.index, cursor));
      return 1;
    }
    return 0;
  }
  // MaximumRecordAgeInSeconds: records older than that are discarded unprocessed (AWS sends
  // them to the on-failure destination, which salespipe does not have).
  if (mapping.maximum_record_age_seconds >= 0) {
    const int64_t oldest_allowed =
        clock_.NowMillis() - int64_t{mapping.maximum_record_age_seconds} * 1000;
    size_t expired = 0;
    while (expired < records.size() && records[expired].arrival_millis < oldest_allowed) {
      ++expired;
    }
    if (expired > 0) {
      SPDLOG_WARN("event source mapping {}: shard {}: discarding {} record(s) older than {} s",
                  mapping.uuid, shard.id.index, expired, mapping.maximum_record_age_seconds);
      cursor.next = records[expired - 1].sequence.value + 1;
      cursor.failures = 0;
      cursor.batch_limit = 0;
      RETURN_IF_ERROR(SaveCursor(mapping.uuid, shard.id.index, cursor));
      return static_cast<int64_t>(expired);
    }
  }
  // MaximumBatchingWindowInSeconds: wait for a full batch until the oldest record is that old.
  if (static_cast<int>(records.size()) < limit && mapping.maximum_batching_window_seconds > 0 &&
      read->next && cursor.failures == 0) {
    int64_t due = records.front().arrival_millis +
                  int64_t{mapping.maximum_batching_window_seconds} * 1000;
    int64_t now = clock_.NowMillis();
    if (now < due) {
      auto at = std::chrono::steady_clock::now() + std::chrono::milliseconds(due - now);
      if (!*wake_at || at < **wake_at) *wake_at = at;
      return 0;
    }
  }

  InvokeRequest request{.function = mapping.function_arn,
                        .account_id = mapping.account_id,
                        .region = mapping.region,
                        .payload = formatter_.Event(mapping, shard, records),
                        .payload_is_valid_json = true};
  Result<InvokeResult> result = invoker_.Invoke(request);
  uint64_t first_failed = kFinished;
  if (!result.ok()) {
    // Once per failure streak: a deleted function would otherwise log every retry.
    if (cursor.failures == 0) {
      SPDLOG_WARN("event source mapping {}: invoking {}: {}", mapping.uuid, mapping.function_arn,
                  result.status().ToString());
    }
    first_failed = records.front().sequence.value;
  } else if (result->function_error) {
    first_failed = records.front().sequence.value;
  } else if (mapping.report_batch_item_failures) {
    std::optional<uint64_t> reported =
        FirstFailure(formatter_, mapping, records, result->payload);
    first_failed = reported.value_or(records.front().sequence.value);
  }

  if (first_failed == kFinished || first_failed > records.back().sequence.value) {
    cursor.next = records.back().sequence.value + 1;
    cursor.failures = 0;
    cursor.batch_limit = 0;
    RETURN_IF_ERROR(SaveCursor(mapping.uuid, shard.id.index, cursor));
    SetLastResult(mapping.uuid, "OK");
    return static_cast<int64_t>(records.size());
  }
  // Records before the first failure are done; the rest is retried (in order).
  int64_t done = 0;
  for (const log::Record& record : records) {
    if (record.sequence.value >= first_failed) break;
    ++done;
  }
  if (done > 0) {
    cursor.next = first_failed;
    RETURN_IF_ERROR(SaveCursor(mapping.uuid, shard.id.index, cursor));
  }
  SetLastResult(mapping.uuid, "PROBLEM: Function call failed");
  ++cursor.failures;
  int64_t failed = static_cast<int64_t>(records.size()) - done;
  if (mapping.bisect_batch_on_function_error && failed > 1) {
    cursor.batch_limit = static_cast<int>(std::max<int64_t>(1, failed / 2));
    *wake_at = std::chrono::steady_clock::now();  // retry the first half at once
    return done;
  }
  if (mapping.maximum_retry_attempts >= 0 && cursor.failures > mapping.maximum_retry_attempts) {
    SPDLOG_WARN("event source mapping {}: shard {}: dropping {} record(s) after {} retries",
                mapping.uuid, shard.id.index, failed, mapping.maximum_retry_attempts);
    cursor.next = records.back().sequence.value + 1;
    cursor.failures = 0;
    cursor.batch_limit = 0;
    RETURN_IF_ERROR(SaveCursor(mapping.uuid, shard.id.index, cursor));
    return static_cast<int64_t>(records.size());
  }
  auto at = std::chrono::steady_clock::now() + kRetryBackoff;
  if (!*wake_at || at < **wake_at) *wake_at = at;
  return done;
}

}  // namespace salespipe::lambda
