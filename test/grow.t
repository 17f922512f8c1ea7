#!/bin/sh
# gefs -g: four new arenas in the new space (format §10.4), twice, then
# until the 255-arena limit; each grown volume loads and checks.
. "${0%/*}/lib.sh"
scratch
# loads serve 9P on an empty standard input (-s), which ends the server
NAMESPACE=$T/ns
export NAMESPACE
B=16384
img=$T/vol

truncate -s $((1<<30)) $img
"$GEFS" -m 16 -r glenda -f $img >/dev/null || notok "ream"

# the arenas format §10.4 predicts when growing from $1 arenas to size $2
newarenas() {
	end=$(( B + 8*(8189*B + 2*B) ))
	space=$(( $2 - $2 % B - 2*B - $3 ))
	asz=$((space / 4))
	asz=$((asz - asz % B - 2*B))
	i=0
	while [ $i -lt 4 ]; do
		printf '\tarena %d: %d blocks at %x\n' $(($1 + i)) $((asz / B)) $(($3 + i*(asz + 2*B)))
		i=$((i+1))
	done
}

end=$(( B + 8*(8189*B + 2*B) ))
n=8
for size in $((3<<29)) $((2<<30)); do
	truncate -s $size $img
	if "$GEFS" -m 16 -g -f $img >$T/out 2>$T/err; then
		ok "grow to $size bytes"
	else
		notok "grow to $size bytes: $(cat $T/err)"
	fi
	{ echo "growing $img"; newarenas $n $size $end; } >$T/want
	check "$size: four arenas where format §10.4 puts them" cmp -s $T/out $T/want
	n=$((n+4))
	"$GEFS" -m 16 -s -f $img </dev/null >$T/out 2>$T/err
	check "$size: loads with $n arenas" grep -q "^	narenas:	$n\$" $T/err
	check "$size: the independent reader verifies every hash, no leaks" python3 "$top/test/gefsread.py" check $img
	sb1=$(( size - size % B - B ))
	is "$(dd if=$img bs=$B skip=$((sb1 / B)) count=1 2>/dev/null | head -c 8)" "gefs9.00" "$size: the backup superblock is at the new end"
	space=$(( size - size % B - 2*B - end ))
	asz=$((space / 4 - (space / 4) % B - 2*B))
	end=$((end + 4*(asz + 2*B)))
done

# the blocks a grow would rewrite: both superblocks, every arena header
meta() {
	for b in 0 $(( (2<<30) / B - 1 )); do
		dd if=$img bs=$B skip=$b count=1 2>/dev/null
	done | md5sum
	python3 "$top/test/gefsread.py" blocks $img | md5sum
	python3 "$top/test/gefsread.py" freemap $img | md5sum
}
sum=$(meta)
truncate -s $((2<<30 + 32*1024*1024)) $img
"$GEFS" -m 16 -g -f $img >$T/out 2>$T/err
is "$?" 1 "growing into 32 MiB is refused"
check "with upstream's message" grep -q 'new arenas too small (.*), not growing' $T/err
truncate -s $((2<<30)) $img
is "$(meta)" "$sum" "and the volume is untouched"

# grow until the 255-arena limit of format §18.6
size=$((2<<30))
while [ $n -lt 252 ]; do
	size=$((size + 70*1024*1024))
	truncate -s $size $img
	"$GEFS" -m 32 -g -f $img >/dev/null 2>$T/err || break
	n=$((n+4))
done
is "$n" 252 "grown to 252 arenas"
truncate -s $((size + 70*1024*1024)) $img
"$GEFS" -m 32 -g -f $img >/dev/null 2>$T/err
is "$?" 1 "256 arenas are refused"
check "saying so" grep -q 'at most 255' $T/err
"$GEFS" -m 32 -s -f $img </dev/null >/dev/null 2>$T/err
check "252 arenas load" grep -q "^	narenas:	252\$" $T/err
check "and check" python3 "$top/test/gefsread.py" check $img
done_testing
