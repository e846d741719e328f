#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "kv/db.h"
#include "lambda/invoker.h"
#include "log/shard_log.h"

// Event source mappings (spec 7.4): a Kinesis stream or a DynamoDB stream feeding a function.
// Each mapping has one thread that reads its stream's shards through log::ShardLog, strictly in
// order per shard (children after their parents), invokes the function with a batch, and
// advances a durable per-shard checkpoint only after the function succeeded: at-least-once and
// in order, like AWS. Woken by ShardLog listeners; producers never wait for a function.
//
// Keys (kv::Cf::kMeta):
//   "lambda/<account>/<region>/esm/<uuid>"            -> the mapping (JSON; members only added)
//   "lambda/esm-checkpoint/<uuid>/<shard index, 10 digits>" -> u64 next sequence number, or
//                                                       u64 max when the shard is finished
namespace salespipe::lambda {

enum class SourceKind { kKinesis, kDynamoDbStream };

struct MappingConfig {
  std::string uuid;
  std::string account_id;
  std::string region;
  std::string function_arn;  // possibly qualified (":<version or alias>")
  std::string event_source_arn;
  SourceKind kind = SourceKind::kKinesis;
  std::string log_name;  // the log::ShardLog stream
  int batch_size = 100;
  int maximum_batching_window_seconds = 0;
  std::string starting_position = "LATEST";  // TRIM_HORIZON / LATEST / AT_TIMESTAMP
  int64_t starting_timestamp_ms = 0;
  bool bisect_batch_on_function_error = false;
  int maximum_retry_attempts = -1;       // -1: until the record expires
  int maximum_record_age_seconds = -1;   // older records are discarded; -1: never
  int parallelization_factor = 1;
  int tumbling_window_seconds = 0;
  bool report_batch_item_failures = false;
  bool enabled = true;
  std::string state = "Creating";  // Creating, Enabled, Disabled, Updating, Deleting
  std::string state_transition_reason = "USER_INITIATED";
  std::string last_processing_result = "No records processed";
  int64_t last_modified_ms = 0;
};

// Renders the events a function receives (wire JSON is the services' business).
class EventFormatter {
 public:
  virtual ~EventFormatter() = default;
  // {"Records":[...]} for `records` of shard `shard` (spec 7.4 shapes).
  virtual std::string Event(const MappingConfig& mapping, const log::ShardInfo& shard,
                            const std::vector<log::Record>& records) const = 0;
  // The sequence number named by a batchItemFailures itemIdentifier; nullopt if malformed.
  virtual std::optional<log::SequenceNumber> ParseItemIdentifier(
      const MappingConfig& mapping, std::string_view identifier) const = 0;
};

// Thread-safe.
class EventSourceMappings {
 public:
  // All references must outlive this object.
  EventSourceMappings(kv::Db& db, log::ShardLog& log, Invoker& invoker,
                      const EventFormatter& formatter, const Clock& clock);
  ~EventSourceMappings();  // Stop()s

  // Loads the mappings. Errors: kInternal.
  Status Open();
  // Starts / stops the mapping threads. Stop() waits for the invocations in progress.
  void Start();
  void Stop();
  // Tells the mapping threads to stop after the batch in progress, without waiting (so a
  // shutdown can end the running invocations before Stop() joins). Stop() still follows.
  void RequestStop();

  // Stores a new mapping (uuid, state and times are filled in) and sets the starting
  // checkpoints (LATEST: after the newest record of every open shard at this moment).
  // Errors: kAlreadyExists (same source and function); kNotFound (the source's log stream);
  // kInternal.
  Result<MappingConfig> Create(MappingConfig mapping);
  // The mapping; its first Get moves Creating/Updating to Enabled (or Disabled).
  // Errors: kNotFound.
  Result<MappingConfig> Get(std::string_view uuid);
  // Mappings of an account and region, optionally filtered, ordered by uuid.
  std::vector<MappingConfig> List(std::string_view account_id, std::string_view region,
                                  std::string_view event_source_arn,
                                  std::string_view function_arn) const;
  // Applies `change` and stores the mapping (state Updating until the next Get).
  // Errors: kNotFound; whatever `change` returns; kInternal.
  Result<MappingConfig> Update(std::string_view uuid,
                               const std::function<Status(MappingConfig&)>& change);
  // Removes the mapping and its checkpoints; returns it with state Deleting.
  // Errors: kNotFound; kInternal.
  Result<MappingConfig> Delete(std::string_view uuid);

  // The mapping threads wait at most this long before retrying a failed batch.
  static constexpr std::chrono::milliseconds kRetryBackoff{500};

 private:
  struct Worker;
  struct ShardCursor {
    bool finished = false;
    std::optional<uint64_t> next;  // nullopt: resolve the starting position
    int failures = 0;              // consecutive failures of the batch at `next`
    int batch_limit = 0;           // bisection: the current batch size (0 = the mapping's)
  };

  static std::string MappingKey(const MappingConfig& mapping);
  static std::string CheckpointPrefix(std::string_view uuid);
  static std::string CheckpointKey(std::string_view uuid, uint32_t shard);
  Status Persist(const MappingConfig& mapping);
  Result<std::map<uint32_t, ShardCursor>> LoadCursors(std::string_view uuid) const;
  Status SaveCursor(std::string_view uuid, uint32_t shard, const ShardCursor& cursor);
  void StartWorker(const MappingConfig& mapping);
  void StopWorker(std::string_view uuid);
  void Loop(Worker* worker);
  // One batch of one shard; returns the records delivered (a finished shard counts as one).
  // Sets *wake_at when the shard must be looked at again at a time (a failed batch's retry, a
  // batching window), not only when records arrive.
  Result<int64_t> Step(const MappingConfig& mapping, const log::ShardInfo& shard,
                       ShardCursor& cursor,
                       std::optional<std::chrono::steady_clock::time_point>* wake_at);
  void SetLastResult(std::string_view uuid, std::string_view result);

  // Set at construction.
  kv::Db& db_;
  log::ShardLog& log_;
  Invoker& invoker_;
  const EventFormatter& formatter_;
  const Clock& clock_;
  uint64_t listener_ = 0;

  // Serializes the read-modify-writes of mappings and checkpoints with their commits (never
  // held by the log listener, so producers' commits never wait for it).
  Mutex change_mu_;
  // Guards the fields below; held briefly, never across disk I/O (the log listener takes it
  // on producers' commit threads).
  mutable Mutex mu_;
  std::map<std::string, MappingConfig, std::less<>> mappings_ GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<Worker>, std::less<>> workers_ GUARDED_BY(mu_);
  bool started_ GUARDED_BY(mu_) = false;
  std::atomic<int> worker_count_ = 0;  // workers_.size(), read by the listener without mu_
};

// The persisted form. Errors: kInternal for a corrupt document.
std::string EncodeMapping(const MappingConfig& mapping);
Result<MappingConfig> DecodeMapping(std::string_view json);

}  // namespace salespipe::lambda
