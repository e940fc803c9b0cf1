#!/usr/bin/env bash
# The README's main command: installs the dependencies, builds the release
# preset and runs the default stress campaign: every model, both hugepage
# sizes, ten seconds each (two threads, the mixed workload, a fresh seed
# each, printed so any finding can be replayed). Exits 1 if a campaign found
# a violation (its replay file is in hvo-stress-out/), 0 otherwise.
# Extra arguments go to every `hvo-stress run` (e.g. --duration 1m).
set -euo pipefail
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

hvo_banner "dependencies"; bash "$HVO_ROOT/ci/install-deps.sh"
hvo_banner "release: build"; hvo_build release

BIN="$HVO_ROOT/build/release/hvo-stress"
# `list models` prints each model's name first on an unindented line.
mapfile -t MODELS < <("$BIN" list models | awk '/^[^ ]/ { print $1 }')
rc=0
for model in "${MODELS[@]}"; do
  for size in 2M 1G; do
    hvo_banner "campaign: $model, $size pages"
    "$BIN" run --model "$model" --hugepage-size "$size" --threads 2 --duration 10s "$@" || rc=$?
  done
done
echo
if (( rc == 0 )); then
  echo "ci/run.sh: every campaign clean"
else
  echo "ci/run.sh: a campaign found a violation or failed (exit $rc); see above and hvo-stress-out/"
fi
exit "$rc"
