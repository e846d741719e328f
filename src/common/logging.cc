#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace salespipe {

void InitLogging(std::string_view level) {
  auto logger = spdlog::stderr_color_mt("salespipe");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace salespipe
