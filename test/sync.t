#!/bin/sh
# san: tsan
. "${0%/*}/lib.sh"; unit sync
