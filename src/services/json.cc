#include "services/json.h"

#include <rapidjson/error/en.h>

namespace salespipe::services {

Status SerializationError(std::string message) {
  return Status::InvalidArgument(std::move(message)).WithAwsCode("SerializationException");
}

Result<JsonDocument> ParseJsonBody(std::string_view body) {
  JsonDocument doc;
  if (body.empty()) {
    doc.SetObject();
    return doc;
  }
  // Depth is bounded by RapidJSON's iterative parser, so hostile nesting can't overflow the
  // stack.
  // Trailing non-whitespace is an error too (kParseErrorDocumentRootNotSingular).
  if (body.find('\0') == std::string_view::npos) {
    // From a null-terminated copy RapidJSON copies strings 16 bytes at a time
    // (RAPIDJSON_SSE2, defined for the whole build): a fifth less CPU on a PutRecords of 500
    // records than parsing the view, whose strings it copies byte by byte.
    // RapidJSON's SSE2 scan reads aligned 16-byte blocks up to 15 bytes past the terminator:
    // pad the copy so those reads stay inside it.
    std::string text(body.size() + 16, '\0');
    body.copy(text.data(), body.size());
    doc.Parse<rapidjson::kParseIterativeFlag>(text.c_str());
  } else {
    doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());  // a NUL: malformed
  }
  if (doc.HasParseError()) {
    return SerializationError(std::string("Malformed JSON: ") +
                              rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return SerializationError("Start of list found where not expected");
  return doc;
}

std::string_view JsonTypeToken(const JsonValue& value) {
  if (value.IsString()) return "STRING_VALUE";
  if (value.IsNumber()) return "NUMBER_VALUE";
  if (value.IsTrue()) return "TRUE_VALUE";
  if (value.IsFalse()) return "FALSE_VALUE";
  if (value.IsNull()) return "NULL_VALUE";
  if (value.IsArray()) return "START_ARRAY";
  return "START_OBJECT";
}

namespace {
Status WrongType(const JsonValue& value, std::string_view expected) {
  if (value.IsObject()) return SerializationError("Start of structure or map found where not expected.");
  if (value.IsArray()) return SerializationError("Start of list found where not expected");
  return SerializationError(std::string(JsonTypeToken(value)) + " cannot be converted to " +
                            std::string(expected));
}
}  // namespace

const JsonValue* FindMember(const JsonValue& obj, std::string_view name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

Result<std::optional<std::string_view>> GetString(const JsonValue& obj, std::string_view name) {
  const JsonValue* v = FindMember(obj, name);
  if (!v) return std::optional<std::string_view>();
  if (!v->IsString()) return WrongType(*v, "String");
  return std::optional<std::string_view>(std::string_view(v->GetString(), v->GetStringLength()));
}

Result<std::optional<int64_t>> GetInteger(const JsonValue& obj, std::string_view name) {
  const JsonValue* v = FindMember(obj, name);
  if (!v) return std::optional<int64_t>();
  if (v->IsInt64()) return std::optional<int64_t>(v->GetInt64());
  if (v->IsNumber()) {
    double d = v->GetDouble();
    if (d >= -9.2e18 && d <= 9.2e18) return std::optional<int64_t>(static_cast<int64_t>(d));
    return SerializationError("NUMBER_VALUE cannot be converted to Long");
  }
  if (v->IsString()) return SerializationError("STRING_VALUE can not be converted to an Integer");
  return WrongType(*v, "Integer");
}

Result<std::optional<bool>> GetBool(const JsonValue& obj, std::string_view name) {
  const JsonValue* v = FindMember(obj, name);
  if (!v) return std::optional<bool>();
  if (!v->IsBool()) return WrongType(*v, "Boolean");
  return std::optional<bool>(v->GetBool());
}

Result<const JsonValue*> GetObject(const JsonValue& obj, std::string_view name) {
  const JsonValue* v = FindMember(obj, name);
  if (!v) return static_cast<const JsonValue*>(nullptr);
  if (!v->IsObject()) {
    if (v->IsArray()) return SerializationError("Start of list found where not expected");
    return SerializationError(std::string(JsonTypeToken(*v)) +
                              " cannot be converted to a structure or map");
  }
  return v;
}

Result<const JsonValue*> GetArray(const JsonValue& obj, std::string_view name) {
  const JsonValue* v = FindMember(obj, name);
  if (!v) return static_cast<const JsonValue*>(nullptr);
  if (!v->IsArray()) {
    if (v->IsObject()) return SerializationError("Start of structure or map found where not expected.");
    return SerializationError(std::string(JsonTypeToken(*v)) + " cannot be converted to a list");
  }
  return v;
}

Result<std::string_view> AsString(const JsonValue& value) {
  if (!value.IsString()) return WrongType(value, "String");
  return std::string_view(value.GetString(), value.GetStringLength());
}

Status ExpectObject(const JsonValue& value) {
  if (value.IsObject()) return Status::Ok();
  if (value.IsArray()) return SerializationError("Start of list found where not expected");
  return SerializationError(std::string(JsonTypeToken(value)) +
                            " cannot be converted to a structure or map");
}

void ValidationErrors::AddConstraint(std::string_view value, std::string_view path,
                                     std::string_view constraint) {
  std::string msg = "Value ";
  msg.append(value).append(" at '").append(path).append("' failed to satisfy constraint: ");
  msg.append(constraint);
  messages_.push_back(std::move(msg));
}

Status ValidationErrors::ToStatus() const {
  if (messages_.empty()) return Status::Ok();
  std::string msg = std::to_string(messages_.size()) +
                    (messages_.size() == 1 ? " validation error detected: "
                                           : " validation errors detected: ");
  for (size_t i = 0; i < messages_.size(); ++i) {
    if (i) msg += "; ";
    msg += messages_[i];
  }
  return Status::InvalidArgument(std::move(msg));
}

void WriteEpochSeconds(JsonWriter& w, int64_t epoch_millis) {
  char buf[32];
  int64_t secs = epoch_millis / 1000;
  int64_t ms = epoch_millis % 1000;
  int n = std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(secs),
                        static_cast<long long>(ms));
  w.RawValue(buf, static_cast<size_t>(n), rapidjson::kNumberType);
}

}  // namespace salespipe::services
