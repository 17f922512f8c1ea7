#!/bin/sh
# san: asan
# Users, groups, permissions (test/perm.c), who may attach as whom over
# a Unix socket (peer credentials), and permissive mode (-S).
. "${0%/*}/lib.sh"
scratch
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
# a socket the unprivileged user nobody can reach
chmod 711 "$T"
mkdir "$T/pub"
chmod 755 "$T/pub"
cp "$NINEP" "$T/pub/9p"
chmod 755 "$T/pub/9p"
startgefs -f "$T/img" -m 64 -a "unix!$T/pub/sock" || { notok "gefs starts"; done_testing; exit 1; }
subtap "$top/$O/test/perm" "unix!$NAMESPACE/gefs"
is "$(stat -c %a "$T/pub/sock")" 666 "the socket of -a unix! is 0666"

# asnobody ARGS...: 9p as the Unix user nobody, on $T/pub/sock
asnobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$T/pub/9p" -a "unix!$T/pub/sock" "$@" >"$T/out" 2>"$T/err"
}
asnobody -u glenda stat /
is "$? $(cat "$T/err")" "1 9p: attach '' as glenda: attach -- unknown user or failed authentication" \
	"nobody may not attach as glenda"
asnobody -u nobody stat /
is "$?" 0 "nobody attaches as nobody, which the users table has"
asnobody -u none stat /
is "$?" 0 "nobody attaches as none"
asnobody -u alice -A %main stat /
is "$? $(cat "$T/err")" "1 9p: attach '%main' as alice: attach -- unknown user or failed authentication" \
	"nor as alice"
stopgefs
is "$?" 0 "gefs exits 0"

startgefs -S -f "$T/img" -m 64 || { notok "gefs -S starts"; done_testing; exit 1; }
subtap "$top/$O/test/perm" -S "unix!$NAMESPACE/gefs"
stopgefs
is "$?" 0 "gefs -S exits 0"
check "every file was let go" sh -c "! grep 'still held' '$T/gefs.log'"
done_testing
