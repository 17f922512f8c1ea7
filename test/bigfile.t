#!/bin/sh
# 9p end to end: write 100 MB, read it back, the same bytes; again after
# a restart, and at msize 8 KiB; remove and write it twice more, which
# fits only if removal frees the blocks; fill the volume, remove, write.
. "${0%/*}/lib.sh"
scratch
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 64 || { notok "gefs starts"; done_testing; exit 1; }
head -c 100000000 /dev/urandom >"$T/big"
want=$(sha256sum <"$T/big")
"$NINEP" -u glenda write /big <"$T/big"
is "$?" 0 "9p write of 100 MB"
is "$("$NINEP" -u glenda stat /big | sed -n 's/^length //p')" 100000000 "length 100000000"
is "$("$NINEP" -u glenda read /big | sha256sum)" "$want" "9p read: the same bytes"
stopgefs
is "$?" 0 "gefs exits 0"
startgefs -f "$T/img" -m 64 || notok "gefs restarts"
is "$("$NINEP" -u glenda read /big | sha256sum)" "$want" "the same bytes after a restart"
"$NINEP" -u glenda -m 8216 read /big | cmp - "$T/big"
is "$?" 0 "and read at msize 8 KiB"
# 3 x 100 MB do not fit in 256 MiB: the space of removed files must come back
for i in 1 2; do
	"$NINEP" -u glenda rm /big
	is "$?" 0 "remove it ($i)"
	"$NINEP" -u glenda sync && "$NINEP" -u glenda sync
	"$NINEP" -u glenda write /big <"$T/big"
	is "$?" 0 "write it again: the space came back ($i)"
done
is "$("$NINEP" -u glenda read /big | sha256sum)" "$want" "the same bytes"

# a full volume: writing fails, removing still works and makes room
"$NINEP" -u glenda rm /big
head -c 300000000 /dev/zero | "$NINEP" -u glenda write /full 2>"$T/err"
is "$? $(cat "$T/err")" "1 9p: write /full: file system full" "300 MB do not fit: file system full"
"$NINEP" -u glenda sync
is "$?" 0 "a full volume still syncs"
"$NINEP" -u glenda rm /full
is "$?" 0 "and removes"
# freed blocks are reusable once commits have made their freeing durable
"$NINEP" -u glenda -A adm read /status | sed 's/^/# before: /'
"$NINEP" -u glenda sync && "$NINEP" -u glenda sync && "$NINEP" -u glenda sync
"$NINEP" -u glenda -A adm read /status | sed -n 's/^usage/# after three syncs: usage/p'
"$NINEP" -u glenda write /big <"$T/big"
is "$?" 0 "which makes room again"
is "$("$NINEP" -u glenda read /big | sha256sum)" "$want" "the same bytes, written after the volume was full"
stopgefs
is "$?" 0 "gefs exits 0"
done_testing
