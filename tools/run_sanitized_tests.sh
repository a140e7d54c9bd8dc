#!/usr/bin/env bash
# Builds the project with AddressSanitizer and UndefinedBehaviorSanitizer
# (-DSTRASSEN_SANITIZE=address,undefined, GCC) in a build directory of its own and runs the whole
# test suite there: the Catch2 programs and the command-line tests (tests/cli/*.sh keep every
# stderr and fail on a sanitizer report). A report aborts the program (-fno-sanitize-recover),
# so any report fails its test. docs/robustness.md says what this guarantees.
#
#   tools/run_sanitized_tests.sh [--build-dir DIR] [-- CTEST_ARGS...]
#
#   --build-dir  the sanitizer build directory (default: build-asan in the source tree)
#   CTEST_ARGS   passed to ctest after the defaults, e.g. -- -R config
#
# fuzz.smoke is left out: it builds its own clang tree, already under ASan and UBSan. The suite
# runs several times slower than in Release; expect about 10 minutes on 2 cores.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir="$src/build-asan"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) dir=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "run_sanitized_tests.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# detect_leaks: LeakSanitizer at exit. halt_on_error / abort_on_error: the first report ends the
# program with a non-zero status. UBSan prints its stack so that the report says where.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DSTRASSEN_SANITIZE=address,undefined
cmake --build "$dir" -j2
ctest --test-dir "$dir" --output-on-failure -j2 -E '^fuzz\.' "${extra[@]}"
