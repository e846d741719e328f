#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "delivery/object_key.h"
#include "delivery/stream_def.h"
#include "delivery/transform.h"
#include "kv/db.h"
#include "lake/lake.h"
#include "lambda/invoker.h"
#include "log/shard_log.h"

namespace salespipe::delivery {

// What a StreamWorker needs from the engine. References must outlive the worker.
struct WorkerDeps {
  kv::Db& db;
  log::ShardLog& log;
  lake::Lake& lake;
  const Clock& clock;
  const std::atomic<lambda::Invoker*>& invoker;
  // Kinesis's text of a sequence number (kinesisRecordMetadata); may be empty.
  std::function<std::string(log::ShardId, log::SequenceNumber)> format_sequence;
  int64_t max_buffered_bytes = 256ll << 20;
};

// Delivers one delivery stream: reads its source log shards from durable checkpoints
// (parents before children), runs the Lambda processor, buffers per destination partition
// and writes objects into the lake. The checkpoints advance only in the RocksDB batch that
// commits the objects (lake::Lake::PutObjects), so after a crash every source record is
// delivered exactly once: records past the checkpoint are read, transformed and buffered
// again. Buffered bytes are bounded (WorkerDeps::max_buffered_bytes): the worker stops reading
// while full and flushes.
//
// Checkpoint layout (kv::Cf::kMeta), written with the objects:
//   "firehose/cp/<stream id>/<shard index, 10 digits>" -> u64 BE next sequence number to
//                                                         deliver, or "done" (shard closed
//                                                         and fully delivered)
//
// Threading: Start() runs Step() on the worker's own thread, woken by Wake() (log listeners,
// updates) and by buffer deadlines; Step() may also be called directly by tests (not while
// started). Transforms run on that thread, never on a caller's.
class StreamWorker {
 public:
  StreamWorker(WorkerDeps deps, StreamDef def);
  ~StreamWorker();  // Stop(false)

  // Key prefix of the checkpoints of delivery stream `id`.
  static std::string CheckpointPrefix(std::string_view id);
  static std::string CheckpointKey(std::string_view id, uint32_t shard);
  static std::string EncodeCheckpoint(std::optional<uint64_t> next);  // nullopt = done

  void Start();
  // Stops the thread; with `drain`, it first delivers everything readable now (one attempt per
  // flush; what fails stays in the source log for the next start), on its own thread (on the
  // caller's if it is not running). Idempotent; concurrent calls are serialized.
  void Stop(bool drain);
  void Wake();
  // Applies `def` (an UpdateDestination) after delivering what is buffered under the old one.
  void Update(StreamDef def);

  struct StepResult {
    bool more = false;       // read records and may have more: step again at once
    int objects_written = 0;
    int invocations_in_flight = 0;  // processor invocations still running after the step
  };
  // One round: read what is readable (while under the memory bound), apply the processor
  // results that have arrived, start the invocations that are due (without waiting for them),
  // flush what is due. `force` transforms and flushes everything buffered, waiting for every
  // invocation.
  // Errors: kInternal on storage failure; delivery failures (missing bucket) are retried with
  // backoff and reported as OK with nothing written.
  Result<StepResult> Step(bool force);

  // Blocks until the oldest processor invocation in flight has returned (at once if none);
  // the next Step applies its result. For callers that step by hand (tests, tools).
  void AwaitInvocation();

  // The stream id of the source log (for log listeners), if resolved.
  uint64_t source_stream() const { return source_stream_.load(); }
  // The earliest time a buffer or the processor is due (for the thread's sleep).
  std::chrono::system_clock::time_point NextDeadline() const;
  // Counters for tests and logs.
  int64_t objects_written() const { return objects_written_.load(); }
  int64_t delivery_failures() const { return delivery_failures_.load(); }

 private:
  struct Cursor {
    uint64_t next = 0;
    bool finished = false;  // read to the end of a closed shard
  };
  struct Buffer {
    std::string body;
    int64_t oldest_arrival = 0;
    int64_t first_entry = 0;
    int64_t records = 0;
    std::map<std::string, std::string> lambda_keys;
    std::map<std::string, std::string> query_keys;
  };

  void Loop();
  // Steps with force until nothing more is readable (Stop(true)).
  void Drain();
  Status LoadCheckpoints();
  // Reads from every eligible shard; returns whether anything was read.
  Result<bool> ReadSources();
  // Moves input records through the processor: applies the results that have arrived (oldest
  // first), then starts invocations for the buffers that are due, up to
  // kMaxConcurrentInvocations in flight. With `force`, every input record, waiting for all.
  void TransformDue(bool force);
  // Applies the oldest invocation's result (waiting for it) and drops its input records.
  void ApplyOldestInvocation();
  // Waits for the invocations in flight and forgets their results: their records stay in
  // input_ (and past the checkpoints) to be invoked again.
  void AbandonInvocations();
  // Invocations in flight that have not returned yet (each holds a function environment).
  int RunningInvocations() const;
  // Puts one output record into its destination buffer (partition keys, delimiter).
  void Accept(const SourceRecord& source, std::string_view data,
              const std::map<std::string, std::string>& lambda_keys);
  // Whether every parent of `shard` has been read to its end (children come after parents).
  bool ParentsFinished(const log::ShardInfo& shard) const;
  void AddError(const SourceRecord& source, const FailedRecord& failure,
                const std::string& output_type);
  bool FlushDue(bool force) const;
  // Whether a flush has anything to write or a checkpoint to advance.
  bool HasBuffered() const;
  // Copies a source record into the backup buffer (S3BackupMode Enabled).
  void BackUp(const SourceRecord& record);
  Result<int> Flush();
  // DirectPut: deletes delivered records from the internal log, up to the committed
  // checkpoints (at most once per kTrimEveryMillis unless `force`). Failures are logged: the
  // records are then trimmed by a later call or by the log's retention.
  void TrimDelivered(int64_t now, bool force);
  // Flush; a missing bucket schedules a retry with exponential backoff instead of failing.
  Status FlushWithBackoff(int64_t now, StepResult* out);
  int64_t BufferedBytes() const;

  // Set at construction.
  WorkerDeps deps_;

  Mutex mu_;  // guards the wake-up state and pending updates
  std::condition_variable cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  bool woken_ GUARDED_BY(mu_) = false;
  bool drain_on_stop_ GUARDED_BY(mu_) = false;
  std::optional<StreamDef> pending_def_ GUARDED_BY(mu_);
  std::thread thread_;
  Mutex stop_mu_;  // serializes Stop() (the engine's shutdown and a deletion may race)

  // Owned by the stepping thread (one Step at a time: step_mu_).
  Mutex step_mu_;
  StreamDef def_;
  TimeZone zone_;
  bool loaded_ = false;
  std::map<uint32_t, Cursor> cursors_;
  // A processor invocation running on its own thread; `batch` points into input_ (a deque:
  // appending and popping other records leaves the pointers valid).
  struct Invocation {
    std::shared_ptr<std::vector<const SourceRecord*>> batch;
    int64_t bytes = 0;
    std::shared_ptr<std::atomic<bool>> done;  // set before the thread wakes the worker
    std::future<TransformResult> result;
  };
  std::deque<SourceRecord> input_;  // read, waiting for the processor (or in flight)
  int64_t input_bytes_ = 0;
  int64_t input_first_entry_ = 0;  // when the oldest record not yet dispatched was read
  std::deque<Invocation> invocations_;  // in flight, oldest first, over input_'s front
  // The last read stopped short of what is readable (limits, read-ahead, memory bound).
  bool read_behind_ = false;
  size_t dispatched_ = 0;               // input_[0, dispatched_) is in flight
  int64_t dispatched_bytes_ = 0;
  std::map<std::string, Buffer> buffers_;        // by partition (serialized keys)
  std::map<std::string, Buffer> error_buffers_;  // by error-output type
  Buffer backup_buffer_;  // source records as read (S3BackupMode Enabled)
  bool checkpoint_dirty_ = false;  // records consumed without output (dropped)
  int64_t retry_at_ = 0;          // delivery backoff: no flush before this
  int failures_in_row_ = 0;
  std::map<uint32_t, uint64_t> trim_before_;  // DirectPut: committed checkpoints to trim to
  int64_t last_trim_ = 0;
  std::atomic<int64_t> next_deadline_ms_{0};
  std::atomic<uint64_t> source_stream_{0};
  std::atomic<int64_t> objects_written_{0};
  std::atomic<int64_t> delivery_failures_{0};
};

}  // namespace salespipe::delivery
