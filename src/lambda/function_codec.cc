// The persisted JSON form of a Function (function_store.h). Members are only ever added;
// readers default what is missing.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "lambda/function_store.h"
#include "lambda/record_json.h"

namespace salespipe::lambda {
namespace {

using namespace record_json;  // NOLINT: the helpers are this file's vocabulary
void StringMap(Writer& w, std::string_view key, const std::map<std::string, std::string>& map) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.StartObject();
  for (const auto& [k, v] : map) Str(w, k, v);
  w.EndObject();
}

void WriteConfig(Writer& w, const FunctionConfig& c) {
  w.StartObject();
  Str(w, "version", c.version);
  Str(w, "runtime", c.runtime);
  Str(w, "handler", c.handler);
  Str(w, "role", c.role);
  Str(w, "description", c.description);
  Int(w, "timeout", c.timeout_seconds);
  Int(w, "memory", c.memory_mb);
  if (c.environment) StringMap(w, "environment", *c.environment);
  w.Key("architectures");
  w.StartArray();
  for (const std::string& a : c.architectures) w.String(a.c_str());
  w.EndArray();
  Int(w, "ephemeral", c.ephemeral_storage_mb);
  Str(w, "tracing", c.tracing_mode);
  Str(w, "log_format", c.log_format);
  Str(w, "log_group", c.log_group);
  Str(w, "package_type", c.package_type);
  Str(w, "sha256", c.code_sha256);
  Str(w, "code_hex", c.code_hex);
  Int(w, "code_size", c.code_size);
  Str(w, "revision", c.revision_id);
  Int(w, "modified", c.last_modified_ms);
  w.EndObject();
}

std::map<std::string, std::string> GetStringMap(const Value& obj) {
  std::map<std::string, std::string> out;
  if (!obj.IsObject()) return out;
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    if (it->value.IsString()) out[it->name.GetString()] = it->value.GetString();
  }
  return out;
}

FunctionConfig ReadConfig(const Value& v) {
  FunctionConfig c;
  c.version = GetStr(v, "version");
  c.runtime = GetStr(v, "runtime");
  c.handler = GetStr(v, "handler");
  c.role = GetStr(v, "role");
  c.description = GetStr(v, "description");
  c.timeout_seconds = static_cast<int>(GetInt(v, "timeout", 3));
  c.memory_mb = static_cast<int>(GetInt(v, "memory", 128));
  if (auto it = v.FindMember("environment"); it != v.MemberEnd()) {
    c.environment = GetStringMap(it->value);
  }
  if (auto it = v.FindMember("architectures"); it != v.MemberEnd() && it->value.IsArray()) {
    c.architectures.clear();
    for (const Value& a : it->value.GetArray()) {
      if (a.IsString()) c.architectures.emplace_back(a.GetString());
    }
  }
  c.ephemeral_storage_mb = static_cast<int>(GetInt(v, "ephemeral", 512));
  c.tracing_mode = GetStr(v, "tracing");
  c.log_format = GetStr(v, "log_format");
  c.log_group = GetStr(v, "log_group");
  c.package_type = GetStr(v, "package_type");
  c.code_sha256 = GetStr(v, "sha256");
  c.code_hex = GetStr(v, "code_hex");
  c.code_size = GetInt(v, "code_size", 0);
  c.revision_id = GetStr(v, "revision");
  c.last_modified_ms = GetInt(v, "modified", 0);
  return c;
}

}  // namespace

std::string EncodeFunction(const Function& f) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Str(w, "account", f.account_id);
  Str(w, "region", f.region);
  Str(w, "name", f.name);
  Int(w, "created", f.created_ms);
  w.Key("latest");
  WriteConfig(w, f.latest);
  w.Key("versions");
  w.StartArray();
  for (const auto& [number, config] : f.versions) WriteConfig(w, config);
  w.EndArray();
  Int(w, "last_version", f.last_version);
  w.Key("aliases");
  w.StartArray();
  for (const auto& [name, alias] : f.aliases) {
    w.StartObject();
    Str(w, "name", alias.name);
    Str(w, "version", alias.function_version);
    Str(w, "description", alias.description);
    Str(w, "revision", alias.revision_id);
    w.Key("weights");
    w.StartObject();
    for (const auto& [version, weight] : alias.additional_version_weights) {
      w.Key(version.c_str());
      w.Double(weight);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.Key("policy");
  w.StartArray();
  for (const PolicyStatement& s : f.policy) {
    w.StartObject();
    Str(w, "sid", s.sid);
    Str(w, "qualifier", s.qualifier);
    Str(w, "json", s.json);
    w.EndObject();
  }
  w.EndArray();
  Str(w, "policy_revision", f.policy_revision_id);
  StringMap(w, "tags", f.tags);
  if (f.reserved_concurrency) Int(w, "reserved_concurrency", *f.reserved_concurrency);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<Function> DecodeFunction(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return Status::Internal("corrupt function record");
  Function f;
  f.account_id = GetStr(doc, "account");
  f.region = GetStr(doc, "region");
  f.name = GetStr(doc, "name");
  f.created_ms = GetInt(doc, "created", 0);
  auto latest = doc.FindMember("latest");
  if (f.name.empty() || latest == doc.MemberEnd() || !latest->value.IsObject()) {
    return Status::Internal("corrupt function record");
  }
  f.latest = ReadConfig(latest->value);
  if (auto it = doc.FindMember("versions"); it != doc.MemberEnd() && it->value.IsArray()) {
    for (const Value& v : it->value.GetArray()) {
      if (!v.IsObject()) continue;
      FunctionConfig config = ReadConfig(v);
      int64_t number = 0;
      for (char ch : config.version) number = number * 10 + (ch - '0');
      f.versions[number] = std::move(config);
    }
  }
  f.last_version = GetInt(doc, "last_version", 0);
  if (auto it = doc.FindMember("aliases"); it != doc.MemberEnd() && it->value.IsArray()) {
    for (const Value& v : it->value.GetArray()) {
      if (!v.IsObject()) continue;
      AliasConfig alias{.name = GetStr(v, "name"),
                        .function_version = GetStr(v, "version"),
                        .description = GetStr(v, "description"),
                        .revision_id = GetStr(v, "revision")};
      if (auto w = v.FindMember("weights"); w != v.MemberEnd() && w->value.IsObject()) {
        for (auto m = w->value.MemberBegin(); m != w->value.MemberEnd(); ++m) {
          if (m->value.IsNumber()) {
            alias.additional_version_weights[m->name.GetString()] = m->value.GetDouble();
          }
        }
      }
      f.aliases[alias.name] = std::move(alias);
    }
  }
  if (auto it = doc.FindMember("policy"); it != doc.MemberEnd() && it->value.IsArray()) {
    for (const Value& v : it->value.GetArray()) {
      if (!v.IsObject()) continue;
      f.policy.push_back({.sid = GetStr(v, "sid"),
                          .qualifier = GetStr(v, "qualifier"),
                          .json = GetStr(v, "json")});
    }
  }
  f.policy_revision_id = GetStr(doc, "policy_revision");
  if (auto it = doc.FindMember("tags"); it != doc.MemberEnd()) f.tags = GetStringMap(it->value);
  if (auto it = doc.FindMember("reserved_concurrency");
      it != doc.MemberEnd() && it->value.IsInt()) {
    f.reserved_concurrency = it->value.GetInt();
  }
  return f;
}

}  // namespace salespipe::lambda
