# shellcheck shell=bash
# Shared by the ci/*.sh scripts (sourced, not run): stage banners, the build
# job limit and the configure+build step, so every script builds the same way.

HVO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# At most 2 compile jobs: the reference machine has 2 vCPUs and is shared.
HVO_JOBS="$(nproc 2>/dev/null || echo 1)"
if (( HVO_JOBS > 2 )); then HVO_JOBS=2; fi

hvo_banner() {
  printf '\n==== %s ====\n' "$*"
}

# hvo_build PRESET: configure (if needed) and build build/PRESET.
hvo_build() {
  local preset="$1"
  (cd "$HVO_ROOT" && cmake --preset "$preset" >/dev/null && cmake --build --preset "$preset" -j "$HVO_JOBS")
}

# hvo_tsan_tests: runs the tests labelled tsan on build/tsan. Reports go to
# files (one per process), which are printed here when a test fails, since
# ctest would otherwise show only "exit code 66".
hvo_tsan_tests() {
  local reports="$HVO_ROOT/build/tsan/reports"
  # Only this job's files: build/tsan/reports/<timestamp>/ (ci/tsan-campaign.sh) stay.
  mkdir -p "$reports" && rm -f "$reports"/tsan.*
  echo "ThreadSanitizer reports go to $reports/tsan.<pid>"
  # The tsan test preset adds halt_on_error=1 too; repeated here so running
  # the binaries by hand with this variable behaves the same.
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$HVO_ROOT/ci/tsan.supp log_path=$reports/tsan ${TSAN_OPTIONS:-}"
  local rc=0
  (cd "$HVO_ROOT" && ctest --preset tsan -j "$HVO_JOBS") || rc=$?
  if compgen -G "$reports/tsan.*" >/dev/null; then
    echo "ThreadSanitizer reported:"
    for f in "$reports"/tsan.*; do
      echo "---- $f"
      head -n 80 "$f"
    done
    if (( rc == 0 )); then rc=1; fi
  fi
  return "$rc"
}

# hvo_fuzz SECONDS: runs each libFuzzer target of build/fuzz for SECONDS on
# its committed corpus (tests/fuzz/corpus/<target>, read only: new inputs
# go to a scratch directory). A crash leaves its input in
# build/fuzz/artifacts/ and fails; make it a regression test.
hvo_fuzz() {
  local seconds="$1" target scratch
  mkdir -p "$HVO_ROOT/build/fuzz/artifacts"
  for target in replay_file parsers run_argv; do
    scratch="$HVO_ROOT/build/fuzz/corpus-$target"
    mkdir -p "$scratch"
    echo "fuzzing $target for ${seconds}s"
    local log="$HVO_ROOT/build/fuzz/$target.log" rc=0
    "$HVO_ROOT/build/fuzz/tests/fuzz/${target}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$HVO_ROOT/build/fuzz/artifacts/$target-" \
      "$scratch" "$HVO_ROOT/tests/fuzz/corpus/$target" >"$log" 2>&1 || rc=$?
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" || true
    if (( rc != 0 )); then
      tail -n 40 "$log"
      echo "hvo_fuzz: $target failed (exit $rc); the input is in build/fuzz/artifacts/" >&2
      return 1
    fi
  done
}

