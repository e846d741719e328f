#pragma once

// The one durable log engine behind DynamoDB Streams and Kinesis Data Streams:
// streams -> shards -> records, kept in kv::Cf::kLog. Engines-level only: no wire formats,
// no AWS error names. Services format ids (sequence numbers, shard ids, iterators) as AWS
// does and map the canonical error codes listed here to AWS errors.
//
// Model
//   - A stream has a unique `name` (the service namespaces it, e.g. "kinesis/<acct>/<region>/
//     orders"), a retention period, an opaque `attributes` blob the service owns (tags, view
//     type, ...), and shards.
//   - A shard is identified by (stream, index); indexes are dense per stream in creation order
//     (Kinesis shows them as shardId-000000000000). It owns an inclusive 128-bit hash-key range,
//     optional parents (split: one; merge: two), a starting sequence number and, once closed,
//     an ending sequence number. Closed shards take no appends; their records stay readable.
//   - Sequence numbers are uint64, strictly increasing within a shard, not contiguous:
//     seq = max(previous + 1, arrival_millis << kSequenceTimeShift). They therefore encode
//     arrival time, which AT_TIMESTAMP reads and the trimmer use. A child shard's sequence
//     numbers are all greater than its parents' ending sequence numbers.
//
// Visibility: Append(batch, ...) assigns a sequence number under the shard's lock and hooks
// the batch (kv::Batch::OnCommit). A record becomes visible to readers only when its batch has
// committed AND every lower sequence number of that shard has committed or been abandoned.
// Readers therefore never see a gap that later fills, even with concurrent appends in
// different batches. Abandoned numbers (batch dropped or commit failed) are never reused.
//
// Thread-safety: ShardLog is thread-safe; all methods may be called concurrently.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "kv/db.h"

namespace salespipe::log {

// ---------------------------------------------------------------------------------------------
// Ids and values

// Engine-wide stream id; never reused (a recreated stream with the same name gets a new id).
struct StreamId {
  uint64_t value = 0;
  friend auto operator<=>(const StreamId&, const StreamId&) = default;
};

// A shard: its stream and its dense per-stream index.
struct ShardId {
  StreamId stream;
  uint32_t index = 0;
  friend auto operator<=>(const ShardId&, const ShardId&) = default;
};

// A per-shard sequence number. Services format it (Kinesis: 56 digits; Streams: 21+ digits).
struct SequenceNumber {
  uint64_t value = 0;
  friend auto operator<=>(const SequenceNumber&, const SequenceNumber&) = default;
};

// seq >> kSequenceTimeShift is the arrival time in epoch milliseconds (up to 2^20 records per
// millisecond per shard before numbers run ahead of the clock).
inline constexpr int kSequenceTimeShift = 20;

// The smallest sequence number a record arriving at `epoch_millis` can have.
inline SequenceNumber SequenceAtMillis(int64_t epoch_millis) {
  return {static_cast<uint64_t>(epoch_millis < 0 ? 0 : epoch_millis) << kSequenceTimeShift};
}

// A 128-bit hash key (Kinesis: MD5 of the partition key, big-endian).
using HashKey = unsigned __int128;
inline constexpr HashKey kMaxHashKey = ~HashKey{0};

// How many leading bytes of a record's key in kv::Cf::kLog name its shard (tag, stream,
// shard index): kv::Db::Options::log_sequence_prefix_bytes.
inline constexpr size_t kShardKeyPrefixBytes = 13;

struct HashKeyRange {
  HashKey starting = 0;          // inclusive
  HashKey ending = kMaxHashKey;  // inclusive
  friend bool operator==(const HashKeyRange&, const HashKeyRange&) = default;
};

// Decimal text of `key` (e.g. "340282366920938463463374607431768211455").
std::string HashKeyToString(HashKey key);
// Parses plain decimal 0..2^128-1 (no sign, no spaces). nullopt otherwise.
std::optional<HashKey> ParseHashKey(std::string_view text);
// MD5 of `bytes` read as an unsigned 128-bit big-endian integer (AWS's partition-key hash).
HashKey HashOfPartitionKey(std::string_view bytes);
// `shard_count` equal ranges over the whole key space, as Kinesis CreateStream makes them:
// range i = [i*floor(2^128/n), (i+1)*floor(2^128/n)-1], the last ending at 2^128-1.
// REQUIRES: shard_count >= 1.
std::vector<HashKeyRange> UniformHashKeyRanges(int shard_count);

// ---------------------------------------------------------------------------------------------
// Metadata snapshots (plain values; a copy, not a live view)

struct ShardInfo {
  ShardId id;
  HashKeyRange hash_range;
  std::optional<uint32_t> parent;           // index of the parent (split) or first parent (merge)
  std::optional<uint32_t> adjacent_parent;  // index of the second parent (merge)
  SequenceNumber starting_sequence;         // lower than every record of the shard
  std::optional<SequenceNumber> ending_sequence;  // set once closed
  int64_t created_millis = 0;
  std::optional<int64_t> closed_millis;
  bool open() const { return !ending_sequence.has_value(); }
};

struct StreamInfo {
  StreamId id;
  std::string name;
  std::string attributes;  // opaque to the engine; owned by the service
  int64_t created_millis = 0;
  std::chrono::hours retention{24};
  std::vector<ShardInfo> shards;  // by index; includes closed shards until deleted
  int open_shard_count() const;
};

// ---------------------------------------------------------------------------------------------
// Records and reads

// What a writer appends. Both parts are opaque bytes.
struct RecordInput {
  std::string_view partition_key;  // Kinesis partition key; empty for DynamoDB Streams
  std::string_view data;
  // `data` is a compact form that readers get through the log's Renderer (ShardLog::SetRenderer),
  // e.g. a table's change stored binary in its Kinesis destination and read as AWS's JSON.
  bool rendered_on_read = false;
};

struct Record {
  SequenceNumber sequence;
  int64_t arrival_millis = 0;
  std::string partition_key;
  std::string data;
};

// Where a read starts. AT/AFTER take `sequence`; AT_TIMESTAMP takes `timestamp_millis`.
struct StartPosition {
  enum class Type { kTrimHorizon, kLatest, kAtSequence, kAfterSequence, kAtTimestamp };
  Type type = Type::kTrimHorizon;
  SequenceNumber sequence;
  int64_t timestamp_millis = 0;
};

struct ReadLimits {
  int max_records = 10000;               // >= 1
  int64_t max_bytes = 10 * 1024 * 1024;  // data + partition key; at least one record is returned
};

struct ReadResult {
  std::vector<Record> records;
  // Where the next read starts (the lowest sequence number it may return). Absent once the
  // shard is closed and every record up to its ending sequence number has been returned:
  // callers then stop (Kinesis/Streams: no NextShardIterator; ChildShards from StreamInfo).
  std::optional<SequenceNumber> next;
  // 0 when the read reached the newest visible record; otherwise now minus the arrival time of
  // the first record not returned.
  int64_t millis_behind_latest = 0;
};

// ---------------------------------------------------------------------------------------------
// Shard iterator tokens: opaque, URL-safe text (base64 of a versioned, checksummed binary
// holding stream, shard, start position and creation time; layout in shard_log.cc).

struct IteratorState {
  ShardId shard;
  SequenceNumber next;  // lowest sequence number the next read may return
  int64_t created_millis = 0;
};

std::string EncodeIterator(const IteratorState& state);
// Errors: kInvalidArgument "Invalid ShardIterator." for anything not produced by
// EncodeIterator (any input is safe: see iterator_fuzz_entry.h); kFailedPrecondition when
// `now_millis - created_millis > ttl` (services answer ExpiredIteratorException).
Result<IteratorState> DecodeIterator(std::string_view token, int64_t now_millis,
                                     std::chrono::milliseconds ttl);

// ---------------------------------------------------------------------------------------------

struct CreateStreamOptions {
  std::string name;  // unique among live streams
  std::string attributes;
  std::chrono::hours retention{24};
  std::vector<HashKeyRange> shards = {HashKeyRange{}};  // one open shard per range, index order
};

// A new shard for Reshard.
struct NewShard {
  HashKeyRange hash_range;
  std::optional<uint32_t> parent;
  std::optional<uint32_t> adjacent_parent;
};

class ShardLog {
 public:
  struct Options {
    // How often the background trimmer runs (Start()).
    std::chrono::milliseconds trim_interval{std::chrono::seconds(30)};
  };

  // `db` and `clock` must outlive this object. Call Open() before anything else.
  ShardLog(kv::Db& db, const Clock& clock, Options options);
  ShardLog(kv::Db& db, const Clock& clock) : ShardLog(db, clock, Options{}) {}
  ~ShardLog();  // Stops the trimmer.

  // Loads every stream and shard from disk (restart recovery). Call once.
  // Errors: kInternal on storage failure or corrupt metadata.
  Status Open();

  // Starts / stops the background retention trimmer. Stop() waits for a trim in progress.
  void Start();
  void Stop();
  // Deletes, in every shard of every stream, the records older than the stream's retention.
  // What the trimmer runs; public for tests. Errors: kInternal on storage failure.
  Status TrimOnce();
  // Deletes the records of `shard` with sequence numbers below `before`, for a consumer that
  // owns the stream and has durably consumed them (Firehose DirectPut after a committed
  // delivery). Only visible records are deleted (nothing if the newest record below `before`
  // is not visible yet); afterwards reads of trimmed positions are kOutOfRange and
  // TRIM_HORIZON moves past them, exactly as with retention trimming.
  // Errors: kNotFound (stream or shard); kInternal on storage failure.
  Status TrimBefore(ShardId shard, SequenceNumber before);

  // --- streams ------------------------------------------------------------------------------

  // Errors: kAlreadyExists if a live stream has that name; kInvalidArgument if `shards` is
  // empty; kInternal on storage failure.
  Result<StreamInfo> CreateStream(const CreateStreamOptions& options);
  // Removes the stream, its metadata and all its records. Pending appends in uncommitted
  // batches are dropped on the floor (their keys are deleted with the stream's range only if
  // they commit first; readers of a deleted stream get kNotFound either way).
  // Errors: kNotFound.
  Status DeleteStream(StreamId stream);

  // Errors: kNotFound.
  Result<StreamInfo> GetStream(StreamId stream) const;
  Result<StreamInfo> FindStream(std::string_view name) const;
  // Live streams whose name starts with `prefix`, ordered by name.
  std::vector<StreamInfo> ListStreams(std::string_view prefix) const;

  // Errors: kNotFound.
  Status SetAttributes(StreamId stream, std::string attributes);
  Status SetRetention(StreamId stream, std::chrono::hours retention);

  // --- shards -------------------------------------------------------------------------------

  // Errors: kNotFound (stream or shard).
  Result<ShardInfo> GetShard(ShardId shard) const;
  // The open shard whose hash range contains `key`. Errors: kNotFound.
  Result<ShardId> ShardForHashKey(StreamId stream, HashKey key) const;

  // Atomically closes the shards `close` (each gets ending sequence = its last assigned
  // sequence number, at least its starting one) and opens `open` (new indexes, returned in
  // order; their starting sequence numbers exceed every parent's ending). Persisted in one
  // batch. Use an empty `open` to just close shards (DynamoDB stream disable).
  // Errors: kNotFound (stream/shard); kFailedPrecondition if a shard in `close` is closed.
  Result<std::vector<ShardId>> Reshard(StreamId stream, const std::vector<uint32_t>& close,
                                       const std::vector<NewShard>& open);
  // Kinesis SplitShard: closes `shard`, opens [start, new_starting-1] and [new_starting, end].
  // Errors: kNotFound; kFailedPrecondition if closed; kInvalidArgument if `new_starting` is not
  // strictly inside the range (start < new_starting <= end).
  Result<std::vector<ShardId>> SplitShard(ShardId shard, HashKey new_starting);
  // Kinesis MergeShards: closes both and opens one child covering both ranges; `shard`
  // becomes the parent, `adjacent` the adjacent parent.
  // Errors: kNotFound; kFailedPrecondition if either is closed; kInvalidArgument if the
  // ranges are not adjacent.
  Result<ShardId> MergeShards(ShardId shard, ShardId adjacent);

  // --- writing ------------------------------------------------------------------------------

  // Adds `record` to `batch` with a new sequence number, visible once the batch commits (see
  // "Visibility" above). `batch` must be committed or dropped promptly: until then, later
  // appends to the same shard are invisible too.
  // Errors: kNotFound (stream or shard); kFailedPrecondition if the shard is closed.
  Result<SequenceNumber> Append(kv::Batch& batch, ShardId shard, const RecordInput& record);
  // Appends `records` to one shard, in order: what Append gives each (consecutive sequence
  // numbers), for one lock, one commit hook and one wake-up (Kinesis PutRecords). Returns the
  // first number; record i has first + i. Errors: as Append, with nothing appended.
  Result<SequenceNumber> AppendAll(kv::Batch& batch, ShardId shard,
                                   std::span<const RecordInput> records);
  // A batch of the log's database, and its commit (for callers that append several records,
  // e.g. Kinesis PutRecords: one batch, one commit). Commit errors: kInternal.
  kv::Batch NewBatch() { return db_.NewBatch(); }
  Status Commit(kv::Batch& batch) { return db_.Commit(batch); }
  // Commit without waiting in a write group: `done` gets the outcome, maybe on another thread
  // (kv::Db::CommitAsync). Records become visible as with Commit.
  void CommitAsync(kv::Batch batch, std::function<void(Status)> done) {
    db_.CommitAsync(std::move(batch), std::move(done));
  }
  // Appends and commits one record. Errors: as Append, plus kInternal on storage failure.
  Result<SequenceNumber> AppendAndCommit(ShardId shard, const RecordInput& record);

  // --- reading ------------------------------------------------------------------------------

  // What readers get for a record stored with RecordInput::rendered_on_read. Set once at
  // start-up, before records are read; must be thread-safe. Read's byte limit counts the
  // rendered data.
  using Renderer = std::function<Result<std::string>(std::string_view stored)>;
  void SetRenderer(Renderer renderer) { renderer_ = std::move(renderer); }

  // Resolves `position` to the lowest sequence number a read from it may return.
  // TRIM_HORIZON: the oldest retained record; LATEST: after the newest visible record;
  // AT/AFTER: that sequence number (inclusive/exclusive; the shard's starting sequence number
  // is valid even if no record has it); AT_TIMESTAMP: the first record arriving at or after
  // the timestamp (a timestamp older than the retained data resolves to TRIM_HORIZON).
  // Errors: kNotFound; kInvalidArgument if an AT/AFTER sequence number is below the shard's
  // starting sequence or above the highest one assigned; kOutOfRange if it is trimmed.
  Result<SequenceNumber> Resolve(ShardId shard, const StartPosition& position) const;

  // Reads visible records with sequence >= `from`, up to `limits`.
  // Errors: kNotFound; kOutOfRange if records at or after `from` were trimmed.
  Result<ReadResult> Read(ShardId shard, SequenceNumber from, const ReadLimits& limits) const;

  // Iterator helpers: Resolve + EncodeIterator, and DecodeIterator + Read + EncodeIterator.
  // NewIterator errors: as Resolve. ReadIterator errors: as DecodeIterator and Read; the
  // returned `next_iterator` is absent exactly when ReadResult::next is.
  Result<std::string> NewIterator(ShardId shard, const StartPosition& position) const;
  struct IteratorRead {
    ReadResult result;
    IteratorState state;  // the decoded input iterator
    std::optional<std::string> next_iterator;
  };
  Result<IteratorRead> ReadIterator(std::string_view token, std::chrono::milliseconds ttl,
                                    const ReadLimits& limits) const;

  // The highest visible sequence number of the shard (its starting sequence if none).
  Result<SequenceNumber> VisibleHigh(ShardId shard) const;

  // --- wake-ups -----------------------------------------------------------------------------

  // Blocks until the shard has a visible record with sequence >= `from`, or it is closed, or
  // it no longer exists, or `timeout` passes. Returns true if records are (probably) readable.
  // Woken by commits directly (condition variable): latency is the commit's, not a poll's.
  bool WaitForRecords(ShardId shard, SequenceNumber from, std::chrono::milliseconds timeout) const;

  // `listener` runs after records of a shard become visible (and after a shard closes), on
  // the committing thread; it must be quick and must not call back into Append/commit on the
  // same thread. Returns a handle for RemoveListener, which waits for running calls to end.
  using Listener = std::function<void(ShardId)>;
  uint64_t AddListener(Listener listener);
  void RemoveListener(uint64_t handle);

 private:
  struct ShardState;
  struct StreamState;

  static ShardInfo Snapshot(const std::shared_ptr<ShardState>& shard);
  static StreamInfo SnapshotStream(const StreamState& stream);
  Result<std::shared_ptr<StreamState>> FindState(StreamId stream) const;
  Result<std::shared_ptr<ShardState>> FindShard(ShardId shard) const;
  Status PersistStream(kv::Batch& batch, const StreamState& stream) const;
  void Publish(const std::shared_ptr<ShardState>& shard, uint64_t sequence, bool committed);
  void Notify(ShardId shard);
  Status TrimShard(const StreamState& stream, ShardState& shard, uint64_t cutoff);
  void TrimLoop();

  // Set at construction.
  kv::Db& db_;
  const Clock& clock_;
  Renderer renderer_;
  const Options options_;

  mutable SharedMutex mu_;  // guards the stream maps and stream metadata (not record data)
  std::map<uint64_t, std::shared_ptr<StreamState>> streams_ GUARDED_BY(mu_);
  std::map<std::string, uint64_t, std::less<>> names_ GUARDED_BY(mu_);
  uint64_t next_stream_id_ GUARDED_BY(mu_) = 1;

  // Bumped by every Notify. Waiters count themselves in waiters_ under wake_mu_ before they
  // check version_, so a Notify that sees no waiter can skip the lock and the wake-up (the
  // common case: every commit of every shard notifies).
  mutable Mutex wake_mu_;
  mutable std::condition_variable wake_cv_;
  std::atomic<uint64_t> version_{0};
  mutable std::atomic<int> waiters_{0};

  // Held shared while listeners run (committing threads do not serialize on it), exclusively
  // by AddListener / RemoveListener, so RemoveListener waits for running calls.
  SharedMutex listeners_mu_;
  std::map<uint64_t, Listener> listeners_ GUARDED_BY(listeners_mu_);
  uint64_t next_listener_ GUARDED_BY(listeners_mu_) = 1;

  Mutex trim_mu_;  // guards stopping_; the trimmer waits on trim_cv_
  std::condition_variable trim_cv_;
  bool stopping_ GUARDED_BY(trim_mu_) = false;
  std::thread trimmer_;
};

}  // namespace salespipe::log
