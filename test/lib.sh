# test/lib.sh: shared by the shell tests.  Source it, then use:
#   unit NAME	run the C unit test NAME from the build under test
#   ok/notok/is	TAP lines; done_testing at the end
#
# GEFS_O selects the build under test: o (default), o.asan or o.tsan.
# Programs of the default build are at the repository root.

top=$(cd "${0%/*}/.." && pwd)
O=${GEFS_O:-o}
if [ "$O" = o ]; then BIN=$top; else BIN=$top/$O; fi
GEFS=$BIN/gefs
NINEP=$BIN/9p
NINEPFUSE=$BIN/9pfuse
GEFSCONS=$BIN/gefscons
tapn=0
tapfail=0

unit() {
	exe=$top/$O/test/$1
	if [ ! -x "$exe" ]; then
		echo "1..1"
		echo "not ok 1 - $1 is not built ($exe): run make first"
		exit 1
	fi
	shift
	exec "$exe" "$@"
}

ok() {
	tapn=$((tapn+1))
	echo "ok $tapn - $*"
}

notok() {
	tapn=$((tapn+1))
	tapfail=$((tapfail+1))
	echo "not ok $tapn - $*"
	# on stderr too, which prove shows: a CI log then names it
	echo "# test $tapn failed: $*" >&2
}

# check DESCRIPTION COMMAND...: ok if the command succeeds
check() {
	d=$1; shift
	if "$@"; then ok "$d"; else notok "$d"; fi
}

# is GOT WANT DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		notok "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2" >&2
	fi
}

diag() {
	printf '# %s\n' "$*"
}

done_testing() {
	echo "1..$tapn"
	[ "$tapfail" -eq 0 ]
}

# scratch directory, removed at exit
scratch() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/gefs-test.XXXXXX")
	trap 'cleanup' EXIT
}

cleanup() {
	[ -n "${cleanups:-}" ] && eval "$cleanups"
	[ -n "${T:-}" ] && rm -rf "$T"
}

# ----------------------------------------------- a served volume (fs.c tests)
#   mkvol IMG [USER]	a sparse 256 MiB image, reamed for USER (glenda)
#			by the plain build if there is one
#   startgefs ARGS...	gefs ARGS in the background, its service directory
#			$NAMESPACE=$T/ns (exported); waits until the service
#			${GEFSNAME:-gefs} answers; sets GEFSPID; stops the
#			retention clock (debug clock 1700000000)
#   stopgefs		SIGTERM, wait (a minute at most, then SIGKILL):
#			returns gefs's exit status
#   subtap CMD...	run a C test speaking TAP; its lines join ours
mkvol() {
	# ream is not under test here: the plain build is much faster than TSan's
	ream=$GEFS
	[ -x "$top/gefs" ] && ream=$top/gefs
	rm -f "$1"
	truncate -s 256M "$1" && "$ream" -r "${2:-glenda}" -f "$1" >"$T/ream.log" 2>&1
}

startgefs() {
	NAMESPACE=$T/ns
	export NAMESPACE
	"$GEFS" "$@" >>"$T/gefs.log" 2>&1 &
	GEFSPID=$!
	cleanups="${cleanups:-}kill $GEFSPID 2>/dev/null; "
	# serving: a leftover socket of an earlier server would not answer
	i=0
	until "$NINEP" -a "${GEFSNAME:-gefs}" -u none stat / >/dev/null 2>&1; do
		i=$((i+1))
		if [ $i -gt 600 ] || ! kill -0 $GEFSPID 2>/dev/null; then
			diag "gefs $* did not start:"
			sed 's/^/#   /' "$T/gefs.log"
			return 1
		fi
		sleep 0.05
	done
	# A clock that stands still: with the wall clock, a main held across
	# a minute (hour, day) boundary gets an automatic snapshot, which
	# keeps what the test then removes and expects back.  Tests of
	# retention set the clock themselves.
	if ! "$GEFSCONS" -n "${GEFSNAME:-gefs}" debug clock 1700000000 >"$T/clock.out" 2>&1; then
		diag "gefs $*: debug clock failed:"
		sed 's/^/#   /' "$T/clock.out"
		return 1
	fi
}

stopgefs() {
	kill $GEFSPID
	# a server that does not stop within a minute is killed: status 137
	i=0
	while :; do
		case "$(ps -o stat= -p $GEFSPID 2>/dev/null)" in
		""|Z*)	break ;;
		esac
		i=$((i+1))
		if [ $i -gt 1200 ]; then
			diag "gefs did not stop within a minute"
			kill -9 $GEFSPID
			break
		fi
		sleep 0.05
	done
	wait $GEFSPID
}

# ------------------------------------------------- the console (cons.c tests)
#   con ARGS...		gefscons ARGS on the served volume: output in $out
#			(standard error included), status in $rc
#   holdmount ANAME	keep ANAME attached (as glenda) until releasemount:
#			a 9p write blocked on a FIFO holds its fid
con() {
	out=$("$GEFSCONS" "$@" 2>&1)
	rc=$?
}

holdmount() {
	rm -f "$T/hold.fifo"
	mkfifo "$T/hold.fifo"
	"$NINEP" -u glenda -A "$1" write .hold.$$ <"$T/hold.fifo" &
	HOLDPID=$!
	exec 9>"$T/hold.fifo"
	cleanups="${cleanups:-}kill $HOLDPID 2>/dev/null; "
	# attached once the file it writes exists
	i=0
	until "$NINEP" -u glenda -A "$1" stat .hold.$$ >/dev/null 2>&1; do
		i=$((i+1))
		[ $i -gt 600 ] && return 1
		sleep 0.05
	done
}

releasemount() {
	exec 9>&-
	wait $HOLDPID
}

subtap() {
	"$@" >"$T/sub.tap" 2>"$T/sub.err"
	subrc=$?
	while IFS= read -r line; do
		case "$line" in
		"ok "*)		ok "${line#ok [0-9]* - }" ;;
		"not ok "*)	notok "${line#not ok [0-9]* - }" ;;
		"1.."*)		;;
		*)		echo "$line" ;;
		esac
	done <"$T/sub.tap"
	[ -s "$T/sub.err" ] && sed 's/^/# /' "$T/sub.err"
	is "$subrc" 0 "${1##*/} exits 0"
}

# ------------------------------------------------ FUSE mounts (9pfuse tests)
#   needfuse		fail (not skip) unless FUSE works here
#   bigvol IMG SIZE	a sparse image of SIZE, reamed for glenda
#   fusemount DIR ARGS...	9pfuse ARGS... unix!$NAMESPACE/gefs DIR as glenda,
#			returns when mounted; unmounted at exit in any case
#   fusemountfg DIR ARGS...	the same with -f in the background, stderr to
#			$T/9pfuse.fg.log; sets FUSEPID; returns when mounted
#   fuseumount DIR	unmount DIR; 0 if it was mounted and now is not
#   ismounted DIR	DIR is a FUSE mount point now
needfuse() {
	for need in "$NINEPFUSE" /dev/fuse; do
		if [ ! -e "$need" ]; then
			notok "FUSE is available: $need is missing"
			done_testing
			exit 1
		fi
	done
	if ! command -v fusermount3 >/dev/null; then
		notok "FUSE is available: no fusermount3 (Debian package fuse3)"
		done_testing
		exit 1
	fi
}

bigvol() {
	ream=$GEFS
	[ -x "$top/gefs" ] && ream=$top/gefs
	rm -f "$1"
	truncate -s "$2" "$1" && "$ream" -r glenda -f "$1" >"$T/ream.log" 2>&1
}

ismounted() {
	awk -v d="$1" '$2 == d && $3 ~ /^fuse/ { f = 1 } END { exit !f }' /proc/self/mounts
}

fusemount() {
	fd=$1; shift
	mkdir -p "$fd"
	cleanups="fusermount3 -u -q '$fd' 2>/dev/null || umount -l '$fd' 2>/dev/null; ${cleanups:-}"
	"$NINEPFUSE" -u glenda "$@" "unix!$NAMESPACE/${GEFSNAME:-gefs}" "$fd" 2>>"$T/9pfuse.log"
}

fusemountfg() {
	fd=$1; shift
	mkdir -p "$fd"
	"$NINEPFUSE" -f -u glenda "$@" "unix!$NAMESPACE/${GEFSNAME:-gefs}" "$fd" 2>>"$T/9pfuse.fg.log" &
	FUSEPID=$!
	cleanups="fusermount3 -u -q '$fd' 2>/dev/null || umount -l '$fd' 2>/dev/null; kill $FUSEPID 2>/dev/null; ${cleanups:-}"
	i=0
	until ismounted "$fd"; do
		i=$((i+1))
		if [ $i -gt 600 ] || ! kill -0 $FUSEPID 2>/dev/null; then
			diag "9pfuse -f $* did not mount:"
			sed 's/^/#   /' "$T/9pfuse.fg.log"
			return 1
		fi
		sleep 0.05
	done
}

fuseumount() {
	ismounted "$1" || return 1
	# anything walking /tmp may be passing through: busy is retried, for
	# a minute at most (a loaded machine); then who holds it is shown
	i=0
	until fusermount3 -u "$1" 2>"$T/fusermount.err"; do
		i=$((i+1))
		if [ $i -gt 600 ] || ! grep -q busy "$T/fusermount.err"; then
			sed 's/^/#   /' "$T/fusermount.err"
			fuser -vm "$1" 2>&1 | sed 's/^/#   /'
			return 1
		fi
		sleep 0.1
	done
	! ismounted "$1"
}
