#!/usr/bin/env bash
# tests/mutate.sh - mutation testing of the unit suite (make mutate; never
# part of make test).
#
#   tests/mutate.sh [PATTERN]    every mutant of tests/mutants.txt, or those
#                                whose file or description contains PATTERN
#
# Each mutant is one small, deliberate bug (a flipped comparison, a dropped
# check, a skipped field copy) in the nested or L0 code.  For each one the
# unit tests are rebuilt with the bug in and run: a failing run "caught" it,
# a passing run lets it "SURVIVED", and a mutant that does not compile, or
# whose original text is not in its file exactly once, is "invalid".  Every
# survivor is a missing test or an equivalent mutant to explain in the list.
#
# The working tree is never touched: the tracked and untracked, not ignored
# files are copied to a temporary directory, which is removed on exit.  The
# unit sources are compiled there once (UNIT_SRC and UNIT_CFLAGS read from
# the Makefile); a mutant recompiles only its own file (every file when it
# mutates a header) and relinks.  The unmutated suite must pass first.
#
# tests/mutants.txt: one mutant a line, four fields separated by tabs:
#   FILE <TAB> ORIGINAL TEXT <TAB> REPLACEMENT <TAB> DESCRIPTION
# ORIGINAL must occur exactly once in FILE; in ORIGINAL and REPLACEMENT,
# \t is a tab, \n a newline and \\ a backslash; REPLACEMENT may be empty.
# Blank lines and lines starting with # are skipped.
#
# Exit status: 0 when every mutant was caught, 1 when one survived or was
# invalid, 2 when the set-up failed (copy, build, or the unmutated suite).
# MUTATE_TIMEOUT (seconds, default from the unmutated run) bounds each run.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIST=${MUTANTS:-$ROOT/tests/mutants.txt}
PATTERN=${1:-}
JOBS=$(nproc 2>/dev/null || echo 2)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/microhv-mutate.XXXXXX") || exit 2
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'echo "mutate: interrupted" >&2; exit 130' INT TERM HUP

TREE=$WORK/tree
OBJ=$WORK/obj
MOBJ=$WORK/mobj
mkdir -p "$TREE" "$OBJ" "$MOBJ"

die() {
	echo "mutate: $*" >&2
	exit 2
}

[ -f "$LIST" ] || die "no mutant list $LIST"

# ---- the copy: what git would commit, plus untracked files it does not ignore
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard) |
	(cd "$ROOT" && while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done) |
	tar -C "$ROOT" --null -T - -cf - | tar -C "$TREE" -xf - || die "cannot copy the tree"

# ---- UNIT_SRC and UNIT_CFLAGS, as the Makefile has them
cat >"$WORK/vars.mk" <<'EOF'
mutate-vars:
	@echo '$(CC)'
	@echo '$(UNIT_CFLAGS)'
	@echo '$(UNIT_SRC)'
EOF
VARS=$(make -s --no-print-directory -C "$TREE" -f Makefile -f "$WORK/vars.mk" \
	BUILD="$WORK/build" mutate-vars) || die "cannot read UNIT_SRC from the Makefile"
{
	read -r CC
	read -r CFLAGS_LINE
	read -r SRC_LINE
} <<<"$VARS"
read -r -a CFLAGS <<<"$CFLAGS_LINE"
read -r -a SRCS <<<"$SRC_LINE"
[ ${#SRCS[@]} -gt 0 ] || die "UNIT_SRC is empty"

obj_of() { # source path -> object name (flat)
	local o=${1//\//__}
	printf '%s.o' "${o%.c}"
}

compile() { # src out
	(cd "$TREE" && "$CC" "${CFLAGS[@]}" -c "$1" -o "$2" </dev/null)
}

link() { # objects... (run-tests lands in $WORK/run-tests)
	(cd "$TREE" && "$CC" "${CFLAGS[@]}" "$@" -o "$WORK/run-tests" </dev/null)
}

# run_suite TIMEOUT: the suite's exit status, or 1 if it exited 0 without
# its closing "unit: N passed, 0 failed" (tests/unit/runner.c).
run_suite() {
	(cd "$TREE" && timeout -s KILL "$1" "$WORK/run-tests" </dev/null >"$WORK/run.log" 2>&1)
	local rc=$?
	[ $rc -ne 0 ] && return $rc
	tail -1 "$WORK/run.log" | grep -Eq '^unit: [1-9][0-9]* passed, 0 failed$' || return 1
	return 0
}

# compile_into DIR SRC...: each SRC to DIR/<its flat name>.o, $JOBS at a time.
export -f compile
export CC TREE CFLAGS_LINE
# shellcheck disable=SC2016 # the inner bash expands $CFLAGS_LINE, $1 and $2
compile_into() {
	local dir=$1 s
	shift
	for s in "$@"; do printf '%s\0%s\0' "$s" "$dir/$(obj_of "$s")"; done |
		xargs -0 -n 2 -P "$JOBS" bash -c 'read -r -a CFLAGS <<<"$CFLAGS_LINE"; compile "$1" "$2"' _
}

# ---- the unmutated build and its run
start=$(date +%s)
compile_into "$OBJ" "${SRCS[@]}" || die "the unmutated unit sources do not compile"
BASE_OBJS=()
for s in "${SRCS[@]}"; do BASE_OBJS+=("$OBJ/$(obj_of "$s")"); done
link "${BASE_OBJS[@]}" || die "the unmutated unit tests do not link"
t0=$(date +%s)
run_suite 600 || {
	tail -20 "$WORK/run.log" >&2
	die "the unmutated unit suite fails: fix it first"
}
t1=$(date +%s)
TIMEOUT=${MUTATE_TIMEOUT:-$((10 * (t1 - t0) + 30))}
echo "mutate: unmutated suite passes ($(tail -1 "$WORK/run.log")); build $((t0 - start)) s, run $((t1 - t0)) s, timeout $TIMEOUT s per mutant"

# ---- the mutants
unescape() { # \t \n \\ -> tab newline backslash
	perl -e '$_ = shift; s/\\(.)/$1 eq "t" ? "\t" : $1 eq "n" ? "\n" : $1/ge; print' -- "$1"
}

# apply FILE ORIG REPL: replace the one occurrence; prints the number found.
apply() {
	ORIG=$(unescape "$2") REPL=$(unescape "$3") perl -e '
		my $f = shift; local $/; open(my $h, "<", $f) or die; my $t = <$h>; close $h;
		my ($o, $r) = ($ENV{ORIG}, $ENV{REPL});
		my ($n, $p) = (0, 0);
		while (length $o && ($p = index($t, $o, $p)) >= 0) { $n++; $p += length $o; }
		print "$n\n";
		exit 0 if $n != 1;
		substr($t, index($t, $o), length $o) = $r;
		open($h, ">", $f) or die; print $h $t; close $h;' "$1"
}

caught=0 survived=0 invalid=0 total=0 lineno=0
SURVIVORS=()
while IFS= read -r line <&3 || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	case $line in '' | '#'*) continue ;; esac
	if [ -n "$PATTERN" ] && [[ $line != *"$PATTERN"* ]]; then continue; fi
	total=$((total + 1))
	file=${line%%$'\t'*}
	rest=${line#*$'\t'}
	orig=${rest%%$'\t'*}
	rest=${rest#*$'\t'}
	repl=${rest%%$'\t'*}
	desc=${rest#*$'\t'}
	tag="$file: $desc"
	if [ "$file" = "$line" ] || [ "$orig" = "$rest" ] || [ "$repl" = "$rest" ] ||
		[[ $desc == *$'\t'* ]] || [ -z "$desc" ] || [ -z "$orig" ]; then
		echo "invalid   line $lineno: not FILE<TAB>ORIGINAL<TAB>REPLACEMENT<TAB>DESCRIPTION"
		invalid=$((invalid + 1))
		continue
	fi
	if [ ! -f "$TREE/$file" ]; then
		echo "invalid   $tag (line $lineno: no such file)"
		invalid=$((invalid + 1))
		continue
	fi
	cp "$TREE/$file" "$WORK/saved"
	n=$(apply "$TREE/$file" "$orig" "$repl")
	if [ "$n" != 1 ]; then
		echo "invalid   $tag (line $lineno: the original text occurs $n times, not once)"
		invalid=$((invalid + 1))
		continue
	fi
	if cmp -s "$TREE/$file" "$WORK/saved"; then
		echo "invalid   $tag (line $lineno: the replacement changes nothing)"
		invalid=$((invalid + 1))
		continue
	fi

	# Rebuild what the mutant touches: its own object, or every object for a header.
	objs=("${BASE_OBJS[@]}")
	rebuild=()
	for i in "${!SRCS[@]}"; do
		if [ "${SRCS[$i]}" = "$file" ] || [[ $file == *.h ]]; then
			rebuild+=("${SRCS[$i]}")
			objs[i]=$MOBJ/$(obj_of "${SRCS[$i]}")
		fi
	done
	in_unit=yes
	# A .c file outside the unit build still has to compile; no unit test can see it.
	[ ${#rebuild[@]} -gt 0 ] || {
		in_unit=no
		rebuild=("$file")
	}
	rm -f "$MOBJ"/*.o
	built=yes
	compile_into "$MOBJ" "${rebuild[@]}" >"$WORK/cc.log" 2>&1 || built=no
	if [ $built = yes ] && [ $in_unit = yes ]; then
		link "${objs[@]}" >"$WORK/cc.log" 2>&1 || built=no
	fi
	if [ $built = no ]; then
		echo "invalid   $tag (line $lineno: does not build: $(grep -m1 'error' "$WORK/cc.log" | cut -c1-160))"
		invalid=$((invalid + 1))
	elif [ $in_unit = no ]; then
		echo "SURVIVED  $tag (line $lineno: $file is not in UNIT_SRC)"
		survived=$((survived + 1))
		SURVIVORS+=("$lineno")
	else
		run_suite "$TIMEOUT"
		rc=$?
		if [ $rc -eq 0 ]; then
			echo "SURVIVED  $tag (line $lineno)"
			survived=$((survived + 1))
			SURVIVORS+=("$lineno")
		else
			why=$(grep -c '^FAIL' "$WORK/run.log")
			if [ $rc -eq 137 ]; then
				why="killed after $TIMEOUT s"
			elif [ "$why" -gt 0 ]; then
				why="$why tests failed"
			elif grep -q -e 'Sanitizer' -e 'runtime error' "$WORK/run.log"; then
				why="sanitizer report, exit $rc"
			else
				why="exit $rc"
			fi
			echo "caught    $tag ($why)"
			caught=$((caught + 1))
		fi
	fi
	cp "$WORK/saved" "$TREE/$file"
done 3<"$LIST"

end=$(date +%s)
[ ${#SURVIVORS[@]} -eq 0 ] || echo "mutate: survivors on lines ${SURVIVORS[*]} of $LIST"
echo "mutate: took $((end - start)) s"
echo "mutate: $caught caught, $survived survived, $invalid invalid of $total"
[ $total -gt 0 ] || {
	echo "mutate: no mutant selected" >&2
	exit 1
}
[ $survived -eq 0 ] && [ $invalid -eq 0 ]
