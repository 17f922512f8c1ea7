#!/bin/sh
# test.sh: install what the tests need, then run the whole test suite
# (make test: every test/*.t under prove, then the sanitizer builds).
set -u
cd "$(dirname "$0")"
sh mk/deps test || exit 1
exec make -j"$(nproc 2>/dev/null || echo 2)" test
