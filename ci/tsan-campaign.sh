#!/usr/bin/env bash
# The ThreadSanitizer campaign job on its own, to drop into any CI: builds the
# tsan preset and runs two v17 campaigns (4 threads) under ThreadSanitizer:
#   once   --pte-access once (READ_ONCE/WRITE_ONCE): must give no report at all;
#   plain  --pte-access plain-torn (32-bit page tables: plain stores too):
#          TSan must report the data race on the PTE word
#          (up to 3 seeds are tried, S, S+1, S+2; the first report ends it).
# Reports and campaign outputs go to build/tsan/reports/<timestamp>/{once,plain};
# the script prints where, one verdict line per campaign, and exits 1 if
# `once` is reported or `plain` is not (2 on bad usage).
# Usage: ci/tsan-campaign.sh [--iterations N] [--plain-iterations N] [--seed S]
#                            [--threads N] [--workload NAME] [--no-build]
# TSAN_OPTIONS from the environment are passed on; halt_on_error=1,
# exitcode=66 and log_path are always set.
set -euo pipefail
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ITERATIONS=40000 PLAIN_ITERATIONS=20000 SEED=1 THREADS=4 WORKLOAD=mixed BUILD=1
usage_error() { echo "ci/tsan-campaign.sh: $*" >&2; exit 2; }
while (( $# )); do
  case "$1" in
    --iterations) ITERATIONS="${2:?--iterations needs a number}"; shift 2 ;;
    --plain-iterations) PLAIN_ITERATIONS="${2:?--plain-iterations needs a number}"; shift 2 ;;
    --seed) SEED="${2:?--seed needs a number}"; shift 2 ;;
    --threads) THREADS="${2:?--threads needs a number}"; shift 2 ;;
    --workload) WORKLOAD="${2:?--workload needs a name}"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage_error "unknown flag '$1' (known: --iterations N, --plain-iterations N, --seed S, --threads N, --workload NAME, --no-build)" ;;
  esac
done
for v in ITERATIONS PLAIN_ITERATIONS THREADS; do
  flag="--${v,,}"
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || usage_error "${flag//_/-}: '${!v}' is not a positive number"
done
[[ "$SEED" =~ ^[0-9]+$ ]] || usage_error "--seed: '$SEED' is not a number"

TSAN_EXIT=66
BIN="$HVO_ROOT/build/tsan/hvo-stress"
if (( BUILD )); then
  hvo_banner "tsan: build"; hvo_build tsan
fi
[[ -x "$BIN" ]] || { echo "ci/tsan-campaign.sh: $BIN is not built (run without --no-build)" >&2; exit 1; }

REPORTS="$HVO_ROOT/build/tsan/reports/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$REPORTS"

# campaign DIR PTE_ACCESS ITERATIONS SEED: runs one campaign under TSan with
# its reports in DIR/tsan.<pid>, its JSON summary in DIR/summary.json and its
# stderr in DIR/stderr.txt; sets RC and ELAPSED.
campaign() {
  local dir="$1" access="$2" iterations="$3" seed="$4" t0
  mkdir -p "$dir"
  local cmd=("$BIN" run --model v17 --pte-access "$access" --threads "$THREADS" --iterations "$iterations"
             --seed "$seed" --memory 512M --workload "$WORKLOAD" --json --out "$dir/findings")
  echo "${cmd[*]}" >"$dir/command.txt"
  echo "\$ ${cmd[*]#"$HVO_ROOT/"}"
  t0=$(date +%s%N)
  RC=0
  TSAN_OPTIONS="${TSAN_OPTIONS:-} halt_on_error=1 exitcode=$TSAN_EXIT log_path=$dir/tsan" \
    "${cmd[@]}" >"$dir/summary.json" 2>"$dir/stderr.txt" || RC=$?
  ELAPSED=$(( ($(date +%s%N) - t0) / 1000000 ))
}

# report_files DIR: the TSan report files of a campaign, one a line.
report_files() { compgen -G "$1/tsan.*" || true; }

# top_frames FILE: each access of the first report with its top 4 frames.
top_frames() {
  awk '/^(WARNING|SUMMARY): ThreadSanitizer/ { print; if (/^SUMMARY/) exit; next }
       /^  (Previous )?([Aa]tomic )?([Rr]ead|[Ww]rite) of size/ { print; n = 0; inside = 1; next }
       /^    #/ { if (inside && n++ < 4) print; next }
       { inside = 0 }' "$1" | sed -E 's/ \((hvo-stress|lib[a-z0-9_.+-]*)\+0x[0-9a-f]+\)$//'
}

seconds() { printf '%d.%03d s' $(( $1 / 1000 )) $(( $1 % 1000 )); }

VERDICT_ONCE="" VERDICT_PLAIN="" FAILED=0

# --- once: no report at all ---------------------------------------------------
hvo_banner "tsan campaign: --pte-access once (must be clean)"
ONCE="$REPORTS/once"
campaign "$ONCE" once "$ITERATIONS" "$SEED"
mapfile -t files < <(report_files "$ONCE")
if (( ${#files[@]} == 0 && RC == 0 )) && ! grep -q "WARNING: ThreadSanitizer" "$ONCE/stderr.txt"; then
  VERDICT_ONCE="once : CLEAN   no ThreadSanitizer report ($ITERATIONS operations, $THREADS threads, seed $SEED, $(seconds "$ELAPSED"))"
else
  FAILED=1
  if (( ${#files[@]} )); then
    VERDICT_ONCE="once : FAILED  ThreadSanitizer reported (exit $RC): ${files[*]}"
    for f in "${files[@]}"; do echo "---- $f"; head -n 80 "$f"; done
  else
    VERDICT_ONCE="once : FAILED  exit $RC without a ThreadSanitizer report (see $ONCE/stderr.txt)"
    tail -n 20 "$ONCE/stderr.txt"
  fi
fi
echo "$VERDICT_ONCE"

# --- plain: the PTE race must be reported ----------------------------------------
hvo_banner "tsan campaign: --pte-access plain-torn (must report the PTE race)"
tried=()
for seed in "$SEED" $((SEED + 1)) $((SEED + 2)); do
  dir="$REPORTS/plain/seed-$seed"
  campaign "$dir" plain-torn "$PLAIN_ITERATIONS" "$seed"
  mapfile -t files < <(report_files "$dir")
  if (( ${#files[@]} == 0 && RC == 0 )); then
    echo "seed $seed: no report in $PLAIN_ITERATIONS operations ($(seconds "$ELAPSED")); next seed"
    tried+=("$seed")
    continue
  fi
  if (( RC == TSAN_EXIT && ${#files[@]} )) && grep -q "WARNING: ThreadSanitizer: data race" "${files[0]}" &&
     grep -Eq 'hvo::PhysMem::(store|load)_plain32|hvo::KernelPageTables::(write|read)_entry' "${files[0]}"; then
    top_frames "${files[0]}"
    VERDICT_PLAIN="plain: REPORTED data race on the PTE word (seed $seed, after $(seconds "$ELAPSED")): ${files[0]}"
  elif (( ${#files[@]} )); then
    FAILED=1
    VERDICT_PLAIN="plain: FAILED  ThreadSanitizer reported something other than the PTE race (exit $RC): ${files[*]}"
    for f in "${files[@]}"; do echo "---- $f"; head -n 80 "$f"; done
  else
    FAILED=1
    VERDICT_PLAIN="plain: FAILED  exit $RC without a ThreadSanitizer report (see $dir/stderr.txt)"
    tail -n 20 "$dir/stderr.txt"
  fi
  break
done
if [[ -z "$VERDICT_PLAIN" ]]; then
  FAILED=1
  VERDICT_PLAIN="plain: FAILED  no ThreadSanitizer report with seeds ${tried[*]} ($PLAIN_ITERATIONS operations each)"
fi
echo "$VERDICT_PLAIN"

echo
echo "ThreadSanitizer reports and campaign outputs: $REPORTS"
echo "$VERDICT_ONCE"
echo "$VERDICT_PLAIN"
if (( FAILED )); then
  echo "ci/tsan-campaign.sh: FAILED"
  exit 1
fi
echo "ci/tsan-campaign.sh: PASSED"
