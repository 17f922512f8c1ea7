#!/bin/sh
# The atomics of every machine gefs has hand-written ones for, and the
# on-disk byte order everywhere.  For each target, Debian's cross
# compiler builds test/atomic.c (with the atomic-* file compiled in a
# directory holding nothing but it and atomic.h), test/hash.c and
# test/pack.c, statically, and qemu-user runs them; native runs as is.
# One TAP line per machine for the atomics, one for hash and pack: mips
# is big-endian, arm and power have an unsigned char.  test/atomic runs
# at a larger scale than in test/atomic.t: torn 64-bit loads and missing
# fences show up under qemu only with enough rounds.
#
# A missing compiler or qemu fails, naming the Debian package; see the
# list in "targets" below.
. "${0%/*}/lib.sh"
scratch

# -O2, the warnings of the Makefile; static, so qemu needs no sysroot.
CFLAGS="-std=c11 -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers"
SCALE=${ATOMIC_SCALE:-50}	# test/atomic's iteration multiplier
LIMIT=900			# seconds any one run may take: a hang guard (loaded machines are slow)
LIB="error.c plat.c hash.c pack.c"	# what test/hash and test/pack link

# name, compiler, its Debian packages, qemu (- for native), atomic.h
# implementation, extra flags
nativeatomic=$(make -s -C "$top" CC="${CC:-cc}" --eval='print-atomic: ; @echo $(ATOMIC)' print-atomic)
targets="
native		CC				gcc				-		$nativeatomic	-
native-c11	CC				gcc				-		atomic-c11.c	-
i686		i686-linux-gnu-gcc		gcc-i686-linux-gnu,libc6-dev-i386-cross		qemu-i386	atomic-386.s	-
aarch64		aarch64-linux-gnu-gcc		gcc-aarch64-linux-gnu,libc6-dev-arm64-cross	qemu-aarch64	atomic-arm64.s	-
ppc64le		powerpc64le-linux-gnu-gcc	gcc-powerpc64le-linux-gnu,libc6-dev-ppc64el-cross	qemu-ppc64le	atomic-power64.s	-
armhf		arm-linux-gnueabihf-gcc		gcc-arm-linux-gnueabihf,libc6-dev-armhf-cross	qemu-arm	atomic-arm.c	-mthumb
armhf-arm	arm-linux-gnueabihf-gcc		gcc-arm-linux-gnueabihf,libc6-dev-armhf-cross	qemu-arm	atomic-arm.c	-marm
mips		mips-linux-gnu-gcc		gcc-mips-linux-gnu,libc6-dev-mips-cross		qemu-mips	atomic-mips.c	-
"

# show the tail of a log as TAP comments
show() {
	tail -n 15 "$1" | sed 's/^/#   /'
}

# show what failed in a TAP log; all of its end if it never finished
failures() {
	grep -A2 '^not ok' "$1" | head -n 30 | sed 's/^/#   /'
	grep -q '^1\.\.' "$1" || show "$1"
}

# compile NAME CC FLAGS: atomic.h alone, the atomics beside it alone,
# the part of the library hash.c and pack.c need, then the three test
# programs; 0 if all built
compile() {
	d=$T/$1
	mkdir -p "$d/alone" "$d/lib"
	cp "$top/atomic.h" "$top/$atomic" "$d/alone/"
	printf '#include "atomic.h"\n' >"$d/alone/h.c"
	(
		cd "$d/alone" &&
		$2 $CFLAGS -pedantic $3 -fsyntax-only h.c &&
		case $atomic in
		*.s)	$2 -c -o atomic.o "$atomic" ;;
		*)	$2 $CFLAGS -pedantic $3 -c -o atomic.o "$atomic" ;;
		esac
	) >"$d/build.log" 2>&1 || return 1
	for f in $LIB; do
		$2 $CFLAGS $3 -I"$top" -c -o "$d/lib/${f%.c}.o" "$top/$f" >>"$d/build.log" 2>&1 || return 1
	done
	for t in atomic hash pack; do
		case $t in
		atomic)	objs= ;;
		*)	objs="$d/lib/*.o" ;;
		esac
		$2 $CFLAGS $3 -I"$top" $static -pthread -o "$d/$t" "$top/test/$t.c" $objs \
			"$d/alone/atomic.o" >>"$d/build.log" 2>&1 || return 1
	done
}

# run NAME QEMU PROG ARGS...: 0 if PROG ran to a passing TAP plan
run() {
	n=$1 q=$2 p=$3
	shift 3
	if [ "$q" = - ]; then
		timeout $LIMIT "$T/$n/$p" "$@" >"$T/$n/$p.out" 2>&1
	else
		timeout $LIMIT "$q" "$T/$n/$p" "$@" >"$T/$n/$p.out" 2>&1
	fi
	st=$?
	grep -q '^1\.\.[1-9]' "$T/$n/$p.out" && ! grep -q '^not ok' "$T/$n/$p.out" && [ $st -eq 0 ]
}

# why the last run failed, for its TAP line
why() {
	case $st in
	0)	echo "a test failed" ;;
	124)	echo "killed after $LIMIT s" ;;
	*)	echo "exit $st" ;;
	esac
}

# count the passing tests of a run
passed() {
	grep -c '^ok' "$T/$1/$2.out"
}

echo "$targets" | while read -r name cc pkgs qemu atomic extra; do
	[ -n "$name" ] || continue
	[ "$extra" = - ] && extra=
	[ "$cc" = CC ] && cc=${CC:-cc}
	if [ "$qemu" = - ]; then
		where="$name ($atomic)"
		static=
	else
		where="$name ($atomic under $qemu)"
		static=-static
	fi
	pkgs=$(echo "$pkgs" | tr , ' ')
	missing=
	command -v "$cc" >/dev/null 2>&1 || missing="$cc (Debian: $pkgs)"
	[ "$qemu" = - ] || command -v "$qemu" >/dev/null 2>&1 ||
		missing="${missing:+$missing, }$qemu (Debian: qemu-user)"
	if [ -n "$missing" ]; then
		echo "not ok - atomics on $where: missing $missing"
		[ "$qemu" = - ] || echo "not ok - hash and pack on $name: missing $missing"
		continue
	fi
	if ! compile "$name" "$cc" "$extra"; then
		echo "not ok - atomics on $where: build failed (Debian: $pkgs)"
		show "$T/$name/build.log"
		[ "$qemu" = - ] || echo "not ok - hash and pack on $name: build failed"
		continue
	fi
	if run "$name" "$qemu" atomic $SCALE; then
		echo "ok - atomics on $where: $(passed "$name" atomic) tests, scale $SCALE"
	else
		echo "not ok - atomics on $where: $(why)"
		failures "$T/$name/atomic.out"
	fi
	# The native hash and pack tests are test/hash.t and test/pack.t.
	[ "$qemu" = - ] && continue
	if run "$name" "$qemu" hash && run "$name" "$qemu" pack; then
		order=$(sed -n 's/^# this machine is \(.*\)/\1/p' "$T/$name/hash.out")
		echo "ok - hash and pack on $name under $qemu: $(passed "$name" hash)+$(passed "$name" pack) tests; $order"
	else
		echo "not ok - hash and pack on $name under $qemu"
		for p in hash pack; do
			[ -f "$T/$name/$p.out" ] && failures "$T/$name/$p.out"
		done
	fi
done >"$T/results"

# Number the lines here: the loop above ran in a subshell.
while IFS= read -r line; do
	case $line in
	"ok - "*)	ok "${line#ok - }" ;;
	"not ok - "*)	notok "${line#not ok - }" ;;
	*)		echo "$line" ;;
	esac
done <"$T/results"

# The mips run must really have been big-endian, or the byte-order
# check proved nothing.
if [ -f "$T/mips/hash" ]; then
	is "$(od -An -tx1 -j5 -N1 "$T/mips/hash" | tr -d ' ')" 02 "the mips build is big-endian (ELF MSB)"
	is "$(sed -n 's/^# this machine is \([a-z]*\)-endian.*/\1/p' "$T/mips/hash.out")" big \
		"hash and pack ran big-endian under qemu-mips"
else
	notok "the mips build is big-endian (no mips build)"
fi

# atomic.h alone, with both compilers the project builds with.
printf '#include "atomic.h"\nint main(void){ int32_t x = 0; return aincl(&x, 0); }\n' >"$T/alone.c"
for c in gcc clang; do
	if command -v $c >/dev/null 2>&1; then
		check "atomic.h compiles on its own with $c -pedantic -Werror" \
			$c $CFLAGS -pedantic -I"$top" -fsyntax-only "$T/alone.c"
	else
		notok "atomic.h compiles on its own with $c: no $c (Debian: $c)"
	fi
done
done_testing
