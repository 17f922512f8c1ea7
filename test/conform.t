#!/bin/sh
# san: asan tsan
# 9P2000 conformance (test/conform.c) against a served fresh volume,
# then a clean exit on SIGTERM.
. "${0%/*}/lib.sh"
scratch
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 64 || { notok "gefs starts"; done_testing; exit 1; }
subtap "$top/$O/test/conform" "unix!$NAMESPACE/gefs"
check "gefs still runs" kill -0 $GEFSPID
stopgefs
is "$?" 0 "gefs exits 0 on SIGTERM"
check "the service socket is gone" test ! -e "$NAMESPACE/gefs"
check "every file was let go" sh -c "! grep 'still held' '$T/gefs.log'"
done_testing
