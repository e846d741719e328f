#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cdc/change_capture.h"
#include "cdc/kinesis_connector.h"
#include "common/clock.h"
#include "common/status.h"
#include "delivery/delivery_engine.h"
#include "http/auth.h"
#include "http/rest_handler.h"
#include "kv/db.h"
#include "lake/lake.h"
#include "log/shard_log.h"
#include "services/service.h"
#include "table/catalog.h"
#include "table/table_store.h"
#include "table/ttl_sweeper.h"

namespace salespipe::services::dynamodb_streams {
class ChangeFormatter;
}

namespace salespipe::services::s3 {
class S3Service;
}

namespace salespipe::lambda {
class DeferredRunner;
class EventSourceMappings;
class FunctionStore;
class Invoker;
class LambdaEngine;
}  // namespace salespipe::lambda

namespace salespipe::services::lambda {
class EventFormatter;
class LambdaService;
}  // namespace salespipe::services::lambda

namespace salespipe::services::firehose {
class FirehoseService;
}

namespace salespipe::services::iam {
class IamService;
}

// The composition root: builds and owns every long-lived component (STYLE.md section 6).
namespace salespipe::server {

struct AppOptions {
  std::string data_dir = "./data";  // RocksDB lives in <data_dir>/db
  kv::Durability durability = kv::Durability::kOs;
  // How often expired TTL items are swept (AWS: within days; here: seconds).
  std::chrono::milliseconds ttl_sweep_interval{std::chrono::seconds(5)};
  // S3 checks aws-chunked chunk signatures itself in kVerify (the edge checks the request).
  http::AuthMode auth_mode = http::AuthMode::kOff;
  const http::CredentialStore* credentials = nullptr;  // must outlive the App
  // The edge's address, AWS_ENDPOINT_URL inside Lambda functions ("http://127.0.0.1:4566").
  // Empty: call App::SetEdgeEndpoint once the edge listens (functions fail until then).
  std::string edge_endpoint;
};

// Owns the database, the engines and the services, and hands the edge what it routes to.
// Lifecycle: Open -> Start -> (serve) -> Stop -> Close. Not thread-safe: the accessors are
// meant for wiring at start-up; the services themselves are thread-safe.
class App {
 public:
  // Creates <data_dir>/db (and parents), opens the database and builds every service.
  // Errors: kFailedPrecondition if the directory cannot be created; kInternal if RocksDB cannot
  // open it (e.g. another process holds its lock).
  static Result<std::unique_ptr<App>> Open(const AppOptions& options);

  ~App();  // Stop()s and Close()s; errors are logged

  // Starts background components (connectors, delivery, ...; none yet).
  Status Start();
  // Stops background components and waits for their in-flight work. Idempotent.
  void Stop();
  // Destroys the services, flushes the database and closes it. Idempotent.
  // REQUIRES: nothing serves requests any more (the http::Server is stopped).
  // Errors: kInternal if the flush fails (the database is closed anyway).
  Status Close();

  // REQUIRES: not Close()d.
  kv::Db& db() { return *db_; }
  // The JSON-protocol services, in registration order; owned by the App.
  std::vector<services::JsonService*> json_services() const;
  // The REST (S3) handler; owned by the App.
  http::RestHandler* rest_handler() const;
  // Every REST-protocol handler in the order the edge asks them (RestHandler::Claims, spec
  // 1.1 steps 3-6): Lambda, IAM/STS, ..., S3 (the catch-all) last; owned by the App.
  std::vector<http::RestHandler*> rest_handlers() const;
  // REQUIRES: not Close()d.
  lake::Lake& lake() { return *lake_; }
  // Runs Lambda functions (for Firehose transforms); owned by the App. REQUIRES: not Close()d.
  lambda::Invoker& invoker();
  // Starts the Lambda process runner with `endpoint` as the functions' AWS_ENDPOINT_URL (once;
  // later calls are ignored). Errors: kInternal if the runtimes folder cannot be written.
  Status SetEdgeEndpoint(const std::string& endpoint);
  // The Firehose engine. REQUIRES: not Close()d.
  delivery::DeliveryEngine& delivery() { return *delivery_; }

 private:
  App() = default;

  // Takes ownership of `service`; the edge routes to it by its target_prefix().
  // Returns the service for typed wiring (e.g. a connector that needs the concrete class).
  template <typename T>
  T* RegisterJsonService(std::unique_ptr<T> service) {
    T* raw = service.get();
    json_services_.push_back(std::move(service));
    return raw;
  }

  // Build order is dependency order; members are destroyed in reverse, so services go
  // before the engines and the database they use.
  SystemClock clock_;
  std::unique_ptr<kv::Db> db_;
  std::unique_ptr<table::Catalog> catalog_;
  std::unique_ptr<table::TableStore> table_store_;
  std::unique_ptr<table::TtlSweeper> ttl_sweeper_;
  // Change capture: DynamoDB Streams and the table-to-Kinesis connector.
  std::unique_ptr<log::ShardLog> shard_log_;
  std::unique_ptr<services::dynamodb_streams::ChangeFormatter> change_formatter_;
  std::unique_ptr<cdc::ChangeCapture> change_capture_;
  std::unique_ptr<cdc::KinesisConnector> kinesis_connector_;
  std::vector<std::unique_ptr<services::JsonService>> json_services_;
  std::unique_ptr<lake::Lake> lake_;  // objects under <data_dir>/lake
  // Firehose delivery into the lake (reads the shard log, writes the lake).
  std::unique_ptr<delivery::DeliveryEngine> delivery_;
  std::unique_ptr<services::s3::S3Service> s3_;
  // Lambda: functions and their code (<data_dir>/lambda), the engine that invokes them, and
  // the event source mappings that feed them from Kinesis and DynamoDB streams.
  std::string lambda_dir_;
  std::unique_ptr<lambda::DeferredRunner> lambda_runner_;
  std::unique_ptr<lambda::FunctionStore> function_store_;
  std::unique_ptr<lambda::LambdaEngine> lambda_engine_;
  std::unique_ptr<services::lambda::EventFormatter> lambda_event_formatter_;
  std::unique_ptr<lambda::EventSourceMappings> event_source_mappings_;
  std::unique_ptr<services::lambda::LambdaService> lambda_service_;
  std::unique_ptr<services::iam::IamService> iam_;  // IAM and STS (query protocol)
  bool started_ = false;
  bool closed_ = false;
};

}  // namespace salespipe::server
