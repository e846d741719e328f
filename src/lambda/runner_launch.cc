#include "lambda/runner_launch.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "common/crypto.h"
#include "fmt/format.h"

namespace salespipe::lambda {

extern const std::string_view kPythonBootstrap;  // generated from runtimes/python_bootstrap.py
extern const std::string_view kNodeBootstrap;    // generated from runtimes/node_bootstrap.js

namespace {

constexpr std::string_view kPythonBootstrapFile = "python_bootstrap.py";
constexpr std::string_view kNodeBootstrapFile = "node_bootstrap.js";

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::path temp = path;
  temp += fmt::format(".tmp{}", ::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) return Status::Internal(fmt::format("cannot write {}", temp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) return Status::Internal(fmt::format("cannot write {}: {}", path.string(), ec.message()));
  return Status::Ok();
}

std::string GetEnv(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// The interpreter a pyenv-style shim would run, asked from the interpreter itself once.
std::string RealPython(const std::string& candidate) {
  std::string command =
      fmt::format("'{}' -c 'import sys; print(sys.executable)' 2>/dev/null", candidate);
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return candidate;
  std::array<char, 4096> line{};
  std::string output;
  if (std::fgets(line.data(), static_cast<int>(line.size()), pipe) != nullptr) output = line.data();
  ::pclose(pipe);
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  if (output.empty() || ::access(output.c_str(), X_OK) != 0) return candidate;
  return output;
}

}  // namespace

Result<RuntimeFamily> RuntimeFamilyOf(std::string_view runtime) {
  if (runtime.starts_with("python3.")) return RuntimeFamily::kPython;
  if (runtime.starts_with("nodejs") && runtime.ends_with(".x")) return RuntimeFamily::kNode;
  if (runtime == "provided" || runtime == "provided.al2" || runtime == "provided.al2023") {
    return RuntimeFamily::kProvided;
  }
  return Status::InvalidArgument(fmt::format("Runtime {} is not supported", runtime));
}

Status WriteBootstraps(const std::string& runtime_dir) {
  std::error_code ec;
  std::filesystem::create_directories(runtime_dir, ec);
  if (ec) return Status::Internal(fmt::format("cannot create {}: {}", runtime_dir, ec.message()));
  const std::filesystem::path dir(runtime_dir);
  RETURN_IF_ERROR(WriteFileAtomically(dir / kPythonBootstrapFile, kPythonBootstrap));
  RETURN_IF_ERROR(WriteFileAtomically(dir / kNodeBootstrapFile, kNodeBootstrap));
  return Status::Ok();
}

std::string FindInterpreter(std::string_view name) {
  std::string path = GetEnv("PATH");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    start = end + 1;
    if (dir.empty()) continue;
    std::string candidate = fmt::format("{}/{}", dir, name);
    if (::access(candidate.c_str(), X_OK) == 0) {
      return name == "python3" ? RealPython(candidate) : candidate;
    }
  }
  return "";
}

std::string NewLogStreamName(std::string_view version) {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  std::string uuid = NewUuid();
  std::erase(uuid, '-');
  return fmt::format("{:04}/{:02}/{:02}/[{}]{}", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     version, uuid);
}

Result<LaunchPlan> BuildLaunchPlan(const FunctionSpec& spec, const RunnerOptions& options,
                                   RuntimeFamily family, const std::string& interpreter,
                                   const std::string& log_stream_name) {
  LaunchPlan plan;
  plan.cwd = spec.code_dir;
  const std::filesystem::path runtime_dir(options.runtime_dir);
  switch (family) {
    case RuntimeFamily::kPython:
      plan.argv = {interpreter, (runtime_dir / kPythonBootstrapFile).string()};
      break;
    case RuntimeFamily::kNode:
      plan.argv = {interpreter, (runtime_dir / kNodeBootstrapFile).string()};
      break;
    case RuntimeFamily::kProvided: {
      std::string bootstrap = (std::filesystem::path(spec.code_dir) / "bootstrap").string();
      if (::access(bootstrap.c_str(), X_OK) != 0) {
        return Status::FailedPrecondition(
            fmt::format("Couldn't find valid bootstrap(s): [{} /opt/bootstrap]", bootstrap));
      }
      plan.argv = {bootstrap};
      break;
    }
  }
  std::string path = GetEnv("PATH");
  if (path.empty()) path = "/usr/local/bin:/usr/bin:/bin";
  std::string library_path = fmt::format("{}/lib:{}", spec.code_dir, options.runtime_dir);
  if (std::string inherited = GetEnv("LD_LIBRARY_PATH"); !inherited.empty()) {
    library_path += ":" + inherited;
  }
  // The function's own variables come first: AWS reserves the runtime's names, so where a
  // function sets one of them (which CreateFunction rejects) the runtime's value wins.
  std::map<std::string, std::string> vars = spec.environment;
  auto set = [&vars](std::string name, std::string value) {
    vars[std::move(name)] = std::move(value);
  };
  set("_HANDLER", spec.handler);
  set("LAMBDA_TASK_ROOT", spec.code_dir);
  set("LAMBDA_RUNTIME_DIR", options.runtime_dir);
  set("AWS_LAMBDA_FUNCTION_NAME", spec.function_name);
  set("AWS_LAMBDA_FUNCTION_VERSION", spec.version);
  set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", std::to_string(spec.memory_mb));
  set("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/" + spec.function_name);
  set("AWS_LAMBDA_LOG_STREAM_NAME", log_stream_name);
  set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
  set("AWS_REGION", spec.region);
  set("AWS_DEFAULT_REGION", spec.region);
  // Dummy credentials: the function's SDK signs with them and salespipe accepts them.
  set("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE");
  set("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  set("AWS_SESSION_TOKEN", "salespipe-lambda-session-token");
  if (family != RuntimeFamily::kProvided) set("AWS_EXECUTION_ENV", "AWS_Lambda_" + spec.runtime);
  set("TZ", ":UTC");
  set("LANG", "en_US.UTF-8");
  set("PATH", path);
  set("LD_LIBRARY_PATH", library_path);
  if (family == RuntimeFamily::kNode) set("NODE_PATH", spec.code_dir + "/node_modules");
  // Not reserved by AWS: a function that sets its own endpoint keeps it.
  if (!options.edge_endpoint.empty()) vars.emplace("AWS_ENDPOINT_URL", options.edge_endpoint);
  for (auto& [name, value] : vars) plan.env.push_back(name + "=" + value);
  return plan;
}

}  // namespace salespipe::lambda
