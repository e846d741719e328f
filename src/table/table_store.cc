#include "table/table_store.h"

#include <algorithm>
#include <functional>

#include "common/decimal.h"
#include "common/logging.h"
#include "table/expression.h"
#include "table/item_codec.h"
#include "table/key_codec.h"

namespace salespipe::table {
namespace {

constexpr size_t kMaxItemBytes = 400 * 1024;
constexpr size_t kMaxHashKeyBytes = 2048;
constexpr size_t kMaxRangeKeyBytes = 1024;
constexpr int64_t kPageBytes = 1024 * 1024;
constexpr int64_t kFiveYearsSeconds = 5LL * 365 * 24 * 3600;

std::string TablePrefix(uint64_t id) {
  std::string prefix;
  kv::AppendUint64(&prefix, id);
  return prefix;
}

// Checks one key attribute of an item being written.
Status CheckItemKeyAttribute(const Item& item, const KeyElement& element, bool is_range) {
  auto it = item.find(element.name);
  if (it == item.end()) {
    return Status::InvalidArgument(
        "One or more parameter values were invalid: Missing the key " + element.name +
        " in the item");
  }
  const AttributeValue& v = it->second;
  if (v.type() != element.type) {
    return Status::InvalidArgument("One or more parameter values were invalid: Type mismatch for key " +
                                   element.name + " expected: " + std::string(TypeName(element.type)) +
                                   " actual: " + std::string(TypeName(v.type())));
  }
  if (v.type() != AttributeType::kNumber && v.scalar().empty()) {
    return Status::InvalidArgument(
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty " +
        std::string(v.type() == AttributeType::kString ? "string" : "binary") +
        " value. Key: " + element.name);
  }
  if (!is_range && v.scalar().size() > kMaxHashKeyBytes) {
    return Status::InvalidArgument(
        "One or more parameter values were invalid: Size of hashkey has exceeded the maximum "
        "size limit of2048 bytes");
  }
  if (is_range && v.scalar().size() > kMaxRangeKeyBytes) {
    return Status::InvalidArgument(
        "One or more parameter values were invalid: Aggregated size of all range keys has "
        "exceeded the size limit of 1024 bytes");
  }
  return Status::Ok();
}

Status CheckIndexKeyAttribute(const Item& item, const IndexDef& index, const KeyElement& element) {
  auto it = item.find(element.name);
  if (it == item.end()) return Status::Ok();  // sparse index: the item is simply not in it
  const AttributeValue& v = it->second;
  if (v.type() != element.type) {
    return Status::InvalidArgument(
        "One or more parameter values were invalid: Type mismatch for Index Key " + element.name +
        " Expected: " + std::string(TypeName(element.type)) +
        " Actual: " + std::string(TypeName(v.type())) + " IndexName: " + index.name);
  }
  if (v.type() != AttributeType::kNumber && v.scalar().empty()) {
    return Status::InvalidArgument(
        "One or more parameter values are not valid. A value specified for a secondary index "
        "key is not supported. The AttributeValue for a key attribute cannot contain an empty " +
        std::string(v.type() == AttributeType::kString ? "string" : "binary") +
        " value. IndexName: " + index.name + ", IndexKey: " + element.name);
  }
  return Status::Ok();
}

uint32_t SegmentHash(std::string_view bytes) {
  uint32_t h = 2166136261u;  // FNV-1a: stable across restarts and builds
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

bool BeginsWith(const AttributeValue& v, const AttributeValue& prefix) {
  return v.type() == prefix.type() && v.scalar().compare(0, prefix.scalar().size(),
                                                         prefix.scalar()) == 0 &&
         v.scalar().size() >= prefix.scalar().size();
}

}  // namespace

TableStore::TableStore(kv::Db& db, Catalog& catalog, const Clock& clock, ChangeSink* sink)
    : db_(db), catalog_(catalog), clock_(clock), sink_(sink) {}

Status TableStore::ValidateKey(const TableDef& table, const Item& key) {
  static const Status kMismatch =
      Status::InvalidArgument("The provided key element does not match the schema");
  size_t expected = table.keys.range ? 2 : 1;
  if (key.size() != expected) return kMismatch;
  auto check = [&](const KeyElement& element) -> Status {
    auto it = key.find(element.name);
    if (it == key.end() || it->second.type() != element.type) return kMismatch;
    if (element.type != AttributeType::kNumber && it->second.scalar().empty()) {
      return Status::InvalidArgument(
          "One or more parameter values are not valid. The AttributeValue for a key attribute "
          "cannot contain an empty " +
          std::string(element.type == AttributeType::kString ? "string" : "binary") +
          " value. Key: " + element.name);
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(check(table.keys.hash));
  if (table.keys.range) RETURN_IF_ERROR(check(*table.keys.range));
  return Status::Ok();
}

Status TableStore::ValidateItem(const TableDef& table, const Item& item) {
  RETURN_IF_ERROR(CheckItemKeyAttribute(item, table.keys.hash, /*is_range=*/false));
  if (table.keys.range) {
    RETURN_IF_ERROR(CheckItemKeyAttribute(item, *table.keys.range, /*is_range=*/true));
  }
  for (const auto& index : table.indexes) {
    RETURN_IF_ERROR(CheckIndexKeyAttribute(item, index, index.keys.hash));
    if (index.keys.range) RETURN_IF_ERROR(CheckIndexKeyAttribute(item, index, *index.keys.range));
  }
  if (ItemSizeBytes(item) > kMaxItemBytes) {
    return Status::InvalidArgument("Item size has exceeded the maximum allowed size");
  }
  return Status::Ok();
}

Item TableStore::KeyOf(const TableDef& table, const Item& item, const IndexDef* index) {
  Item key = KeyOf(table.keys, item);
  if (index) key.merge(KeyOf(index->keys, item));
  return key;
}

Item TableStore::KeyOf(const KeySchema& keys, const Item& item) {
  Item key;
  auto copy = [&](const KeyElement& element) {
    auto it = item.find(element.name);
    if (it != item.end()) key.emplace(it->first, it->second);
  };
  copy(keys.hash);
  if (keys.range) copy(*keys.range);
  return key;
}

std::string TableStore::ItemKey(const TableDef& table, const Item& key_or_item) {
  std::string key = TablePrefix(table.table_id);
  AppendKeyPart(key_or_item.find(table.keys.hash.name)->second, &key);
  if (table.keys.range) AppendKeyPart(key_or_item.find(table.keys.range->name)->second, &key);
  return key;
}

std::optional<std::string> TableStore::IndexKey(const TableDef& table, const IndexDef& index,
                                                const Item& item) {
  auto hash = item.find(index.keys.hash.name);
  if (hash == item.end() || hash->second.type() != index.keys.hash.type) return std::nullopt;
  Item::const_iterator range;
  if (index.keys.range) {
    range = item.find(index.keys.range->name);
    if (range == item.end() || range->second.type() != index.keys.range->type) return std::nullopt;
  }
  std::string key = TablePrefix(index.index_id);
  AppendKeyPart(hash->second, &key);
  if (index.keys.range) AppendKeyPart(range->second, &key);
  AppendKeyPart(item.find(table.keys.hash.name)->second, &key);
  if (table.keys.range) AppendKeyPart(item.find(table.keys.range->name)->second, &key);
  return key;
}

Item TableStore::Project(const TableDef& table, const IndexDef& index, const Item& item) {
  if (index.projection == ProjectionType::kAll) return item;
  Item projected = KeyOf(table, item, &index);
  if (index.projection == ProjectionType::kInclude) {
    for (const auto& name : index.non_key_attributes) {
      auto it = item.find(name);
      if (it != item.end()) projected.emplace(it->first, it->second);
    }
  }
  return projected;
}

Mutex& TableStore::StripeFor(std::string_view item_key) {
  return stripes_[std::hash<std::string_view>{}(item_key) % kStripes];
}

Result<std::optional<Item>> TableStore::ReadItem(std::string_view item_key, size_t* encoded_size) {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, db_.Get(kv::Cf::kItems, item_key));
  if (encoded_size) *encoded_size = bytes ? bytes->size() : 0;
  if (!bytes) return std::optional<Item>();
  ASSIGN_OR_RETURN(Item item, DecodeItem(*bytes));
  return std::optional<Item>(std::move(item));
}

Result<std::optional<Item>> TableStore::Get(TableHandle& table, const Item& key) {
  std::shared_lock op_lock(table.op_mu());
  if (table.deleted()) return Status::NotFound("Requested resource not found");
  auto def = table.def();
  return ReadItem(ItemKey(*def, key));
}

Result<size_t> TableStore::StageWrite(kv::Batch& batch, TableHandle& table, const TableDef& def,
                                      const std::string& item_key,
                                      const std::optional<Item>& old_item,
                                      const std::optional<Item>& new_item, ChangeOrigin origin) {
  size_t new_size = 0;
  std::string encoded;
  if (new_item) {
    encoded = EncodeItem(*new_item);
    new_size = encoded.size();
    batch.Put(kv::Cf::kItems, item_key, encoded);
  } else {
    batch.Delete(kv::Cf::kItems, item_key);
  }
  for (const auto& index : def.indexes) {
    std::optional<std::string> old_key = old_item ? IndexKey(def, index, *old_item) : std::nullopt;
    std::optional<std::string> new_key = new_item ? IndexKey(def, index, *new_item) : std::nullopt;
    if (old_key && old_key != new_key) batch.Delete(kv::Cf::kIndex, *old_key);
    if (new_key) batch.Put(kv::Cf::kIndex, *new_key, EncodeItem(Project(def, index, *new_item)));
  }
  // The change record rides in the same batch: no write without its record.
  if (sink_) RETURN_IF_ERROR(sink_->Append(batch, def, old_item, new_item, encoded, origin));
  return new_size;
}

void TableStore::ApplyStats(TableHandle& table, const std::optional<Item>& old_item,
                            const std::optional<Item>& new_item, size_t old_bytes,
                            size_t new_bytes) {
  auto& stats = table.stats();
  stats.item_count += (new_item ? 1 : 0) - (old_item ? 1 : 0);
  stats.size_bytes += static_cast<int64_t>(new_bytes) - static_cast<int64_t>(old_bytes);
}

Result<WriteOutcome> TableStore::Mutate(TableHandle& table, const Item& key,
                                        const Precondition& precondition,
                                        const ComputeNewItem& compute, ChangeOrigin origin) {
  std::shared_lock op_lock(table.op_mu());
  if (table.deleted()) return Status::NotFound("Requested resource not found");
  auto def = table.def();
  const std::string item_key = ItemKey(*def, key);
  MutexLock lock(StripeFor(item_key));
  WriteOutcome outcome;
  size_t old_size = 0;
  ASSIGN_OR_RETURN(outcome.old_item, ReadItem(item_key, &old_size));
  if (precondition && !precondition(outcome.old_item ? *outcome.old_item : Item())) {
    outcome.condition_failed = true;
    return outcome;
  }
  ASSIGN_OR_RETURN(outcome.new_item, compute(*def, outcome.old_item));
  const bool unchanged = outcome.old_item.has_value() == outcome.new_item.has_value() &&
                         (!outcome.old_item || *outcome.old_item == *outcome.new_item);
  if (unchanged) return outcome;  // a write that changes nothing writes nothing
  kv::Batch batch = db_.NewBatch();
  ASSIGN_OR_RETURN(size_t new_size, StageWrite(batch, table, *def, item_key, outcome.old_item,
                                               outcome.new_item, origin));
  RETURN_IF_ERROR(db_.Commit(batch));
  ApplyStats(table, outcome.old_item, outcome.new_item, old_size, new_size);
  return outcome;
}

namespace {
TableStore::Precondition Holds(const Condition* condition) {
  if (condition == nullptr) return nullptr;
  return [condition](const Item& current) { return condition->Evaluate(current); };
}
}  // namespace

Result<WriteOutcome> TableStore::Put(TableHandle& table, Item item, const Condition* condition) {
  // `item` is its own key; Mutate reads the key before `compute` moves the item away.
  const Item& key = item;
  return Mutate(table, key, Holds(condition),
                [&item](const TableDef&, const std::optional<Item>&) -> Result<std::optional<Item>> {
                  return std::optional<Item>(std::move(item));
                },
                ChangeOrigin::kUser);
}

Result<Item> TableStore::ApplyUpdate(const TableDef& def, const Item& key,
                                     const std::optional<Item>& old, const class Update* update) {
  Item item = old ? *old : key;
  if (update) RETURN_IF_ERROR(update->Apply(item));
  // A key attribute can't change: the update validator rejects that up front, so this only
  // guards against a bug.
  for (const auto& [name, value] : key) {
    auto it = item.find(name);
    if (it == item.end() || it->second != value) {
      return Status::InvalidArgument("One or more parameter values were invalid: Cannot update attribute " +
                                     name + ". This attribute is part of the key");
    }
  }
  if (ItemSizeBytes(item) > kMaxItemBytes) {
    return Status::InvalidArgument("Item size to update has exceeded the maximum allowed size");
  }
  RETURN_IF_ERROR(ValidateItem(def, item));
  return item;
}

Result<WriteOutcome> TableStore::Update(TableHandle& table, const Item& key,
                                        const class Update* update, const Condition* condition) {
  return Mutate(table, key, Holds(condition),
                [&](const TableDef& def, const std::optional<Item>& old) -> Result<std::optional<Item>> {
                  ASSIGN_OR_RETURN(Item updated, ApplyUpdate(def, key, old, update));
                  return std::optional<Item>(std::move(updated));
                },
                ChangeOrigin::kUser);
}

Result<WriteOutcome> TableStore::Delete(TableHandle& table, const Item& key,
                                        const Condition* condition, ChangeOrigin origin) {
  return DeleteWhere(table, key, Holds(condition), origin);
}

Result<WriteOutcome> TableStore::DeleteWhere(TableHandle& table, const Item& key,
                                             const Precondition& precondition,
                                             ChangeOrigin origin) {
  return Mutate(table, key, precondition,
                [](const TableDef&, const std::optional<Item>&) -> Result<std::optional<Item>> {
                  return std::optional<Item>();
                },
                origin);
}

Result<Page> TableStore::Iterate(const TableDef& def, const IndexDef* index, std::string lower,
                                 std::string upper, bool forward, const QuerySpec* query,
                                 const ScanSpec* scan) {
  Page page;
  const std::optional<Item>& start = query ? query->exclusive_start_key : scan->exclusive_start_key;
  if (start) {
    std::optional<std::string> start_key;
    if (index) {
      start_key = IndexKey(def, *index, *start);
    } else {
      start_key = ItemKey(def, *start);
    }
    if (!start_key) return Status::InvalidArgument("The provided starting key is invalid");
    if (forward) {
      std::string after = *start_key + '\0';
      if (after > lower) lower = std::move(after);
    } else {
      if (upper.empty() || *start_key < upper) upper = *start_key;
    }
  }
  int64_t limit = query ? query->limit : scan->limit;
  const Condition* filter = query ? query->filter : scan->filter;
  const bool fetch = index && (query ? query->fetch_from_table : scan->fetch_from_table);
  auto it = db_.NewIterator(index ? kv::Cf::kIndex : kv::Cf::kItems, lower, upper);
  if (forward) {
    it->SeekToFirst();
  } else {
    it->SeekToLast();
  }
  bool stopped_early = false;
  for (; it->Valid(); forward ? it->Next() : it->Prev()) {
    if (scan && scan->total_segments > 1) {
      // The segment is chosen by the partition key, so one partition stays in one segment.
      std::string_view rest = it->key().substr(8);
      const KeyElement& hash = index ? index->keys.hash : def.keys.hash;
      std::string_view before = rest;
      auto part = ConsumeKeyPart(hash.type, &rest);
      if (!part.ok()) return part.status();
      std::string_view hash_bytes = before.substr(0, before.size() - rest.size());
      if (static_cast<int>(SegmentHash(hash_bytes) % scan->total_segments) != scan->segment) {
        continue;
      }
    }
    ASSIGN_OR_RETURN(Item item, DecodeItem(it->value()));
    if (fetch) {
      ASSIGN_OR_RETURN(std::optional<Item> full, ReadItem(ItemKey(def, item)));
      if (!full) continue;  // deleted between the index read and this one
      item = std::move(*full);
    }
    if (query && query->range && query->range->op == SortKeyCondition::Op::kBeginsWith) {
      const KeyElement& range = index ? *index->keys.range : *def.keys.range;
      auto rv = item.find(range.name);
      if (rv == item.end() || !BeginsWith(rv->second, query->range->values[0])) {
        if (forward) break;  // sorted: nothing further can match
        continue;
      }
    }
    page.scanned_count++;
    page.bytes_read += static_cast<int64_t>(it->value().size());
    bool last_by_limit = limit > 0 && page.scanned_count >= limit;
    bool last_by_size = page.bytes_read >= kPageBytes;
    if (last_by_limit || last_by_size) {
      page.last_evaluated_key = KeyOf(def, item, index);
      stopped_early = true;
    }
    if (!filter || filter->Evaluate(item)) page.items.push_back(std::move(item));
    if (stopped_early) break;
  }
  RETURN_IF_ERROR(it->status());
  return page;
}

Result<Page> TableStore::Query(TableHandle& table, const QuerySpec& spec) {
  std::shared_lock op_lock(table.op_mu());
  if (table.deleted()) return Status::NotFound("Requested resource not found");
  auto def = table.def();
  std::string prefix = TablePrefix(spec.index ? spec.index->index_id : def->table_id);
  AppendKeyPart(spec.hash_value, &prefix);
  std::string lower = prefix;
  std::string upper = kv::PrefixSuccessor(prefix);
  if (spec.range) {
    auto with = [&](const AttributeValue& v) {
      std::string k = prefix;
      AppendKeyPart(v, &k);
      return k;
    };
    const auto& values = spec.range->values;
    switch (spec.range->op) {
      case SortKeyCondition::Op::kEq:
        lower = with(values[0]);
        upper = kv::PrefixSuccessor(lower);
        break;
      case SortKeyCondition::Op::kLt: upper = with(values[0]); break;
      case SortKeyCondition::Op::kLe: upper = kv::PrefixSuccessor(with(values[0])); break;
      case SortKeyCondition::Op::kGt: lower = kv::PrefixSuccessor(with(values[0])); break;
      case SortKeyCondition::Op::kGe: lower = with(values[0]); break;
      case SortKeyCondition::Op::kBetween:
        lower = with(values[0]);
        upper = kv::PrefixSuccessor(with(values[1]));
        break;
      case SortKeyCondition::Op::kBeginsWith:
        // Every value with the prefix sorts at or after the prefix itself.
        lower = with(values[0]);
        break;
    }
  }
  if (upper.empty()) upper = kv::PrefixSuccessor(TablePrefix((spec.index ? spec.index->index_id : def->table_id)));
  return Iterate(*def, spec.index, std::move(lower), std::move(upper), spec.forward, &spec,
                 nullptr);
}

Result<Page> TableStore::Scan(TableHandle& table, const ScanSpec& spec) {
  std::shared_lock op_lock(table.op_mu());
  if (table.deleted()) return Status::NotFound("Requested resource not found");
  auto def = table.def();
  std::string prefix = TablePrefix(spec.index ? spec.index->index_id : def->table_id);
  return Iterate(*def, spec.index, prefix, kv::PrefixSuccessor(prefix), /*forward=*/true, nullptr,
                 &spec);
}

Result<std::vector<WriteOutcome>> TableStore::TransactWrite(
    const std::vector<TransactWriteOp>& ops) {
  // Lock order: tables by address (shared), then item stripes by address. Both sorted and
  // de-duplicated so concurrent transactions cannot deadlock.
  std::vector<TableHandle*> tables;
  for (const auto& op : ops) tables.push_back(op.table.get());
  std::sort(tables.begin(), tables.end());
  tables.erase(std::unique(tables.begin(), tables.end()), tables.end());
  std::vector<std::shared_lock<SharedMutex>> table_locks;
  for (TableHandle* t : tables) {
    table_locks.emplace_back(t->op_mu());
    if (t->deleted()) return Status::NotFound("Requested resource not found");
  }
  std::vector<std::shared_ptr<const TableDef>> defs;
  std::vector<std::string> item_keys;
  std::vector<Mutex*> stripes;
  for (const auto& op : ops) {
    defs.push_back(op.table->def());
    item_keys.push_back(ItemKey(*defs.back(), op.item));
    stripes.push_back(&StripeFor(item_keys.back()));
  }
  std::vector<Mutex*> ordered = stripes;
  std::sort(ordered.begin(), ordered.end());
  ordered.erase(std::unique(ordered.begin(), ordered.end()), ordered.end());
  std::vector<std::unique_lock<Mutex>> stripe_locks;
  for (Mutex* m : ordered) stripe_locks.emplace_back(*m);

  std::vector<WriteOutcome> outcomes(ops.size());
  std::vector<size_t> old_sizes(ops.size()), new_sizes(ops.size());
  bool any_failed = false;
  for (size_t i = 0; i < ops.size(); ++i) {
    const auto& op = ops[i];
    auto& outcome = outcomes[i];
    ASSIGN_OR_RETURN(outcome.old_item, ReadItem(item_keys[i], &old_sizes[i]));
    if (op.condition && !op.condition->Evaluate(outcome.old_item ? *outcome.old_item : Item())) {
      outcome.condition_failed = true;
      any_failed = true;
    }
  }
  if (any_failed) return outcomes;
  for (size_t i = 0; i < ops.size(); ++i) {
    const auto& op = ops[i];
    auto& outcome = outcomes[i];
    switch (op.kind) {
      case TransactWriteOp::Kind::kPut: outcome.new_item = op.item; break;
      case TransactWriteOp::Kind::kUpdate: {
        ASSIGN_OR_RETURN(Item updated, ApplyUpdate(*defs[i], op.item, outcome.old_item, op.update));
        outcome.new_item = std::move(updated);
        break;
      }
      case TransactWriteOp::Kind::kDelete: break;
      case TransactWriteOp::Kind::kConditionCheck: outcome.new_item = outcome.old_item; break;
    }
  }
  kv::Batch batch = db_.NewBatch();
  for (size_t i = 0; i < ops.size(); ++i) {
    const auto& outcome = outcomes[i];
    if (ops[i].kind == TransactWriteOp::Kind::kConditionCheck) continue;
    bool unchanged = outcome.old_item.has_value() == outcome.new_item.has_value() &&
                     (!outcome.old_item || *outcome.old_item == *outcome.new_item);
    if (unchanged) {
      new_sizes[i] = old_sizes[i];
      continue;
    }
    ASSIGN_OR_RETURN(new_sizes[i], StageWrite(batch, *ops[i].table, *defs[i], item_keys[i],
                                              outcome.old_item, outcome.new_item,
                                              ChangeOrigin::kUser));
  }
  RETURN_IF_ERROR(db_.Commit(batch));
  for (size_t i = 0; i < ops.size(); ++i) {
    const auto& outcome = outcomes[i];
    if (ops[i].kind == TransactWriteOp::Kind::kConditionCheck) continue;
    ApplyStats(*ops[i].table, outcome.old_item, outcome.new_item, old_sizes[i], new_sizes[i]);
  }
  return outcomes;
}

Result<std::vector<std::optional<Item>>> TableStore::TransactGet(
    const std::vector<std::pair<std::shared_ptr<TableHandle>, Item>>& keys) {
  std::vector<TableHandle*> tables;
  for (const auto& [t, key] : keys) tables.push_back(t.get());
  std::sort(tables.begin(), tables.end());
  tables.erase(std::unique(tables.begin(), tables.end()), tables.end());
  std::vector<std::shared_lock<SharedMutex>> table_locks;
  for (TableHandle* t : tables) {
    table_locks.emplace_back(t->op_mu());
    if (t->deleted()) return Status::NotFound("Requested resource not found");
  }
  std::vector<std::string> item_keys;
  std::vector<Mutex*> ordered;
  for (const auto& [t, key] : keys) {
    item_keys.push_back(ItemKey(*t->def(), key));
    ordered.push_back(&StripeFor(item_keys.back()));
  }
  std::sort(ordered.begin(), ordered.end());
  ordered.erase(std::unique(ordered.begin(), ordered.end()), ordered.end());
  std::vector<std::unique_lock<Mutex>> stripe_locks;
  for (Mutex* m : ordered) stripe_locks.emplace_back(*m);
  std::vector<std::optional<Item>> items;
  for (const auto& k : item_keys) {
    ASSIGN_OR_RETURN(std::optional<Item> item, ReadItem(k));
    items.push_back(std::move(item));
  }
  return items;
}

Status TableStore::DropTable(TableHandle& table) {
  auto def = table.def();
  kv::Batch batch = db_.NewBatch();
  std::string prefix = TablePrefix(def->table_id);
  batch.DeleteRange(kv::Cf::kItems, prefix, kv::PrefixSuccessor(prefix));
  for (const auto& index : def->indexes) {
    std::string index_prefix = TablePrefix(index.index_id);
    batch.DeleteRange(kv::Cf::kIndex, index_prefix, kv::PrefixSuccessor(index_prefix));
  }
  RETURN_IF_ERROR(catalog_.Remove(batch, *def));
  RETURN_IF_ERROR(db_.Commit(batch));
  catalog_.Forget(*def);
  return Status::Ok();
}

Status TableStore::BackfillIndex(const TableDef& table, const IndexDef& index) {
  std::string prefix = TablePrefix(table.table_id);
  auto it = db_.NewIterator(kv::Cf::kItems, prefix, kv::PrefixSuccessor(prefix));
  // Committed in pieces of about 4 MB so a large table never builds one huge batch.
  std::optional<kv::Batch> batch(db_.NewBatch());
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ASSIGN_OR_RETURN(Item item, DecodeItem(it->value()));
    std::optional<std::string> key = IndexKey(table, index, item);
    if (!key) continue;
    batch->Put(kv::Cf::kIndex, *key, EncodeItem(Project(table, index, item)));
    if (batch->ByteSize() > (4 << 20)) {
      RETURN_IF_ERROR(db_.Commit(*batch));
      batch.reset();
      batch.emplace(db_.NewBatch());
    }
  }
  RETURN_IF_ERROR(it->status());
  return db_.Commit(*batch);
}

Status TableStore::DropIndex(const IndexDef& index) {
  kv::Batch batch = db_.NewBatch();
  std::string prefix = TablePrefix(index.index_id);
  batch.DeleteRange(kv::Cf::kIndex, prefix, kv::PrefixSuccessor(prefix));
  return db_.Commit(batch);
}

Result<int64_t> TableStore::SweepExpired(TableHandle& table, int64_t max_items) {
  auto def = table.def();
  if (!def->ttl.enabled || def->ttl.attribute.empty()) return 0;
  const int64_t now_seconds = clock_.NowMillis() / 1000;
  const std::string attribute = def->ttl.attribute;
  auto expired = [&](const Item& item) {
    auto it = item.find(attribute);
    if (it == item.end() || it->second.type() != AttributeType::kNumber) return false;
    auto value = Decimal::Parse(it->second.scalar());
    if (!value.ok()) return false;
    auto now = Decimal::Parse(std::to_string(now_seconds));
    auto oldest = Decimal::Parse(std::to_string(now_seconds - kFiveYearsSeconds));
    // DynamoDB ignores TTL values more than five years in the past.
    return value->Compare(*now) <= 0 && value->Compare(*oldest) >= 0;
  };
  std::vector<Item> keys;
  {
    std::shared_lock op_lock(table.op_mu());
    if (table.deleted()) return 0;
    std::string prefix = TablePrefix(def->table_id);
    auto it = db_.NewIterator(kv::Cf::kItems, prefix, kv::PrefixSuccessor(prefix));
    for (it->SeekToFirst(); it->Valid() && static_cast<int64_t>(keys.size()) < max_items;
         it->Next()) {
      ASSIGN_OR_RETURN(Item item, DecodeItem(it->value()));
      if (expired(item)) keys.push_back(KeyOf(*def, item));
    }
    RETURN_IF_ERROR(it->status());
  }
  int64_t deleted = 0;
  for (const Item& key : keys) {
    // Re-checked under the item's lock: a write since the scan may have extended the TTL.
    ASSIGN_OR_RETURN(WriteOutcome outcome, DeleteWhere(table, key, expired, ChangeOrigin::kTtl));
    if (!outcome.condition_failed && outcome.old_item) ++deleted;
  }
  return deleted;
}

}  // namespace salespipe::table
