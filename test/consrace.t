#!/bin/sh
# san: tsan
# Administration while clients work: console clients taking and deleting
# snapshots, syncing and reading df, /adm/ctl forking, /adm/status read,
# retention ticking, all at once with 9P writers; then halt.
. "${0%/*}/lib.sh"
scratch
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 64 || { notok "gefs starts"; done_testing; exit 1; }
N="$NINEP -u glenda"
A="$NINEP -u glenda -A adm"
t0=1700000000
n=8

con debug clock $t0
con set main retain 3@m
holdmount main || notok "main held"

(
	for i in $(seq $n); do
		echo "$i" | $N write "f$((i % 3))" || echo "write $i failed"
	done
) >"$T/w.out" 2>&1 &
w=$!
(
	for i in $(seq $n); do
		"$GEFSCONS" snap main "s$i" && "$GEFSCONS" snap -d "s$i"
	done
) >"$T/a.out" 2>&1 &
a=$!
(
	for i in $(seq $n); do
		"$GEFSCONS" df >/dev/null && "$GEFSCONS" sync
	done
) >"$T/b.out" 2>&1 &
b=$!
(
	for i in $(seq $n); do
		echo "fork main k$i" | $A write ctl && echo "delsnap k$i" | $A write ctl
		$A read status >/dev/null
	done
) >"$T/c.out" 2>&1 &
c=$!
(
	for i in $(seq $n); do
		"$GEFSCONS" debug clock $((t0 + 60*i)) >/dev/null
	done
) >"$T/d.out" 2>&1 &
d=$!
wait $w $a $b $c $d

is "$(cat "$T/w.out")" "" "every 9P write succeeded"
is "$(grep -vc '^labeled: s[0-9]* from main$\|^deleted: s[0-9]*$' "$T/a.out")" 0 "every snapshot taken and deleted"
is "$(grep -c '^labeled' "$T/a.out") $(grep -c '^deleted' "$T/a.out")" "$n $n" "all $n of them"
is "$(grep -vc '^synced$' "$T/b.out")" 0 "every sync succeeded"
is "$(cat "$T/c.out")" "" "every fork and delsnap through ctl, every status read succeeded"
is "$("$GEFSCONS" snap -l | grep -v @)" "snap adm [ mutable ]
snap empty
snap main [ mutable ]" "no label left over"
is "$("$GEFSCONS" snap -l | grep -c 'main@minute')" 3 "retention kept three"
con check
is "$rc $out" "0 ok" "the volume checks clean"
releasemount
con halt
is "$rc $out" "0 gefs: ending..." "halt"
wait $GEFSPID
is "$?" 0 "gefs exits 0"
"$GEFS" -c -f "$T/img" >"$T/check" 2>&1
is "$?" 0 "and the volume checks clean on disk"
done_testing
