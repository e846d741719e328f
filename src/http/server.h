#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "http/auth.h"
#include "http/metrics.h"
#include "http/rest_handler.h"
#include "services/service.h"

namespace salespipe::kv {
class Db;
}

namespace salespipe::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 4566;    // 0 picks a free port; see Server::port()
  int io_threads = 1;      // threads running the sockets, each its own Asio io_context
  // An io thread that runs out of work while no request is in flight anywhere keeps polling
  // its sockets this long before it sleeps (at most one thread at a time; 0 = never). At one
  // connection the client's next request usually comes within it, and a sleeping thread's
  // wake-up (on a VM: a halted vCPU's) cost ~30 us of every round trip: PutItem at 1
  // connection 10.7k -> 18.5k req/s. Under load a request is always in flight and nobody polls.
  std::chrono::microseconds idle_poll{0};
  int worker_threads = 4;  // threads running services; io threads never block on them
  // Threads for REST requests whose handler says they may block long (RestHandler::MayBlock,
  // e.g. Lambda Invoke): at most this many run at once, later ones wait their turn.
  int blocking_threads = 64;
  // Requests read and not yet answered. Over it the edge answers 503 at once: JSON services
  // their ServiceUnavailable error, everything else S3's SlowDown.
  int max_in_flight = 1024;
  // Request bodies above this are refused before they are read: from Content-Length (413,
  // see docs/compat/http.md), or while reading a chunked body.
  uint64_t max_body_bytes = 16u << 20;
  uint32_t max_header_bytes = 64u << 10;
  std::chrono::seconds idle_timeout{120};  // a keep-alive connection idle this long is closed
  std::chrono::seconds io_timeout{120};    // reading one body or writing one response
  // How long Stop() waits for requests in progress before closing their connections.
  std::chrono::milliseconds drain_timeout{10000};
  AuthMode auth_mode = AuthMode::kOff;
  // Run JSON-service requests on the io thread that read them instead of the worker pool.
  // For services whose work is CPU-bound and short (DynamoDB with the WAL in the OS cache),
  // the two thread handoffs per request cost more than the request itself. Keep it off when
  // storage calls may block for long (--durability sync fsyncs on every write). REST (S3)
  // requests always use the workers.
  bool inline_json = false;
};

// What the server talks to. Everything must outlive the Server.
struct ServerDependencies {
  std::vector<services::JsonService*> json_services;
  // REST protocols (spec 1.1 steps 3-6), asked in order (RestHandler::Claims): Lambda,
  // IAM/STS, ..., S3 last. `rest_handler`, when set, is asked after all of them.
  std::vector<RestHandler*> rest_handlers;
  RestHandler* rest_handler = nullptr;

  const CredentialStore* credentials = nullptr;  // required when auth_mode is kVerify
  const kv::Db* db = nullptr;                    // optional: store gauges on /_salespipe/metrics
  const Clock* clock = nullptr;                  // for the SigV4 skew check; null = system clock
};

// The edge: one HTTP/1.1 port for every AWS API (spec 1.1). Accepts on `io_threads` threads,
// runs services on a separate pool of `worker_threads`, and renders every response: JSON
// services by X-Amz-Target, /_salespipe/health and /_salespipe/metrics, and the first
// RestHandler that claims the rest (or a NotImplemented error). Start and Stop are not thread-safe with each other;
// port(), metrics() and in_flight() are.
class Server {
 public:
  Server(ServerOptions options, ServerDependencies dependencies);
  ~Server();  // Stop()s if needed
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the threads. Once it returns OK, requests are served.
  // Errors: kFailedPrecondition if started before, or kVerify without credentials;
  // kInvalidArgument if `host` does not resolve; kUnavailable if the port cannot be bound.
  Status Start();

  // The bound port (the real one when options.port was 0). REQUIRES: Start() succeeded.
  uint16_t port() const;

  // Stops accepting, closes idle connections, lets requests in progress finish (for up to
  // drain_timeout, then closes their connections), and joins all threads. Idempotent.
  // Must not be called from a service.
  void Stop();

  const Metrics& metrics() const;
  int64_t in_flight() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace salespipe::http
