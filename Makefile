# Thin wrapper over CMake presets and the project's scripts. Everything installs itself: `make test` and
# `make demo` work as root on a fresh Debian 12 machine.
PRESET ?= release
BUILD  := build/$(PRESET)
export DEPUTY_BUILD_DIR := $(CURDIR)/$(BUILD)
# ccache hits across clones of the repository (CI builds in a fresh clone each time).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps configure build test demo bench format clean

all: build

deps:
	@scripts/install-deps

configure: deps
	@test -f $(BUILD)/build.ninja || cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET)

# Every test on the optimised build, then again under AddressSanitizer and UBSan: a memory error fails the run.
test: build
	@ctest --preset $(PRESET) -j2
	@test -f build/asan/build.ninja || cmake --preset asan >/dev/null
	@cmake --build --preset asan
	@ctest --preset asan -j2

demo: build
	@scripts/demo

bench: build
	@bench/run
	@bench/micro/run

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
