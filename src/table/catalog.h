#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "kv/db.h"
#include "table/attribute_value.h"

namespace salespipe::table {

// One key attribute of a table or index: name and scalar type (S, N or B).
struct KeyElement {
  std::string name;
  AttributeType type = AttributeType::kString;
};

struct KeySchema {
  KeyElement hash;
  std::optional<KeyElement> range;
};

// Persisted: append only, never renumber.
enum class ProjectionType : uint8_t { kKeysOnly = 0, kInclude = 1, kAll = 2 };

struct IndexDef {
  std::string name;
  uint64_t index_id = 0;  // RocksDB key prefix of the index's entries (kv::Cf::kIndex)
  bool local = false;     // LSI (true) or GSI (false)
  KeySchema keys;
  ProjectionType projection = ProjectionType::kAll;
  std::vector<std::string> non_key_attributes;  // for kInclude
  int64_t read_capacity = 0;   // GSI provisioned throughput (0 when on-demand)
  int64_t write_capacity = 0;
};

struct StreamSettings {
  bool enabled = false;
  std::string view_type;  // KEYS_ONLY | NEW_IMAGE | OLD_IMAGE | NEW_AND_OLD_IMAGES
};

// A Kinesis data stream the table publishes its changes to (EnableKinesisStreamingDestination).
struct KinesisDestination {
  std::string stream_arn;
  bool active = true;                  // ACTIVE; false once disabled (DISABLED)
  bool microsecond_precision = false;  // ApproximateCreationDateTimePrecision MICROSECOND
};

// Where a table keeps its changes for its Kinesis destinations from some point on
// (cdc::ChangeCapture writes them, cdc::KinesisConnector reads the sources in order). While the
// table has a DynamoDB stream, its changes are read from the stream's shard (it stores every
// change with both images); otherwise from the table's internal change log.
struct ChangeSource {
  uint64_t id = 0;           // increasing along a table's sources
  std::string stream_label;  // the DynamoDB stream of this label; empty: the change log
  uint64_t log_from = 0;     // change log: the sequence number its records of this source start at
  bool in_stream() const { return !stream_label.empty(); }
};

struct TtlSettings {
  bool enabled = false;
  std::string attribute;
};

// Everything DynamoDB knows about a table. A value: Catalog hands out immutable snapshots.
struct TableDef {
  std::string account_id;
  std::string region;
  std::string name;
  uint64_t table_id = 0;     // RocksDB key prefix of the items (kv::Cf::kItems)
  std::string table_uuid;    // TableId on the wire
  int64_t creation_millis = 0;
  KeySchema keys;
  std::map<std::string, AttributeType> attribute_definitions;
  std::string billing_mode = "PROVISIONED";  // or PAY_PER_REQUEST
  int64_t read_capacity = 0;
  int64_t write_capacity = 0;
  std::vector<IndexDef> indexes;  // GSIs and LSIs
  StreamSettings stream;
  std::string latest_stream_label;  // set when a stream was ever enabled
  std::vector<KinesisDestination> kinesis_destinations;  // in enabling order
  // Oldest first; empty means the change log from its start (tables from before sources).
  std::vector<ChangeSource> change_sources;
  TtlSettings ttl;
  std::map<std::string, std::string> tags;
  bool deletion_protection = false;
  std::string table_class = "STANDARD";

  std::string Arn() const;
  const IndexDef* FindIndex(std::string_view index_name) const;
  bool HasActiveKinesisDestination() const {
    for (const auto& d : kinesis_destinations) {
      if (d.active) return true;
    }
    return false;
  }
  // change_sources, or for a table from before sources its change log from the start (id 0).
  const std::vector<ChangeSource>& Sources() const {
    static const std::vector<ChangeSource> kChangeLogOnly(1);
    return change_sources.empty() ? kChangeLogOnly : change_sources;
  }
  // Whether the changes for the Kinesis destinations are read from the DynamoDB stream now
  // (then the change log gets none).
  bool ChangesInStream() const {
    return stream.enabled && !change_sources.empty() &&
           change_sources.back().stream_label == latest_stream_label;
  }
};

// Live counters of a table, kept in memory (recounted at start-up).
struct TableStats {
  std::atomic<int64_t> item_count{0};
  std::atomic<int64_t> size_bytes{0};
};

// A live table: its current definition and the lock that orders item operations (shared)
// against schema changes and deletion (exclusive).
class TableHandle {
 public:
  explicit TableHandle(TableDef def) : def_(std::make_shared<const TableDef>(std::move(def))) {}

  // The current definition. Thread-safe.
  std::shared_ptr<const TableDef> def() const {
    std::shared_lock lock(def_mu_);
    return def_;
  }
  void set_def(TableDef def) {
    std::unique_lock lock(def_mu_);
    def_ = std::make_shared<const TableDef>(std::move(def));
  }

  // Item operations hold this shared; UpdateTable/DeleteTable hold it exclusively.
  SharedMutex& op_mu() { return op_mu_; }
  TableStats& stats() { return stats_; }
  const TableStats& stats() const { return stats_; }
  bool deleted() const { return deleted_.load(); }
  void mark_deleted() { deleted_.store(true); }

 private:
  mutable SharedMutex def_mu_;
  std::shared_ptr<const TableDef> def_ GUARDED_BY(def_mu_);
  SharedMutex op_mu_;
  TableStats stats_;
  std::atomic<bool> deleted_{false};
};

// The set of tables of every account and region, persisted in kv::Cf::kMeta.
// Key layout (Cf::kMeta): "table/<account>/<region>/<name>" -> encoded TableDef;
// "counter/next_id" -> 8-byte big-endian next table/index id.
// Thread-safe.
class Catalog {
 public:
  // `db` must outlive this object.
  explicit Catalog(kv::Db& db);

  // Loads every table and recounts live item counts. Call once before serving.
  // Errors: kInternal on storage failure or a corrupt record.
  Status Load();

  // Errors: kNotFound "Requested resource not found: Table: <name> not found".
  Result<std::shared_ptr<TableHandle>> Get(std::string_view account, std::string_view region,
                                           std::string_view name) const;

  // Names of the tables of one account and region, sorted, starting after `exclusive_start`
  // (empty = from the beginning), at most `limit`.
  std::vector<std::string> List(std::string_view account, std::string_view region,
                                std::string_view exclusive_start, size_t limit) const;

  // Every live table of every account and region.
  std::vector<std::shared_ptr<TableHandle>> All() const;

  // A fresh id for a table or index key prefix. Thread-safe; never reused.
  Result<uint64_t> AllocateId();

  // Adds a new table. Errors: kAlreadyExists "Table already exists: <name>".
  Result<std::shared_ptr<TableHandle>> Create(TableDef def);
  // Persists a changed definition of an existing table.
  Status Save(TableHandle& handle, TableDef def);
  // Removes the table from the catalog (its items are deleted by the caller in `batch`).
  Status Remove(kv::Batch& batch, const TableDef& def);
  // Removes the in-memory entry after `Remove`'s batch committed.
  void Forget(const TableDef& def);

  // Serialization of TableDef (Persisted format, documented in catalog.cc).
  static std::string EncodeDef(const TableDef& def);
  static Result<TableDef> DecodeDef(std::string_view bytes);

 private:
  static std::string MetaKey(std::string_view account, std::string_view region,
                             std::string_view name);

  kv::Db& db_;

  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<TableHandle>, std::less<>> tables_ GUARDED_BY(mu_);
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
};

}  // namespace salespipe::table
