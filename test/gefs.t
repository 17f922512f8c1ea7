#!/bin/sh
# The gefs command line (runtime §9.1, §12): flags, cache sizes, what
# this build does not do yet, read-only loads.  Loads serve 9P on an
# empty standard input (-s), which ends the server at once.
. "${0%/*}/lib.sh"
scratch
NAMESPACE=$T/ns
export NAMESPACE
img=$T/vol
truncate -s $((128*1024*1024 + 16384)) $img
"$GEFS" -m 16 -r glenda -f $img >/dev/null || notok "ream"

"$GEFS" >$T/out 2>$T/err
is "$?" 2 "no device: usage"
check "the usage line names every flag" grep -q '^usage: .*\[-SARsc\] \[-r user\] \[-m mem\] \[-n srv\] \[-a net\]\.\.\. \[-g\] \[-z seed.*\] \[-d\] -f dev' $T/err
"$GEFS" -x -f $img >$T/out 2>$T/err
is "$?" 2 "an unknown flag: usage"
"$GEFS" -f $img extra >$T/out 2>$T/err
is "$?" 2 "an extra argument: usage"

sum=$(md5sum <$img)
for m in 16 16M 16m 1G 1g 5%; do
	"$GEFS" -m $m -s -f $img </dev/null >$T/out 2>$T/err
	check "-m $m loads" grep -q '^	nextqid:	3$' $T/err
done
check "-m 1G is 1024 MiB" sh -c "'$GEFS' -m 1G -s -f $img </dev/null 2>&1 | grep -q '^	cachesz:	1024 MiB\$'"
"$GEFS" -m 16X -f $img >$T/out 2>$T/err
is "$?" 1 "-m with another suffix fails"
check "unknown suffix X" grep -q 'unknown suffix X' $T/err
"$GEFS" -m 0 -f $img >$T/out 2>$T/err
is "$?" 1 "a cache too small to work in is refused"
check "saying so" grep -q 'cache too small' $T/err
phys=$(( $(getconf _PHYS_PAGES) * $(getconf PAGESIZE) ))
"$GEFS" -s -f $img </dev/null >$T/out 2>$T/err
check "the default cache is a quarter of memory" grep -q "^	cachesz:	$((phys / 4 / 1048576)) MiB\$" $T/err
"$GEFS" -m 10% -s -f $img </dev/null >$T/out 2>$T/err
check "-m 10% is a tenth of memory" grep -q "^	cachesz:	$((phys / 100 * 10 / 1048576)) MiB\$" $T/err
"$GEFS" -m 101% -f $img >$T/out 2>$T/err
is "$?" 1 "-m 101% is refused"

"$GEFS" -m 16 -c -f $img >$T/out 2>$T/err
is "$?" 0 "-c passes on a fresh volume"
is "$(tail -n 1 $T/err)" ok "saying ok last"
for f in "-n other" "-A" "-S" "-d" "-R" "-A -a tcp!127.0.0.1!0" "-a unix!$T/sock"; do
	"$GEFS" -m 16 $f -s -f $img </dev/null >$T/out 2>$T/err
	is "$?" 0 "$f: loads, serves, ends with its input"
	check "$f: the load summary" grep -q '^	nextqid:	3$' $T/err
done
"$GEFS" -m 16 -a 'tcp!*!5640' -s -f $img </dev/null >$T/out 2>$T/err
is "$?" 1 "-a tcp!*!5640 without -A fails"
check "saying why" grep -q 'tcp listener tcp!\*!5640 refused: 9P authentication is not implemented; use -A' $T/err
a=""
i=0
while [ $i -lt 17 ]; do a="$a -a tcp!*!$((6000+i))"; i=$((i+1)); done
"$GEFS" -m 16 $a -f $img >$T/out 2>$T/err
is "$?" 1 "17 announces"
check "are too many" grep -q 'too many announces' $T/err
is "$(md5sum <$img)" "$sum" "loading never wrote to the volume"

done_testing
