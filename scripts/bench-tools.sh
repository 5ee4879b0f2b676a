#!/usr/bin/env bash
# bench-tools.sh -- Postfix 3.7 (Debian 12's postfix package) for the accept
# and memory benchmarks: smtp-source, smtp-sink and a Postfix to compare
# with, WITHOUT installing it (no service, /usr/sbin/sendmail untouched).
#
# Usage:
#   scripts/bench-tools.sh setup     ensure the tools exist (idempotent, quick when done)
#   scripts/bench-tools.sh path      print the extraction root
#
# What `setup` does (each step is skipped when already done):
#   * apt-get download postfix          -> build/bench-tools/debs/
#   * dpkg -x                           -> build/bench-tools/root/
#   * apt-get install -y the lib* packages the .deb depends on, if the
#     binaries miss any (they are normally present on this machine)
#   * creates the system group `postdrop` and user `postfix` if missing:
#     Postfix started as root refuses to run without them (mail_owner,
#     setgid_group)
#
# The binaries look for their own libraries in /usr/lib/postfix (RUNPATH):
# run them with LD_LIBRARY_PATH=<root>/usr/lib/postfix (bench/accept/mtas.py
# does, and passes it on to Postfix's daemons with import_environment).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
CACHE="$REPO/build/bench-tools"
ROOT="$CACHE/root"
LIBS="$ROOT/usr/lib/postfix"

log() { echo "bench-tools: $*" >&2; }

missing_libs() {
    LD_LIBRARY_PATH="$LIBS" ldd "$ROOT/usr/lib/postfix/sbin/smtpd" "$ROOT/usr/sbin/smtp-source" |
        grep 'not found' || true
}

setup() {
    mkdir -p "$CACHE/debs" "$ROOT"
    if ! compgen -G "$CACHE/debs/postfix_*.deb" >/dev/null; then
        log "downloading postfix"
        (cd "$CACHE/debs" && apt-get download postfix >&2) || {
            log "apt-get download failed; trying after apt-get update"
            apt-get update >&2
            (cd "$CACHE/debs" && apt-get download postfix >&2)
        }
    fi
    if [[ ! -x "$ROOT/usr/sbin/smtp-source" ]]; then
        log "extracting $(basename "$CACHE"/debs/postfix_*.deb)"
        dpkg -x "$CACHE"/debs/postfix_*.deb "$ROOT"
    fi
    if [[ -n "$(missing_libs)" ]]; then
        local deps
        deps=$(dpkg-deb -f "$CACHE"/debs/postfix_*.deb Depends | tr ',' '\n' |
               sed 's/(.*)//; s/|.*//; s/ //g' | grep '^lib' || true)
        log "installing libraries: $(echo $deps)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y --no-install-recommends $deps >&2 || {
            apt-get update >&2
            apt-get install -y --no-install-recommends $deps >&2
        }
    fi
    if [[ -n "$(missing_libs)" ]]; then
        missing_libs >&2
        log "ERROR: libraries still missing"
        exit 1
    fi
    if ! getent group postdrop >/dev/null; then
        log "creating system group postdrop"
        groupadd --system postdrop
    fi
    if ! getent passwd postfix >/dev/null; then
        log "creating system user postfix"
        useradd --system --user-group --home-dir /nonexistent --no-create-home \
                --shell /usr/sbin/nologin postfix
    fi
}

case "${1:-}" in
    setup) setup ;;
    path) echo "$ROOT" ;;
    *) echo "usage: $0 setup | path" >&2; exit 2 ;;
esac
