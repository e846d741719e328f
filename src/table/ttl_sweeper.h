#pragma once

#include <chrono>
#include <condition_variable>
#include <thread>

#include "common/mutex.h"
#include "table/catalog.h"
#include "table/table_store.h"

namespace salespipe::table {

// Background deletion of expired items (UpdateTimeToLive). Every `interval` it sweeps each
// table with TTL enabled through TableStore::SweepExpired, so deletions produce REMOVE change
// records with the service identity. Start()/Stop() from one thread.
class TtlSweeper {
 public:
  // `catalog` and `store` must outlive this object.
  TtlSweeper(Catalog& catalog, TableStore& store, std::chrono::milliseconds interval);
  ~TtlSweeper();

  void Start();
  // Wakes the sweeper and waits for it to finish its current pass.
  void Stop();
  // Runs one pass now on the caller's thread; returns the items deleted.
  int64_t SweepOnce();

 private:
  void Run();

  // Set at construction.
  Catalog& catalog_;
  TableStore& store_;
  const std::chrono::milliseconds interval_;

  Mutex mu_;
  std::condition_variable cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace salespipe::table
