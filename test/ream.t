#!/bin/sh
# gefs -r: the minimum size, 1 GiB and 100 GiB (sparse) volumes, checked
# against format §10.1 and by the independent reader; a disk too small;
# then the load summary of each (serving an empty standard input).
. "${0%/*}/lib.sh"
scratch
NAMESPACE=$T/ns
export NAMESPACE
B=16384

# the progress lines format §10.1 predicts for a device of $1 bytes
arenas() {
	sz=$(($1 - $1 % B - 2*B))
	n=$(( (sz + (4<<40) - 1) / (4<<40) ))
	[ $n -lt 8 ] && n=8
	[ $n -gt 32 ] && n=32
	asz=$((sz / n))
	asz=$((asz - asz % B - 2*B))
	i=0
	while [ $i -lt $n ]; do
		printf '\tarena %d: %d blocks at %x\n' $i $((asz / B)) $((B + i*(asz + 2*B)))
		i=$((i+1))
	done
}

for size in $((128*1024*1024 + B)) $((1<<30)) $((100<<30)); do
	img=$T/vol
	rm -f $img
	truncate -s $size $img
	if "$GEFS" -m 16 -r glenda -f $img >$T/out 2>$T/err; then
		ok "ream $size bytes"
	else
		notok "ream $size bytes: $(cat $T/err)"
	fi
	{ echo "reaming $img"; arenas $size; } >$T/want
	check "$size: progress lines and geometry as format §10.1" cmp -s $T/out $T/want
	check "$size: the independent reader finds what format §6.5/§17.9 says ream writes" \
		python3 "$top/test/gefsread.py" check $img --ream glenda
	"$GEFS" -m 16 -s -f $img </dev/null >$T/out 2>$T/err
	is "$?" 0 "$size: loads and serves an empty standard input"
	check "$size: the load summary" grep -q "^load $img:" $T/err
	for l in 'narenas:	8' 'features:	0' 'nextqid:	3' 'lastqgen:	0' 'nextgen:	3' 'blocksize:	16384' 'cachesz:	16 MiB'; do
		check "$size: summary line '$l'" grep -q "^	$l\$" $T/err
	done
done
kb=$(du -k $img | cut -f1)
check "the 100 GiB volume stays sparse ($kb KiB on disk)" [ "$kb" -lt 4096 ]

truncate -s $((128*1024*1024)) $T/small
"$GEFS" -m 16 -r glenda -f $T/small >$T/out 2>$T/err
is "$?" 1 "a disk one block too small is refused"
check "with upstream's message" grep -q 'ream: disk too small' $T/err
check "and left untouched" cmp -s -n $((128*1024*1024)) $T/small /dev/zero

"$GEFS" -m 16 -r none -f $T/vol >$T/out 2>$T/err
is "$?" 1 "the ream user may not be none"
"$GEFS" -m 16 -r glenda -f $T/nonexistent >$T/out 2>$T/err
is "$?" 1 "a missing device fails"
check "naming it" grep -q "$T/nonexistent" $T/err
"$GEFS" -m 16 -r glenda -f $T >$T/out 2>$T/err
is "$?" 1 "a directory is neither a file nor a block device"

truncate -s $((1<<30)) $T/zero
"$GEFS" -m 16 -f $T/zero >$T/out 2>$T/err
is "$?" 1 "an empty device does not load"
check "no valid superblock, with what was found" grep -q 'no valid superblock.*unknown fs version' $T/err
done_testing
