#!/usr/bin/env bash
# Builds the tsan preset and runs the tests labelled tsan with
# halt_on_error=1; reports are written to build/tsan/reports/ and printed.
set -euo pipefail
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

hvo_banner "tsan: build"; hvo_build tsan
hvo_banner "tsan: tests"; hvo_tsan_tests
echo "ci/tsan.sh: PASSED"
