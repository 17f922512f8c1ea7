#!/bin/sh
# san: asan
# test/flip.t: a flipped byte in a data, leaf, pivot and log block is
# detected and reported by gefs -c and by reads, and never served
# (test/replay.c -B).
. "${0%/*}/lib.sh"; unit replay -B -g "$GEFS"
