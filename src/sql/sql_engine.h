#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

// Opaque DuckDB handles (duckdb.h), so that callers of sql/ do not include the C API.
struct _duckdb_database;

namespace salespipe::sql {

// One result row; each value is DuckDB's own text rendering of it (e.g. "42", "3.50",
// "2024-05-01"), or nullopt for SQL NULL.
using Row = std::vector<std::optional<std::string>>;

// A fully materialized query result.
struct QueryResult {
  std::vector<std::string> column_names;
  std::vector<Row> rows;
};

// An in-process DuckDB database, wrapped once: every DuckDB error becomes a Status and every
// DuckDB result is destroyed on every path.
//
// Each Query() runs on its own short-lived DuckDB connection, so calls may run concurrently
// without a lock held across the query; the catalog (tables, views) is shared between them,
// but session state (SET, temporary tables, prepared statements) lasts for one call only.
// Thread-safe: all methods may be called concurrently.
class SqlEngine {
 public:
  struct Options {
    // The database file, created if absent; empty for an in-memory database.
    std::string path = {};
    // DuckDB configuration options applied at open, e.g. {"threads", "2"},
    // {"temp_directory", "<data-dir>/sql"}. Extension auto-install is always off (no network).
    std::vector<std::pair<std::string, std::string>> settings = {};
  };

  // Opens the database described by `options`.
  // Errors: kInvalidArgument for an unknown setting or a bad value; kInternal if DuckDB cannot
  // open the file (details are logged).
  static Result<std::unique_ptr<SqlEngine>> Open(const Options& options);
  static Result<std::unique_ptr<SqlEngine>> OpenInMemory() { return Open(Options{}); }

  ~SqlEngine();
  SqlEngine(const SqlEngine&) = delete;
  SqlEngine& operator=(const SqlEngine&) = delete;

  // Runs `sql` (one or more `;`-separated statements) and returns the last statement's rows.
  // Errors: kInvalidArgument for a query the user got wrong (syntax, unknown table or column,
  // bad cast, constraint violation, ...); kAborted for a transaction conflict (retry);
  // kResourceExhausted when DuckDB runs out of memory; kInternal for anything else (I/O,
  // DuckDB internal errors), with the details logged rather than returned.
  Result<QueryResult> Query(std::string_view sql);

  // Like Query() for statements whose rows are not needed (DDL, INSERT, COPY).
  Status Execute(std::string_view sql);

  // The DuckDB library version, e.g. "v1.4.4".
  static std::string LibraryVersion();

 private:
  explicit SqlEngine(_duckdb_database* database) : database_(database) {}

  // Set at construction; closed by the destructor.
  _duckdb_database* database_;
};

}  // namespace salespipe::sql
