#!/bin/sh
# core/log/testdata/exim_capture/syslog.sh: what the reference Exim 4.96 sends to syslog, and
# what it does when it cannot open its main log.
#
#   syslog.sh OUTDIR
#
# Root only. In a private mount namespace a tmpfs replaces /dev (null, zero, random,
# urandom, full and tty bound back in) so that /dev/log is syslogd.py's socket; nothing
# outside the namespace sees it. Writes OUTDIR/syslog.out (the datagrams: "<pri>date
# exim[pid]: text"), OUTDIR/syslog-mainlog and -rejectlog (the same lines in the files),
# and OUTDIR/cannot-open.txt (stderr and the panic log when the main log cannot be opened).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
EXIM="$HERE/../../../../scripts/exim-ref.sh"
OUT=$(realpath -m "$1"); mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/exim-syslog.XXXXXX); chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/spool" "$WORK/log" "$WORK/realdev"
chown Debian-exim "$WORK/spool" "$WORK/log"
cat > "$WORK/exim.conf" <<CONF
primary_hostname = ref.example
spool_directory = $WORK/spool
log_file_path = syslog : $WORK/log/%slog
log_selector = +pid +millisec
log_timezone = true
syslog_pid = false
syslog_timestamp = false
syslog_duplication = false
keep_environment =
acl_smtp_rcpt = acl_rcpt
acl_smtp_data = acl_data
begin acl
acl_rcpt:
  accept
acl_data:
  deny message = content refused \${sg{\$h_subject:}{.}{x}}
CONF
chmod 644 "$WORK/exim.conf"
LONG=$(python3 -c 'print("y" * 900)')
rm -f "$OUT/syslog.out"
unshare -m sh -c '
mount --bind /dev "$1/realdev"
mount -t tmpfs none /dev
for n in null zero urandom random full tty; do touch /dev/$n; mount --bind "$1/realdev/$n" /dev/$n; done
python3 "$2/syslogd.py" "$3/syslog.out" & P=$!
while [ ! -e "$3/syslog.out.ready" ]; do sleep 0.1; done
printf "From: a@b\nSubject: s\n\nbody\n" | "$4" exim -C "$1/exim.conf" -odq -f s@x.example r@local.example
printf "HELO x\r\nMAIL FROM:<bad@x>\r\nRCPT TO:<r@local.example>\r\nDATA\r\nSubject: rej %s\r\nX-Two: a\r\n\r\nbody\r\n.\r\nQUIT\r\n" "$5" |
  "$4" exim -C "$1/exim.conf" -bs > /dev/null
sleep 1; kill $P' sh "$WORK" "$HERE" "$OUT" "$EXIM" "$LONG"
rm -f "$OUT/syslog.out.ready"
cp "$WORK/log/mainlog" "$OUT/syslog-mainlog"; cp "$WORK/log/rejectlog" "$OUT/syslog-rejectlog"

# The main log's directory is root's and not writable: Exim (as its user) cannot create it.
rm -rf "$WORK/log"; mkdir -p "$WORK/log"; chmod 755 "$WORK/log"
touch "$WORK/log/paniclog"; chown Debian-exim "$WORK/log/paniclog"
sed -i 's|^log_file_path.*|log_file_path = '"$WORK"'/log/%slog|' "$WORK/exim.conf"
sed -i 's|^log_selector.*|log_selector =|; /^log_timezone/d' "$WORK/exim.conf"
{
  echo "## stderr (exit status in the last line)"
  printf "Subject: s\n\nbody\n" | "$EXIM" exim -C "$WORK/exim.conf" -odq -f s@x.example r@local.example 2>&1 || echo "exit $?"
  echo; echo "## paniclog"; cat "$WORK/log/paniclog"
} > "$OUT/cannot-open.txt"
