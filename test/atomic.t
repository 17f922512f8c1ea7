#!/bin/sh
# san: asan tsan
# atomic.h on this machine; test/atomics.t runs it on the others.
. "${0%/*}/lib.sh"; unit atomic 4
