#!/usr/bin/env bash
# exim-ref.sh -- a reference Exim 4.96 (Debian 12's exim4-daemon-heavy) used as
# a test oracle, WITHOUT installing it as the system MTA.
#
# Usage:
#   scripts/exim-ref.sh setup            ensure the reference exim exists (idempotent)
#   scripts/exim-ref.sh exim ARGS...     run the extracted exim binary with ARGS
#   scripts/exim-ref.sh path             print the path of the exim binary
#
# What `setup` does (each step is skipped when already done):
#   * apt-get download exim4-daemon-heavy exim4-base exim4-config
#       -> build/exim-ref/debs/
#   * dpkg -x each .deb -> build/exim-ref/root/   (nothing is configured, no
#     service is started, /usr/sbin/sendmail is untouched)
#   * apt-get install -y the lib* packages the daemon's .deb depends on
#     (libidn12, libspf2-2, libmariadb3, libpq5, ...), then checks ldd
#   * creates the system user/group Debian-exim if missing
#   * creates build/exim-ref/{spool,log}
#
# `exim` mode: Exim (as root) only accepts a -C file owned by root and not
# group/world writable.  If a -C argument does not satisfy that, the file is
# copied to a root-owned 0644 temporary file (same content) and the copy is
# passed instead; the copy is removed on exit.  Nothing else in the arguments is
# changed.  Note that because the config is then read from a different path,
# anything depending on the config file's own path (e.g. $config_dir,
# $config_file) would differ -- pass a file that is already root-owned 0644 to
# avoid that (files created by root with umask 022 already are).
#
# The configuration passed with -C should set
#   spool_directory = <repo>/build/exim-ref/spool
#   log_file_path   = <repo>/build/exim-ref/log/%slog
# (see tests/expand/fixtures/battery.conf) so that nothing is written to
# /var/spool/exim4 or /var/log/exim4.
#
# Exim prints "exim user lost privilege for using -C option" style messages to
# its log on re-exec: harmless.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
REF="$REPO/build/exim-ref"
ROOT="$REF/root"
EXIM="$ROOT/usr/sbin/exim4"
PKGS=(exim4-daemon-heavy exim4-base exim4-config)

log() { echo "exim-ref: $*" >&2; }

setup() {
    mkdir -p "$REF/debs" "$ROOT" "$REF/spool" "$REF/log"
    # 1. download the packages (only if not cached)
    local need=()
    for p in "${PKGS[@]}"; do
        compgen -G "$REF/debs/${p}_*.deb" >/dev/null || need+=("$p")
    done
    if ((${#need[@]})); then
        log "downloading ${need[*]}"
        (cd "$REF/debs" && apt-get download "${need[@]}" >&2) || {
            log "apt-get download failed; trying after apt-get update"
            apt-get update >&2
            (cd "$REF/debs" && apt-get download "${need[@]}" >&2)
        }
    fi
    # 2. extract (only if the binary is not there yet)
    if [[ ! -x "$EXIM" ]]; then
        for d in "$REF"/debs/*.deb; do
            log "extracting $(basename "$d")"
            dpkg -x "$d" "$ROOT"
        done
    fi
    # 3. shared libraries: install the lib* dependencies of the daemon package
    if ldd "$EXIM" | grep -q 'not found'; then
        local deb deps
        deb=$(ls "$REF"/debs/exim4-daemon-heavy_*.deb | head -1)
        deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' |
               grep '^lib' || true)
        log "installing libraries: $(echo $deps)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $deps >&2 || {
            apt-get update >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $deps >&2
        }
    fi
    if ldd "$EXIM" | grep 'not found' >&2; then
        log "ERROR: libraries still missing"
        exit 1
    fi
    # 4. the exim user
    if ! getent group Debian-exim >/dev/null; then
        groupadd --system Debian-exim
    fi
    if ! getent passwd Debian-exim >/dev/null; then
        useradd --system --gid Debian-exim --home-dir /var/spool/exim4 \
                --no-create-home --shell /usr/sbin/nologin Debian-exim
    fi
    chown Debian-exim:Debian-exim "$REF/spool" "$REF/log" 2>/dev/null || true
    touch "$REF/.setup-done"
}

run_exim() {
    # fast path: setup completed before (stamp) -- keeps per-call overhead low
    [[ -x "$EXIM" && -e "$REF/.setup-done" ]] || setup >&2
    local args=() a next_is_conf=0
    for a in "$@"; do
        if ((next_is_conf)); then
            fix_conf "$a"; a=$FIXED
            next_is_conf=0
        elif [[ "$a" == -C ]]; then
            next_is_conf=1
        elif [[ "$a" == -C?* ]]; then
            fix_conf "${a#-C}"; a="-C$FIXED"
        fi
        args+=("$a")
    done
    if ((${#TMPCONFS[@]})); then
        # keep the shell alive to clean up the copies
        local rc=0
        "$EXIM" "${args[@]}" || rc=$?
        rm -f "${TMPCONFS[@]}"
        exit $rc
    fi
    exec "$EXIM" "${args[@]}"
}

TMPCONFS=()
fix_conf() {
    # set FIXED to a path exim will accept for -C; copy when owner/mode not acceptable
    local f="$1" owner mode
    FIXED=$f
    [[ -f "$f" ]] || return 0
    owner=$(stat -c %u "$f")
    mode=$(stat -c %a "$f")
    if [[ "$owner" == 0 && $((8#$mode & 8#022)) == 0 ]]; then
        return 0
    fi
    local t
    t=$(mktemp /tmp/exim-ref-conf.XXXXXX)
    cat "$f" >"$t"
    chmod 0644 "$t"
    chown 0:0 "$t"
    TMPCONFS+=("$t")
    FIXED=$t
}

case "${1:-}" in
    setup) setup; log "ready: $EXIM" ;;
    path) echo "$EXIM" ;;
    exim) shift; run_exim "$@" ;;
    *) echo "usage: $0 setup | exim ARGS... | path" >&2; exit 2 ;;
esac
