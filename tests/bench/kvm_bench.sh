#!/usr/bin/env bash
# kvm_bench.sh - `make bench`'s KVM part (run by tests/bench/run.sh): one L2
# exit's round trip through Linux's KVM and its user space, under microhv
# and on bare Bochs, in the same run.
#
# build/bench/kvm/microhv-kvm-bench.img (tests/bench/kvm_bench.mk) boots
# twice at once (one Bochs per host core), as tests/system/bochs_kvm.sh
# boots the microhv-kvm image:
#   microhv  as built: Linux and KVM are L1, kvm_guests's guest is L2, and
#            microhv's counters are read through the test module;
#   bare     a copy without \EFI\BOOT\BOOTX64.EFI and with a startup.nsh
#            holding hv.cfg's next_args: OVMF's UEFI shell starts the
#            kernel, KVM runs on Bochs's own VT-x, the guest is L1.
# /init runs tests/bench/kvm_bench_l1, which runs `kvm_guests bench` with KVM's
# defaults and with its optional features off.  Prints both runs' "bench:"
# lines and then, per configuration, the two round-trip figures and their
# ratio.  Exits non-zero if a run produced no complete figures (judge.sh),
# never because of a figure's value.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/build/bench"
. "$top/tests/bench/judge.sh"
built=${1:-$top/build/bench/kvm/microhv-kvm-bench.img}
secs=600

[ -f "$built" ] || { echo "bench: kvm: no image $built (make kvm-bench-image)" >&2; exit 1; }
mh_img="$out/kvm-microhv.img" bare_img="$out/kvm-bare.img"
cp "$built" "$mh_img" && cp "$built" "$bare_img" || exit 1
cfg=$(mtype -i "$bare_img@@1048576" ::/EFI/BOOT/hv.cfg | tr -d '\r')
next=$(sed -n -E 's/^next *= *//p' <<<"$cfg" | tail -n1)
args=$(sed -n -E 's/^next_args *= *//p' <<<"$cfg" | tail -n1)
[ -n "$next" ] && [ -n "$args" ] || { echo "bench: kvm: no next/next_args in the image's hv.cfg" >&2; exit 1; }
printf 'fs0:\r\n%s %s\r\n' "$next" "$args" >"$out/kvm-startup.nsh"
mdel -i "$bare_img@@1048576" ::/EFI/BOOT/BOOTX64.EFI &&
	mcopy -o -i "$bare_img@@1048576" "$out/kvm-startup.nsh" ::/startup.nsh || exit 1

boot() { # SIDE: one Bochs; its exit status and wall seconds in kvm-SIDE.rc
	local s=$SECONDS
	rm -f "$out/kvm-$1.serial.txt" "$out/kvm-$1.serial.bochs.log"
	"$top/tools/bochs.sh" "$out/kvm-$1.img" "$out/kvm-$1.serial.txt" 1 "$secs"
	echo "$? $((SECONDS - s))" >"$out/kvm-$1.rc"
}
rm -f "$out"/kvm-*.rc
boot microhv &
p1=$!
boot bare &
p2=$!
wait "$p1" "$p2"
status=0
for side in microhv bare; do
	read -r rc wall <"$out/kvm-$side.rc" 2>/dev/null || rc=none
	echo "bench: kvm $side: Bochs ran ${wall:-?} s of wall time (both at once)"
	touch "$out/kvm-$side.serial.txt"
	tr -d '\r' <"$out/kvm-$side.serial.txt" | grep -a '^bench:' >"$out/kvm-$side.results.txt"
	cat "$out/kvm-$side.results.txt"
	bench_judge "kvm $side" "$out/kvm-$side.results.txt" "$rc" "$out/kvm-$side.serial.bochs.log" ||
		status=1
done

# The two figures of each configuration and their ratio.
fig() { # SIDE CONFIG min|mean
	sed -n -E "s/^bench: kvm $1 $2: L2 port-I\/O exit round trip .*: min ([0-9]+), mean ([0-9]+) .*/\\1 \\2/p" \
		"$out/kvm-$1.results.txt" | head -n1 | cut -d' ' -f"$([ "$3" = min ] && echo 1 || echo 2)"
}
for c in defaults features-off; do
	mmin=$(fig microhv $c min) mmean=$(fig microhv $c mean)
	bmin=$(fig bare $c min) bmean=$(fig bare $c mean)
	if [ -z "$mmin" ] || [ -z "$bmin" ] || [ "$bmin" = 0 ] || [ "$bmean" = 0 ]; then
		echo "bench: kvm $c: no pair of figures to compare (microhv: ${mmin:-none}, bare: ${bmin:-none})" >&2
		status=1
		continue
	fi
	awk -v c="$c" -v a="$mmin" -v b="$bmin" -v m="$mmean" -v n="$bmean" 'BEGIN {
		printf "bench: kvm %s: L2 exit round trip, microhv vs bare Bochs: min %d vs %d TSC cycles " \
			"(%.1fx), mean %d vs %d (%.1fx)\n", c, a, b, a / b, m, n, m / n }'
done
exit $status
