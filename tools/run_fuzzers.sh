#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan, -DSTRASSEN_FUZZ=ON) in a
# build directory of their own, then runs each target in turn, one process at a time, for a given
# time. docs/robustness.md describes the targets; tests/fuzz/README.md their inputs.
#
#   tools/run_fuzzers.sh [--seconds N] [--build-dir DIR] [TARGET...]
#
#   TARGET       config, cifar10, checkpoint (default: all three, in that order)
#   --seconds N  time per target (default 60); the ctest `fuzz.smoke` runs 15 s per target
#   --build-dir  the clang build directory (default: build-fuzz in the source tree)
#
# Each target starts from its committed seed corpus (tests/fuzz/corpus/TARGET, never written)
# plus the inputs that earlier runs in the same build directory found (DIR/corpus/TARGET), and
# prints its executions. Exit 0 when no target found a crash, leak, timeout, out-of-memory or
# sanitizer report; 1 otherwise, with the log's tail and the input that triggered it
# (DIR/artifacts/); 77 (ctest's "skipped") when clang, libFuzzer or clang's OpenMP is missing,
# except under CI (CI set), where a missing toolchain is an error: tools/install_deps.sh
# installs it.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
seconds=60
dir="$src/build-fuzz"
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --build-dir) dir=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    config|cifar10|checkpoint) targets+=("$1"); shift ;;
    *) echo "run_fuzzers.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(config cifar10 checkpoint)

# The toolchain: clang++ that links libFuzzer and OpenMP (the libraries use OpenMP).
missing() {
  if [ -n "${CI:-}" ]; then
    echo "run_fuzzers.sh: $1 (CI: tools/install_deps.sh installs clang, libclang-rt-14-dev, libomp-dev)" >&2
    exit 1
  fi
  echo "run_fuzzers.sh: skipped: $1 (tools/install_deps.sh installs it)"
  exit 77
}
command -v clang++ >/dev/null || missing "clang++ not found"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' >"$probe/p.cpp"
clang++ -fsanitize=fuzzer,address,undefined -fopenmp "$probe/p.cpp" -o "$probe/p" 2>"$probe/err" ||
  missing "clang++ cannot link libFuzzer with ASan, UBSan and OpenMP: $(head -1 "$probe/err")"

echo "== building the fuzz targets in $dir"
start=$(date +%s)
mkdir -p "$dir"
cmake -S "$src" -B "$dir" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release -DSTRASSEN_FUZZ=ON \
  -DBUILD_TESTING=OFF >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; exit 1; }
cmake --build "$dir" -j2 --target "${targets[@]/#/fuzz_}" >"$dir/build.log" 2>&1 || { tail -40 "$dir/build.log"; exit 1; }
echo "   built in $(($(date +%s) - start)) s"

# -max_len: the seeds' sizes with room to grow (a CIFAR record is 3073 bytes). -rss_limit_mb and
# -malloc_limit_mb turn an allocation out of proportion to the input into a finding. No -jobs or
# -workers: libFuzzer then fuzzes in this one process, on one core.
declare -A max_len=([config]=4096 [cifar10]=8192 [checkpoint]=4096)
failed=0
for t in "${targets[@]}"; do
  corpus="$dir/corpus/$t"
  mkdir -p "$corpus" "$dir/artifacts"
  log="$dir/fuzz_$t.log"
  dict=()
  [ -f "$src/tests/fuzz/$t.dict" ] && dict=(-dict="$src/tests/fuzz/$t.dict")
  echo "== fuzz_$t for $seconds s"
  status=0
  "$dir/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -max_len="${max_len[$t]}" -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" "${dict[@]}" \
    "$corpus" "$src/tests/fuzz/corpus/$t" >"$log" 2>&1 || status=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  if [ "$status" -ne 0 ] || grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error: |SUMMARY: ' "$log"; then
    echo "FAIL fuzz_$t (exit $status) after $execs executions; the log's end ($log):"
    tail -60 "$log"
    echo "the input: $(ls -t "$dir/artifacts/$t-"* 2>/dev/null | head -1)"
    echo "reproduce: $dir/tests/fuzz/fuzz_$t <that file>"
    failed=1
  else
    echo "ok   fuzz_$t: $execs executions in $seconds s, corpus $(ls "$corpus" | wc -l) inputs, no finding"
  fi
done
exit "$failed"
