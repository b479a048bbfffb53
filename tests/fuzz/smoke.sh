#!/usr/bin/env bash
# smoke.sh - the fuzzers' smoke check in `make test` (tests/suites.txt):
# builds every harness tests/fuzz/fuzz_*.c (make fuzz-build) and runs each
# for FUZZ_SMOKE_SECONDS (10) through tests/fuzz/run.sh.  One check per
# harness: built, ran at least 1000 executions, no crash.  Ends with
# "fuzz-smoke: N passed, N failed".  make fuzz runs them longer.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

seconds=${FUZZ_SMOKE_SECONDS:-10}
pass=0
fail=0
mkdir -p build/fuzz
make -s fuzz-build >build/fuzz/smoke-build.log 2>&1 || {
	echo "fuzz-smoke: make fuzz-build failed:"
	tail -20 build/fuzz/smoke-build.log
}
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	line=$(tests/fuzz/run.sh "$seconds" "$name" | tee /dev/stderr | grep "^fuzz: $name: " | head -1)
	execs=$(sed -n 's/^fuzz: [^:]*: \([0-9]*\) execs, \([0-9]*\) crashes.*/\1/p' <<<"$line")
	crashes=$(sed -n 's/^fuzz: [^:]*: \([0-9]*\) execs, \([0-9]*\) crashes.*/\2/p' <<<"$line")
	if [ -x "build/fuzz/$name" ] && [ "${execs:-0}" -ge 1000 ] && [ "${crashes:-1}" -eq 0 ]; then
		echo "ok   $name: ${execs} execs, 0 crashes in ${seconds}s"
		pass=$((pass + 1))
	else
		echo "FAIL $name: built $([ -x "build/fuzz/$name" ] && echo yes || echo no), ${execs:-0} execs (want >= 1000), ${crashes:-?} crashes"
		fail=$((fail + 1))
	fi
done
echo "fuzz-smoke: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
