#pragma once

#include <spdlog/spdlog.h>

// Logs go to stderr through spdlog; request-scoped lines carry the request id:
//   SPDLOG_INFO("[{}] PutItem {}", request_id, table);
namespace salespipe {

// Sets up the stderr logger once at start-up. Not thread-safe; call from main().
void InitLogging(std::string_view level);

// Names the calling thread for top, perf and /proc/<pid>/task/*/comm (first 15 bytes).
void NameThisThread(std::string_view name);

}  // namespace salespipe
