#pragma once

// Request parsing, constraint and semantic checks and description writing shared by the
// table-management operations (table_ops.cc, table_settings_ops.cc). Internal to
// services/dynamodb.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "services/json.h"
#include "services/service.h"
#include "table/catalog.h"

namespace salespipe::services::dynamodb {

using table::AttributeType;
using table::IndexDef;
using table::KeyElement;
using table::KeySchema;
using table::ProjectionType;
using table::TableDef;
using table::TableHandle;
// AWS stops listing model-constraint violations after ten.
inline constexpr size_t kMaxConstraintMessages = 10;

inline constexpr size_t kMaxGlobalIndexes = 20;

inline constexpr size_t kMaxLocalIndexes = 5;

inline constexpr size_t kMaxTags = 50;

// Above this DynamoDB answers "Given value N for ReadCapacityUnits is out of bounds".
inline constexpr int64_t kMaxCapacityUnits = 1000000000000;

inline constexpr int kDefaultRecoveryPeriodDays = 35;

inline constexpr std::string_view kInvalidPrefix = "One or more parameter values were invalid: ";

inline constexpr std::string_view kNamePattern = "[a-zA-Z0-9_.-]+";

// --- Model constraints ---------------------------------------------------------------------

// ValidationErrors capped at AWS's ten messages.
class Constraints {
 public:
  void Null(std::string_view path) { Add("null", path, "Member must not be null"); }
  // `value` is shown quoted, as AWS does for every non-null value.
  void Bad(std::string_view value, std::string_view path, std::string_view constraint) {
    Add("'" + std::string(value) + "'", path, constraint);
  }
  Status ToStatus() const { return errors_.ToStatus(); }

 private:
  void Add(std::string value, std::string_view path, std::string_view constraint) {
    if (count_ >= kMaxConstraintMessages) return;
    ++count_;
    errors_.AddConstraint(value, path, constraint);
  }

  ValidationErrors errors_;
  size_t count_ = 0;
};

std::string Join(const std::vector<std::string>& parts);

std::string Member(std::string_view parent, size_t index, std::string_view member);

std::string Child(std::string_view parent, std::string_view member);

// Length in characters (code points), as AWS counts it.
size_t CharLength(std::string_view s);

void CheckLength(Constraints& c, std::string_view value, std::string_view path, size_t min,
                 size_t max);

bool MatchesNamePattern(std::string_view s);

// A table or index name: pattern, then 3..255 characters (the order AWS lists them in).
void CheckName(Constraints& c, std::string_view value, std::string_view path);

// TableName of the operations that accept a name or an ARN (botocore's TableArn shape).
void CheckTableNameOrArn(Constraints& c, const std::optional<std::string>& value,
                         std::string_view path);

void CheckEnum(Constraints& c, const std::optional<std::string>& value, std::string_view path,
               std::initializer_list<std::string_view> allowed);

Status Invalid(std::string_view detail);

Status TableNotFound(std::string_view name);

// --- Request parsing (JSON types only; constraints are checked afterwards) -----------------
std::optional<std::string> Copy(const std::optional<std::string_view>& v);

Result<std::optional<std::string>> ReadString(const JsonValue& obj, std::string_view name);

struct KeyElementSpec {
  std::optional<std::string> name;
  std::optional<std::string> key_type;
};

struct AttributeDefinitionSpec {
  std::optional<std::string> name;
  std::optional<std::string> type;
};

struct ThroughputSpec {
  std::optional<int64_t> read;
  std::optional<int64_t> write;
};

struct ProjectionSpec {
  std::optional<std::string> type;
  std::optional<std::vector<std::string>> non_key;
};

struct IndexSpec {
  std::optional<std::string> name;
  std::optional<std::vector<KeyElementSpec>> keys;
  std::optional<ProjectionSpec> projection;
  std::optional<ThroughputSpec> throughput;
};

struct StreamSpec {
  std::optional<bool> enabled;
  std::optional<std::string> view_type;
};

struct SseSpec {
  std::optional<bool> enabled;
  std::optional<std::string> type;
  std::optional<std::string> kms_key;
};

struct TagSpec {
  std::optional<std::string> key;
  std::optional<std::string> value;
};

Result<std::optional<std::vector<KeyElementSpec>>> ParseKeySchema(const JsonValue& parent,
                                                                  std::string_view member);

Result<std::optional<std::vector<AttributeDefinitionSpec>>> ParseAttributeDefinitions(
    const JsonValue& parent);

Result<std::optional<ThroughputSpec>> ParseThroughput(const JsonValue& parent);

// Members AWS accepts that salespipe ignores (no capacity model): type-checked only.
Status ParseIgnoredStructs(const JsonValue& parent);

Result<std::optional<ProjectionSpec>> ParseProjection(const JsonValue& parent);

Result<IndexSpec> ParseIndex(const JsonValue& v, bool with_keys, bool with_throughput);

Result<std::optional<std::vector<IndexSpec>>> ParseIndexList(const JsonValue& parent,
                                                             std::string_view member, bool global);

Result<std::optional<StreamSpec>> ParseStream(const JsonValue& parent);

Result<std::optional<SseSpec>> ParseSse(const JsonValue& parent);

Result<std::optional<std::vector<TagSpec>>> ParseTags(const JsonValue& parent);

// --- Constraint checks on parsed pieces ----------------------------------------------------
std::string KeySchemaText(const std::vector<KeyElementSpec>& keys);

void CheckKeySchema(Constraints& c, const std::optional<std::vector<KeyElementSpec>>& keys,
                    std::string_view path);

void CheckAttributeDefinitions(Constraints& c,
                               const std::optional<std::vector<AttributeDefinitionSpec>>& defs,
                               std::string_view path, bool required);

void CheckThroughput(Constraints& c, const std::optional<ThroughputSpec>& t,
                     std::string_view path);

void CheckProjection(Constraints& c, const ProjectionSpec& p, std::string_view path);

// A secondary index of CreateTable, or the Create action of UpdateTable.
void CheckIndex(Constraints& c, const IndexSpec& index, std::string_view path);

void CheckIndexName(Constraints& c, const std::optional<std::string>& name, std::string_view path);

void CheckStream(Constraints& c, const std::optional<StreamSpec>& s, std::string_view path);

void CheckSse(Constraints& c, const std::optional<SseSpec>& s, std::string_view path);

void CheckTags(Constraints& c, const std::vector<TagSpec>& tags, std::string_view path);

// --- Semantic checks -----------------------------------------------------------------------
Status CheckCapacityBounds(const ThroughputSpec& t);

std::vector<std::string> KeyNames(const std::vector<KeyElementSpec>& keys);

// The key-schema rules DynamoDB applies to a table or index (dynalite's order, which mirrors
// DynamoDB's). `defined` lists the attribute definitions in request order.
Status CheckKeySchemaSemantics(const std::vector<KeyElementSpec>& keys,
                               const std::vector<std::string>& defined, bool is_table);

Status CheckProjectionSemantics(const ProjectionSpec& p);

Status CheckStreamSemantics(const StreamSpec& s, bool creating);

Status CheckSseSemantics(const SseSpec& s);

// Tag rules shared by CreateTable and TagResource.
Status CheckTagSemantics(const std::vector<TagSpec>& tags);

Status TooManyTags();

// --- Definitions -----------------------------------------------------------------------------
AttributeType ScalarType(std::string_view wire);

ProjectionType ToProjectionType(std::string_view wire);

std::string_view ProjectionTypeName(ProjectionType type);

// REQUIRES: every key attribute is in `types` (checked by CheckKeySchemaSemantics).
KeySchema ToKeySchema(const std::vector<KeyElementSpec>& keys,
                      const std::map<std::string, AttributeType>& types);

IndexDef ToIndexDef(const IndexSpec& spec, bool local, uint64_t index_id,
                    const std::map<std::string, AttributeType>& types, bool provisioned);

// Keeps only the attribute definitions some table or index key uses (AWS drops the
// definitions of a deleted index's keys).
void PruneAttributeDefinitions(TableDef& def);

// A stream label: the UTC time of enabling with milliseconds, "2024-05-01T12:00:00.000".
std::string StreamLabel(int64_t epoch_millis);

// A label for a newly enabled stream. Each enable gets a new stream, so the label must differ
// from the previous one even when both fall in the same millisecond.
std::string NewStreamLabel(const TableDef& def, int64_t now_millis);

// --- Response writing ----------------------------------------------------------------------
void WriteKeySchema(JsonWriter& w, const KeySchema& keys);

void WriteThroughput(JsonWriter& w, int64_t read, int64_t write);

void WriteProjection(JsonWriter& w, const IndexDef& index);

void WriteIndexes(JsonWriter& w, const TableDef& def, bool local);

// The members of a TableDescription, without the enclosing braces (CreateTable appends
// SSEDescription).
void WriteDescriptionMembers(JsonWriter& w, const TableDef& def, int64_t item_count,
                             int64_t size_bytes, std::string_view status);

std::string Finish(const rapidjson::StringBuffer& buffer);

// --- Table ARNs of the tagging operations --------------------------------------------------

// Resolves the ResourceArn of TagResource/UntagResource/ListTagsOfResource to the table's
// account, region and name.
struct TableArnParts {
  std::string account;
  std::string region;
  std::string name;
};

Result<TableArnParts> ParseTableArn(const std::optional<std::string>& arn,
                                    const RequestContext& context);

}  // namespace salespipe::services::dynamodb
