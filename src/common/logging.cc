#include "common/logging.h"

#include <pthread.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <string>

namespace salespipe {

void InitLogging(std::string_view level) {
  auto logger = spdlog::stderr_color_mt("salespipe");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

void NameThisThread(std::string_view name) {
  std::string truncated(name.substr(0, 15));
  pthread_setname_np(pthread_self(), truncated.c_str());
}

}  // namespace salespipe
