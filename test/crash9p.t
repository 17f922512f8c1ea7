#!/bin/sh
# test/crash9p.t: crash safety and faults through the server and 9P
# (format §9.5, runtime §8.2-8.3, §8.7):
#   - kill -9 loop: twenty rounds of writing through 9p, syncing some of
#     it, killing the server in the middle of more writes, gefs -c, and
#     every synced file read back exactly after the restart;
#   - a write error injected by the disk shim: the server goes read-only
#     with a clear message on stderr, in df and in /adm/status, commits
#     nothing more, and after a restart nothing synced is lost;
#   - a damaged data block: reading it fails naming the file and offset;
#   - a full volume: snapshot deletion makes room, the reserve switch.
. "${0%/*}/lib.sh"
scratch
N="$NINEP -u glenda"
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }

# synced files: $T/synced/NAME holds what /NAME must read back
mkdir "$T/synced" "$T/src"
verify() {
	bad=0
	for f in "$T"/synced/*; do
		[ -e "$f" ] || continue
		n=${f##*/}
		if ! $N read "$n" 2>"$T/rerr" | cmp -s - "$f"; then
			diag "$1: $n differs from what was synced: $(cat "$T/rerr")"
			bad=1
		fi
	done
	return $bad
}

rounds=20
lost=0
broken=0
for r in $(seq 1 $rounds); do
	startgefs -f "$T/img" -m 64 || { notok "round $r: gefs starts"; break; }
	[ $r -gt 1 ] && { verify "round $r" || lost=1; }
	# new files and an overwrite, then a sync: these must survive
	for i in 1 2 3; do
		head -c $((r * 5000 + i * 3001)) /dev/urandom >"$T/src/f$r.$i"
		$N write "f$r.$i" <"$T/src/f$r.$i"
	done
	if [ $r -gt 1 ]; then
		head -c 40000 /dev/urandom >"$T/src/f1.1"
		$N write f1.1 <"$T/src/f1.1"
	fi
	$N sync || notok "round $r: sync"
	for i in 1 2 3; do cp "$T/src/f$r.$i" "$T/synced/"; done
	[ $r -gt 1 ] && cp "$T/src/f1.1" "$T/synced/"
	# more writes, killed in the middle
	( i=0; while :; do
		i=$((i+1))
		head -c 70000 /dev/urandom | $N write "u$r.$i" 2>/dev/null
		head -c 20000 /dev/urandom | $N write "f1.2" 2>/dev/null
	done ) &
	wpid=$!
	sleep 0.$((r % 7 + 1))
	kill -9 $GEFSPID
	wait $GEFSPID 2>/dev/null
	kill $wpid 2>/dev/null
	wait $wpid 2>/dev/null
	"$GEFS" -c -m 64 -f "$T/img" >"$T/check" 2>&1
	c=$?
	if [ $c -ne 0 ] || [ "$(tail -n 1 "$T/check")" != ok ]; then
		diag "round $r: gefs -c exits $c:"
		sed 's/^/#   /' "$T/check" | tail -5
		broken=1
	fi
	# f1.2 was being overwritten: it is no longer what was synced
	rm -f "$T/synced/f1.2"
done
is "$broken" 0 "kill -9 loop: after each of $rounds kills gefs -c passes"
startgefs -f "$T/img" -m 64 || notok "gefs starts after the loop"
verify "after the loop" || lost=1
is "$lost" 0 "kill -9 loop: every synced file reads back exactly after every restart"
stopgefs

# a write error: read-only, said on stderr, in df and in status
: >"$T/gefs.log"
GEFS_SHIM=fail:400:eio startgefs -f "$T/img" -m 64 || notok "gefs starts with the shim"
failed=0
for i in $(seq 1 60); do
	head -c 100000 /dev/urandom >"$T/src/e$i"
	if ! $N write "e$i" <"$T/src/e$i" 2>"$T/werr" || ! $N sync 2>"$T/werr"; then
		failed=1
		break
	fi
	cp "$T/src/e$i" "$T/synced/"
done
is "$failed" 1 "the injected write error surfaces as a failed write or sync ($(cat "$T/werr"))"
check "stderr says what failed" grep -q 'i/o error: write 0x[0-9a-f]*: Input/output error' "$T/gefs.log"
check "stderr says the file system is read only from now on" grep -q 'file system read only from now on' "$T/gefs.log"
con df
check "df says the file system is read only, and why" sh -c "printf '%s\n' \"\$1\" | grep -q '^file system read only: .*i/o error'" - "$out"
$NINEP -u glenda -A adm read status >"$T/status"
check "/adm/status says so too" grep -q '^readonly .*i/o error' "$T/status"
echo more | $N write after 2>"$T/werr"
check "writes are refused: $(cat "$T/werr")" grep -q 'file system read only' "$T/werr"
check "reads still work" verify "read-only"
stopgefs
"$GEFS" -c -m 64 -f "$T/img" >"$T/check" 2>&1
is "$? $(tail -n 1 "$T/check")" "0 ok" "after the write error the volume checks clean"
startgefs -f "$T/img" -m 64 || notok "gefs starts again"
check "nothing synced was lost" verify "after the write error"
echo works | $N write again && $N sync
is "$($N read again)" works "and it takes writes again"

# a damaged data block: the read fails naming the file and offset

python3 -c 'import sys; sys.stdout.write("".join("crash9p-victim-block-%05d " % i for i in range(2000)))' | head -c 32768 >"$T/victim"
$NINEP -u glenda -m 65536 write victim <"$T/victim"
$N sync
stopgefs
python3 - "$T/img" "$T/victim" <<'EOF2'
import sys
f = open(sys.argv[1], 'r+b')
d = f.read()
pat = open(sys.argv[2], 'rb').read()[16384:16384+256]
i = d.find(pat)
if i < 0 or d.find(pat, i+1) >= 0:
	sys.exit("the victim's second block is not on the image exactly once")
f.seek(i + 64)
f.write(b"DAMAGE")
f.close()
EOF2
is "$?" 0 "the victim's second block damaged in the image"
startgefs -f "$T/img" -m 64 || notok "gefs starts on the damaged volume"
$N read victim >/dev/null 2>"$T/rerr"
check "reading the damaged block fails naming file and offset: $(cat "$T/rerr")" grep -q 'corrupted.*: file [0-9a-f]* offset 16384' "$T/rerr"
check "the other files still read exactly" verify "damaged"
stopgefs

# a full volume: a snapshot holds removed files; deleting it makes room;
# the reserve switch lets an administrator write on a full volume
mkvol "$T/img" || notok "ream a fresh volume"
startgefs -f "$T/img" -m 64 || notok "gefs starts on a fresh volume"
head -c 60000000 /dev/zero | $N write /held && $N sync
con snap main keep
is "$rc" 0 "a snapshot holds 60 MB"
$N rm /held && $N sync
head -c 300000000 /dev/zero | $N write /full 2>"$T/err"
is "$? $(cat "$T/err")" "1 9p: write /full: file system full" "300 MB do not fit: file system full"
len=$($N read /full | wc -c)
check "removing a file the snapshot holds made no room: $len bytes fit" test "$len" -lt 230000000
$N sync
con snap -d keep
is "$rc" 0 "the snapshot deleted on a full volume"
$N sync
head -c 30000000 /dev/zero | $N write /more 2>"$T/err"
is "$? $(cat "$T/err")" "0 " "deleting the snapshot made room"
head -c 300000000 /dev/zero | $N write /full2 2>/dev/null
echo small | $N write /small 2>"$T/err"
is "$? $(cat "$T/err")" "1 9p: write /small: file system full" "full again"
con reserve off
echo small | $N write /small 2>"$T/err"
is "$? $(cat "$T/err")" "0 " "with the reserve open the administrator can write"
$N rm /full && $N rm /full2 && $N sync
con reserve on
echo again | $N write /again 2>"$T/err"
is "$? $(cat "$T/err")" "0 " "cleaned up, with the reserve kept again"
stopgefs
"$GEFS" -c -m 64 -f "$T/img" >"$T/check" 2>&1
is "$? $(tail -n 1 "$T/check")" "0 ok" "the volume checks clean"
done_testing
