#!/bin/sh
# san: asan
# test/full.t: a full volume (test/replay.c -S): writes fail with
# "file system full", commits, deletions and snapshot deletion still
# work and make room, the reserve switch lets an administrator write.
. "${0%/*}/lib.sh"; unit replay -S
