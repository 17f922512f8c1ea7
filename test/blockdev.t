#!/bin/sh
# -f names a block device as well as a file: ream, load and check a
# loop device.  Needs root and losetup (the test machine has
# both; without them this test fails rather than skip).
. "${0%/*}/lib.sh"
scratch
# loads serve 9P on an empty standard input (-s), which ends the server
NAMESPACE=$T/ns
export NAMESPACE
truncate -s $((256*1024*1024)) $T/backing
if dev=$(losetup -f --show $T/backing 2>$T/err); then
	ok "a loop device: $dev"
	cleanups="losetup -d $dev"
else
	notok "no loop device: $(cat $T/err)"
	done_testing
	exit 1
fi
check "ream the block device" sh -c "'$GEFS' -m 16 -r glenda -f $dev >/dev/null"
check "the independent reader finds a freshly reamed volume" \
	python3 "$top/test/gefsread.py" check $dev --ream glenda
"$GEFS" -m 16 -s -f $dev </dev/null >$T/out 2>$T/err
check "it loads" grep -q "^load $dev:" $T/err
check "with the device's geometry" grep -q '^	narenas:	8$' $T/err
blockdev --flushbufs $dev 2>/dev/null
check "the backing file holds the same volume" \
	python3 "$top/test/gefsread.py" check $T/backing --ream glenda
done_testing
