#!/usr/bin/env bash
# The README's main command: installs the dependencies, builds the release
# preset and runs hvo-stress. For now that is `describe` (the simulated
# machine's self-description); a later issue makes it a default campaign.
set -euo pipefail
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

hvo_banner "dependencies"; bash "$HVO_ROOT/ci/install-deps.sh"
hvo_banner "release: build"; hvo_build release
hvo_banner "hvo-stress describe"; "$HVO_ROOT/build/release/hvo-stress" describe "$@"
