# Thin wrapper over CMake presets and the project's scripts. Everything installs itself: `make test` and
# `make demo` work as root on a fresh Debian 12 machine.
PRESET ?= release
BUILD  := build/$(PRESET)
export DEPUTY_BUILD_DIR := $(CURDIR)/$(BUILD)

.PHONY: all deps configure build test demo bench format clean

all: build

deps:
	@scripts/install-deps

configure: deps
	@test -f $(BUILD)/build.ninja || cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET)

test: build
	@ctest --preset $(PRESET) -j2

demo: build
	@scripts/demo

bench: build
	@bench/run

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
