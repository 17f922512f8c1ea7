#!/bin/sh
# san: asan
# The console (runtime §5, gefs(8)) through gefscons on a live server:
# every command and its output, every bad command refused with a usage
# message or an error and nothing changed, the server serving all along,
# and halt.
. "${0%/*}/lib.sh"
scratch
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 64 || { notok "gefs starts"; done_testing; exit 1; }
N="$NINEP -u glenda"
# a clock that stands still: no automatic snapshot of a held main appears
# however long the test takes (under the sanitizers, minutes)
"$GEFSCONS" debug clock 1700000000 >/dev/null

is "$(stat -c %a "$NAMESPACE/gefs.cmd")" 600 "the console socket is 0600"

# ---------------------------------------------------------------- help
con help
is "$rc" 0 "help succeeds"
is "$out" "help -- show this help
check -- check for consistency
df -- show disk usage
halt -- stop all writers, sync, and exit
permit [on|off] -- switch to/from permissive mode
reserve [on|off] -- enable block reserves
snap -[mdl] [old [new]] -- manage snapshots
set [snap] key value -- set a setting (key: retain)
clear [snap] key -- clear a setting
sync -- flush all pending writes to disk
users -- reload user table from adm snapshot
debug [level] -- set the debug level (no level: toggle)
show -- debug dumps
	tree [name]
	users
	free" "help prints the help text"

# ---------------------------------------------------------------- df
con df
is "$rc" 0 "df succeeds"
printf '%s\n' "$out" >"$T/df"
is "$(grep -Ec '^arena [0-7]: [0-9a-f]+/[0-9a-f]+ \([0-9]+\.[0-9][0-9]%\)$' "$T/df")" 8 \
	"df: one line per arena, used/size in hex and a percentage"
is "$(sed -n '9p' "$T/df" | grep -Ec '^fill:	[0-9]+\.[0-9][0-9]%$')" 1 "df: the fill line"
for w in used size free; do
	is "$(grep -Ec "^$w:	[0-9]+ \\([0-9]+\\.[0-9][0-9] (B|KiB|MiB|GiB)\\)\$" "$T/df")" 1 "df: the $w line"
done
u=0
s=0
while read -r w a rest; do
	[ "$w" = arena ] || continue
	us=${rest%% *}
	u=$((u + 0x${us%/*}))
	s=$((s + 0x${us#*/}))
done <"$T/df"
U=$(sed -n 's/^used:	\([0-9]*\) .*/\1/p' "$T/df")
S=$(sed -n 's/^size:	\([0-9]*\) .*/\1/p' "$T/df")
F=$(sed -n 's/^free:	\([0-9]*\) .*/\1/p' "$T/df")
is "$u $s $((U + F))" "$U $S $S" "df: the arenas add up to used and size, used and free to size"
is "$(grep '^size:' "$T/df")" "size:	268042240 (255.62 MiB)" "df: a 256 MiB image holds 255.62 MiB"

# ---------------------------------------------------------------- sync, check, users
echo hello | $N write greeting
con sync
is "$rc $out" "0 synced" "sync prints synced"
con check
is "$rc $out" "0 ok" "check finds the volume ok"
con users
is "$rc $out" "0 refreshed users" "users reloads the table"
con show users
is "$rc $out" "0 -1:adm::glenda
0:none::
1:glenda:glenda:" "show users prints the table"
con show free
printf '%s\n' "$out" >"$T/free"
is "$(grep -c '^arena [0-7] [0-9a-f]*+[0-9a-f]*{$' "$T/free") $(grep -c '^}$' "$T/free")" "8 8" \
	"show free: a block per arena"
is "$(grep -Evc '^arena|^}$|^	[0-9a-f]+\.\.[0-9a-f]+ \([0-9a-f]+\)$' "$T/free")" 0 \
	"show free: every range as start..end (length)"

# ---------------------------------------------------------------- permit, reserve, debug
con permit on
is "$rc $out" "0 permissive: 0 → 1" "permit on"
$NINEP -u none -A %main stat / >/dev/null 2>&1
is "$?" 0 "permissive: none may attach with %"
con permit off
is "$rc $out" "0 permissive: 1 → 0" "permit off"
$NINEP -u none -A %main stat / >/dev/null 2>&1
is "$?" 1 "not permissive: none may not attach with %"
con reserve
is "$rc $out" "0 reserve: 1 → 1" "reserve alone shows the state"
con reserve off
is "$rc $out" "0 reserve: 1 → 0" "reserve off"
con reserve on
is "$rc $out" "0 reserve: 0 → 1" "reserve on"
con debug
is "$rc $out" "0 debug → 1" "debug toggles on"
con debug
is "$rc $out" "0 debug → 0" "debug toggles off"
con debug 2
is "$rc $out" "0 debug → 2" "debug 2"
con debug 0
is "$rc $out" "0 debug → 0" "debug 0"

# ---------------------------------------------------------------- snapshots
con snap -l
is "$rc $out" "0 snap adm [ mutable ]
snap empty
snap main [ mutable ]" "snap -l lists the labels of a fresh volume"
echo "old contents" | $N write notes
con snap main before
is "$rc $out" "0 labeled: before from main" "snap main before"
echo "new contents" | $N write notes
echo "added later" | $N write later
is "$($N -A before read notes)" "old contents" "the snapshot holds the old contents"
is "$($N read notes)" "new contents" "main has the new ones"
$N -A before stat later >/dev/null 2>&1
is "$?" 1 "a file made after the snapshot is not in it"
echo x | $N -A before write notes 2>"$T/err"
is "$? $(cat "$T/err")" "1 9p: write notes: file system read only" "the snapshot is read-only"
con snap -m main fork
is "$rc $out" "0 forked: fork from main" "snap -m main fork"
echo "forked" | $N -A fork write notes
is "$($N -A fork read notes) $($N read notes)" "forked new contents" "a fork changes apart from main"
con snap -l
is "$rc $out" "0 snap adm [ mutable ]
snap before
snap empty
snap fork [ mutable ]
snap main [ mutable ]" "snap -l lists the snapshot and the fork"
is "$($NINEP -u glenda -A dump ls / | tr '\n' ' ')" "adm before empty fork main " "the dump directory shows them"

# the space a deleted snapshot held comes back after a sync
head -c 8388608 /dev/urandom >"$T/big"
$N write big <"$T/big"
# show tree: 512 data blocks need more than a leaf
con show tree
printf '%s\n' "$out" >"$T/tree"
is "$rc $(sed -n '1s/^=== \[main\] ([0-9a-f]*,[0-9a-f]\{16\},[0-9a-f]*) @\([0-9]\)$/\1/p; 2p' "$T/tree")" \
	"0 2
=== contents" "show tree: the root and its height, then the contents"
is "$(sed -n 3p "$T/tree" | grep -c '^\[BLK\]|{([0-9a-f]*,[0-9a-f]\{16\},[0-9a-f]*)}$')" 1 "show tree: the root block"
check "show tree: child blocks one level in" grep -q '^|   \[BLK\]|{' "$T/tree"
# new records may still wait in the root's buffer: count them both ways
qid=$(grep -o 'name:"big") => (\[qid=([0-9a-f]*' "$T/tree" | head -1 | sed 's/.*(//')
is "$(grep -o "|Kvp(dat qid:$qid off:[0-9a-f]*) => (ptr:(\|Msg(Oinsert, dat qid:$qid off:[0-9a-f]*) => (ptr:(" "$T/tree" |
	sed 's/.*off://; s/).*//' | sort -u | wc -l)" 512 "show tree: the 512 data pointers of big, in leaves or buffered"
check "show tree: buffered messages are shown" grep -q '^\[[0-9][0-9][0-9]\]|Msg(O[a-z]*, ' "$T/tree"
check "show tree: the entry of big" grep -q '(ent dir:0, name:"big") => (\[qid=([0-9a-f]*,[0-9]*,0), p=664, f=0, t=[0-9]*,[0-9]*, l=[0-9]*, o=1, g=-1 m=1\])' "$T/tree"
con show tree snap
is "$rc $(printf '%s\n' "$out" | grep -c 'Kvp(label name:"main") => (snap id:[0-9]*)')" "0 1" "show tree snap: the snap tree's labels"
con show tree adm
check "show tree adm: ctl by its magic qid" eval 'printf "%s\n" "$out" | grep -q "Kvp(ent dir:1, name:\"ctl\") => (\[qid=(8000000000000001,0,0), p=664"'
con snap main withbig
$N rm big
con sync
used() { "$GEFSCONS" df | sed -n 's/^used:	\([0-9]*\) .*/\1/p'; }
u1=$(used)
con snap -d withbig
is "$rc $out" "0 deleted: withbig" "snap -d withbig"
# freed blocks are reusable once the commit that logs them is durable:
# a sync or two later
n=0
u2=$u1
while [ $n -lt 5 ] && [ $((u1 - u2)) -lt 8000000 ]; do
	con sync
	u2=$(used)
	n=$((n+1))
done
check "df: deleting the snapshot gave back the 8 MiB it held ($u1 -> $u2 after $n syncs)" [ $((u1 - u2)) -ge 8000000 ]
con snap -d before
is "$rc $out" "0 deleted: before" "snap -d before"
con snap -d fork
is "$rc $out" "0 deleted: fork" "snap -d fork"

# ---------------------------------------------------------------- set, clear
con set main retain '12@5m 48@2h @d'
is "$rc $out" "0 " "set main retain prints nothing"
is "$($N -A adm read status | grep '^conf')" "conf retain '' '60@m 24@h @d'
conf retain main '12@5m 48@2h @d'" "status shows the setting"
con set retain '@d'
is "$rc $out" "0 " "set retain (global)"
con clear main retain
is "$rc $out" "0 " "clear main retain"
con clear retain
is "$rc $out" "0 " "clear retain (global)"
is "$($N -A adm read status | grep '^conf')" "conf retain '' '60@m 24@h @d'" "cleared: the default again"

# ---------------------------------------------------------------- refusals
# state: what any command could change
state() {
	"$GEFSCONS" snap -l
	"$GEFSCONS" reserve
	"$GEFSCONS" show users
	$N -A adm read status | sed 2d
	$NINEP -u none -A %main stat / 2>&1 | head -1
}
# refused WANT ARGS...: status 1, the message WANT, and nothing changed
refused() {
	want=$1
	shift
	before=$(state)
	con "$@"
	is "$rc $out" "1 $want" "'$*' is refused"
	is "$(state)" "$before" "'$*' changes nothing"
}
holdmount main || notok "main held"
refused "usage: snap -[md] old [new]" snap
refused "usage: snap -[md] old [new]" snap a
refused "usage: snap -[md] old [new]" snap a b c
refused "usage: snap -[md] old [new]" snap -d
refused "usage: snap -[md] old [new]" snap -d a b
refused "usage: snap -[md] old [new]" snap -dm main
refused "usage: snap -[md] old [new]" snap -m main
refused "usage: snap -[mdl] [old [new]]" snap -x main a
refused "usage: snap -[mdl] [old [new]]" snap -S main a
refused "usage: snap -[mdl] [old [new]]" snap -l main
refused "usage: snap -[mdl] [old [new]]" snap -ld main
refused "snap: reserved name 'adm'" snap main adm
refused "snap: reserved name 'empty'" snap main empty
refused "snap: reserved name 'dump'" snap -m main dump
refused "snap: reserved name 'adm'" snap -d adm
refused "snap: already exists 'main'" snap adm main
refused "snap: open 'nosuch': does not exist" snap nosuch x
refused "snap: open 'nosuch': does not exist" snap -d nosuch
refused "snap: open 'dump': does not exist" snap dump x
refused "snap: snap is mounted: 'main'" snap -d main
refused "snap: bad name 'a/b'" snap main a/b
refused "snap: bad name '..'" snap main ..
refused "usage: permit on|off" permit
refused "usage: permit on|off" permit maybe
refused "usage: permit on|off" permit on off
refused "usage: reserve [on|off]" reserve maybe
refused "usage: reserve [on|off]" reserve on off
refused "usage: sync" sync now
refused "usage: df" df x
refused "usage: check" check x
refused "usage: help" help x
refused "usage: halt" halt now
refused "usage: users" users a b
refused "usage: set [snap] key value" set
refused "usage: set [snap] key value" set retain
refused "usage: set [snap] key value" set a b c d
refused "set: syntax error: bad retain schedule 'bogus'" set main retain bogus
refused "set: syntax error: bad retain schedule '5@'" set retain 5@
refused "set: syntax error: unknown setting 'colour'" set main colour red
refused "set: open 'nosuch': does not exist" set nosuch retain 2@m
refused "set: permission denied" set empty retain 2@m
refused "usage: clear [snap] key" clear
refused "usage: clear [snap] key" clear a b c
refused "clear: syntax error: unknown setting 'colour'" clear colour
refused "usage: show tree [name]
usage: show users
usage: show free" show
refused "usage: show tree [name]
usage: show users
usage: show free" show bogus
refused "usage: show tree [name]" show tree a b
refused "show: open 'nosuch': does not exist" show tree nosuch
refused "usage: show users" show users now
refused "usage: debug [level]" debug x
refused "usage: debug [level]" debug 1 2
refused "usage: debug clock seconds|now" debug clock
refused "usage: debug clock seconds|now" debug clock yesterday
refused "unknown command 'frobnicate a b c'" frobnicate a 'b c'
refused "unknown command 'SYNC'" SYNC

# lines the client does not quote: straight onto the socket
script() {
	printf '%s\n' "$1" | "$GEFSCONS" >"$T/out" 2>&1
	rc=$?
	out=$(cat "$T/out")
}
script "snap 'x"
is "$rc $out" "1 syntax error: unmatched quote" "an unmatched quote is refused"
script "$(head -c 2000 /dev/zero | tr '\0' a)"
is "$rc $out" "1 syntax error: line longer than 1023 bytes" "a line too long is refused"
printf 'sync\0 now\n' | "$GEFSCONS" >"$T/out" 2>&1
is "$? $(cat "$T/out")" "1 syntax error: NUL byte in line" "a line with a NUL byte is refused"
script "snap 'it''s' x"
is "$rc $out" "1 snap: open 'it's': does not exist" "quotes as rc: '' is a quote"
script "
sync"
is "$rc $out" "0 synced" "an empty line just prompts again"
releasemount

# still serving, still writable
echo "after" | $N write after
is "$($N read after)" "after" "the server still serves and writes after every refusal"
con snap -l
is "$out" "snap adm [ mutable ]
snap empty
snap main [ mutable ]" "no label was made or lost by the refusals"

# several clients at once: one waits at its prompt while others work
mkfifo "$T/c.fifo"
"$GEFSCONS" <"$T/c.fifo" >"$T/c.out" 2>&1 &
cpid=$!
exec 8>"$T/c.fifo"
echo "sync" >&8
con snap main two
is "$rc $out" "0 labeled: two from main" "a second client works while the first waits"
echo "snap -l" >&8
exec 8>&-
wait $cpid
is "$? $(cat "$T/c.out")" "0 synced
snap adm [ mutable ]
snap empty
snap main [ mutable ]
snap two" "the first client gets its answers in order"

# a raw client sees the prompt first
printf 'sync\n' >"$T/in"
python3 - "$NAMESPACE/gefs.cmd" "$T/in" >"$T/raw" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(open(sys.argv[2], 'rb').read())
s.shutdown(socket.SHUT_WR)
d = b''
while True:
	b = s.recv(4096)
	if not b:
		break
	d += b
sys.stdout.write(d.decode())
EOF
is "$(cat "$T/raw")" "gefs# synced
gefs# " "the protocol: prompt, command, output, prompt"

# only root and the server's owner may use the console, whatever the modes
chmod 711 "$T" "$NAMESPACE"
chmod 666 "$NAMESPACE/gefs.cmd"
cp "$GEFSCONS" "$T/gefscons.nobody"
chmod 755 "$T/gefscons.nobody"
setpriv --reuid=65534 --regid=65534 --clear-groups "$T/gefscons.nobody" \
	-n "$NAMESPACE/gefs.cmd" sync >"$T/out" 2>&1
is "$? $(cat "$T/out")" "1 gefscons: the console hung up" "a stranger is hung up on"
grep -q 'console refused to a stranger' "$T/gefs.log"
is "$?" 0 "and the server says why"
chmod 600 "$NAMESPACE/gefs.cmd"
chmod 700 "$T" "$NAMESPACE"

# another service name, another console
mkvol "$T/img2" || notok "ream a second volume"
"$GEFS" -n two -f "$T/img2" -m 64 >"$T/two.log" 2>&1 &
twopid=$!
cleanups="${cleanups}kill $twopid 2>/dev/null; "
i=0
until "$GEFSCONS" -n two sync >/dev/null 2>&1 || [ $i -gt 600 ]; do
	i=$((i+1))
	sleep 0.05
done
is "$(stat -c %a "$NAMESPACE/two.cmd")" 600 "gefs -n two: its console is two.cmd"
"$GEFSCONS" -n two snap main only2 >/dev/null
is "$("$GEFSCONS" -n "$NAMESPACE/two.cmd" snap -l | grep -c only2) $("$GEFSCONS" snap -l | grep -c only2)" "1 0" \
	"gefscons -n two (or its path) talks to that server alone"
"$GEFSCONS" -n two halt >/dev/null
wait $twopid
is "$?" 0 "the second server halts"
"$GEFSCONS" -n two sync >"$T/out" 2>&1
is "$?" 1 "gefscons fails when nothing answers"

# ---------------------------------------------------------------- halt
echo "last words" | $N write last
con halt
is "$rc $out" "0 gefs: ending..." "halt"
# the client's connection ends only once the final sync is done
stopped=0
i=0
while [ $i -lt 1200 ]; do
	case "$(ps -o stat= -p $GEFSPID 2>/dev/null)" in
	""|Z*)	stopped=1; break ;;
	esac
	i=$((i+1))
	sleep 0.05
done
is "$stopped" 1 "gefs exits after halt"
wait $GEFSPID
is "$?" 0 "with status 0"
check "its sockets are gone" test ! -e "$NAMESPACE/gefs" -a ! -e "$NAMESPACE/gefs.cmd"
"$GEFS" -c -f "$T/img" >"$T/check" 2>&1
is "$?" 0 "the halted volume checks clean"
startgefs -f "$T/img" -m 64 || notok "gefs restarts"
is "$($N read last)" "last words" "what was written before halt is there"
con snap -l
is "$out" "snap adm [ mutable ]
snap empty
snap main [ mutable ]
snap two" "and the labels"
stopgefs
is "$?" 0 "gefs exits 0"
done_testing
