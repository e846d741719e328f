#include "kv/test_db.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace salespipe::kv {

TestDb::TestDb(Db::Options options) : options_(std::move(options)) {
  std::string templ = (std::filesystem::temp_directory_path() / "salespipe-kv-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
  Reopen();
}

TestDb::~TestDb() {
  db_.reset();
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void TestDb::Reopen() {
  db_.reset();
  options_.path = path_ + "/db";
  auto db = Db::Open(options_);
  if (!db.ok()) throw std::runtime_error(db.status().ToString());
  db_ = std::move(db).value();
}

}  // namespace salespipe::kv
