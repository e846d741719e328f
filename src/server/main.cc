// salespipe: AWS wire APIs (DynamoDB, Kinesis, S3, ...) on one port.
//
//   salespipe serve --port 4566 --data-dir ./data
//
// Prints "salespipe listening on http://HOST:PORT" to stderr once requests are served.
// SIGTERM/SIGINT stop accepting, drain requests in progress, stop background components,
// flush and close the database, and exit 0.

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "common/logging.h"
#include "http/auth.h"
#include "http/server.h"
#include "server/app.h"

namespace salespipe::server {
namespace {

struct ServeFlags {
  std::string host = "127.0.0.1";
  int port = 4566;
  std::string data_dir = "./data";
  std::string durability = "os";
  std::string auth = "off";
  std::string credentials_file;
  std::string log_level = "info";
  int threads = 0;     // worker threads; 0 = derived from the core count
  int io_threads = 0;  // 0 = derived from the core count
  int idle_poll_us = 30;
  bool no_inline = false;
  int max_in_flight = 1024;
  uint64_t max_body_bytes = 16u << 20;
  int drain_timeout_ms = 10000;
  int ttl_sweep_ms = 5000;
};

std::string DefaultCredentialsFile() {
  if (const char* path = std::getenv("AWS_SHARED_CREDENTIALS_FILE"); path && *path) return path;
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home) + "/.aws/credentials";
  }
  return ".aws/credentials";
}

int Serve(const ServeFlags& flags, const sigset_t& stop_signals) {
  InitLogging(flags.log_level);
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  http::CredentialStore credentials;
  http::AuthMode auth_mode = flags.auth == "verify" ? http::AuthMode::kVerify : http::AuthMode::kOff;
  if (auth_mode == http::AuthMode::kVerify) {
    std::string path =
        flags.credentials_file.empty() ? DefaultCredentialsFile() : flags.credentials_file;
    Result<http::CredentialStore> loaded = http::CredentialStore::LoadFile(path);
    if (!loaded.ok()) {
      SPDLOG_CRITICAL("--auth verify: {}", loaded.status().ToString());
      return 1;
    }
    credentials = std::move(loaded).value();
    SPDLOG_INFO("verifying SigV4 signatures against {} key(s) from {}", credentials.size(), path);
  }

  Result<std::unique_ptr<App>> opened =
      App::Open({.data_dir = flags.data_dir,
                 .durability = flags.durability == "sync" ? kv::Durability::kSync
                                                          : kv::Durability::kOs,
                 .ttl_sweep_interval = std::chrono::milliseconds(flags.ttl_sweep_ms),
                 .auth_mode = auth_mode,
                 .credentials = &credentials});
  if (!opened.ok()) {
    SPDLOG_CRITICAL("cannot open {}: {}", flags.data_dir, opened.status().ToString());
    return 1;
  }
  std::unique_ptr<App> app = std::move(opened).value();
  if (Status status = app->Start(); !status.ok()) {
    SPDLOG_CRITICAL("cannot start: {}", status.ToString());
    return 1;
  }

  // With the WAL in the OS page cache a JSON request never waits on the disk, so it runs on
  // the io thread that read it (http::ServerOptions::inline_json); `sync` fsyncs on every
  // write and keeps the worker pool.
  const bool inline_json = flags.durability != "sync" && !flags.no_inline;
  http::ServerOptions options{
      .host = flags.host,
      .port = static_cast<uint16_t>(flags.port),
      // Inline JSON requests run on the io threads, so then there are more of them: two per
      // core measured best (bench/README.md, "Edge threads").
      .io_threads = flags.io_threads > 0 ? flags.io_threads
                                         : (inline_json ? 2 * cores : std::max(1, cores / 2)),
      .idle_poll = std::chrono::microseconds(flags.idle_poll_us),
      .worker_threads = flags.threads > 0 ? flags.threads : std::max(4, 2 * cores),
      .max_in_flight = flags.max_in_flight,
      .max_body_bytes = flags.max_body_bytes,
      .drain_timeout = std::chrono::milliseconds(flags.drain_timeout_ms),
      .auth_mode = auth_mode,
      .inline_json = inline_json,
  };
  http::Server server(options, {.json_services = app->json_services(),
                                .rest_handlers = app->rest_handlers(),
                                .credentials = &credentials,
                                .db = &app->db()});
  if (Status status = server.Start(); !status.ok()) {
    SPDLOG_CRITICAL("cannot serve: {}", status.ToString());
    return 1;
  }
  // Lambda functions call back into this edge (AWS_ENDPOINT_URL); a wildcard listen address
  // is reached through loopback.
  {
    std::string edge_host = flags.host == "0.0.0.0" || flags.host == "::" ? "127.0.0.1" : flags.host;
    if (edge_host.find(':') != std::string::npos) edge_host = "[" + edge_host + "]";
    if (Status status = app->SetEdgeEndpoint("http://" + edge_host + ":" +
                                             std::to_string(server.port()));
        !status.ok()) {
      SPDLOG_CRITICAL("cannot start the Lambda runner: {}", status.ToString());
      return 1;
    }
  }
  // Tests and scripts wait for exactly this line.
  std::fprintf(stderr, "salespipe listening on http://%s:%u\n", flags.host.c_str(),
               static_cast<unsigned>(server.port()));
  std::fflush(stderr);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  SPDLOG_INFO("received signal {}; shutting down", signal_number);

  server.Stop();
  app->Stop();
  Status closed = app->Close();
  if (!closed.ok()) {
    SPDLOG_ERROR("closing the database: {}", closed.ToString());
    return 1;
  }
  SPDLOG_INFO("stopped cleanly");
  return 0;
}

}  // namespace
}  // namespace salespipe::server

int main(int argc, char** argv) {
  // Block the stop signals before any thread exists (RocksDB and Asio start threads), so every
  // thread inherits the mask and the main thread alone receives them through sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  salespipe::server::ServeFlags flags;
  CLI::App cli{"salespipe: AWS wire APIs (DynamoDB, Kinesis, Firehose, S3, ...) on one port"};
  cli.require_subcommand(1);
  CLI::App* serve = cli.add_subcommand("serve", "Run the server");
  serve->add_option("--host", flags.host, "Address to listen on")->capture_default_str();
  serve->add_option("--port", flags.port, "Port to listen on; 0 picks a free one")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  serve->add_option("--data-dir", flags.data_dir, "Data directory (RocksDB in <dir>/db)")
      ->capture_default_str();
  serve->add_option("--durability", flags.durability,
                    "os: survive kill -9 (WAL to the OS); sync: survive power loss (fsync)")
      ->check(CLI::IsMember({"os", "sync"}))
      ->capture_default_str();
  serve->add_option("--auth", flags.auth,
                    "off: accept any credentials; verify: check SigV4 signatures")
      ->check(CLI::IsMember({"off", "verify"}))
      ->capture_default_str();
  serve->add_option("--credentials-file", flags.credentials_file,
                    "AWS credentials file (INI) for --auth verify; default "
                    "$AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials");
  serve->add_option("--log-level", flags.log_level, "Log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  serve->add_option("--threads", flags.threads,
                    "Worker threads running requests; 0 = max(4, 2 x cores)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  serve->add_flag("--no-inline", flags.no_inline,
                  "Run JSON requests on the worker pool even with --durability os");
  serve->add_option("--io-threads", flags.io_threads,
                    "Socket threads; 0 = 2 x cores (inline JSON) or max(1, cores / 2)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  serve->add_option("--idle-poll-us", flags.idle_poll_us,
                    "An idle io thread polls this long before sleeping when no request is in "
                    "flight (low-concurrency latency); 0 = never")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  serve->add_option("--max-in-flight", flags.max_in_flight,
                    "Requests read and not yet answered; more get 503")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  serve->add_option("--max-body-bytes", flags.max_body_bytes,
                    "Largest request body accepted; larger gets 413")
      ->capture_default_str();
  serve->add_option("--ttl-sweep-ms", flags.ttl_sweep_ms,
                    "How often expired TTL items are deleted")
      ->capture_default_str()
      ->check(CLI::Range(10, 86400000));
  serve->add_option("--drain-timeout-ms", flags.drain_timeout_ms,
                    "On shutdown, how long requests in progress may take to finish")
      ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  return salespipe::server::Serve(flags, stop_signals);
}
