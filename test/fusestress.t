#!/bin/sh
# stress-ng's file system stressors that 9P2000 can express, through a
# FUSE mount, with --verify.  (The rename stressor moves files between
# two directories: through 9P2000 that is EXDEV every time, which it
# survives.)
. "${0%/*}/lib.sh"
scratch
needfuse
command -v stress-ng >/dev/null || { notok "stress-ng is installed"; done_testing; exit 1; }
bigvol "$T/img" 1G || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 128 || { notok "gefs starts"; done_testing; exit 1; }
M=$T/m
fusemount "$M" || { notok "9pfuse mounts"; done_testing; exit 1; }

# all at once: 9pfuse serves them side by side
stress-ng --temp-path "$M" --dir 2 --dentry 2 --rename 2 --hdd 2 --seek 2 --io 2 \
	--verify --timeout 8 --hdd-bytes 32m --seek-size 16m --metrics-brief >"$T/stress.out" 2>&1
rc=$?
is "$rc" 0 "stress-ng --dir --dentry --rename --hdd --seek --io, 2 each, --verify"
[ "$rc" -eq 0 ] && grep -q "successful run completed" "$T/stress.out" || sed 's/^/#   /' "$T/stress.out"
for s in dir dentry hdd seek io; do
	ops=$(awk -v s=$s '$2 == "metrc:" && $4 == s { print $5; exit }' "$T/stress.out")
	check "stress-ng --$s did something (${ops:-no} bogo ops)" test "${ops:-0}" -gt 0
done
is "$(ls -A "$M")" "" "stress-ng cleaned up after itself"
check "unmount" fuseumount "$M"
stopgefs
is "$?" 0 "gefs exits 0"
done_testing
