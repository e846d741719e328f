#include "services/dynamodb_streams/change_format.h"

#include "services/dynamodb/attribute_json.h"
#include "services/json.h"
#include "table/table_store.h"

namespace salespipe::services::dynamodb_streams {

namespace {

using dynamodb::WriteAttributeMap;

std::string_view EventName(const cdc::Change& change) {
  if (!change.old_item) return "INSERT";
  if (!change.new_item) return "REMOVE";
  return "MODIFY";
}

std::string Finish(rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

std::string ChangeFormatter::StreamRecord(const cdc::Change& change, std::string_view view_type,
                                          std::string_view sequence_number,
                                          std::string_view event_id) const {
  const table::Item& any = change.new_item ? *change.new_item : *change.old_item;
  const table::Item keys = table::TableStore::KeyOf(change.keys, any);
  const bool keys_only = view_type == "KEYS_ONLY";
  const bool new_image = !keys_only && view_type != "OLD_IMAGE" && change.new_item;
  const bool old_image = !keys_only && view_type != "NEW_IMAGE" && change.old_item;
  size_t size = table::ItemSizeBytes(keys);
  if (new_image) size += table::ItemSizeBytes(*change.new_item);
  if (old_image) size += table::ItemSizeBytes(*change.old_item);

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("eventID");
  WriteString(w, event_id);
  w.Key("eventName");
  WriteString(w, EventName(change));
  w.Key("eventVersion");
  w.String("1.1");
  w.Key("eventSource");
  w.String("aws:dynamodb");
  w.Key("awsRegion");
  WriteString(w, change.region);
  w.Key("dynamodb");
  w.StartObject();
  w.Key("ApproximateCreationDateTime");
  w.Int64(change.micros / 1'000'000);
  w.Key("Keys");
  WriteAttributeMap(w, keys);
  if (new_image) {
    w.Key("NewImage");
    WriteAttributeMap(w, *change.new_item);
  }
  if (old_image) {
    w.Key("OldImage");
    WriteAttributeMap(w, *change.old_item);
  }
  w.Key("SequenceNumber");
  WriteString(w, sequence_number);
  w.Key("SizeBytes");
  w.Uint64(std::max<size_t>(size, 1));
  w.Key("StreamViewType");
  WriteString(w, view_type);
  w.EndObject();
  if (change.origin == table::ChangeOrigin::kTtl) {
    w.Key("userIdentity");
    w.StartObject();
    w.Key("PrincipalId");
    w.String("dynamodb.amazonaws.com");
    w.Key("Type");
    w.String("Service");
    w.EndObject();
  }
  w.EndObject();
  return Finish(buffer);
}

std::string ChangeFormatter::DestinationRecord(const cdc::Change& change, bool microseconds,
                                               std::string_view event_id) const {
  const table::Item& any = change.new_item ? *change.new_item : *change.old_item;
  const table::Item keys = table::TableStore::KeyOf(change.keys, any);
  size_t size = table::ItemSizeBytes(keys);
  if (change.new_item) size += table::ItemSizeBytes(*change.new_item);
  if (change.old_item) size += table::ItemSizeBytes(*change.old_item);

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("awsRegion");
  WriteString(w, change.region);
  w.Key("eventID");
  WriteString(w, event_id);
  w.Key("eventName");
  WriteString(w, EventName(change));
  w.Key("userIdentity");
  if (change.origin == table::ChangeOrigin::kTtl) {
    w.StartObject();
    w.Key("type");
    w.String("Service");
    w.Key("principalId");
    w.String("dynamodb.amazonaws.com");
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("recordFormat");
  w.String("application/json");
  w.Key("tableName");
  WriteString(w, change.table_name);
  w.Key("dynamodb");
  w.StartObject();
  w.Key("ApproximateCreationDateTime");
  w.Int64(microseconds ? change.micros : change.micros / 1000);
  w.Key("Keys");
  WriteAttributeMap(w, keys);
  if (change.new_item) {
    w.Key("NewImage");
    WriteAttributeMap(w, *change.new_item);
  }
  if (change.old_item) {
    w.Key("OldImage");
    WriteAttributeMap(w, *change.old_item);
  }
  w.Key("SizeBytes");
  w.Uint64(std::max<size_t>(size, 1));
  w.EndObject();
  w.Key("eventSource");
  w.String("aws:dynamodb");
  w.EndObject();
  return Finish(buffer);
}

}  // namespace salespipe::services::dynamodb_streams
