#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/mutex.h"

namespace salespipe::kv {
class Db;
}

// Request metrics in Prometheus text exposition format.
namespace salespipe::http {

// Counters and the latency histogram of one (service, operation). Lives as long as the
// Metrics that made it, at a stable address. Record is lock-free; thread-safe.
class OperationMetrics {
 public:
  // Upper bounds (seconds) of the latency histogram buckets; +Inf is implied.
  static constexpr std::array<double, 14> kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};

  OperationMetrics(std::string service, std::string operation)
      : service_(std::move(service)), operation_(std::move(operation)) {}

  // Counts one answered request with HTTP status `http_status` that took `duration`.
  void Record(int http_status, std::chrono::nanoseconds duration);

  const std::string& service() const { return service_; }
  const std::string& operation() const { return operation_; }

  // Appends this operation's samples to `out`.
  void Render(std::string* out) const;

 private:
  friend class Metrics;

  // Distinct HTTP statuses are claimed lock-free; a handful per operation is typical. Statuses
  // beyond the slots are counted in the last slot under its status.
  static constexpr int kStatusSlots = 12;

  // Set at construction.
  const std::string service_;
  const std::string operation_;

  std::array<std::atomic<int>, kStatusSlots> status_codes_{};
  std::array<std::atomic<uint64_t>, kStatusSlots> status_counts_{};
  std::array<std::atomic<uint64_t>, kBuckets.size() + 1> bucket_counts_{};  // not cumulative
  std::atomic<uint64_t> sum_nanos_{0};
};

// The registry of OperationMetrics plus the gauges. Thread-safe.
class Metrics {
 public:
  // The metrics of (`service`, `operation`), created on first use. Takes a mutex, so callers
  // on the hot path cache the reference (e.g. per connection). The reference stays valid as
  // long as this object.
  OperationMetrics& For(std::string_view service, std::string_view operation) EXCLUDES(mu_);

  // Prometheus text: salespipe_requests_total, salespipe_request_duration_seconds,
  // salespipe_requests_in_flight (= `in_flight`) and, when `db` is not null,
  // salespipe_store_bytes / salespipe_store_keys per column family.
  std::string Render(int64_t in_flight, const kv::Db* db) const EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  // std::map nodes are stable, so references handed out stay valid.
  std::map<std::pair<std::string, std::string>, std::unique_ptr<OperationMetrics>> operations_
      GUARDED_BY(mu_);
};

// The content type of Metrics::Render output.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

}  // namespace salespipe::http
