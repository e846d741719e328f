#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "http/rest_handler.h"
#include "services/iam/query.h"
#include "services/iam/role_store.h"

// IAM roles and STS credentials over AWS's query protocol (spec 0 "adjacent services"):
// stored and echoed, never enforced.
namespace salespipe::services::iam {

inline constexpr std::string_view kIamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/";
inline constexpr std::string_view kStsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/";

// One http::RestHandler for both services: IAM's and STS's actions do not overlap, so the
// Action parameter picks the operation and with it the response namespace.
// Claims requests signed for "iam" or "sts", and unsigned form-encoded POSTs to "/" (spec 1.1
// step 5). IAM is global: the region of the signature is ignored. Thread-safe.
class IamService : public http::RestHandler {
 public:
  // `db` and `clock` must outlive the service.
  IamService(kv::Db& db, const Clock& clock);

  std::string_view service_name() const override { return "iam"; }
  bool s3_canonical_path() const override { return false; }
  bool s3_request_ids() const override { return false; }
  bool Claims(const http::RestRouteInput& input) const override;
  // Errors made by the edge (auth, limits, bugs) as IAM's <ErrorResponse>.
  std::optional<http::RestResponse> RenderError(const Status& status,
                                                std::string_view request_id) const override;
  // Never returns an error Status: errors are rendered here, in the namespace of the action.
  Result<http::RestResponse> Handle(const http::RestRequest& request,
                                    const services::RequestContext& context) override;

 private:
  // Each action returns the response body, or an error for Handle to render.
  using Context = services::RequestContext;
  Result<std::string> CreateRole(const QueryParams& params, const Context& context);
  Result<std::string> GetRole(const QueryParams& params, const Context& context);
  Result<std::string> DeleteRole(const QueryParams& params, const Context& context);
  Result<std::string> ListRoles(const QueryParams& params, const Context& context);
  Result<std::string> UpdateRole(const QueryParams& params, const Context& context);
  Result<std::string> UpdateAssumeRolePolicy(const QueryParams& params, const Context& context);
  Result<std::string> TagRole(const QueryParams& params, const Context& context);
  Result<std::string> UntagRole(const QueryParams& params, const Context& context);
  Result<std::string> ListRoleTags(const QueryParams& params, const Context& context);
  Result<std::string> PutRolePolicy(const QueryParams& params, const Context& context);
  Result<std::string> GetRolePolicy(const QueryParams& params, const Context& context);
  Result<std::string> DeleteRolePolicy(const QueryParams& params, const Context& context);
  Result<std::string> ListRolePolicies(const QueryParams& params, const Context& context);
  Result<std::string> AttachRolePolicy(const QueryParams& params, const Context& context);
  Result<std::string> DetachRolePolicy(const QueryParams& params, const Context& context);
  Result<std::string> ListAttachedRolePolicies(const QueryParams& params, const Context& context);
  // STS (sts_ops.cc).
  Result<std::string> GetCallerIdentity(const QueryParams& params, const Context& context);
  Result<std::string> AssumeRole(const QueryParams& params, const Context& context);
  Result<std::string> GetSessionToken(const QueryParams& params, const Context& context);

  // A fresh set of temporary credentials, recorded as `session`; writes <Credentials>.
  Status IssueCredentials(const RoleStore::Session& session, int64_t duration_seconds,
                          QueryXmlWriter& xml);

  // Set at construction.
  const Clock& clock_;
  RoleStore store_;
};

// The response for an error `status` in the query protocol: HTTP status and code from the
// Status (aws_code() wins over the default for its ErrorCode). Exposed for tests.
http::RestResponse RenderQueryError(const Status& status, std::string_view xml_namespace,
                                    std::string_view request_id);

}  // namespace salespipe::services::iam
