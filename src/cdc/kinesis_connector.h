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
#include <vector>

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

// Delivers each table's changes to its Kinesis destinations (Kinesis Data Streams for
// DynamoDB), exactly once and in per-item order.
//
// A table's changes are in a sequence of sources (table::TableDef::change_sources): its
// internal change log, or, while the table has a DynamoDB stream, that stream's shard (one
// record serves both). A source ends when a later one is added (under the table's op_mu, so no
// write is in flight); a change-log source also ends where the next change-log source starts.
//
// For each (table, destination) a durable checkpoint holds the source and the next sequence
// number in it to deliver. A delivery step reads up to kMaxBatch changes from the checkpoint,
// appends each to the Kinesis shard owning hash(partition key), and puts the advanced
// checkpoint, all in ONE RocksDB batch: after a crash either both the records and the
// checkpoint are there, or neither. Writers never wait for this: they only append to the
// source.
//
// Checkpoint layout (kv::Cf::kMeta):
//   "cdc/checkpoint/<table_id as 20 digits>/<kinesis stream arn>"
//       -> u64 next sequence number | u64 source id   (8 bytes only: source 0, the change log)
//
// Woken by ChangeCapture's change listener after a change commits; no polling. Thread-safe.
class KinesisConnector {
 public:
  static constexpr int kMaxBatch = 500;
  // How long the delivery thread waits after a wake-up before delivering (see Loop). Each
  // wake-up of the thread costs the writers more than a delivered record (bench/README.md, "CDC
  // cost": 1 ms -> 5 ms is +25-35% PutItem throughput at one connection); 5 ms stays well
  // inside the PutItem -> Kinesis p99 target of 20 ms.
  static constexpr std::chrono::microseconds kLinger{5000};

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
  // only later changes are published (no backfill). When no other destination of `table` is
  // active, its change sources restart at the current one (the caller saves `table`).
  // REQUIRES: the table's op_mu() is held exclusively, so no write is in flight.
  // Errors: kInternal.
  Status StartDestination(table::TableDef& table, std::string_view stream_arn);

  // Delivers every change of `table` not yet delivered to `destination` (before disabling it).
  // REQUIRES: the table's op_mu() is held exclusively. Errors: kInternal.
  Status Drain(const table::TableDef& table, const table::KinesisDestination& destination);

  // Delivers everything currently deliverable; returns the number of records delivered.
  // What the thread runs; public for tests. Destinations whose Kinesis stream is missing are
  // skipped (their changes wait). Errors: kInternal on storage failure.
  Result<int64_t> RunOnce();
  // One delivery step of one destination: at most `max_records` changes, all from one source.
  // Returns how many; 0 only when the destination is caught up (or must wait). Steps are
  // serialized (deliver_mu_), so a checkpoint is never read by two at once.
  Result<int64_t> DeliverStep(const table::TableDef& table,
                              const table::KinesisDestination& destination, int max_records);

 private:
  struct Checkpoint {
    uint64_t source = 0;  // table::ChangeSource::id
    uint64_t next = 0;    // the next sequence number to deliver from that source
  };
  static std::string CheckpointKey(uint64_t table_id, std::string_view stream_arn);
  static std::string EncodeCheckpoint(const Checkpoint& checkpoint);
  // Up to `max_records` changes of `*source` (one of `sources`, `table`'s) from `*next` on;
  // `*next` moves past changes trimmed before delivery (logged).
  Result<std::vector<log::Record>> ReadSource(
      const table::TableDef& table, const table::KinesisDestination& destination,
      const std::vector<table::ChangeSource>& sources,
      std::vector<table::ChangeSource>::const_iterator source, uint64_t* next, int max_records);
  // Logs why a step delivered nothing (its batch is dropped) and returns 0.
  static int64_t Skip(const table::TableDef& table, const table::KinesisDestination& destination,
                      const Status& status);
  void Loop();

  // Set at construction.
  kv::Db& db_;
  log::ShardLog& log_;
  table::Catalog& catalog_;
  ChangeCapture& capture_;

  Mutex deliver_mu_;  // held by DeliverStep and StartDestination (checkpoint read-modify-write)
  // The checkpoints as last committed (key -> next sequence number): only this class writes
  // them, so a step reads RocksDB only for a checkpoint it has not seen yet.
  std::map<std::string, Checkpoint> checkpoints_ GUARDED_BY(deliver_mu_);

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
