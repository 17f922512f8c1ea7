#!/bin/sh
# Snapshots through FUSE: `snap main before` on the console, change files
# through the mount, mount the snapshot read-only at a second mount point
# and compare: it holds exactly what main held when it was taken.
. "${0%/*}/lib.sh"
scratch
needfuse
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 128 || { notok "gefs starts"; done_testing; exit 1; }
M=$T/main
S=$T/before
fusemount "$M" || { notok "9pfuse mounts main"; done_testing; exit 1; }

mkdir "$M/d"
for i in 1 2 3 4 5; do seq $((i*1000)) >"$M/d/f$i"; done
head -c 3000000 /dev/urandom >"$M/big"
cp -a "$M" "$T/want"
con snap main before
is "$rc $out" "0 labeled: before from main" "snap main before"

# change everything in main: rewrite, append, remove, create, rename
echo changed >"$M/d/f1"
seq 7 >>"$M/d/f2"
rm "$M/d/f3"
echo new >"$M/d/new"
mv "$M/d/f4" "$M/d/four"
head -c 100000 /dev/urandom | dd of="$M/big" bs=4096 seek=100 conv=notrunc 2>/dev/null
check "main has changed" sh -c "! diff -r '$T/want' '$M' >/dev/null"

fusemount "$S" -a before -o ro || { notok "9pfuse mounts the snapshot"; done_testing; exit 1; }
check "the snapshot holds main as it was, file for file" diff -r "$T/want" "$S"
is "$(cat "$S/d/f1" | wc -l)" 1000 "a rewritten file reads as before"
check "a removed file is still in the snapshot" test -f "$S/d/f3"
check "a file created since is not" test ! -e "$S/d/new"
check "the snapshot refuses writes" sh -c "! echo x 2>/dev/null >'$S/d/f1'"
check "main still has its changes" grep -qx changed "$M/d/f1"
check "unmount the snapshot" fuseumount "$S"
check "unmount main" fuseumount "$M"
stopgefs
done_testing
