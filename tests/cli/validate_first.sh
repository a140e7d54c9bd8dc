#!/usr/bin/env bash
# Checks that need the data run before any work: a model with fewer outputs than the data has
# classes is a one-line error naming model.num_classes, and nothing is written.
# Usage: validate_first.sh STRASSEN MAKE_FAKE_CIFAR SOURCE_DIR
set -u
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=2
strassen=$1 fake=$2 src=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data" && "$fake" "$work/data" 100 64 || exit 1
fail() { echo "FAIL: $*"; exit 1; }
"$strassen" train --config "$src/configs/cifar10/smoke.json" --set data.dir="$work/data" --set model.num_classes=5 \
  --no-progress --out "$work/run" >/dev/null 2>"$work/err"
rc=$?
[ "$rc" -eq 1 ] || { cat "$work/err"; fail "exit $rc, want 1"; }
[ "$(wc -l <"$work/err")" -eq 1 ] && grep -q "model.num_classes 5 is fewer than the 10 classes" "$work/err" ||
  { cat "$work/err"; fail "message"; }
[ ! -e "$work/run" ] || fail "the run directory was created before the check"
echo "ok: $(cat "$work/err")"
echo "1 passed, 0 failed"
