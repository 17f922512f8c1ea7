#!/bin/sh
# san: asan
# test/fault.t: EIO, ENOSPC, short and torn writes and failed flushes
# injected by the disk shim at every kind of point of three workloads
# (test/replay.c -F): read-only with a message, nothing synced lost.
. "${0%/*}/lib.sh"; unit replay -F small snap large
