#!/bin/sh
# The independent reader's own vectors: MetroHash64-1 (format §2.2),
# appendix A, the geometry of format §10.1.
. "${0%/*}/lib.sh"
exec python3 "$top/test/gefsread.py" selftest
