#!/bin/sh
# san: asan
# Trees of 1 to 1 million keys (30000 under the sanitizer): insert in
# three orders, delete in another, verify at each stage, shrink to a leaf.
. "${0%/*}/lib.sh"
scratch
export TMPDIR=$T
# unit execs: a subshell keeps the trap that removes $T (and the image)
if [ "$O" = o ]; then
	(unit bigtree 1 10 1000 100000 1000000)
else
	(unit bigtree 1 10 1000 30000)
fi
