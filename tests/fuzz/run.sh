#!/usr/bin/env bash
# run.sh SECONDS NAME... - runs each built harness build/fuzz/NAME for
# SECONDS (libFuzzer's -max_total_time) and prints one line per harness:
#   fuzz: NAME: N execs, M crashes
# N is libFuzzer's final "Done N runs"; M the crash-*, leak-*, timeout-*
# and oom-* artifacts it wrote.  Each run starts from the committed seed
# corpus tests/fuzz/corpus/NAME (read only: the second corpus directory)
# and writes what it finds to build/fuzz/corpus/NAME, which later runs
# reuse; artifacts and the full log go to build/fuzz/out/NAME/.
# Exit status 1 if any harness crashed, did not build or reported no runs.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

seconds=$1
shift
status=0
for name in "$@"; do
	bin=build/fuzz/$name
	out=build/fuzz/out/$name
	corpus=build/fuzz/corpus/$name
	seeds=tests/fuzz/corpus/$name
	rm -rf "$out"
	mkdir -p "$out" "$corpus"
	dirs=("$corpus")
	[ -d "$seeds" ] && dirs+=("$seeds")
	if [ ! -x "$bin" ]; then
		echo "fuzz: $name: 0 execs, 0 crashes (not built)"
		status=1
		continue
	fi
	# -rss_limit_mb: the fixture maps one L1 memory; anything near this is a leak.
	# Bounded from outside too, in case the harness itself hangs.
	timeout -s KILL $((seconds + 120)) "$bin" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" \
		"${dirs[@]}" >"$out/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$out/log" | tail -1)
	if [ -z "$execs" ]; then # a crash ends the run before "Done"
		execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$out/log" | tail -1)
	fi
	crashes=$(find "$out" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' \) | wc -l)
	echo "fuzz: $name: ${execs:-0} execs, $crashes crashes"
	if [ "$crashes" -ne 0 ] || [ -z "$execs" ] || [ "$rc" -ne 0 ]; then
		status=1
		echo "fuzz: $name: libFuzzer exit status $rc; log: $out/log"
		grep -m1 -A3 '^==== fuzz:\|ERROR: \(AddressSanitizer\|libFuzzer\|UndefinedBehavior\)' \
			"$out/log" | sed 's/^/  /'
		for a in "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*; do
			[ -e "$a" ] && echo "fuzz: $name: reproduce: $bin $a"
		done
	fi
done
exit $status
