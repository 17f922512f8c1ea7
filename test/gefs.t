#!/bin/sh
# The gefs command line (runtime §9.1, §12): flags, cache sizes, what
# this build does not do yet, read-only loads.
. "${0%/*}/lib.sh"
scratch
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
	"$GEFS" -m $m -f $img >$T/out 2>$T/err
	check "-m $m loads" grep -q '^	nextqid:	3$' $T/err
done
check "-m 1G is 1024 MiB" sh -c "'$GEFS' -m 1G -f $img 2>&1 | grep -q '^	cachesz:	1024 MiB\$'"
"$GEFS" -m 16X -f $img >$T/out 2>$T/err
is "$?" 1 "-m with another suffix fails"
check "unknown suffix X" grep -q 'unknown suffix X' $T/err
"$GEFS" -m 0 -f $img >$T/out 2>$T/err
is "$?" 1 "a cache too small to work in is refused"
check "saying so" grep -q 'cache too small' $T/err
phys=$(( $(getconf _PHYS_PAGES) * $(getconf PAGESIZE) ))
"$GEFS" -f $img >$T/out 2>$T/err
check "the default cache is a quarter of memory" grep -q "^	cachesz:	$((phys / 4 / 1048576)) MiB\$" $T/err
"$GEFS" -m 10% -f $img >$T/out 2>$T/err
check "-m 10% is a tenth of memory" grep -q "^	cachesz:	$((phys / 100 * 10 / 1048576)) MiB\$" $T/err
"$GEFS" -m 101% -f $img >$T/out 2>$T/err
is "$?" 1 "-m 101% is refused"

"$GEFS" -m 16 -c -f $img >$T/out 2>$T/err
is "$?" 0 "-c passes on a fresh volume"
is "$(tail -n 1 $T/err)" ok "saying ok last"
for f in "-s" "-n other" "-a tcp!*!5640" "-A" "-S" "-d" "-R"; do
	"$GEFS" -m 16 $f -f $img >$T/out 2>$T/err
	is "$?" 1 "$f: loads, then fails"
	check "$f: saying 9P serving is not in this build" grep -q 'serving 9P is not implemented' $T/err
done
a=""
i=0
while [ $i -lt 17 ]; do a="$a -a tcp!*!$((6000+i))"; i=$((i+1)); done
"$GEFS" -m 16 $a -f $img >$T/out 2>$T/err
is "$?" 1 "17 announces"
check "are too many" grep -q 'too many announces' $T/err
is "$(md5sum <$img)" "$sum" "loading never wrote to the volume"

done_testing
