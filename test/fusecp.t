#!/bin/sh
# Through a FUSE mount: cp -a of a real source tree of thousands of
# files (C and C++ headers, symbolic links left out), then diff -r; a
# tar c | tar x round trip in and out of the mount, by sha256 sums.
. "${0%/*}/lib.sh"
scratch
needfuse

# the tree: what build-essential installs everywhere, as regular files
mkdir "$T/src"
(cd /usr/include && tar cf - linux c++ x86_64-linux-gnu asm-generic rdma sound scsi \
	$(find . -maxdepth 1 -type f -name '*.h')) 2>/dev/null | (cd "$T/src" && tar xf -)
find "$T/src" -type l -exec rm {} +
nfiles=$(find "$T/src" -type f | wc -l)
check "a source tree of thousands of files ($nfiles)" test "$nfiles" -ge 2000

bigvol "$T/img" 1G || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 128 || { notok "gefs starts"; done_testing; exit 1; }
M=$T/m
fusemount "$M" || { notok "9pfuse mounts"; done_testing; exit 1; }

cp -a "$T/src" "$M/cp" 2>"$T/cp.err"
is "$?" 0 "cp -a into the mount"
[ -s "$T/cp.err" ] && sed 's/^/#   /' "$T/cp.err" | head -20
diff -r "$T/src" "$M/cp" >"$T/diff" 2>&1
is "$?" 0 "diff -r finds no difference"
[ -s "$T/diff" ] && head -20 "$T/diff" | sed 's/^/#   /'
is "$(find "$M/cp" -type f | wc -l)" "$nfiles" "every file is there"
is "$(cd "$T/src" && find . -type d | sort | md5sum)" "$(cd "$M/cp" && find . -type d | sort | md5sum)" \
	"every directory is there"
is "$(cd "$T/src" && find . -type f -printf '%m %T@ %p\n' | sort | md5sum)" \
	"$(cd "$M/cp" && find . -type f -printf '%m %T@ %p\n' | sort | md5sum)" \
	"cp -a kept modes and modification times"

sums() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
sums "$T/src" >"$T/src.sums"
mkdir "$M/tar" "$T/back"
(cd "$T/src" && tar cf - .) | (cd "$M/tar" && tar xf -)
is "$?" 0 "tar x into the mount"
(cd "$M/tar" && tar cf - .) | (cd "$T/back" && tar xf -)
is "$?" 0 "tar c out of the mount"
sums "$M/tar" >"$T/tar.sums"
sums "$T/back" >"$T/back.sums"
check "sha256 sums in the mount are the source's" cmp -s "$T/src.sums" "$T/tar.sums"
check "sha256 sums after the round trip are the source's" cmp -s "$T/src.sums" "$T/back.sums"

rm -rf "$M/cp"
is "$?" 0 "rm -rf of the copy"
is "$(ls "$M")" "tar" "it is gone"
check "unmount" fuseumount "$M"
stopgefs
is "$?" 0 "gefs exits 0"
done_testing
