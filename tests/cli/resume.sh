#!/usr/bin/env bash
# A run killed with kill -9 mid-epoch and continued with --resume ends with exactly the weights of
# an uninterrupted run (same seed, same thread count): the printed checksums must be equal.
# Usage: resume.sh STRASSEN MAKE_FAKE_CIFAR SOURCE_DIR
set -u
# Every stderr is kept in $work/*.err (printed on failure, checked for sanitizer reports).
source "$(dirname "$0")/lib.sh"
# ctest -j2 runs two tests on two cores: spinning OpenMP threads would starve each other.
export OMP_WAIT_POLICY=passive
strassen=$1 fake=$2 src=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data" && "$fake" "$work/data" 1200 64 || exit 1
export OMP_NUM_THREADS=2
args=(--config "$src/configs/cifar10/smoke.json" --set data.dir="$work/data" --set epochs=3 --no-progress)

full=$("$strassen" train "${args[@]}" --out "$work/full" 2>"$work/full.err") ||
  { cat "$work/full.err"; echo "FAIL: uninterrupted run failed"; exit 1; }

"$strassen" train "${args[@]}" --out "$work/killed" >/dev/null 2>"$work/killed.err" &
pid=$!
# Kill once epoch 2 has logged a step: epoch 1's checkpoint exists and epoch 2 is under way.
for _ in $(seq 1 3000); do
  grep -q '"type": "step", "epoch": 2' "$work/killed/metrics.jsonl" 2>/dev/null && break
  sleep 0.01
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
if ! grep -q '"type": "step", "epoch": 2' "$work/killed/metrics.jsonl" || grep -q '"type": "epoch", "epoch": 2' "$work/killed/metrics.jsonl"; then
  echo "FAIL: the run was not killed in the middle of epoch 2 (timing); metrics:"
  cat "$work/killed/metrics.jsonl"
  exit 1
fi
resumed=$("$strassen" train "${args[@]}" --out "$work/killed" --resume 2>"$work/resumed.err") ||
  { cat "$work/resumed.err"; echo "FAIL: resume failed"; exit 1; }

sum_full=$(grep -o 'checksum 0x[0-9a-f]*' <<<"$full")
sum_resumed=$(grep -o 'checksum 0x[0-9a-f]*' <<<"$resumed")
echo "uninterrupted: $sum_full"
echo "killed+resumed: $sum_resumed"
if [ -z "$sum_full" ] || [ "$sum_full" != "$sum_resumed" ]; then echo "0 passed, 1 failed"; exit 1; fi
# The resumed run's log has each epoch exactly once.
epochs=$(grep -c '"type": "epoch"' "$work/killed/metrics.jsonl")
if [ "$epochs" -ne 3 ]; then echo "FAIL: $epochs epoch lines in the resumed log"; exit 1; fi
# strassen eval on the final checkpoint reproduces the last epoch's test accuracy.
eval_line=$("$strassen" eval --config "$src/configs/cifar10/smoke.json" --set data.dir="$work/data" \
  --checkpoint "$work/full/last.ckpt" --json "$work/eval.json" 2>"$work/eval.err") ||
  { cat "$work/eval.err"; echo "FAIL: eval failed"; exit 1; }
eval_top1=$(grep -o '"top1": [0-9.e-]*' <<<"$eval_line" | cut -d' ' -f2)
train_top1=$(grep '"type": "epoch", "epoch": 3' "$work/full/metrics.jsonl" | grep -o '"test_top1": [0-9.e-]*' | cut -d' ' -f2)
echo "eval top-1 $eval_top1, training log top-1 $train_top1"
if [ -z "$eval_top1" ] || [ "$eval_top1" != "$train_top1" ] || ! cmp -s <(echo "$eval_line") "$work/eval.json"; then
  echo "FAIL: eval does not reproduce the logged accuracy"; exit 1
fi
sanitizer_check "$work"/*.err || exit 1
echo "2 passed, 0 failed"
