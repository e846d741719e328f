#!/usr/bin/env bash
# Lambda overhead: builds bench/lambda/lambda_bench and the server in $BUILD_DIR (default
# ./build), runs the runner-level bench for the Python and the Node runtime (options go to
# lambda_bench: --invocations N, --cold N), then Invoke through the API (api_bench.py).
# Also: bench/run.sh --suite lambda.
set -euo pipefail
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_DIR/build}"
if [[ ! -f "$BUILD_DIR/build.ninja" && ! -f "$BUILD_DIR/Makefile" ]]; then
  cmake -S "$REPO_DIR" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
fi
cmake --build "$BUILD_DIR" --target lambda_bench salespipe >&2
echo "# Lambda runner benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
# Unpinned, the figures depend on how fast an idle core wakes up (on small VMs ~100 us per
# hop, two hops per invocation); pinned to one core they show the work itself.
for runtime in python3.12 nodejs20.x; do
  echo "## $runtime, unpinned"
  "$BUILD_DIR/bench/lambda/lambda_bench" --runtime "$runtime" "$@"
  if command -v taskset >/dev/null; then
    echo "## $runtime, pinned to one core (taskset -c 0)"
    taskset -c 0 "$BUILD_DIR/bench/lambda/lambda_bench" --runtime "$runtime" "$@"
  fi
done
echo "## Invoke through the API (python3.12)"
python3 "$REPO_DIR/bench/lambda/api_bench.py" --binary "$BUILD_DIR/src/server/salespipe"
