#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "services/cbor.h"

namespace salespipe::services {

// Who is calling and where: derived by http/ from the SigV4 credential scope (spec 0).
struct RequestContext {
  std::string request_id;
  std::string account_id = "000000000000";
  std::string region = "us-east-1";
  std::string access_key_id;
};

// A service speaking AWS's `json` protocol (DynamoDB, Streams, Kinesis, Firehose, ...).
// Implementations are thread-safe: http/ calls Handle from many worker threads at once.
class JsonService {
 public:
  virtual ~JsonService() = default;

  // The X-Amz-Target prefix, e.g. "DynamoDB_20120810".
  virtual std::string_view target_prefix() const = 0;
  // The SigV4 signing name (e.g. "dynamodb") and the name used in metrics ("dynamodb").
  virtual std::string_view service_name() const = 0;
  // The Content-Type of responses ("application/x-amz-json-1.0" or "-1.1").
  virtual std::string_view content_type() const = 0;
  // The namespace prefix of `__type` for service errors, e.g.
  // "com.amazonaws.dynamodb.v20120810#"; empty for bare codes.
  virtual std::string_view error_namespace() const = 0;
  // Whether responses carry x-amz-crc32 (DynamoDB and Streams).
  virtual bool wants_crc32() const { return false; }
  // How to convert this service's JSON to and from CBOR (application/x-amz-cbor-1.1), or
  // null if it does not accept CBOR. The edge converts; Handle always sees JSON.
  virtual const CborHints* cbor_hints() const { return nullptr; }

  // Whether `operation` is one this service answers (else UnknownOperationException).
  virtual bool HasOperation(std::string_view operation) const = 0;

  // Answers one request: the response JSON body, or an error Status that http/ renders with
  // the service's error table (Status::aws_code() overrides it, details() adds members).
  virtual Result<std::string> Handle(std::string_view operation, std::string_view body,
                                     const RequestContext& context) = 0;

  // Receives the answer to one request (see HandleAsync).
  using Reply = std::function<void(Result<std::string>)>;
  // Answers one request through `reply`, called exactly once: before HandleAsync returns (the
  // default: Handle's answer), or later on another thread, e.g. when the group commit holding
  // the request's writes has finished (kv::Db::CommitAsync), so that the calling io thread
  // serves other connections meanwhile instead of waiting in a write group. `body` and
  // `context` stay valid until `reply` is called. Nothing may throw once `reply` has been
  // handed on. http/ calls this; Handle stays for callers that want the answer in hand.
  virtual void HandleAsync(std::string_view operation, std::string_view body,
                           const RequestContext& context, Reply reply) {
    reply(Handle(operation, body, context));
  }
};

}  // namespace salespipe::services
