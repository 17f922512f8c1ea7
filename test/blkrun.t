#!/bin/sh
# san: asan tsan
. "${0%/*}/lib.sh"; unit blkrun
