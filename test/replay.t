#!/bin/sh
# san: asan
# test/replay.t: every crash state of five recorded workloads
# (test/replay.c); under ASan, two of them, to keep the time down.
. "${0%/*}/lib.sh"
if [ "$O" = o.asan ]; then
	unit replay -g "$GEFS" rename snap
fi
unit replay -g "$GEFS"
