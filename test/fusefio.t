#!/bin/sh
# fio through a FUSE mount: sequential and random writes verified with
# crc32c as they are read back, by two jobs at once; then after a
# remount (nothing cached) the same files verified again.
. "${0%/*}/lib.sh"
scratch
needfuse
command -v fio >/dev/null || { notok "fio is installed"; done_testing; exit 1; }
bigvol "$T/img" 1G || { notok "ream"; done_testing; exit 1; }
startgefs -f "$T/img" -m 128 || { notok "gefs starts"; done_testing; exit 1; }
M=$T/m
cd "$T" || exit 1
fusemount "$M" || { notok "9pfuse mounts"; done_testing; exit 1; }

# fiojob NAME RW BS SIZE [EXTRA...]: write then verify; ok if fio agrees
fiojob() {
	name=$1 rw=$2 bs=$3 size=$4
	shift 4
	fio --name="$name" --directory="$M" --rw="$rw" --bs="$bs" --size="$size" \
		--ioengine=psync --fallocate=none --verify=crc32c --verify_fatal=1 --verify_state_save=0 \
		--do_verify=1 --numjobs=2 --group_reporting "$@" >"$T/$name.out" 2>&1
	rc=$?
	is "$rc" 0 "fio $name: $rw, ${bs}B blocks, 2 jobs of $size, crc32c verified"
	[ "$rc" -eq 0 ] || tail -20 "$T/$name.out" | sed 's/^/#   /'
}

fiojob seq write 128k 48m
fiojob rand randwrite 4k 16m
fiojob mixed randrw 16k 16m --rwmixread=30 --verify_backlog=64
fiojob big write 1m 32m

check "unmount" fuseumount "$M"
fusemount "$M" || notok "9pfuse mounts again"
for name in seq rand big; do
	case $name in seq) rw=write bs=128k size=48m ;; rand) rw=randwrite bs=4k size=16m ;; big) rw=write bs=1m size=32m ;; esac
	fio --name=$name --directory="$M" --rw=$rw --bs=$bs --size=$size --numjobs=2 \
		--ioengine=psync --verify=crc32c --verify_only --verify_fatal=1 --verify_state_save=0 --group_reporting >"$T/$name.again" 2>&1
	rc=$?
	is "$rc" 0 "fio $name verified again after a remount"
	[ "$rc" -eq 0 ] || tail -20 "$T/$name.again" | sed 's/^/#   /'
done
check "unmount" fuseumount "$M"
stopgefs
is "$?" 0 "gefs exits 0"
done_testing
