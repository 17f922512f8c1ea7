#!/bin/sh
# fuzz-fcall: libFuzzer on the 9P decoder, seeded with the valid frames of
# test/fcall, for at most a million inputs or 20 seconds.  Any crash,
# sanitizer report or round-trip difference fails.
. "${0%/*}/lib.sh"
scratch
fuzzer=$top/$O/test/fuzz-fcall
fcall=$top/$O/test/fcall
for x in "$fuzzer" "$fcall"; do
	if [ ! -x "$x" ]; then
		notok "$x is built (run make test, or make fuzz)"
		done_testing
		exit 1
	fi
done
mkdir "$T/seed" "$T/corpus"
"$fcall" -s "$T/seed" >/dev/null
n=$(ls "$T/seed" | wc -l)
check "test/fcall wrote a seed corpus ($n frames)" [ "$n" -gt 20 ]
if "$fuzzer" -seed=1 -runs=1000000 -max_total_time=20 -max_len=4096 \
	-rss_limit_mb=2048 -artifact_prefix="$T/" "$T/corpus" "$T/seed" >"$T/log" 2>&1
then
	ok "fuzzer ran clean: $(grep -o 'Done [0-9]* runs' "$T/log")"
else
	notok "fuzzer found a crash"
	sed 's/^/# /' "$T/log" | tail -40
fi
done_testing
