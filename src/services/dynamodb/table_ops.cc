// Table management: CreateTable, DescribeTable, DeleteTable, ListTables, UpdateTable.
// (TTL, tags, limits, endpoints, backups and Kinesis destinations: table_settings_ops.cc.)
//
// Every operation checks its request in AWS's order before touching the catalog:
//   1. JSON types (SerializationException, the first one found ends the request),
//   2. model constraints from the botocore model, aggregated into one ValidationException
//      ("N validation errors detected: ...", at most 10 like AWS),
//   3. semantic checks that need no table, with DynamoDB's own messages,
//   4. the table lookup (ResourceNotFoundException / ResourceInUseException),
//   5. checks against the table's current definition.
// Changes to a table's definition hold its op_mu() exclusively, so they are serialized with
// each other and with item writes (which hold it shared).
// Differences from AWS are listed in docs/compat/dynamodb.md (section "Table management").


#include <algorithm>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "common/logging.h"
#include "services/dynamodb/dynamodb_service.h"

#include "cdc/change_capture.h"
#include "cdc/kinesis_connector.h"

#include "services/dynamodb/table_request.h"

namespace salespipe::services::dynamodb {


// --- DynamoDbService members -----------------------------------------------------------------

void DynamoDbService::WriteTableDescription(JsonWriter& w, const TableHandle& table,
                                            std::string_view status) const {
  auto def = table.def();
  const auto& stats = table.stats();
  w.StartObject();
  WriteDescriptionMembers(w, *def, stats.item_count.load(), stats.size_bytes.load(), status);
  w.EndObject();
}

Result<std::string> DynamoDbService::CreateTable(const JsonValue& request,
                                                 const RequestContext& context) {
  // 1. JSON types.
  ASSIGN_OR_RETURN(std::optional<std::string> table_name, ReadString(request, "TableName"));
  ASSIGN_OR_RETURN(auto attribute_definitions, ParseAttributeDefinitions(request));
  ASSIGN_OR_RETURN(auto key_schema, ParseKeySchema(request, "KeySchema"));
  ASSIGN_OR_RETURN(auto local_indexes,
                   ParseIndexList(request, "LocalSecondaryIndexes", /*global=*/false));
  ASSIGN_OR_RETURN(auto global_indexes,
                   ParseIndexList(request, "GlobalSecondaryIndexes", /*global=*/true));
  ASSIGN_OR_RETURN(std::optional<std::string> billing_mode, ReadString(request, "BillingMode"));
  ASSIGN_OR_RETURN(std::optional<ThroughputSpec> throughput, ParseThroughput(request));
  ASSIGN_OR_RETURN(std::optional<StreamSpec> stream, ParseStream(request));
  ASSIGN_OR_RETURN(std::optional<SseSpec> sse, ParseSse(request));
  ASSIGN_OR_RETURN(auto tags, ParseTags(request));
  ASSIGN_OR_RETURN(std::optional<std::string> table_class, ReadString(request, "TableClass"));
  ASSIGN_OR_RETURN(std::optional<bool> deletion_protection,
                   GetBool(request, "DeletionProtectionEnabled"));
  RETURN_IF_ERROR(ParseIgnoredStructs(request));
  RETURN_IF_ERROR(GetString(request, "ResourcePolicy"));

  // 2. Model constraints.
  Constraints c;
  CheckAttributeDefinitions(c, attribute_definitions, "attributeDefinitions", /*required=*/true);
  if (!table_name) {
    c.Null("tableName");
  } else {
    CheckName(c, *table_name, "tableName");
  }
  CheckKeySchema(c, key_schema, "keySchema");
  if (local_indexes) {
    for (size_t i = 0; i < local_indexes->size(); ++i) {
      CheckIndex(c, (*local_indexes)[i], Member("localSecondaryIndexes", i, ""));
    }
  }
  if (global_indexes) {
    for (size_t i = 0; i < global_indexes->size(); ++i) {
      CheckIndex(c, (*global_indexes)[i], Member("globalSecondaryIndexes", i, ""));
    }
  }
  CheckEnum(c, billing_mode, "billingMode", {"PROVISIONED", "PAY_PER_REQUEST"});
  CheckThroughput(c, throughput, "provisionedThroughput");
  CheckStream(c, stream, "streamSpecification");
  CheckSse(c, sse, "sSESpecification");
  if (tags) CheckTags(c, *tags, "tags");
  CheckEnum(c, table_class, "tableClass", {"STANDARD", "STANDARD_INFREQUENT_ACCESS"});
  RETURN_IF_ERROR(c.ToStatus());

  // 3. Semantic checks, in DynamoDB's order.
  const bool provisioned = billing_mode.value_or("PROVISIONED") == "PROVISIONED";
  if (!provisioned && throughput) {
    return Invalid(
        "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
        "PAY_PER_REQUEST");
  }
  if (provisioned) {
    if (!throughput) {
      return Invalid(
          "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is "
          "PROVISIONED");
    }
    RETURN_IF_ERROR(CheckCapacityBounds(*throughput));
  }
  std::vector<std::string> defined;
  std::map<std::string, AttributeType> types;
  for (const auto& d : *attribute_definitions) {
    if (types.count(*d.name)) {
      return Status::InvalidArgument("Attribute Name is duplicated: " + *d.name);
    }
    defined.push_back(*d.name);
    types[*d.name] = ScalarType(*d.type);
  }
  RETURN_IF_ERROR(CheckKeySchemaSemantics(*key_schema, defined, /*is_table=*/true));
  if (!local_indexes && !global_indexes && key_schema->size() != defined.size()) {
    return Invalid(
        "Number of attributes in KeySchema does not exactly match number of attributes defined "
        "in AttributeDefinitions");
  }
  std::set<std::string> used_attributes;
  for (const auto& name : KeyNames(*key_schema)) used_attributes.insert(name);
  std::set<std::string> index_names;
  if (local_indexes) {
    if (local_indexes->empty()) return Invalid("List of LocalSecondaryIndexes is empty");
    if (key_schema->size() != 2) {
      return Invalid(
          "Table KeySchema does not have a range key, which is required when specifying a "
          "LocalSecondaryIndex");
    }
    const std::string& table_hash = *(*key_schema)[0].name;
    for (const auto& index : *local_indexes) {
      RETURN_IF_ERROR(CheckKeySchemaSemantics(*index.keys, defined, /*is_table=*/false));
      if (index.keys->size() != 2) {
        return Invalid("Index KeySchema does not have a range key for index: " + *index.name);
      }
      const std::string& index_hash = *(*index.keys)[0].name;
      if (index_hash != table_hash) {
        return Invalid(
            "Index KeySchema does not have the same leading hash key as table KeySchema for "
            "index: " +
            *index.name + ". index hash key: " + index_hash + ", table hash key: " + table_hash);
      }
      RETURN_IF_ERROR(CheckProjectionSemantics(*index.projection));
      if (!index_names.insert(*index.name).second) {
        return Invalid("Duplicate index name: " + *index.name);
      }
      for (const auto& name : KeyNames(*index.keys)) used_attributes.insert(name);
    }
    if (local_indexes->size() > kMaxLocalIndexes) {
      return Invalid("Number of LocalSecondaryIndexes exceeds per-table limit of " +
                     std::to_string(kMaxLocalIndexes));
    }
  }
  if (global_indexes) {
    if (global_indexes->empty()) return Invalid("List of GlobalSecondaryIndexes is empty");
    for (const auto& index : *global_indexes) {
      RETURN_IF_ERROR(CheckKeySchemaSemantics(*index.keys, defined, /*is_table=*/false));
      RETURN_IF_ERROR(CheckProjectionSemantics(*index.projection));
      if (provisioned && !index.throughput) {
        return Invalid("ProvisionedThroughput is not specified for index: " + *index.name);
      }
      if (!provisioned && index.throughput) {
        return Invalid("ProvisionedThroughput should not be specified for index: " + *index.name +
                       " when BillingMode is PAY_PER_REQUEST");
      }
      if (index.throughput) RETURN_IF_ERROR(CheckCapacityBounds(*index.throughput));
      if (!index_names.insert(*index.name).second) {
        return Invalid("Duplicate index name: " + *index.name);
      }
      for (const auto& name : KeyNames(*index.keys)) used_attributes.insert(name);
    }
    if (global_indexes->size() > kMaxGlobalIndexes) {
      return Invalid("GlobalSecondaryIndex count exceeds the per-table limit of " +
                     std::to_string(kMaxGlobalIndexes));
    }
  }
  if (used_attributes.size() != defined.size()) {
    return Invalid("Some AttributeDefinitions are not used. AttributeDefinitions: [" +
                   Join(defined) + "], keys used: [" +
                   Join(std::vector<std::string>(used_attributes.begin(), used_attributes.end())) +
                   "]");
  }
  if (stream) RETURN_IF_ERROR(CheckStreamSemantics(*stream, /*creating=*/true));
  if (sse) RETURN_IF_ERROR(CheckSseSemantics(*sse));
  if (tags) {
    RETURN_IF_ERROR(CheckTagSemantics(*tags));
    if (tags->size() > kMaxTags) return TooManyTags();
  }

  // 4. The name must be free. Checked before allocating ids (Catalog::Create checks again).
  if (catalog_.Get(context.account_id, context.region, *table_name).ok()) {
    return Status::AlreadyExists("Table already exists: " + *table_name);
  }

  TableDef def;
  def.account_id = context.account_id;
  def.region = context.region;
  def.name = *table_name;
  ASSIGN_OR_RETURN(def.table_id, catalog_.AllocateId());
  def.table_uuid = NewUuid();
  def.creation_millis = clock_.NowMillis();
  def.keys = ToKeySchema(*key_schema, types);
  def.attribute_definitions = types;
  def.billing_mode = provisioned ? "PROVISIONED" : "PAY_PER_REQUEST";
  if (provisioned) {
    def.read_capacity = *throughput->read;
    def.write_capacity = *throughput->write;
  }
  for (const auto* list : {&local_indexes, &global_indexes}) {
    if (!*list) continue;
    const bool local = list == &local_indexes;
    for (const auto& spec : **list) {
      ASSIGN_OR_RETURN(uint64_t index_id, catalog_.AllocateId());
      def.indexes.push_back(ToIndexDef(spec, local, index_id, types, provisioned));
    }
  }
  if (stream && *stream->enabled) {
    def.stream.enabled = true;
    def.stream.view_type = *stream->view_type;
    def.latest_stream_label = StreamLabel(def.creation_millis);
  }
  if (tags) {
    for (const auto& tag : *tags) def.tags[*tag.key] = *tag.value;
  }
  def.deletion_protection = deletion_protection.value_or(false);
  def.table_class = table_class.value_or("STANDARD");
  const std::string account_id = def.account_id;
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle, catalog_.Create(std::move(def)));
  // The stream exists from the first moment, so DescribeTable's LatestStreamArn resolves.
  if (capture_) RETURN_IF_ERROR(capture_->SyncStreams(*handle->def()));

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "TableDescription");
  w.StartObject();
  // AWS answers CREATING here; the table is already usable, so salespipe says so
  // (docs/compat/dynamodb.md; waiters accept either).
  WriteDescriptionMembers(w, *handle->def(), 0, 0, "ACTIVE");
  if (sse && sse->enabled.value_or(false)) {
    WriteKey(w, "SSEDescription");
    w.StartObject();
    WriteKey(w, "Status");
    WriteString(w, "ENABLED");
    WriteKey(w, "SSEType");
    WriteString(w, "KMS");
    WriteKey(w, "KMSMasterKeyArn");
    std::string key = sse->kms_key.value_or(NewUuid());
    WriteString(w, key.starts_with("arn:")
                       ? key
                       : "arn:aws:kms:" + context.region + ":" + account_id + ":key/" + key);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbService::DescribeTable(const JsonValue& request,
                                                   const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string> table_name, ReadString(request, "TableName"));
  Constraints c;
  CheckTableNameOrArn(c, table_name, "tableName");
  RETURN_IF_ERROR(c.ToStatus());
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle,
                   FindTable(*table_name, context, /*describe_message=*/true));
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "Table");
  WriteTableDescription(w, *handle, "ACTIVE");
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbService::DeleteTable(const JsonValue& request,
                                                 const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string> table_name, ReadString(request, "TableName"));
  Constraints c;
  CheckTableNameOrArn(c, table_name, "tableName");
  RETURN_IF_ERROR(c.ToStatus());
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle,
                   FindTable(*table_name, context, /*describe_message=*/true));
  // Waits for in-flight item operations; none can start on this handle afterwards.
  std::unique_lock lock(handle->op_mu());
  if (handle->deleted()) return TableNotFound(handle->def()->name);
  if (handle->def()->deletion_protection) {
    // AWS answers ValidationException here, not ResourceInUseException
    // (test_dynamodb_tables.py::DeleteListTest::test_deletion_protection).
    return Status::InvalidArgument(
        "Resource cannot be deleted as it is currently protected against deletion. Disable "
        "deletion protection first.");
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "TableDescription");
  WriteTableDescription(w, *handle, "DELETING");
  w.EndObject();
  const TableDef dropped_def = *handle->def();
  RETURN_IF_ERROR(store_.DropTable(*handle));
  // Its streams stay readable (DISABLED) for 24 hours, as on AWS.
  if (capture_) RETURN_IF_ERROR(capture_->TableDeleted(dropped_def));
  return Finish(buffer);
}

Result<std::string> DynamoDbService::ListTables(const JsonValue& request,
                                                const RequestContext& context) {
  ASSIGN_OR_RETURN(std::optional<std::string> start,
                   ReadString(request, "ExclusiveStartTableName"));
  ASSIGN_OR_RETURN(std::optional<int64_t> limit, GetInteger(request, "Limit"));
  Constraints c;
  if (start) CheckName(c, *start, "exclusiveStartTableName");
  if (limit && *limit < 1) {
    c.Bad(std::to_string(*limit), "limit", "Member must have value greater than or equal to 1");
  }
  if (limit && *limit > 100) {
    c.Bad(std::to_string(*limit), "limit", "Member must have value less than or equal to 100");
  }
  RETURN_IF_ERROR(c.ToStatus());

  const size_t page = static_cast<size_t>(limit.value_or(100));
  // One more than the page tells whether another page follows: AWS sends no
  // LastEvaluatedTableName when the page ends exactly at the last table.
  std::vector<std::string> names =
      catalog_.List(context.account_id, context.region, start.value_or(""), page + 1);
  const bool more = names.size() > page;
  if (more) names.resize(page);

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "TableNames");
  w.StartArray();
  for (const auto& name : names) WriteString(w, name);
  w.EndArray();
  if (more) {
    WriteKey(w, "LastEvaluatedTableName");
    WriteString(w, names.back());
  }
  w.EndObject();
  return Finish(buffer);
}

namespace {

struct GsiUpdateSpec {
  std::optional<IndexSpec> create;
  std::optional<IndexSpec> update;
  std::optional<IndexSpec> remove;

  const std::optional<std::string>& name() const {
    if (create) return create->name;
    if (update) return update->name;
    return remove->name;
  }
};

// An absent list reads as empty: both mean "no index changes".
Result<std::vector<GsiUpdateSpec>> ParseGsiUpdates(const JsonValue& request) {
  ASSIGN_OR_RETURN(const JsonValue* list, GetArray(request, "GlobalSecondaryIndexUpdates"));
  std::vector<GsiUpdateSpec> updates;
  if (!list) return updates;
  for (const JsonValue& v : list->GetArray()) {
    RETURN_IF_ERROR(ExpectObject(v));
    GsiUpdateSpec spec;
    ASSIGN_OR_RETURN(const JsonValue* create, GetObject(v, "Create"));
    if (create) {
      ASSIGN_OR_RETURN(spec.create, ParseIndex(*create, /*with_keys=*/true, /*with_tp=*/true));
    }
    ASSIGN_OR_RETURN(const JsonValue* update, GetObject(v, "Update"));
    if (update) {
      ASSIGN_OR_RETURN(spec.update, ParseIndex(*update, /*with_keys=*/false, /*with_tp=*/true));
    }
    ASSIGN_OR_RETURN(const JsonValue* remove, GetObject(v, "Delete"));
    if (remove) {
      ASSIGN_OR_RETURN(spec.remove, ParseIndex(*remove, /*with_keys=*/false, /*with_tp=*/false));
    }
    updates.push_back(std::move(spec));
  }
  return updates;
}

Status IndexNotFound(std::string_view index, std::string_view table) {
  return Status::NotFound("Requested resource not found: Index " + std::string(index) +
                          " for table " + std::string(table));
}

}  // namespace

Result<std::string> DynamoDbService::UpdateTable(const JsonValue& request,
                                                 const RequestContext& context) {
  // 1. JSON types.
  ASSIGN_OR_RETURN(std::optional<std::string> table_name, ReadString(request, "TableName"));
  ASSIGN_OR_RETURN(auto attribute_definitions, ParseAttributeDefinitions(request));
  ASSIGN_OR_RETURN(std::optional<std::string> billing_mode, ReadString(request, "BillingMode"));
  ASSIGN_OR_RETURN(std::optional<ThroughputSpec> throughput, ParseThroughput(request));
  ASSIGN_OR_RETURN(std::vector<GsiUpdateSpec> gsi_updates, ParseGsiUpdates(request));
  ASSIGN_OR_RETURN(std::optional<StreamSpec> stream, ParseStream(request));
  ASSIGN_OR_RETURN(std::optional<SseSpec> sse, ParseSse(request));
  ASSIGN_OR_RETURN(const JsonValue* replica_updates, GetArray(request, "ReplicaUpdates"));
  ASSIGN_OR_RETURN(std::optional<std::string> table_class, ReadString(request, "TableClass"));
  ASSIGN_OR_RETURN(std::optional<bool> deletion_protection,
                   GetBool(request, "DeletionProtectionEnabled"));
  ASSIGN_OR_RETURN(const JsonValue* on_demand, GetObject(request, "OnDemandThroughput"));
  ASSIGN_OR_RETURN(const JsonValue* warm, GetObject(request, "WarmThroughput"));
  RETURN_IF_ERROR(ParseIgnoredStructs(request));

  // 2. Model constraints.
  Constraints c;
  CheckAttributeDefinitions(c, attribute_definitions, "attributeDefinitions",
                            /*required=*/false);
  CheckTableNameOrArn(c, table_name, "tableName");
  CheckEnum(c, billing_mode, "billingMode", {"PROVISIONED", "PAY_PER_REQUEST"});
  CheckThroughput(c, throughput, "provisionedThroughput");
  for (size_t i = 0; i < gsi_updates.size(); ++i) {
    const auto& u = gsi_updates[i];
    std::string path = Member("globalSecondaryIndexUpdates", i, "");
    if (u.create) CheckIndex(c, *u.create, Child(path, "create"));
    if (u.update) {
      CheckIndexName(c, u.update->name, Child(path, "update.indexName"));
      CheckThroughput(c, u.update->throughput, Child(path, "update.provisionedThroughput"));
    }
    if (u.remove) CheckIndexName(c, u.remove->name, Child(path, "delete.indexName"));
  }
  CheckStream(c, stream, "streamSpecification");
  CheckSse(c, sse, "sSESpecification");
  CheckEnum(c, table_class, "tableClass", {"STANDARD", "STANDARD_INFREQUENT_ACCESS"});
  RETURN_IF_ERROR(c.ToStatus());

  // 3. Semantic checks that need no table.
  const bool has_gsi_updates = !gsi_updates.empty();
  if (!throughput && !billing_mode && !stream && !has_gsi_updates && !sse && !replica_updates &&
      !deletion_protection && !on_demand && !warm && !table_class) {
    return Status::InvalidArgument(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, "
        "MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, "
        "DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is "
        "required");
  }
  if (replica_updates) {
    return Invalid("ReplicaUpdates are not supported: salespipe has no global tables");
  }
  if (sse && (throughput || billing_mode || stream || has_gsi_updates || deletion_protection ||
              table_class)) {
    return Invalid("Server-Side Encryption modification must be the only operation in the request");
  }
  if (billing_mode == "PAY_PER_REQUEST" && throughput) {
    return Invalid(
        "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
        "PAY_PER_REQUEST");
  }
  if (throughput) RETURN_IF_ERROR(CheckCapacityBounds(*throughput));
  if (stream) RETURN_IF_ERROR(CheckStreamSemantics(*stream, /*creating=*/false));
  int structural_changes = 0;  // GSI creations and deletions
  std::set<std::string> seen;
  for (const auto& u : gsi_updates) {
    int actions = (u.create ? 1 : 0) + (u.update ? 1 : 0) + (u.remove ? 1 : 0);
    if (actions == 0) {
      return Invalid(
          "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
          "GlobalSecondaryIndexUpdate.Delete must not be null");
    }
    if (actions > 1) {
      return Invalid(
          "Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate "
          "object");
    }
    if (!seen.insert(*u.name()).second) {
      return Invalid(
          "Only one global secondary index update per index is allowed simultaneously. "
          "Index: " +
          *u.name());
    }
    if (u.create) {
      RETURN_IF_ERROR(CheckProjectionSemantics(*u.create->projection));
      if (u.create->throughput) RETURN_IF_ERROR(CheckCapacityBounds(*u.create->throughput));
    }
    if (u.update && u.update->throughput) {
      RETURN_IF_ERROR(CheckCapacityBounds(*u.update->throughput));
    }
    if (u.create || u.remove) ++structural_changes;
  }
  if (structural_changes > 0 && stream) {
    return Invalid("You cannot create or delete index while changing stream status");
  }
  if (structural_changes > 0 && throughput) {
    return Invalid("You cannot create or delete index while updating table IOPS");
  }
  if (stream && throughput) {
    return Invalid("You cannot modify stream status while updating table IOPS");
  }
  if (structural_changes > 1) {
    // DynamoDB builds one index at a time per UpdateTable call.
    return Status::ResourceExhausted(
               "Subscriber limit exceeded: Only 1 online index can be created or deleted "
               "simultaneously per table")
        .WithAwsCode("LimitExceededException");
  }
  std::map<std::string, AttributeType> requested_types;
  if (attribute_definitions) {
    for (const auto& d : *attribute_definitions) {
      if (requested_types.count(*d.name)) {
        return Status::InvalidArgument("Attribute Name is duplicated: " + *d.name);
      }
      requested_types[*d.name] = ScalarType(*d.type);
    }
  }

  // 4. The table, locked against item operations and other definition changes.
  ASSIGN_OR_RETURN(std::shared_ptr<TableHandle> handle,
                   FindTable(*table_name, context, /*describe_message=*/true));
  std::unique_lock lock(handle->op_mu());
  if (handle->deleted()) return TableNotFound(handle->def()->name);
  const TableDef current = *handle->def();
  TableDef next = current;

  // 5. Checks against the current definition, building `next`.
  const bool was_provisioned = current.billing_mode == "PROVISIONED";
  const bool provisioned = billing_mode.value_or(current.billing_mode) == "PROVISIONED";
  if (!provisioned && throughput) {
    return Invalid(
        "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
        "PAY_PER_REQUEST");
  }
  if (provisioned && !was_provisioned && !throughput) {
    return Invalid("ProvisionedThroughput must be specified when BillingMode is PROVISIONED");
  }
  next.billing_mode = provisioned ? "PROVISIONED" : "PAY_PER_REQUEST";
  if (!provisioned) {
    next.read_capacity = 0;
    next.write_capacity = 0;
    for (auto& index : next.indexes) index.read_capacity = index.write_capacity = 0;
  } else if (throughput) {
    const bool only_change =
        !billing_mode && !stream && !has_gsi_updates && !deletion_protection && !table_class;
    if (only_change && *throughput->read == current.read_capacity &&
        *throughput->write == current.write_capacity) {
      const std::string r = std::to_string(current.read_capacity);
      const std::string wc = std::to_string(current.write_capacity);
      return Status::InvalidArgument(
          "The provisioned throughput for the table will not change. The requested value "
          "equals the current value. Current ReadCapacityUnits provisioned for the table: " +
          r + ". Requested ReadCapacityUnits: " + r +
          ". Current WriteCapacityUnits provisioned for the table: " + wc +
          ". Requested WriteCapacityUnits: " + wc +
          ". Refer to the Amazon DynamoDB Developer Guide for current limits and how to request "
          "higher limits.");
    }
    next.read_capacity = *throughput->read;
    next.write_capacity = *throughput->write;
  }

  std::optional<IndexDef> created;
  std::optional<IndexDef> dropped;
  for (const auto& u : gsi_updates) {
    const std::string& name = *u.name();
    auto existing = std::find_if(next.indexes.begin(), next.indexes.end(),
                                 [&](const IndexDef& i) { return i.name == name; });
    if (u.create) {
      if (existing != next.indexes.end()) {
        return Status::InvalidArgument("Attempting to create an index which already exists");
      }
      size_t globals = std::count_if(next.indexes.begin(), next.indexes.end(),
                                     [](const IndexDef& i) { return !i.local; });
      if (globals >= kMaxGlobalIndexes) {
        return Status::ResourceExhausted(
                   "Subscriber limit exceeded: GlobalSecondaryIndex count exceeds the per-table "
                   "limit of " +
                   std::to_string(kMaxGlobalIndexes))
            .WithAwsCode("LimitExceededException");
      }
      if (!attribute_definitions) {
        return Invalid("AttributeDefinitions is not specified for index: " + name);
      }
      // The index keys may use attributes the table defines already or new ones.
      std::map<std::string, AttributeType> types = current.attribute_definitions;
      std::vector<std::string> defined;
      for (const auto& d : *attribute_definitions) {
        auto it = types.find(*d.name);
        if (it != types.end() && it->second != ScalarType(*d.type)) {
          return Invalid("Cannot change the type of attribute " + *d.name + " from " +
                         std::string(table::TypeName(it->second)) + " to " + *d.type +
                         ": it is part of the table's or an index's key");
        }
        types[*d.name] = ScalarType(*d.type);
        defined.push_back(*d.name);
      }
      for (const auto& [attr, type] : current.attribute_definitions) {
        if (!requested_types.count(attr)) defined.push_back(attr);
      }
      RETURN_IF_ERROR(CheckKeySchemaSemantics(*u.create->keys, defined, /*is_table=*/false));
      if (provisioned && !u.create->throughput) {
        return Invalid("ProvisionedThroughput must be specified for index: " + name);
      }
      if (!provisioned && u.create->throughput) {
        return Invalid(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified for "
            "index: " +
            name + " when BillingMode is PAY_PER_REQUEST");
      }
      IndexDef index = ToIndexDef(*u.create, /*local=*/false, 0, types, provisioned);
      for (const auto* key : {&index.keys.hash, index.keys.range ? &*index.keys.range : nullptr}) {
        if (key) next.attribute_definitions[key->name] = key->type;
      }
      next.indexes.push_back(index);
      created = std::move(index);
    } else if (u.update) {
      if (existing == next.indexes.end()) return IndexNotFound(name, current.name);
      if (existing->local) {
        return Status::InvalidArgument(
            "Cannot update an index that is not a GlobalSecondaryIndex: " + name);
      }
      if (!provisioned) {
        if (u.update->throughput) {
          return Invalid("The only Updates for index: " + name +
                         " when TableThroughputMode is PAY_PER_REQUEST can be to "
                         "OnDemandThroughput, WarmThroughput");
        }
        continue;  // OnDemandThroughput / WarmThroughput only: accepted, not modelled
      }
      if (!u.update->throughput) {
        return Invalid(
            "Both ReadCapacityUnits and WriteCapacityUnits must be specified for "
            "index: " +
            name);
      }
      existing->read_capacity = *u.update->throughput->read;
      existing->write_capacity = *u.update->throughput->write;
    } else {
      if (existing == next.indexes.end()) return IndexNotFound(name, current.name);
      if (existing->local) {
        return Status::InvalidArgument(
            "Cannot delete an index that is not a GlobalSecondaryIndex: " + name);
      }
      dropped = *existing;
      next.indexes.erase(existing);
    }
  }
  if (provisioned && !was_provisioned) {
    // Leaving on-demand: every remaining GSI needs its own throughput in this request.
    for (const auto& index : next.indexes) {
      if (!index.local && index.read_capacity == 0) {
        return Invalid("ProvisionedThroughput must be specified for index: " + index.name);
      }
    }
  }
  PruneAttributeDefinitions(next);

  if (stream) {
    if (*stream->enabled) {
      if (current.stream.enabled) {
        return Status::InvalidArgument("Table already has an enabled stream: TableName: " +
                                       current.name);
      }
      next.stream.enabled = true;
      next.stream.view_type = *stream->view_type;
      next.latest_stream_label = NewStreamLabel(current, clock_.NowMillis());
    } else {
      if (!current.stream.enabled) {
        return Status::InvalidArgument("Table has no stream to disable: TableName: " +
                                       current.name);
      }
      // The label stays: AWS keeps showing LatestStreamArn of the disabled stream.
      next.stream.enabled = false;
      next.stream.view_type.clear();
    }
  }
  if (deletion_protection) next.deletion_protection = *deletion_protection;
  if (table_class) next.table_class = *table_class;

  // op_mu() is held exclusively: the Kinesis destinations' source changes with the stream.
  if (capture_ && stream) RETURN_IF_ERROR(capture_->NoteStreamChange(next));

  // 6. Apply. A new index is filled before the definition naming it is saved, so readers
  // never see a half-built index; a dropped one is removed from the definition first.
  if (created) {
    ASSIGN_OR_RETURN(uint64_t index_id, catalog_.AllocateId());
    for (auto& index : next.indexes) {
      if (index.name == created->name) index.index_id = index_id;
    }
    created->index_id = index_id;
    RETURN_IF_ERROR(store_.BackfillIndex(next, *created));
  }
  Status saved = catalog_.Save(*handle, next);
  if (!saved.ok()) {
    if (created) {
      store_.DropIndex(*created).IgnoreError();  // best effort: the entries are unreachable
    }
    return saved;
  }
  // op_mu() is held exclusively: no write is between the old and the new stream.
  if (capture_ && stream) RETURN_IF_ERROR(capture_->SyncStreams(next));
  if (dropped) {
    Status s = store_.DropIndex(*dropped);
    // The index is gone from the definition; leftover entries are unreachable garbage.
    if (!s.ok())
      SPDLOG_WARN("[{}] DropIndex {}: {}", context.request_id, dropped->name, s.ToString());
  }

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey(w, "TableDescription");
  // AWS answers UPDATING; every change here is complete when the call returns.
  WriteTableDescription(w, *handle, "ACTIVE");
  w.EndObject();
  return Finish(buffer);
}

}  // namespace salespipe::services::dynamodb
