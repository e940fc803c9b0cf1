#!/usr/bin/env bash
# Builds the release preset and runs every benchmark program (one per
# bench/*_bench.cc), writing build/release/bench/<name>.json.
# Usage: ci/bench.sh [--repetitions N] [-- extra Google Benchmark flags]
# (the repetitions default to $BENCH_REPETITIONS, else 3).
set -euo pipefail
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPS="${BENCH_REPETITIONS:-3}"
EXTRA=()
while (( $# )); do
  case "$1" in
    --repetitions) REPS="${2:?--repetitions needs a number}"; shift 2 ;;
    --repetitions=*) REPS="${1#*=}"; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "ci/bench.sh: unknown flag '$1' (known: --repetitions N, -- flags...)" >&2; exit 2 ;;
  esac
done
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "ci/bench.sh: --repetitions: '$REPS' is not a positive number" >&2; exit 2; }

hvo_banner "release: build"; hvo_build release

OUT="$HVO_ROOT/build/release/bench"
shopt -s nullglob
sources=("$HVO_ROOT"/bench/*_bench.cc)
if (( ${#sources[@]} == 0 )); then
  echo "ci/bench.sh: no bench/*_bench.cc yet"
  exit 0
fi
for src in "${sources[@]}"; do
  name="$(basename "$src" .cc)"
  hvo_banner "bench: $name ($REPS repetitions)"
  "$OUT/$name" --benchmark_repetitions="$REPS" --benchmark_out="$OUT/$name.json" \
    --benchmark_out_format=json "${EXTRA[@]}"
done
echo
echo "ci/bench.sh: results in $OUT/*.json"
