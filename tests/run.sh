#!/usr/bin/env bash
# run.sh - the whole test suite (what `make test` runs, after building).
#
# Runs the host unit tests and every system test (tests/system/*.sh), each
# of which ends in a line "SUITE: N passed, N failed", and adds them up into
# the closing line "N passed, N failed".  Exit status 0 only if nothing failed
# and every suite reported its counts (a suite that died without its count
# line counts as one failure).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

total_pass=0
total_fail=0

run_suite() { # name command...
	local name=$1
	shift
	echo "=== $name"
	local outf
	outf=$(mktemp)
	"$@" 2>&1 | tee "$outf"
	local line
	line=$(grep -E '^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed$' "$outf" | tail -n1)
	if [ -z "$line" ]; then
		echo "$name: no result line: counted as 1 failure"
		total_fail=$((total_fail + 1))
	else
		local p f
		p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
		f=$(sed -E 's/.*, ([0-9]+) failed$/\1/' <<<"$line")
		total_pass=$((total_pass + p))
		total_fail=$((total_fail + f))
	fi
	rm -f "$outf"
}

run_suite unit build/unit/run-tests
for t in tests/system/*.sh; do
	[ "$(basename "$t")" = lib.sh ] && continue
	run_suite "$(basename "$t" .sh)" bash "$t"
done

# Leftover emulators would hold image locks and CPU: there must be none.
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
