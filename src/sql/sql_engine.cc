#include "sql/sql_engine.h"

#include <duckdb.h>

#include <string>
#include <utility>

#include "common/logging.h"

namespace salespipe::sql {
namespace {

// Owns a duckdb_result: duckdb_query fills it on success AND on failure (the error lives in
// it), so it must be destroyed on every path.
class ScopedDuckDbResult {
 public:
  ScopedDuckDbResult() = default;
  ~ScopedDuckDbResult() { duckdb_destroy_result(&result_); }
  ScopedDuckDbResult(const ScopedDuckDbResult&) = delete;
  ScopedDuckDbResult& operator=(const ScopedDuckDbResult&) = delete;
  duckdb_result* get() { return &result_; }

 private:
  // Zeroed so that destroying a result DuckDB never filled is a no-op.
  duckdb_result result_{};
};

class ScopedConnection {
 public:
  ScopedConnection() = default;
  ~ScopedConnection() { duckdb_disconnect(&connection_); }  // no-op when never connected
  ScopedConnection(const ScopedConnection&) = delete;
  ScopedConnection& operator=(const ScopedConnection&) = delete;
  duckdb_connection* out() { return &connection_; }
  duckdb_connection get() const { return connection_; }

 private:
  duckdb_connection connection_ = nullptr;
};

class ScopedConfig {
 public:
  ScopedConfig() = default;
  ~ScopedConfig() { duckdb_destroy_config(&config_); }
  ScopedConfig(const ScopedConfig&) = delete;
  ScopedConfig& operator=(const ScopedConfig&) = delete;
  duckdb_config* out() { return &config_; }
  duckdb_config get() const { return config_; }

 private:
  duckdb_config config_ = nullptr;
};

// A string DuckDB allocated, released with duckdb_free.
struct DuckDbFree {
  void operator()(void* p) const { duckdb_free(p); }
};
using DuckDbString = std::unique_ptr<char, DuckDbFree>;

// Maps a DuckDB error to our canonical codes. Errors a query's author can fix are
// kInvalidArgument and keep DuckDB's message (Athena shows it to the user too); the rest are
// kInternal, logged here with the details, and returned with a message free of paths.
Status FromDuckDbError(duckdb_error_type type, const char* message) {
  std::string text = message != nullptr ? message : "unknown DuckDB error";
  switch (type) {
    case DUCKDB_ERROR_INVALID:
    case DUCKDB_ERROR_OUT_OF_RANGE:
    case DUCKDB_ERROR_CONVERSION:
    case DUCKDB_ERROR_UNKNOWN_TYPE:
    case DUCKDB_ERROR_DECIMAL:
    case DUCKDB_ERROR_MISMATCH_TYPE:
    case DUCKDB_ERROR_DIVIDE_BY_ZERO:
    case DUCKDB_ERROR_OBJECT_SIZE:
    case DUCKDB_ERROR_INVALID_TYPE:
    case DUCKDB_ERROR_NOT_IMPLEMENTED:
    case DUCKDB_ERROR_EXPRESSION:
    case DUCKDB_ERROR_CATALOG:
    case DUCKDB_ERROR_PARSER:
    case DUCKDB_ERROR_PLANNER:
    case DUCKDB_ERROR_CONSTRAINT:
    case DUCKDB_ERROR_SYNTAX:
    case DUCKDB_ERROR_SETTINGS:
    case DUCKDB_ERROR_BINDER:
    case DUCKDB_ERROR_INVALID_INPUT:
    case DUCKDB_ERROR_PARAMETER_NOT_RESOLVED:
    case DUCKDB_ERROR_PARAMETER_NOT_ALLOWED:
    case DUCKDB_ERROR_DEPENDENCY:
    case DUCKDB_ERROR_MISSING_EXTENSION:
    case DUCKDB_ERROR_SEQUENCE:
    case DUCKDB_INVALID_CONFIGURATION:
      return Status::InvalidArgument(std::move(text));
    case DUCKDB_ERROR_TRANSACTION:
      return Status::Aborted(std::move(text));
    case DUCKDB_ERROR_OUT_OF_MEMORY:
      return Status::ResourceExhausted("The query ran out of memory");
    default:
      break;
  }
  SPDLOG_ERROR("DuckDB error (type {}): {}", static_cast<int>(type), text);
  return Status::Internal("Internal SQL engine error");
}

}  // namespace

Result<std::unique_ptr<SqlEngine>> SqlEngine::Open(const Options& options) {
  ScopedConfig config;
  if (duckdb_create_config(config.out()) == DuckDBError) {
    return Status::Internal("Cannot create a DuckDB configuration");
  }
  // There is no network here: a query naming a missing extension must fail at once rather than
  // try to download it.
  std::vector<std::pair<std::string, std::string>> settings = {
      {"autoinstall_known_extensions", "false"},
  };
  settings.insert(settings.end(), options.settings.begin(), options.settings.end());
  for (const auto& [name, value] : settings) {
    if (duckdb_set_config(config.get(), name.c_str(), value.c_str()) == DuckDBError) {
      return Status::InvalidArgument("Invalid SQL engine setting " + name + "=" + value);
    }
  }

  duckdb_database database = nullptr;
  char* raw_error = nullptr;
  const char* path = options.path.empty() ? nullptr : options.path.c_str();
  if (duckdb_open_ext(path, &database, config.get(), &raw_error) == DuckDBError) {
    DuckDbString error(raw_error);
    std::string text = error ? error.get() : "unknown error";
    // A bad setting value is only reported at open time.
    if (text.find("Invalid Input Error") != std::string::npos) {
      return Status::InvalidArgument(std::move(text));
    }
    SPDLOG_ERROR("Cannot open DuckDB database '{}': {}", options.path, text);
    return Status::Internal("Cannot open the SQL engine's database");
  }
  return std::unique_ptr<SqlEngine>(new SqlEngine(database));
}

SqlEngine::~SqlEngine() {
  duckdb_database database = database_;
  duckdb_close(&database);
}

Result<QueryResult> SqlEngine::Query(std::string_view sql) {
  ScopedConnection connection;
  if (duckdb_connect(database_, connection.out()) == DuckDBError) {
    return Status::Internal("Cannot connect to the SQL engine");
  }
  const std::string statement(sql);  // DuckDB wants a NUL-terminated string
  ScopedDuckDbResult result;         // calls duckdb_destroy_result on every path
  if (duckdb_query(connection.get(), statement.c_str(), result.get()) == DuckDBError) {
    return FromDuckDbError(duckdb_result_error_type(result.get()),
                           duckdb_result_error(result.get()));
  }

  QueryResult out;
  const idx_t column_count = duckdb_column_count(result.get());
  const idx_t row_count = duckdb_row_count(result.get());
  out.column_names.reserve(column_count);
  for (idx_t col = 0; col < column_count; ++col) {
    const char* name = duckdb_column_name(result.get(), col);
    out.column_names.emplace_back(name != nullptr ? name : "");
  }
  out.rows.reserve(row_count);
  for (idx_t row = 0; row < row_count; ++row) {
    Row& values = out.rows.emplace_back();
    values.reserve(column_count);
    for (idx_t col = 0; col < column_count; ++col) {
      if (duckdb_value_is_null(result.get(), col, row)) {
        values.emplace_back(std::nullopt);
        continue;
      }
      // duckdb_value_varchar renders any type the way DuckDB itself prints it. It is marked
      // deprecated in favour of typed data chunks, which we will need once results carry
      // types (Athena's ResultSetMetadata); text is all callers need today.
      DuckDbString text(duckdb_value_varchar(result.get(), col, row));
      values.emplace_back(text ? std::string(text.get()) : std::string());
    }
  }
  return out;
}

Status SqlEngine::Execute(std::string_view sql) { return Query(sql).status(); }

std::string SqlEngine::LibraryVersion() { return duckdb_library_version(); }

}  // namespace salespipe::sql
