#include "sql/sql_engine.h"

#include <unistd.h>

#include <filesystem>

#include "common/test_util.h"

namespace salespipe::sql {
namespace {

using ::salespipe::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

TEST(SqlEngineTest, SelectsAConstant) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqlEngine> engine, SqlEngine::OpenInMemory());
  ASSERT_OK_AND_ASSIGN(QueryResult result, engine->Query("SELECT 42 AS answer"));
  EXPECT_THAT(result.column_names, ElementsAre("answer"));
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_THAT(result.rows[0], ElementsAre(Optional(std::string("42"))));
}

TEST(SqlEngineTest, RendersNullsDecimalsAndDates) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqlEngine> engine, SqlEngine::OpenInMemory());
  ASSERT_OK_AND_ASSIGN(QueryResult result,
                       engine->Query("SELECT NULL AS nothing, 19.99::DECIMAL(10,2) AS price, "
                                     "DATE '2024-05-01' AS day"));
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_THAT(result.rows[0], ElementsAre(std::nullopt, Optional(std::string("19.99")),
                                          Optional(std::string("2024-05-01"))));
}

TEST(SqlEngineTest, UnknownTableIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqlEngine> engine, SqlEngine::OpenInMemory());
  EXPECT_THAT(engine->Query("SELECT * FROM no_such_table"),
              StatusIs(ErrorCode::kInvalidArgument, "no_such_table"));
}

TEST(SqlEngineTest, SyntaxErrorIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqlEngine> engine, SqlEngine::OpenInMemory());
  EXPECT_THAT(engine->Query("SELEC 1"), StatusIs(ErrorCode::kInvalidArgument));
}

TEST(SqlEngineTest, UnknownSettingIsInvalidArgument) {
  EXPECT_THAT(SqlEngine::Open({.settings = {{"no_such_setting", "1"}}}),
              StatusIs(ErrorCode::kInvalidArgument, "no_such_setting"));
}

TEST(SqlEngineTest, BadSettingValueIsInvalidArgument) {
  EXPECT_THAT(SqlEngine::Open({.settings = {{"threads", "many"}}}),
              StatusIs(ErrorCode::kInvalidArgument));
}

TEST(SqlEngineTest, InMemoryTablesAreSharedBetweenQueries) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqlEngine> engine, SqlEngine::OpenInMemory());
  ASSERT_OK(engine->Execute("CREATE TABLE gadgets AS SELECT 'phone' AS name"));
  ASSERT_OK_AND_ASSIGN(QueryResult result, engine->Query("SELECT name FROM gadgets"));
  EXPECT_THAT(result.rows, ElementsAre(ElementsAre(Optional(std::string("phone")))));
}

TEST(SqlEngineTest, TablesAreSharedBetweenQueriesAndSurviveReopen) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    ("sql_engine_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "orders.duckdb").string();
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqlEngine> engine, SqlEngine::Open({.path = path}));
    ASSERT_OK(engine->Execute("CREATE TABLE orders (order_id VARCHAR, amount DECIMAL(12,2))"));
    ASSERT_OK(engine->Execute("INSERT INTO orders VALUES ('o-1', 10.50), ('o-2', 4.25)"));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqlEngine> engine, SqlEngine::Open({.path = path}));
  ASSERT_OK_AND_ASSIGN(QueryResult result,
                       engine->Query("SELECT count(*), sum(amount) FROM orders"));
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_THAT(result.rows[0],
              ElementsAre(Optional(std::string("2")), Optional(std::string("14.75"))));
  engine.reset();
  std::filesystem::remove_all(dir);
}

TEST(SqlEngineTest, ReportsLibraryVersion) {
  EXPECT_THAT(SqlEngine::LibraryVersion(), HasSubstr("1.4.4"));
}

}  // namespace
}  // namespace salespipe::sql
