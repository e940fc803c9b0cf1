#!/usr/bin/env bash
# The cost of ThreadSanitizer, as one figure: builds the release and tsan
# presets, runs the same campaign in each, one after the other,
#   hvo-stress run --model v17 --threads 2 --iterations 100000 --seed 1 --json --memory 512M
# reads stats.operations_per_s from each JSON summary and prints both and
# their ratio (release / tsan). The summaries are kept in build/tsan/slowdown/.
# Usage: ci/tsan-slowdown.sh [--no-build] [-- extra hvo-stress run flags]
set -euo pipefail
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD=1
EXTRA=()
while (( $# )); do
  case "$1" in
    --no-build) BUILD=0; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ci/tsan-slowdown.sh: unknown flag '$1' (known: --no-build, -- flags...)" >&2; exit 2 ;;
  esac
done

if (( BUILD )); then
  hvo_banner "release: build"; hvo_build release
  hvo_banner "tsan: build"; hvo_build tsan
fi

CAMPAIGN=(run --model v17 --threads 2 --iterations 100000 --seed 1 --json --memory 512M "${EXTRA[@]}")
OUT="$HVO_ROOT/build/tsan/slowdown"
mkdir -p "$OUT"

# rate PRESET: runs the campaign with build/PRESET/hvo-stress, keeps its
# summary in $OUT/PRESET.json and prints stats.operations_per_s.
rate() {
  local preset="$1" bin="$HVO_ROOT/build/$1/hvo-stress" rc=0
  [[ -x "$bin" ]] || { echo "ci/tsan-slowdown.sh: $bin is not built" >&2; return 1; }
  rm -rf "$OUT/$preset-findings"
  # The tsan run halts on any report: a race would make the figure meaningless.
  TSAN_OPTIONS="${TSAN_OPTIONS:-} halt_on_error=1 log_path=$OUT/tsan" \
    "$bin" "${CAMPAIGN[@]}" --out "$OUT/$preset-findings" >"$OUT/$preset.json" 2>"$OUT/$preset.stderr" || rc=$?
  if (( rc != 0 )); then
    echo "ci/tsan-slowdown.sh: the $preset campaign exited $rc (see $OUT/$preset.stderr, $OUT/tsan.*)" >&2
    return 1
  fi
  # Boost.JSON writes doubles like 7.836016006473177E4; awk reads them.
  sed -n 's/.*"stats":{[^}]*"operations_per_s":\([-+0-9.eE]*\).*/\1/p' "$OUT/$preset.json"
}

rm -f "$OUT"/tsan.*
hvo_banner "campaign: hvo-stress ${CAMPAIGN[*]}"
RELEASE=$(rate release)
TSAN=$(rate tsan)
[[ -n "$RELEASE" && -n "$TSAN" ]] || { echo "ci/tsan-slowdown.sh: no stats.operations_per_s in $OUT/*.json" >&2; exit 1; }
awk -v r="$RELEASE" -v t="$TSAN" 'BEGIN {
  printf "release  %12.0f operations/s\n", r
  printf "tsan     %12.0f operations/s\n", t
  printf "slowdown %12.1fx (release / tsan)\n", r / t
}'
echo "summaries: $OUT/release.json $OUT/tsan.json"
