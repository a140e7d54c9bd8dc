#!/usr/bin/env bash
# Writes the golden `strassen count --json` outputs that tests/cli/count_golden.sh compares with:
# tests/golden/count/<dir>__<name>.json for configs/<dir>/<name>.json. It runs from the
# repository root with the config's relative path, as the test does, because the output's
# "config" field holds the path as given.
#
#   tools/make_count_golden.sh STRASSEN [configs/<dir>/<name>.json ...]   (default: every config)
#
# For a new config; or when a change of the counts is intended, then with the reason in the
# commit (the golden files are the record that `strassen count` did not change otherwise).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: tools/make_count_golden.sh STRASSEN [configs/<dir>/<name>.json ...]" >&2; exit 2; }
strassen=$(realpath "$1")
shift
cd "$(dirname "$0")/.."
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(configs/*/*.json)
for c in "${configs[@]}"; do
  c=${c#./}
  if [[ ! "$c" =~ ^configs/[^/]+/[^/]+\.json$ ]] || [ ! -f "$c" ]; then
    echo "make_count_golden: '$c' is not a file configs/<dir>/<name>.json of the repository" >&2
    exit 1
  fi
  out="tests/golden/count/$(basename "$(dirname "$c")")__$(basename "$c" .json).json"
  OMP_WAIT_POLICY=passive "$strassen" count --config "$c" --json >"$out.tmp"
  mv "$out.tmp" "$out"
  echo "wrote $out"
done
