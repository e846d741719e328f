#include "services/dynamodb/request_expressions.h"

#include <map>
#include <string>
#include <vector>

#include "services/dynamodb/attribute_json.h"
#include "services/dynamodb/legacy_json.h"

namespace salespipe::services::dynamodb {
namespace {

Status Invalid(std::string msg) { return Status::InvalidArgument(std::move(msg)); }

Result<std::optional<std::string_view>> ExpressionText(const JsonValue& request,
                                                       std::string_view name,
                                                       std::vector<std::string>* used) {
  ASSIGN_OR_RETURN(std::optional<std::string_view> text, GetString(request, name));
  if (text) used->emplace_back(name);
  return text;
}

}  // namespace

Result<ParsedExpressions> ParseExpressions(const JsonValue& request,
                                           const ExpressionParams& params) {
  ParsedExpressions parsed;
  std::vector<std::string> expression_params;
  std::vector<std::string> legacy_params;

  std::optional<std::string_view> condition_text, filter_text, update_text, projection_text,
      key_text;
  if (params.condition) {
    ASSIGN_OR_RETURN(condition_text, ExpressionText(request, "ConditionExpression", &expression_params));
  }
  if (!params.legacy_filter.empty()) {
    ASSIGN_OR_RETURN(filter_text, ExpressionText(request, "FilterExpression", &expression_params));
  }
  if (params.update) {
    ASSIGN_OR_RETURN(update_text, ExpressionText(request, "UpdateExpression", &expression_params));
  }
  if (params.projection) {
    ASSIGN_OR_RETURN(projection_text, ExpressionText(request, "ProjectionExpression", &expression_params));
  }
  if (params.key_condition) {
    ASSIGN_OR_RETURN(key_text, ExpressionText(request, "KeyConditionExpression", &expression_params));
  }

  // Legacy parameters present?
  auto note_legacy = [&](std::string_view name) {
    if (FindMember(request, name)) legacy_params.emplace_back(name);
  };
  if (params.condition) note_legacy("Expected");
  if (params.update) note_legacy("AttributeUpdates");
  if (params.projection) note_legacy("AttributesToGet");
  if (params.key_condition) note_legacy("KeyConditions");
  if (!params.legacy_filter.empty()) note_legacy(params.legacy_filter);
  if (params.condition || !params.legacy_filter.empty()) {
    // ConditionalOperator only means something next to a legacy condition/filter.
    if (FindMember(request, "ConditionalOperator")) legacy_params.emplace_back("ConditionalOperator");
  }

  if (!expression_params.empty() && !legacy_params.empty()) {
    auto join = [](const std::vector<std::string>& names) {
      std::string out = "{";
      for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
      return out + "}";
    };
    return Invalid(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: " +
        join(legacy_params) + " Expression parameters: " + join(expression_params));
  }

  ASSIGN_OR_RETURN(const JsonValue* names_json, GetObject(request, "ExpressionAttributeNames"));
  ASSIGN_OR_RETURN(const JsonValue* values_json, GetObject(request, "ExpressionAttributeValues"));
  if (names_json && expression_params.empty()) {
    return Invalid("ExpressionAttributeNames can only be specified when using expressions");
  }
  if (values_json && expression_params.empty()) {
    return Invalid("ExpressionAttributeValues can only be specified when using expressions");
  }
  std::map<std::string, std::string> names;
  table::AttributeMap values;
  if (names_json) {
    if (names_json->MemberCount() == 0) return Invalid("ExpressionAttributeNames must not be empty");
    for (const auto& m : names_json->GetObject()) {
      std::string key(m.name.GetString(), m.name.GetStringLength());
      ASSIGN_OR_RETURN(std::string_view value, AsString(m.value));
      if (key.size() < 2 || key[0] != '#') {
        return Invalid("ExpressionAttributeNames contains invalid key: Syntax error; key: \"" +
                       key + "\"");
      }
      if (value.empty()) {
        return Invalid("ExpressionAttributeNames contains invalid value: Empty attribute name "
                       "for key " + key);
      }
      names.emplace(std::move(key), std::string(value));
    }
  }
  if (values_json) {
    if (values_json->MemberCount() == 0) return Invalid("ExpressionAttributeValues must not be empty");
    for (const auto& m : values_json->GetObject()) {
      std::string key(m.name.GetString(), m.name.GetStringLength());
      if (key.size() < 2 || key[0] != ':') {
        return Invalid("ExpressionAttributeValues contains invalid key: Syntax error; key: \"" +
                       key + "\"");
      }
      auto value = ParseAttributeValue(m.value);
      if (!value.ok()) {
        if (value.status().aws_code() == "SerializationException") return value.status();
        return Invalid("ExpressionAttributeValues contains invalid value: " +
                       value.status().message() + " for key " + key);
      }
      values.emplace(std::move(key), std::move(value).value());
    }
  }
  table::ExpressionContext context(std::move(names), std::move(values));

  if (key_text) {
    ASSIGN_OR_RETURN(table::KeyCondition key, table::ParseKeyCondition(*key_text, context));
    parsed.key_condition = std::move(key);
  }
  if (condition_text) {
    ASSIGN_OR_RETURN(table::Condition c,
                     table::ParseCondition(*condition_text, context, "ConditionExpression"));
    parsed.condition = std::move(c);
  }
  if (filter_text) {
    ASSIGN_OR_RETURN(table::Condition c,
                     table::ParseCondition(*filter_text, context, "FilterExpression"));
    parsed.filter = std::move(c);
  }
  if (update_text) {
    ASSIGN_OR_RETURN(table::Update u, table::ParseUpdate(*update_text, context));
    parsed.update = std::move(u);
  }
  if (projection_text) {
    ASSIGN_OR_RETURN(table::Projection p, table::ParseProjection(*projection_text, context));
    parsed.projection = std::move(p);
  }
  if (!expression_params.empty()) RETURN_IF_ERROR(context.CheckAllUsed());

  if (!legacy_params.empty()) RETURN_IF_ERROR(ParseLegacy(request, params, parsed));
  return parsed;
}

}  // namespace salespipe::services::dynamodb
