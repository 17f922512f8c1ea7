#!/bin/sh
# make install DESTDIR=... PREFIX=... installs every program this checkout
# builds and every manual page in man/, where they belong, and nothing else.
. "${0%/*}/lib.sh"
scratch

# program and the main file that makes the Makefile build it
progs="gefs:main.c 9p:cmd/9p.c 9pfuse:cmd/9pfuse.c gefscons:cmd/gefscons.c"

for prefix in /usr/local /opt/gefs; do
	root=$T/root$(echo "$prefix" | tr / _)
	if make -s -C "$top" install DESTDIR="$root" PREFIX="$prefix" >"$T/out" 2>&1; then
		ok "make install PREFIX=$prefix"
	else
		notok "make install PREFIX=$prefix"
		sed 's/^/# /' "$T/out"
		continue
	fi
	: >"$T/want"
	for pm in $progs; do
		p=${pm%%:*}
		[ -e "$top/${pm#*:}" ] || continue
		f=$root$prefix/bin/$p
		echo "$f" >>"$T/want"
		check "$p is built" test -x "$top/$p"
		check "$p installed in $prefix/bin, executable" test -x "$f"
		check "$p installed unchanged" cmp -s "$top/$p" "$f"
	done
	for m in "$top"/man/*.[148]; do
		[ -e "$m" ] || continue
		b=${m##*/}
		f=$root$prefix/share/man/man${b##*.}/$b
		echo "$f" >>"$T/want"
		check "manual page $b installed unchanged" cmp -s "$m" "$f"
		is "$(stat -c %a "$f" 2>/dev/null)" 644 "manual page $b is mode 644"
	done
	find "$root" -type f | sort >"$T/got"
	sort -o "$T/want" "$T/want"
	if cmp -s "$T/got" "$T/want"; then
		ok "nothing else is installed under DESTDIR"
	else
		notok "nothing else is installed under DESTDIR"
		diff "$T/want" "$T/got" | sed 's/^/# /'
	fi
done
done_testing
