# salespipe — the two commands a user needs:
#
#   make run    install what is missing, build ./build, serve on :4566 with ./data
#   make test   the same build, plus the fuzz build, then every test through ctest
#
# Helpers: make build | make fuzz | make bench | make clean
#
# Knobs (make VAR=value ...):
#   JOBS          parallel compile jobs (default 2: the machines have 2 cores)
#   BUILD_TYPE    CMake build type of ./build (default RelWithDebInfo: -O2, light debug info)
#   DATA_DIR      data directory for `make run` (default ./data)
#   RUN_ARGS      extra `salespipe serve` flags for `make run`, e.g. RUN_ARGS='--auth verify'
#   FUZZ_SECONDS  `make fuzz` also runs each fuzz target this long (default 0: build only)
#   CMAKE_ARGS    extra arguments for the first configure of ./build and ./build-fuzz

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build
# Steps share two cores and depend on each other's order (the fuzz build must exist before
# ctest runs it): never run them side by side, even under `make -j`.
.NOTPARALLEL:

JOBS ?= 2
BUILD_TYPE ?= RelWithDebInfo
DATA_DIR ?= ./data
RUN_ARGS ?=
FUZZ_SECONDS ?= 0
CMAKE_ARGS ?=

BUILD_DIR := build
FUZZ_DIR := build-fuzz
SERVER_BIN := $(BUILD_DIR)/src/server/salespipe
FUZZERS := fuzz_expression fuzz_dynamodb_request fuzz_iterator fuzz_cbor fuzz_jq

.PHONY: run test build fuzz bench clean bootstrap configure configure-fuzz

run: bootstrap configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target salespipe
	exec ./$(SERVER_BIN) serve --data-dir $(DATA_DIR) $(RUN_ARGS)

# Prerequisites run in order (.NOTPARALLEL): the fuzz build comes before ctest, whose
# <fuzzer>_short tests run its binaries.
test: bootstrap fuzz build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

build: bootstrap configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

fuzz: bootstrap configure-fuzz
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target salespipe_fuzzers
	@for name in $(FUZZERS); do \
	  bin=$(FUZZ_DIR)/tests/fuzz/$$name; \
	  if [[ -x $$bin ]]; then echo "fuzz: built $$bin"; \
	  else echo "fuzz: $$name not built yet (its entry point has not landed)"; fi; \
	  if [[ -x $$bin && "$(FUZZ_SECONDS)" != 0 ]]; then \
	    tests/fuzz/run_short.sh $$bin tests/fuzz/corpus/$$name \
	      $(FUZZ_DIR)/tests/fuzz/artifacts/$$name $(FUZZ_SECONDS); \
	  fi; \
	done

bench: build
	bash bench/run.sh

# Keeps ./data (your tables) and the DuckDB download in ~/.cache/salespipe.
clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR)

bootstrap:
	@scripts/bootstrap.sh

# Configure once; afterwards Ninja re-runs CMake by itself whenever a CMakeLists.txt (or a
# CONFIGURE_DEPENDS glob) changes.
configure:
	@if [[ ! -f $(BUILD_DIR)/build.ninja ]]; then \
	  cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	    -DSALESPIPE_FUZZ_BUILD_DIR=$(abspath $(FUZZ_DIR)) $(CMAKE_ARGS); \
	fi

configure-fuzz:
	@if [[ ! -f $(FUZZ_DIR)/build.ninja ]]; then \
	  cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DSALESPIPE_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ $(CMAKE_ARGS); \
	fi
