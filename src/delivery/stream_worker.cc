#include "delivery/stream_worker.h"

#include <algorithm>
#include <cstdio>
#include <future>
#include <limits>
#include <memory>

#include "common/crypto.h"
#include "common/logging.h"
#include "delivery/compression.h"
#include "delivery/jq.h"

namespace salespipe::delivery {
namespace {

// Per shard and step: enough for several windows of kMaxConcurrentInvocations full processor
// buffers, so that the window seldom drains between steps.
constexpr int kReadRecords = 25000;
constexpr int64_t kReadBytes = 32 << 20;
constexpr int kMaxConcurrentInvocations = 4;
// Records read but not yet dispatched are kept to this many full windows of processor buffers.
constexpr int64_t kReadAheadWindows = 2;
constexpr int kMaxActivePartitions = 500;
constexpr int64_t kMaxBackoffMillis = 30'000;
// Delivered DirectPut records are trimmed from the internal log at most this often: each trim
// is a RocksDB range deletion, and thousands of tiny ones (IntervalInSeconds 0) would slow
// reads down until compaction.
constexpr int64_t kTrimEveryMillis = 1000;
constexpr std::string_view kProcessingFailed = "processing-failed";
// AWS's error-output type for records dynamic partitioning could not place (verify).
constexpr std::string_view kPartitioningFailed = "partitioning-failed";

std::string RecordId(uint32_t shard, uint64_t sequence) {
  char text[48];
  std::snprintf(text, sizeof(text), "%020llu%06u", static_cast<unsigned long long>(sequence),
                shard);
  return text;
}

std::string SerializeKeys(const std::map<std::string, std::string>& lambda_keys,
                          const std::map<std::string, std::string>& query_keys) {
  std::string out;
  for (const auto& [k, v] : lambda_keys) out += "L" + k + '\0' + v + '\0';
  for (const auto& [k, v] : query_keys) out += "Q" + k + '\0' + v + '\0';
  return out;
}

}  // namespace

StreamWorker::StreamWorker(WorkerDeps deps, StreamDef def)
    : deps_(std::move(deps)), def_(std::move(def)) {
  Result<TimeZone> zone = TimeZone::Load(def_.destination.time_zone);
  if (zone.ok()) zone_ = std::move(zone).value();
}

StreamWorker::~StreamWorker() { Stop(false); }

std::string StreamWorker::CheckpointPrefix(std::string_view id) {
  return "firehose/cp/" + std::string(id) + "/";
}

std::string StreamWorker::CheckpointKey(std::string_view id, uint32_t shard) {
  char index[16];
  std::snprintf(index, sizeof(index), "%010u", shard);
  return CheckpointPrefix(id) + index;
}

std::string StreamWorker::EncodeCheckpoint(std::optional<uint64_t> next) {
  if (!next) return "done";
  std::string out;
  kv::AppendUint64(&out, *next);
  return out;
}

void StreamWorker::Start() {
  MutexLock lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    NameThisThread("sp-firehose");
    Loop();
  });
}

void StreamWorker::Stop(bool drain) {
  MutexLock stop_lock(stop_mu_);
  {
    MutexLock lock(mu_);
    stopping_ = true;
    drain_on_stop_ = drain;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();  // the thread drains itself: transforms never run on the caller's thread
  } else if (drain) {
    Drain();  // not running (tests, tools, a deletion after shutdown): on the caller's thread
  }
  // Without a drain, invocations still running are waited for and forgotten: their records
  // were never checkpointed, so they are delivered after the next start.
  MutexLock step_lock(step_mu_);
  AbandonInvocations();
}

void StreamWorker::Drain() {
  // Everything readable now, transformed and flushed; a failed flush leaves the records in
  // the source log (nothing is lost, they are delivered after the next start).
  for (int round = 0; round < 1000; ++round) {
    Result<StepResult> step = Step(/*force=*/true);
    if (!step.ok()) {
      SPDLOG_WARN("firehose {}: final delivery failed: {}", def_.name, step.status().ToString());
      return;
    }
    if (!step->more) break;
  }
  MutexLock step_lock(step_mu_);
  TrimDelivered(deps_.clock.NowMillis(), /*force=*/true);
}

void StreamWorker::Wake() {
  {
    MutexLock lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void StreamWorker::Update(StreamDef def) {
  {
    MutexLock lock(mu_);
    pending_def_ = std::move(def);
    woken_ = true;
  }
  cv_.notify_all();
}

std::chrono::system_clock::time_point StreamWorker::NextDeadline() const {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(next_deadline_ms_.load()));
}

void StreamWorker::Loop() {
  while (true) {
    {
      MutexLock lock(mu_);
      if (stopping_) break;
      woken_ = false;
    }
    Result<StepResult> step = Step(/*force=*/false);
    if (!step.ok()) {
      SPDLOG_ERROR("firehose {}: delivery step failed: {}", def_.name, step.status().ToString());
    }
    std::unique_lock lock(mu_);
    if (stopping_) break;
    if (!step.ok()) {
      // A storage failure: everything stays in the source log; try again in a second rather
      // than spin.
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      continue;
    }
    if (step->more) continue;
    if (woken_) continue;
    // Sleep until a buffer is due (real time: buffer intervals are wall-clock intervals) or a
    // wake-up (records, updates, stop). No polling: with nothing buffered we wait for a wake.
    int64_t deadline = next_deadline_ms_.load();
    if (deadline == 0) {
      cv_.wait(lock, [&] { return stopping_ || woken_; });
    } else {
      int64_t wait_ms = std::max<int64_t>(1, deadline - deps_.clock.NowMillis());
      cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return stopping_ || woken_; });
    }
  }
  bool drain;
  {
    MutexLock lock(mu_);
    drain = drain_on_stop_;
  }
  if (drain) Drain();
}

Status StreamWorker::LoadCheckpoints() {
  std::string prefix = CheckpointPrefix(def_.id);
  auto it = deps_.db.NewIterator(kv::Cf::kMeta, prefix, kv::PrefixSuccessor(prefix));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    std::string_view key = it->key().substr(prefix.size());
    uint32_t shard = static_cast<uint32_t>(std::stoul(std::string(key)));
    Cursor cursor;
    std::string_view value = it->value();
    if (value == "done") {
      cursor.finished = true;
    } else if (!kv::ConsumeUint64(&value, &cursor.next)) {
      return Status::Internal("corrupt delivery checkpoint");
    }
    cursors_[shard] = cursor;
  }
  RETURN_IF_ERROR(it->status());
  loaded_ = true;
  return Status::Ok();
}

bool StreamWorker::HasBuffered() const {
  return !buffers_.empty() || !error_buffers_.empty() || backup_buffer_.records > 0 ||
         checkpoint_dirty_;
}

int64_t StreamWorker::BufferedBytes() const {
  int64_t total = input_bytes_;
  for (const auto& [key, buffer] : buffers_) total += static_cast<int64_t>(buffer.body.size());
  for (const auto& [key, buffer] : error_buffers_)
    total += static_cast<int64_t>(buffer.body.size());
  return total + static_cast<int64_t>(backup_buffer_.body.size());
}

bool StreamWorker::ParentsFinished(const log::ShardInfo& shard) const {
  for (std::optional<uint32_t> parent : {shard.parent, shard.adjacent_parent}) {
    if (!parent) continue;
    auto it = cursors_.find(*parent);
    if (it == cursors_.end() || !it->second.finished) return false;
  }
  return true;
}

Result<bool> StreamWorker::ReadSources() {
  Result<log::StreamInfo> info = deps_.log.FindStream(def_.source_log);
  if (!info.ok()) {
    if (info.status().code() == ErrorCode::kNotFound) {
      source_stream_ = 0;
      return false;  // the source stream was deleted: delivery stops (spec 6.7)
    }
    return info.status();
  }
  source_stream_ = info->id.value;
  bool read_any = false;
  const int64_t now = deps_.clock.NowMillis();
  // With a processor, read ahead only a few windows' worth of records that are not in flight
  // yet: invocations finishing wake the worker to read more.
  const int64_t read_ahead =
      def_.destination.lambda
          ? kReadAheadWindows * kMaxConcurrentInvocations * def_.destination.lambda->buffer_bytes
          : std::numeric_limits<int64_t>::max();
  read_behind_ = false;
  for (const log::ShardInfo& shard : info->shards) {
    if (BufferedBytes() >= deps_.max_buffered_bytes ||
        input_bytes_ - dispatched_bytes_ >= read_ahead) {
      read_behind_ = true;
      break;
    }
    auto cursor_it = cursors_.find(shard.id.index);
    if (cursor_it == cursors_.end()) {
      // A shard without a checkpoint (a child created after delivery started) starts at its
      // beginning once all its parents are read to their end.
      if (!ParentsFinished(shard)) continue;
      Result<log::SequenceNumber> start =
          deps_.log.Resolve(shard.id, {.type = log::StartPosition::Type::kTrimHorizon});
      if (!start.ok()) continue;
      cursor_it = cursors_.emplace(shard.id.index, Cursor{.next = start->value}).first;
    }
    if (cursor_it->second.finished) continue;
    Cursor& cursor = cursor_it->second;
    Result<log::ReadResult> read = deps_.log.Read(
        shard.id, {cursor.next}, {.max_records = kReadRecords, .max_bytes = kReadBytes});
    if (!read.ok() && read.status().code() == ErrorCode::kOutOfRange) {
      // Trimmed past the checkpoint (the destination failed for longer than the retention):
      // AWS drops such data too.
      SPDLOG_WARN("firehose {}: records of shard {} expired before delivery", def_.name,
                  shard.id.index);
      Result<log::SequenceNumber> start =
          deps_.log.Resolve(shard.id, {.type = log::StartPosition::Type::kTrimHorizon});
      if (start.ok()) cursor.next = start->value;
      continue;
    }
    if (!read.ok()) continue;  // e.g. the stream went away meanwhile
    if (read->millis_behind_latest > 0 || static_cast<int>(read->records.size()) >= kReadRecords) {
      read_behind_ = true;
    }
    for (log::Record& record : read->records) {
      SourceRecord source{.shard = shard.id.index,
                          .sequence = record.sequence.value,
                          .arrival_millis = record.arrival_millis,
                          .partition_key = std::move(record.partition_key),
                          .data = std::move(record.data),
                          .record_id = RecordId(shard.id.index, record.sequence.value)};
      if (def_.kinesis_source && deps_.format_sequence) {
        source.kinesis_sequence = deps_.format_sequence(shard.id, record.sequence);
      }
      if (input_.size() == dispatched_) input_first_entry_ = now;
      input_bytes_ += static_cast<int64_t>(source.data.size());
      input_.push_back(std::move(source));
      read_any = true;
    }
    if (read->next) {
      cursor.next = read->next->value;
    } else {
      cursor.finished = true;
      checkpoint_dirty_ = true;
      read_any = true;  // children may be readable now
    }
  }
  return read_any;
}

void StreamWorker::AddError(const SourceRecord& source, const FailedRecord& failure,
                            const std::string& output_type) {
  Buffer& buffer = error_buffers_[output_type];
  const int64_t now = deps_.clock.NowMillis();
  if (buffer.records == 0) {
    buffer.oldest_arrival = source.arrival_millis;
    buffer.first_entry = now;
  }
  buffer.oldest_arrival = std::min(buffer.oldest_arrival, source.arrival_millis);
  ++buffer.records;
  buffer.body += ErrorEnvelope(
      source, failure, def_.destination.lambda ? def_.destination.lambda->function_arn : "");
}

void StreamWorker::Accept(const SourceRecord& source, std::string_view data,
                          const std::map<std::string, std::string>& lambda_keys) {
  const Destination& d = def_.destination;
  const int64_t now = deps_.clock.NowMillis();
  std::map<std::string, std::string> used_lambda, used_query;
  if (d.dynamic_partitioning) {
    auto fail = [&](std::string code, std::string message) {
      AddError(source,
               FailedRecord{.error_code = std::move(code),
                            .error_message = std::move(message),
                            .attempts = 1,
                            .attempt_ending_millis = now},
               std::string(kPartitioningFailed));
    };
    Result<PrefixInfo> info = ParsePrefix(d.prefix);
    if (!info.ok()) return fail("DynamicPartitioning.InvalidPrefix", info.status().message());
    for (const std::string& key : info->lambda_keys) {
      auto it = lambda_keys.find(key);
      if (it == lambda_keys.end()) {
        return fail("DynamicPartitioning.PartitionKeyMissing",
                    "The partition key " + key + " was not returned by the Lambda function.");
      }
      used_lambda[key] = it->second;
    }
    if (!info->query_keys.empty()) {
      Result<JqQuery> query = JqQuery::Parse(d.metadata_query);
      if (!query.ok())
        return fail("DynamicPartitioning.MetadataExtractionFailed", query.status().message());
      Result<std::map<std::string, std::string>> values = query->Evaluate(data);
      if (!values.ok()) {
        return fail("DynamicPartitioning.MetadataExtractionFailed", values.status().message());
      }
      for (const std::string& key : info->query_keys) {
        auto it = values->find(key);
        if (it == values->end()) {
          return fail("DynamicPartitioning.PartitionKeyMissing",
                      "The partition key " + key + " is not extracted by the query.");
        }
        used_query[key] = it->second;
      }
    }
  }
  std::string key = SerializeKeys(used_lambda, used_query);
  auto it = buffers_.find(key);
  if (it == buffers_.end()) {
    if (static_cast<int>(buffers_.size()) >= kMaxActivePartitions) {
      AddError(source,
               FailedRecord{.error_code = "DynamicPartitioning.ActivePartitionsLimitExceeded",
                            .error_message = "The number of active partitions exceeds 500.",
                            .attempts = 1,
                            .attempt_ending_millis = now},
               std::string(kPartitioningFailed));
      return;
    }
    it = buffers_
             .emplace(key, Buffer{.oldest_arrival = source.arrival_millis,
                                  .first_entry = now,
                                  .lambda_keys = std::move(used_lambda),
                                  .query_keys = std::move(used_query)})
             .first;
  }
  Buffer& buffer = it->second;
  buffer.oldest_arrival = std::min(buffer.oldest_arrival, source.arrival_millis);
  ++buffer.records;
  buffer.body += data;
  if (d.append_delimiter) buffer.body.push_back('\n');
}

void StreamWorker::BackUp(const SourceRecord& record) {
  if (!def_.destination.backup) return;
  if (backup_buffer_.records == 0) {
    backup_buffer_.oldest_arrival = record.arrival_millis;
    backup_buffer_.first_entry = deps_.clock.NowMillis();
  }
  backup_buffer_.oldest_arrival = std::min(backup_buffer_.oldest_arrival, record.arrival_millis);
  ++backup_buffer_.records;
  backup_buffer_.body += record.data;
}

void StreamWorker::TransformDue(bool force) {
  const Destination& d = def_.destination;
  if (!d.lambda) {
    for (const SourceRecord& record : input_) {
      BackUp(record);
      Accept(record, record.data, {});
    }
    input_.clear();
    input_bytes_ = 0;
    return;
  }
  // Firehose's concurrent invocations: one invocation per processor buffer (within Lambda's
  // 6 MB request: base64 grows records by 4/3, the buffer is at most 3 MB), up to
  // kMaxConcurrentInvocations in flight, so the function's environments run on every core.
  // The window slides across steps: while invocations run, the worker reads, applies the
  // results that arrived and flushes. Results are applied oldest first (buffers, error output
  // and checkpoints are as if sequential), and records leave input_ only when applied, so a
  // flush's checkpoints never pass a record in flight.
  const LambdaProcessor processor = *d.lambda;
  const TransformContext context{.stream_arn = def_.arn,
                                 .region = def_.region,
                                 .account = def_.account,
                                 .source_kinesis_arn = def_.kinesis_source ? def_.source_arn : ""};
  lambda::Invoker* invoker = deps_.invoker.load();
  auto dispatch = [&](bool interval_due) -> bool {
    auto batch = std::make_shared<std::vector<const SourceRecord*>>();
    int64_t bytes = 0;
    bool full = false;  // the next record would not fit
    for (size_t i = dispatched_; i < input_.size(); ++i) {
      const SourceRecord& record = input_[i];
      if (!batch->empty() &&
          bytes + static_cast<int64_t>(record.data.size()) > processor.buffer_bytes) {
        full = true;
        break;
      }
      batch->push_back(&record);
      bytes += static_cast<int64_t>(record.data.size());
    }
    full = full || bytes >= processor.buffer_bytes;
    // A partial buffer goes out when its interval is due, unless more records are readable
    // right now (a backlog): then the next read fills it first.
    if (batch->empty() || (!full && !force && (!interval_due || read_behind_))) {
      return false;  // nothing left, or the remainder waits for its own buffer
    }
    dispatched_ += batch->size();
    dispatched_bytes_ += bytes;
    auto done = std::make_shared<std::atomic<bool>>(false);
    invocations_.push_back(Invocation{
        .batch = batch,
        .bytes = bytes,
        .done = done,
        .result = std::async(std::launch::async, [this, invoker, processor, context, batch, done] {
          TransformResult result = Transform(invoker, processor, context, *batch, deps_.clock);
          done->store(true);
          Wake();
          return result;
        })});
    return true;
  };
  while (true) {
    while (!invocations_.empty() && invocations_.front().done->load()) ApplyOldestInvocation();
    const int64_t now = deps_.clock.NowMillis();
    const bool interval_due =
        force || now - input_first_entry_ >= processor.buffer_interval_seconds * 1000ll;
    // Returned invocations wait only for the older ones to be applied: the capacity counts the
    // running ones (each holds a function environment).
    int running = RunningInvocations();
    bool sent = false;
    while (running < kMaxConcurrentInvocations && dispatch(interval_due)) {
      sent = true;
      ++running;
    }
    if (sent) input_first_entry_ = now;
    if (!force || invocations_.empty()) break;
    ApplyOldestInvocation();
  }
}

void StreamWorker::ApplyOldestInvocation() {
  Invocation& oldest = invocations_.front();
  TransformResult result = oldest.result.get();
  const std::vector<const SourceRecord*>& batch = *oldest.batch;
  for (const SourceRecord* record : batch) BackUp(*record);
  for (TransformedRecord& ok : result.ok) Accept(*batch[ok.index], ok.data, ok.partition_keys);
  for (const FailedRecord& failed : result.failed) {
    AddError(*batch[failed.index], failed, std::string(kProcessingFailed));
  }
  if (result.dropped > 0) checkpoint_dirty_ = true;
  const size_t count = batch.size();
  dispatched_ -= count;
  dispatched_bytes_ -= oldest.bytes;
  invocations_.pop_front();  // the batch's pointers go with it, before their records
  for (size_t i = 0; i < count; ++i) {
    input_bytes_ -= static_cast<int64_t>(input_.front().data.size());
    input_.pop_front();
  }
}

int StreamWorker::RunningInvocations() const {
  int running = 0;
  for (const Invocation& invocation : invocations_) running += !invocation.done->load();
  return running;
}

void StreamWorker::AbandonInvocations() {
  for (Invocation& invocation : invocations_) invocation.result.wait();
  invocations_.clear();
  dispatched_ = 0;
  dispatched_bytes_ = 0;
}

void StreamWorker::AwaitInvocation() {
  MutexLock step_lock(step_mu_);
  if (!invocations_.empty()) invocations_.front().result.wait();
}

bool StreamWorker::FlushDue(bool force) const {
  if (force) return true;
  if (BufferedBytes() >= deps_.max_buffered_bytes) return true;
  const Destination& d = def_.destination;
  const int64_t now = deps_.clock.NowMillis();
  const int64_t size_limit = static_cast<int64_t>(d.buffer_size_mb) << 20;
  const int64_t interval = d.buffer_interval_seconds * 1000ll;
  for (const auto* buffers : {&buffers_, &error_buffers_}) {
    for (const auto& [key, buffer] : *buffers) {
      if (static_cast<int64_t>(buffer.body.size()) >= size_limit) return true;
      if (now - buffer.first_entry >= interval) return true;
    }
  }
  if (backup_buffer_.records > 0 &&
      (static_cast<int64_t>(backup_buffer_.body.size()) >= size_limit ||
       now - backup_buffer_.first_entry >= interval)) {
    return true;
  }
  return checkpoint_dirty_ && buffers_.empty() && error_buffers_.empty() &&
         backup_buffer_.records == 0;
}

Result<int> StreamWorker::Flush() {
  const Destination& d = def_.destination;
  const int64_t now = deps_.clock.NowMillis();
  std::string extension(d.file_extension ? std::string_view(*d.file_extension)
                                         : CompressionExtension(d.compression));
  std::vector<lake::NewObject> objects;
  auto stage = [&](const std::string& bucket, const std::string& key, const std::string& body,
                   Compression compression) -> Status {
    std::string name = key.substr(key.rfind('/') + 1);
    if (compression == Compression::kZip && name.ends_with(".zip")) name.resize(name.size() - 4);
    ASSIGN_OR_RETURN(std::string compressed, Compress(compression, body, name));
    ASSIGN_OR_RETURN(lake::StagedFile file, deps_.lake.NewStagedFile());
    RETURN_IF_ERROR(file.Append(compressed));
    objects.push_back(
        lake::NewObject{.bucket = bucket,
                        .key = key,
                        .file = std::move(file),
                        .meta = lake::ObjectMeta{.etag = "\"" + HexEncode(Md5(compressed)) + "\"",
                                                 .content_type = "application/octet-stream"}});
    return Status::Ok();
  };
  for (const auto& [partition, buffer] : buffers_) {
    PrefixContext context{.arrival_millis = buffer.oldest_arrival,
                          .lambda_keys = buffer.lambda_keys,
                          .query_keys = buffer.query_keys};
    ASSIGN_OR_RETURN(std::string prefix, EvaluatePrefix(d.prefix, d.has_prefix, context, zone_));
    std::string key =
        prefix + ObjectName(def_.name, def_.version, now, NewUuid(), extension, zone_);
    RETURN_IF_ERROR(stage(d.bucket, key, buffer.body, d.compression));
  }
  for (const auto& [type, buffer] : error_buffers_) {
    PrefixContext context{.arrival_millis = buffer.oldest_arrival, .error_output_type = type};
    ASSIGN_OR_RETURN(std::string prefix, EvaluateErrorPrefix(d.prefix, d.error_prefix,
                                                             d.has_error_prefix, context, zone_));
    std::string key =
        prefix + ObjectName(def_.name, def_.version, now, NewUuid(), extension, zone_);
    RETURN_IF_ERROR(stage(d.bucket, key, buffer.body, d.compression));
  }
  if (backup_buffer_.records > 0 && d.backup) {
    const BackupDestination& b = *d.backup;
    PrefixContext context{.arrival_millis = backup_buffer_.oldest_arrival};
    ASSIGN_OR_RETURN(std::string prefix, EvaluatePrefix(b.prefix, b.has_prefix, context, zone_));
    std::string key = prefix + ObjectName(def_.name, def_.version, now, NewUuid(),
                                          CompressionExtension(b.compression), zone_);
    RETURN_IF_ERROR(stage(b.bucket, key, backup_buffer_.body, b.compression));
  }
  // The checkpoints: per shard, the first record still waiting for the processor, else the
  // read position (everything before it is in the objects above or was dropped).
  kv::Batch batch = deps_.db.NewBatch();
  std::map<uint32_t, uint64_t> committed;  // the new checkpoints (for TrimDelivered)
  std::map<uint32_t, uint64_t> first_waiting;
  for (const SourceRecord& record : input_) first_waiting.emplace(record.shard, record.sequence);
  for (const auto& [shard, cursor] : cursors_) {
    auto waiting = first_waiting.find(shard);
    std::optional<uint64_t> next;
    if (waiting != first_waiting.end()) {
      next = waiting->second;
    } else if (!cursor.finished) {
      next = cursor.next;
    }
    batch.Put(kv::Cf::kMeta, CheckpointKey(def_.id, shard), EncodeCheckpoint(next));
    if (next) committed[shard] = *next;
  }
  const int count = static_cast<int>(objects.size());
  if (objects.empty()) {
    RETURN_IF_ERROR(deps_.db.Commit(batch));
  } else {
    Result<std::vector<lake::ObjectMeta>> stored = deps_.lake.PutObjects(std::move(objects), batch);
    if (!stored.ok()) return stored.status();
  }
  buffers_.clear();
  error_buffers_.clear();
  backup_buffer_ = Buffer{};
  checkpoint_dirty_ = false;
  // Only now, after the commit, may the delivered records leave the internal log. A Kinesis
  // source belongs to the user and keeps its own retention.
  if (!def_.kinesis_source) {
    for (const auto& [shard, next] : committed) trim_before_[shard] = next;
  }
  return count;
}

void StreamWorker::TrimDelivered(int64_t now, bool force) {
  if (trim_before_.empty() || (!force && now - last_trim_ < kTrimEveryMillis)) return;
  const uint64_t stream = source_stream_.load();
  if (stream == 0) return;
  for (const auto& [shard, before] : trim_before_) {
    Status trimmed = deps_.log.TrimBefore({log::StreamId{stream}, shard}, {before});
    if (!trimmed.ok() && trimmed.code() != ErrorCode::kNotFound) {
      SPDLOG_WARN("firehose {}: trimming delivered records failed: {}", def_.name,
                  trimmed.ToString());
    }
  }
  trim_before_.clear();
  last_trim_ = now;
}

Status StreamWorker::FlushWithBackoff(int64_t now, StepResult* out) {
  Result<int> written = Flush();
  if (written.ok()) {
    out->objects_written += *written;
    objects_written_ += *written;
    failures_in_row_ = 0;
    retry_at_ = 0;
    return Status::Ok();
  }
  ++delivery_failures_;
  if (written.status().code() != ErrorCode::kNotFound) return written.status();
  // The bucket is missing: retry with backoff, keep everything (AWS retries for 24 h).
  ++failures_in_row_;
  int64_t backoff = std::min<int64_t>(kMaxBackoffMillis, 500ll << std::min(failures_in_row_, 10));
  retry_at_ = now + backoff;
  SPDLOG_WARN("firehose {}: delivery to bucket {} failed ({}); retrying in {} ms", def_.name,
              def_.destination.bucket, written.status().message(), backoff);
  out->more = false;
  return Status::Ok();
}

Result<StreamWorker::StepResult> StreamWorker::Step(bool force) {
  MutexLock step_lock(step_mu_);
  StepResult out;
  std::optional<StreamDef> update;
  {
    MutexLock lock(mu_);
    update = pending_def_;
  }
  if (!loaded_) RETURN_IF_ERROR(LoadCheckpoints());
  const int64_t now = deps_.clock.NowMillis();
  const bool backing_off = !force && now < retry_at_;
  if (update && !backing_off) {
    // Deliver what was read under the old configuration first, then switch.
    if (!input_.empty() || HasBuffered()) {
      TransformDue(/*force=*/true);
      RETURN_IF_ERROR(FlushWithBackoff(now, &out));
    }
    if (input_.empty() && !HasBuffered()) {
      MutexLock lock(mu_);
      if (pending_def_ && pending_def_->version == update->version) pending_def_.reset();
      def_ = std::move(*update);
      Result<TimeZone> zone = TimeZone::Load(def_.destination.time_zone);
      zone_ = zone.ok() ? std::move(zone).value() : TimeZone();
    }
  }
  if (!backing_off && now >= retry_at_) {
    ASSIGN_OR_RETURN(out.more, ReadSources());
    TransformDue(force);
    if (FlushDue(force) && HasBuffered()) {
      RETURN_IF_ERROR(FlushWithBackoff(now, &out));
    }
  }
  TrimDelivered(deps_.clock.NowMillis(), /*force=*/false);
  // The next time something is due (0 = nothing buffered: wait for a wake-up).
  int64_t deadline = 0;
  auto consider = [&](int64_t at) { deadline = deadline == 0 ? at : std::min(deadline, at); };
  if (!trim_before_.empty()) consider(last_trim_ + kTrimEveryMillis);
  if (retry_at_ > 0) consider(retry_at_);
  // The processor's interval matters only for records not in flight, only while the window has
  // room (a returning invocation wakes the worker) and not while delivery backs off (nothing is
  // dispatched then: retry_at_ is the deadline).
  if (input_.size() > dispatched_ && def_.destination.lambda &&
      RunningInvocations() < kMaxConcurrentInvocations && retry_at_ <= now) {
    consider(input_first_entry_ + def_.destination.lambda->buffer_interval_seconds * 1000ll);
  }
  for (const auto* buffers : {&buffers_, &error_buffers_}) {
    for (const auto& [key, buffer] : *buffers) {
      consider(buffer.first_entry + def_.destination.buffer_interval_seconds * 1000ll);
    }
  }
  if (backup_buffer_.records > 0) {
    consider(backup_buffer_.first_entry + def_.destination.buffer_interval_seconds * 1000ll);
  }
  next_deadline_ms_ = deadline;
  out.invocations_in_flight = static_cast<int>(invocations_.size());
  // Memory bound reached without a flush (backing off): do not spin.
  if (BufferedBytes() >= deps_.max_buffered_bytes && retry_at_ > now) out.more = false;
  return out;
}

}  // namespace salespipe::delivery
