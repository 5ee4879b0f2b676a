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

test: build build-asan
	ctest --preset release -j $(JOBS)
	ctest --preset asan -j $(JOBS)

clean:
	rm -rf build build-asan var
