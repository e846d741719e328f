// BatchGetItem, BatchWriteItem, TransactWriteItems, TransactGetItems.
#include <set>

#include "common/crypto.h"
#include "services/dynamodb/attribute_json.h"
#include "services/dynamodb/dynamodb_service.h"
#include "services/dynamodb/ops_common.h"
#include "services/dynamodb/request_expressions.h"
#include "table/key_codec.h"

namespace salespipe::services::dynamodb {
namespace {

constexpr size_t kMaxBatchWrite = 25;
constexpr size_t kMaxBatchGet = 100;
constexpr size_t kMaxTransactItems = 100;
constexpr int64_t kTokenMillis = 10 * 60 * 1000;
constexpr size_t kMaxBatchGetResponseBytes = 16 * 1024 * 1024;

Status Invalid(std::string msg) { return Status::InvalidArgument(std::move(msg)); }

// A comparable identity of an item's key within one table, for duplicate checks.
std::string KeyIdentity(const table::TableDef& def, const table::Item& item) {
  std::string id;
  auto hash = item.find(def.keys.hash.name);
  if (hash != item.end()) table::AppendKeyPart(hash->second, &id);
  if (def.keys.range) {
    auto range = item.find(def.keys.range->name);
    if (range != item.end()) table::AppendKeyPart(range->second, &id);
  }
  return id;
}

std::string Finish(rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

// ConsumedCapacity of a multi-table operation: a list with one entry per table.
void WriteCapacityList(JsonWriter& w, CapacityMode capacity,
                       const std::map<std::string, double>& units, bool read) {
  if (capacity == CapacityMode::kNone) return;
  w.Key("ConsumedCapacity");
  w.StartArray();
  for (const auto& [name, u] : units) {
    w.StartObject();
    w.Key("TableName");
    WriteString(w, name);
    w.Key("CapacityUnits");
    w.Double(u);
    w.Key(read ? "ReadCapacityUnits" : "WriteCapacityUnits");
    w.Double(u);
    w.EndObject();
  }
  w.EndArray();
}

struct WriteRequest {
  std::shared_ptr<table::TableHandle> table;
  bool put = true;
  table::Item item;  // item (put) or key (delete)
};

}  // namespace

Result<std::string> DynamoDbService::BatchWriteItem(const JsonValue& request,
                                                    const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(const JsonValue* items, GetObject(request, "RequestItems"));
  if (!items) errors.AddNull("requestItems");
  ASSIGN_OR_RETURN(CapacityMode capacity, ParseCapacityMode(request, errors));
  ASSIGN_OR_RETURN(std::optional<std::string_view> metrics,
                   GetString(request, "ReturnItemCollectionMetrics"));
  CheckEnum(metrics, "returnItemCollectionMetrics", {"SIZE", "NONE"}, errors);
  if (items) {
    if (items->MemberCount() == 0) {
      errors.AddConstraint("{}", "requestItems", "Member must have length greater than or equal to 1");
    }
    for (const auto& m : items->GetObject()) {
      if (!m.value.IsArray()) continue;  // reported below as a serialization error
      if (m.value.Size() > kMaxBatchWrite || m.value.Size() == 0) {
        errors.AddConstraint("'{...}'", "requestItems",
                             "Map value must satisfy constraint: [Member must have length less "
                             "than or equal to 25, Member must have length greater than or "
                             "equal to 1]");
        break;
      }
    }
  }
  RETURN_IF_ERROR(errors.ToStatus());

  std::vector<WriteRequest> writes;
  for (const auto& m : items->GetObject()) {
    std::string_view table_name(m.name.GetString(), m.name.GetStringLength());
    ValidationErrors name_errors;
    CheckTableName(table_name, "requestItems.member.key", name_errors);
    RETURN_IF_ERROR(name_errors.ToStatus());
    if (!m.value.IsArray()) return SerializationError("Start of structure or map found where not expected.");
    for (const auto& element : m.value.GetArray()) {
      RETURN_IF_ERROR(ExpectObject(element));
      ASSIGN_OR_RETURN(const JsonValue* put, GetObject(element, "PutRequest"));
      ASSIGN_OR_RETURN(const JsonValue* del, GetObject(element, "DeleteRequest"));
      if ((put != nullptr) == (del != nullptr)) {
        return Invalid(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes");
      }
      WriteRequest write{.put = put != nullptr};
      const JsonValue* body = put ? FindMember(*put, "Item") : FindMember(*del, "Key");
      if (!body) {
        return Invalid(std::string("1 validation error detected: Value null at '") +
                       (put ? "requestItems.member.value.member.putRequest.item"
                            : "requestItems.member.value.member.deleteRequest.key") +
                       "' failed to satisfy constraint: Member must not be null");
      }
      ASSIGN_OR_RETURN(write.item, ParseAttributeMap(*body));
      if (write.put && table::ItemSizeBytes(write.item) > 400 * 1024) {
        return Invalid("Item size has exceeded the maximum allowed size");
      }
      writes.push_back(std::move(write));
    }
  }
  if (writes.size() > kMaxBatchWrite) return Invalid("Too many items requested for the BatchWriteItem call");

  // Resolve tables and validate every request before writing anything.
  std::map<std::string, std::shared_ptr<table::TableHandle>> tables;
  size_t index = 0;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& m : items->GetObject()) {
    std::string table_name(m.name.GetString(), m.name.GetStringLength());
    ASSIGN_OR_RETURN(auto handle, FindTable(table_name, context));
    auto def = handle->def();
    for (size_t i = 0; i < m.value.Size(); ++i, ++index) {
      WriteRequest& write = writes[index];
      write.table = handle;
      if (write.put) {
        RETURN_IF_ERROR(table::TableStore::ValidateItem(*def, write.item));
      } else {
        RETURN_IF_ERROR(table::TableStore::ValidateKey(*def, write.item));
      }
      if (!seen.emplace(table_name, KeyIdentity(*def, write.item)).second) {
        return Invalid("Provided list of item keys contains duplicates");
      }
    }
    tables.emplace(table_name, handle);
  }

  std::map<std::string, double> units;
  for (auto& write : writes) {
    size_t bytes = write.put ? table::ItemSizeBytes(write.item) : 0;
    table::WriteOutcome outcome;
    if (write.put) {
      ASSIGN_OR_RETURN(outcome, store_.Put(*write.table, std::move(write.item), nullptr));
    } else {
      ASSIGN_OR_RETURN(outcome, store_.Delete(*write.table, write.item, nullptr));
    }
    if (outcome.old_item) bytes = std::max(bytes, table::ItemSizeBytes(*outcome.old_item));
    units[write.table->def()->name] += WriteUnits(bytes);
  }

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("UnprocessedItems");
  w.StartObject();
  w.EndObject();
  WriteCapacityList(w, capacity, units, /*read=*/false);
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbService::BatchGetItem(const JsonValue& request,
                                                  const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(const JsonValue* items, GetObject(request, "RequestItems"));
  if (!items) errors.AddNull("requestItems");
  ASSIGN_OR_RETURN(CapacityMode capacity, ParseCapacityMode(request, errors));
  if (items && items->MemberCount() == 0) {
    errors.AddConstraint("{}", "requestItems", "Member must have length greater than or equal to 1");
  }
  RETURN_IF_ERROR(errors.ToStatus());

  struct TableRead {
    std::string name;
    std::shared_ptr<table::TableHandle> table;
    std::vector<table::Item> keys;
    ParsedExpressions expr;
    bool consistent = false;
    const JsonValue* json = nullptr;
  };
  std::vector<TableRead> reads;
  size_t total_keys = 0;
  for (const auto& m : items->GetObject()) {
    TableRead read;
    read.name.assign(m.name.GetString(), m.name.GetStringLength());
    read.json = &m.value;
    RETURN_IF_ERROR(ExpectObject(m.value));
    ASSIGN_OR_RETURN(const JsonValue* keys, GetArray(m.value, "Keys"));
    if (!keys) return Invalid("1 validation error detected: Value null at 'requestItems." + read.name + ".member.keys' failed to satisfy constraint: Member must not be null");
    if (keys->Size() == 0 || keys->Size() > kMaxBatchGet) {
      return Invalid("1 validation error detected: Value at 'requestItems." + read.name +
                     ".member.keys' failed to satisfy constraint: Member must have length "
                     "less than or equal to 100, Member must have length greater than or equal to 1");
    }
    for (const auto& k : keys->GetArray()) {
      ASSIGN_OR_RETURN(table::Item key, ParseAttributeMap(k));
      read.keys.push_back(std::move(key));
    }
    total_keys += read.keys.size();
    ASSIGN_OR_RETURN(std::optional<bool> consistent, GetBool(m.value, "ConsistentRead"));
    read.consistent = consistent.value_or(false);
    ASSIGN_OR_RETURN(read.expr, ParseExpressions(m.value, {.projection = true}));
    reads.push_back(std::move(read));
  }
  if (total_keys > kMaxBatchGet) return Invalid("Too many items requested for the BatchGetItem call");
  for (auto& read : reads) {
    ASSIGN_OR_RETURN(read.table, FindTable(read.name, context));
    auto def = read.table->def();
    std::set<std::string> seen;
    for (const auto& key : read.keys) {
      RETURN_IF_ERROR(table::TableStore::ValidateKey(*def, key));
      if (!seen.insert(KeyIdentity(*def, key)).second) {
        return Invalid("Provided list of item keys contains duplicates");
      }
    }
  }

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("Responses");
  w.StartObject();
  std::vector<std::pair<const TableRead*, std::vector<const table::Item*>>> unprocessed;
  std::map<std::string, double> units;
  size_t response_bytes = 0;
  for (const auto& read : reads) {
    WriteKey(w, read.name);
    w.StartArray();
    std::vector<const table::Item*> left;
    for (const auto& key : read.keys) {
      if (response_bytes > kMaxBatchGetResponseBytes) {
        left.push_back(&key);
        continue;
      }
      ASSIGN_OR_RETURN(std::optional<table::Item> item, store_.Get(*read.table, key));
      size_t bytes = item ? table::ItemSizeBytes(*item) : 0;
      units[read.name] += ReadUnits(bytes, read.consistent);
      if (!item) continue;
      response_bytes += bytes;
      WriteAttributeMap(w, read.expr.projection ? read.expr.projection->Apply(*item) : *item);
    }
    w.EndArray();
    if (!left.empty()) unprocessed.emplace_back(&read, std::move(left));
  }
  w.EndObject();
  // Keys left over when the response reached 16 MB come back for the client to retry.
  w.Key("UnprocessedKeys");
  w.StartObject();
  for (const auto& [read, keys] : unprocessed) {
    WriteKey(w, read->name);
    w.StartObject();
    w.Key("Keys");
    w.StartArray();
    for (const auto* key : keys) WriteAttributeMap(w, *key);
    w.EndArray();
    for (const char* member : {"ProjectionExpression", "AttributesToGet", "ConsistentRead",
                               "ExpressionAttributeNames"}) {
      if (const JsonValue* v = FindMember(*read->json, member)) {
        w.Key(member);
        v->Accept(w);
      }
    }
    w.EndObject();
  }
  w.EndObject();
  WriteCapacityList(w, capacity, units, /*read=*/true);
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbService::TransactWriteItems(const JsonValue& request,
                                                        const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(const JsonValue* items, GetArray(request, "TransactItems"));
  if (!items) errors.AddNull("transactItems");
  ASSIGN_OR_RETURN(CapacityMode capacity, ParseCapacityMode(request, errors));
  ASSIGN_OR_RETURN(std::optional<std::string_view> token, GetString(request, "ClientRequestToken"));
  if (token && (token->empty() || token->size() > 36)) {
    errors.AddConstraint("'" + std::string(*token) + "'", "clientRequestToken",
                         token->empty() ? "Member must have length greater than or equal to 1"
                                        : "Member must have length less than or equal to 36");
  }
  if (items && (items->Size() == 0 || items->Size() > kMaxTransactItems)) {
    errors.AddConstraint("'[...]'", "transactItems",
                         items->Size() == 0 ? "Member must have length greater than or equal to 1"
                                            : "Member must have length less than or equal to 100");
  }
  RETURN_IF_ERROR(errors.ToStatus());

  // Idempotency: the same token and request within 10 minutes succeeds again without writing.
  std::string request_hash;
  if (token) {
    rapidjson::StringBuffer canonical;
    JsonWriter cw(canonical);
    items->Accept(cw);
    request_hash = Sha256(std::string_view(canonical.GetString(), canonical.GetSize()));
    MutexLock lock(tokens_mu_);
    int64_t now = clock_.NowMillis();
    for (auto it = tokens_.begin(); it != tokens_.end();) {
      it = now - it->second.millis > kTokenMillis ? tokens_.erase(it) : std::next(it);
    }
    auto it = tokens_.find(*token);
    if (it != tokens_.end()) {
      if (it->second.request_hash != request_hash) {
        return Status::InvalidArgument(
                   "Request parameters do not match the parameters of the original request "
                   "with the same client request token")
            .WithAwsCode("IdempotentParameterMismatchException");
      }
      return std::string("{}");
    }
  }

  struct Action {
    table::TransactWriteOp op;
    ParsedExpressions expr;
    bool old_on_failure = false;
  };
  std::vector<Action> actions;
  actions.reserve(items->Size());
  for (const auto& element : items->GetArray()) {
    RETURN_IF_ERROR(ExpectObject(element));
    const char* kinds[] = {"ConditionCheck", "Put", "Delete", "Update"};
    const JsonValue* body = nullptr;
    int kind = -1, count = 0;
    for (int k = 0; k < 4; ++k) {
      ASSIGN_OR_RETURN(const JsonValue* v, GetObject(element, kinds[k]));
      if (v) {
        body = v;
        kind = k;
        ++count;
      }
    }
    if (count != 1) {
      return Invalid(
          "TransactItems can only contain one of Check, Put, Update or Delete");
    }
    Action action;
    ASSIGN_OR_RETURN(std::optional<std::string_view> table_name, GetString(*body, "TableName"));
    ValidationErrors item_errors;
    CheckTableName(table_name, "transactItems.member.tableName", item_errors);
    ASSIGN_OR_RETURN(std::optional<std::string_view> on_failure,
                     GetString(*body, "ReturnValuesOnConditionCheckFailure"));
    CheckEnum(on_failure, "returnValuesOnConditionCheckFailure", {"ALL_OLD", "NONE"}, item_errors);
    RETURN_IF_ERROR(item_errors.ToStatus());
    action.old_on_failure = on_failure && *on_failure == "ALL_OLD";
    const char* item_member = kind == 1 ? "Item" : "Key";
    const JsonValue* item_json = FindMember(*body, item_member);
    if (!item_json) {
      return Invalid(std::string("1 validation error detected: Value null at 'transactItems.member.") +
                     (kind == 1 ? "put.item" : "key") + "' failed to satisfy constraint: Member must not be null");
    }
    ASSIGN_OR_RETURN(action.op.item, ParseAttributeMap(*item_json));
    ASSIGN_OR_RETURN(action.expr,
                     ParseExpressions(*body, {.condition = true, .update = kind == 3}));
    if (kind == 0 && !action.expr.condition) {
      return Invalid("1 validation error detected: Value null at 'transactItems.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null");
    }
    if (kind == 3 && !action.expr.update) {
      return Invalid("1 validation error detected: Value null at 'transactItems.member.update.updateExpression' failed to satisfy constraint: Member must not be null");
    }
    ASSIGN_OR_RETURN(action.op.table, FindTable(*table_name, context));
    action.op.kind = kind == 0   ? table::TransactWriteOp::Kind::kConditionCheck
                     : kind == 1 ? table::TransactWriteOp::Kind::kPut
                     : kind == 2 ? table::TransactWriteOp::Kind::kDelete
                                 : table::TransactWriteOp::Kind::kUpdate;
    actions.push_back(std::move(action));
  }
  // Validate keys, items and key-attribute updates; reject two actions on one item.
  std::set<std::pair<uint64_t, std::string>> seen;
  for (auto& action : actions) {
    auto def = action.op.table->def();
    if (action.op.kind == table::TransactWriteOp::Kind::kPut) {
      RETURN_IF_ERROR(table::TableStore::ValidateItem(*def, action.op.item));
    } else {
      RETURN_IF_ERROR(table::TableStore::ValidateKey(*def, action.op.item));
    }
    if (action.expr.update) {
      for (const std::string& name : action.expr.update->TopLevelAttributes()) {
        if (name == def->keys.hash.name || (def->keys.range && name == def->keys.range->name)) {
          return Invalid("One or more parameter values were invalid: Cannot update attribute " +
                         name + ". This attribute is part of the key");
        }
      }
    }
    if (!seen.emplace(def->table_id, KeyIdentity(*def, action.op.item)).second) {
      return Invalid("Transaction request cannot include multiple operations on one item");
    }
    action.op.condition = action.expr.condition_ptr();
    action.op.update = action.expr.update_ptr();
  }
  std::vector<table::TransactWriteOp> ops;
  ops.reserve(actions.size());
  for (const auto& action : actions) ops.push_back(action.op);
  ASSIGN_OR_RETURN(std::vector<table::WriteOutcome> outcomes, store_.TransactWrite(ops));

  bool failed = false;
  for (const auto& o : outcomes) failed |= o.condition_failed;
  if (failed) {
    rapidjson::StringBuffer details;
    JsonWriter dw(details);
    std::string codes;
    dw.StartObject();
    dw.Key("CancellationReasons");
    dw.StartArray();
    for (size_t i = 0; i < outcomes.size(); ++i) {
      dw.StartObject();
      dw.Key("Code");
      if (outcomes[i].condition_failed) {
        dw.String("ConditionalCheckFailed");
        dw.Key("Message");
        dw.String("The conditional request failed");
        if (actions[i].old_on_failure && outcomes[i].old_item) {
          dw.Key("Item");
          WriteAttributeMap(dw, *outcomes[i].old_item);
        }
      } else {
        dw.String("None");
      }
      dw.EndObject();
      codes += (i ? ", " : "") + std::string(outcomes[i].condition_failed ? "ConditionalCheckFailed" : "None");
    }
    dw.EndArray();
    dw.EndObject();
    return Status::Aborted(
               "Transaction cancelled, please refer cancellation reasons for specific reasons [" +
               codes + "]")
        .WithAwsCode("TransactionCanceledException")
        .WithDetails(std::string(details.GetString(), details.GetSize()));
  }
  if (token) {
    MutexLock lock(tokens_mu_);
    tokens_[std::string(*token)] = TokenEntry{.request_hash = request_hash, .millis = clock_.NowMillis()};
  }

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  if (capacity != CapacityMode::kNone) {
    std::map<std::string, double> units;
    for (size_t i = 0; i < outcomes.size(); ++i) {
      size_t bytes = std::max(outcomes[i].new_item ? table::ItemSizeBytes(*outcomes[i].new_item) : 0,
                              outcomes[i].old_item ? table::ItemSizeBytes(*outcomes[i].old_item) : 0);
      // Transactional writes cost twice a plain write.
      units[actions[i].op.table->def()->name] += 2 * WriteUnits(bytes);
    }
    WriteCapacityList(w, capacity, units, /*read=*/false);
  }
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbService::TransactGetItems(const JsonValue& request,
                                                      const RequestContext& context) {
  ValidationErrors errors;
  ASSIGN_OR_RETURN(const JsonValue* items, GetArray(request, "TransactItems"));
  if (!items) errors.AddNull("transactItems");
  ASSIGN_OR_RETURN(CapacityMode capacity, ParseCapacityMode(request, errors));
  if (items && (items->Size() == 0 || items->Size() > kMaxTransactItems)) {
    errors.AddConstraint("'[...]'", "transactItems",
                         items->Size() == 0 ? "Member must have length greater than or equal to 1"
                                            : "Member must have length less than or equal to 100");
  }
  RETURN_IF_ERROR(errors.ToStatus());
  std::vector<std::pair<std::shared_ptr<table::TableHandle>, table::Item>> keys;
  std::vector<ParsedExpressions> exprs;
  std::set<std::pair<uint64_t, std::string>> seen;
  for (const auto& element : items->GetArray()) {
    RETURN_IF_ERROR(ExpectObject(element));
    ASSIGN_OR_RETURN(const JsonValue* get, GetObject(element, "Get"));
    if (!get) return Invalid("1 validation error detected: Value null at 'transactItems.member.get' failed to satisfy constraint: Member must not be null");
    ASSIGN_OR_RETURN(std::optional<std::string_view> table_name, GetString(*get, "TableName"));
    ValidationErrors item_errors;
    CheckTableName(table_name, "transactItems.member.get.tableName", item_errors);
    RETURN_IF_ERROR(item_errors.ToStatus());
    const JsonValue* key_json = FindMember(*get, "Key");
    if (!key_json) return Invalid("1 validation error detected: Value null at 'transactItems.member.get.key' failed to satisfy constraint: Member must not be null");
    ASSIGN_OR_RETURN(table::Item key, ParseAttributeMap(*key_json));
    ASSIGN_OR_RETURN(ParsedExpressions expr, ParseExpressions(*get, {.projection = true}));
    ASSIGN_OR_RETURN(auto handle, FindTable(*table_name, context));
    auto def = handle->def();
    RETURN_IF_ERROR(table::TableStore::ValidateKey(*def, key));
    if (!seen.emplace(def->table_id, KeyIdentity(*def, key)).second) {
      return Invalid("Transaction request cannot include multiple operations on one item");
    }
    keys.emplace_back(std::move(handle), std::move(key));
    exprs.push_back(std::move(expr));
  }
  ASSIGN_OR_RETURN(std::vector<std::optional<table::Item>> found, store_.TransactGet(keys));
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("Responses");
  w.StartArray();
  std::map<std::string, double> units;
  for (size_t i = 0; i < found.size(); ++i) {
    w.StartObject();
    if (found[i]) {
      w.Key("Item");
      WriteAttributeMap(w, exprs[i].projection ? exprs[i].projection->Apply(*found[i]) : *found[i]);
    }
    w.EndObject();
    units[keys[i].first->def()->name] +=
        2 * ReadUnits(found[i] ? table::ItemSizeBytes(*found[i]) : 0, true);
  }
  w.EndArray();
  WriteCapacityList(w, capacity, units, /*read=*/true);
  w.EndObject();
  return Finish(buffer);
}

}  // namespace salespipe::services::dynamodb
