#!/bin/sh
# san: asan
# test/kill.t: twenty rounds of writing, committing and kill -9 at a
# random moment; every restart checks clean and holds exactly what was
# synced (test/replay.c -K).  Through the function-level API: the 9P
# version waits for the server's serving path.
. "${0%/*}/lib.sh"; unit replay -K
