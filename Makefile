# The two commands: `make run` and `make test` (plus `build` and `clean`).
# Both install what is missing first (scripts/deps.sh), then build with
# CMake + Ninja. `make test` also builds and tests the sanitizer tree.
JOBS ?= $(shell nproc)

.PHONY: run test build build-asan deps clean

deps:
	@scripts/deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

build-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

run: build
	@scripts/run.sh

# Each libFuzzer target runs for FUZZ_SECONDS on top of the unit and
# integration tests (scripts/fuzz.sh builds them with clang in build-fuzz).
FUZZ_SECONDS ?= 20

test: build build-asan
	ctest --preset release -j $(JOBS)
	ctest --preset asan -j $(JOBS)
	scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf build build-asan build-fuzz var
