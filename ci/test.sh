#!/usr/bin/env bash
# The README's test command. On a fresh Debian 12 machine: installs the
# dependencies, then builds and tests every configuration CI gates on:
#   release  build + unit tests (not slow)
#   tsa      clang thread-safety analysis build; any warning fails it
#   tsan     ThreadSanitizer build + the tests labelled tsan
#   fuzz     libFuzzer targets (ASan+UBSan, clang 14), each run for 20 s
# Flags: --slow also runs the slow tests on release; --asan adds the
# AddressSanitizer+UBSan build and its unit tests.
set -euo pipefail
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SLOW=0 ASAN=0
for arg in "$@"; do
  case "$arg" in
    --slow) SLOW=1 ;;
    --asan) ASAN=1 ;;
    -h|--help) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ci/test.sh: unknown flag '$arg' (known: --slow, --asan)" >&2; exit 2 ;;
  esac
done

START=$SECONDS
STAGE=""
DONE=()
trap 'rc=$?; if (( rc != 0 )); then echo; echo "ci/test.sh: FAILED in stage \"$STAGE\" after $((SECONDS - START))s (passed: ${DONE[*]:-none})"; fi' EXIT

STAGE_START=$SECONDS
stage() { STAGE="$1"; STAGE_START=$SECONDS; hvo_banner "$1"; }
passed() { DONE+=("$STAGE"); echo "-- stage \"$STAGE\" passed in $((SECONDS - STAGE_START))s"; }

stage "dependencies"; bash "$HVO_ROOT/ci/install-deps.sh"; passed
stage "release: build"; hvo_build release; passed
stage "release: unit tests"; (cd "$HVO_ROOT" && ctest --preset release -j "$HVO_JOBS"); passed
if (( SLOW )); then
  stage "release: all tests, slow included"; (cd "$HVO_ROOT" && ctest --preset slow -j "$HVO_JOBS"); passed
fi
stage "tsa: clang thread-safety build"; hvo_build tsa; passed
stage "tsan: build"; hvo_build tsan; passed
stage "tsan: tests"; hvo_tsan_tests; passed
stage "fuzz: build"; hvo_build fuzz; passed
stage "fuzz: run each target for 20 s"; hvo_fuzz 20; passed
if (( ASAN )); then
  stage "asan: build"; hvo_build asan; passed
  stage "asan: unit tests"; (cd "$HVO_ROOT" && ctest --preset asan -j "$HVO_JOBS"); passed
fi

echo
echo "ci/test.sh: PASSED ${#DONE[@]} stages in $((SECONDS - START))s: ${DONE[*]}"
