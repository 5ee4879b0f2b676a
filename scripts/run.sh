#!/usr/bin/env bash
# scripts/run.sh: what `make run` starts, from the built tree.
#
# INTERFACE.md: the daemon in the foreground with the embedded default
# configuration, SMTP on 127.0.0.1:2525, spool, mail and logs under ./var.
# Until the SMTP daemon lands (issue 4) this says so and shows what the
# binary can do today instead of pretending to listen.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/spool var/log var/mail
tern=build/bin/tern
"$tern" -bV
if "$tern" -bdf -oX 127.0.0.1.2525 2>/tmp/tern-run.$$; then
  exit 0
fi
cat /tmp/tern-run.$$ >&2; rm -f /tmp/tern-run.$$
cat >&2 <<'MSG'

make run: the SMTP daemon is not in this build yet. What works today:
  build/bin/tern -be '${lc:HELLO} ${md5:abc}'    expand strings as Exim 4.96 does
  build/bin/tern -C your.conf -bP all            check a configuration, print options
MSG
exit 1
