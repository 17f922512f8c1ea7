#!/bin/sh
# san: asan
. "${0%/*}/lib.sh"; unit fsck
