#!/bin/sh
# Reads of many blocks at once (fs.c readdata, blk.c readblks) from a
# cold cache, through 9pfuse and 9p: the right bytes at a file's end in
# the middle of a block, across holes, after truncating and extending,
# at odd offsets and sizes, and after another client's write.
. "${0%/*}/lib.sh"
scratch
needfuse
command -v python3 >/dev/null || { notok "python3 is installed"; done_testing; exit 1; }
bigvol "$T/img" 512M || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 64 || { notok "gefs starts"; done_testing; exit 1; }
M=$T/m
mkdir "$T/ref"
fusemount "$M" || { notok "9pfuse mounts"; done_testing; exit 1; }

# the same writes and truncations on the mount and on a local copy
python3 - "$M" "$T/ref" <<'PY' || notok "files made"
import os, sys, random
random.seed(7)
def both(name, ops):
    for d in sys.argv[1:]:
        fd = os.open(os.path.join(d, name), os.O_RDWR | os.O_CREAT, 0o644)
        for op in ops:
            if op[0] == "w":
                os.pwrite(fd, op[2], op[1])
            else:
                os.ftruncate(fd, op[1])
        os.close(fd)
r = lambda n: random.randbytes(n)
both("end", [("w", 0, r(5*1024*1024 + 1234))])
both("holes", [("w", 0, r(100000)), ("w", 3*1024*1024, r(200000)), ("w", 9*1024*1024 + 5, r(7))])
both("trunc", [("w", 0, r(6*1024*1024)), ("t", 2*1024*1024 + 100), ("t", 4*1024*1024),
               ("w", 3*1024*1024, r(10))])
both("small", [("w", 0, r(20000))])
PY
fuseumount "$M"
# a small cache: 64 buffers a run at most, and the blocks must come from disk
stopgefs
startgefs -f "$T/img" -m 16 || { notok "gefs restarts"; done_testing; exit 1; }
fusemount "$M" || { notok "9pfuse mounts again"; done_testing; exit 1; }
for f in end holes trunc small; do
	check "$f: read in whole through 9pfuse, the same bytes" cmp "$M/$f" "$T/ref/$f"
	"$NINEP" -u glenda read "/$f" | cmp - "$T/ref/$f"
	is "$?" 0 "$f: and through 9p (msize 1 MiB)"
	"$NINEP" -u glenda -m 8216 read "/$f" | cmp - "$T/ref/$f"
	is "$?" 0 "$f: and at msize 8 KiB"
done
# odd offsets and sizes, and reads running past the end
(python3 - "$M" "$T/ref" <<'PY'
import os, sys, random
random.seed(11)
bad = []
for name in ["end", "holes", "trunc", "small"]:
    a = os.open(os.path.join(sys.argv[1], name), os.O_RDONLY)
    b = os.open(os.path.join(sys.argv[2], name), os.O_RDONLY)
    n = os.fstat(b).st_size
    for i in range(200):
        off = random.randrange(0, n + 20000)
        sz = random.choice([1, 4095, 16384, 16385, 100000, 1 << 20, 3 << 20])
        if os.pread(a, sz, off) != os.pread(b, sz, off):
            bad.append((name, off, sz))
    os.close(a)
    os.close(b)
print("ok" if not bad else "bad %s" % bad[:5])
PY
) >"$T/odd.out" 2>&1
is "$(cat "$T/odd.out")" ok "800 reads at random offsets and sizes, past the ends too: the same bytes"

# another client's write shows at the next open, whatever was read ahead
W=$T/w
fusemount "$W" || notok "a second mount"
python3 - "$M/end" "$W/end" "$T/ref/end" <<'PY' >"$T/conc.out" 2>&1
import os, sys
r, w, ref = sys.argv[1:]
fd = os.open(r, os.O_RDONLY)
first = os.pread(fd, 1 << 20, 0)
os.close(fd)
new = bytes([0x5a]) * 70000
for p in (w, ref):
    fd = os.open(p, os.O_WRONLY)
    os.pwrite(fd, new, 2*1024*1024 + 3000)
    os.close(fd)
fd = os.open(r, os.O_RDONLY)
got = os.pread(fd, 8 << 20, 0)
os.close(fd)
want = open(ref, "rb").read()
print("ok" if got == want and first == want[:1 << 20] else "differs")
PY
is "$(cat "$T/conc.out")" ok "a write through another mount is read back after reading ahead"
fuseumount "$W"
fuseumount "$M"
stopgefs
is "$?" 0 "gefs exits 0"
done_testing
