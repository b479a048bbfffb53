# lib.sh - shared by the system tests (sourced, not run).
#
# Each test boots a real image in an emulator, keeps the serial log under
# build/test/, and checks it line by line:
#   expect  "description" 'extended regex'     a line matching must be there
#   expect_no "description" 'extended regex'   no line may match
#   expect_status "description" ACTUAL WANTED  the emulator's exit status
# then `finish NAME` prints "NAME: N passed, N failed", and on failure keeps
# the logs and prints the tail of the serial log.

set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out="$top/build/test"
mkdir -p "$out"
passed=0
failed=0
log=""

# The serial log without CRs and terminal escapes, so patterns stay simple.
clean_log() {
	tr -d '\r' <"$1" | sed -e 's/\x1b\[[0-9;=?]*[A-Za-z]//g' >"$1.clean"
	log="$1.clean"
}

pass() {
	passed=$((passed + 1))
	echo "ok - $1"
}

fail() {
	failed=$((failed + 1))
	echo "not ok - $1"
}

expect() {
	if grep -a -q -E -- "$2" "$log"; then pass "$1"; else fail "$1 (no line matches: $2)"; fi
}

# expect_file FILE "description" 'regex': like expect, on another log.
expect_file() {
	if grep -a -q -E -- "$3" "$1" 2>/dev/null; then pass "$2"; else fail "$2 (no line of $1 matches: $3)"; fi
}

expect_no() {
	local hit
	hit=$(grep -a -m1 -E -- "$2" "$log")
	if [ -z "$hit" ]; then pass "$1"; else fail "$1 (found: $hit)"; fi
}

expect_status() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (exit status $2, wanted $3)"; fi
}

# The value of the first capture group of a sed -E pattern in the log.
capture() {
	sed -n -E "s/$1/\\1/p" "$log" | head -n1
}

# payload_checks PREFIX LABEL SUMMARY MIN: each "PREFIX: ok - X" line of a
# payload is a pass "LABEL: X", each "PREFIX: not ok - X" a failure; then
# the payload's own "SUMMARY: N passed, 0 failed" must show N >= MIN.
payload_checks() {
	local prefix=$1 label=$2 summary=$3 min=$4 line n
	while IFS= read -r line; do
		case "$line" in
		"$prefix: ok - "*) pass "$label: ${line#"$prefix: ok - "}" ;;
		"$prefix: not ok - "*) fail "$label: ${line#"$prefix: not ok - "}" ;;
		esac
	done < <(grep -a "^$prefix: \(not \)\?ok - " "$log")
	n=$(capture "^$summary: ([0-9]+) passed, 0 failed\$")
	if [ -n "$n" ] && [ "$n" -ge "$min" ]; then
		pass "payload finished: $n passed, 0 failed"
	else
		fail "payload finished with all of its $min+ checks passed (got: $(grep -a "^$summary:" "$log"))"
	fi
}

finish() {
	echo "$1: $passed passed, $failed failed"
	if [ "$failed" -ne 0 ]; then
		echo "--- $1: logs kept in $out; last 40 lines of $log:"
		tail -n 40 "$log"
		echo "---"
		exit 1
	fi
	exit 0
}
