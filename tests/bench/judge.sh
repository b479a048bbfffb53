# judge.sh - sourced by tests/bench/run.sh (and tests/harness_test.sh):
# whether one bench run produced complete figures.
#
# bench_judge NAME RESULTS BOCHS-STATUS BOCHS-LOG: 0 when RESULTS (the
# run's "bench:" lines) ends in "bench: done" with no "bench: error" line
# anywhere (a failed round is a failed bench, whatever follows it), and
# Bochs ended by the bench's own power-off; otherwise says why on stderr
# and returns 1.  Never looks at a figure's value.
bench_judge() {
	local name=$1 results=$2 rc=$3 blog=$4
	if grep -q '^bench: error' "$results"; then
		echo "bench: $name failed: $(grep -m1 '^bench: error' "$results")" >&2
		return 1
	fi
	if [ "$(tail -n1 "$results")" != "bench: done" ]; then
		echo "bench: $name gave no complete result (no closing \"bench: done\")" >&2
		return 1
	fi
	if [ "$rc" != 1 ] || ! grep -a -q '>>PANIC<< Shutdown port: shutdown requested' "$blog" 2>/dev/null ||
		[ "$(grep -a -c '>>PANIC<<' "$blog")" != 1 ]; then
		echo "bench: $name: Bochs did not end by the bench's power-off (exit status $rc)" >&2
		return 1
	fi
	return 0
}
