#!/usr/bin/env bash
# The long clean campaigns of the README's figures: every model, free mode
# (2 threads, the mixed workload, 2 MiB pages) for DURATION, then controlled
# mode for EXECUTIONS executions with each strategy (random, pct). Every run
# must be clean: the script exits 1 at the first one that is not (its replay
# command and file are printed by hvo-stress itself).
#   bash ci/clean-campaigns.sh [--free DURATION] [--executions N]
# Defaults: --free 60s --executions 20000 (about 10 minutes in all).
set -euo pipefail
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FREE=60s EXECUTIONS=20000
while (( $# )); do
  case "$1" in
    --free) FREE="${2:?--free needs a duration}"; shift 2 ;;
    --executions) EXECUTIONS="${2:?--executions needs a count}"; shift 2 ;;
    -h|--help) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ci/clean-campaigns.sh: unknown argument '$1' (known: --free DURATION, --executions N)" >&2; exit 2 ;;
  esac
done

hvo_banner "release: build"; hvo_build release
BIN="$HVO_ROOT/build/release/hvo-stress"
OUT="$HVO_ROOT/build/release/clean-campaigns"
mapfile -t MODELS < <("$BIN" list models | awk '/^[^ ]/ { print $1 }')
for model in "${MODELS[@]}"; do
  hvo_banner "$model: free mode, 2 threads, $FREE"
  "$BIN" run --model "$model" --mode free --threads 2 --duration "$FREE" --out "$OUT"
  for strategy in random pct; do
    hvo_banner "$model: controlled mode, $strategy, $EXECUTIONS executions"
    "$BIN" run --model "$model" --mode controlled --strategy "$strategy" --seeds "$EXECUTIONS" --out "$OUT"
  done
done
echo
echo "ci/clean-campaigns.sh: every campaign clean (${MODELS[*]})"
