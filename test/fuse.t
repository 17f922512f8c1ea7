#!/bin/sh
# san: asan tsan
# 9pfuse: the command line; files, directories and attributes through a
# mount; what 9P2000 cannot express fails with the right errno; a file
# unlinked while open; SIGTERM unmounts cleanly; when the server dies,
# an open file gets EIO and the mount goes away.
. "${0%/*}/lib.sh"
scratch
needfuse

# errno PYTHON-STATEMENT: run it with os, sys imported; prints OK or the errno's name
errno() {
	python3 -c "
import os, sys, errno
try:
	$1
	print('OK')
except OSError as e:
	print(errno.errorcode[e.errno])
" 2>&1
}

# has FILE PATTERN DESCRIPTION: ok if FILE has a line matching PATTERN
has() {
	if grep -q "$2" "$1"; then
		ok "$3"
	else
		notok "$3"
		sed 's/^/#   /' "$1"
	fi
}

unmounted() {
	! ismounted "$1"
}

# usage errors exit 2 without dialling; a bad address or mount point exits 1
"$NINEPFUSE" >/dev/null 2>"$T/err"
is "$?" 2 "no arguments: exit 2"
has "$T/err" '^usage: 9pfuse ' "usage message"
"$NINEPFUSE" -m 10 a b >/dev/null 2>"$T/err"
is "$?" 2 "msize 10: exit 2"
mkdir "$T/m0"
"$NINEPFUSE" "unix!$T/nosuchsocket" "$T/m0" 2>"$T/err"
is "$?" 1 "an address nobody answers: exit 1"
has "$T/err" "nosuchsocket" "it says why"
check "nothing is mounted" unmounted "$T/m0"
"$NINEPFUSE" "unix!$T/nosuchsocket" "$T/nosuchdir" 2>"$T/err"
is "$?" 1 "a missing mount point: exit 1"

mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 128 || { notok "gefs starts"; done_testing; exit 1; }
# the daemon: it returns once mounted
fusemount "$T/md"
is "$?" 0 "9pfuse mounts and exits 0 once mounted"
check "it is a FUSE mount" ismounted "$T/md"
check "it serves" test -d "$T/md/."
check "fusermount3 -u unmounts it" fuseumount "$T/md"
# the rest in the foreground, where sanitizer reports can be seen
M=$T/m
fusemountfg "$M"
is "$?" 0 "9pfuse -f mounts"
"$NINEPFUSE" -u glenda -a nosuchlabel "unix!$NAMESPACE/gefs" "$T/m0" 2>"$T/err"
is "$?" 1 "attaching a label that does not exist: exit 1"
has "$T/err" "attach -- bad specifier" "with the server's reason"

# files and directories
echo hello >"$M/a"
is "$(cat "$M/a")" hello "write, then read"
mkdir "$M/d" && echo x >"$M/d/x"
is "$(ls "$M")" "a
d" "readdir"
is "$(cat "$M/d/x")" x "a file in a directory"
is "$(stat -c %F "$M/d")" directory "a directory is one"
is "$(stat -c %s "$M/a")" 6 "size"
check "same inode each time" test "$(stat -c %i "$M/a")" = "$(ls -i "$M" | awk '$2 == "a" { print $1 }')"
truncate -s 3 "$M/a"
is "$(cat "$M/a")" hel "truncate down"
truncate -s 8 "$M/a"
is "$(od -An -c "$M/a" | tr -s ' ')" " h e l \0 \0 \0 \0 \0" "truncate up reads zeros"
printf 'abc' | dd of="$M/a" bs=1 seek=100000 conv=notrunc 2>/dev/null
is "$(stat -c %s "$M/a")" 100003 "a write past the end"
is "$(dd if="$M/a" bs=1 skip=50000 count=4 2>/dev/null | od -An -tx1 | tr -d ' ')" 00000000 "the hole reads zeros"
echo new >"$M/a"
is "$(cat "$M/a")" new "open with O_TRUNC"
echo more >>"$M/a"
is "$(cat "$M/a")" "new
more" "append"

# attributes: mode, times, owner
chmod 640 "$M/a"
is "$(stat -c %a "$M/a")" 640 "chmod"
chmod 4755 "$M/a"
is "$(stat -c %a "$M/a")" 755 "chmod drops the set-id bits 9P has not"
touch -m -d '2001-02-03 04:05:06 UTC' "$M/a"
is "$(stat -c %Y "$M/a")" 981173106 "mtime"
is "$(stat -c %u "$M/a")" "$(id -u)" "the attach user's files are ours"
is "$(stat -c %G "$M/a")" adm "a group with a local name shows as that group"
check "chown to ourselves changes nothing and succeeds" chown "$(id -u)" "$M/a"
unknown=4000000
while getent passwd $unknown >/dev/null; do unknown=$((unknown+1)); done
is "$(errno "os.chown('$M/a', $unknown, -1)")" EPERM "chown to a numeric id with no name: EPERM"

# rename
mv "$M/a" "$M/b"
check "rename within a directory" test -f "$M/b" -a ! -e "$M/a"
echo one >"$M/c"
echo two >"$M/e"
mv "$M/c" "$M/e"
is "$(cat "$M/e"):$(ls "$M" | tr '\n' ' ')" "one:b d e " "rename over an existing file"
is "$(errno "os.rename('$M/b', '$M/d/b')")" EXDEV "rename to another directory: EXDEV"
mv "$M/b" "$M/d/b"
check "mv to another directory copies" test -f "$M/d/b" -a ! -e "$M/b"
mkdir "$M/d2"
is "$(errno "os.rename('$M/e', '$M/d2')")" EISDIR "rename a file over a directory: EISDIR"
is "$(errno "os.rmdir('$M/d')")" ENOTEMPTY "rmdir of a full directory: ENOTEMPTY"
rmdir "$M/d2"
check "rmdir" test ! -e "$M/d2"
is "$(errno "os.unlink('$M/nosuch')")" ENOENT "unlink of nothing: ENOENT"
is "$(errno "os.open('$M/e', os.O_CREAT|os.O_EXCL|os.O_WRONLY)")" EEXIST "O_EXCL on an existing file: EEXIST"

# what 9P2000 cannot express
is "$(errno "os.symlink('e', '$M/l')")" EPERM "symlink: EPERM"
is "$(errno "os.link('$M/e', '$M/h')")" EPERM "hard link: EPERM"
is "$(errno "os.mkfifo('$M/f')")" EPERM "fifo: EPERM"
is "$(errno "os.mknod('$M/n', 0o600 | 0o20000, os.makedev(1, 3))")" EPERM "device node: EPERM"
is "$(errno "os.mknod('$M/r', 0o600 | 0o100000)")" OK "mknod of a plain file works"
is "$(errno "os.setxattr('$M/e', 'user.x', b'1')")" ENOTSUP "setxattr: ENOTSUP"
is "$(errno "os.getxattr('$M/e', 'user.x')")" ENOTSUP "getxattr: ENOTSUP"
is "$(errno "os.listxattr('$M/e')")" ENOTSUP "listxattr: ENOTSUP"
is "$(errno "os.readlink('$M/e')")" EINVAL "readlink of a file: EINVAL"
long=$(printf "%0244d" 0)
is "$(errno "open('$M/$long', 'w').close()")" OK "a name of 244 bytes"
is "$(errno "open('$M/${long}x', 'w').close()")" ENAMETOOLONG "245 bytes: ENAMETOOLONG"
rm -f "$M/$long"

# a file unlinked while open keeps working until it is closed
is "$(errno "
	f = os.open('$M/tmp', os.O_CREAT|os.O_RDWR, 0o644)
	os.write(f, b'before ')
	os.unlink('$M/tmp')
	assert not os.path.exists('$M/tmp'), 'still there'
	os.write(f, b'after')
	os.lseek(f, 0, 0)
	assert os.read(f, 100) == b'before after', 'lost data'
	assert os.fstat(f).st_nlink == 0, 'links'
	os.close(f)")" OK "unlink while open: it reads and writes on"
is "$(ls -a "$M" | grep -c '^\.9pfuse')" 0 "and is gone at the last close"

# large I/O uses the negotiated msize
head -c 8000000 /dev/urandom >"$T/big"
cp "$T/big" "$M/big"
is "$(sha256sum <"$M/big")" "$(sha256sum <"$T/big")" "8 MB through the mount"
is "$(stat -c %o "$M/big")" 1048576 "st_blksize is the 1 MiB I/O size"
grep " $M " /proc/self/mounts | grep -q "max_read=1048576"
is "$?" 0 "mounted with max_read=1048576"
is "$(errno "f = os.open('$M/big', os.O_RDWR); os.fsync(f); os.close(f)")" OK "fsync (a null wstat)"
is "$(stat -f -c '%S %l' "$M")" "16384 244" "statfs: block size and name length"

# many entries in one directory
mkdir "$M/many"
i=0
while [ $i -lt 400 ]; do : >"$M/many/file$i"; i=$((i+1)); done
is "$(ls "$M/many" | wc -l)" 400 "400 entries in a directory"
is "$(ls "$M/many" | sort | uniq | wc -l)" 400 "each once"

# a small msize: more, smaller requests
fusemount "$T/small" -m 8192
cp "$T/big" "$T/small/big8k"
is "$(sha256sum <"$T/small/big8k")" "$(sha256sum <"$T/big")" "-m 8192: 8 MB through the mount"
is "$(stat -c %o "$T/small/big8k")" 4096 "-m 8192: st_blksize 4096"
check "unmount the -m 8192 mount" fuseumount "$T/small"

# FUSE options pass through: a read-only mount of the same tree
fusemount "$T/ro" -o ro
is "$(cat "$T/ro/e")" one "-o ro: reads"
is "$(errno "open('$T/ro/e', 'w')")" EROFS "-o ro: no writes"
check "unmount the read-only mount" fuseumount "$T/ro"

# SIGTERM: a clean unmount, exit 0
kill -TERM $FUSEPID
wait $FUSEPID
is "$?" 0 "SIGTERM: exit 0"
check "and the mount is gone" unmounted "$M"
check "no complaints" test ! -s "$T/9pfuse.fg.log"
[ -s "$T/9pfuse.fg.log" ] && sed 's/^/#   /' "$T/9pfuse.fg.log" | head -40

# the server goes away: EIO for an open file, then the mount goes
fusemountfg "$T/m2" || notok "9pfuse -f mounts again"
(
	exec 3<"$T/m2/e"
	touch "$T/held"
	until [ -e "$T/go" ]; do sleep 0.05; done
	cat <&3 >/dev/null 2>"$T/holder.err"
	echo $? >"$T/holder.rc"
) &
hpid=$!
i=0
until [ -e "$T/held" ] || [ $i -gt 600 ]; do i=$((i+1)); sleep 0.05; done
kill -KILL $GEFSPID
wait $GEFSPID 2>/dev/null
touch "$T/go"
wait $hpid
is "$(cat "$T/holder.rc")" 1 "reading an open file after the server died fails"
has "$T/holder.err" "Input/output error" "with EIO"
# a watchdog: a hang here is the failure this tests for
( sleep 30; kill -KILL $FUSEPID 2>/dev/null ) &
dog=$!
wait $FUSEPID
is "$?" 1 "9pfuse exits 1 when the server goes away"
kill $dog 2>/dev/null
check "its mount is gone" unmounted "$T/m2"
has "$T/9pfuse.fg.log" "server hung up: unmounting" "it said why"
done_testing
