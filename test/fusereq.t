#!/bin/sh
# The 9P requests 9pfuse sends for a file operation (man/9pfuse.4,
# CACHING): a lookup of a file whose version has not changed is one
# Twalk, whose fid the next open takes; what another client changed
# meanwhile is still seen.  The server's debug log (-d -d) counts them.
. "${0%/*}/lib.sh"
scratch
needfuse
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -d -d -f "$T/img" -m 128 || { notok "gefs starts"; done_testing; exit 1; }
p9() { "$NINEP" -a "${GEFSNAME:-gefs}" -u glenda "$@"; }

# names expire at once, attributes never: every path is looked up
M=$T/m
fusemount "$M" -o attr_timeout=1000,entry_timeout=0 || { notok "9pfuse mounts"; done_testing; exit 1; }

# The kernel's release, and a clunk nobody waits for, come after the
# call that caused them: wait until the log has stopped growing.
settle() {
	i=0 last=-1
	while [ $i -lt 50 ] && [ "$(wc -l <"$T/gefs.log")" != "$last" ]; do
		last=$(wc -l <"$T/gefs.log")
		sleep 0.2
		i=$((i+1))
	done
}

# the requests the server was sent while running "$@", by type, but
# for Tclunk: the kernel's forgets of earlier nodes may land in any
# window, the later the more loaded the machine
reqs() {
	settle
	n=$(wc -l <"$T/gefs.log")
	"$@" >"$T/out" 2>&1
	st=$?
	settle
	tail -n +$((n+1)) "$T/gefs.log" | grep '←' >"$T/sent"
	sed 's/.*← \(T[a-z]*\).*/\1/' "$T/sent" | grep -v '^Tclunk$' | sort | uniq -c |
		awk '{printf "%s%s %s", sep, $2, $1; sep=", "} END{print ""}'
	return $st
}
# of those, the walks of n names
walks() { grep -c "← Twalk.*nwname $1\$" "$T/sent"; }

echo hello >"$M/f"
cat "$M/f" >/dev/null
is "$(reqs cat "$M/f")" "Topen 1, Twalk 1" \
	"cat of an unchanged file: a walk, an open of its fid (the data is cached)"
is "$(cat "$T/out")" hello "and reads it"
is "$(walks 0)" 0 "no clone walked"

p9 chmod 600 /f
is "$(reqs stat -c %a "$M/f")" "Tstat 1, Twalk 1" "a file changed elsewhere is looked up with a stat"
is "$(cat "$T/out")" 600 "its new mode"
is "$(reqs stat -c %a "$M/f")" "Twalk 1" "then without, its version unchanged"
is "$(cat "$T/out")" 600 "the same mode"

echo "hello again" >>"$M/f"
is "$(stat -c %s "$M/f")" 18 "a write through the mount: the new size"
is "$(cat "$M/f")" "hello
hello again" "and contents"

p9 mv /f g
if cat "$M/f" >/dev/null 2>&1; then notok "a name renamed elsewhere is gone"; else ok "a name renamed elsewhere is gone"; fi
is "$(cat "$M/g")" "hello
hello again" "the file under its new name"
echo other | p9 write /f
is "$(cat "$M/f")" other "a new file under the old name is read"
is "$(cat "$M/g")" "hello
hello again" "the old one still under the new"

# two opens at once: the first takes the spare fid, the second clones
exec 3<"$M/g"
is "$(cat "$M/g")" "hello
hello again" "a second open while one is open"
is "$(head -1 <&3)" hello "the first still reads"
exec 3<&-

# a create sends no Tstat: the kernel gets the server's attributes when
# it asks.  (Whether it clones the directory's fid depends on which of
# the kernel's lookups took the directory's spare fid first, which
# varies with timing: not asserted.)
mkdir "$M/d"
ls -d "$M/d" >/dev/null
reqs sh -c "echo x >'$M/d/x'" >"$T/counts"
is "$(tr ',' '\n' <"$T/counts" | grep -c 'Tstat')" 0 "a create: no stat"
is "$(tr ',' '\n' <"$T/counts" | grep -E 'Tcreate|Twrite' | tr -d ' ' | tr '\n' ' ')" "Tcreate1 Twrite1 " \
	"one create, one write"
is "$(p9 read /d/x)" x "the file is at the server"
is "$(stat -c '%s %a' "$M/d/x")" "2 644" "its attributes are the server's"
# the server masks the mode asked for with the directory's
chmod 750 "$M/d"
(umask 0; : >"$M/d/m")
is "$(stat -c %a "$M/d/m")" 640 "a create's mode as the server set it"
is "$(p9 ls -l /d/m | cut -c2-11)" "$(ls -l "$M/d/m" | cut -c1-10)" "the same as another client sees"
rm "$M/d/x"
if p9 stat /d/x >/dev/null 2>&1; then notok "removed"; else ok "removed"; fi

fuseumount "$M"
is "$?" 0 "unmount"
stopgefs
is "$?" 0 "gefs exits 0"
done_testing
