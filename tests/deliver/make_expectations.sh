#!/bin/bash
# tests/deliver/make_expectations.sh: what the reference Exim 4.96 does with
# deliver.conf.in, aliases, message.smtp and addresses.txt, written to exim/ for
# run_deliver_tests.py to compare tern with. Run as root from the repository:
#   tests/deliver/make_expectations.sh
# exim/ gets: the message Exim spooled (<id>-H, <id>-D: tern delivers the same files),
# the mailboxes after both attempts, the main log of each attempt and the -bp between
# them (DIR for the scratch directory, no time stamps), -bt.txt and -bv.txt.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
EXIM="$HERE/../../scripts/exim-ref.sh"
if [ ! -x "$("$EXIM" path 2>/dev/null)" ]; then EXIM=/work/main/scripts/exim-ref.sh; fi
OUT="$HERE/exim"
D="$(mktemp -d /tmp/tern-deliver-ref.XXXXXX)"
trap 'rm -rf "$D"' EXIT
chmod 755 "$D"
mkdir -p "$D/spool" "$D/log" "$D/mail" "$D/mbox"
chmod 1777 "$D/mail" "$D/mbox"
chown Debian-exim "$D/spool" "$D/log"
# Bounces go to a sink (the reference Exim is not installed where it would re-exec itself);
# tern's bounces are a later slice, and both then count a failed address as done.
printf '#!/bin/sh\ncat > /dev/null\n' > "$D/sink"; chmod 755 "$D/sink"
{ echo "exim_path = $D/sink"; sed "s#DIR#$D#g" "$HERE/deliver.conf.in"; } > "$D/conf"
cp "$HERE/aliases" "$D/aliases"
rm -rf "$OUT"; mkdir -p "$OUT/mail" "$OUT/mbox"
norm() { { grep -v "purging the environment\|Suggested action\|re-exec of exim\|Process failed" | cut -c21- | sed "s#$D#DIR#g"; } || true; }

sed 's/$/\r/' "$HERE/message.smtp" | "$EXIM" exim -C "$D/conf" -odq -bs > /dev/null
id=$(ls "$D/spool/input" | sed -n 's/-H$//p')
cp "$D/spool/input/$id-H" "$D/spool/input/$id-D" "$OUT/"
echo "$id" > "$OUT/id"
: > "$D/log/mainlog"

touch "$D/full"   # bob's and dave's mailboxes are over quota: deferred
"$EXIM" exim -C "$D/conf" -M "$id"
norm < "$D/log/mainlog" > "$OUT/attempt1.log"
"$EXIM" exim -C "$D/conf" -bp | sed 's/^ *[0-9]*[mhd] /AGE /' > "$OUT/bp.txt"
: > "$D/log/mainlog"
rm "$D/full"
"$EXIM" exim -C "$D/conf" -qf
norm < "$D/log/mainlog" | grep -v "queue run" > "$OUT/attempt2.log" || true

for u in alice carol; do cp "$D"/mail/$u/new/* "$OUT/mail/$u"; done
for u in bob dave; do cp "$D/mbox/$u" "$OUT/mbox/$u"; done

: > "$OUT/-bt.txt"; : > "$OUT/-bv.txt"
while read -r a; do
  for m in -bt -bv; do
    set +e; out=$("$EXIM" exim -C "$D/conf" $m "$a" 2>&1); rc=$?; set -e
    printf '%s %s\n%s\nrc=%d\n' "$m" "$a" "$out" "$rc" | sed "s#$D#DIR#g" >> "$OUT/$m.txt"
  done
done < "$HERE/addresses.txt"
echo "expectations written to $OUT"
