#!/bin/sh
# san: asan
# Two clients, two FUSE mounts of one server, with the kernel's caches
# off (attr_timeout=0, entry_timeout=0): each sees what the other wrote
# once it is closed, created, renamed or removed; both writing at once
# into the same directory.  (fusecache.t: what the default caching shows.)
. "${0%/*}/lib.sh"
scratch
needfuse
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 128 || { notok "gefs starts"; done_testing; exit 1; }
A=$T/a
B=$T/b
fusemount "$A" -o attr_timeout=0,entry_timeout=0 || { notok "9pfuse mounts a"; done_testing; exit 1; }
fusemount "$B" -o entry_timeout=0,attr_timeout=0 || { notok "9pfuse mounts b"; done_testing; exit 1; }

echo "from a" >"$A/f"
is "$(cat "$B/f")" "from a" "b reads what a wrote"
cat "$B/f" >/dev/null
echo "more from a, which is longer" >"$A/f"
is "$(cat "$B/f")" "more from a, which is longer" "b reads a's rewrite (cached before)"
echo "from b" >>"$B/f"
is "$(tail -1 "$A/f")" "from b" "a reads what b appended"
echo short >"$A/f"
is "$(cat "$B/f")" short "b sees the file shrink"
is "$(stat -c %s "$B/f")" 6 "and its new size"
mkdir "$A/d"
for i in 1 2 3; do echo $i >"$A/d/$i"; done
is "$(ls "$B/d" | tr '\n' ' ')" "1 2 3 " "b lists what a created"
mv "$A/d/1" "$A/d/one"
is "$(cat "$B/d/one" 2>&1):$(ls "$B/d" | tr '\n' ' ')" "1:2 3 one " "b sees a's rename"
rm "$A/d/2"
check "b sees a's removal" test ! -e "$B/d/2"
chmod 600 "$B/d/3"
is "$(stat -c %a "$A/d/3")" 600 "a sees b's chmod"

# both at once: 50 files each, then each checks the other's
( for i in $(seq 50); do seq $i >"$A/d/a$i"; done ) &
pa=$!
( for i in $(seq 50); do seq $((i*2)) >"$B/d/b$i"; done ) &
pb=$!
wait $pa
wait $pb
bad=0
for i in $(seq 50); do
	[ "$(seq $i)" = "$(cat "$B/d/a$i")" ] || bad=$((bad+1))
	[ "$(seq $((i*2)))" = "$(cat "$A/d/b$i")" ] || bad=$((bad+1))
done
is "$bad" 0 "100 files written at once by two clients, each read by the other"
is "$(ls "$A/d" | wc -l)" "$(ls "$B/d" | wc -l)" "both list the same directory alike"

# a file open in one mount, written by the other
exec 3<"$B/f"
echo "written while b holds it open" >"$A/f"
is "$(cat <&3)" "written while b holds it open" "an open file reads the other client's write"
exec 3<&-
check "unmount a" fuseumount "$A"
check "unmount b" fuseumount "$B"
stopgefs
is "$?" 0 "gefs exits 0"
done_testing
