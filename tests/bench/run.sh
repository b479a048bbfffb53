#!/usr/bin/env bash
# run.sh - `make bench`: one Bochs run of tests/bench/cpuid_bench.c as L1.
# Prints the bench's own lines; exits non-zero only if the run produced no
# figures (never because of a figure's value).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/build/bench"
mkdir -p "$out"
"$top/tools/mkimage.sh" "$out/bench.img" "$top/build/hv.efi" "$top/boot/hv.cfg" \
	"$top/build/bench/cpuid_bench.efi" || exit 1
"$top/tools/bochs.sh" "$out/bench.img" "$out/serial.txt" "${CPUS:-1}" 180
tr -d '\r' <"$out/serial.txt" | grep -a '^bench:' | tee "$out/results.txt"
grep -q '^bench: done$' "$out/results.txt" || {
	echo "bench: no complete result; serial log in $out/serial.txt" >&2
	exit 1
}
