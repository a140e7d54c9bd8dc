#!/usr/bin/env bash
# `strassen bench --json` prints one valid JSON line per case with the timing fields (smoke test:
# one step, no warm-up, no timing assertions).  Usage: bench.sh STRASSEN JSON_LINES_CHECK
set -u
source "$(dirname "$0")/lib.sh"
# ctest -j2 runs two tests on two cores: spinning OpenMP threads would starve each other.
export OMP_WAIT_POLICY=passive
strassen=$1 check=$2
err=$(mktemp)
trap 'rm -f "$err"' EXIT
failures=0

# run NAME CHECK_ARGS -- BENCH_ARGS...
run() {
  local name=$1 keys=()
  shift
  while [ "$1" != "--" ]; do keys+=("$1"); shift; done
  shift
  local out
  if ! out=$("$strassen" bench --json --steps 1 --warmup 0 "$@" 2>"$err"); then
    echo "FAIL $name: strassen bench $* exited non-zero:"
    cat "$err"
    failures=$((failures + 1))
  elif [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ] || ! printf '%s\n' "$out" | "$check" "${keys[@]}"; then
    echo "FAIL $name: expected one JSON line with ${keys[*]}, got:"
    printf '%s\n' "$out"
    failures=$((failures + 1))
  else
    echo "ok   $name: $out"
  fi
  sanitizer_check "$err" || failures=$((failures + 1))
}

run gemm case=gemm impl=strassen gemm_ms gemm_ms_min gemm_ms_cpu gemm_items_per_s gemm_gflops peak_rss_mib -- --case gemm
run resnet20 case=resnet20 batch params forward_macs train_ms train_gflops infer_gflops train_ms_cpu train_items_per_s infer_ms infer_items_per_s loss \
  peak_rss_mib -- --case resnet20

# An unknown case is a usage error (exit 2) naming the known ones.
"$strassen" bench --case nope >/dev/null 2>"$err"
code=$?
if [ "$code" -ne 2 ] || ! grep -q "unknown case 'nope' (known: gemm" "$err"; then
  echo "FAIL unknown case: exit $code"; failures=$((failures + 1))
else
  echo "ok   unknown case exits 2"
fi
sanitizer_check "$err" || failures=$((failures + 1))

echo "$((3 - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
