#include "services/dynamodb_streams/change_format.h"

#include <random>

#include "common/crypto.h"
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

// 32 hex digits, like AWS's stream eventIDs; unique enough for an id nobody parses.
std::string EventId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = rng();
    for (int i = 0; i < 16; ++i, bits >>= 4) id[half * 16 + i] = kHex[bits & 15];
  }
  return id;
}

std::string Finish(rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

cdc::SplicedRecord ChangeFormatter::StreamRecord(const cdc::Change& change,
                                                 std::string_view view_type) const {
  const table::Item& any = change.new_item ? *change.new_item : *change.old_item;
  const table::Item keys = table::TableStore::KeyOf(change.table, any);
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
  WriteString(w, EventId());
  w.Key("eventName");
  WriteString(w, EventName(change));
  w.Key("eventVersion");
  w.String("1.1");
  w.Key("eventSource");
  w.String("aws:dynamodb");
  w.Key("awsRegion");
  WriteString(w, change.table.region);
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
  w.String("");
  const size_t splice_at = buffer.GetSize() - 1;  // between the two quotes
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
  return {.json = Finish(buffer), .splice_at = splice_at};
}

cdc::SplicedRecord ChangeFormatter::DestinationRecord(const cdc::Change& change) const {
  const table::Item& any = change.new_item ? *change.new_item : *change.old_item;
  const table::Item keys = table::TableStore::KeyOf(change.table, any);
  size_t size = table::ItemSizeBytes(keys);
  if (change.new_item) size += table::ItemSizeBytes(*change.new_item);
  if (change.old_item) size += table::ItemSizeBytes(*change.old_item);

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("awsRegion");
  WriteString(w, change.table.region);
  w.Key("eventID");
  WriteString(w, NewUuid());
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
  WriteString(w, change.table.name);
  w.Key("dynamodb");
  w.StartObject();
  w.Key("ApproximateCreationDateTime");
  w.Int(0);
  const size_t splice_at = buffer.GetSize() - 1;  // the placeholder digit, removed below
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
  std::string json = Finish(buffer);
  json.erase(splice_at, 1);
  return {.json = std::move(json), .splice_at = splice_at};
}

}  // namespace salespipe::services::dynamodb_streams
