#include "delivery/delivery_engine.h"

#include <mutex>
#include <set>

#include "common/crypto.h"
#include "common/logging.h"

namespace salespipe::delivery {
namespace {

constexpr std::string_view kStreamPrefix = "firehose/s/";
constexpr std::string_view kLogPrefix = "firehose/";

Status StreamNotFound(std::string_view account, std::string_view name) {
  return Status::NotFound("Firehose " + std::string(name) + " under account " +
                          std::string(account) + " not found.");
}

Status StreamDeleting(std::string_view account, std::string_view name) {
  return Status::FailedPrecondition("Firehose " + std::string(name) + " under account " +
                                    std::string(account) + " is in DELETING state.");
}

}  // namespace

DeliveryEngine::DeliveryEngine(kv::Db& db, log::ShardLog& log, lake::Lake& lake,
                               const Clock& clock, lambda::Invoker* invoker,
                               EngineOptions options)
    : db_(db), log_(log), lake_(lake), clock_(clock), options_(std::move(options)), invoker_(invoker) {}

DeliveryEngine::~DeliveryEngine() {
  WaitForDeletions();
  if (listener_ != 0) log_.RemoveListener(listener_);
  std::map<std::string, std::shared_ptr<Entry>, std::less<>> streams;
  {
    MutexLock lock(mu_);
    streams.swap(streams_);
  }
  for (auto& [key, entry] : streams) entry->worker->Stop(false);
}

std::string DeliveryEngine::StreamKey(std::string_view account, std::string_view region,
                                      std::string_view name) {
  return std::string(kStreamPrefix) + std::string(account) + "/" + std::string(region) + "/" +
         std::string(name);
}

std::unique_ptr<StreamWorker> DeliveryEngine::NewWorker(const StreamDef& def) {
  return std::make_unique<StreamWorker>(
      WorkerDeps{.db = db_,
                 .log = log_,
                 .lake = lake_,
                 .clock = clock_,
                 .invoker = invoker_,
                 .format_sequence = options_.format_sequence,
                 .max_buffered_bytes = options_.max_buffered_bytes_per_stream},
      def);
}

Status DeliveryEngine::Open() {
  std::set<std::string> live_logs;
  {
    MutexLock lock(mu_);
    auto it = db_.NewIterator(kv::Cf::kMeta, kStreamPrefix, kv::PrefixSuccessor(kStreamPrefix));
    for (it->Seek(kStreamPrefix); it->Valid(); it->Next()) {
      ASSIGN_OR_RETURN(StreamDef def, DecodeStreamDef(it->value()));
      auto entry = std::make_shared<Entry>();
      if (!def.kinesis_source) {
        Result<log::StreamInfo> info = log_.FindStream(def.source_log);
        if (!info.ok()) {
          // Created but the log is missing (cannot happen: the log is created first); recreate
          // it empty rather than lose the stream.
          ASSIGN_OR_RETURN(info, log_.CreateStream({.name = def.source_log}));
        }
        entry->direct_shard = log::ShardId{info->id, 0};
        live_logs.insert(def.source_log);
      }
      entry->worker = NewWorker(def);
      entry->deleting = def.deleting;
      entry->def = std::move(def);
      {
        std::unique_lock watch(watch_mu_);
        watched_[std::string(it->key())] = entry->worker.get();
      }
      streams_.emplace(std::string(it->key()), std::move(entry));
    }
    RETURN_IF_ERROR(it->status());
  }
  // Internal logs of streams whose creation did not commit (a crash between the two steps).
  for (const log::StreamInfo& info : log_.ListStreams(kLogPrefix)) {
    if (info.name.starts_with(kStreamPrefix)) continue;
    if (!live_logs.contains(info.name)) log_.DeleteStream(info.id).IgnoreError();  // best effort
  }
  listener_ = log_.AddListener([this](log::ShardId shard) { OnLogCommit(shard); });
  return Status::Ok();
}

void DeliveryEngine::OnLogCommit(log::ShardId shard) {
  std::shared_lock lock(watch_mu_);
  for (const auto& [key, worker] : watched_) {
    uint64_t source = worker->source_stream();
    // 0: not resolved yet (the worker resolves it on its first step): wake it too.
    if (source == shard.stream.value || source == 0) worker->Wake();
  }
}

void DeliveryEngine::Start() {
  MutexLock lock(mu_);
  if (started_) return;
  started_ = true;
  for (auto& [key, entry] : streams_) {
    if (entry->def.deleting) {
      BeginDeletion(key, entry);  // accepted before a restart: finish it
    } else {
      entry->worker->Start();
    }
  }
}

void DeliveryEngine::Stop() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    MutexLock lock(mu_);
    if (!started_) return;
    started_ = false;
    for (auto& [key, entry] : streams_) {
      if (!entry->def.deleting) entries.push_back(entry);  // deletions drain their own
    }
  }
  // Flush on shutdown: each worker delivers what it has buffered.
  for (auto& entry : entries) entry->worker->Stop(/*drain=*/true);
  WaitForDeletions();
}

void DeliveryEngine::WaitForDeletions() {
  std::vector<Deletion> deletions;
  {
    MutexLock lock(mu_);
    deletions.swap(deletions_);
  }
  for (Deletion& deletion : deletions) deletion.thread.join();
}

Result<std::shared_ptr<DeliveryEngine::Entry>> DeliveryEngine::Find(std::string_view account,
                                                                   std::string_view region,
                                                                   std::string_view name) const {
  MutexLock lock(mu_);
  auto it = streams_.find(StreamKey(account, region, name));
  if (it == streams_.end()) {
    return StreamNotFound(account, name);
  }
  return it->second;
}

Result<StreamDef> DeliveryEngine::CreateStream(StreamDef def) {
  MutexLock lock(mu_);
  std::string key = StreamKey(def.account, def.region, def.name);
  if (streams_.contains(key)) {
    return Status::AlreadyExists("Firehose " + def.name + " under account " + def.account +
                                 " already exists.");
  }
  def.id = NewUuid();
  def.created_millis = def.updated_millis = clock_.NowMillis();
  def.version = 1;
  auto entry = std::make_shared<Entry>();
  kv::Batch batch = db_.NewBatch();
  if (def.kinesis_source) {
    ASSIGN_OR_RETURN(log::StreamInfo source, log_.FindStream(def.source_log));
    def.delivery_start_millis = def.created_millis;
    // LATEST as of creation for open shards; closed shards hold nothing new.
    for (const log::ShardInfo& shard : source.shards) {
      std::optional<uint64_t> next;
      if (shard.open()) {
        ASSIGN_OR_RETURN(log::SequenceNumber latest,
                         log_.Resolve(shard.id, {.type = log::StartPosition::Type::kLatest}));
        next = latest.value;
      }
      batch.Put(kv::Cf::kMeta, StreamWorker::CheckpointKey(def.id, shard.id.index),
                StreamWorker::EncodeCheckpoint(next));
    }
  } else {
    def.source_log = std::string(kLogPrefix) + def.id;
    ASSIGN_OR_RETURN(log::StreamInfo info, log_.CreateStream({.name = def.source_log}));
    entry->direct_shard = log::ShardId{info.id, 0};
  }
  batch.Put(kv::Cf::kMeta, key, EncodeStreamDef(def));
  Status committed = db_.Commit(batch);
  if (!committed.ok()) {
    if (entry->direct_shard) log_.DeleteStream(entry->direct_shard->stream).IgnoreError();
    return committed;
  }
  entry->def = def;
  entry->worker = NewWorker(def);
  {
    std::unique_lock watch(watch_mu_);
    watched_[key] = entry->worker.get();
  }
  if (started_) entry->worker->Start();
  streams_.emplace(key, std::move(entry));
  return def;
}

Result<StreamDef> DeliveryEngine::GetStream(std::string_view account, std::string_view region,
                                            std::string_view name) const {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(account, region, name));
  MutexLock lock(mu_);
  return entry->def;
}

std::vector<StreamDef> DeliveryEngine::ListStreams(std::string_view account,
                                                   std::string_view region) const {
  std::string prefix = StreamKey(account, region, "");
  std::vector<StreamDef> out;
  MutexLock lock(mu_);
  for (auto it = streams_.lower_bound(prefix); it != streams_.end() && it->first.starts_with(prefix);
       ++it) {
    out.push_back(it->second->def);
  }
  return out;
}

Status DeliveryEngine::DeleteStream(std::string_view account, std::string_view region,
                                    std::string_view name) {
  MutexLock lock(mu_);
  std::string key = StreamKey(account, region, name);
  auto it = streams_.find(key);
  if (it == streams_.end()) {
    return StreamNotFound(account, name);
  }
  std::shared_ptr<Entry> entry = it->second;
  if (entry->def.deleting) return Status::Ok();
  // Durable before the answer: after a crash, Start() finishes the deletion.
  StreamDef def = entry->def;
  def.deleting = true;
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, key, EncodeStreamDef(def));
  RETURN_IF_ERROR(db_.Commit(batch));
  entry->def = std::move(def);
  entry->deleting = true;
  BeginDeletion(key, std::move(entry));
  return Status::Ok();
}

void DeliveryEngine::BeginDeletion(const std::string& key, std::shared_ptr<Entry> entry) {
  // Reap finished deletions so that their threads do not pile up.
  std::erase_if(deletions_, [](Deletion& deletion) {
    if (!deletion.done->load()) return false;
    deletion.thread.join();
    return true;
  });
  auto done = std::make_shared<std::atomic<bool>>(false);
  deletions_.push_back(Deletion{
      .thread = std::thread([this, key, entry = std::move(entry), done] {
        FinishDeletion(key, entry);
        done->store(true);
      }),
      .done = done});
}

void DeliveryEngine::FinishDeletion(const std::string& key, const std::shared_ptr<Entry>& entry) {
  {
    std::unique_lock watch(watch_mu_);
    watched_.erase(key);
  }
  // No PutRecords is in flight any more (they hold put_mu shared through their commit), and
  // none starts (they see `deleting`): the drain below sees every acknowledged record.
  std::unique_lock puts(entry->put_mu);
  entry->worker->Stop(/*drain=*/true);  // on the worker's own thread (never an io thread)
  kv::Batch batch = db_.NewBatch();
  batch.Delete(kv::Cf::kMeta, key);
  std::string prefix = StreamWorker::CheckpointPrefix(entry->def.id);
  batch.DeleteRange(kv::Cf::kMeta, prefix, kv::PrefixSuccessor(prefix));
  Status committed = db_.Commit(batch);
  if (!committed.ok()) {
    // The stream stays DELETING; the next start tries again.
    SPDLOG_ERROR("firehose {}: deletion failed: {}", entry->def.name, committed.ToString());
    return;
  }
  if (entry->direct_shard) {
    log_.DeleteStream(entry->direct_shard->stream).IgnoreError();  // Open() removes leftovers
  }
  MutexLock lock(mu_);
  auto it = streams_.find(key);
  if (it != streams_.end() && it->second == entry) streams_.erase(it);
}

Result<StreamDef> DeliveryEngine::UpdateDestination(std::string_view account,
                                                    std::string_view region,
                                                    std::string_view name,
                                                    int64_t expected_version,
                                                    Destination destination,
                                                    std::string attributes) {
  MutexLock lock(mu_);
  auto it = streams_.find(StreamKey(account, region, name));
  if (it == streams_.end()) {
    return StreamNotFound(account, name);
  }
  Entry& entry = *it->second;
  if (entry.def.deleting) return StreamDeleting(account, name);
  if (entry.def.version != expected_version) {
    return Status::Aborted("Version id " + std::to_string(expected_version) +
                           " does not match the current version id " +
                           std::to_string(entry.def.version) + " of delivery stream " +
                           std::string(name) + ".");
  }
  StreamDef def = entry.def;
  def.destination = std::move(destination);
  def.attributes = std::move(attributes);
  def.version += 1;
  def.updated_millis = clock_.NowMillis();
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, it->first, EncodeStreamDef(def));
  RETURN_IF_ERROR(db_.Commit(batch));
  entry.def = def;
  entry.worker->Update(def);
  return def;
}

Status DeliveryEngine::SetAttributes(std::string_view account, std::string_view region,
                                     std::string_view name, std::string attributes) {
  MutexLock lock(mu_);
  auto it = streams_.find(StreamKey(account, region, name));
  if (it == streams_.end()) {
    return StreamNotFound(account, name);
  }
  if (it->second->def.deleting) return StreamDeleting(account, name);
  StreamDef def = it->second->def;
  def.attributes = std::move(attributes);
  kv::Batch batch = db_.NewBatch();
  batch.Put(kv::Cf::kMeta, it->first, EncodeStreamDef(def));
  RETURN_IF_ERROR(db_.Commit(batch));
  it->second->def = std::move(def);
  return Status::Ok();
}

Result<std::vector<std::string>> DeliveryEngine::PutRecords(
    std::string_view account, std::string_view region, std::string_view name,
    const std::vector<std::string_view>& records) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(account, region, name));
  if (!entry->direct_shard) {
    return Status::FailedPrecondition(
        "This operation is not permitted on KinesisStreamAsSource delivery stream type.");
  }
  std::shared_lock puts(entry->put_mu, std::try_to_lock);
  if (!puts.owns_lock() || entry->deleting.load()) {
    return StreamNotFound(account, name);
  }
  kv::Batch batch = log_.NewBatch();
  std::vector<std::string> ids;
  ids.reserve(records.size());
  const std::string id_prefix = HexEncode(Md5(entry->def.id)).substr(0, 16);
  for (std::string_view data : records) {
    ASSIGN_OR_RETURN(log::SequenceNumber seq,
                     log_.Append(batch, *entry->direct_shard, {.partition_key = "", .data = data}));
    // Opaque to clients; unique within the stream.
    ids.push_back(id_prefix + std::to_string(seq.value));
  }
  RETURN_IF_ERROR(log_.Commit(batch));
  return ids;
}

Status DeliveryEngine::FlushNow(std::string_view account, std::string_view region,
                                std::string_view name) {
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Find(account, region, name));
  for (int round = 0; round < 1000; ++round) {
    ASSIGN_OR_RETURN(StreamWorker::StepResult step, entry->worker->Step(/*force=*/true));
    if (!step.more) break;
  }
  return Status::Ok();
}

StreamWorker* DeliveryEngine::worker(std::string_view account, std::string_view region,
                                     std::string_view name) {
  Result<std::shared_ptr<Entry>> entry = Find(account, region, name);
  return entry.ok() ? (*entry)->worker.get() : nullptr;
}

}  // namespace salespipe::delivery
