#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

// Reading and writing AWS `json`-protocol bodies with RapidJSON. Shared by every JSON service.
namespace salespipe::services {

using JsonValue = rapidjson::Value;
using JsonDocument = rapidjson::Document;
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// A SerializationException (the protocol-level error for a body that isn't the right JSON).
Status SerializationError(std::string message);

// Parses a request body. An empty body counts as `{}`.
// Errors: SerializationException for malformed JSON or a top level that is not an object.
Result<JsonDocument> ParseJsonBody(std::string_view body);

// The member `name` of object `obj`, or nullptr when absent or JSON null.
const JsonValue* FindMember(const JsonValue& obj, std::string_view name);

// Typed member readers: absent/null -> nullopt; a value of the wrong JSON type ->
// SerializationException with the message AWS gives (e.g. "NUMBER_VALUE cannot be
// converted to String", "Start of structure or map found where not expected.").
Result<std::optional<std::string_view>> GetString(const JsonValue& obj, std::string_view name);
Result<std::optional<int64_t>> GetInteger(const JsonValue& obj, std::string_view name);
Result<std::optional<bool>> GetBool(const JsonValue& obj, std::string_view name);
// nullptr when absent/null; SerializationException when present but not an object/array.
Result<const JsonValue*> GetObject(const JsonValue& obj, std::string_view name);
Result<const JsonValue*> GetArray(const JsonValue& obj, std::string_view name);
// The same checks for a bare value (an array element, a map value).
Result<std::string_view> AsString(const JsonValue& value);
Status ExpectObject(const JsonValue& value);

// The JSON type name AWS uses in SerializationException messages (NUMBER_VALUE, ...).
std::string_view JsonTypeToken(const JsonValue& value);

// Collects model-constraint failures into AWS's aggregated ValidationException:
//   "2 validation errors detected: Value null at 'tableName' failed to satisfy constraint:
//    Member must not be null; Value ..."
class ValidationErrors {
 public:
  void Add(std::string message) { messages_.push_back(std::move(message)); }
  // "Value <value> at '<path>' failed to satisfy constraint: <constraint>".
  void AddConstraint(std::string_view value, std::string_view path, std::string_view constraint);
  void AddNull(std::string_view path) { AddConstraint("null", path, "Member must not be null"); }
  bool empty() const { return messages_.empty(); }
  // OK when empty, else kInvalidArgument with the aggregated message.
  Status ToStatus() const;

 private:
  std::vector<std::string> messages_;
};

// Writes a string member value.
inline void WriteString(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
inline void WriteKey(JsonWriter& w, std::string_view s) {
  w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
// Writes epoch seconds with millisecond precision in plain decimal notation (spec 1.2).
void WriteEpochSeconds(JsonWriter& w, int64_t epoch_millis);

}  // namespace salespipe::services
