#!/usr/bin/env bash
# scripts/deps.sh: install the Debian 12 packages tern needs to build and test.
#
# Idempotent and fast when everything is present: dpkg is asked first, and
# apt-get runs only for what is missing. Every package the project needs is
# listed here, so a fresh machine gets the same tools CI has.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config python3
  # libraries the core and the modules link
  libssl-dev libboost-dev libpcre2-dev libcrypt-dev
  libhiredis-dev libmariadb-dev libpq-dev libunbound-dev
  # tests and sanitizers
  libgtest-dev libgmock-dev clang libclang-rt-14-dev
  # IDNA for the utf8_* expansion operators (core/text/idna.cpp)
  libidn2-dev libidn-dev
  # the ABI guard (tests/abi: abidw, abidiff)
  abigail-tools
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
