#!/bin/sh
# /adm/users (runtime §6) edited over 9P and reloaded by the console's
# users: new users attach and get their groups' permissions; a broken
# table is reported line by line and the old one stays in force.
. "${0%/*}/lib.sh"
scratch
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 64 || { notok "gefs starts"; done_testing; exit 1; }
A="$NINEP -u glenda -A adm"

# install TEXT: the new /adm/users, put in place by rename as an editor
# would; only writes to the original file make the server reload by itself
install() {
	printf '%s' "$1" | $A write users.new
	$NINEP -u glenda -A %adm rm users
	$A mv users.new users
}
attaches() {
	$NINEP -u "$1" stat / >/dev/null 2>&1
}

attaches alice
is "$?" 1 "alice is no user yet"
install '-1:adm::glenda,alice
0:none::
1:glenda:glenda:
2:alice::
3:eng:alice:alice,bob
4:bob::
'
attaches alice
is "$?" 1 "the edited file is not in force before users"
con users
is "$rc $out" "0 refreshed users" "users reloads the table"
con show users
is "$out" "-1:adm::glenda,alice
0:none::
1:glenda:glenda:
2:alice::
3:eng:alice:alice,bob
4:bob::" "show users: the new user and the new group"
attaches alice
is "$?" 0 "alice attaches"
attaches bob
is "$?" 0 "bob attaches"
echo "from alice" | $NINEP -u alice write alicefile 2>"$T/err"
is "$? $(cat "$T/err")" "0 " "alice, in group adm, may create in main's root (adm, 0775)"
is "$($NINEP -u alice stat alicefile | sed -n 's/^uid //p')" "alice" "the file is hers"
echo "from bob" | $NINEP -u bob write bobfile 2>"$T/err"
is "$? $(cat "$T/err")" "1 9p: write bobfile: permission denied" "bob, not in adm, may not"
echo "# a comment" | $NINEP -u alice -A adm write notes 2>"$T/err"
is "$?" 0 "alice may write in adm's root as well"

# a broken table: every problem with its line, nothing changes
install '-1:adm::glenda,alice
0:none::
1:glenda:glenda:
2:alice::
carol
3:eng:alice:alice,bob
4:bob::
5:dave:nobody:
'
con users
is "$rc $out" "1 /adm/users:5: missing ':' after id
/adm/users:8: leader nobody does not exist
load users: syntax error: /adm/users:5: missing ':' after id (2 errors)" \
	"users reports each bad line by number and fails"
con show users
is "$out" "-1:adm::glenda,alice
0:none::
1:glenda:glenda:
2:alice::
3:eng:alice:alice,bob
4:bob::" "the old table stays in force"
attaches dave
is "$?" 1 "dave of the broken table may not attach"
attaches alice
is "$?" 0 "alice still may"

# another edit, in place this time, then users
printf -- '-1:adm::glenda\n0:none::\n1:glenda:glenda:\n2:alice::\n6:erin::\n' | $A write users
con users
is "$rc $out" "0 refreshed users" "users reloads the file edited in place"
attaches erin
is "$?" 0 "erin attaches"
echo "from alice" | $NINEP -u alice write alice2 2>/dev/null
is "$?" 1 "alice left group adm with it"

# the table at start-up is the synced one
printf -- '-1:adm::glenda\n0:none::\n1:glenda:glenda:\n7:frank::\n' | $A write users
stopgefs
startgefs -f "$T/img" -m 64 || notok "gefs restarts"
attaches frank
is "$?" 0 "the table is loaded at start-up"
con show users
is "$out" "-1:adm::glenda
0:none::
1:glenda:glenda:
7:frank::" "show users after the restart"
stopgefs
is "$?" 0 "gefs exits 0"
done_testing
