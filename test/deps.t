#!/bin/sh
# mk/deps, with dpkg, id and apt-get replaced by stand-ins that record
# what they were asked: nothing missing does nothing; missing packages get
# installed as root and named otherwise.
. "${0%/*}/lib.sh"
scratch
mkdir "$T/bin" "$T/empty"
cat >"$T/bin/dpkg" <<'STUB'
#!/bin/sh
[ "$1" = -s ] || exit 2
case " $MISSING " in *" $2 "*) echo "package '$2' is not installed" >&2; exit 1 ;; esac
echo "Package: $2"
case " ${REMOVED:-} " in
*" $2 "*) echo "Status: deinstall ok config-files" ;;
*) echo "Status: install ok installed" ;;
esac
STUB
cat >"$T/bin/id" <<'STUB'
#!/bin/sh
[ "$1" = -u ] && echo "$FAKEUID"
STUB
cat >"$T/bin/apt-get" <<'STUB'
#!/bin/sh
echo "$*" >>"$APTLOG"
[ "$1" = install ] && exit "${APTFAIL:-0}"
exit 0
STUB
chmod +x "$T/bin/"*
export APTLOG="$T/apt.log" MISSING= FAKEUID=0

# deps SET [VAR=VALUE...]: run mk/deps SET with the stand-ins and VARs
deps() {
	set=$1
	shift
	: >"$APTLOG"
	env PATH="$T/bin:$PATH" "$@" sh "$top/mk/deps" "$set" >"$T/out" 2>&1
}

# ok_if STATUS DESCRIPTION: ok if STATUS is a failure
ok_if() {
	if [ "$1" -ne 0 ]; then ok "$2"; else notok "$2"; fi
}

deps test
is "$?" 0 "nothing missing: success"
is "$(cat "$T/out")" "" "... silently"
is "$(cat "$APTLOG")" "" "... without apt-get"

deps test MISSING="clang fio" FAKEUID=1000
ok_if $? "not root, packages missing: failure"
check "... naming clang" grep -q clang "$T/out"
check "... and fio" grep -q fio "$T/out"
is "$(cat "$APTLOG")" "" "... without apt-get"

deps test MISSING="clang fio"
is "$?" 0 "root, packages missing: success"
is "$(cat "$APTLOG")" "update
install -y clang fio" "... after apt-get update and install of exactly the missing ones"

deps build REMOVED=fuse3
is "$?" 0 "a removed package whose configuration remains ..."
is "$(tail -n 1 "$APTLOG")" "install -y fuse3" "... is missing and gets installed"

deps build MISSING=clang APTFAIL=100
ok_if $? "apt-get failing: failure"

deps build MISSING="fio stress-ng qemu-user"
is "$?" 0 "test-only packages are not needed to build"
is "$(cat "$APTLOG")" "" "... nor installed"

deps nonsense
is "$?" 2 "an unknown set is a usage error"

PATH=$T/empty /bin/sh "$top/mk/deps" build >"$T/out" 2>&1
is "$?" 0 "no dpkg: carries on"
check "... naming what it could not check" grep -q libfuse3-dev "$T/out"
done_testing
