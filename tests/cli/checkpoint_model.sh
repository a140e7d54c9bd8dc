#!/usr/bin/env bash
# A checkpoint is only used with the model it holds: `strassen eval` and `--resume` refuse a
# checkpoint with tensors the config's model does not have, or whose recorded "model" block
# differs; a deliberate init.checkpoint with "strict": false still loads what fits.
# Usage: checkpoint_model.sh STRASSEN MAKE_FAKE_CIFAR SOURCE_DIR
set -u
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=2
strassen=$1 fake=$2 src=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data" && "$fake" "$work/data" 300 64 || exit 1
fail() { echo "FAIL: $*"; exit 1; }
phases="$src/configs/cifar10/smoke_strassen_phases.json" plain="$src/configs/cifar10/smoke.json"
data=(--set data.dir="$work/data" --no-progress)
"$strassen" train --config "$phases" "${data[@]}" --set phases.0.epochs=1 --out "$work/spn" >/dev/null 2>"$work/spn.err" ||
  { cat "$work/spn.err"; fail "training the Strassen smoke model"; }

# expect_error MESSAGE COMMAND...: the command fails with exit 1 and a one-line message holding MESSAGE.
expect_error() {
  local want=$1; shift
  "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  [ "$rc" -eq 1 ] || { cat "$work/err"; fail "exit $rc (want 1) for: $*"; }
  [ "$(wc -l <"$work/err")" -eq 1 ] || { cat "$work/err"; fail "not one line: $*"; }
  grep -qF "$want" "$work/err" || { cat "$work/err"; fail "message lacks '$want': $*"; }
  echo "ok: $(cat "$work/err")"
}

# The plain ResNet-8 with the Strassen checkpoint: every tensor it needs is there, plus W_b, W_c, ã.
expect_error "which this config's model does not have" \
  "$strassen" eval --config "$plain" --set data.dir="$work/data" --set model.depth=8 --set model.base_width=4 \
  --set model.shortcut=B --checkpoint "$work/spn/last.ckpt"
# Same tensors, another model block (a different quantizer): the recorded model block decides.
expect_error "their \"model\" blocks differ" \
  "$strassen" eval --config "$phases" --set data.dir="$work/data" --set model.strassen.quantizer=fixed \
  --checkpoint "$work/spn/last.ckpt"
# --resume with another model.
expect_error "their \"model\" blocks differ" \
  "$strassen" train --config "$phases" "${data[@]}" --set phases.0.epochs=1 --set model.strassen.quantizer=fixed \
  --out "$work/spn" --resume
# The right config still evaluates, and a non-strict init from the Strassen run loads what fits.
"$strassen" eval --config "$phases" --set data.dir="$work/data" --checkpoint "$work/spn/last.ckpt" >/dev/null 2>&1 ||
  fail "eval with the matching config"
"$strassen" train --config "$plain" "${data[@]}" --set model.depth=8 --set model.base_width=4 --set model.shortcut=B \
  --set epochs=1 --set init.checkpoint="$work/spn/last.ckpt" --set init.strict=false --out "$work/init" \
  >/dev/null 2>"$work/init.err" || { cat "$work/init.err"; fail "non-strict init from another model"; }
echo "5 passed, 0 failed"
