#!/bin/sh
# core/log/testdata/exim_capture/run.sh: run capture.py against the reference Exim 4.96.
#
#   run.sh OUTPUT.txt 'log_selector' ['extra main options, \n between']   (ONLY=... for a subset)
#
# Root only (Exim runs as root with -C; namespaces). The sessions run in a private network
# namespace (loopback only: 127.0.0.2-6 act as separate clients) and mount namespace where
# /etc/hosts and /etc/resolv.conf are replaced, and unbound answers on 127.0.0.53, so host
# name lookups are the test's own. Nothing outside the scratch directory is changed.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(realpath -m "$1"); SEL=$2; EXTRA=${3:-}
WORK=$(mktemp -d /tmp/exim-capture.XXXXXX)
mkdir "$WORK/run"
chmod 755 "$WORK" "$WORK/run"
trap 'rm -rf "$WORK"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/run/key.pem" -out "$WORK/run/cert.pem" \
  -days 30 -subj /CN=ref.example 2>/dev/null
chmod 644 "$WORK/run/key.pem"
printf '127.0.0.1 localhost\n127.0.0.6 fake.example\n' > "$WORK/hosts"
printf 'nameserver 127.0.0.53\noptions trust-ad\n' > "$WORK/resolv.conf"
cat > "$WORK/unbound.conf" <<UB
server:
  interface: 127.0.0.53
  port: 53
  username: ""
  chroot: ""
  directory: "$WORK"
  pidfile: ""
  do-not-query-localhost: no
  use-syslog: no
  verbosity: 0
  local-zone: "example." static
  local-data: "client.example. A 127.0.0.3"
UB
unshare -n -m sh -c '
mount --bind "$1/hosts" /etc/hosts
mount --bind "$1/resolv.conf" /etc/resolv.conf
ip link set lo up
unbound -d -c "$1/unbound.conf" 2>/dev/null & UB=$!
sleep 1
python3 "$2/capture.py" "$1/run" "$3" "$4"
kill $UB' sh "$WORK" "$HERE" "$SEL" "$EXTRA" > "$OUT"
