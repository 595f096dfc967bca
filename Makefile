# The two commands of README: `make demo` and `make test`. Both install what the machine lacks.
SHELL := /bin/bash

# librdkafka built by scripts/setup-librdkafka (Debian 12's is too old) is found through pkg-config.
export PKG_CONFIG_PATH := $(CURDIR)/.deps/librdkafka/lib/pkgconfig$(if $(PKG_CONFIG_PATH),:$(PKG_CONFIG_PATH))

.PHONY: setup build test soak demo bench bench-micro clean

setup:
	@scripts/setup

build: setup
	swift build --product alm

test: setup
	@echo "browser: $$(scripts/setup-browser)"
	swift build --build-tests
	swift build --product alm
	swift test --skip-build --skip 'LiveServeTests|SourceFaultTests'
	@# Timed, so alone rather than beside the parallel suite's load (kill -9 runs, a dozen brokers, 2 cores):
	@# the API follows alm.metrics within 2 s; a source's answered retry arrives within its 2 s timeout.
	swift test --skip-build --filter 'LiveServeTests|SourceFaultTests'

# The long variant of the fault tests (docs/operations.md, "Fault tests"): a release alm, the kill -9
# test at SOAK_RECORDS records with SOAK_KILLS kills, then the other fault suites.
SOAK_RECORDS ?= 3000000
SOAK_KILLS ?= 40
soak: setup
	swift build -c release --product alm
	swift build --build-tests
	ALM_BINARY=$(CURDIR)/.build/release/alm ALM_CRASH_RECORDS=$(SOAK_RECORDS) ALM_CRASH_KILLS=$(SOAK_KILLS) \
		swift test --skip-build --filter 'CrashTests|BrokerFreezeTests|SnapshotDiskTests|HostileInputTests|SourceFaultTests|MutationTests'

demo: build
	@scripts/demo

# The benchmark runs a release build: debug numbers say nothing about speed. BENCH_FLAGS passes options
# through, e.g. BENCH_FLAGS='--sizes 100000:10000 1000000:100000 5000000:1000000'.
bench: setup
	swift build -c release --product alm
	.build/release/alm bench --log-level warning $(BENCH_FLAGS)

# Per-record costs of the hot paths (decode+validate, DOI normalisation, applying to state), with
# allocations, by ordo-one/benchmark on a release build.
bench-micro: setup
	swift package --disable-sandbox benchmark --target ALMHotPaths

clean:
	rm -rf .build run
