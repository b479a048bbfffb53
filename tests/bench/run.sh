#!/usr/bin/env bash
# run.sh - `make bench`: one Bochs run per bench, each as L1 under microhv:
#   tests/bench/cpuid_bench.c   single-level exits (L1 -> L0 -> L1);
#   tests/bench/nested_bench.c  nested round trips (L2 -> L0 -> L1 -> L0 -> L2);
#   the same nested bench on bare Bochs (no microhv: L2 -> L1 -> L2 on the
#   CPU's own VT-x), the honest peer, and the ratios of this run's figures;
# then tests/bench/kvm_bench.sh: an L2 exit through Linux's KVM and its user
# space, under microhv and on bare Bochs (two Linux boots at once).
# Prints the benches' own lines; exits non-zero if a run produced no
# complete figures: no "bench: done", any "bench: error" line (a failed
# round is a failed bench), or Bochs not powered off by the bench itself.
# Never because of a figure's value.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/build/bench"
. "$top/tests/bench/judge.sh"
mkdir -p "$out"
status=0
for b in cpuid_bench nested_bench; do
	"$top/tools/mkimage.sh" "$out/$b.img" "$top/build/hv.efi" "$top/boot/hv.cfg" \
		"$top/build/bench/$b.efi" || exit 1
	"$top/tools/bochs.sh" "$out/$b.img" "$out/$b.serial.txt" "${CPUS:-1}" 180
	rc=$?
	tr -d '\r' <"$out/$b.serial.txt" | grep -a '^bench:' | tee "$out/$b.results.txt"
	bench_judge "$b" "$out/$b.results.txt" "$rc" "$out/$b.serial.bochs.log" || status=1
done
# The bare run: the bench itself is the loader, with no microhv under it.
b=nested_bench_bare
"$top/tools/mkimage.sh" "$out/$b.img" "$top/build/bench/nested_bench.efi" "$top/boot/hv.cfg" ||
	exit 1
"$top/tools/bochs.sh" "$out/$b.img" "$out/$b.serial.txt" 1 180
rc=$?
tr -d '\r' <"$out/$b.serial.txt" | grep -a '^bench:' | tee "$out/$b.results.txt"
bench_judge "$b" "$out/$b.results.txt" "$rc" "$out/$b.serial.bochs.log" || status=1
# Ratios of the minima measured above (nothing is judged by them).
min_of() { # FILE PATTERN: the "min N" of the first line matching PATTERN
	grep -a -m1 "$2" "$1" | sed -n -E 's/.*: min ([0-9]+),.*/\1/p'
}
nested=$(min_of "$out/nested_bench.results.txt" 'nested CPUID round trip L2 -> L0')
single=$(min_of "$out/nested_bench.results.txt" 'CPUID round trip L1 -> L0 -> L1')
bare=$(min_of "$out/$b.results.txt" 'nested CPUID round trip L2 -> L1 -> L2 (bare)')
if [ -n "$nested" ] && [ -n "$single" ] && [ -n "$bare" ] && [ "$single" -gt 0 ] && [ "$bare" -gt 0 ]; then
	awk -v n="$nested" -v s="$single" -v b="$bare" 'BEGIN {
		printf "bench: nested round trip under microhv / single-level round trip: %.1fx (%d / %d TSC cycles)\n", n / s, n, s
		printf "bench: nested round trip under microhv / on bare Bochs: %.1fx (%d / %d TSC cycles)\n", n / b, n, b
	}'
fi
"$top/tests/bench/kvm_bench.sh" || status=1
exit $status
