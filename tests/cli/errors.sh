#!/usr/bin/env bash
# Bad input to `strassen train` gives a one-line error naming the problem, a non-zero exit, no
# crash and no checkpoint left behind.  Usage: errors.sh STRASSEN MAKE_FAKE_CIFAR SOURCE_DIR
set -u
# ctest -j2 runs two tests on two cores: spinning OpenMP threads would starve each other.
export OMP_WAIT_POLICY=passive
strassen=$1 fake=$2 src=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data" && "$fake" "$work/data" 64 32 || exit 1
config="$src/configs/cifar10/smoke.json"
failures=0

# expect NAME EXPECTED_TEXT -- ARGS...: the command must exit 1 with one stderr line containing the text.
expect() {
  local name=$1 text=$2
  shift 3
  local out="$work/$name"
  rm -rf "$out"
  "$strassen" train --out "$out" --no-progress "$@" >"$work/stdout" 2>"$work/stderr"
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
}

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

# `strassen count` reads the same ImageNet config (no data needed).
if "$strassen" count --config "$src/configs/imagenet/resnet18.json" --json 2>"$work/stderr" | grep -qF '"mults":1814073344'; then
  echo "ok   count reads an ImageNet config"
else
  echo "FAIL count on the ImageNet config:"; cat "$work/stderr"; failures=$((failures + 1))
fi

# A usage error exits 2.
"$strassen" train --bogus >/dev/null 2>&1
code=$?
if [ "$code" -ne 2 ]; then echo "FAIL usage: exit $code, expected 2"; failures=$((failures + 1)); else echo "ok   usage error exits 2"; fi

echo "$((12 - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
