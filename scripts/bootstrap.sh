#!/usr/bin/env bash
# Installs what salespipe needs to build and test, on Debian 12, and fetches DuckDB.
#
# Idempotent and fast when everything is present (no network then): it asks dpkg which
# packages are missing and runs apt-get only for those, checks that clang's libFuzzer
# runtime links, that python3 has boto3 and the AWS CLI, and that the pinned DuckDB is in
# the cache with the expected checksums. Runs as root with no stdin (CI); as another user
# it uses `sudo -n` only if something must be installed.
#
# Environment:
#   DUCKDB_DIR   where DuckDB is unpacked (default $HOME/.cache/salespipe/duckdb-1.4.4;
#                keep it in step with DUCKDB_DIR in the top-level CMakeLists.txt)
#
# Layout of DUCKDB_DIR (outside the repo, so clones and `make clean` keep it):
#   include/duckdb.h   from npm duckdb@1.4.4, package/src/duckdb/src/include/duckdb.h
#   lib/libduckdb.so   from npm @duckdb/node-bindings-linux-x64@1.4.4-r.1, package/libduckdb.so
#   SHA256SUMS         checksums of the two tarballs and of the two files above
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

readonly DUCKDB_VERSION=1.4.4
readonly DUCKDB_HEADER_PKG="duckdb@${DUCKDB_VERSION}"
readonly DUCKDB_HEADER_TGZ="duckdb-${DUCKDB_VERSION}.tgz"
readonly DUCKDB_HEADER_SHA256=5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed
readonly DUCKDB_LIB_PKG="@duckdb/node-bindings-linux-x64@${DUCKDB_VERSION}-r.1"
readonly DUCKDB_LIB_TGZ="duckdb-node-bindings-linux-x64-${DUCKDB_VERSION}-r.1.tgz"
readonly DUCKDB_LIB_SHA256=8ac460b152cd05a95065a414879bb09e40534b1fb7a80a7afe6969b6ce039029

# Debian packages the build, the tests and the benchmarks need.
readonly PACKAGES=(
  build-essential cmake ninja-build g++ clang libclang-rt-14-dev
  librocksdb-dev libboost-dev rapidjson-dev libssl-dev
  zlib1g-dev libzstd-dev libsnappy-dev liblz4-dev libzip-dev
  libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev wrk
)

if [[ -z "${HOME:-}" ]]; then
  HOME="$(getent passwd "$(id -u)" | cut -d: -f6)"
  export HOME
fi
DUCKDB_DIR="${DUCKDB_DIR:-$HOME/.cache/salespipe/duckdb-${DUCKDB_VERSION}}"
readonly DUCKDB_DIR
readonly STAMP_DIR="$HOME/.cache/salespipe/stamps"

log() { printf 'bootstrap: %s\n' "$*" >&2; }
die() {
  printf 'bootstrap: ERROR: %s\n' "$*" >&2
  exit 1
}

as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    die "must run as root (or with password-less sudo) to run: $*"
  fi
}

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" == ii* ]]
}

# --- 1. Debian packages --------------------------------------------------------------------
install_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
  done
  # Node.js may come from outside Debian (it does on our machines, with npm bundled):
  # install Debian's only when the commands are missing, so we never fight another install.
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  command -v python3 >/dev/null || missing+=(python3)

  if ((${#missing[@]} == 0)); then
    return
  fi
  log "installing missing Debian packages: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

# --- 2. clang's libFuzzer runtime actually links ------------------------------------------
check_fuzzer_toolchain() {
  # Keyed by the installed clang and runtime versions, so the check reruns after upgrades.
  local key stamp
  key="$(dpkg-query -W -f='${Version}-' clang libclang-rt-14-dev 2>/dev/null | tr -c 'A-Za-z0-9.~+-' _)"
  stamp="$STAMP_DIR/fuzzer-links-$key"
  [[ -f "$stamp" ]] && return

  local tmp
  tmp="$(mktemp -d)"
  cat >"$tmp/probe.cc" <<'EOF'
#include <cstddef>
#include <cstdint>
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return 0; }
EOF
  if ! clang++ -fsanitize=fuzzer,address,undefined "$tmp/probe.cc" -o "$tmp/probe" \
      >"$tmp/log" 2>&1 ||
    ! "$tmp/probe" -runs=1 >>"$tmp/log" 2>&1; then
    cat "$tmp/log" >&2
    rm -rf "$tmp"
    die "clang++ -fsanitize=fuzzer does not link or run (is libclang-rt-14-dev installed?)"
  fi
  rm -rf "$tmp"
  mkdir -p "$STAMP_DIR"
  touch "$stamp"
}

# --- 3. Python: boto3 and the AWS CLI (pip cannot fetch here, so only check) ---------------
check_python() {
  if ! python3 -c 'import boto3, botocore, awscli' 2>/dev/null; then
    die "python3 ($(command -v python3)) cannot import boto3/awscli. The wire tests need" \
      "boto3 and AWS CLI v1 installed for that python3; pip cannot fetch packages on this" \
      "network, so install them from a machine image that has them (they are preinstalled" \
      "on our machines under pyenv)."
  fi
  if ! aws --version >/dev/null 2>&1; then
    die "'aws --version' fails (PATH=$PATH); the AWS CLI must be on PATH (try 'python3 -m awscli --version')"
  fi
}

# --- 4. DuckDB, pinned and checksummed, cached outside the repo ----------------------------
duckdb_is_complete() {
  [[ -f "$DUCKDB_DIR/include/duckdb.h" && -f "$DUCKDB_DIR/lib/libduckdb.so" &&
    -f "$DUCKDB_DIR/SHA256SUMS" ]] || return 1
  grep -q "^$DUCKDB_HEADER_SHA256  $DUCKDB_HEADER_TGZ\$" "$DUCKDB_DIR/SHA256SUMS" || return 1
  grep -q "^$DUCKDB_LIB_SHA256  $DUCKDB_LIB_TGZ\$" "$DUCKDB_DIR/SHA256SUMS" || return 1
  # The unpacked files must still be the ones we unpacked (about 0.2 s for 64 MB).
  (cd "$DUCKDB_DIR" && grep -E ' (include|lib)/' SHA256SUMS | sha256sum --check --quiet --strict) \
    >/dev/null 2>&1
}

verify_sha256() {
  local file="$1" want="$2" got
  got="$(sha256sum "$file" | cut -d' ' -f1)"
  [[ "$got" == "$want" ]] ||
    die "checksum mismatch for $(basename "$file"): got $got, want $want"
}

fetch_duckdb() {
  duckdb_is_complete && return
  command -v npm >/dev/null || die "npm is needed to fetch DuckDB"
  log "fetching DuckDB $DUCKDB_VERSION into $DUCKDB_DIR"

  local parent staging
  parent="$(dirname "$DUCKDB_DIR")"
  mkdir -p "$parent"
  staging="$(mktemp -d "$parent/.duckdb-staging.XXXXXX")"
  # shellcheck disable=SC2064  # expand now: the trap must remove this very directory
  trap "rm -rf '$staging'" EXIT

  (cd "$staging" &&
    npm pack --silent --ignore-scripts "$DUCKDB_HEADER_PKG" "$DUCKDB_LIB_PKG" >/dev/null) ||
    die "npm pack $DUCKDB_HEADER_PKG $DUCKDB_LIB_PKG failed"
  verify_sha256 "$staging/$DUCKDB_HEADER_TGZ" "$DUCKDB_HEADER_SHA256"
  verify_sha256 "$staging/$DUCKDB_LIB_TGZ" "$DUCKDB_LIB_SHA256"

  mkdir -p "$staging/out/include" "$staging/out/lib" "$staging/x"
  tar -xzf "$staging/$DUCKDB_HEADER_TGZ" -C "$staging/x" package/src/duckdb/src/include/duckdb.h
  tar -xzf "$staging/$DUCKDB_LIB_TGZ" -C "$staging/x" package/libduckdb.so
  mv "$staging/x/package/src/duckdb/src/include/duckdb.h" "$staging/out/include/duckdb.h"
  mv "$staging/x/package/libduckdb.so" "$staging/out/lib/libduckdb.so"
  chmod 0644 "$staging/out/include/duckdb.h"
  chmod 0755 "$staging/out/lib/libduckdb.so"
  {
    echo "$DUCKDB_HEADER_SHA256  $DUCKDB_HEADER_TGZ"
    echo "$DUCKDB_LIB_SHA256  $DUCKDB_LIB_TGZ"
    (cd "$staging/out" && sha256sum include/duckdb.h lib/libduckdb.so)
  } >"$staging/out/SHA256SUMS"

  # Swap the finished directory in whole: a reader never sees half a cache.
  rm -rf "$DUCKDB_DIR"
  mv "$staging/out" "$DUCKDB_DIR"
  rm -rf "$staging"
  trap - EXIT
}

main() {
  local start=$SECONDS
  command -v dpkg-query >/dev/null || die "this script expects Debian 12 (dpkg-query not found)"
  install_packages
  mkdir -p "$HOME/.cache/salespipe"
  # One bootstrap at a time per user: two `make` runs must not race on the cache.
  exec 9>"$HOME/.cache/salespipe/.bootstrap.lock"
  flock 9
  check_fuzzer_toolchain
  check_python
  fetch_duckdb
  log "ok in $((SECONDS - start))s (DuckDB $DUCKDB_VERSION at $DUCKDB_DIR)"
}

main "$@"
