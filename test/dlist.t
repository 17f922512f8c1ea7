#!/bin/sh
# san: asan
. "${0%/*}/lib.sh"; TOP=$top; export TOP; unit dlist
