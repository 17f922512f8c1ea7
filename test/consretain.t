#!/bin/sh
# Retention through the console (format §17.1, gefs(8)): set main retain
# with the testing clock "debug clock", automatic snapshots taken and
# trimmed as the clock moves, their contents, a change of schedule, a
# restart.
. "${0%/*}/lib.sh"
scratch
mkvol "$T/img" || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 64 || { notok "gefs starts"; done_testing; exit 1; }
N="$NINEP -u glenda"
t0=1700000000		# 2023-11-14 22:13:20 UTC

autos() {
	"$GEFSCONS" snap -l | sed -n 's/^snap \(main@[^ ]*\).*/\1/p'
}

# The clock first: a mount loaded before would see the wall clock.  The
# timer ticks every few seconds too, with the same clock: after each
# change of schedule the test ticks at once, so that the count of a new
# unit starts at a known time whether or not the timer came first.
con debug clock $t0
is "$rc $out" "0 clock → $t0" "debug clock sets the clock"
con set main retain 2@m
is "$rc $out" "0 " "set main retain 2@m"
holdmount main || notok "main held"
con debug clock $t0
is "$(autos)" "" "the first tick takes nothing: it starts the count"

echo v1 | $N write data
con debug clock $((t0 + 60))
is "$(autos)" "main@minute.2023.11.14_22:14:20" "a minute later: the first automatic snapshot"
echo v2 | $N write data
con debug clock $((t0 + 90))
is "$(autos)" "main@minute.2023.11.14_22:14:20" "within the same minute: nothing more"
con debug clock $((t0 + 120))
con debug clock $((t0 + 180))
is "$(autos)" "main@minute.2023.11.14_22:15:20
main@minute.2023.11.14_22:16:20" "two kept: the oldest was deleted when the third was taken"
is "$($N -A main@minute.2023.11.14_22:15:20 read data)" "v2" "an automatic snapshot holds main as it was"
is "$($N -A dump ls / | grep -c '@')" 2 "they are in the dump directory"
echo x | $N -A main@minute.2023.11.14_22:15:20 write data 2>/dev/null
is "$?" 1 "and read-only"
con debug clock $((t0 + 3600))
is "$(autos)" "main@minute.2023.11.14_22:16:20
main@minute.2023.11.14_23:13:20" "an hour later: no hourly ones, 2@m names none"

# a new schedule: no minutely ones, so they go; one hourly
con set main retain 1@h
con debug clock $((t0 + 3600))
is "$(autos)" "" "1@h: the minutely ones are deleted"
con debug clock $((t0 + 7200))
is "$(autos)" "main@hour.2023.11.15_00:13:20" "an hour later, an hourly one"
con debug clock $((t0 + 10800))
is "$(autos)" "main@hour.2023.11.15_01:13:20" "1@h keeps one"
is "$("$GEFSCONS" snap -l | grep -vc @)" 3 "adm, empty and main are untouched"
echo "$($N -A adm read status | grep '^conf retain main')" >"$T/conf"
is "$(cat "$T/conf")" "conf retain main 1@h" "status shows main's schedule"

# none stored: nothing is taken
con set main retain ''
con debug clock $((t0 + 14400))
is "$(autos)" "" "an empty schedule takes nothing and deletes the automatic ones"
con set main retain '@d'
con debug clock $((t0 + 14400))
con debug clock $((t0 + 86400))
con debug clock $((t0 + 2*86400))
is "$(autos)" "main@day.2023.11.16_22:13:20" "@d: a daily one when the day changes"

# across a restart the newest one gives the time of the last
releasemount
stopgefs
is "$?" 0 "gefs exits 0"
startgefs -f "$T/img" -m 64 || notok "gefs restarts"
con debug clock $((t0 + 2*86400 + 60))
holdmount main || notok "main held again"
con debug clock $((t0 + 2*86400 + 120))
is "$(autos)" "main@day.2023.11.16_22:13:20" "restarted the same day: no second daily one"
con debug clock $((t0 + 3*86400))
is "$(autos)" "main@day.2023.11.16_22:13:20
main@day.2023.11.17_22:13:20" "the next day: another, every daily one kept"

# a mount nobody holds takes none
releasemount
con debug clock $((t0 + 4*86400))
is "$(autos | wc -l)" 2 "nobody holds main: no snapshot"
con debug clock now
now=$(date +%s)
case "$out" in
"clock → "*)	d=$((now - ${out#clock → })) ;;
*)	d=999 ;;
esac
check "debug clock now: the wall clock again ($out)" [ "$d" -ge 0 -a "$d" -lt 60 ]
stopgefs
is "$?" 0 "gefs exits 0"
done_testing
