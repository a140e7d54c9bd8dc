#!/usr/bin/env bash
# `strassen discover`: bad values are usage errors (exit 2) whose first stderr line names the value;
# a small run prints a report and, with --json, one JSON object.  Usage: discover.sh STRASSEN
set -u
source "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive
strassen=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# usage NAME EXPECTED_TEXT -- ARGS...: exit 2, the first stderr line contains the text.
usage() {
  local name=$1 text=$2
  shift 3
  "$strassen" discover "$@" >"$work/stdout" 2>"$work/stderr"
  local code=$?
  if [ "$code" -ne 2 ] || ! head -1 "$work/stderr" | grep -qF -- "$text"; then
    echo "FAIL $name: exit $code, expected 2 with '$text' on the first line:"
    cat "$work/stderr"
    failures=$((failures + 1))
  else
    echo "ok   $name: $(head -1 "$work/stderr")"
  fi
  sanitizer_check "$work/stderr" || failures=$((failures + 1))
}

usage n_zero "--n must be at least 1, got 0" -- --n 0
usage n_negative "--n must be at least 1, got -3" -- --n=-3
usage n_huge "--n 100 is too large" -- --n 100
usage r_zero "--r must be at least 1, got 0" -- --r 0
usage r_absurd "--r 1000 is more than 2*n^3 = 16" -- --r 1000
usage restarts_zero "--restarts must be between 1 and 100000, got 0" -- --restarts 0
usage samples_zero "--samples must be at least 1, got 0" -- --samples 0
usage samples_huge "--samples 100000000 is too many" -- --samples 100000000
usage unknown_option "bogus" -- --bogus 1

# A small run: the text report and the JSON object.
if ! "$strassen" discover --n 2 --r 7 --restarts 2 --samples 5000 --fp-epochs 5 --ternary-epochs 2 >"$work/out" 2>"$work/err" ||
   ! grep -q "^exact: [0-2] of 2 restarts" "$work/out" || ! grep -q "^time: " "$work/out"; then
  echo "FAIL report:"; cat "$work/out" "$work/err"; failures=$((failures + 1))
else
  echo "ok   report"
fi
sanitizer_check "$work/err" || failures=$((failures + 1))
if ! "$strassen" discover --n 2 --r 7 --restarts 2 --samples 5000 --fp-epochs 5 --ternary-epochs 2 --json >"$work/json" 2>"$work/err" ||
   [ "$(wc -l <"$work/json")" -ne 1 ] || ! grep -q '^{"n":2,"r":7,"restarts":2,' "$work/json" || ! grep -q '"runs":\[' "$work/json"; then
  echo "FAIL json:"; cat "$work/json" "$work/err"; failures=$((failures + 1))
else
  echo "ok   json"
fi
sanitizer_check "$work/err" || failures=$((failures + 1))

[ "$failures" -eq 0 ]
