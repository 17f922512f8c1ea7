#!/bin/sh
# test/replay.t: every crash state of five recorded workloads (test/replay.c).
. "${0%/*}/lib.sh"; unit replay -g "$GEFS"
