#!/bin/sh
# fsx (test/fsx.c) through a FUSE mount: 100 000 operations on one file
# for each of three seeds, side by side on three files, each checked
# against fsx's own copy after every operation.  First, fsx itself: it
# passes on a local file and catches a corrupted copy, naming the seed.
. "${0%/*}/lib.sh"
scratch
needfuse
FSX=$top/$O/test/fsx
if [ ! -x "$FSX" ]; then
	notok "$FSX is built (run make)"
	done_testing
	exit 1
fi
ops=${FSXOPS:-100000}
seeds=${FSXSEEDS:-"1 2 3"}

# ext4 writes a truncated file out at each close: /dev/shm is much faster
local=$T/local
[ -d /dev/shm ] && local=/dev/shm/gefs-fsx.$$ && cleanups="${cleanups:-}rm -f $local; "
"$FSX" -n 20000 -s 7 "$local" >"$T/local.out" 2>&1
is "$?" 0 "fsx: 20000 operations on a local file"
"$FSX" -n 3000 -b 2000 -s 7 "$local" >"$T/broken.out" 2>&1
is "$?" 1 "fsx fails when its copy is corrupted at operation 2000"
check "the failure names the seed and the operation" \
	grep -q '^fsx: seed 7: FAILED at operation [0-9]*: byte at offset' "$T/broken.out"
check "the failure shows the operation log" grep -q '^fsx:   2000 ' "$T/broken.out"

bigvol "$T/img" 1G || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 128 || { notok "gefs starts"; done_testing; exit 1; }
fusemount "$T/m" || { notok "9pfuse mounts"; done_testing; exit 1; }

pids=
for s in $seeds; do
	"$FSX" -n "$ops" -s "$s" -y 5000 "$T/m/fsx.$s" >"$T/fsx.$s" 2>&1 &
	pids="$pids $!"
done
set -- $pids
for s in $seeds; do
	wait "$1"
	rc=$?
	shift
	is "$rc" 0 "fsx seed $s: $ops operations through the mount"
	[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/fsx.$s"
done
check "fsx's files are there" test -s "$T/m/fsx.1"
check "unmount" fuseumount "$T/m"
stopgefs
is "$?" 0 "gefs exits 0"
done_testing
