#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "kv/db.h"
#include "table/attribute_value.h"
#include "table/catalog.h"

namespace salespipe::table {

class Condition;
class Update;

// Where a change came from (DynamoDB Streams shows TTL deletions with a service identity).
enum class ChangeOrigin { kUser, kTtl };

// Receives every item change inside the write batch that makes it (the streams issue
// implements this), so a change record exists if and only if the write does.
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  // Called only for writes that change the item. `old_item`/`new_item` are absent for
  // inserts/removals; `new_encoding` is EncodeItem(*new_item) as stored (empty without a new
  // item), so the sink need not encode it again. Errors abort the whole write.
  virtual Status Append(kv::Batch& batch, const TableDef& table,
                        const std::optional<Item>& old_item, const std::optional<Item>& new_item,
                        std::string_view new_encoding, ChangeOrigin origin) = 0;
};

// The result of one conditional write.
struct WriteOutcome {
  bool condition_failed = false;  // nothing was written
  std::optional<Item> old_item;   // the item before (also when the condition failed)
  std::optional<Item> new_item;   // the item after (absent after a delete)
};

// A condition on the sort key of a Query.
struct SortKeyCondition {
  enum class Op { kEq, kLt, kLe, kGt, kGe, kBetween, kBeginsWith };
  Op op = Op::kEq;
  std::vector<AttributeValue> values;  // one, or two for kBetween
};

struct QuerySpec {
  const IndexDef* index = nullptr;  // nullptr: the table itself
  AttributeValue hash_value;
  std::optional<SortKeyCondition> range;
  bool forward = true;
  std::optional<Item> exclusive_start_key;
  int64_t limit = 0;                  // items evaluated; 0 = no limit
  const Condition* filter = nullptr;  // applied after the limit, as DynamoDB does
  // For a local index whose projection lacks attributes the caller needs: read each item from
  // the table (DynamoDB "fetches" them, at extra read cost).
  bool fetch_from_table = false;
};

struct ScanSpec {
  const IndexDef* index = nullptr;
  std::optional<Item> exclusive_start_key;
  int64_t limit = 0;
  const Condition* filter = nullptr;
  int segment = 0;
  int total_segments = 1;
  bool fetch_from_table = false;  // as QuerySpec
};

struct Page {
  std::vector<Item> items;       // matched the filter
  int64_t scanned_count = 0;     // evaluated before the filter
  int64_t bytes_read = 0;        // encoded bytes read (for capacity units)
  std::optional<Item> last_evaluated_key;
};

// One action of TransactWriteItems.
struct TransactWriteOp {
  enum class Kind { kPut, kUpdate, kDelete, kConditionCheck };
  Kind kind = Kind::kPut;
  std::shared_ptr<TableHandle> table;
  Item item;  // the item (kPut) or its key (others)
  const Condition* condition = nullptr;
  const Update* update = nullptr;  // kUpdate only
};

// Items, secondary indexes and their change records on top of kv::Db.
// Each write is one atomic RocksDB batch holding the item, its index entries and the change
// record. Writes to one item are serialized by a striped lock so conditions are exact.
// Thread-safe.
//
// Key layout:
//   Cf::kItems  TableId(8) | KeyPart(hash) [| KeyPart(range)]          -> EncodeItem(item)
//   Cf::kIndex  IndexId(8) | KeyPart(index hash) [| KeyPart(index range)]
//                          | KeyPart(table hash) [| KeyPart(table range)] -> EncodeItem(projection)
// KeyPart is table/key_codec.h's order-preserving encoding.
class TableStore {
 public:
  // `db`, `catalog` and `clock` must outlive this object; `sink` may be null.
  TableStore(kv::Db& db, Catalog& catalog, const Clock& clock, ChangeSink* sink = nullptr);

  void set_change_sink(ChangeSink* sink) { sink_ = sink; }

  // Checks that `key` holds exactly the table's key attributes with the right types.
  // Errors: kInvalidArgument with DynamoDB's messages.
  static Status ValidateKey(const TableDef& table, const Item& key);
  // Checks an item's key attributes (present, typed, non-empty, sized) and its index keys.
  static Status ValidateItem(const TableDef& table, const Item& item);
  // Whether `item` has an entry in `index` (it holds the index key attributes, typed).
  static bool IndexesItem(const TableDef& table, const IndexDef& index, const Item& item) {
    return IndexKey(table, index, item).has_value();
  }
  // The key attributes of `item` for the table (or for an index: table and index keys).
  static Item KeyOf(const TableDef& table, const Item& item, const IndexDef* index = nullptr);
  // The attributes of `item` that `keys` names.
  static Item KeyOf(const KeySchema& keys, const Item& item);

  // REQUIRES: ValidateKey(key). Errors: kInternal on storage failure.
  Result<std::optional<Item>> Get(TableHandle& table, const Item& key);

  // Writes `item` if `condition` (may be null) holds on the current item.
  // REQUIRES: ValidateItem(item).
  Result<WriteOutcome> Put(TableHandle& table, Item item, const Condition* condition);
  // Applies `update` (may be null: creates the bare key item) to the item with `key`.
  // Errors: kInvalidArgument when the update can't apply (wrong operand types, result too
  // large, key attribute touched).
  Result<WriteOutcome> Update(TableHandle& table, const Item& key, const class Update* update,
                              const Condition* condition);
  Result<WriteOutcome> Delete(TableHandle& table, const Item& key, const Condition* condition,
                              ChangeOrigin origin = ChangeOrigin::kUser);

  // Errors: kInvalidArgument for a bad ExclusiveStartKey.
  Result<Page> Query(TableHandle& table, const QuerySpec& spec);
  Result<Page> Scan(TableHandle& table, const ScanSpec& spec);

  // All-or-nothing writes across items and tables. When a condition fails nothing is
  // written and the outcomes say which (outcome.condition_failed). Errors: kInvalidArgument
  // from an update that can't apply.
  Result<std::vector<WriteOutcome>> TransactWrite(const std::vector<TransactWriteOp>& ops);
  // Reads a consistent set of items (each item's stripe lock held while reading all).
  Result<std::vector<std::optional<Item>>> TransactGet(
      const std::vector<std::pair<std::shared_ptr<TableHandle>, Item>>& keys);

  // Deletes every item and index entry of the table and its catalog record.
  // REQUIRES: the caller holds table.op_mu() exclusively.
  Status DropTable(TableHandle& table);
  // Writes index entries for every existing item. REQUIRES: op_mu() held exclusively.
  Status BackfillIndex(const TableDef& table, const IndexDef& index);
  // Deletes every entry of an index. REQUIRES: op_mu() held exclusively.
  Status DropIndex(const IndexDef& index);

  // Whether a write may go ahead, given the current item (empty when absent).
  using Precondition = std::function<bool(const Item&)>;
  // The new version of an item from its current one; nullopt deletes it.
  using ComputeNewItem =
      std::function<Result<std::optional<Item>>(const TableDef&, const std::optional<Item>&)>;

  // The 5-year rule: TTL values older than this are ignored (as DynamoDB does).
  // Deletes items of `table` whose TTL attribute is at or before now; returns the count.
  Result<int64_t> SweepExpired(TableHandle& table, int64_t max_items);

 private:
  struct Locked;
  static std::string ItemKey(const TableDef& table, const Item& key_or_item);
  static std::optional<std::string> IndexKey(const TableDef& table, const IndexDef& index,
                                             const Item& item);
  static Item Project(const TableDef& table, const IndexDef& index, const Item& item);
  Mutex& StripeFor(std::string_view item_key);
  Result<WriteOutcome> DeleteWhere(TableHandle& table, const Item& key,
                                   const Precondition& precondition, ChangeOrigin origin);
  // The one read-check-write path of single-item writes: under the item's stripe lock, reads
  // the current item, checks `precondition` (null: none), computes the new version (nullopt:
  // delete) and, if that changes anything, commits it with its index entries and change
  // record in one batch.
  Result<WriteOutcome> Mutate(TableHandle& table, const Item& key,
                              const Precondition& precondition, const ComputeNewItem& compute,
                              ChangeOrigin origin);
  // Reads an item; `encoded_size` (optional) receives its stored size.
  Result<std::optional<Item>> ReadItem(std::string_view item_key, size_t* encoded_size = nullptr);
  // Adds the item change (item, index entries, change record) to `batch`; returns the
  // encoded size of the new item (0 for a delete).
  Result<size_t> StageWrite(kv::Batch& batch, TableHandle& table, const TableDef& def,
                    const std::string& item_key, const std::optional<Item>& old_item,
                    const std::optional<Item>& new_item, ChangeOrigin origin);
  void ApplyStats(TableHandle& table, const std::optional<Item>& old_item,
                  const std::optional<Item>& new_item, size_t old_bytes, size_t new_bytes);
  Result<Item> ApplyUpdate(const TableDef& def, const Item& key, const std::optional<Item>& old,
                           const class Update* update);
  Result<Page> Iterate(const TableDef& def, const IndexDef* index, std::string lower,
                       std::string upper, bool forward, const QuerySpec* query,
                       const ScanSpec* scan);

  static constexpr size_t kStripes = 4096;

  // Set at construction.
  kv::Db& db_;
  Catalog& catalog_;
  const Clock& clock_;
  ChangeSink* sink_;

  std::array<Mutex, kStripes> stripes_;
};

}  // namespace salespipe::table
