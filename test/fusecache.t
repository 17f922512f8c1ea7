#!/bin/sh
# san: asan
# 9pfuse's caching (man/9pfuse.4, CACHING) against changes made by
# another 9P client: data at the next open, attributes and names after
# their timeouts, at once with the timeouts 0; entries listed by
# readdirplus (nodes without a fid yet) used, renamed, replaced elsewhere.
. "${0%/*}/lib.sh"
scratch
needfuse
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 128 || { notok "gefs starts"; done_testing; exit 1; }
p9() { "$NINEP" -a "${GEFSNAME:-gefs}" -u glenda "$@"; }

# the options
"$NINEPFUSE" -o attr_timeout=x "unix!$NAMESPACE/gefs" "$T" 2>"$T/err"
is "$?" 2 "a bad attr_timeout: exit status 2"
check "and says so" grep -q "bad timeout 'x'" "$T/err"
"$NINEPFUSE" -o ro,entry_timeout=-1 "unix!$NAMESPACE/gefs" "$T" 2>"$T/err"
is "$?" 2 "a negative entry_timeout: exit status 2"

C=$T/c		# the default: a second
S=$T/s		# half a second, for the timeouts to pass
Z=$T/z		# no caching
R=$T/r		# read-only, with a timeout among libfuse's options
fusemount "$C" || { notok "9pfuse mounts"; done_testing; exit 1; }
fusemount "$S" -o attr_timeout=0.5,entry_timeout=0.5 || notok "mount with timeouts"
fusemount "$Z" -o attr_timeout=0,entry_timeout=0 || notok "mount without caching"
fusemount "$R" -o ro,attr_timeout=2 || notok "mount ro with a timeout"
if (echo x >"$R/ro") 2>/dev/null; then
	notok "libfuse's own options still apply (ro)"
else
	ok "libfuse's own options still apply (ro)"
fi

# data: a change made elsewhere shows at the next open
echo one >"$C/f"
is "$(cat "$C/f")" one "read back"
is "$(cat "$C/f")" one "read again (cached data kept)"
printf 'two, and longer\n' | p9 write /f
is "$(cat "$C/f")" "two, and longer" "another client's rewrite is read at the next open"
is "$(stat -c %s "$C/f")" 16 "with its new size"
printf '3\n' | p9 write /f
is "$(cat "$C/f")" 3 "and a shorter one"
printf 'four\n' | p9 write /f
is "$(cat "$Z/f")" four "uncached mount: read at once"
echo "from the mount" >"$C/f"
is "$(p9 read /f)" "from the mount" "a write through the mount is at the server at once"
is "$(cat "$C/f")" "from the mount" "and read back through it"

# attributes: after the timeout, or at once without caching
is "$(stat -c %a "$S/f"):$(stat -c %a "$Z/f")" "644:644" "mode as created"
p9 chmod 600 /f
is "$(stat -c %a "$Z/f")" 600 "uncached mount: another client's chmod at once"
sleep 1.5
is "$(stat -c %a "$S/f")" 600 "cached mount: after the attribute timeout"

# names: a new name at once (no negative caching), a removal after the timeout
mkdir "$C/d"
for i in a b c; do echo "$i" >"$C/d/$i"; done
ls "$S/d" "$Z/d" >/dev/null
check "a name nobody looked up is not there" test ! -e "$S/d/new"
echo new | p9 write /d/new
check "and is, as soon as another client creates it" test -e "$S/d/new"
p9 rm /d/new
check "uncached mount: a removal elsewhere at once" test ! -e "$Z/d/new"
sleep 1.5
check "cached mount: after the entry timeout" test ! -e "$S/d/new"

# entries listed by readdirplus have no fid until used
is "$(ls "$C/d" | tr '\n' ' ')" "a b c " "listed"
is "$(stat -c %s:%a "$C/d/a")" "2:644" "a listed entry's attributes"
is "$(cat "$C/d/a" "$C/d/b")" "a
b" "listed entries read"
chmod 640 "$C/d/b"
is "$(stat -c %a "$Z/d/b")" 640 "chmod of a listed entry"
ls "$C/d" >/dev/null
mv "$C/d/c" "$C/d/c2"
is "$(cat "$C/d/c2")" c "renamed by this mount before any use, then read"
echo more >>"$C/d/c2"
is "$(p9 read /d/c2 | tr '\n' ' ')" "c more " "and written"
ls "$C/d" >/dev/null
rm "$C/d/a"
check "removed before any use" test ! -e "$Z/d/a"
echo e | p9 write /d/e
ls "$C/d" >/dev/null
p9 mv /d/e e2
echo "another e" | p9 write /d/e
is "$(cat "$C/d/e")" "another e" "a listed name replaced elsewhere before any use reads the new file"
is "$(cat "$C/d/e2")" e "and the old file under its new name"
ls "$C/d" >/dev/null
exec 3>>"$C/d/c2"
rm "$C/d/c2"
echo last >&3
exec 3>&-
check "a listed file unlinked while open, written, closed: gone" test ! -e "$Z/d/c2"
# the kernel sends the release after close returns: the hidden name goes then
i=0
while [ "$(p9 ls /d | grep -c 9pfuse)" != 0 ] && [ $i -lt 600 ]; do i=$((i+1)); sleep 0.05; done
is "$(p9 ls /d | grep -c 9pfuse)" 0 "and no hidden name left behind"

for m in "$C" "$S" "$Z" "$R"; do
	check "unmount $(basename "$m")" fuseumount "$m"
done
stopgefs
is "$?" 0 "gefs exits 0"
done_testing
