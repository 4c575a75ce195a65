# The two commands from the README, and a few conveniences around CMake.
#   make demo   the main job end to end on the shipped demo model
#   make test   build and run the test suite
MAKEFLAGS += --no-print-directory
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test demo demo-model asan fuzz clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)/secneuron

# Retrain the shipped demo model from its recipe (models/demo/train.cfg).
demo-model: build
	@scripts/demo-model.sh $(BUILD)/secneuron

# The sanitizer build CI runs too.
asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSN_SANITIZE=ON -DSN_NATIVE=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@ctest --test-dir build-asan --output-on-failure -j $(JOBS)

# libFuzzer targets under clang; FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/deps.sh --fuzz
	@scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
