# lib.sh - shared by the system tests (sourced, not run).
#
# Each test boots a real image in an emulator, keeps the serial log under
# build/test/, and checks it line by line:
#   expect  "description" 'extended regex'     a line matching must be there
#   expect_no "description" 'extended regex'   no line may match
#   expect_status "description" ACTUAL WANTED  the emulator's exit status
#   expect_bochs_power_off "description" STATUS SERIAL
#                                     Bochs ended because the guest powered
#                                     it off, proved from Bochs's own log
# then `finish NAME` prints, on failure, the tail of the serial log (the
# logs stay in build/test/), and as its very last line
# "NAME: N passed, N failed": tests/run.sh reads that line, by the suite's
# name, and the exit status (0 only when nothing failed and something ran).

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

# Bochs exits with status 1 both when the guest writes "Shutdown" to port
# 0x8900 (or powers off through ACPI) and when it panics under
# "panic: action=fatal"; 137 means tools/bochs.sh's SIGKILL ended it.  Bochs
# logs the power-off request itself as a ">>PANIC<<" line, so the proof is
# its log: at least one such line, every one of them a power-off request,
# and the simulator quitting after it.
expect_bochs_power_off() { # description status serial-log
	local blog="${3%.*}.bochs.log" panics other
	# Bochs 2.7 now and then dies of SIGSEGV (139) in its own teardown,
	# after quit_sim: judged by the log like a clean exit, and said.
	if [ "$2" = 139 ] && grep -a -q 'quit_sim called with exit code 1' "$blog" 2>/dev/null; then
		echo "# Bochs crashed (SIGSEGV) in its teardown after quit_sim; judged from its log"
	elif [ "$2" != 1 ]; then
		local why=""
		[ "$2" = 137 ] && why=": killed at its time limit"
		fail "$1 (Bochs exit status $2, wanted 1$why)"
		return
	fi
	panics=$(grep -a '>>PANIC<<' "$blog" 2>/dev/null)
	other=$(grep -a -v -E '>>PANIC<< (Shutdown port: shutdown requested|ACPI control: soft power off)$' \
		<<<"$panics" | head -n1)
	if [ ! -s "$blog" ]; then
		fail "$1 (no Bochs log at $blog)"
	elif [ -z "$panics" ]; then
		fail "$1 (Bochs's log has no power-off request)"
	elif [ -n "$other" ]; then
		fail "$1 (Bochs panicked: $other)"
	elif ! grep -a -q 'quit_sim called with exit code 1' "$blog"; then
		fail "$1 (Bochs's log does not show the simulator quitting)"
	else
		pass "$1"
	fi
}

# microhv must give each KVM guest (tests/linux/kvm_guests.c) of each
# configuration exactly the "kvm-guest: GUEST/CONFIG: ..." line bare Bochs
# gives it (a PASS line holds only what is the same on every run).
kvm_guests_as_bare() { # configs guests microhv-log bare-log
	local cfg g mh bare
	for cfg in $1; do
		for g in $2; do
			mh=$(grep -a -m1 -E "^kvm-guest: $g/$cfg: " "$3")
			bare=$(grep -a -m1 -E "^kvm-guest: $g/$cfg: " "$4")
			if [ -n "$bare" ] && [ "$mh" = "$bare" ]; then
				pass "$g/$cfg: microhv gives the result bare Bochs gives"
			else
				fail "$g/$cfg: microhv gives the result bare Bochs gives (microhv: ${mh:-no line}; bare: ${bare:-no line})"
			fi
		done
	done
}

finish() {
	local st=0
	if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
		st=1
		echo "--- $1: logs kept in $out; last 40 lines of ${log:-(no log)}:"
		[ -f "$log" ] && tail -n 40 "$log"
		echo "---"
	fi
	# The suite's own count, last, for tests/run.sh.
	echo "$1: $passed passed, $failed failed"
	exit $st
}
