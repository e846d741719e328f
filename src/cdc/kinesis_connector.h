#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "cdc/change_capture.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "kv/db.h"
#include "log/shard_log.h"
#include "table/catalog.h"

namespace salespipe::cdc {

// The log::ShardLog name of the Kinesis data stream with ARN
// arn:aws:kinesis:<region>:<account>:stream/<name>: "kinesis/<account>/<region>/<name>"
// (the naming of services/kinesis). nullopt for anything that is not a stream ARN.
std::optional<std::string> KinesisLogNameForArn(std::string_view arn);

// Delivers each table's internal change log to its Kinesis destinations (Kinesis Data Streams
// for DynamoDB), exactly once and in per-item order.
//
// For each (table, destination) a durable checkpoint holds the next change-log sequence number
// to deliver. A delivery step reads up to kMaxBatch changes from the checkpoint, appends each
// to the Kinesis shard owning hash(partition key), and puts the advanced checkpoint, all in ONE
// RocksDB batch: after a crash either both the records and the checkpoint are there, or
// neither. Writers never wait for this: they only append to the change log.
//
// Checkpoint layout (kv::Cf::kMeta):
//   "cdc/checkpoint/<table_id as 20 digits>/<kinesis stream arn>" -> u64 next sequence number
//
// Woken by log::ShardLog listeners when a change log grows; no polling. Thread-safe.
class KinesisConnector {
 public:
  static constexpr int kMaxBatch = 500;
  // How long the delivery thread waits after a wake-up before delivering (see Loop).
  static constexpr std::chrono::microseconds kLinger{1000};

  // All references must outlive this object.
  KinesisConnector(kv::Db& db, log::ShardLog& log, table::Catalog& catalog,
                   ChangeCapture& capture);
  ~KinesisConnector();  // Stop()s

  // Starts / stops the delivery thread. Stop() waits for the step in progress. Idempotent.
  void Start();
  void Stop();
  // Wakes the delivery thread (e.g. after a destination was enabled).
  void Wake();

  // Sets the checkpoint of a destination being enabled to just after the newest change, so
  // only later changes are published (no backfill). REQUIRES: the table's op_mu() is held
  // exclusively, so no write is in flight. Errors: kInternal.
  Status StartDestination(const table::TableDef& table, std::string_view stream_arn);

  // Delivers every change of `table` not yet delivered to `destination` (before disabling it).
  // REQUIRES: the table's op_mu() is held exclusively. Errors: kInternal.
  Status Drain(const table::TableDef& table, const table::KinesisDestination& destination);

  // Delivers everything currently deliverable; returns the number of records delivered.
  // What the thread runs; public for tests. Destinations whose Kinesis stream is missing are
  // skipped (their changes wait). Errors: kInternal on storage failure.
  Result<int64_t> RunOnce();
  // One delivery step of one destination: at most `max_records` changes. Returns how many.
  // Steps are serialized (deliver_mu_), so a checkpoint is never read by two at once.
  Result<int64_t> DeliverStep(const table::TableDef& table,
                              const table::KinesisDestination& destination, int max_records);

 private:
  static std::string CheckpointKey(uint64_t table_id, std::string_view stream_arn);
  // Logs why a step delivered nothing (its batch is dropped) and returns 0.
  static int64_t Skip(const table::TableDef& table, const table::KinesisDestination& destination,
                      const Status& status);
  void Loop();

  // Set at construction.
  kv::Db& db_;
  log::ShardLog& log_;
  table::Catalog& catalog_;
  ChangeCapture& capture_;
  uint64_t listener_ = 0;

  Mutex deliver_mu_;  // held by DeliverStep and StartDestination (checkpoint read-modify-write)
  // The checkpoints as last committed (key -> next sequence number): only this class writes
  // them, so a step reads RocksDB only for a checkpoint it has not seen yet.
  std::map<std::string, uint64_t> checkpoints_ GUARDED_BY(deliver_mu_);

  Mutex mu_;  // guards the fields below; the thread waits on cv_
  std::condition_variable cv_;
  // Written under mu_; read without it by Wake's fast path (a pending wake-up covers every
  // commit made visible before the delivery thread clears it).
  std::atomic<bool> dirty_{true};
  bool stopping_ GUARDED_BY(mu_) = false;
  // Destinations already warned about (missing Kinesis stream), so the log is not flooded.
  std::set<std::string> warned_ GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace salespipe::cdc
