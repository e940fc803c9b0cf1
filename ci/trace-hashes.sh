#!/usr/bin/env bash
# Records what a binary's controlled runs do, one line per run, so that a
# refactor meant to be trace-neutral can be checked: record with the binary
# before the change and after, and diff the two files (they must be equal).
#
# The matrix: models v5.18, v6.10, v7.1 x workloads mixed, resize, grow,
# walk-grow, hwpoison-window, restore-walk (and demote for v6.10) x
# strategies random, pct x memory models sc, weak x seeds 1..5, one
# execution each; then every race catalogue entry, reverted and --fixed,
# with a few executions. Each line is the run and its JSON summary without
# the wall-clock figures (trace hash, schedule points, verdicts,
# violations, the failing execution).
#
# Usage: ci/trace-hashes.sh BINARY OUT_FILE [--seeds N] [--race-seeds N]
#   e.g. ci/trace-hashes.sh build/base/hvo-stress /tmp/before.txt
#        ci/trace-hashes.sh build/rel/hvo-stress /tmp/after.txt
#        diff /tmp/before.txt /tmp/after.txt
set -euo pipefail

usage() { echo "usage: ci/trace-hashes.sh BINARY OUT_FILE [--seeds N] [--race-seeds N]" >&2; exit 2; }
(( $# >= 2 )) || usage
BIN="$1"; OUT="$2"; shift 2
SEEDS=5
RACE_SEEDS=20
while (( $# )); do
  case "$1" in
    --seeds) SEEDS="${2:?--seeds needs a number}"; shift 2 ;;
    --race-seeds) RACE_SEEDS="${2:?--race-seeds needs a number}"; shift 2 ;;
    *) echo "ci/trace-hashes.sh: unknown flag '$1'" >&2; usage ;;
  esac
done
[[ -x "$BIN" ]] || { echo "ci/trace-hashes.sh: '$BIN' is not an executable" >&2; exit 2; }
for n in "$SEEDS" "$RACE_SEEDS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "ci/trace-hashes.sh: '$n' is not a positive number" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "ci/trace-hashes.sh: needs jq" >&2; exit 2; }

SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT
: >"$OUT"

# record LABEL ARGS...: one line, "LABEL <summary without timings>". Exit
# codes 0 and 1 (a violation) are both results; anything else is recorded
# as such (the JSON may be missing).
record() {
  local label="$1"; shift
  local rc=0 json
  json="$("$BIN" run "$@" --json --out "$SCRATCH" 2>/dev/null)" || rc=$?
  if (( rc > 1 )); then
    echo "$label exit $rc" >>"$OUT"
    return
  fi
  # Rates and times (*_per_s, elapsed_s) say how fast, not what; the replay
  # files' names carry the scratch directory.
  echo "$label exit $rc $(jq -cS 'del(.replay_files) | walk(if type == "object" then
      with_entries(select(.key | test("_per_s$|^elapsed_s$") | not)) else . end)' <<<"$json")" >>"$OUT"
}

for model in v5.18 v6.10 v7.1; do
  workloads=(mixed resize grow walk-grow hwpoison-window restore-walk)
  [[ "$model" == v6.10 ]] && workloads+=(demote)
  for w in "${workloads[@]}"; do
    for strategy in random pct; do
      for mm in sc weak; do
        for ((seed = 1; seed <= SEEDS; ++seed)); do
          record "$model $w $strategy $mm $seed" --model "$model" --mode controlled --workload "$w" \
            --strategy "$strategy" --memory-model "$mm" --seed "$seed" --seeds 1
        done
      done
    done
  done
done

# Every catalogue entry; the free-mode figure entries with a fixed seed and a
# single thread are deterministic too.
mapfile -t races < <("$BIN" list races --json | jq -r '.races[] | "\(.id) \(.scenario.mode)"')
for line in "${races[@]}"; do
  read -r id mode <<<"$line"
  seeds=(--seed 1)
  [[ "$mode" == controlled ]] && seeds+=(--seeds "$RACE_SEEDS")
  record "race $id" --race "$id" "${seeds[@]}"
  record "race $id --fixed" --race "$id" --fixed "${seeds[@]}"
done
echo "ci/trace-hashes.sh: $(wc -l <"$OUT") runs recorded in $OUT"
