#!/usr/bin/env bash
# bochs_kvm_linux.sh - an L2 Linux (issue 11, item 2): L1 Linux's KVM boots
# the same Debian kernel with a small initramfs as its guest, under microhv
# (L0) and, as the reference, on bare Bochs (where L1's KVM has EPT).
#
# build/linux/microhv-kvm-linux.img (make linux-l2-image; docs/linux.md) is
# the microhv-kvm image whose /bin/kvm_test (tests/linux/kvm_linux_test)
# loads KVM and runs `kvm-demo linux`: /bin/kvm-demo-linux starts our
# /dev/kvm loader (tests/linux/kvm_linux.c) on /boot/l2/vmlinuz and
# /boot/l2/initrd.img, whose /init (tests/linux/l2-init) says where it runs
# and powers L2 off; L2's serial port comes out as "l2: " lines, then L1
# powers Bochs off.  Both sides boot at the same time (one Bochs per core),
# as in bochs_kvm.sh:
#   microhv   as built: KVM is L1's hypervisor on microhv's nested VT-x
#             (today without EPT: shadow paging), L2 Linux is L2;
#   bare      BOOTX64.EFI swapped for a startup.nsh: no microhv, KVM on
#             Bochs's own VT-x, the L2 Linux is L1's guest.
# Checks per side: L2 reached its /init, sees KVM (CPUID 0x40000000
# "KVMKVMKVM", the hypervisor flag, "Hypervisor detected: KVM"), powered
# off, and Linux then powered Bochs off.  Every "l2:", "kvm-linux:" and
# "kvm-demo-linux:" line is printed as a # line, with the wall times.
#
#   KVM_LINUX_SIDES   "microhv bare" (default), or one of them
#   KVM_LINUX_SECONDS SIGKILL bound of each Bochs (default 1500; a pass takes
#                     8 to 15 minutes under microhv, 5 to 10 on bare Bochs)
#   $1                an image instead of the built one
# Logs: build/test/bochs-kvm-linux{,-bare}.serial.txt (Bochs's logs beside).
. "$(dirname "$0")/lib.sh"

built=${1:-$top/build/linux/microhv-kvm-linux.img}
secs=${KVM_LINUX_SECONDS:-1500}
sides=${KVM_LINUX_SIDES:-microhv bare}
name=bochs-kvm-linux

if [ ! -f "$built" ]; then
	fail "image $built exists (make linux-l2-image)"
	finish $name
fi

serial_of() { # side
	if [ "$1" = bare ]; then echo "$out/$name-bare.serial.txt"; else echo "$out/$name.serial.txt"; fi
}

# boot SIDE: one Bochs on its own copy; exit status and wall time in SIDE.rc.
boot() {
	local side=$1 img serial s=$SECONDS
	img="$out/$name-$side.img"
	serial=$(serial_of "$side")
	rm -f "$serial" "${serial%.*}".bochs*.log "$out/$name-$side.rc"
	if ! cp "$built" "$img"; then
		echo "copy-failed 0" >"$out/$name-$side.rc"
		return
	fi
	if [ "$side" = bare ]; then
		local cfg_args cfg_next
		cfg_args=$(mtype -i "$img@@1048576" ::/EFI/BOOT/hv.cfg | tr -d '\r' |
			sed -n -E 's/^next_args *= *//p' | tail -n1)
		cfg_next=$(mtype -i "$img@@1048576" ::/EFI/BOOT/hv.cfg | tr -d '\r' |
			sed -n -E 's/^next *= *//p' | tail -n1)
		printf 'fs0:\r\n%s %s\r\n' "$cfg_next" "$cfg_args" >"$out/$name-startup.nsh"
		if [ -z "$cfg_args" ] || ! mdel -i "$img@@1048576" ::/EFI/BOOT/BOOTX64.EFI ||
			! mcopy -o -i "$img@@1048576" "$out/$name-startup.nsh" ::/startup.nsh; then
			echo "bare-copy-failed 0" >"$out/$name-$side.rc"
			return
		fi
	fi
	"$top/tools/bochs.sh" "$img" "$serial" 1 "$secs"
	echo "$? $((SECONDS - s))" >"$out/$name-$side.rc"
}

pids=""
for side in $sides; do
	boot "$side" &
	pids="$pids $!"
done
# shellcheck disable=SC2086 # one word per PID
wait $pids

for side in $sides; do
	serial=$(serial_of "$side")
	status=none wall=""
	read -r status wall <"$out/$name-$side.rc" 2>/dev/null
	echo "# $side: Bochs ran ${wall:-?} s wall (exit status $status)"
	[ -f "$serial" ] || : >"$serial"
	clean_log "$serial"
	grep -a -E '^(l2|kvm-linux|kvm-demo-linux|kvm-linux-test|microhv-linux): ' "$log" | sed "s/^/# $side: /"

	if [ "$side" = bare ]; then
		expect "bare: no microhv (the kernel started by the UEFI shell)" \
			'^microhv-linux: cpuinfo flags hypervisor: no$'
	else
		expect "microhv: the firmware was late-launched as L1" \
			'^\[boot\] info: late launch: 1 of 1 CPUs run as L1 under microhv$'
		# KVM's hot VMREADs and VMWRITEs run in L1 here (bochs_kvm.sh: off).
		expect "microhv: VMCS shadowing for L1 on" \
			'^\[core\] info: nested VMX: VMCS shadowing for L1 on: 19 fields'
		expect "microhv: L1 Linux sees microhv" \
			'^microhv-linux: cpuid 0x40000000: max leaf 0x40000001 signature "microhv"$'
		expect_no "microhv: no error lines from loader or core" '^\[(boot|core)\] error:'
	fi
	expect "$side: KVM loaded in L1" '^kvm-demo: KVM loaded: .*kvm_intel'
	expect "$side: the loader started the L2 kernel" '^kvm-linux: L2 Linux: '
	expect "$side: L2 reached its /init" '^l2: l2-linux: init reached'
	expect "$side: L2 sees KVM's CPUID signature" \
		'^l2: l2-linux: cpuid 0x40000000: max leaf 0x[0-9a-f]+ signature "KVMKVMKVM"$'
	expect "$side: L2's cpuinfo has the hypervisor flag" '^l2: l2-linux: cpuinfo flags hypervisor: yes$'
	expect "$side: L2's kernel detected KVM" '^l2: l2-linux: dmesg: .*Hypervisor detected: KVM'
	expect "$side: L2 powered itself off" '^kvm-linux: L2 powered off '
	expect "$side: kvm-demo-linux saw the power-off" '^kvm-demo-linux: L2 Linux powered off'
	expect_no "$side: no loader error" '^(kvm-linux|kvm-demo-linux): error'
	expect_no "$side: no kernel panic or oops (L1 or L2)" 'Kernel panic|BUG:|Oops|general protection fault'
	expect "$side: L1 went on to its power-off" '^microhv-linux: powering off$'
	expect_bochs_power_off "$side: Bochs powered off by L1 Linux, not killed or panicked" "$status" "$serial"
	if [ "$failed" -ne 0 ]; then
		echo "--- $side: the last 40 lines of $log"
		tail -n 40 "$log"
	fi
done
log=""
finish $name
