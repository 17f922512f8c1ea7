#!/bin/sh
# san: asan
# /adm/ctl and /adm/status (runtime §12, format §17.8): the console's jobs
# done through files, bad commands refused with nothing changed, what the
# files themselves allow, the entries put into a volume that lacks them,
# and -R.
. "${0%/*}/lib.sh"
scratch
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 64 || { notok "gefs starts"; done_testing; exit 1; }
N="$NINEP -u glenda"
# a clock that stands still: no automatic snapshot of a held main appears
# however long the test takes (under the sanitizers, minutes)
"$GEFSCONS" debug clock 1700000000 >/dev/null
A="$NINEP -u glenda -A adm"

# ctl COMMAND: write it to /adm/ctl; $rc, and $out the error if any
ctl() {
	printf '%s\n' "$1" | $A write ctl >"$T/out" 2>&1
	rc=$?
	out=$(cat "$T/out")
}
status() {
	$A read status
}

is "$(status)" "gefs p9
$(status | sed -n 2p)
conf retain '' '60@m 24@h @d'
fork adm
snap empty
fork main" "status of a fresh volume"
status | sed -n 2p | grep -Eq '^usage [0-9]+ [0-9]+ 268042240$'
is "$?" 0 "status: usage PCT USED SIZE"
is "$($A ls -l / | grep -E ' (ctl|status)$')" "--rw-rw-r-- adm adm  0 Jan  1  1970 ctl
--rw-rw-r-- adm adm  0 Jan  1  1970 status" "ctl and status: adm's, 0664, empty"
is "$($A read ctl | wc -c)" 0 "ctl reads as nothing"
is "$($A stat ctl | grep qid.path)" "qid.path 9223372036854775809" "ctl's qid is Qctl"
is "$($A stat status | grep qid.path)" "qid.path 9223372036854775810" "status's qid is Qstatus"

# ---------------------------------------------------------------- the jobs
echo "synced through ctl" | $N write durable
ctl sync
is "$rc $out" "0 " "sync"
ctl "snap main s1"
is "$rc $out" "0 " "snap main s1"
ctl "fork main f1"
is "$rc $out" "0 " "fork main f1"
is "$(status | sed 1,3d)" "fork adm
snap empty
fork f1
fork main
snap s1" "status lists the snapshot and the fork"
is "$("$GEFSCONS" snap -l)" "snap adm [ mutable ]
snap empty
snap f1 [ mutable ]
snap main [ mutable ]
snap s1" "so does the console"
is "$($N -A s1 read durable)" "synced through ctl" "the snapshot holds main's files"
ctl "delsnap s1"
is "$rc $out" "0 " "delsnap s1"
ctl "delsnap f1"
is "$(status | sed 1,3d)" "fork adm
snap empty
fork main" "delsnap: the labels are gone"

ctl "retain main 2@m 3@h"
is "$rc $out" "0 " "retain main 2@m 3@h"
ctl "retain - none"
is "$(status | grep '^conf')" "conf retain '' ''
conf retain main '2@m 3@h '" "retain: each item stored with a blank after it; none is empty"
is "$("$GEFSCONS" set main retain '12@5m 48@2h @d'; status | grep '^conf retain main')" \
	"conf retain main '12@5m 48@2h @d'" "the console's set shows in status"
ctl "retain - default"
ctl "retain main default"
is "$(status | grep '^conf')" "conf retain '' '60@m 24@h @d'" "retain default clears the settings"

ctl "usereserve 1"
is "$rc $("$GEFSCONS" reserve)" "0 reserve: 0 → 0" "usereserve 1 lets allocation use the reserve"
ctl "usereserve 0"
is "$rc $("$GEFSCONS" reserve)" "0 reserve: 1 → 1" "usereserve 0 keeps it"
ctl "debug 1"
is "$rc $("$GEFSCONS" debug)" "0 debug → 0" "debug 1 (the console's toggle goes back to 0)"
ctl check
is "$rc $out" "0 " "check of a clean volume"

# users: a new table, put in place by rename, which no clunk reloads
printf -- '-1:adm::glenda\n0:none::\n1:glenda:glenda:\n2:carol::\n' | $A write users.new
$NINEP -u carol stat / >/dev/null 2>&1
is "$?" 1 "carol is not a user yet"
$NINEP -u glenda -A %adm rm users
$A mv users.new users
ctl users
is "$rc $out" "0 " "users reloads the table"
$NINEP -u carol stat / >/dev/null 2>&1
is "$?" 0 "carol may attach"
printf -- '-1:adm::glenda\n0:none::\n1:glenda:glenda:\n2:carol::\n3:dave:nobody:\n' | $A write users.new
$NINEP -u glenda -A %adm rm users
$A mv users.new users
ctl users
is "$rc $out" "1 9p: write ctl: syntax error: /adm/users:5: leader nobody does not exist" \
	"a broken table fails the write with its line number"
$NINEP -u dave stat / >/dev/null 2>&1
is "$?" 1 "the broken table is not used"
$NINEP -u carol stat / >/dev/null 2>&1
is "$?" 0 "the old one stays in force"
printf -- '-1:adm::glenda\n0:none::\n1:glenda:glenda:\n2:carol::\n' | $A write users

# ---------------------------------------------------------------- refusals
state() {
	status | sed 2d
	"$GEFSCONS" reserve
	"$GEFSCONS" debug 0
	"$GEFSCONS" show users
}
holdmount main || notok "main held"
# refusedctl WANT COMMAND: the write fails with WANT and nothing changes
refusedctl() {
	before=$(state)
	ctl "$2"
	is "$rc $out" "1 9p: write ctl: $1" "ctl '$2' is refused"
	is "$(state)" "$before" "ctl '$2' changes nothing"
}
refusedctl "invalid control message" "bogus"
refusedctl "invalid control message" "SYNC"
refusedctl "invalid control message" "sync now"
refusedctl "invalid control message" "halt now"
refusedctl "invalid control message" "check x"
refusedctl "invalid control message" "users x"
refusedctl "invalid control message" "snap main"
refusedctl "invalid control message" "snap a b c"
refusedctl "invalid control message" "fork main"
refusedctl "invalid control message" "delsnap"
refusedctl "invalid control message" "delsnap a b"
refusedctl "invalid control message" "usereserve 2"
refusedctl "invalid control message" "usereserve on"
refusedctl "invalid control message" "debug x"
refusedctl "invalid control message" "retain"
refusedctl "invalid control message" "retain main"
refusedctl "invalid control message" "snap 'main"
refusedctl "invalid control message: retain item 'x@m'" "retain main 2@m x@m"
refusedctl "invalid control message: retain item '5'" "retain - 5"
refusedctl "permission denied" "retain empty 2@m"
refusedctl "attach -- bad specifier" "retain nosuch 2@m"
refusedctl "attach -- bad specifier" "snap nosuch x"
refusedctl "attach -- bad specifier" "delsnap nosuch"
refusedctl "snap -- reserved name" "snap main adm"
refusedctl "snap -- reserved name" "fork main dump"
refusedctl "snap -- reserved name" "delsnap empty"
refusedctl "snap -- already exists" "fork adm main"
refusedctl "snap -- is currently mounted" "delsnap main"
refusedctl "create/wstat -- bad character in file name" "snap main a/b"
releasemount

# a write at an offset other than 0 is not a command: 9p writes what
# each read of its input returns, so the newline goes into the pipe only
# once 9p has read "sync" from it (FIONREAD: nothing left unread)
python3 -c '
import fcntl, os, struct, termios, time
os.write(1, b"sync")
for i in range(2400):
	if struct.unpack("i", fcntl.ioctl(1, termios.FIONREAD, bytes(4)))[0] == 0:
		break
	time.sleep(0.05)
os.write(1, b"\n")
' | $A write ctl >"$T/out" 2>&1
is "$? $(cat "$T/out")" "1 9p: write ctl: protocol botch" "a second write at offset 4 is refused"
head -c 300 /dev/zero | tr '\0' ' ' | $A write ctl >"$T/out" 2>&1
is "$? $(cat "$T/out")" "1 9p: write ctl: name too long" "a write of 256 bytes or more is refused"
echo sync | $A write status >"$T/out" 2>&1
is "$? $(cat "$T/out")" "1 9p: write status: permission denied" "status cannot be written"
echo sync | $NINEP -u carol -A adm write ctl >"$T/out" 2>&1
is "$? $(cat "$T/out")" "1 9p: write ctl: permission denied" "only adm's group may write ctl"
$NINEP -u carol -A adm read status >/dev/null
is "$?" 0 "anybody may read status"
$A chmod 666 ctl >"$T/out" 2>&1
is "$? $(cat "$T/out")" "1 9p: chmod ctl: open/create -- unknown mode" "ctl cannot be changed"
$A rm status >"$T/out" 2>&1
is "$? $(cat "$T/out")" "1 9p: rm status: permission denied" "nor removed"

# sync through ctl is durable: kill the server without letting it sync
kill -9 $GEFSPID
wait $GEFSPID 2>/dev/null
startgefs -f "$T/img" -m 64 || notok "gefs restarts after SIGKILL"
con debug clock "$(date +%s)"
is "$($N read durable)" "synced through ctl" "what ctl sync synced survives SIGKILL"

# ---------------------------------------------------------------- migration
$NINEP -u glenda -A %adm rm ctl status
is "$($A ls /)" "users" "a permissive attach removes them: an older volume"
printf 'mine\n' | $A write status
stopgefs
# (writes to the adm tree of a fresh volume leak its ream-born blocks: the
# volume layer's; what matters here is that nothing below adds a problem)
"$GEFS" -c -f "$T/img" >"$T/check" 2>&1
v0=$(tail -1 "$T/check")
startgefs -f "$T/img" -m 64 -R || notok "gefs -R starts"
is "$($A ls /)" "status
users" "-R writes nothing: no ctl added"
is "$($A read status)" "mine" "a user's file called status stays ordinary"
con sync
is "$rc $out" "1 sync: file system read only" "-R: the console cannot sync"
con snap main x
is "$rc $out" "1 snap: file system read only" "-R: nor snap"
con check
is "$(printf '%s\n' "$out" | tail -1)" "$v0" "-R: check works, and agrees with gefs -c"
stopgefs
startgefs -f "$T/img" -m 64 || notok "gefs starts writable"
is "$($A ls /)" "ctl
status
users" "served writable: the missing ctl is added"
grep -c 'added /adm/ctl' "$T/gefs.log" >"$T/n"
is "$(cat "$T/n") $(grep -c 'added /adm/status' "$T/gefs.log")" "1 0" "the log says so; the user's status is left alone"
is "$($A read status)" "mine" "status is still the user's file"
ctl sync
is "$rc $out" "0 " "the new ctl works"
is "$($A stat ctl | grep -E 'qid|mode|uid|gid|length' | tr '\n' ' ')" \
	"qid.path 9223372036854775809 qid.vers 0 qid.type 0x00 mode 0664 --rw-rw-r-- length 0 uid adm gid adm muid none " \
	"the added entry as format §17.8"
stopgefs
"$GEFS" -c -f "$T/img" >"$T/check" 2>&1
is "$(tail -1 "$T/check")" "$v0" "the migration adds no problem to the volume"

# ---------------------------------------------------------------- halt
startgefs -f "$T/img" -m 64 || notok "gefs starts"
echo "before halt" | $N write lastfile
ctl halt
# the server may hang up before the write's reply goes out, as on 9front
case "$rc $out" in
"0 "|"1 9p: write ctl: server hung up"|"1 9p: "*"hung up"*)	ok "halt" ;;
*)	notok "halt"; diag "$rc $out" ;;
esac
i=0
while kill -0 $GEFSPID 2>/dev/null && [ $i -lt 1200 ]; do
	case "$(ps -o stat= -p $GEFSPID)" in Z*) break ;; esac
	i=$((i+1))
	sleep 0.05
done
wait $GEFSPID
is "$?" 0 "gefs exits 0 after halt through ctl"
startgefs -f "$T/img" -m 64 -R || notok "gefs -R starts"
is "$($N read lastfile)" "before halt" "halt synced"
stopgefs
done_testing
