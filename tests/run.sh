#!/usr/bin/env bash
# run.sh - the whole test suite (what `make test` runs, after building).
#
# Runs the suites listed in tests/suites.txt, each in a session of its own and
# bounded by SIGKILL, and adds up their counts into the closing line
# "N passed, N failed".  A suite's result is its exit status and its own
# count line "NAME: N passed, N failed" (NAME is the suite's name, the last
# such line it prints; any other count in its output, such as a payload's
# summary quoted from a serial log, is ignored).  A suite counts as failed
# (at least one failure in the total) when:
#   - its script is missing, or a tests/system/*.sh exists that is not listed
#     (so a test that is deleted, renamed or never registered shows);
#   - it exits non-zero, or is killed by its time limit;
#   - it prints no count line of its own, or a count of 0 checks;
#   - it exits 0 while its count shows failures, or exits non-zero with none;
#   - an emulator (or anything else) it started is still running after it.
# A suite whose emulator is not installed is skipped with the reason; with
# CI=true a skip is a failure (CI installs everything: tools/setup.sh).
# Exit status 0 only if nothing failed.
#
# For the harness's own test (tests/harness_test.sh) only, which replays this
# script on suites that fail in every way above: MICROHV_SUITES_FILE and
# MICROHV_SYSTEM_DIR replace tests/suites.txt and tests/system.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

suites_file=${MICROHV_SUITES_FILE:-tests/suites.txt}
system_dir=${MICROHV_SYSTEM_DIR:-tests/system}

# The overrides some scripts take for their run targets (make test-long,
# make run-linux) loosen checks: `make test` runs every suite on its defaults.
unset CPUS EXPECT_CPUS LINUX_TEST_IMG LINUX_SECONDS

total_pass=0
total_fail=0
skipped=0
declare -A listed=()
summary=()

count_fail() { # name why
	echo "run.sh: $1: $2: counted as 1 failure"
	summary+=("$1: FAILED ($2)")
	total_fail=$((total_fail + 1))
}

# Anything still running in session $2 after suite $1 ended is a failure.
reap_leftovers() { # name sid
	local left
	# Live processes only: a killed suite's children may still be zombies
	# for a moment, waiting for init to reap them.
	left=$(ps -e -o sid=,stat=,pid=,args= | awk -v sid="$2" '$1 == sid && $2 !~ /^Z/ { $1 = $2 = ""; print }')
	[ -z "$left" ] && return 0
	count_fail "$1" "left processes running: $(tr '\n' ';' <<<"$left")"
	pkill -KILL -s "$2" 2>/dev/null
	return 1
}

run_suite() { # name command needs limit
	local name=$1 cmd=$2 needs=$3 limit=$4
	echo "=== $name"
	if [ ! -e "$cmd" ]; then
		count_fail "$name" "$cmd does not exist"
		return
	fi
	if [ "$needs" != - ] && ! command -v "$needs" >/dev/null; then
		if [ "${CI:-}" = true ]; then
			count_fail "$name" "$needs is not installed (CI must run every suite)"
		else
			echo "run.sh: $name: skipped: $needs is not installed (tools/setup.sh installs it)"
			summary+=("$name: skipped ($needs not installed)")
			skipped=$((skipped + 1))
		fi
		return
	fi
	local outf runner=()
	outf=$(mktemp)
	case "$cmd" in *.sh) runner=(bash) ;; esac
	# A session of its own (setsid): whatever the suite starts stays in it,
	# so leftovers can be found and ended by the session id.
	setsid timeout -s KILL "$limit" "${runner[@]}" "$cmd" >"$outf" 2>&1 </dev/null &
	local pid=$!
	tail -n +1 -f --pid="$pid" "$outf" 2>/dev/null &
	local tailpid=$!
	wait "$pid"
	local status=$?
	wait "$tailpid" 2>/dev/null
	reap_leftovers "$name" "$pid"

	local line p f
	line=$(grep -a -E "^$name: [0-9]+ passed, [0-9]+ failed\$" "$outf" | tail -n1)
	rm -f "$outf"
	if [ "$status" = 137 ]; then
		count_fail "$name" "killed after its ${limit}s limit"
	fi
	if [ -z "$line" ]; then
		[ "$status" = 137 ] || count_fail "$name" "no count line \"$name: N passed, N failed\" (exit status $status)"
		return
	fi
	p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.*, ([0-9]+) failed$/\1/' <<<"$line")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	summary+=("$line")
	if [ "$((p + f))" -eq 0 ]; then
		count_fail "$name" "it ran 0 checks"
	elif [ "$status" != 0 ] && [ "$status" != 137 ] && [ "$f" -eq 0 ]; then
		count_fail "$name" "exit status $status with 0 failures counted"
	elif [ "$status" = 0 ] && [ "$f" -ne 0 ]; then
		echo "run.sh: $name: exit status 0 with $f failures: the failures count"
	fi
}

if [ ! -r "$suites_file" ]; then
	count_fail suites "$suites_file cannot be read"
else
	while read -r name cmd needs limit rest; do
		case "$name" in '' | '#'*) continue ;; esac
		if [ -z "$limit" ] || [ -n "$rest" ] || ! [[ "$limit" =~ ^[0-9]+$ ]]; then
			count_fail "${name}" "bad line in $suites_file (want: name command needs seconds)"
			continue
		fi
		listed[$cmd]=1
		run_suite "$name" "$cmd" "$needs" "$limit"
	done < <(cat "$suites_file")
fi

# A system test nobody listed would never run: that is a failure too.
for t in "$system_dir"/*.sh; do
	[ -e "$t" ] || continue
	[ "$(basename "$t")" = lib.sh ] && continue
	[ -n "${listed[$t]:-}" ] || count_fail "$(basename "$t" .sh)" "$t is not listed in $suites_file"
done

echo "=== summary"
printf '%s\n' "${summary[@]}"
[ "$skipped" -eq 0 ] || echo "$skipped suite(s) skipped (see above): not counted"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
