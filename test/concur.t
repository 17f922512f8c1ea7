#!/bin/sh
# san: asan tsan
# 50 concurrent clients (test/concur.c): own files, one shared file, one
# shared directory; the results must be exact, then again after a
# restart (what SIGTERM's final sync wrote).
. "${0%/*}/lib.sh"
scratch
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 64 || { notok "gefs starts"; done_testing; exit 1; }
subtap "$top/$O/test/concur" "unix!$NAMESPACE/gefs"
stopgefs
is "$?" 0 "gefs exits 0 on SIGTERM"
startgefs -f "$T/img" -m 64 || { notok "gefs restarts"; done_testing; exit 1; }
subtap "$top/$O/test/concur" -c "unix!$NAMESPACE/gefs"
stopgefs
is "$?" 0 "gefs exits 0 on SIGTERM"
check "every file was let go" sh -c "! grep 'still held' '$T/gefs.log'"
done_testing
