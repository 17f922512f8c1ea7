#!/bin/sh
# What was written through a FUSE mount survives: unmount, stop the
# server, restart it, remount, and every file is there, identical.  And
# what fsync(2) returned for survives the server being killed.
. "${0%/*}/lib.sh"
scratch
needfuse
bigvol "$T/img" 1G || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 128 || { notok "gefs starts"; done_testing; exit 1; }
M=$T/m
fusemount "$M" || { notok "9pfuse mounts"; done_testing; exit 1; }

sums() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum;
		find . -printf '%y %m %s %T@ %p\n' | sort)
}
cp -r /usr/include/linux "$M/tree"
head -c 20000000 /dev/urandom >"$M/big"
printf 'abc' | dd of="$M/sparse" bs=1 seek=5000000 2>/dev/null
mkdir -p "$M/a/b/c" && echo deep >"$M/a/b/c/f"
chmod 600 "$M/a/b/c/f"
touch -m -d '2001-02-03 04:05:06 UTC' "$M/big"
echo old >"$M/gone" && rm "$M/gone"
echo before >"$M/renamed" && mv "$M/renamed" "$M/moved"
sums "$M" >"$T/before"
(cd "$M" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$T/before.files"
check "unmount" fuseumount "$M"
stopgefs
is "$?" 0 "gefs exits 0 on SIGTERM"

startgefs -f "$T/img" -m 128 || { notok "gefs starts again"; done_testing; exit 1; }
fusemount "$M" || { notok "9pfuse mounts again"; done_testing; exit 1; }
sums "$M" >"$T/after"
check "after a restart every file is there, identical" cmp -s "$T/before" "$T/after"
cmp -s "$T/before" "$T/after" || diff "$T/before" "$T/after" | head -20 | sed 's/^/#   /'

# fsync is a sync: it survives SIGKILL
head -c 3000000 /dev/urandom >"$T/synced"
python3 -c "
import os, sys
f = os.open('$M/synced', os.O_CREAT|os.O_WRONLY|os.O_TRUNC, 0o644)
data = open('$T/synced', 'rb').read()
while data:
	data = data[os.write(f, data):]
os.fsync(f)
os.close(f)"
is "$?" 0 "write and fsync 3 MB"
kill -KILL $GEFSPID
wait $GEFSPID 2>/dev/null
i=0
while ismounted "$M" && [ $i -lt 1200 ]; do i=$((i+1)); sleep 0.05; done
ismounted "$M"
is "$?" 1 "the mount goes with the server"
startgefs -f "$T/img" -m 128 || { notok "gefs starts after SIGKILL"; done_testing; exit 1; }
fusemount "$M" || { notok "9pfuse mounts after SIGKILL"; done_testing; exit 1; }
check "the fsynced file survived SIGKILL" cmp -s "$T/synced" "$M/synced"
check "and so did the rest" sh -c "cd '$M' && find . -path ./synced -prune -o -type f -print0 | sort -z | xargs -0 sha256sum | cmp -s - '$T/before.files'" 
check "unmount" fuseumount "$M"
stopgefs
is "$?" 0 "gefs exits 0"
done_testing
