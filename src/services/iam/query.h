#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

// The AWS query protocol (IAM, STS): form-encoded parameters in, XML out. Pure; thread-safe.
namespace salespipe::services::iam {

// The decoded parameters of a query-protocol request: the body
// (application/x-www-form-urlencoded) and the URL's query string, body last (it wins).
class QueryParams {
 public:
  // Decodes "a=1&b=x%20y+z" ('+' is a space). Malformed escapes are kept as they are.
  static QueryParams Parse(std::string_view query_string, std::string_view body);

  // The value of `name`, or nullopt when absent.
  std::optional<std::string_view> Get(std::string_view name) const;
  // The value of a required member. Errors: kInvalidArgument (ValidationError) when absent.
  Result<std::string_view> Required(std::string_view name) const;
  // An optional integer member in [min, max].
  // Errors: kInvalidArgument (ValidationError) when not a number or out of range.
  Result<std::optional<int64_t>> Integer(std::string_view name, int64_t min, int64_t max) const;
  // The values of a list member: `<name>.member.1`, `<name>.member.2`, ... until one is absent.
  std::vector<std::string_view> List(std::string_view name) const;
  // The Key/Value pairs of a tag list: `<name>.member.N.Key` and `.Value`.
  std::vector<std::pair<std::string_view, std::string_view>> Tags(std::string_view name) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// Percent-decodes form text: %XX escapes and '+' as a space.
std::string FormDecode(std::string_view text);

// ISO 8601 with seconds and 'Z', as IAM and STS write dates: 2024-05-01T12:00:00Z.
std::string IsoDate(int64_t epoch_seconds);

// Builds a query-protocol response document:
//   <ActionResponse xmlns="..."><ActionResult>...</ActionResult>
//   <ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></ActionResponse>
class QueryXmlWriter {
 public:
  // `result` false: an action without output (no <ActionResult> element).
  QueryXmlWriter(std::string_view action, std::string_view xml_namespace, bool result = true);
  QueryXmlWriter& Open(std::string_view name);
  QueryXmlWriter& Close(std::string_view name);
  // <name>escaped text</name>
  QueryXmlWriter& Element(std::string_view name, std::string_view text);
  std::string Finish(std::string_view request_id);

 private:
  std::string action_;
  bool result_;
  std::string out_;
};

// An <ErrorResponse> body: Type (Sender for 4xx, Receiver for 5xx), Code, Message, RequestId.
std::string QueryErrorBody(std::string_view xml_namespace, bool sender_fault, std::string_view code,
                           std::string_view message, std::string_view request_id);

}  // namespace salespipe::services::iam
