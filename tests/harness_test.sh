#!/usr/bin/env bash
# harness_test.sh - tests/run.sh must not be able to lie.
#
# Replays tests/run.sh on small fake suites, one way of failing at a time
# (a suite that fails, one whose log quotes a payload's clean summary after
# its own failing count, one that is missing, unlisted, silent, of zero
# checks, killed by its time limit, exiting non-zero with no failure
# counted, leaving a process behind, or needing an emulator that is not
# there under CI=true), and checks that each replay exits non-zero with a
# closing total that counts the failure; a clean fake suite is the control
# that must pass.  Then `make bench`'s judge (tests/bench/judge.sh) on a
# failed round, a cut run, a killed Bochs and a complete run.  Part of `make test` (tests/suites.txt), a few seconds.
. "$(dirname "$0")/system/lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/microhv-harness.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log="$out/harness.replays.txt"
: >"$log"

# fake NAME 'shell body': a suite script tmp/system/NAME.sh.
fake() {
	mkdir -p "$tmp/system"
	printf '#!/usr/bin/env bash\n%s\n' "$2" >"$tmp/system/$1.sh"
}

# replay CASE 'suites lines' [env...]: run.sh on those suites alone, with
# only the listed scripts (and $extra's) in the system directory; sets rc
# and last.
replay() {
	local case=$1 lines=$2
	shift 2
	local dir="$tmp/$case"
	rm -rf "$dir"
	mkdir -p "$dir/system"
	lines=${lines//@SYS@/$dir/system}
	printf '%s\n' "$lines" >"$dir/suites.txt"
	# Each listed script that exists in tmp/system is copied in.
	local name cmd
	while read -r name cmd _; do
		[ -f "$tmp/system/$(basename "$cmd")" ] && cp "$tmp/system/$(basename "$cmd")" "$dir/system/"
	done <<<"$lines"
	# $extra: a script put in the system directory without a suites line.
	[ -n "${extra:-}" ] && cp "$tmp/system/$extra.sh" "$dir/system/"
	(cd "$top" && env "$@" MICROHV_SUITES_FILE="$dir/suites.txt" MICROHV_SYSTEM_DIR="$dir/system" \
		bash tests/run.sh) >"$dir/out.txt" 2>&1
	rc=$?
	last=$(tail -n1 "$dir/out.txt")
	{ echo "=== replay $case: exit $rc, last line: $last"; cat "$dir/out.txt"; } >>"$log"
}

# want CASE WANT-RC-NONZERO(1/0) 'closing line regex' 'description'
want() {
	local ok=1
	if [ "$2" = 1 ] && [ "$rc" = 0 ]; then ok=0; fi
	if [ "$2" = 0 ] && [ "$rc" != 0 ]; then ok=0; fi
	[[ "$last" =~ $3 ]] || ok=0
	if [ "$ok" = 1 ]; then
		pass "$1: $4"
	else
		fail "$1: $4 (exit $rc, closing line \"$last\"; replays in $log)"
	fi
}

s() { echo "$1 @SYS@/$2.sh ${3:--} ${4:-20}"; } # a suites.txt line

fake good 'echo "ok - one"; echo "good: 4 passed, 0 failed"; exit 0'
replay control "$(s control good)"
# The control's script is named good.sh but listed under the name "control":
# its count line names "good", so it must not count.  Then the real control.
want control 1 '^0 passed, 1 failed$' "a count line under another suite's name is not the suite's"
fake control 'echo "control: 4 passed, 0 failed"; exit 0'
replay control "$(s control control)"
want control 0 '^4 passed, 0 failed$' "a clean suite passes with its own count"

# Output with binary bytes (a fuzzer's progress lines, an emulator's
# escapes) before the count line: the count is still read.
fake binary 'printf "progress\\0\\r\\033[K\\n"; echo "binary: 5 passed, 0 failed"; exit 0'
replay binary "$(s binary binary)"
want binary 0 '^5 passed, 0 failed$' "a count line after binary output is read"

fake fails 'echo "fails: 2 passed, 3 failed"; exit 1'
replay failing "$(s fails fails)"
want failing 1 '^2 passed, 3 failed$' "a failing suite's failures are in the total"

# The masking that lib.sh's finish once caused: a payload's clean summary
# quoted from the serial log after the suite's own failing count.
fake masked 'echo "masked: 5 passed, 1 failed"; echo "--- last lines of the serial log:"
echo "nested-test: 122 passed, 0 failed"; echo "l1-test: 26 passed, 0 failed"; exit 1'
replay masked "$(s masked masked)"
want masked 1 '^5 passed, 1 failed$' "a payload's summary after the suite's count does not hide its failure"

replay missing "$(s missing gone)"
want missing 1 '^0 passed, 1 failed$' "a listed suite whose script is gone is a failure"

fake unlisted 'echo "unlisted: 1 passed, 0 failed"; exit 0'
extra=unlisted replay unlisted "$(s control control)"
want unlisted 1 '^4 passed, 1 failed$' "a system test not listed in suites.txt is a failure"

fake zero 'echo "zero: 0 passed, 0 failed"; exit 0'
replay zero "$(s zero zero)"
want zero 1 '^0 passed, 1 failed$' "a suite of zero checks is a failure"

fake silent 'echo "ok - something"; exit 0'
replay silent "$(s silent silent)"
want silent 1 '^0 passed, 1 failed$' "a suite without its count line is a failure"

fake liar 'echo "liar: 3 passed, 0 failed"; exit 2'
replay liar "$(s liar liar)"
want liar 1 '^3 passed, 1 failed$' "a non-zero exit with 0 failures counted is a failure"

fake hangs 'echo "ok - started"; sleep 60; echo "hangs: 1 passed, 0 failed"'
replay killed "$(s hangs hangs - 2)"
want killed 1 '^0 passed, 1 failed$' "a suite killed at its time limit is a failure"

# A suite that leaves a process (an emulator, in real life) running.
marker="microhv-harness-leftover-$$"
fake leaves "bash -c 'exec -a $marker sleep 300' >/dev/null 2>&1 &
echo \"leaves: 2 passed, 0 failed\"; exit 0"
replay leftover "$(s leaves leaves)"
want leftover 1 '^2 passed, 1 failed$' "a process left running by a suite is a failure"
if pgrep -f "$marker" >/dev/null; then
	fail "leftover: run.sh ended the process the suite left behind"
	pkill -KILL -f "$marker"
else
	pass "leftover: run.sh ended the process the suite left behind"
fi

fake needs 'echo "needs: 1 passed, 0 failed"; exit 0'
replay skip-ci "$(s needs needs no-such-emulator-microhv)" CI=true
want skip-ci 1 '^0 passed, 1 failed$' "under CI=true a suite whose emulator is missing is a failure"
replay skip-local "$(s needs needs no-such-emulator-microhv)" -u CI
if [ "$rc" = 0 ] && [[ "$last" =~ ^0\ passed,\ 0\ failed$ ]] &&
	grep -q 'needs: skipped: no-such-emulator-microhv is not installed' "$tmp/skip-local/out.txt"; then
	pass "skip-local: outside CI a missing emulator is a skip, said with the reason"
else
	fail "skip-local: outside CI a missing emulator is a skip, said with the reason (exit $rc, \"$last\")"
fi

# make bench's judge (tests/bench/judge.sh): the old nested bench printed
# "bench: done" after a failed round, and the driver took that as success.
. "$top/tests/bench/judge.sh"
printf '1p[UNMAP ] >>PANIC<< Shutdown port: shutdown requested\n' >"$tmp/bench.bochs.log"
printf 'bench: L2 launched\nbench: error: nested round 3: unexpected exit reason 12\nbench: done\n' \
	>"$tmp/bench-failed.txt"
printf 'bench: L2 launched\nbench: nested CPUID round trip: min 1 mean 2\nbench: done\n' >"$tmp/bench-ok.txt"
printf 'bench: L2 launched\n' >"$tmp/bench-cut.txt"
if bench_judge nested "$tmp/bench-failed.txt" 1 "$tmp/bench.bochs.log" 2>>"$log"; then
	fail "bench: a failed round followed by \"bench: done\" is a failed bench"
else
	pass "bench: a failed round followed by \"bench: done\" is a failed bench"
fi
if bench_judge nested "$tmp/bench-cut.txt" 1 "$tmp/bench.bochs.log" 2>>"$log"; then
	fail "bench: a run without \"bench: done\" is a failed bench"
else
	pass "bench: a run without \"bench: done\" is a failed bench"
fi
if bench_judge nested "$tmp/bench-ok.txt" 137 "$tmp/bench.bochs.log" 2>>"$log"; then
	fail "bench: a complete run whose Bochs was killed is a failed bench"
else
	pass "bench: a complete run whose Bochs was killed is a failed bench"
fi
if bench_judge nested "$tmp/bench-ok.txt" 1 "$tmp/bench.bochs.log" 2>>"$log"; then
	pass "bench: a complete run that powered off is a bench"
else
	fail "bench: a complete run that powered off is a bench"
fi

finish harness
