#include "server/app.h"

#include <filesystem>
#include <system_error>

#include "common/logging.h"
#include "lambda/engine.h"
#include "lambda/event_source_mapping.h"
#include "lambda/function_store.h"
#include "lambda/runner.h"
#include "services/dynamodb/dynamodb_service.h"
#include "services/dynamodb_streams/change_format.h"
#include "services/dynamodb_streams/dynamodb_streams_service.h"
#include "services/firehose/firehose_service.h"
#include "services/iam/iam_service.h"
#include "services/kinesis/kinesis_service.h"
#include "services/lambda/event_format.h"
#include "services/lambda/lambda_service.h"
#include "services/s3/s3_service.h"

namespace salespipe::server {

Result<std::unique_ptr<App>> App::Open(const AppOptions& options) {
  std::filesystem::path db_path = std::filesystem::path(options.data_dir) / "db";
  std::error_code ec;
  std::filesystem::create_directories(db_path, ec);
  if (ec) {
    return Status::FailedPrecondition("cannot create data directory " + db_path.string() + ": " +
                                      ec.message());
  }
  std::unique_ptr<App> app(new App());
  ASSIGN_OR_RETURN(app->db_,
                   kv::Db::Open({.path = db_path.string(),
                                 .durability = options.durability,
                                 .log_sequence_prefix_bytes = log::kShardKeyPrefixBytes}));

  // Engines, in dependency order.
  app->catalog_ = std::make_unique<table::Catalog>(*app->db_);
  RETURN_IF_ERROR(app->catalog_->Load());
  app->table_store_ = std::make_unique<table::TableStore>(*app->db_, *app->catalog_, app->clock_);
  app->shard_log_ = std::make_unique<log::ShardLog>(*app->db_, app->clock_);
  RETURN_IF_ERROR(app->shard_log_->Open());
  // Change records ride in each item write's batch (DynamoDB Streams and the internal change
  // log of tables with Kinesis destinations).
  app->change_formatter_ = std::make_unique<services::dynamodb_streams::ChangeFormatter>();
  app->change_capture_ =
      std::make_unique<cdc::ChangeCapture>(*app->shard_log_, app->clock_, *app->change_formatter_);
  app->table_store_->set_change_sink(app->change_capture_.get());
  app->kinesis_connector_ = std::make_unique<cdc::KinesisConnector>(
      *app->db_, *app->shard_log_, *app->catalog_, *app->change_capture_);
  app->ttl_sweeper_ = std::make_unique<table::TtlSweeper>(*app->catalog_, *app->table_store_,
                                                          options.ttl_sweep_interval);

  ASSIGN_OR_RETURN(
      app->lake_,
      lake::Lake::Open({.root = (std::filesystem::path(options.data_dir) / "lake").string(),
                        .durability = options.durability},
                       *app->db_, app->clock_));

  // Lambda. The process runner needs the edge's address (SetEdgeEndpoint); until then
  // invocations answer kUnavailable.
  app->lambda_dir_ = (std::filesystem::path(options.data_dir) / "lambda").string();
  app->lambda_runner_ = std::make_unique<lambda::DeferredRunner>();
  app->function_store_ =
      std::make_unique<lambda::FunctionStore>(*app->db_, app->clock_, app->lambda_dir_);
  RETURN_IF_ERROR(app->function_store_->Open());
  app->lambda_engine_ =
      std::make_unique<lambda::LambdaEngine>(*app->function_store_, *app->lambda_runner_);
  app->lambda_event_formatter_ = std::make_unique<services::lambda::EventFormatter>(
      *app->function_store_, *app->change_capture_);
  app->event_source_mappings_ = std::make_unique<lambda::EventSourceMappings>(
      *app->db_, *app->shard_log_, *app->lambda_engine_, *app->lambda_event_formatter_,
      app->clock_);
  RETURN_IF_ERROR(app->event_source_mappings_->Open());
  if (!options.edge_endpoint.empty()) RETURN_IF_ERROR(app->SetEdgeEndpoint(options.edge_endpoint));
  // Firehose: delivery streams read the shard log and write the lake; Lambda processors run
  // through the Lambda engine (on the delivery threads, never on an io thread).
  app->delivery_ = std::make_unique<delivery::DeliveryEngine>(
      *app->db_, *app->shard_log_, *app->lake_, app->clock_, app->lambda_engine_.get(),
      delivery::EngineOptions{.format_sequence =
                                  &services::kinesis::KinesisService::FormatSequenceNumber});
  RETURN_IF_ERROR(app->delivery_->Open());

  // Services: the edge routes X-Amz-Target "<target_prefix>.<Operation>" to each.
  auto* dynamodb = app->RegisterJsonService(std::make_unique<services::dynamodb::DynamoDbService>(
      *app->catalog_, *app->table_store_, app->clock_));
  dynamodb->set_change_capture(app->change_capture_.get(), app->kinesis_connector_.get());
  app->RegisterJsonService(std::make_unique<services::dynamodb_streams::DynamoDbStreamsService>(
      *app->catalog_, *app->change_capture_, app->clock_));
  app->RegisterJsonService(
      std::make_unique<services::kinesis::KinesisService>(*app->shard_log_, app->clock_));
  app->RegisterJsonService(
      std::make_unique<services::firehose::FirehoseService>(*app->delivery_, app->clock_));

  // IAM and STS: signed for iam/sts, or an unsigned form POST to / (spec 1.1 steps 3 and 5).
  app->iam_ = std::make_unique<services::iam::IamService>(*app->db_, app->clock_);

  // Lambda's rest-json API: signed for lambda, or a Lambda date path (spec 1.1 steps 3-4).
  app->lambda_service_ = std::make_unique<services::lambda::LambdaService>(
      *app->lambda_engine_, *app->lake_, app->clock_, app->event_source_mappings_.get(),
      (std::filesystem::path(app->lambda_dir_) / ".spool").string());

  // Everything without X-Amz-Target goes to S3 (spec 1.1 rule 6).
  app->s3_ = std::make_unique<services::s3::S3Service>(
      *app->lake_, app->clock_,
      services::s3::S3Options{.auth_mode = options.auth_mode, .credentials = options.credentials});

  return app;
}

http::RestHandler* App::rest_handler() const { return s3_.get(); }

lambda::Invoker& App::invoker() { return *lambda_engine_; }

Status App::SetEdgeEndpoint(const std::string& endpoint) {
  ASSIGN_OR_RETURN(std::unique_ptr<lambda::Runner> runner,
                   lambda::NewProcessRunner(
                       {.runtime_dir = (std::filesystem::path(lambda_dir_) / "runtimes").string(),
                        .edge_endpoint = endpoint}));
  lambda_runner_->Set(std::move(runner));
  return Status::Ok();
}

std::vector<http::RestHandler*> App::rest_handlers() const {
  // First claim wins: the handlers that claim by signing service or path come before S3.
  return {lambda_service_.get(), iam_.get(), s3_.get()};
}

App::~App() {
  Stop();
  Status status = Close();
  if (!status.ok()) SPDLOG_ERROR("closing the database: {}", status.ToString());
}

Status App::Start() {
  if (started_) return Status::Ok();
  ttl_sweeper_->Start();
  shard_log_->Start();
  kinesis_connector_->Start();
  lambda_engine_->Start();
  event_source_mappings_->Start();
  delivery_->Start();
  started_ = true;
  return Status::Ok();
}

void App::Stop() {
  if (!started_) return;
  delivery_->Stop();  // flushes buffered records into the lake
  // Lambda once delivery (its transforms) has stopped. The processes end first, so a hung
  // function cannot hold the shutdown for its whole timeout: a mapping's batch cut short is
  // not checkpointed and is delivered again after the restart (at least once).
  event_source_mappings_->RequestStop();
  lambda_engine_->RequestStop();
  lambda_runner_->Shutdown();
  event_source_mappings_->Stop();
  lambda_engine_->Stop();
  ttl_sweeper_->Stop();
  kinesis_connector_->Stop();
  shard_log_->Stop();
  started_ = false;
}

std::vector<services::JsonService*> App::json_services() const {
  std::vector<services::JsonService*> out;
  out.reserve(json_services_.size());
  for (const auto& service : json_services_) out.push_back(service.get());
  return out;
}

Status App::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  json_services_.clear();
  s3_.reset();
  iam_.reset();
  delivery_.reset();
  lambda_service_.reset();
  event_source_mappings_.reset();
  lambda_event_formatter_.reset();
  lambda_engine_.reset();
  function_store_.reset();
  lambda_runner_.reset();
  lake_.reset();
  kinesis_connector_.reset();
  ttl_sweeper_.reset();
  table_store_.reset();
  change_capture_.reset();
  change_formatter_.reset();
  shard_log_.reset();
  catalog_.reset();
  if (db_ == nullptr) return Status::Ok();
  Status status = db_->Flush();
  db_.reset();
  return status;
}

}  // namespace salespipe::server
