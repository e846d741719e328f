#pragma once

#include <memory>
#include <string>

#include "kv/db.h"

namespace salespipe::kv {

// RocksDB in a fresh temporary directory, removed on destruction. For tests.
class TestDb {
 public:
  // `options` without its path (a fresh temporary directory is used).
  explicit TestDb(Db::Options options = {});
  ~TestDb();
  Db& get() { return *db_; }
  const std::string& path() const { return path_; }
  // Closes and reopens the database in place (to test recovery).
  void Reopen();

 private:
  std::string path_;
  Db::Options options_;
  std::unique_ptr<Db> db_;
};

}  // namespace salespipe::kv
