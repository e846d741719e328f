// PutItem, GetItem, UpdateItem, DeleteItem.
#include "common/logging.h"
#include "services/dynamodb/attribute_json.h"
#include "services/dynamodb/dynamodb_service.h"
#include "services/dynamodb/ops_common.h"
#include "services/dynamodb/request_expressions.h"
#include "table/item_codec.h"

namespace salespipe::services::dynamodb {
namespace {

constexpr size_t kMaxItemBytes = 400 * 1024;

Status Invalid(std::string msg) { return Status::InvalidArgument(std::move(msg)); }

// What every single-item operation reads before it touches storage.
struct ItemRequest {
  std::string_view table_name;
  std::string_view return_values = "NONE";
  bool old_on_failure = false;  // ReturnValuesOnConditionCheckFailure = ALL_OLD
  CapacityMode capacity = CapacityMode::kNone;
};

Result<ItemRequest> ReadItemRequest(const JsonValue& request, std::string_view item_member,
                                    std::initializer_list<std::string_view> return_values,
                                    bool reads) {
  ValidationErrors errors;
  ItemRequest out;
  ASSIGN_OR_RETURN(std::optional<std::string_view> table_name, GetString(request, "TableName"));
  CheckTableName(table_name, "tableName", errors);
  ASSIGN_OR_RETURN(const JsonValue* item, GetObject(request, item_member));
  if (!item) {
    std::string path(item_member);
    path[0] = static_cast<char>(std::tolower(path[0]));
    errors.AddNull(path);
  }
  ASSIGN_OR_RETURN(out.capacity, ParseCapacityMode(request, errors));
  if (!reads) {
    ASSIGN_OR_RETURN(std::optional<std::string_view> rv, GetString(request, "ReturnValues"));
    CheckEnum(rv, "returnValues", {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"},
              errors);
    ASSIGN_OR_RETURN(std::optional<std::string_view> on_failure,
                     GetString(request, "ReturnValuesOnConditionCheckFailure"));
    CheckEnum(on_failure, "returnValuesOnConditionCheckFailure", {"ALL_OLD", "NONE"}, errors);
    RETURN_IF_ERROR(errors.ToStatus());
    if (rv) {
      bool allowed = false;
      for (auto a : return_values) allowed |= (a == *rv);
      if (!allowed) return Invalid("ReturnValues can only be ALL_OLD or NONE");
      out.return_values = *rv;
    }
    out.old_on_failure = on_failure && *on_failure == "ALL_OLD";
  }
  RETURN_IF_ERROR(errors.ToStatus());
  out.table_name = *table_name;
  return out;
}

Status ConditionFailed(const table::WriteOutcome& outcome, bool old_on_failure) {
  Status status = Status::FailedPrecondition("The conditional request failed");
  if (old_on_failure && outcome.old_item) {
    return std::move(status).WithDetails(ItemDetails(*outcome.old_item));
  }
  return status;
}

std::string Finish(rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

size_t EncodedSize(const std::optional<table::Item>& item) {
  return item ? table::ItemSizeBytes(*item) : 0;
}

}  // namespace

Result<std::string> DynamoDbService::PutItem(const JsonValue& request,
                                             const RequestContext& context) {
  ASSIGN_OR_RETURN(ItemRequest req, ReadItemRequest(request, "Item", {"NONE", "ALL_OLD"}, false));
  ASSIGN_OR_RETURN(table::Item item, ParseAttributeMap(*FindMember(request, "Item")));
  if (table::ItemSizeBytes(item) > kMaxItemBytes) {
    return Invalid("Item size has exceeded the maximum allowed size");
  }
  ASSIGN_OR_RETURN(ParsedExpressions expr, ParseExpressions(request, {.condition = true}));
  ASSIGN_OR_RETURN(auto handle, FindTable(req.table_name, context));
  RETURN_IF_ERROR(table::TableStore::ValidateItem(*handle->def(), item));
  size_t new_size = table::ItemSizeBytes(item);
  ASSIGN_OR_RETURN(table::WriteOutcome outcome,
                   store_.Put(*handle, std::move(item), expr.condition_ptr()));
  if (outcome.condition_failed) return ConditionFailed(outcome, req.old_on_failure);

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  if (req.return_values == "ALL_OLD" && outcome.old_item) {
    w.Key("Attributes");
    WriteAttributeMap(w, *outcome.old_item);
  }
  IndexUnits index_units = IndexWriteUnits(*handle->def(), outcome.old_item, outcome.new_item);
  WriteConsumedCapacity(w, req.capacity, handle->def()->name,
                        WriteUnits(std::max(new_size, EncodedSize(outcome.old_item))), false,
                        &index_units);
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbService::GetItem(const JsonValue& request,
                                             const RequestContext& context) {
  ASSIGN_OR_RETURN(ItemRequest req, ReadItemRequest(request, "Key", {}, true));
  ASSIGN_OR_RETURN(std::optional<bool> consistent, GetBool(request, "ConsistentRead"));
  ASSIGN_OR_RETURN(table::Item key, ParseAttributeMap(*FindMember(request, "Key")));
  ASSIGN_OR_RETURN(ParsedExpressions expr, ParseExpressions(request, {.projection = true}));
  ASSIGN_OR_RETURN(auto handle, FindTable(req.table_name, context));
  RETURN_IF_ERROR(table::TableStore::ValidateKey(*handle->def(), key));
  ASSIGN_OR_RETURN(std::optional<table::Item> item, store_.Get(*handle, key));

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  if (item) {
    w.Key("Item");
    WriteAttributeMap(w, expr.projection ? expr.projection->Apply(*item) : *item);
  }
  WriteConsumedCapacity(w, req.capacity, handle->def()->name,
                        ReadUnits(EncodedSize(item), consistent.value_or(false)), true);
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbService::UpdateItem(const JsonValue& request,
                                                const RequestContext& context) {
  ASSIGN_OR_RETURN(ItemRequest req,
                   ReadItemRequest(request, "Key",
                                   {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"},
                                   false));
  ASSIGN_OR_RETURN(table::Item key, ParseAttributeMap(*FindMember(request, "Key")));
  ASSIGN_OR_RETURN(ParsedExpressions expr,
                   ParseExpressions(request, {.condition = true, .update = true}));
  ASSIGN_OR_RETURN(auto handle, FindTable(req.table_name, context));
  auto def = handle->def();
  RETURN_IF_ERROR(table::TableStore::ValidateKey(*def, key));
  if (expr.update) {
    for (const std::string& name : expr.update->TopLevelAttributes()) {
      if (name == def->keys.hash.name || (def->keys.range && name == def->keys.range->name)) {
        return Invalid("One or more parameter values were invalid: Cannot update attribute " +
                       name + ". This attribute is part of the key");
      }
    }
  }
  ASSIGN_OR_RETURN(table::WriteOutcome outcome,
                   store_.Update(*handle, key, expr.update_ptr(), expr.condition_ptr()));
  if (outcome.condition_failed) return ConditionFailed(outcome, req.old_on_failure);

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  std::optional<table::Item> attributes;
  if (req.return_values == "ALL_OLD") {
    attributes = outcome.old_item;
  } else if (req.return_values == "ALL_NEW") {
    attributes = outcome.new_item;
  } else if (req.return_values == "UPDATED_OLD" && outcome.old_item && expr.update) {
    attributes = expr.update->UpdatedAttributes(*outcome.old_item);
  } else if (req.return_values == "UPDATED_NEW" && outcome.new_item && expr.update) {
    attributes = expr.update->UpdatedAttributes(*outcome.new_item);
  }
  if (attributes && !attributes->empty()) {
    w.Key("Attributes");
    WriteAttributeMap(w, *attributes);
  }
  IndexUnits index_units = IndexWriteUnits(*def, outcome.old_item, outcome.new_item);
  WriteConsumedCapacity(w, req.capacity, def->name,
                        WriteUnits(std::max(EncodedSize(outcome.new_item),
                                            EncodedSize(outcome.old_item))),
                        false, &index_units);
  w.EndObject();
  return Finish(buffer);
}

Result<std::string> DynamoDbService::DeleteItem(const JsonValue& request,
                                                const RequestContext& context) {
  ASSIGN_OR_RETURN(ItemRequest req, ReadItemRequest(request, "Key", {"NONE", "ALL_OLD"}, false));
  ASSIGN_OR_RETURN(table::Item key, ParseAttributeMap(*FindMember(request, "Key")));
  ASSIGN_OR_RETURN(ParsedExpressions expr, ParseExpressions(request, {.condition = true}));
  ASSIGN_OR_RETURN(auto handle, FindTable(req.table_name, context));
  RETURN_IF_ERROR(table::TableStore::ValidateKey(*handle->def(), key));
  ASSIGN_OR_RETURN(table::WriteOutcome outcome,
                   store_.Delete(*handle, key, expr.condition_ptr()));
  if (outcome.condition_failed) return ConditionFailed(outcome, req.old_on_failure);

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  if (req.return_values == "ALL_OLD" && outcome.old_item) {
    w.Key("Attributes");
    WriteAttributeMap(w, *outcome.old_item);
  }
  IndexUnits index_units = IndexWriteUnits(*handle->def(), outcome.old_item, std::nullopt);
  WriteConsumedCapacity(w, req.capacity, handle->def()->name,
                        WriteUnits(EncodedSize(outcome.old_item)), false, &index_units);
  w.EndObject();
  return Finish(buffer);
}

}  // namespace salespipe::services::dynamodb
