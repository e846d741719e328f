#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"
#include "services/json.h"
#include "services/service.h"

namespace salespipe::services {

// A JsonService whose operations are member functions of `S` (CRTP), looked up by name:
// the operation table, HasOperation and Handle (UnknownOperationException for a name not in
// the table; the body parsed once as JSON) written once for every JSON-protocol service.
template <class S>
class JsonOperationService : public JsonService {
 public:
  bool HasOperation(std::string_view operation) const final {
    return operations_.find(operation) != operations_.end();
  }

  Result<std::string> Handle(std::string_view operation, std::string_view body,
                             const RequestContext& context) final {
    auto it = operations_.find(operation);
    if (it == operations_.end()) {
      return Status::Unimplemented("").WithAwsCode("UnknownOperationException");
    }
    ASSIGN_OR_RETURN(JsonDocument request, ParseJsonBody(body));
    return (static_cast<S&>(*this).*(it->second))(request, context);
  }

 protected:
  using Operation = Result<std::string> (S::*)(const JsonValue& request,
                                               const RequestContext& context);
  // Called once from S's constructor.
  void SetOperations(std::initializer_list<std::pair<const std::string, Operation>> operations) {
    operations_ = operations;
  }

 private:
  std::map<std::string, Operation, std::less<>> operations_;
};

}  // namespace salespipe::services
