#!/bin/sh
# san: asan
# 9p: the command line without a server: usage errors (exit 2, before any
# dialling), bad and unreachable addresses (exit 1, a clear message).
# Commands against a running gefs are tested with the server.
. "${0%/*}/lib.sh"
scratch
if [ ! -x "$NINEP" ]; then
	notok "$NINEP is built (run make)"
	done_testing
	exit 1
fi
mkdir "$T/ns"
NAMESPACE=$T/ns
export NAMESPACE

# run ARGS...: sets rc, out (stdout) and err (stderr)
run() {
	"$NINEP" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}

# usage WANT ARGS...: exit 2, nothing on stdout, WANT on stderr
usage() {
	want=$1; shift
	run "$@"
	case "$rc:$out:$err" in
	"2::"*"$want"*)	ok "usage error: 9p $*" ;;
	*)		notok "usage error: 9p $*"
			diag "exit $rc, stdout '$out', stderr '$err'" ;;
	esac
}

# fails WANT ARGS...: exit 1 with "9p: ...WANT..." on stderr
fails() {
	want=$1; shift
	run "$@"
	case "$rc:$err" in
	"1:9p: "*"$want"*)	ok "fails: 9p $* ($err)" ;;
	*)			notok "fails: 9p $*"
				diag "exit $rc, stderr '$err', wanted '$want'" ;;
	esac
}

usage "usage: 9p [-a address]"
usage "usage: 9p [-a address]" -a
usage "usage: 9p [-a address]" -x sync
usage "unknown command 'frob'" frob /x
usage "bad msize 'abc'" -m abc sync
usage "bad msize '10'" -m 10 sync
usage "bad msize '99999999999'" -m 99999999999 sync
usage "bad msize '-5'" -m -5 sync
usage "usage: 9p [options] read path" read
usage "usage: 9p [options] read path" read /a /b
usage "usage: 9p [options] write path" write
usage "usage: 9p [options] stat path" stat
usage "usage: 9p [options] create path..." create
usage "usage: 9p [options] mkdir path..." mkdir
usage "usage: 9p [options] rm path..." rm
usage "usage: 9p [options] mv path newname" mv /a
usage "usage: 9p [options] mv path newname" mv /a b c
usage "usage: 9p [options] chmod mode path" chmod 644
usage "bad mode '8'" chmod 8 /a
usage "bad mode 'rw'" chmod rw /a
usage "bad mode '-1'" chmod -- -1 /a
usage "bad mode '0777777777777'" chmod 0777777777777 /a
usage "usage: 9p [options] sync" sync /
usage "usage: 9p [options] ls [-ld] [path...]" ls -x /
usage "usage: 9p [options] ls [-ld] [path...]" ls -la /

# Good arguments get as far as dialling.
fails "dial $T/ns/gefs: No such file or directory" sync
fails "dial $T/ns/gefs: No such file or directory" ls -ld /a /b
fails "dial $T/ns/gefs: No such file or directory" -m 512 -u glenda -A main read /x
fails "dial $T/ns/other: No such file or directory" -a other stat /
fails "dial $T/ns/other: No such file or directory" -aother -m8192 -- stat /
fails "dial $T/ns/gefs: No such file or directory" chmod 0755 /x
fails "dial $T/ns/gefs: No such file or directory" chmod 020000000644 /x
fails "udp!h!1: unknown network 'udp'" -a 'udp!h!1' sync
fails "unix!: no socket path" -a 'unix!' sync
fails "tcp!: no host" -a 'tcp!' sync
fails "tcp!h!1!2: bad port" -a 'tcp!h!1!2' sync
fails "empty address" -a '' sync
fails "dial /nonexistent/sock: No such file or directory" -a 'unix!/nonexistent/sock' read /x
fails "dial tcp!127.0.0.1!1: Connection refused" -a 'tcp!127.0.0.1!1' read /x
: >"$T/ns/plain"
fails "dial $T/ns/plain: Connection refused" -a plain read /x
fails "dial $T/ns/plain: Connection refused" -a "$T/ns/plain" read /x
NAMESPACE= USER=nobody9p DISPLAY=:42 "$NINEP" sync 2>"$T/err"
is "$? $(cat "$T/err")" "1 9p: dial /tmp/ns.nobody9p.:42/gefs: No such file or directory" \
	"without \$NAMESPACE: /tmp/ns.\$USER.\$DISPLAY"
done_testing
