# The two commands of README: `make demo` and `make test`. Both install what the machine lacks.
SHELL := /bin/bash

# librdkafka built by scripts/setup-librdkafka (Debian 12's is too old) is found through pkg-config.
export PKG_CONFIG_PATH := $(CURDIR)/.deps/librdkafka/lib/pkgconfig$(if $(PKG_CONFIG_PATH),:$(PKG_CONFIG_PATH))

.PHONY: setup build test demo clean

setup:
	@scripts/setup

build: setup
	swift build --product alm

test: setup
	swift build --build-tests
	swift build --product alm
	swift test --skip-build

demo: build
	@scripts/demo

clean:
	rm -rf .build run
