// Warm-invoke overhead and cold start of the Lambda runner (bench/lambda/README.md).
//
//   lambda_bench [--invocations N] [--cold N] [--runtime python3.12|nodejs20.x]
//                [--import MODULE] [--no-zygote]
//
// --import adds "import MODULE" to the Python handler's module (cold start of a function that
// imports boto3, say); --no-zygote starts every Python environment with exec.
//
// Overhead = Runner::Run latency minus the time the handler measured itself, for a no-op
// handler, so it is everything the platform adds: the Runtime API round trip, the bootstrap's
// own work, process scheduling and the runner's bookkeeping.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lambda/runner.h"

namespace {

using salespipe::lambda::FunctionSpec;
using salespipe::lambda::NewProcessRunner;
using salespipe::lambda::RunnerOptions;
using Clock = std::chrono::steady_clock;

constexpr const char* kPythonHandler = R"(import time
def handler(event, context):
    start = time.perf_counter_ns()
    result = {"ok": True}
    return {"handler_ns": time.perf_counter_ns() - start}
)";

constexpr const char* kNodeHandler = R"(
exports.handler = async (event) => {
  const start = process.hrtime.bigint();
  const result = { ok: true };
  return { handler_ns: Number(process.hrtime.bigint() - start) };
};
)";

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p / 100.0 * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

long long HandlerNs(const std::string& payload) {
  size_t at = payload.find("\"handler_ns\":");
  if (at == std::string::npos) return -1;
  return std::atoll(payload.c_str() + at + 13);
}

}  // namespace

int main(int argc, char** argv) {
  int invocations = 5000;
  int cold = 10;
  std::string runtime = "python3.12";
  std::string import;
  bool zygote = true;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--no-zygote") {
      zygote = false;
    } else if (i + 1 < argc && flag == "--invocations") {
      invocations = std::atoi(argv[++i]);
    } else if (i + 1 < argc && flag == "--cold") {
      cold = std::atoi(argv[++i]);
    } else if (i + 1 < argc && flag == "--runtime") {
      runtime = argv[++i];
    } else if (i + 1 < argc && flag == "--import") {
      import = argv[++i];
    }
  }
  char pattern[] = "/tmp/lambda_bench.XXXXXX";
  if (::mkdtemp(pattern) == nullptr) return 1;
  const std::string root = pattern;
  const bool node = runtime.starts_with("nodejs");
  const std::string code_dir = root + "/code";
  std::filesystem::create_directories(code_dir);
  std::ofstream(code_dir + (node ? "/index.js" : "/bench.py"))
      << (node ? kNodeHandler : kPythonHandler);

  auto runner =
      NewProcessRunner(RunnerOptions{.runtime_dir = root + "/runtimes", .python_zygote = zygote});
  if (!runner.ok()) {
    std::fprintf(stderr, "runner: %s\n", runner.status().ToString().c_str());
    return 1;
  }
  const std::string arn = "arn:aws:lambda:us-east-1:000000000000:function:bench";
  FunctionSpec spec{.function_arn = arn,
                    .function_name = "bench",
                    .invoked_arn = arn,
                    .runtime = runtime,
                    .handler = node ? "index.handler" : "bench.handler",
                    .code_dir = code_dir,
                    .environment_key = arn + ":warm",
                    .max_concurrency = 1};

  // Cold starts: a new environment key each time (the old environment gives up its place).
  std::vector<double> cold_ms;
  for (int i = 0; i < cold; ++i) {
    spec.environment_key = arn + ":cold" + std::to_string(i);
    auto start = Clock::now();
    auto result = (*runner)->Run(spec, "{}", {});
    if (!result.ok() || result->function_error) {
      std::fprintf(stderr, "cold invoke failed\n");
      return 1;
    }
    cold_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }

  spec.environment_key = arn + ":warm";
  for (int i = 0; i < 200; ++i) (void)(*runner)->Run(spec, "{}", {});  // warm-up
  std::vector<double> overhead_us;
  std::vector<double> latency_us;
  overhead_us.reserve(invocations);
  for (int i = 0; i < invocations; ++i) {
    auto start = Clock::now();
    auto result = (*runner)->Run(spec, "{}", {});
    double elapsed = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    if (!result.ok() || result->function_error) {
      std::fprintf(stderr, "warm invoke failed\n");
      return 1;
    }
    latency_us.push_back(elapsed);
    overhead_us.push_back(elapsed - static_cast<double>(HandlerNs(result->payload)) / 1000.0);
  }
  (*runner)->Shutdown();
  std::filesystem::remove_all(root);

  std::printf("runtime: %s%s%s%s, %d warm invocations (one environment), %d cold starts\n",
              runtime.c_str(), import.empty() ? "" : ", handler imports ", import.c_str(),
              zygote ? "" : ", no zygote", invocations, cold);
  std::printf("warm invoke overhead: p50 %.0f us, p90 %.0f us, p99 %.0f us\n",
              Percentile(overhead_us, 50), Percentile(overhead_us, 90),
              Percentile(overhead_us, 99));
  std::printf("warm Run latency:     p50 %.0f us, p99 %.0f us\n", Percentile(latency_us, 50),
              Percentile(latency_us, 99));
  std::printf("cold start (Run of a new environment): p50 %.1f ms, max %.1f ms\n",
              Percentile(cold_ms, 50), Percentile(cold_ms, 100));
  return 0;
}
