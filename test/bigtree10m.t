#!/bin/sh
# Ten million keys with a 512 MiB cache, inserted in random order and
# deleted in key order, verified as test/bigtree.c verifies every size:
# a full scan and 100000 sampled lookups (present and absent keys) after
# inserting, halfway and at the end, a full tree check after inserting
# and once empty, the height grown and back to one leaf.  Cut against
# the smaller sizes of bigtree.t: the other two pairs of orders, which
# would triple the time.  Key-order deletion is the order that used to
# take minutes here (tree.c drainable); it takes about two minutes of
# CPU now (user+sys, 2-core machine).
. "${0%/*}/lib.sh"
scratch
export TMPDIR=$T
(unit bigtree -1 -m 512 10000000)
