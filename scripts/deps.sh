#!/usr/bin/env bash
# Installs the Debian 12 packages driftwatch needs to build, test and run.
# Idempotent: only missing packages are installed. Sourced by the other scripts.
set -euo pipefail

DW_BUILD_PACKAGES=(
  meson ninja-build g++ pkg-config python3
  libxxhash-dev libsqlite3-dev libyaml-cpp-dev libcpprest-dev
  libboost-dev libboost-system-dev libssl-dev
  libgtest-dev libgmock-dev
)
DW_TEST_PACKAGES=(
  attr xxhash sqlite3 curl openssl procps util-linux iproute2 busybox-static
  dpkg tar coreutils libfaketime
)

dw_install_missing() {
  local missing=()
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: packages missing (${missing[*]}); run as root to install them" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Configures (once) and builds the tree at $1 into build dir $2 with extra
# meson options after that.
dw_build() {
  local src="$1" build="$2"
  shift 2
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$src" "$@" >/dev/null
  fi
  ninja -C "$build" >/dev/null
}
