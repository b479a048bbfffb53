#!/usr/bin/env bash
# bochs_kvm.sh - Linux's own KVM as L1's hypervisor runs L2 guests, under
# microhv and, as the reference, on bare Bochs.
#
# build/linux/microhv-kvm.img (make linux-kvm-image; docs/linux.md) is the
# Linux image with the microhv-kvm initramfs: /init runs /bin/kvm_test,
# which loads Debian's irqbypass.ko, kvm.ko and kvm-intel.ko, prints
# kvm_intel's parameters and runs tests/linux/kvm_guests.c's L2 guests
# (real-mode, long-mode, interrupts) twice: with KVM's defaults and with
# kvm-intel.ko reloaded with its optional features off.  The image boots
# twice, at the same time (one Bochs per host core):
#   microhv    as built: hv.efi late-launches the firmware and chain-loads
#              the kernel, so Linux and KVM are L1 and the guests L2;
#   bare       a copy without \EFI\BOOT\BOOTX64.EFI and with a startup.nsh
#              holding hv.cfg's next_args: OVMF falls back to its UEFI
#              shell, which starts the kernel itself (no microhv at all),
#              so KVM runs on Bochs's own VT-x and the guests are L1.
# Each guest's PASS on each side is a check, and microhv must give each
# guest exactly the line bare Bochs gives it (a PASS line holds only what
# is the same on every run).  A failure shows the guests' FAIL lines, the
# kvm-test error lines and their dmesg tails from both serial logs; the
# logs stay in build/test/ (bochs-kvm*.serial.txt, *.bochs.log).
# `make test-kvm` runs it alone; an image path as $1 replaces the built one
# (hand runs only: tests/run.sh passes none).
. "$(dirname "$0")/lib.sh"

built=${1:-$top/build/linux/microhv-kvm.img}
secs=600 # SIGKILL bound of each Bochs; a pass takes 3.5 to 5 minutes
configs="defaults features-off"
guests="real-mode long-mode interrupts"
mh_img="$out/bochs-kvm.img"
mh_serial="$out/bochs-kvm.serial.txt"
bare_img="$out/bochs-kvm-bare.img"
bare_serial="$out/bochs-kvm-bare.serial.txt"
rm -f "$mh_serial" "$bare_serial" "${mh_serial%.*}".bochs*.log "${bare_serial%.*}".bochs*.log

if [ ! -f "$built" ]; then
	fail "image $built exists (make linux-kvm-image)"
	finish bochs-kvm
fi
# Copies, so Bochs's lock files and logs stay in build/test/.
cp "$built" "$mh_img" && cp "$built" "$bare_img" || { fail "copy the image"; finish bochs-kvm; }
cfg_args=$(mtype -i "$bare_img@@1048576" ::/EFI/BOOT/hv.cfg | tr -d '\r' |
	sed -n -E 's/^next_args *= *//p' | tail -n1)
cfg_next=$(mtype -i "$bare_img@@1048576" ::/EFI/BOOT/hv.cfg | tr -d '\r' |
	sed -n -E 's/^next *= *//p' | tail -n1)
if [ -z "$cfg_args" ] || [ -z "$cfg_next" ]; then
	fail "hv.cfg in the image has next and next_args"
	finish bochs-kvm
fi
# The microhv copy runs KVM with VMCS shadowing for L1 off (hv.cfg's
# shadow_vmcs): every VMREAD and VMWRITE of KVM's exits to L0, as on a CPU
# without VMCS shadowing.  bochs_kvm_linux.sh and make bench run KVM with
# shadowing on.
if ! mtype -i "$mh_img@@1048576" ::/EFI/BOOT/hv.cfg | tr -d '\r' >"$out/bochs-kvm.hv.cfg" ||
	! echo "shadow_vmcs = off" >>"$out/bochs-kvm.hv.cfg" ||
	! mcopy -o -i "$mh_img@@1048576" "$out/bochs-kvm.hv.cfg" ::/EFI/BOOT/hv.cfg; then
	fail "turn VMCS shadowing off in the microhv copy's hv.cfg"
	finish bochs-kvm
fi
# The bare copy: OVMF finds no removable-media loader and starts its UEFI
# shell, which runs startup.nsh (after a 5 s countdown) from FS0:.
printf 'fs0:\r\n%s %s\r\n' "$cfg_next" "$cfg_args" >"$out/bochs-kvm-startup.nsh"
if ! mdel -i "$bare_img@@1048576" ::/EFI/BOOT/BOOTX64.EFI ||
	! mcopy -o -i "$bare_img@@1048576" "$out/bochs-kvm-startup.nsh" ::/startup.nsh; then
	fail "make the bare copy (BOOTX64.EFI out, startup.nsh in)"
	finish bochs-kvm
fi

# boot NAME IMAGE SERIAL: one Bochs, its exit status and wall time in NAME.rc.
boot() {
	local s=$SECONDS
	"$top/tools/bochs.sh" "$2" "$3" 1 "$secs"
	echo "$? $((SECONDS - s))" >"$out/$1.rc"
}
rm -f "$out/bochs-kvm.rc" "$out/bochs-kvm-bare.rc"
boot bochs-kvm "$mh_img" "$mh_serial" &
mh_pid=$!
boot bochs-kvm-bare "$bare_img" "$bare_serial" &
bare_pid=$!
wait "$mh_pid" "$bare_pid"
read -r mh_status mh_secs <"$out/bochs-kvm.rc" 2>/dev/null || mh_status=none
read -r bare_status bare_secs <"$out/bochs-kvm-bare.rc" 2>/dev/null || bare_status=none
echo "# Bochs under microhv ran ${mh_secs:-?} s (exit status $mh_status)," \
	"bare Bochs ${bare_secs:-?} s (exit status $bare_status), both at once"
for f in "$mh_serial" "$bare_serial"; do
	[ -f "$f" ] || : >"$f"
	clean_log "$f"
done
mh_log="$mh_serial.clean"
bare_log="$bare_serial.clean"

# The lines of both runs, for the record (and the diagnosis).
for side in microhv bare; do
	l=$mh_log
	[ $side = bare ] && l=$bare_log
	grep -a -E '^(kvm-test|kvm-guest|kvm-param|microhv-linux): ' "$l" | sed "s/^/# $side: /"
done

# Checks on one side's log.
side_checks() { # side
	local side=$1 c g
	expect "$side: /init reached" '^microhv-linux: init reached$'
	expect "$side: the KVM modules loaded" '^kvm-test: modules loaded: .*kvm_intel'
	expect "$side: kvm_intel's parameters printed" '^kvm-param: defaults: ept='
	# Issue 12, item 6: KVM's flexpriority needs "use TPR shadow" and
	# "virtualize APIC accesses", which microhv now offers as bare Bochs does.
	expect "$side: KVM uses flexpriority (TPR shadow, APIC-access page)" \
		'^kvm-param: defaults: .*\bflexpriority=Y\b'
	expect "$side: kvm-intel.ko reloaded with its optional features off" \
		'^kvm-test: kvm-intel.ko reloaded with: ept=0 vpid=0 unrestricted_guest=0'
	for c in $configs; do
		for g in $guests; do
			expect "$side: guest $g/$c passes" "^kvm-guest: $g/$c: PASS "
		done
	done
	expect "$side: the KVM test ran to its end" '^kvm-test: done$'
	expect_no "$side: no kvm-test error line" '^kvm-test: error'
	expect_no "$side: no kernel panic or oops" 'Kernel panic|BUG:|Oops|general protection fault'
	# Every parameter set to 0 for the second run reads back off.
	local off p bad=""
	off=$(sed -n -E 's/^kvm-test: kvm-intel.ko reloaded with: *//p' "$log" | tail -n1)
	for p in $off; do
		grep -a -q -E "^kvm-param: features-off: ${p%%=*}=(N|0)\$" "$log" || bad="$bad ${p%%=*}"
	done
	if [ -n "$off" ] && [ -z "$bad" ]; then
		pass "$side: every parameter switched off reads back N/0 ($(wc -w <<<"$off") of them)"
	else
		fail "$side: parameters switched off read back N/0 (not:${bad:- no reload line})"
	fi
}

log=$bare_log
expect "bare: no microhv (no loader line, the kernel started by the UEFI shell)" \
	'^microhv-linux: cpuinfo flags hypervisor: no$'
expect_no "bare: no microhv loader line" '^\[boot\]'
side_checks bare
expect_bochs_power_off "bare: Bochs powered off by Linux, not killed or panicked" "$bare_status" "$bare_serial"

log=$mh_log
expect "microhv: the firmware was late-launched as L1" \
	'^\[boot\] info: late launch: 1 of 1 CPUs run as L1 under microhv$'
expect "microhv: VMCS shadowing for L1 off, as hv.cfg says" \
	'^\[core\] info: nested VMX: VMCS shadowing for L1 off \(hv.cfg shadow_vmcs = off\)'
expect "microhv: Linux sees microhv" '^microhv-linux: cpuid 0x40000000: max leaf 0x40000001 signature "microhv"$'
expect_no "microhv: no error lines from loader or core" '^\[(boot|core)\] error:'
side_checks microhv
expect_bochs_power_off "microhv: Bochs powered off by Linux, not killed or panicked" "$mh_status" "$mh_serial"

# microhv must give every guest the result bare Bochs gives it.
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
finish bochs-kvm
