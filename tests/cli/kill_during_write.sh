#!/usr/bin/env bash
# kill -9 while a checkpoint is being written (best.ckpt, a phase checkpoint, last.ckpt) of a
# multi-phase Strassen run, then --resume: the run must end with the uninterrupted run's weights
# and with byte-identical last.ckpt, best.ckpt and phase checkpoints, and a metrics log with the
# same lines (timings aside).
# Usage: kill_during_write.sh STRASSEN MAKE_FAKE_CIFAR KILL_ON_FILE SOURCE_DIR [TRIALS]
set -u
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=2
strassen=$1 fake=$2 killer=$3 src=$4 trials=${5:-4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data" && "$fake" "$work/data" 400 64 || exit 1
args=(--config "$src/configs/cifar10/smoke_strassen_phases.json" --set data.dir="$work/data" --no-progress)
fail() { echo "FAIL: $*"; exit 1; }
# The metrics log without its timings.
untimed() { sed -E 's/, "(images_per_s|train_seconds)": [^,}]*//g' "$1"; }

full=$("$strassen" train "${args[@]}" --out "$work/full" 2>"$work/full.err") || { cat "$work/full.err"; fail "uninterrupted run"; }
sum_full=$(grep -o 'checksum 0x[0-9a-f]*' <<<"$full")
# (file being written, which appearance of it): best at the first epochs of phases 1 and 2 and at
# epoch 2, the phase-1 checkpoint, last.ckpt at epoch 3.
targets=("best.ckpt.tmp 2" "phase1_fp.ckpt.tmp 1" "last.ckpt.tmp 3" "best.ckpt.tmp 3" "phase2_ternary.ckpt.tmp 1"
         "best.ckpt.tmp 1" "last.ckpt.tmp 1" "phase3_frozen.ckpt.tmp 1" "last.ckpt.tmp 2" "best.ckpt.tmp 4")
killed=0
for ((t = 0; t < trials; ++t)); do
  read -r file occurrence <<<"${targets[t % ${#targets[@]}]}"
  run="$work/run$t"
  "$strassen" train "${args[@]}" --out "$run" >/dev/null 2>"$run.err" &
  pid=$!
  "$killer" "$pid" "$run/$file" "$occurrence" && killed=$((killed + 1))
  wait "$pid" 2>/dev/null
  if [ -f "$run/last.ckpt" ]; then
    out=$("$strassen" train "${args[@]}" --out "$run" --resume 2>"$run.err") || { cat "$run.err"; fail "resume of trial $t"; }
  else  # killed before the first checkpoint: start again
    rm -rf "$run"
    out=$("$strassen" train "${args[@]}" --out "$run" 2>"$run.err") || { cat "$run.err"; fail "rerun of trial $t"; }
  fi
  sum=$(grep -o 'checksum 0x[0-9a-f]*' <<<"$out")
  [ -n "$sum_full" ] && [ "$sum" = "$sum_full" ] || fail "trial $t ($file #$occurrence): $sum, uninterrupted $sum_full"
  for f in last.ckpt best.ckpt phase1_fp.ckpt phase2_ternary.ckpt phase3_frozen.ckpt; do
    cmp -s "$work/full/$f" "$run/$f" || fail "trial $t ($file #$occurrence): $f differs from the uninterrupted run's"
  done
  cmp -s <(untimed "$work/full/metrics.jsonl") <(untimed "$run/metrics.jsonl") ||
    fail "trial $t ($file #$occurrence): metrics.jsonl differs"
  ls "$run"/*.tmp >/dev/null 2>&1 && ls "$run"/*.tmp | grep -q . && echo "note: trial $t left $(ls "$run"/*.tmp)"
  echo "trial $t: killed while writing $file (#$occurrence); resumed to $sum, files identical"
done
echo "$trials passed, 0 failed ($killed kills landed inside a write)"
[ "$killed" -gt 0 ] || fail "no kill landed inside a checkpoint write"
