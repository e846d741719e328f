#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "kv/db.h"
#include "log/shard_log.h"
#include "table/attribute_value.h"
#include "table/catalog.h"
#include "table/item_codec.h"
#include "table/table_store.h"

// Change data capture: turns every item change of a table into log records, in the item's own
// write batch, for DynamoDB Streams (one user-visible log stream per stream label) and for the
// table's Kinesis destinations (one internal change log per table, read by KinesisConnector).
namespace salespipe::cdc {

// One item change as a reader formats it: the images are item_codec encodings split into their
// attributes (table::SplitItem), so formatting needs no decoded table::Item.
struct Change {
  const table::KeySchema& keys;  // the table's primary key
  std::string_view region;
  std::string_view table_name;
  const std::vector<table::EncodedEntry>* old_image = nullptr;  // absent for an insert
  const std::vector<table::EncodedEntry>* new_image = nullptr;  // absent for a removal
  table::ChangeOrigin origin;
  int64_t micros = 0;  // when the change was made (epoch microseconds)
};

// The primary key attributes of `image` (those of `keys` present), by name ascending.
std::vector<table::EncodedEntry> KeyEntries(const table::KeySchema& keys,
                                            const std::vector<table::EncodedEntry>& image);

// Renders change records in AWS's wire formats (implemented by services/dynamodb_streams, so
// that the engine never writes wire JSON itself). Records are formatted when they are READ,
// not when they are written: the write path only stores the encoded change (EncodeChange).
// Implementations are thread-safe.
class RecordFormatter {
 public:
  virtual ~RecordFormatter() = default;
  // A DynamoDB Streams record (spec 3.3) for a stream of `view_type`.
  virtual std::string StreamRecord(const Change& change, std::string_view view_type,
                                   std::string_view sequence_number,
                                   std::string_view event_id) const = 0;
  // A Kinesis Data Streams for DynamoDB record (spec 5), its ApproximateCreationDateTime in
  // epoch milliseconds, or microseconds when `microseconds`.
  virtual std::string DestinationRecord(const Change& change, bool microseconds,
                                        std::string_view event_id) const = 0;
};

// Stored record layout (the `data` of a log record, the same for DynamoDB Streams and for the
// internal change log):
//   u8 kChangeMagic | u8 origin | u64 micros | u8 images (bit 0 old, bit 1 new)
//   | [u32 length | item_codec bytes] of the old image, then of the new one (those present)
// Records written before this layout (JSON formatted at write time) start with 0x00 and are
// still read.
struct StoredChange {
  std::optional<table::Item> old_item;
  std::optional<table::Item> new_item;
  table::ChangeOrigin origin = table::ChangeOrigin::kUser;
  int64_t micros = 0;
};
// The same with the images as views of item_codec encodings (no decoding).
struct EncodedChange {
  std::optional<std::string_view> old_image;
  std::optional<std::string_view> new_image;
  table::ChangeOrigin origin = table::ChangeOrigin::kUser;
  int64_t micros = 0;
};
std::string EncodeChange(const std::optional<table::Item>& old_item,
                         const std::optional<table::Item>& new_item, table::ChangeOrigin origin,
                         int64_t micros);
// The same with the new image given as its item_codec encoding (`new_encoding`, used as is
// when not empty).
std::string EncodeChange(const std::optional<table::Item>& old_item,
                         const std::optional<table::Item>& new_item, std::string_view new_encoding,
                         table::ChangeOrigin origin, int64_t micros);
// Errors: kInternal for a corrupt record.
Result<StoredChange> DecodeChange(std::string_view data);
// Splits a stored record without decoding its images (they must still be checked, e.g. by
// table::SplitItem). The views point into `data`. Errors: kInternal for a corrupt record.
Result<EncodedChange> SplitChange(std::string_view data);

// The partition key of an item's Kinesis records: 32 upper-case hex digits of the MD5 of the
// item's encoded primary key, so every change of one item goes to one shard. `image` is any
// image of the item, split by table::SplitItem.
std::string DestinationPartitionKey(const table::KeySchema& keys,
                                    const std::vector<table::EncodedEntry>& image);

// A change for a table's Kinesis destination.
struct DestinationRecordOut {
  std::string partition_key;
  // The JSON record, or (rendered_on_read) the change stored compact, which readers of the
  // Kinesis stream get as that JSON through ChangeCapture::RenderDestinationRecord.
  std::string data;
  bool rendered_on_read = false;
};

// What DynamoDB Streams shows of one stream (kept as the log stream's attributes).
struct StreamMeta {
  std::string account_id;
  std::string region;
  std::string table_name;
  uint64_t table_id = 0;
  std::string label;
  std::string view_type;
  bool enabled = true;
  int64_t created_millis = 0;
  int64_t disabled_millis = 0;  // when it was disabled (0 while enabled)
  table::KeySchema keys;

  std::string Arn() const;
};

struct StreamView {
  StreamMeta meta;
  log::StreamInfo info;
};

// The ChangeSink behind TableStore, plus the lifecycle of streams and of the internal change
// logs. Thread-safe.
//
// Log stream names (log::ShardLog namespace):
//   "ddbstream/<account>/<region>/<table>/<label>"  one per DynamoDB stream label, one shard
//                                                   (never rolled; closed when disabled)
//   "cdc/<table_id as 20 digits>"                   the table's internal change log for its
//                                                   Kinesis destinations, one shard
class ChangeCapture final : public table::ChangeSink {
 public:
  // How long a disabled stream stays readable (AWS: 24 hours).
  static constexpr int64_t kDisabledRetentionMillis = 24LL * 3600 * 1000;

  // All references must outlive this object.
  // Becomes `log`'s renderer (ShardLog::SetRenderer: the Kinesis destination records it
  // stores compact), so it must outlive reads of `log`.
  ChangeCapture(log::ShardLog& log, const Clock& clock, const RecordFormatter& formatter);
  ~ChangeCapture() override;

  // table::ChangeSink: appends the encoded change to the table's stream (stream enabled) and
  // to its change log (an active Kinesis destination whose changes are not read from the
  // stream: !table.ChangesInStream()), in `batch`. With an active destination, the change
  // listener runs after the batch commits.
  // Errors: those of log::ShardLog::Append.
  Status Append(kv::Batch& batch, const table::TableDef& table,
                const std::optional<table::Item>& old_item,
                const std::optional<table::Item>& new_item, std::string_view new_encoding,
                table::ChangeOrigin origin) override;

  // Called (on the committing thread) after a change for a Kinesis destination committed;
  // nullptr for none. The listener must be cheap and must not call back into this object.
  void SetChangeListener(std::function<void()> listener);

  // Where a table's changes for its destinations go once `next` becomes its definition (a
  // DynamoDB stream enabled or disabled): appends that source to next.change_sources when the
  // table has an active Kinesis destination. REQUIRES: the table's op_mu() is held
  // exclusively (no write in flight) until `next` is saved. Errors: kInternal.
  Status NoteStreamChange(table::TableDef& next);
  // The current source of `table`'s changes: a one-element change_sources for a destination
  // being enabled while no other is active. REQUIRES: op_mu() held exclusively.
  // Errors: kInternal.
  Result<table::ChangeSource> CurrentSource(const table::TableDef& table);
  // The log shard of `source`, one of `table`'s change sources; nullopt while it does not
  // exist yet (no change was ever written to it). Errors: kInternal.
  Result<std::optional<log::ShardId>> SourceShard(const table::TableDef& table,
                                                  const table::ChangeSource& source);

  // Brings the streams of `table` in line with its definition: creates the stream of
  // latest_stream_label while enabled, and closes every other open stream of the table
  // (a disabled stream's shard is closed and its status DISABLED). Call after every change of
  // the definition, with the table's op_mu() held exclusively. Errors: kInternal.
  Status SyncStreams(const table::TableDef& table);
  // Closes every stream of a deleted table (they stay readable as DISABLED).
  Status TableDeleted(const table::TableDef& table);

  // Streams of one account and region (enabled, and disabled ones still retained), ordered by
  // table name then label. Disabled streams past retention are deleted on the way.
  std::vector<StreamView> ListStreams(std::string_view account, std::string_view region);
  // Errors: kNotFound (unknown or past retention).
  Result<StreamView> GetStream(std::string_view account, std::string_view region,
                               std::string_view table_name, std::string_view label);
  // The stream a log shard belongs to, if it is a DynamoDB stream. Errors: kNotFound.
  Result<StreamView> GetStreamById(log::StreamId id) const;

  // The DynamoDB Streams JSON of `record`, a record of the stream `meta` describes, whose
  // SequenceNumber reads `sequence_number`. Errors: kInternal for a corrupt record.
  Result<std::string> StreamRecordJson(const StreamMeta& meta, const log::Record& record,
                                       std::string_view sequence_number) const;
  // The Kinesis record for `record` of one of `table`'s change sources: a binary change is
  // kept binary (with what rendering needs of the table, which may change or go later) and
  // rendered when read; a change stored as JSON stays JSON. Errors: kInternal (corrupt).
  Result<DestinationRecordOut> DestinationRecord(const table::TableDef& table,
                                                 const log::Record& record,
                                                 bool microseconds) const;
  // The JSON of a DestinationRecord stored compact (the Kinesis log's ShardLog::Renderer).
  // Errors: kInternal (corrupt).
  Result<std::string> RenderDestinationRecord(std::string_view stored) const;

  // The table's internal change log shard, created if needed. Errors: kInternal.
  Result<log::ShardId> EnsureChangeLog(const table::TableDef& table);
  // The table's internal change log shard, if it exists.
  std::optional<log::ShardId> FindChangeLog(uint64_t table_id) const;

  log::ShardLog& log() { return log_; }

 private:
  struct SplitImages;
  // The destination JSON of one stored change (EncodeChange) of a table.
  Result<std::string> RenderChange(const table::KeySchema& keys, std::string_view region,
                                   std::string_view table_name, uint64_t table_id,
                                   uint64_t source_sequence, std::string_view change_data,
                                   bool microseconds) const;
  static std::string StreamName(std::string_view account, std::string_view region,
                                std::string_view table, std::string_view label);
  static std::string ChangeLogName(uint64_t table_id);
  Result<log::ShardId> StreamShardFor(const table::TableDef& table);
  Status CloseStream(const StreamView& view);
  Result<StreamView> ToView(log::StreamInfo info) const;

  // Set at construction.
  log::ShardLog& log_;
  const Clock& clock_;
  const RecordFormatter& formatter_;

  mutable SharedMutex mu_;
  // table_id -> (label, open shard) of its enabled stream.
  std::map<uint64_t, std::pair<std::string, log::ShardId>> stream_shards_ GUARDED_BY(mu_);
  // table_id -> its internal change log shard.
  mutable std::map<uint64_t, log::ShardId> change_logs_ GUARDED_BY(mu_);
  std::function<void()> listener_ GUARDED_BY(mu_);
};

// JSON of StreamMeta (the log stream's attributes). Persisted: members are only added.
std::string EncodeStreamMeta(const StreamMeta& meta);
Result<StreamMeta> DecodeStreamMeta(std::string_view json);

}  // namespace salespipe::cdc
