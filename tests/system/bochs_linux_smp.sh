#!/usr/bin/env bash
# bochs_linux_smp.sh - Linux as L1 brings up its own APs: 2 CPUs online
# under microhv and, as the reference, on bare Bochs.
#
# build/linux/microhv-linux-smp.img (make linux-smp-image; docs/linux.md,
# "Linux with 2 CPUs") is the Linux image with tests/linux/smp_stage.c
# between the loader and the kernel: the stage installs ACPI tables (an MADT
# built from EFI_MP_SERVICES_PROTOCOL's processors, a FADT for the PIIX4
# power-management block, a DSDT with \_S5) and starts the kernel, which
# then starts the APs itself (INIT-SIPI-SIPI, real-mode trampoline) and
# powers Bochs off through ACPI.  The image boots twice, at the same time
# (one Bochs per host core), each with CPUS (default 2) CPUs:
#   microhv  as built: hv.efi late-launches the firmware and chain-loads
#            the stage, so the stage and Linux run as L1 and every INIT and
#            SIPI Linux sends goes through L0's emulation (docs/l0.md);
#   bare     a copy without \EFI\BOOT\BOOTX64.EFI and with a startup.nsh
#            running the stage with hv.cfg's next_args: OVMF's UEFI shell
#            starts it, no microhv at all.
# Both must report "cpus online: CPUS" with no AP bring-up error.  The
# initramfs is the KVM one (tests/linux/kvm_test): Linux's KVM then runs the
# L2 guests of bochs_kvm.sh unpinned and pinned to each CPU (taskset,
# "CONFIG@cpuN"), with KVM's defaults and with its features off; every
# guest must pass on every CPU on both sides, with the line bare Bochs
# gives it.  Logs stay in build/test/ (bochs-linux-smp*.serial.txt,
# *.bochs.log).
#
# About 4 minutes with 2 CPUs on 2 host cores.  For hand runs only
# (tests/run.sh unsets CPUS and passes no argument): CPUS=N boots both
# with N CPUs (default 2) and wants N online; an image path as $1 replaces
# the built one.
. "$(dirname "$0")/lib.sh"

cpus=${CPUS:-2}
secs=600 # SIGKILL bound of each Bochs; a pass takes about 4 minutes
guests="real-mode long-mode interrupts"
configs=""
for base in defaults features-off; do
	configs="$configs $base"
	for ((c = 0; c < cpus; c++)); do configs="$configs $base@cpu$c"; done
done
built=${1:-$top/build/linux/microhv-linux-smp.img}
mh_img="$out/bochs-linux-smp.img"
mh_serial="$out/bochs-linux-smp.serial.txt"
bare_img="$out/bochs-linux-smp-bare.img"
bare_serial="$out/bochs-linux-smp-bare.serial.txt"
rm -f "$mh_serial" "$bare_serial" "${mh_serial%.*}".bochs*.log "${bare_serial%.*}".bochs*.log

if [ ! -f "$built" ]; then
	fail "image $built exists (make linux-smp-image)"
	finish bochs-linux-smp
fi
cp "$built" "$mh_img" && cp "$built" "$bare_img" || { fail "copy the image"; finish bochs-linux-smp; }
cfg() { mtype -i "$bare_img@@1048576" ::/EFI/BOOT/hv.cfg | tr -d '\r' | sed -n -E "s/^$1 *= *//p" | tail -n1; }
cfg_next=$(cfg next)
cfg_args=$(cfg next_args)
if [ -z "$cfg_next" ] || [ -z "$cfg_args" ]; then
	fail "hv.cfg in the image has next and next_args"
	finish bochs-linux-smp
fi
# The bare copy: OVMF finds no removable-media loader and starts its UEFI
# shell, which runs startup.nsh (after a 5 s countdown) from FS0:.
printf 'fs0:\r\n%s %s\r\n' "$cfg_next" "$cfg_args" >"$out/bochs-linux-smp-startup.nsh"
if ! mdel -i "$bare_img@@1048576" ::/EFI/BOOT/BOOTX64.EFI ||
	! mcopy -o -i "$bare_img@@1048576" "$out/bochs-linux-smp-startup.nsh" ::/startup.nsh; then
	fail "make the bare copy (BOOTX64.EFI out, startup.nsh in)"
	finish bochs-linux-smp
fi

# boot NAME IMAGE SERIAL: one Bochs; its exit status and wall time in NAME.rc.
boot() {
	local s=$SECONDS
	"$top/tools/bochs.sh" "$2" "$3" "$cpus" "$secs"
	echo "$? $((SECONDS - s))" >"$out/$1.rc"
}
rm -f "$out/bochs-linux-smp.rc" "$out/bochs-linux-smp-bare.rc"
boot bochs-linux-smp "$mh_img" "$mh_serial" &
mh_pid=$!
boot bochs-linux-smp-bare "$bare_img" "$bare_serial" &
bare_pid=$!
wait "$mh_pid" "$bare_pid"
read -r mh_status mh_secs <"$out/bochs-linux-smp.rc" 2>/dev/null || mh_status=none
read -r bare_status bare_secs <"$out/bochs-linux-smp-bare.rc" 2>/dev/null || bare_status=none
echo "# $cpus CPUs: Bochs under microhv ran ${mh_secs:-?} s (exit status $mh_status)," \
	"bare Bochs ${bare_secs:-?} s (exit status $bare_status), both at once"
for f in "$mh_serial" "$bare_serial"; do
	[ -f "$f" ] || : >"$f"
	clean_log "$f"
done
mh_log="$mh_serial.clean"
bare_log="$bare_serial.clean"

for side in microhv bare; do
	l=$mh_log
	[ $side = bare ] && l=$bare_log
	grep -a -E '^(smp-stage|microhv-linux|kvm-test|kvm-guest): ' "$l" | sed "s/^/# $side: /"
done

# AP bring-up failures Linux 6.1 reports at KERN_ERR or louder (shown
# despite "quiet"): do_boot_cpu's and the CPU-hotplug core's messages.
ap_errors='do_boot_cpu failed|failed to (boot|come online|report)|CPU ?[0-9]+ (is )?(now )?offline|[Nn]ot responding|[Ss]tuck|APIC.*(error|timeout)'

# Checks on one side's log.
side_checks() { # side hypervisor-bit
	local side=$1 hv=$2
	expect "$side: the stage ran with CPUID.1:ECX.hypervisor=$hv" \
		"^smp-stage: started \\(CPUID\\.1:ECX\\.hypervisor=$hv\\)\$"
	expect "$side: MP services report $cpus processors, all enabled" \
		"^smp-stage: MP services: $cpus processors, $cpus enabled\$"
	expect "$side: MADT with $cpus local APICs and the I/O APIC, every checksum good" \
		"^smp-stage: MADT: $cpus local APIC\\(s\\), I/O APIC; 0 bad checksum\\(s\\)\$"
	expect_no "$side: no stage error line" '^smp-stage: error'
	expect "$side: the stage started the kernel" '^smp-stage: starting the kernel$'
	expect "$side: /init reached" '^microhv-linux: init reached$'
	expect "$side: $cpus CPUs online in Linux" "^microhv-linux: cpus online: $cpus\$"
	expect_no "$side: no AP bring-up error from Linux" "$ap_errors"
	expect "$side: no MSR access Linux relies on refused (no \"unchecked MSR access error\")" \
		'^microhv-linux: dmesg: unchecked MSR accesses: 0$'
	expect_no "$side: no kernel panic or oops" 'Kernel panic|BUG:|Oops|general protection fault'
	expect "$side: the KVM modules loaded" '^kvm-test: modules loaded: .*kvm_intel'
	local cfg g
	for cfg in $configs; do
		for g in $guests; do
			expect "$side: guest $g/$cfg passes" "^kvm-guest: $g/$cfg: PASS "
		done
	done
	expect "$side: the KVM test ran to its end" '^kvm-test: done$'
	expect_no "$side: no kvm-test error line" '^kvm-test: error'
	expect "$side: /init reached its power-off call" '^microhv-linux: powering off$'
}

log=$bare_log
expect "bare: no microhv (no loader line, the stage started by the UEFI shell)" \
	'^microhv-linux: cpuinfo flags hypervisor: no$'
expect_no "bare: no microhv loader line" '^\[boot\]'
side_checks bare 0
expect_bochs_power_off "bare: Bochs powered off by Linux, not killed or panicked" "$bare_status" "$bare_serial"

log=$mh_log
expect "microhv: the firmware was late-launched as L1 on all $cpus CPUs" \
	"^\\[boot\\] info: late launch: $cpus of $cpus CPUs run as L1 under microhv\$"
expect "microhv: the loader chain-loaded the stage" \
	"^\\[boot\\] info: chain-loading next stage $(printf '%s' "$cfg_next" | sed -e 's/[][\\.*^$+?(){}|/]/\\&/g')\$"
expect "microhv: Linux sees microhv" \
	'^microhv-linux: cpuid 0x40000000: max leaf 0x40000001 signature "microhv"$'
expect_no "microhv: no error lines from loader or core" '^\[(boot|core)\] error:'
side_checks microhv 1
expect_bochs_power_off "microhv: Bochs powered off by Linux, not killed or panicked" "$mh_status" "$mh_serial"

# microhv must give every guest on every CPU the result bare Bochs gives it.
kvm_guests_as_bare "$configs" "$guests" "$mh_log" "$bare_log"

if [ "$failed" -ne 0 ]; then
	for side in microhv bare; do
		l=$mh_log
		[ $side = bare ] && l=$bare_log
		echo "--- $side: the last 30 lines of $l"
		tail -n 30 "$l"
	done
	log=""
fi
finish bochs-linux-smp
