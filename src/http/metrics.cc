#include "http/metrics.h"

#include <fmt/format.h>

#include <vector>

#include "kv/db.h"

namespace salespipe::http {
namespace {

std::string_view CfLabel(kv::Cf cf) {
  switch (cf) {
    case kv::Cf::kMeta:
      return "meta";
    case kv::Cf::kItems:
      return "items";
    case kv::Cf::kIndex:
      return "index";
    case kv::Cf::kLog:
      return "log";
    case kv::Cf::kObjects:
      return "objects";
  }
  return "unknown";
}

// Label values come from service and operation names, which http/ only records for known
// operations, but escape anyway so the exposition stays parseable.
void AppendLabelValue(std::string* out, std::string_view value) {
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

void AppendLabels(std::string* out, const OperationMetrics& m) {
  out->append("service=\"");
  AppendLabelValue(out, m.service());
  out->append("\",operation=\"");
  AppendLabelValue(out, m.operation());
  out->push_back('"');
}

}  // namespace

void OperationMetrics::Record(int http_status, std::chrono::nanoseconds duration) {
  int slot = kStatusSlots - 1;
  for (int i = 0; i < kStatusSlots; ++i) {
    int code = status_codes_[i].load(std::memory_order_acquire);
    if (code == http_status) {
      slot = i;
      break;
    }
    if (code == 0) {
      int expected = 0;
      if (status_codes_[i].compare_exchange_strong(expected, http_status,
                                                   std::memory_order_acq_rel) ||
          expected == http_status) {
        slot = i;
        break;
      }
      // Another thread claimed this slot for a different status; keep looking.
    }
  }
  status_counts_[slot].fetch_add(1, std::memory_order_relaxed);

  double seconds = std::chrono::duration<double>(duration).count();
  size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  bucket_counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<uint64_t>(duration.count()), std::memory_order_relaxed);
}

void OperationMetrics::Render(std::string* out) const {
  for (int i = 0; i < kStatusSlots; ++i) {
    int code = status_codes_[i].load(std::memory_order_acquire);
    if (code == 0) break;
    out->append("salespipe_requests_total{");
    AppendLabels(out, *this);
    fmt::format_to(std::back_inserter(*out), ",status=\"{}\"}} {}\n", code,
                   status_counts_[i].load(std::memory_order_relaxed));
  }
}

OperationMetrics& Metrics::For(std::string_view service, std::string_view operation) {
  MutexLock lock(mu_);
  auto key = std::make_pair(std::string(service), std::string(operation));
  auto it = operations_.find(key);
  if (it == operations_.end()) {
    it = operations_.emplace(key, std::make_unique<OperationMetrics>(key.first, key.second)).first;
  }
  return *it->second;
}

std::string Metrics::Render(int64_t in_flight, const kv::Db* db) const {
  std::vector<const OperationMetrics*> operations;
  {
    MutexLock lock(mu_);
    operations.reserve(operations_.size());
    for (const auto& [key, m] : operations_) operations.push_back(m.get());
  }
  std::string out;
  out.reserve(4096 + operations.size() * 2048);
  out.append(
      "# HELP salespipe_requests_total Requests answered, by service, operation and HTTP "
      "status.\n# TYPE salespipe_requests_total counter\n");
  for (const OperationMetrics* m : operations) m->Render(&out);

  out.append(
      "# HELP salespipe_request_duration_seconds Time from request header to response, by "
      "service and operation.\n# TYPE salespipe_request_duration_seconds histogram\n");
  for (const OperationMetrics* m : operations) {
    if (m->status_codes_[0].load(std::memory_order_acquire) == 0) continue;  // never recorded
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= OperationMetrics::kBuckets.size(); ++i) {
      cumulative += m->bucket_counts_[i].load(std::memory_order_relaxed);
      out.append("salespipe_request_duration_seconds_bucket{");
      AppendLabels(&out, *m);
      if (i < OperationMetrics::kBuckets.size()) {
        fmt::format_to(std::back_inserter(out), ",le=\"{}\"}} {}\n", OperationMetrics::kBuckets[i],
                       cumulative);
      } else {
        fmt::format_to(std::back_inserter(out), ",le=\"+Inf\"}} {}\n", cumulative);
      }
    }
    out.append("salespipe_request_duration_seconds_sum{");
    AppendLabels(&out, *m);
    fmt::format_to(std::back_inserter(out), "}} {:.9f}\n",
                   static_cast<double>(m->sum_nanos_.load(std::memory_order_relaxed)) / 1e9);
    out.append("salespipe_request_duration_seconds_count{");
    AppendLabels(&out, *m);
    // The count is the +Inf bucket, so the two always agree within one scrape.
    fmt::format_to(std::back_inserter(out), "}} {}\n", cumulative);
  }

  out.append(
      "# HELP salespipe_requests_in_flight Requests read and not yet answered.\n"
      "# TYPE salespipe_requests_in_flight gauge\n");
  fmt::format_to(std::back_inserter(out), "salespipe_requests_in_flight {}\n", in_flight);

  if (db != nullptr) {
    out.append(
        "# HELP salespipe_store_bytes Approximate live bytes per RocksDB column family.\n"
        "# TYPE salespipe_store_bytes gauge\n");
    for (int i = 0; i < kv::kCfCount; ++i) {
      auto cf = static_cast<kv::Cf>(i);
      fmt::format_to(std::back_inserter(out), "salespipe_store_bytes{{cf=\"{}\"}} {}\n",
                     CfLabel(cf), db->ApproximateBytes(cf));
    }
    out.append(
        "# HELP salespipe_store_keys Approximate keys per RocksDB column family.\n"
        "# TYPE salespipe_store_keys gauge\n");
    for (int i = 0; i < kv::kCfCount; ++i) {
      auto cf = static_cast<kv::Cf>(i);
      fmt::format_to(std::back_inserter(out), "salespipe_store_keys{{cf=\"{}\"}} {}\n", CfLabel(cf),
                     db->ApproximateKeys(cf));
    }
  }
  return out;
}

}  // namespace salespipe::http
