#!/usr/bin/env bash
# Installs the Debian 12 packages hvo-stress needs, and only those missing:
# when everything is there it does nothing (no apt-get update, no network).
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++
  clang clang-14 libclang-rt-14-dev           # the tsa preset (-Wthread-safety)
  libfmt-dev
  libtbb-dev                                  # oneTBB: the controlled search's --jobs (stress/tbb_executor.h)
  libboost1.81-dev libboost-program-options1.81-dev libboost-json1.81-dev libboost-context1.81-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  chromium                                    # report_browser_test renders the HTML reports headless
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)" != installed ]]; then
    missing+=("$pkg")
  fi
done

if (( ${#missing[@]} == 0 )); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=()
if (( EUID != 0 )); then
  command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
