#include "services/dynamodb_streams/change_format.h"

#include "common/crypto.h"
#include "services/json.h"
#include "table/item_codec.h"

namespace salespipe::services::dynamodb_streams {

namespace {

using table::AttributeType;
using table::EncodedEntry;

std::string_view EventName(const cdc::Change& change) {
  if (!change.old_image) return "INSERT";
  if (!change.new_image) return "REMOVE";
  return "MODIFY";
}

std::string Finish(rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Writes attribute values as DynamoDB JSON ({"S":..}, {"M":{..}}, ..., as
// dynamodb::WriteAttributeValue) straight from their item_codec encoding, and sums their
// DynamoDB size (AttributeValue::SizeBytes) on the way.
class AttributeJsonVisitor final : public table::EncodedValueVisitor {
 public:
  explicit AttributeJsonVisitor(JsonWriter& w) : w_(w) {}

  // Writes an image or its keys as an attribute map; adds names and values to size().
  void WriteMap(const std::vector<EncodedEntry>& entries) {
    w_.StartObject();
    for (const EncodedEntry& entry : entries) {
      WriteKey(w_, entry.name);
      size_ += entry.name.size();
      std::string_view value = entry.value;
      // SplitItem has walked these bytes already: they are well-formed.
      table::VisitValue(&value, *this).IgnoreError();
    }
    w_.EndObject();
  }
  size_t size() const { return size_; }

  void Null() override {
    Value(1);
    w_.StartObject();
    w_.Key("NULL");
    w_.Bool(true);
    w_.EndObject();
  }
  void Bool(bool value) override {
    Value(1);
    w_.StartObject();
    w_.Key("BOOL");
    w_.Bool(value);
    w_.EndObject();
  }
  void Scalar(AttributeType type, std::string_view bytes) override {
    Value(type == AttributeType::kNumber ? NumberSize(bytes) : bytes.size());
    w_.StartObject();
    WriteKey(w_, table::TypeName(type));
    if (type == AttributeType::kBinary) {
      WriteString(w_, Base64Encode(bytes));
    } else {
      WriteString(w_, bytes);
    }
    w_.EndObject();
  }
  void BeginSet(AttributeType type) override {
    Value(0);
    set_type_ = type;
    w_.StartObject();
    WriteKey(w_, table::TypeName(type));
    w_.StartArray();
  }
  void SetMember(std::string_view bytes) override {
    if (set_type_ == AttributeType::kBinarySet) {
      size_ += bytes.size();
      WriteString(w_, Base64Encode(bytes));
    } else {
      size_ += set_type_ == AttributeType::kNumberSet ? NumberSize(bytes) : bytes.size();
      WriteString(w_, bytes);
    }
  }
  void EndSet() override {
    w_.EndArray();
    w_.EndObject();
  }
  void BeginList() override {
    Value(3);
    ++depth_;
    w_.StartObject();
    w_.Key("L");
    w_.StartArray();
  }
  void EndList() override {
    --depth_;
    w_.EndArray();
    w_.EndObject();
  }
  void BeginMap() override {
    Value(3);
    ++depth_;
    w_.StartObject();
    w_.Key("M");
    w_.StartObject();
  }
  void Key(std::string_view name) override {
    size_ += name.size();
    WriteKey(w_, name);
  }
  void EndMap() override {
    --depth_;
    w_.EndObject();
    w_.EndObject();
  }

 private:
  // A value starts: inside a list or map it costs one byte more (AttributeValue::SizeBytes).
  void Value(size_t size) { size_ += size + (depth_ > 0 ? 1 : 0); }
  static size_t NumberSize(std::string_view canonical) {
    return table::AttributeValue::Number(std::string(canonical)).SizeBytes();
  }

  JsonWriter& w_;
  size_t size_ = 0;
  int depth_ = 0;
  AttributeType set_type_ = AttributeType::kStringSet;
};

}  // namespace

std::string ChangeFormatter::StreamRecord(const cdc::Change& change, std::string_view view_type,
                                          std::string_view sequence_number,
                                          std::string_view event_id) const {
  const std::vector<EncodedEntry>& any = change.new_image ? *change.new_image : *change.old_image;
  const bool keys_only = view_type == "KEYS_ONLY";
  const bool new_image = !keys_only && view_type != "OLD_IMAGE" && change.new_image;
  const bool old_image = !keys_only && view_type != "NEW_IMAGE" && change.old_image;

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  AttributeJsonVisitor attributes(w);
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
  attributes.WriteMap(cdc::KeyEntries(change.keys, any));
  if (new_image) {
    w.Key("NewImage");
    attributes.WriteMap(*change.new_image);
  }
  if (old_image) {
    w.Key("OldImage");
    attributes.WriteMap(*change.old_image);
  }
  w.Key("SequenceNumber");
  WriteString(w, sequence_number);
  w.Key("SizeBytes");
  w.Uint64(std::max<size_t>(attributes.size(), 1));
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
  const std::vector<EncodedEntry>& any = change.new_image ? *change.new_image : *change.old_image;

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  AttributeJsonVisitor attributes(w);
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
  attributes.WriteMap(cdc::KeyEntries(change.keys, any));
  if (change.new_image) {
    w.Key("NewImage");
    attributes.WriteMap(*change.new_image);
  }
  if (change.old_image) {
    w.Key("OldImage");
    attributes.WriteMap(*change.old_image);
  }
  w.Key("SizeBytes");
  w.Uint64(std::max<size_t>(attributes.size(), 1));
  w.EndObject();
  w.Key("eventSource");
  w.String("aws:dynamodb");
  w.EndObject();
  return Finish(buffer);
}

}  // namespace salespipe::services::dynamodb_streams
