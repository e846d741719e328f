#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "lambda/environment.h"
#include "lambda/runner.h"

// How a FunctionSpec becomes a process: the runtime family, the interpreter, the bootstraps we
// ship and the environment variables of spec 7.6. Used by runner.cc.
namespace salespipe::lambda {

enum class RuntimeFamily { kPython, kNode, kProvided };

// "python3.12" -> kPython, "nodejs20.x" -> kNode, "provided", "provided.al2",
// "provided.al2023" -> kProvided. Errors: kInvalidArgument for anything else.
Result<RuntimeFamily> RuntimeFamilyOf(std::string_view runtime);

// Writes python_bootstrap.py and node_bootstrap.js (embedded at build time) into `runtime_dir`
// (created if missing; files replaced atomically). Errors: kInternal if it cannot be written.
Status WriteBootstraps(const std::string& runtime_dir);

// The absolute path of `name` on $PATH, or empty. For python3, the real interpreter behind a
// shim (pyenv's shims are shell scripts that cost ~50 ms per start).
std::string FindInterpreter(std::string_view name);

// A new log stream name as AWS names them: "2024/05/01/[$LATEST]<32 hex digits>".
std::string NewLogStreamName(std::string_view version);

// The command line and environment for `spec`. `interpreter` is python3 or node for those
// families (unused for provided). Errors: kFailedPrecondition if a provided function has no
// executable bootstrap (the caller reports Runtime.InvalidEntrypoint).
Result<LaunchPlan> BuildLaunchPlan(const FunctionSpec& spec, const RunnerOptions& options,
                                   RuntimeFamily family, const std::string& interpreter,
                                   const std::string& log_stream_name);

}  // namespace salespipe::lambda
