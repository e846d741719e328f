// rocksdb_ceiling: the raw storage ceiling for PutItem.
//
// Puts items of the same serialized size as the benchmark's gadget-sale item straight into
// RocksDB, one WriteBatch per item, WAL on and no fsync (what the server does with its default
// durability), for a fixed time, with 1 and 2 writer threads. No HTTP, no JSON, no validation:
// no server can put items faster than this on the same machine. The options mirror
// src/kv/db.cc (column families, bloom filter, XXH3 checksums, LZ4, pipelined writes,
// IncreaseParallelism(2)).
//
// Two modes per thread count:
//   put          one Put of the item per batch (the ceiling the targets are stated against)
//   put+change   the item plus a change record of the same size in the same batch, as the
//                server commits them (DESIGN.md: no acknowledged write without its record)
//
//   rocksdb_ceiling [--seconds S] [--value-bytes B] [--threads 1,2] [--dir D] [--modes put,...]
//
// Prints one JSON object per run on stdout (for bench/driver.py) and a table on stderr.

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  double seconds = 5;
  size_t value_bytes = 420;
  std::vector<int> threads = {1, 2};
  std::vector<std::string> modes = {"put", "put+change"};
  std::string dir;
};

struct RunResult {
  uint64_t ops = 0;
  double seconds = 0;
  double p50_us = 0;
  double p99_us = 0;
};

std::vector<std::string> Split(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string_view::npos) comma = s.size();
    if (comma > pos) out.emplace_back(s.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "rocksdb_ceiling: %s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--seconds") {
      flags.seconds = std::atof(next().c_str());
    } else if (arg == "--value-bytes") {
      flags.value_bytes = std::strtoull(next().c_str(), nullptr, 10);
    } else if (arg == "--threads") {
      flags.threads.clear();
      for (const auto& t : Split(next())) flags.threads.push_back(std::max(1, std::atoi(t.c_str())));
    } else if (arg == "--modes") {
      flags.modes = Split(next());
    } else if (arg == "--dir") {
      flags.dir = next();
    } else {
      std::fprintf(stderr,
                   "usage: rocksdb_ceiling [--seconds S] [--value-bytes B] [--threads 1,2] "
                   "[--modes put,put+change] [--dir D]\n");
      std::exit(2);
    }
  }
  return flags;
}

// Same table options as src/kv/db.cc's items column family.
rocksdb::ColumnFamilyOptions CfOptions() {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = rocksdb::NewLRUCache(256 << 20);
  table.checksum = rocksdb::kXXH3;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.compression = rocksdb::kLZ4Compression;
  cf.bottommost_compression = rocksdb::kZSTD;
  return cf;
}

// A gadget-sale item rendered as text and padded to `bytes`: realistic compressibility, with
// the counter making every value different.
void FillValue(std::string* out, int thread, uint64_t n, size_t bytes) {
  char head[320];
  int len = std::snprintf(
      head, sizeof(head),
      "{\"order_id\":\"ord-%02d-%012llu\",\"sku\":\"SKU-%05llu\",\"product_name\":\"Wireless "
      "Noise-Cancelling Headphones Model %llu\",\"category\":\"audio\",\"quantity\":%llu,"
      "\"unit_price\":%llu.99,\"currency\":\"USD\",\"customer_id\":\"cust-%07llu\","
      "\"store\":\"store-%03llu\",\"ts\":\"2025-01-01T12:%02llu:%02lluZ\"",
      thread, static_cast<unsigned long long>(n), static_cast<unsigned long long>(n % 50000),
      static_cast<unsigned long long>(n % 17), static_cast<unsigned long long>(1 + n % 5),
      static_cast<unsigned long long>(10 + n % 990), static_cast<unsigned long long>(n % 9999991),
      static_cast<unsigned long long>(n % 200), static_cast<unsigned long long>(n / 60 % 60),
      static_cast<unsigned long long>(n % 60));
  out->assign(head, static_cast<size_t>(std::max(0, len)));
  out->append(",\"notes\":\"");
  static constexpr std::string_view kFiller =
      "gift wrap requested; deliver to the front desk between nine and five; ";
  while (out->size() + 2 < bytes) out->push_back(kFiller[(out->size() + n) % kFiller.size()]);
  out->append("\"}");
  out->resize(bytes);
}

double Percentile(std::vector<uint32_t>& ns, double p) {
  if (ns.empty()) return 0;
  size_t k = std::min(ns.size() - 1, static_cast<size_t>(p / 100.0 * ns.size()));
  std::nth_element(ns.begin(), ns.begin() + static_cast<long>(k), ns.end());
  return ns[k] / 1000.0;
}

RunResult RunOnce(const Flags& flags, const std::string& mode, int threads,
                  const std::string& path) {
  std::filesystem::remove_all(path);
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.enable_pipelined_write = true;
  db_options.max_open_files = 1024;
  db_options.keep_log_file_num = 4;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : {"default", "items", "index", "log"}) {
    descriptors.emplace_back(name, CfOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "rocksdb_ceiling: open %s: %s\n", path.c_str(), s.ToString().c_str());
    std::exit(1);
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* items = handles[1];
  rocksdb::ColumnFamilyHandle* log = handles[3];
  const bool with_change = mode == "put+change";

  std::atomic<bool> stop{false};
  std::vector<uint64_t> counts(static_cast<size_t>(threads));
  std::vector<std::vector<uint32_t>> latencies(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      rocksdb::WriteOptions write_options;  // WAL on, sync off
      std::string key, value, log_key;
      auto& lat = latencies[static_cast<size_t>(t)];
      lat.reserve(1 << 20);
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        // Key shaped like the server's: table id, then the partition key.
        static constexpr std::string_view kTablePrefix("\x01" "bench_sales\0", 13);
        char buf[64];
        int len = std::snprintf(buf, sizeof(buf), "ord-%02d-%012llu", t,
                                static_cast<unsigned long long>(n));
        key.assign(kTablePrefix);
        key.append(buf, static_cast<size_t>(len));
        FillValue(&value, t, n, flags.value_bytes);
        auto t0 = Clock::now();
        rocksdb::WriteBatch batch;
        batch.Put(items, key, value);
        if (with_change) {
          len = std::snprintf(buf, sizeof(buf), "\x02shard-%02d-%016llx", t,
                              static_cast<unsigned long long>(n));
          log_key.assign(buf, static_cast<size_t>(len));
          batch.Put(log, log_key, value);
        }
        rocksdb::Status ws = db->Write(write_options, &batch);
        auto t1 = Clock::now();
        if (!ws.ok()) {
          std::fprintf(stderr, "rocksdb_ceiling: write: %s\n", ws.ToString().c_str());
          std::exit(1);
        }
        lat.push_back(static_cast<uint32_t>(
            std::min<int64_t>(UINT32_MAX, std::chrono::nanoseconds(t1 - t0).count())));
        ++n;
      }
      counts[static_cast<size_t>(t)] = n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(flags.seconds));
  stop = true;
  for (auto& w : workers) w.join();
  auto end = Clock::now();

  RunResult result;
  result.seconds = std::chrono::duration<double>(end - start).count();
  std::vector<uint32_t> all;
  for (int t = 0; t < threads; ++t) {
    result.ops += counts[static_cast<size_t>(t)];
    all.insert(all.end(), latencies[static_cast<size_t>(t)].begin(),
               latencies[static_cast<size_t>(t)].end());
  }
  result.p50_us = Percentile(all, 50);
  result.p99_us = Percentile(all, 99);
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  db->Close().PermitUncheckedError();
  db.reset();
  std::filesystem::remove_all(path);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  std::string dir = flags.dir;
  bool own_dir = dir.empty();
  if (own_dir) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rocksdb_ceiling.XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("rocksdb_ceiling: mkdtemp");
      return 1;
    }
    dir = tmpl;
  }
  std::fprintf(stderr, "%-11s %7s %12s %10s %9s %9s\n", "mode", "threads", "ops", "ops/s",
               "p50 us", "p99 us");
  for (const auto& mode : flags.modes) {
    if (mode != "put" && mode != "put+change") {
      std::fprintf(stderr, "rocksdb_ceiling: unknown mode %s\n", mode.c_str());
      return 2;
    }
    for (int threads : flags.threads) {
      RunResult r = RunOnce(flags, mode, threads, dir + "/db");
      double rate = r.ops / r.seconds;
      std::fprintf(stderr, "%-11s %7d %12llu %10.0f %9.1f %9.1f\n", mode.c_str(), threads,
                   static_cast<unsigned long long>(r.ops), rate, r.p50_us, r.p99_us);
      std::printf(
          "{\"mode\":\"%s\",\"threads\":%d,\"value_bytes\":%zu,\"ops\":%llu,\"seconds\":%.3f,"
          "\"ops_per_sec\":%.1f,\"p50_us\":%.2f,\"p99_us\":%.2f}\n",
          mode.c_str(), threads, flags.value_bytes, static_cast<unsigned long long>(r.ops),
          r.seconds, rate, r.p50_us, r.p99_us);
      std::fflush(stdout);
    }
  }
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
