#!/bin/sh
# san: asan
# Where 9P comes from (DESIGN.md §4): the service socket, -a unix! and
# -a tcp! (with -A; refused without), -s on standard input and output; a
# Plan 9 session on each at 8 KiB, 32 KiB and 1 MiB (test/session.c).
# A running service is not taken over, a stale socket is; SIGTERM, SIGINT
# and SIGHUP end the server cleanly after a final sync; -R writes nothing.
. "${0%/*}/lib.sh"
scratch
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
mkvol "$T/img2" || { notok "ream"; done_testing; exit 1; }
SESSION=$top/$O/test/session

startgefs -A -f "$T/img" -m 64 -a "unix!$T/sock" -a 'tcp!127.0.0.1!0' ||
	{ notok "gefs starts"; done_testing; exit 1; }
is "$(stat -c %a "$NAMESPACE")" 700 "the service directory is 0700"
is "$(stat -c %a "$NAMESPACE/gefs")" 666 "the service socket is 0666"
subtap "$SESSION" "unix!$NAMESPACE/gefs"
subtap "$SESSION" "unix!$T/sock"
port=$(sed -n 's/.*announce tcp!127\.0\.0\.1!\([0-9]*\)$/\1/p' "$T/gefs.log")
ok "announced tcp!127.0.0.1!$port"
subtap "$SESSION" "tcp!127.0.0.1!$port"

"$GEFS" -A -f "$T/img2" -m 64 >"$T/out" 2>"$T/err"
is "$? $(tail -1 "$T/err")" "1 gefs: service $NAMESPACE/gefs already running" \
	"a second server does not take a running service"
"$NINEP" -u glenda stat / >"$T/out" 2>&1
is "$?" 0 "the first one still serves"
stopgefs
is "$?" 0 "SIGTERM: exit 0"
check "the service socket is gone" test ! -e "$NAMESPACE/gefs"
check "the -a unix! socket is gone" test ! -e "$T/sock"

"$GEFS" -f "$T/img" -m 64 -a 'tcp!127.0.0.1!0' >"$T/out" 2>"$T/err"
is "$? $(tail -1 "$T/err")" "1 gefs: tcp listener tcp!127.0.0.1!0 refused: 9P authentication is not implemented; use -A to serve without authentication" \
	"TCP without -A is refused, saying why"
check "and leaves no socket" test ! -e "$NAMESPACE/gefs"
"$GEFS" -f "$T/img" -m 64 -a 'udp!127.0.0.1!1' >"$T/out" 2>"$T/err"
is "$? $(tail -1 "$T/err")" "1 gefs: udp!127.0.0.1!1: announce tcp!HOST!PORT or unix!PATH" \
	"an unknown network is refused"

# a socket nobody answers on is replaced
startgefs -f "$T/img" -m 64 || notok "gefs starts"
kill -9 $GEFSPID
wait $GEFSPID 2>/dev/null
check "a killed server leaves its socket" test -S "$NAMESPACE/gefs"
startgefs -f "$T/img" -m 64 || notok "gefs starts over a stale socket"
"$NINEP" -u glenda stat / >"$T/out" 2>&1
is "$?" 0 "and serves"
echo persistent | "$NINEP" -u glenda write /kept
kill -INT $GEFSPID
wait $GEFSPID
is "$?" 0 "SIGINT: exit 0"
startgefs -f "$T/img" -m 64 || notok "gefs restarts"
is "$("$NINEP" -u glenda read /kept)" persistent "what was written before SIGINT is there"
kill -HUP $GEFSPID
wait $GEFSPID
is "$?" 0 "SIGHUP: exit 0"

# -s: the standard input and output
subtap "$SESSION" -s "$GEFS" -s -n stdio -f "$T/img" -m 64
check "-s leaves no socket behind" test ! -e "$NAMESPACE/stdio"

# -R: nothing reaches the disk
sum=$(sha256sum <"$T/img")
startgefs -R -f "$T/img" -m 64 || notok "gefs -R starts"
is "$("$NINEP" -u glenda read /kept)" persistent "-R: files read"
echo x | "$NINEP" -u glenda write /new 2>"$T/err"
is "$? $(cat "$T/err")" "1 9p: write /new: file system read only" "-R: create refused"
echo x | "$NINEP" -u glenda write /kept 2>"$T/err"
is "$? $(cat "$T/err")" "1 9p: write /kept: file system read only" "-R: truncating open refused"
"$NINEP" -u glenda -A dump read /main/kept >"$T/out" 2>"$T/err"
is "$? $(cat "$T/out")" "0 persistent" "-R: the dump reads"
"$NINEP" -u glenda chmod 600 /kept 2>"$T/err"
is "$? $(cat "$T/err")" "1 9p: chmod /kept: file system read only" "-R: wstat refused"
"$NINEP" -u glenda rm /kept 2>"$T/err"
is "$? $(cat "$T/err")" "1 9p: rm /kept: file system read only" "-R: remove refused"
"$NINEP" -u glenda sync
is "$?" 0 "-R: sync succeeds, with nothing to write"
stopgefs
is "$?" 0 "-R: exit 0"
is "$(sha256sum <"$T/img")" "$sum" "-R: the image is unchanged"
check "every file was let go" sh -c "! grep 'still held' '$T/gefs.log'"
done_testing
