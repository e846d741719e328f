#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "delivery/stream_def.h"
#include "delivery/stream_worker.h"
#include "kv/db.h"
#include "lake/lake.h"
#include "lambda/invoker.h"
#include "log/shard_log.h"

// Firehose's engine: delivery streams (persisted in RocksDB), DirectPut records made durable
// in an internal log before they are acknowledged, and one StreamWorker per stream that
// delivers them (or a Kinesis stream's records) into the lake exactly once.
//
// Layout (kv::Cf::kMeta):
//   "firehose/s/<account>/<region>/<name>" -> EncodeStreamDef (stream_def.h)
//   "firehose/cp/<id>/..."                  -> checkpoints (stream_worker.h)
// DirectPut records live in the log::ShardLog stream "firehose/<id>" (one shard, 24 h
// retention, as long as AWS keeps undeliverable data).
namespace salespipe::delivery {

struct EngineOptions {
  // Kinesis's text of a sequence number (for kinesisRecordMetadata); may be empty.
  std::function<std::string(log::ShardId, log::SequenceNumber)> format_sequence;
  int64_t max_buffered_bytes_per_stream = 256ll << 20;
};

// Thread-safe.
class DeliveryEngine {
 public:
  // All references must outlive the engine. `invoker` may be null (set_invoker later).
  DeliveryEngine(kv::Db& db, log::ShardLog& log, lake::Lake& lake, const Clock& clock,
                 lambda::Invoker* invoker, EngineOptions options);
  ~DeliveryEngine();  // Stop(false)

  // Loads the delivery streams (restart recovery). Call once, after the ShardLog is open.
  // Errors: kInternal on storage failure.
  Status Open();
  // Starts the workers; Stop() stops them and delivers what is buffered (flush on shutdown).
  void Start();
  void Stop();
  // The function runner for Lambda processors (null: transforms fail as ResourceNotFound).
  void set_invoker(lambda::Invoker* invoker) { invoker_.store(invoker); }

  // Creates a stream. The service fills account, region, name, arn, destination, attributes
  // and, for a Kinesis source, kinesis_source, source_log and source_arn; the engine fills id,
  // times, version and (DirectPut) source_log. A Kinesis source is read from LATEST as of now.
  // Errors: kAlreadyExists; kNotFound if the Kinesis source stream does not exist; kInternal.
  Result<StreamDef> CreateStream(StreamDef def);
  // Errors: kNotFound.
  Result<StreamDef> GetStream(std::string_view account, std::string_view region,
                              std::string_view name) const;
  // The streams of an account and region, by name.
  std::vector<StreamDef> ListStreams(std::string_view account, std::string_view region) const;
  // Marks the stream DELETING (durably: a restart finishes the job) and returns at once, as
  // AWS does; a background thread then delivers what is readable (drain, on the worker's own
  // thread), removes the stream, its checkpoints and its internal log. Until then GetStream
  // and ListStreams show it with `deleting`; PutRecords answers kNotFound. Deleting a stream
  // that is already DELETING is a no-op. Errors: kNotFound; kInternal.
  Status DeleteStream(std::string_view account, std::string_view region, std::string_view name);
  // Waits until every deletion begun so far has finished (tests; Stop()).
  void WaitForDeletions();
  // Replaces the destination (and attributes) when `expected_version` is the current version;
  // the version becomes +1. Buffered records are delivered under the old destination first.
  // Errors: kNotFound; kAborted on a version mismatch; kFailedPrecondition while DELETING;
  // kInternal.
  Result<StreamDef> UpdateDestination(std::string_view account, std::string_view region,
                                      std::string_view name, int64_t expected_version,
                                      Destination destination, std::string attributes);
  // Replaces the service-owned attributes (tags, encryption). Errors: kNotFound;
  // kFailedPrecondition while DELETING; kInternal.
  Status SetAttributes(std::string_view account, std::string_view region, std::string_view name,
                       std::string attributes);

  // Appends DirectPut records durably (one RocksDB commit) and returns their record ids, in
  // order. Errors: kNotFound; kFailedPrecondition for a Kinesis-sourced stream; kInternal.
  Result<std::vector<std::string>> PutRecords(std::string_view account, std::string_view region,
                                              std::string_view name,
                                              const std::vector<std::string_view>& records);

  // Delivers everything buffered now on the caller's thread (admin "flush now", tests); may
  // invoke Lambda processors. Errors: kNotFound; as StreamWorker::Step.
  Status FlushNow(std::string_view account, std::string_view region, std::string_view name);

  // The worker of a stream (tests). nullptr if unknown.
  StreamWorker* worker(std::string_view account, std::string_view region, std::string_view name);

 private:
  struct Entry {
    StreamDef def;
    std::optional<log::ShardId> direct_shard;
    std::unique_ptr<StreamWorker> worker;
    std::shared_mutex put_mu;  // PutRecords shared; the deletion exclusive
    std::atomic<bool> deleting{false};  // mirrors def.deleting for PutRecords (no mu_)
  };
  // A deletion in progress: its thread and whether it has finished (for reaping).
  struct Deletion {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  static std::string StreamKey(std::string_view account, std::string_view region,
                               std::string_view name);
  std::unique_ptr<StreamWorker> NewWorker(const StreamDef& def);
  Result<std::shared_ptr<Entry>> Find(std::string_view account, std::string_view region,
                                      std::string_view name) const;
  void OnLogCommit(log::ShardId shard);
  // Starts the background deletion of `entry` (stored under `key`). REQUIRES: mu_ held.
  void BeginDeletion(const std::string& key, std::shared_ptr<Entry> entry) REQUIRES(mu_);
  // The deletion itself (its own thread): drain, then remove everything.
  void FinishDeletion(const std::string& key, const std::shared_ptr<Entry>& entry);

  // Set at construction.
  kv::Db& db_;
  log::ShardLog& log_;
  lake::Lake& lake_;
  const Clock& clock_;
  const EngineOptions options_;
  std::atomic<lambda::Invoker*> invoker_;
  uint64_t listener_ = 0;

  mutable Mutex mu_;  // guards streams_, started_; serializes control-plane changes
  std::map<std::string, std::shared_ptr<Entry>, std::less<>> streams_ GUARDED_BY(mu_);
  bool started_ GUARDED_BY(mu_) = false;
  std::vector<Deletion> deletions_ GUARDED_BY(mu_);

  // The workers log listeners wake (held only briefly: listeners run on committing threads).
  mutable SharedMutex watch_mu_;
  std::map<std::string, StreamWorker*> watched_ GUARDED_BY(watch_mu_);
};

}  // namespace salespipe::delivery
