#!/usr/bin/env bash
# Bad input to `strassen train` (and `eval`, `count`) gives a one-line error naming the problem,
# a non-zero exit, no crash and no checkpoint left behind (docs/robustness.md).
# Usage: errors.sh STRASSEN MAKE_FAKE_CIFAR SOURCE_DIR
set -u
source "$(dirname "$0")/lib.sh"
# ctest -j2 runs two tests on two cores: spinning OpenMP threads would starve each other.
export OMP_WAIT_POLICY=passive
strassen=$1 fake=$2 src=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data" && "$fake" "$work/data" 64 32 || exit 1
config="$src/configs/cifar10/smoke.json"
failures=0

# check NAME EXPECTED_TEXT OUT -- COMMAND...: `strassen COMMAND` must exit 1 with one stderr line
# containing the text, and leave no checkpoint in OUT. With limit_kb set, it runs under
# `ulimit -v $limit_kb`.
check() {
  local name=$1 text=$2 out=$3
  shift 4
  if [ -n "${limit_kb:-}" ]; then
    (ulimit -v "$limit_kb" && exec timeout 60 "$strassen" "$@") >"$work/stdout" 2>"$work/stderr"
  else
    "$strassen" "$@" >"$work/stdout" 2>"$work/stderr"
  fi
  local code=$?
  local lines
  lines=$(wc -l <"$work/stderr")
  if [ "$code" -ne 1 ] || [ "$lines" -ne 1 ] || ! grep -qF -- "$text" "$work/stderr"; then
    echo "FAIL $name: exit $code, $lines stderr lines, expected one line containing '$text':"
    cat "$work/stderr"
    failures=$((failures + 1))
  elif [ -e "$out/last.ckpt" ] || [ -e "$out/best.ckpt" ] || ls "$out"/*.tmp >/dev/null 2>&1; then
    echo "FAIL $name: a checkpoint was left in $out"
    failures=$((failures + 1))
  else
    echo "ok   $name: $(cat "$work/stderr")"
  fi
  total=$((total + 1))
}

# expect NAME EXPECTED_TEXT -- ARGS...: `strassen train ARGS` must fail so (check).
expect() {
  local name=$1 text=$2
  shift 3
  local out="$work/$name"
  rm -rf "$out"
  check "$name" "$text" "$out" -- train --out "$out" --no-progress "$@"
}
total=0

printf '{"name": "x", "epochs": 1, "data": {"dir": "%s"}, "model": {"name": "resnet_cifar", "depht": 8}}' "$work/data" >"$work/unknown.json"
expect unknown_key "unknown key 'model.depht'" -- --config "$work/unknown.json"
printf '{"name": "x", "epochs": "ten", "data": {"dir": "%s"}, "model": {"name": "resnet_cifar"}}' "$work/data" >"$work/type.json"
expect wrong_type "key 'epochs' must be an integer" -- --config "$work/type.json"
expect wrong_type_set "key 'optim.lr' must be a number" -- --config "$config" --set data.dir="$work/data" --set optim.lr=fast
expect out_of_range "optim.lr' must be positive" -- --config "$config" --set data.dir="$work/data" --set optim.lr=-1
expect missing_dir "'$work/nowhere' does not exist" -- --config "$config" --set data.dir="$work/nowhere"
cp -r "$work/data" "$work/trunc"
truncate -s -100 "$work/trunc/data_batch_1.bin"
expect truncated_file "data_batch_1.bin' has" -- --config "$config" --set data.dir="$work/trunc"
printf '{"name": "x", ' >"$work/syntax.json"
expect bad_json "is not valid JSON" -- --config "$work/syntax.json"
expect missing_config "cannot open config" -- --config "$work/none.json"
expect imagenet_train "the ImageNet loader does not exist yet" -- --config "$src/configs/imagenet/resnet18.json"

# Defects of issue 29: each was a crash or a message that did not say what was wrong.
mkdir -p "$work/cfgdir" "$work/dirdata/data_batch_1.bin"
cp "$work/data/test_batch.bin" "$work/dirdata/"
expect config_is_dir "config '$work/cfgdir': it is a directory" -- --config "$work/cfgdir"
expect data_file_is_dir "data_batch_1.bin': it is a directory" -- --config "$config" --set data.dir="$work/dirdata"
expect data_dir_is_file "'$work/data/test_batch.bin' is not a directory" -- --config "$config" --set data.dir="$work/data/test_batch.bin"
echo '[1, 2]' >"$work/array.json"
expect set_top_level_array "the config's top level is not an object" -- --config "$work/array.json" --set epochs=1
expect set_huge_index "'99999999999999999999' is not an index of 'phases'" -- \
  --config "$src/configs/cifar10/smoke_strassen_phases.json" --set phases.99999999999999999999.epochs=1
expect set_deep_value "deeper than 64 levels" -- --config "$config" --set epochs="$(printf '%.0s[' $(seq 100000))"
expect huge_depth "key 'model.depth' = 600002" -- --config "$config" --set data.dir="$work/data" --set model.depth=600002
expect phase_name_slash "key 'phases[0].name'" -- --config "$src/configs/cifar10/smoke_strassen_phases.json" \
  --set data.dir="$work/data" --set phases.0.name=a/b
check eval_checkpoint_is_dir "checkpoint '$work/cfgdir': it is a directory" "$work" -- \
  eval --config "$config" --set data.dir="$work/data" --checkpoint "$work/cfgdir"
# Out of memory: a 100,000-class ResNet-18 (62M parameters, 250 MB) under a 250 MB address-space
# limit, one thread. OpenBLAS allocates a 128 MB buffer per thread when it loads and loops in its
# allocator while that fails (more threads or a lower limit hang: `timeout` ends the run then);
# the model's own allocation is the one that must fail. Sanitizer builds reserve terabytes of
# shadow memory and cannot run under `ulimit -v`: skipped there.
if sanitized "$strassen"; then
  echo "skip out_of_memory: sanitizer build"
  total=$((total + 1))
else
  printf '{"epochs": 1, "data": {"dir": "%s"}, "model": {"name": "resnet18", "num_classes": 100000}}' "$work/data" \
    >"$work/big.json"
  OMP_NUM_THREADS=1 limit_kb=250000 check out_of_memory "out of memory in 'strassen count'" "$work" -- \
    count --config "$work/big.json"
fi

# `strassen count` reads the same ImageNet config (no data needed).
if "$strassen" count --config "$src/configs/imagenet/resnet18.json" --json 2>"$work/stderr" | grep -qF '"mults":1814073344'; then
  echo "ok   count reads an ImageNet config"
else
  echo "FAIL count on the ImageNet config:"; cat "$work/stderr"; failures=$((failures + 1))
fi
total=$((total + 1))
sanitizer_check "$work/stderr" || failures=$((failures + 1))

# A usage error exits 2.
"$strassen" train --bogus >/dev/null 2>"$work/stderr"
code=$?
if [ "$code" -ne 2 ]; then echo "FAIL usage: exit $code, expected 2"; cat "$work/stderr"; failures=$((failures + 1)); else echo "ok   usage error exits 2"; fi
total=$((total + 1))
sanitizer_check "$work/stderr" || failures=$((failures + 1))

echo "$((total - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
