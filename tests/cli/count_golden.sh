#!/usr/bin/env bash
# `strassen count --json` of every config in configs/ equals its golden output,
# tests/golden/count/<dir>__<name>.json, byte for byte: every field, the "config" path (relative,
# as run from the repository root) included. A config without a golden file fails (with the
# command that makes one), and so does a golden file whose config is gone: nothing is skipped.
#   Usage: count_golden.sh STRASSEN JSON_DIFF SOURCE_DIR
set -u
# ctest -j2 runs two tests on two cores: spinning OpenMP threads would starve each other.
export OMP_WAIT_POLICY=passive
strassen=$(realpath "$1") json_diff=$(realpath "$2") src=$3
cd "$src" || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
shopt -s nullglob
failures=0 passed=0
configs=(configs/*/*.json)
if [ ${#configs[@]} -eq 0 ]; then
  echo "FAIL no configs found under $src/configs"
  exit 1
fi

for c in "${configs[@]}"; do
  golden="tests/golden/count/$(basename "$(dirname "$c")")__$(basename "$c" .json).json"
  if [ ! -f "$golden" ]; then
    echo "FAIL $c: no golden file $golden. Check the counts (strassen count --config $c), then make it from the"
    echo "     repository root with: tools/make_count_golden.sh <build>/apps/strassen $c"
    failures=$((failures + 1))
  elif ! "$strassen" count --config "$c" --json >"$work/out" 2>"$work/err"; then
    echo "FAIL $c: strassen count exited non-zero:"
    cat "$work/err"
    failures=$((failures + 1))
  elif cmp -s "$work/out" "$golden"; then
    passed=$((passed + 1))
  else
    echo "FAIL $c: the output differs from $golden (golden -> now):"
    "$json_diff" "$golden" "$work/out" | head -n 40
    failures=$((failures + 1))
  fi
done

for golden in tests/golden/count/*.json; do
  base=$(basename "$golden" .json)
  c="configs/${base%%__*}/${base#*__}.json"
  if [ ! -f "$c" ]; then
    echo "FAIL $golden: its config $c does not exist (remove the golden file with the config)"
    failures=$((failures + 1))
  fi
done

echo "$passed configs match their golden count, $failures failed"
[ "$failures" -eq 0 ]
