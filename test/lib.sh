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
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
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
