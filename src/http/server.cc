#include "http/server.h"

#include "common/logging.h"
#include "http/connection.h"

namespace salespipe::http {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return beast::iequals(beast::string_view(a.data(), a.size()),
                        beast::string_view(b.data(), b.size()));
}

std::string_view HttpDate() {
  thread_local std::time_t cached_second = -1;
  thread_local char buffer[40];
  thread_local size_t length = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    length = std::strftime(buffer, sizeof(buffer), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return {buffer, length};
}

std::vector<RestHandler*> RestHandlersOf(const ServerDependencies& deps) {
  std::vector<RestHandler*> handlers = deps.rest_handlers;
  if (deps.rest_handler != nullptr &&
      std::find(handlers.begin(), handlers.end(), deps.rest_handler) == handlers.end()) {
    handlers.push_back(deps.rest_handler);
  }
  return handlers;
}

std::string_view FallbackJsonContentType(std::string_view request_content_type) {
  return request_content_type.find("1.1") != std::string_view::npos ? kJson11 : kJson10;
}

// ---------------------------------------------------------------------------------------
// Server::Impl

Status Server::Impl::Start() {
  if (started_) return Status::FailedPrecondition("server already started");
  if (options_.auth_mode == AuthMode::kVerify && deps_.credentials == nullptr) {
    return Status::FailedPrecondition("--auth verify needs a credentials file");
  }
  beast::error_code ec;
  tcp::resolver resolver(*io_contexts_.front());
  auto endpoints =
      resolver.resolve(options_.host, std::to_string(options_.port), tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    return Status::InvalidArgument("cannot resolve host " + options_.host + ": " + ec.message());
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return Status::Unavailable("cannot listen on " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  started_ = true;

  for (auto& context : io_contexts_) work_guards_.push_back(net::make_work_guard(*context));
  workers_ = std::make_unique<net::thread_pool>(std::max(1, options_.worker_threads));
  blocking_workers_ = std::make_unique<net::thread_pool>(std::max(1, options_.blocking_threads));
  net::dispatch(acceptor_.get_executor(), [this] { Accept(); });
  for (auto& context : io_contexts_) {
    io_threads_.emplace_back([this, context = context.get()] {
      NameThisThread("sp-io");
      // An exception escaping a handler is a bug; keep the thread serving.
      while (true) {
        try {
          RunIoThread(*context);
          return;
        } catch (const std::exception& e) {
          SPDLOG_ERROR("io thread: uncaught exception: {}", e.what());
        }
      }
    });
  }
  return Status::Ok();
}

void Server::Impl::RunIoThread(net::io_context& context) {
  if (options_.idle_poll.count() <= 0) {
    context.run();
    return;
  }
  while (!context.stopped()) {
    if (context.poll() > 0) continue;
    // Out of work. Poll on before sleeping only when no request is in flight anywhere (so
    // polling takes a core from nobody) and no other io thread is polling already.
    size_t ran = 0;
    if (in_flight_.load(std::memory_order_relaxed) == 0) {
      if (idle_pollers_.fetch_add(1) == 0) {
        auto until = std::chrono::steady_clock::now() + options_.idle_poll;
        while (ran == 0 && std::chrono::steady_clock::now() < until) ran = context.poll();
      }
      idle_pollers_.fetch_sub(1);
    }
    if (ran == 0) context.run_one();  // sleeps until there is work
  }
}

std::vector<std::unique_ptr<net::io_context>> Server::Impl::MakeIoContexts(int count) {
  std::vector<std::unique_ptr<net::io_context>> contexts;
  // Concurrency hint 1: each context is run by one thread (other threads only post to it).
  for (int i = 0; i < std::max(1, count); ++i) {
    contexts.push_back(std::make_unique<net::io_context>(1));
  }
  return contexts;
}

void Server::Impl::Accept() {
  net::io_context& context = *io_contexts_[next_context_++ % io_contexts_.size()];
  acceptor_.async_accept(context, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || stopping_.load() || !acceptor_.is_open()) return;
    if (ec) {
      SPDLOG_WARN("accept failed: {}", ec.message());
    } else {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto connection = std::make_shared<Connection>(*this, std::move(socket));
      Register(connection);
      connection->Start();
    }
    Accept();
  });
}

void Server::Impl::Register(const std::shared_ptr<Connection>& connection) {
  MutexLock lock(connections_mu_);
  connections_.emplace(connection.get(), connection);
}

void Server::Impl::Unregister(Connection* connection) {
  MutexLock lock(connections_mu_);
  connections_.erase(connection);
  if (connections_.empty()) connections_cv_.notify_all();
}

void Server::Impl::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  stopping_ = true;
  net::dispatch(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });

  auto for_each_connection = [this](auto fn) {
    std::vector<std::shared_ptr<Connection>> live;
    {
      MutexLock lock(connections_mu_);
      for (auto& [raw, weak] : connections_) {
        if (auto connection = weak.lock()) live.push_back(std::move(connection));
      }
    }
    for (auto& connection : live) {
      net::post(connection->executor(), [connection, fn] { fn(*connection); });
    }
  };
  for_each_connection([](Connection& c) { c.StopIfIdle(); });
  {
    std::unique_lock lock(connections_mu_);
    if (!connections_cv_.wait_for(lock, options_.drain_timeout,
                                  [this] { return connections_.empty(); })) {
      SPDLOG_WARN("{} connection(s) still busy after {} ms; closing them", connections_.size(),
                  options_.drain_timeout.count());
    }
  }
  for_each_connection([](Connection& c) { c.ForceClose(); });
  work_guards_.clear();
  // Workers finish what they run; what they post back is dropped with the io_context.
  workers_->join();
  blocking_workers_->join();
  for (auto& context : io_contexts_) context->stop();
  for (std::thread& thread : io_threads_) thread.join();
  io_threads_.clear();
}

// ---------------------------------------------------------------------------------------
// Server

Server::Server(ServerOptions options, ServerDependencies dependencies)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(dependencies))) {}

Server::~Server() = default;

Status Server::Start() { return impl_->Start(); }
uint16_t Server::port() const { return impl_->port(); }
void Server::Stop() { impl_->Stop(); }
const Metrics& Server::metrics() const { return impl_->metrics_; }
int64_t Server::in_flight() const { return impl_->in_flight_.load(); }

}  // namespace salespipe::http
