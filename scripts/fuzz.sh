#!/usr/bin/env bash
# scripts/fuzz.sh: build the libFuzzer targets of tests/fuzz with clang and
# run each for a bounded time.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  time per target (default 30)
#   TARGET   fuzz_smtp_command, fuzz_smtp_data, fuzz_proxy_header (default: all)
# Builds into build-fuzz (CC=clang CXX=clang++, -fsanitize=fuzzer,address,
# undefined). Each run starts from a copy of tests/fuzz/corpus/<target> in
# build-fuzz/corpus/<target> (the committed seeds are never modified); a
# crash leaves its input in build-fuzz/artifacts/ and the script exits 1.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
BUILD="$REPO/build-fuzz"
SECONDS_PER_TARGET="${1:-30}"
shift || true
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(fuzz_smtp_command fuzz_smtp_data fuzz_proxy_header)

CC=clang CXX=clang++ cmake -S "$REPO/tests/fuzz" -B "$BUILD" -G Ninja >/dev/null
cmake --build "$BUILD" -j "${FUZZ_JOBS:-2}" --target "${TARGETS[@]}"

mkdir -p "$BUILD/artifacts"
status=0
for t in "${TARGETS[@]}"; do
  work="$BUILD/corpus/$t"
  mkdir -p "$work"
  cp -n "$REPO/tests/fuzz/corpus/$t"/* "$work"/ 2>/dev/null || true
  echo "fuzz: $t for ${SECONDS_PER_TARGET}s"
  if ! "$BUILD/$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -max_len=20000 -artifact_prefix="$BUILD/artifacts/$t-" -print_final_stats=1 \
      "$work" 2>"$BUILD/$t.log"; then
    echo "fuzz: $t FAILED (see $BUILD/$t.log and $BUILD/artifacts/)" >&2
    tail -n 40 "$BUILD/$t.log" >&2
    status=1
  else
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^Done' "$BUILD/$t.log" || true
  fi
done
exit $status
