#!/usr/bin/env bash
# scripts/run.sh: what `make run` starts, from the built tree.
#
# INTERFACE.md: the daemon in the foreground with the default configuration
# (conf/tern.conf), SMTP on 127.0.0.1:2525, spool and logs under ./var, the
# log also on stderr. Ctrl-C (SIGINT) or SIGTERM stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
var="$PWD/var"
mkdir -p "$var/spool" "$var/log" "$var/mail"
# Started as root, deliveries write the Maildirs as nobody (conf/tern.conf's transport user).
[ "$(id -u)" -ne 0 ] || chown nobody "$var/mail"
tern=build/bin/tern
"$tern" -C conf/tern.conf -D VAR="$var" -bV | head -3
echo "make run: SMTP on 127.0.0.1:2525; spool $var/spool; mail $var/mail; logs $var/log (Ctrl-C stops)" >&2
exec "$tern" -C conf/tern.conf -D VAR="$var" -bdf
