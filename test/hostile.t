#!/bin/sh
# san: asan tsan
# Malformed bytes (test/hostile.c): each closes its own connection only;
# the server keeps serving and exits cleanly.
. "${0%/*}/lib.sh"
scratch
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 64 || { notok "gefs starts"; done_testing; exit 1; }
subtap "$top/$O/test/hostile" "unix!$NAMESPACE/gefs"
check "gefs still runs" kill -0 $GEFSPID
stopgefs
is "$?" 0 "gefs exits 0 on SIGTERM"
check "every file was let go" sh -c "! grep 'still held' '$T/gefs.log'"
done_testing
