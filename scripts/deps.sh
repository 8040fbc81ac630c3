#!/usr/bin/env bash
# Installs the Debian 12 packages driftwatch needs to build, test and run.
# Idempotent: only missing packages are installed. Sourced by the other scripts.
set -euo pipefail

DW_BUILD_PACKAGES=(
  meson ninja-build g++ pkg-config python3 cmake
  libxxhash-dev libsqlite3-dev libyaml-cpp-dev libcpprest-dev
  libboost-dev libboost-system-dev libssl-dev libcli11-dev
  libgtest-dev libgmock-dev libseccomp-dev libzstd-dev
)
DW_TEST_PACKAGES=(
  attr xxhash sqlite3 curl openssl procps util-linux iproute2 busybox-static
  dpkg tar coreutils libfaketime wrk bsdutils groff-base
  diffutils patch  # core text_diff_test compares with diff -u and applies with patch
  prometheus  # promtool: the metrics-promtool test
  ccache      # the builds below and the sanitized trees (dw_cached)
)
# What scripts/package needs on top of DW_BUILD_PACKAGES to build and check
# the .debs. debian/control's Build-Depends are DW_BUILD_PACKAGES minus the
# test-only gtest/gmock (and g++, part of build-essential), plus debhelper
# and libpq-dev (the packaged collector always has the PostgreSQL store). ccache: a second build of the same tree (the
# package test's higher version) takes seconds instead of minutes.
DW_PACKAGE_PACKAGES=(
  debhelper dpkg-dev fakeroot lintian libpq-dev ccache
)

# ccache (when installed) shares one cache between checkouts of this tree at
# any path: paths under the checkout are hashed relative to it, and the
# working directory, which only reaches the debug information, is not hashed.
# So a fresh clone, or the sanitized trees of another checkout, compile
# only what differs.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"

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

# Configures (once) the tree at $1 into build dir $2 and builds only the
# ninja targets named after that, e.g. driftwatch.
dw_build_targets() {
  local src="$1" build="$2"
  shift 2
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$src" >/dev/null
  fi
  ninja -C "$build" "$@" >/dev/null
}

# Configures (once) the sanitized tree at $1 into build dir $2: clang,
# AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer included),
# libFuzzer's coverage instrumentation on all of driftwatch's code
# (-fsanitize=fuzzer-no-link, so the fuzzers are guided by the parsers'
# branches) and the fuzz targets (-Dfuzz=true). -O1 with line tables only:
# readable sanitizer stacks at a fraction of a full debug build's cost
# (-O0 compiles faster but made the sanitized agent suite three times
# slower). UBSan's vptr check is left out: it doubled the compile time of
# the Boost.Beast and cpprestsdk code (collector/server.cc: 176 s -> 86 s)
# and its only findings were inside cpprestsdk (docs/reliability.md). One
# build serves scripts/test's sanitizer run and scripts/fuzz.
# A compiler command through ccache when it is installed: meson wraps the
# default compilers itself, but not the ones named in CC and CXX.
dw_cached() {
  if command -v ccache >/dev/null 2>&1; then echo "ccache $1"; else echo "$1"; fi
}

dw_setup_sanitized() {
  local src="$1" build="$2"
  if [ ! -f "$build/build.ninja" ]; then
    CC="$(dw_cached clang)" CXX="$(dw_cached clang++)" meson setup "$build" "$src" \
      -Dfuzz=true -Dbuildtype=plain -Doptimization=1 -Db_sanitize=address,undefined \
      -Db_lundef=false \
      "-Dcpp_args=-gline-tables-only -fsanitize=fuzzer-no-link -fno-sanitize=vptr" >/dev/null
  fi
}
