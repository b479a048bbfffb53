#!/usr/bin/env bash
# run.sh - `make bench`: one Bochs run per bench, each as L1 under microhv:
#   tests/bench/cpuid_bench.c   single-level exits (L1 -> L0 -> L1);
#   tests/bench/nested_bench.c  nested round trips (L2 -> L0 -> L1 -> L0 -> L2);
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
"$top/tests/bench/kvm_bench.sh" || status=1
exit $status
