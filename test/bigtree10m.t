#!/bin/sh
# Ten million keys, inserted in random order and deleted in sequence.
. "${0%/*}/lib.sh"
scratch
export TMPDIR=$T
unit bigtree -1 -m 512 10000000
