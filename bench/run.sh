#!/usr/bin/env bash
# Benchmarks salespipe's DynamoDB API side by side with dynalite and moto, in one run.
#
#   bench/run.sh [--quick] [driver options]      (also: make bench)
#
# Installs the pinned dynalite into a cache outside the repo (idempotent), builds the two
# bench helpers (trivial_http, rocksdb_ceiling) in $BUILD_DIR if it is configured, then hands
# over to bench/driver.py, which starts every server on a free loopback port, runs wrk, stops
# them and writes bench/results/<timestamp>.md. bench/driver.py --help lists the options.
# Environment: BUILD_DIR (default ./build), SALESPIPE_BENCH_CACHE (default
# ~/.cache/salespipe/bench). See bench/README.md.
set -euo pipefail
#
#   bench/run.sh --suite kinesis [--quick] [kinesis_driver options]
#   bench/run.sh --suite s3 [--quick] [s3_bench options]   (S3 vs moto; bench/s3/README.md)
#   bench/run.sh --suite lambda [lambda_bench options]   (runner overhead; bench/lambda/README.md)
#   bench/run.sh --suite firehose [--quick] [firehose_bench options]   (vs moto; bench/firehose/README.md)
#   bench/run.sh --suite pipeline [--quick] [pipeline_bench options]   (PutItem -> Lambda -> lake; bench/pipeline/README.md)
#   bench/run.sh --suite all [--quick]      (DynamoDB, Kinesis, then S3; driver options not passed)
#
# The Kinesis suite (bench/kinesis_driver.py) installs the pinned kinesalite the same way.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$BENCH_DIR")"
export BUILD_DIR="${BUILD_DIR:-$REPO_DIR/build}"
CACHE_DIR="${SALESPIPE_BENCH_CACHE:-$HOME/.cache/salespipe/bench}"
DYNALITE_VERSION="4.0.0"
KINESALITE_VERSION="3.3.3"

suite="dynamodb"
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --suite) suite="$2"; shift 2 ;;
    --suite=*) suite="${1#--suite=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
case "$suite" in
  dynamodb|kinesis|s3|lambda|firehose|pipeline|all) ;;
  *) echo "bench/run.sh: --suite dynamodb|kinesis|s3|lambda|firehose|pipeline|all" >&2; exit 2 ;;
esac
set -- "${args[@]+"${args[@]}"}"

# The Lambda runner suite needs only its own C++ driver (no peers, no wrk).
if [[ "$suite" == "lambda" ]]; then
  exec "$BENCH_DIR/lambda/run.sh" "$@"
fi
# The Firehose suite needs only python3 and moto_server (its own raw-HTTP client, no wrk).
if [[ "$suite" == "firehose" ]]; then
  exec python3 "$BENCH_DIR/firehose/firehose_bench.py" "$@"
fi
# The whole-pipeline suite needs python3 (boto3) and wrk.
if [[ "$suite" == "pipeline" ]]; then
  command -v wrk >/dev/null || { echo "bench/run.sh: wrk is missing: apt-get install wrk" >&2; exit 1; }
  exec python3 "$BENCH_DIR/pipeline/pipeline_bench.py" "$@"
fi

note() { echo "bench/run.sh: $*" >&2; }

extra_args=()

# wrk, the load generator (a Debian package).
if ! command -v wrk >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    note "installing wrk"
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }
  else
    note "wrk is missing: apt-get install wrk"; exit 1
  fi
fi

# dynalite, pinned, cached outside the repo.
dynalite_cli="$CACHE_DIR/node_modules/dynalite/cli.js"
if command -v node >/dev/null && command -v npm >/dev/null; then
  installed="$(node -p "require('$CACHE_DIR/node_modules/dynalite/package.json').version" 2>/dev/null || true)"
  if [[ "$installed" != "$DYNALITE_VERSION" ]]; then
    note "installing dynalite@$DYNALITE_VERSION into $CACHE_DIR"
    mkdir -p "$CACHE_DIR"
    npm install --prefix "$CACHE_DIR" --no-audit --no-fund --loglevel=error \
      "dynalite@$DYNALITE_VERSION" >&2
  fi
  extra_args+=(--dynalite-cli "$dynalite_cli")
else
  note "node/npm missing: dynalite is left out"
  skip_dynalite=1
fi

# kinesalite, pinned, in the same cache (Kinesis suite only).
kinesalite_cli="$CACHE_DIR/node_modules/kinesalite/cli.js"
if [[ "$suite" != "dynamodb" ]]; then
  if command -v node >/dev/null && command -v npm >/dev/null; then
    installed="$(node -p "require('$CACHE_DIR/node_modules/kinesalite/package.json').version" 2>/dev/null || true)"
    if [[ "$installed" != "$KINESALITE_VERSION" ]]; then
      note "installing kinesalite@$KINESALITE_VERSION into $CACHE_DIR"
      mkdir -p "$CACHE_DIR"
      npm install --prefix "$CACHE_DIR" --no-audit --no-fund --loglevel=error \
        "kinesalite@$KINESALITE_VERSION" >&2
    fi
  else
    note "node/npm missing: kinesalite is left out"
    skip_kinesalite=1
  fi
fi

# moto comes with python3 on the dev machines (it cannot be installed from here).
if ! python3 -c "import moto, boto3" 2>/dev/null || ! command -v moto_server >/dev/null; then
  note "moto (python3 -m moto / moto_server) missing: moto is left out"
  skip_moto=1
fi

# The bench helpers; cheap when up to date. A tree mid-edit may fail to configure: then use
# whatever binaries are there.
if [[ -f "$BUILD_DIR/build.ninja" || -f "$BUILD_DIR/Makefile" ]]; then
  cmake --build "$BUILD_DIR" --target trivial_http rocksdb_ceiling >&2 ||
    note "building trivial_http/rocksdb_ceiling in $BUILD_DIR failed; using what is there"
fi

servers="salespipe"
[[ -z "${skip_dynalite:-}" ]] && servers+=",dynalite"
[[ -z "${skip_moto:-}" ]] && servers+=",moto"
kservers="salespipe"
[[ -z "${skip_kinesalite:-}" ]] && kservers+=",kinesalite"
[[ -z "${skip_moto:-}" ]] && kservers+=",moto"
# An explicit --servers from the caller comes later and wins.
case "$suite" in
  dynamodb)
    exec python3 "$BENCH_DIR/driver.py" --servers "$servers" "${extra_args[@]}" "$@" ;;
  kinesis)
    exec python3 "$BENCH_DIR/kinesis_driver.py" --servers "$kservers" \
      --kinesalite-cli "$kinesalite_cli" "$@" ;;
  s3)
    exec python3 "$BENCH_DIR/s3/s3_bench.py" "$@" ;;
  all)
    quick=()
    for a in "$@"; do [[ "$a" == "--quick" ]] && quick=(--quick); done
    status=0
    python3 "$BENCH_DIR/driver.py" --servers "$servers" "${extra_args[@]}" "${quick[@]+"${quick[@]}"}" || status=$?
    python3 "$BENCH_DIR/kinesis_driver.py" --servers "$kservers" \
      --kinesalite-cli "$kinesalite_cli" "${quick[@]+"${quick[@]}"}" || status=$?
    python3 "$BENCH_DIR/s3/s3_bench.py" "${quick[@]+"${quick[@]}"}" || status=$?
    exit "$status" ;;
esac
