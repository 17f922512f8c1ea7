#!/bin/sh
# check on the console and through /adm/ctl (runtime §7.1): a clean
# volume is ok; one damaged through its image while the server was
# stopped is reported broken, and the server keeps serving.
. "${0%/*}/lib.sh"
scratch
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 64 || { notok "gefs starts"; done_testing; exit 1; }
N="$NINEP -u glenda"

# a file of one block with a pattern nothing else on the image has
python3 -c 'import sys; sys.stdout.write(("gefs-check-victim-%d " % 7) * 820)' | head -c 16384 >"$T/victim"
$N write victim <"$T/victim"
echo "untouched" | $N write other
con check
is "$rc $out" "0 ok" "check: a clean volume is ok"
printf 'check\n' | $NINEP -u glenda -A adm write ctl
is "$?" 0 "ctl check of a clean volume succeeds"
stopgefs
is "$?" 0 "gefs exits 0"

# damage the file's data block in the image
python3 - "$T/img" <<'EOF'
import sys
f = open(sys.argv[1], 'r+b')
d = f.read()
pat = b"gefs-check-victim-7 " * 4
i = d.find(pat)
if i < 0 or d.find(pat, i + 16384) >= 0:
	sys.exit("the victim block is not found exactly once")
f.seek(i + 100)
f.write(b"DAMAGE")
f.close()
EOF
is "$?" 0 "the victim block is damaged in the image"

startgefs -f "$T/img" -m 64 || notok "gefs starts on the damaged volume"
con check
printf '%s\n' "$out" >"$T/check"
is "$rc" 1 "check on the console fails"
check "check names the damaged block" grep -q 'corrupted' "$T/check"
is "$(tail -1 "$T/check" | sed 's/:.*//')" "broken" "its verdict is broken"
printf 'check\n' | $NINEP -u glenda -A adm write ctl >"$T/out" 2>&1
is "$? $(sed 's/: [0-9].*//' "$T/out")" "1 9p: write ctl: check -- fs not ok" "ctl check fails with Echeck"
is "$($N read other)" "untouched" "the server still serves the rest"
$N read victim >/dev/null 2>"$T/err"
check "reading the damaged file fails ($(cat "$T/err"))" grep -q 'corrupted' "$T/err"
con sync
is "$rc $out" "1 sync: file system read only" "damage found makes the file system read-only (runtime §8.2)"
stopgefs
is "$?" 0 "gefs exits 0"
"$GEFS" -c -f "$T/img" >"$T/c" 2>&1
is "$? $(tail -1 "$T/c" | sed 's/:.*//')" "1 broken" "gefs -c agrees"
done_testing
