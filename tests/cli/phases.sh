#!/usr/bin/env bash
# Phased training (spn_fp -> spn_ternary -> ternary_frozen) in one config:
#  1. a run killed with kill -9 inside phase 1 and again inside phase 2 (its first epoch, i.e. just
#     after a phase boundary), continued with --resume each time, ends with exactly the weights of
#     an uninterrupted run, and writes one checkpoint per phase;
#  2. "init" starts a run from another run's checkpoint (strict: every tensor must be there);
#  3. export folds the ternary scales and the exported model evaluates to the same accuracy;
#  4. "distill" trains with a teacher (another config + checkpoint) and changes the result.
# Usage: phases.sh STRASSEN MAKE_FAKE_CIFAR SOURCE_DIR
set -u
# Every stderr is kept in $work/*.err (printed on failure, checked for sanitizer reports).
source "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=2
strassen=$1 fake=$2 src=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data" && "$fake" "$work/data" 600 64 || exit 1
cfg="$src/configs/cifar10/smoke_strassen_phases.json"
args=(--config "$cfg" --set data.dir="$work/data" --no-progress)
fail() { echo "FAIL: $*"; exit 1; }

full=$("$strassen" train "${args[@]}" --out "$work/full" 2>"$work/full.err") || { cat "$work/full.err"; fail "uninterrupted run"; }
for f in phase1_fp.ckpt phase2_ternary.ckpt phase3_frozen.ckpt last.ckpt best.ckpt; do
  [ -f "$work/full/$f" ] || fail "no $f after the phased run"
done
[ "$(grep -c "phase '" <<<"$full")" -eq 3 ] || fail "expected one summary line per phase: $full"
grep -q '"type": "phase", "phase": "ternary", "mode": "spn_ternary"' "$work/full/metrics.jsonl" || fail "no phase line"

kill_in_epoch() {  # run until epoch $1 has logged a step, then kill -9
  "$strassen" train "${args[@]}" --out "$work/killed" $2 >/dev/null 2>"$work/killed_$1.err" &
  local pid=$!
  for _ in $(seq 1 3000); do
    grep -q "\"type\": \"step\", \"epoch\": $1" "$work/killed/metrics.jsonl" 2>/dev/null && break
    sleep 0.01
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  grep -q "\"type\": \"epoch\", \"epoch\": $1" "$work/killed/metrics.jsonl" && fail "not killed inside epoch $1 (timing)"
  grep -q "\"type\": \"step\", \"epoch\": $1" "$work/killed/metrics.jsonl" || fail "epoch $1 never started"
}
kill_in_epoch 2 ""
kill_in_epoch 3 --resume
resumed=$("$strassen" train "${args[@]}" --out "$work/killed" --resume 2>"$work/resumed.err") ||
  { cat "$work/resumed.err"; fail "final resume"; }
sum_full=$(grep -o 'checksum 0x[0-9a-f]*' <<<"$full")
sum_resumed=$(grep -o 'checksum 0x[0-9a-f]*' <<<"$resumed")
echo "uninterrupted: $sum_full; killed twice + resumed: $sum_resumed"
[ -n "$sum_full" ] && [ "$sum_full" == "$sum_resumed" ] || fail "checksums differ"
[ "$(grep -c '"type": "epoch"' "$work/killed/metrics.jsonl")" -eq 4 ] || fail "epoch lines in the resumed log"
[ "$(grep -c "phase '" <<<"$resumed")" -eq 3 ] || fail "the resumed run does not report all phases: $resumed"

# eval on the last checkpoint uses the mode it was saved in and reproduces the logged accuracy.
eval_top1=$("$strassen" eval --config "$cfg" --set data.dir="$work/data" --checkpoint "$work/full/last.ckpt" 2>"$work/eval.err" |
  grep -o '"top1": [0-9.e-]*' | cut -d' ' -f2)
log_top1=$(grep '"type": "epoch", "epoch": 4' "$work/full/metrics.jsonl" | grep -o '"test_top1": [0-9.e-]*' | cut -d' ' -f2)
[ -n "$eval_top1" ] && [ "$eval_top1" == "$log_top1" ] || fail "eval top-1 '$eval_top1' != logged '$log_top1'"

# export: W_b, W_c folded to {-1, 0, 1}; evaluating the exported checkpoint gives the same accuracy.
"$strassen" export --config "$cfg" --set data.dir="$work/data" --checkpoint "$work/full/last.ckpt" \
  --out "$work/exported.ckpt" >/dev/null 2>"$work/export.err" || { cat "$work/export.err"; fail "export"; }
exported_top1=$("$strassen" eval --config "$cfg" --set data.dir="$work/data" --checkpoint "$work/exported.ckpt" 2>"$work/eval_exported.err" |
  grep -o '"top1": [0-9.e-]*' | cut -d' ' -f2)
[ "$exported_top1" == "$log_top1" ] || fail "exported model top-1 '$exported_top1' != trained '$log_top1'"
"$strassen" export --config "$cfg" --set data.dir="$work/data" --checkpoint "$work/full/phase1_fp.ckpt" \
  --out "$work/bad.ckpt" >/dev/null 2>"$work/export2.err" && fail "exporting a full-precision SPN was accepted"
grep -q "spn_fp" "$work/export2.err" || fail "the export error does not name the mode: $(cat "$work/export2.err")"

# init: only the frozen phase, starting from the ternary phase's checkpoint.
"$strassen" train "${args[@]}" --set 'phases=[{"mode": "ternary_frozen", "epochs": 1, "optim": {"lr": 0.001}}]' \
  --set init.checkpoint="$work/full/phase2_ternary.ckpt" --out "$work/init" >/dev/null 2>"$work/init.err" ||
  { cat "$work/init.err"; fail "init run"; }
"$strassen" train "${args[@]}" --set init.checkpoint="$work/full/nothing.ckpt" --out "$work/init2" >/dev/null 2>"$work/init2.err" &&
  fail "a missing init checkpoint was accepted"
grep -q "nothing.ckpt" "$work/init2.err" || fail "the init error does not name the file: $(cat "$work/init2.err")"

# distill: the full-precision smoke model as teacher.
"$strassen" train --config "$src/configs/cifar10/smoke.json" --set data.dir="$work/data" --set epochs=1 --no-progress \
  --out "$work/teacher" >/dev/null 2>"$work/teacher.err" || { cat "$work/teacher.err"; fail "teacher run"; }
d_args=(--set 'phases=[{"mode": "spn_fp", "epochs": 1}]' --no-progress)
plain=$("$strassen" train "${args[@]}" "${d_args[@]}" --out "$work/plain" 2>"$work/plain.err") || { cat "$work/plain.err"; fail "plain run"; }
distilled=$("$strassen" train "${args[@]}" "${d_args[@]}" --set distill.teacher_config="$src/configs/cifar10/smoke.json" \
  --set distill.teacher_checkpoint="$work/teacher/last.ckpt" --set distill.lambda=0.7 --set distill.temperature=4 \
  --out "$work/distilled" 2>"$work/distill.err") || { cat "$work/distill.err"; fail "distilled run"; }
[ "$(grep -o 'checksum 0x[0-9a-f]*' <<<"$plain")" != "$(grep -o 'checksum 0x[0-9a-f]*' <<<"$distilled")" ] ||
  fail "distillation did not change the training"
sanitizer_check "$work"/*.err || fail "sanitizer report"
echo "5 passed, 0 failed"
