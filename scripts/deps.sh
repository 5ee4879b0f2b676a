#!/usr/bin/env bash
# scripts/deps.sh: install the Debian 12 packages tern needs to build and test.
#
# Idempotent and fast when everything is present: dpkg is asked first, and
# apt-get runs only for what is missing. Every package the project needs is
# listed here, so a fresh machine gets the same tools CI has.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config python3 ccache
  # libraries the core and the modules link
  libssl-dev libboost-dev libpcre2-dev libcrypt-dev
  libhiredis-dev libmariadb-dev libpq-dev libunbound-dev
  # tests and sanitizers
  libgtest-dev libgmock-dev clang libclang-rt-14-dev
  # IDNA for the utf8_* expansion operators (core/text/idna.cpp)
  libidn2-dev libidn-dev
  # the ABI guard (tests/abi: abidw, abidiff)
  abigail-tools
  # real servers the integration tests start on loopback, and real clients
  redis-server redis-tools postgresql mariadb-server haproxy
  nsd unbound ldnsutils spamd spamc openssl swaks
  # ip netns (a test's own resolver), procps (ps/pgrep in tests)
  iproute2 procps
  # an SMTP receiver for the smtp transport's tests (tests/deliver)
  python3-aiosmtpd
  # an LMTP server for the lmtp transport's tests (tests/deliver)
  dovecot-core dovecot-lmtpd
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
# The servers are for tests, which start their own on loopback: keep the
# packages from starting system-wide instances (policy-rc.d answers 101).
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod 755 "$policy"
  own_policy=1
fi
trap '[ "$own_policy" = 1 ] && "${sudo_cmd[@]}" rm -f "$policy"' EXIT
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
