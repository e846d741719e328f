#!/usr/bin/env bash
# Runs one libFuzzer binary for a short, bounded time on a temporary copy of its seed corpus,
# so the run never writes into the repo. Used by ctest (<name>_short, see CMakeLists.txt).
#
#   run_short.sh BINARY SEED_CORPUS_DIR ARTIFACT_DIR SECONDS
#
# Crash inputs are kept in ARTIFACT_DIR (in the build tree) for debugging; reproduce one with
#   build-fuzz/tests/fuzz/<name> <artifact file>
set -euo pipefail

binary="$1" seeds="$2" artifacts="$3" seconds="$4"

if [[ ! -x "$binary" ]]; then
  echo "FAIL: fuzz binary $binary is missing." >&2
  echo "Build it first with 'make fuzz' (make test does this before running ctest)." >&2
  exit 1
fi

# One scratch directory per run: the corpus copy, and TMPDIR for whatever the target itself
# puts in temporary files (fuzz_dynamodb_request keeps a scratch RocksDB there).
work="$(mktemp -d "${TMPDIR:-/tmp}/salespipe-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
corpus="$work/corpus"
mkdir -p "$corpus" "$work/tmp"
if [[ -d "$seeds" ]]; then
  cp -R "$seeds"/. "$corpus"/
fi
export TMPDIR="$work/tmp"
mkdir -p "$artifacts"

# UBSan reports are fatal, like ASan's (bar the third-party ones in ubsan.supp); leaks are
# checked by libFuzzer's default -detect_leaks.
suppressions="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ubsan.supp"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$suppressions}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_stack_use_after_return=1}"

# Not exec: the EXIT trap must still remove the scratch directory.
status=0
"$binary" \
  -max_total_time="$seconds" \
  -rss_limit_mb=2048 \
  -timeout=30 \
  -print_final_stats=1 \
  -artifact_prefix="$artifacts/" \
  "$corpus" || status=$?
if ((status != 0)); then
  echo "FAIL: $(basename "$binary") exited with $status; crash inputs, if any, are in $artifacts" >&2
fi
exit "$status"
