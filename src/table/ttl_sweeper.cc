#include "table/ttl_sweeper.h"

#include "common/logging.h"

namespace salespipe::table {

namespace {
constexpr int64_t kMaxDeletesPerTablePerPass = 10000;  // bounds one pass's work
}  // namespace

TtlSweeper::TtlSweeper(Catalog& catalog, TableStore& store, std::chrono::milliseconds interval)
    : catalog_(catalog), store_(store), interval_(interval) {}

TtlSweeper::~TtlSweeper() { Stop(); }

void TtlSweeper::Start() {
  thread_ = std::thread([this] {
    NameThisThread("sp-ttl");
    Run();
  });
}

void TtlSweeper::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t TtlSweeper::SweepOnce() {
  int64_t total = 0;
  for (const auto& table : catalog_.All()) {
    auto deleted = store_.SweepExpired(*table, kMaxDeletesPerTablePerPass);
    if (!deleted.ok()) {
      SPDLOG_WARN("TTL sweep of {} failed: {}", table->def()->name, deleted.status().ToString());
      continue;
    }
    total += *deleted;
  }
  if (total > 0) SPDLOG_DEBUG("TTL sweep deleted {} items", total);
  return total;
}

void TtlSweeper::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, interval_, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    SweepOnce();
    lock.lock();
  }
}

}  // namespace salespipe::table
