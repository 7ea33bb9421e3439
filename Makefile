# The two commands (see README): `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
export CCACHE_DIR ?= $(CURDIR)/.cache/ccache
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime

RELEASE_DIR := build/release
ASAN_DIR := build/asan

.PHONY: run test deps build build-run build-asan bench format tidy clean

## make run: install what is missing, build, start the whole local stack (Ctrl-C stops it)
run: deps build-run
	@bash scripts/stack.sh $(RELEASE_DIR)/app/restinu

## make test: install what is missing, build with sanitizers, run every test on throwaway servers
test: deps build-asan
	@bash scripts/test.sh $(ASAN_DIR)

deps:
	@bash scripts/deps.sh

build:
	@cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRESTINU_SANITIZE=OFF >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS)

# What `make run` runs, and nothing else: the restinu binary (no test binaries, no benches) and
# the web app's files (web/dist, served by the gateway at /).
build-run:
	@cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRESTINU_SANITIZE=OFF >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS) --target restinu
	@cd web && npm run --silent build >/dev/null

build-asan:
	@cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DRESTINU_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_DIR) -j $(JOBS)

## make bench: the benchmarks in bench/ (release build; each prints its ratio to its reference)
bench: deps build
	@bash bench/run.sh $(RELEASE_DIR)

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

tidy:
	@bash scripts/tidy.sh

clean:
	rm -rf build
