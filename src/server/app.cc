#include "server/app.h"

#include <filesystem>
#include <system_error>

#include "common/logging.h"
#include "services/dynamodb/dynamodb_service.h"
#include "services/iam/iam_service.h"
#include "services/s3/s3_service.h"
#include "services/kinesis/kinesis_service.h"
#include "services/dynamodb_streams/change_format.h"
#include "services/dynamodb_streams/dynamodb_streams_service.h"

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
                   kv::Db::Open({.path = db_path.string(), .durability = options.durability}));

  // Engines, in dependency order.
  app->catalog_ = std::make_unique<table::Catalog>(*app->db_);
  RETURN_IF_ERROR(app->catalog_->Load());
  app->table_store_ = std::make_unique<table::TableStore>(*app->db_, *app->catalog_, app->clock_);
  app->shard_log_ = std::make_unique<log::ShardLog>(*app->db_, app->clock_);
  RETURN_IF_ERROR(app->shard_log_->Open());
  // Change records ride in each item write's batch (DynamoDB Streams and the internal change
  // log of tables with Kinesis destinations).
  app->change_formatter_ = std::make_unique<services::dynamodb_streams::ChangeFormatter>();
  app->change_capture_ = std::make_unique<cdc::ChangeCapture>(*app->shard_log_, app->clock_,
                                                               *app->change_formatter_);
  app->table_store_->set_change_sink(app->change_capture_.get());
  app->kinesis_connector_ = std::make_unique<cdc::KinesisConnector>(
      *app->db_, *app->shard_log_, *app->catalog_, *app->change_capture_);
  app->ttl_sweeper_ = std::make_unique<table::TtlSweeper>(*app->catalog_, *app->table_store_,
                                                          options.ttl_sweep_interval);

  ASSIGN_OR_RETURN(app->lake_, lake::Lake::Open({.root = (std::filesystem::path(options.data_dir) /
                                                           "lake")
                                                              .string(),
                                                  .durability = options.durability},
                                                 *app->db_, app->clock_));

  // Services: the edge routes X-Amz-Target "<target_prefix>.<Operation>" to each.
  auto* dynamodb = app->RegisterJsonService(std::make_unique<services::dynamodb::DynamoDbService>(
      *app->catalog_, *app->table_store_, app->clock_));
  dynamodb->set_change_capture(app->change_capture_.get(), app->kinesis_connector_.get());
  app->RegisterJsonService(std::make_unique<services::dynamodb_streams::DynamoDbStreamsService>(
      *app->catalog_, *app->change_capture_, app->clock_));
  app->RegisterJsonService(
      std::make_unique<services::kinesis::KinesisService>(*app->shard_log_, app->clock_));

  // IAM and STS: signed for iam/sts, or an unsigned form POST to / (spec 1.1 steps 3 and 5).
  app->iam_ = std::make_unique<services::iam::IamService>(*app->db_, app->clock_);

  // Everything without X-Amz-Target goes to S3 (spec 1.1 rule 6).
  app->s3_ = std::make_unique<services::s3::S3Service>(
      *app->lake_, app->clock_,
      services::s3::S3Options{.auth_mode = options.auth_mode, .credentials = options.credentials});

  return app;
}

http::RestHandler* App::rest_handler() const { return s3_.get(); }

std::vector<http::RestHandler*> App::rest_handlers() const {
  // First claim wins: the handlers that claim by signing service or path come before S3.
  return {iam_.get(), s3_.get()};
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
  started_ = true;
  return Status::Ok();
}

void App::Stop() {
  if (!started_) return;
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
