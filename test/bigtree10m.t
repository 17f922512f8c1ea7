#!/bin/sh
# Ten million keys, inserted in random order and deleted in sequence,
# with a 512 MiB cache.  It takes about 7 minutes on a 2-core machine,
# so it runs only when asked: GEFS_BIG=1 prove test/bigtree10m.t
. "${0%/*}/lib.sh"
if [ "${GEFS_BIG:-0}" != 1 ]; then
	echo "1..0 # SKIP ten million keys take minutes: set GEFS_BIG=1"
	exit 0
fi
scratch
export TMPDIR=$T
unit bigtree -1 -m 512 10000000
