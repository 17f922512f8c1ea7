#!/bin/sh
# san: asan tsan
# Replies on the wire (test/wire.c): pipelined requests and flushes from
# several connections, every reply whole and right, a flushed request
# never answered after its Rflush; a client that stops reading stalls
# nobody else and later gets every reply.
. "${0%/*}/lib.sh"
scratch
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 64 || { notok "gefs starts"; done_testing; exit 1; }
subtap "$top/$O/test/wire" "unix!$NAMESPACE/gefs"
check "gefs still runs" kill -0 $GEFSPID
stopgefs
is "$?" 0 "gefs exits 0 on SIGTERM"
check "every file was let go" sh -c "! grep 'still held' '$T/gefs.log'"
done_testing
