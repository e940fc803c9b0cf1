#!/usr/bin/env bash
# One random controlled search split over a Slurm job array, then merged.
#
#   sbatch docs/slurm-array.sh                     # the array: one shard per task
#   hvo-stress merge results/shard-*-of-16.json    # after every task ended
#
# Each task reads its shard from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT
# (counted from SLURM_ARRAY_TASK_MIN, so --array=1-16 works as well as
# 0-15); no --shard flag is needed. Every task must run the same search
# (same flags, same --shard-block) and write into the same shared directory.
# A task that exits 1 found a failure in its part (its replay file is in
# results/); the merged result says whether it is the search's lowest.
#SBATCH --job-name=hvo-stress-search
#SBATCH --array=0-15
#SBATCH --cpus-per-task=2
#SBATCH --time=08:00:00
#SBATCH --output=results/slurm-%A_%a.out
set -uo pipefail

HVO_STRESS=${HVO_STRESS:-hvo-stress}
OUT=${OUT:-results}
mkdir -p "$OUT"

"$HVO_STRESS" run --model v17 --pte-access plain --mode controlled --strategy random \
  --seed 1 --seeds 1000000 --shard-block 64 --jobs "${SLURM_CPUS_PER_TASK:-1}" --out "$OUT"
rc=$?
# 0: its part is clean; 1: it found a failure (a result, not an error).
if (( rc == 0 || rc == 1 )); then exit 0; fi
exit "$rc"
