#!/bin/sh
# san: asan tsan
# The tree fuzzer (gefs -z): 20 seeds on the default build, a few short
# runs under the sanitizers.  Each run reams a scratch image, checks
# readers against the model, and ends with every key deleted.
. "${0%/*}/lib.sh"
scratch
export TMPDIR=$T
case $O in
o)	seeds=$(seq 1 20); steps=3000 ;;
o.tsan)	seeds="1"; steps=200 ;;
*)	seeds="1 2 3"; steps=300 ;;
esac
for s in $seeds; do
	out=$("$GEFS" -z "$s,$steps" 2>&1)
	if [ $? -eq 0 ]; then
		ok "seed $s: ${out##*: }"
	else
		notok "seed $s"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done
"$GEFS" -z 1,x >/dev/null 2>&1
is $? 1 "a malformed -z argument is refused"
out=$("$GEFS" -z 7,0,1 2>&1)
is $? 0 "zero random steps: an empty tree stays one leaf"
done_testing
