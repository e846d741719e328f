#pragma once

#include <future>
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
    return operations_.find(operation) != operations_.end() ||
           deferred_.find(operation) != deferred_.end();
  }

  Result<std::string> Handle(std::string_view operation, std::string_view body,
                             const RequestContext& context) final {
    if (auto it = operations_.find(operation); it != operations_.end()) {
      return Run(it->second, body, context);
    }
    // A deferred operation, answered in hand: wait for its reply.
    std::promise<Result<std::string>> answer;
    HandleAsync(operation, body, context,
                [&answer](Result<std::string> result) { answer.set_value(std::move(result)); });
    return answer.get_future().get();
  }

  void HandleAsync(std::string_view operation, std::string_view body, const RequestContext& context,
                   Reply reply) final {
    if (auto it = operations_.find(operation); it != operations_.end()) {
      reply(Run(it->second, body, context));
      return;
    }
    auto it = deferred_.find(operation);
    if (it == deferred_.end()) {
      reply(Status::Unimplemented("").WithAwsCode("UnknownOperationException"));
      return;
    }
    Result<JsonDocument> request = ParseJsonBody(body);
    if (!request.ok()) {
      reply(request.status());
      return;
    }
    (static_cast<S&>(*this).*(it->second))(*request, context, std::move(reply));
  }

 protected:
  using Operation = Result<std::string> (S::*)(const JsonValue& request,
                                               const RequestContext& context);
  // An operation that answers through `reply` (see JsonService::HandleAsync); `request` is
  // valid only during the call.
  using DeferredOperation = void (S::*)(const JsonValue& request, const RequestContext& context,
                                        Reply reply);
  // Called once from S's constructor.
  void SetOperations(std::initializer_list<std::pair<const std::string, Operation>> operations) {
    operations_ = operations;
  }
  void SetDeferredOperations(
      std::initializer_list<std::pair<const std::string, DeferredOperation>> operations) {
    deferred_ = operations;
  }

 private:
  Result<std::string> Run(Operation operation, std::string_view body,
                          const RequestContext& context) {
    ASSIGN_OR_RETURN(JsonDocument request, ParseJsonBody(body));
    return (static_cast<S&>(*this).*operation)(request, context);
  }

  std::map<std::string, Operation, std::less<>> operations_;
  std::map<std::string, DeferredOperation, std::less<>> deferred_;
};

}  // namespace salespipe::services
