#include "services/dynamodb/legacy_json.h"

namespace salespipe::services::dynamodb {

Status ParseLegacy(const JsonValue& request, const ExpressionParams& params,
                   ParsedExpressions& parsed) {
  return Status::InvalidArgument("legacy parameters are not supported yet");
}

}  // namespace salespipe::services::dynamodb
