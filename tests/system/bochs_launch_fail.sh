#!/usr/bin/env bash
# bochs_launch_fail.sh - a launch that fails must be decoded and undone.
#
# hv.cfg test_fail_launch spoils the BSP's vmcs01 on purpose: "control"
# makes VMLAUNCH fail with VMfailValid (VM-instruction error 7), and
# "guest-state" makes the VM entry fail with an exit (reason 33, invalid
# guest state) after the CPU already loaded L0's host state.  In both cases
# the reason must be printed, the firmware's state restored, and the boot
# must go on without the hypervisor to the payload, which powers off: that
# proves the firmware survived the undo.  And iommu = required on Bochs,
# which has no VT-d unit (no DMAR table): L0 refuses to launch, says why,
# and the next stage runs unvirtualized.
. "$(dirname "$0")/lib.sh"

run_case() { # name hv.cfg-line
	img="$out/$1.img"
	serial="$out/$1.serial.txt"
	cfg="$out/$1.cfg"
	{ cat "$top/boot/hv.cfg"; echo "$2"; } >"$cfg"
	rm -f "$serial"
	status=none
	log=/dev/null
	"$top/tools/mkimage.sh" "$img" "$top/build/hv.efi" "$cfg" "$top/build/payload/marker.efi" ||
		{ fail "$1: build the image"; return; }
	"$top/tools/bochs.sh" "$img" "$serial" 1 120
	status=$?
	[ -f "$serial" ] || : >"$serial"
	clean_log "$serial"
}

run_case bochs-launch-fail-control 'test_fail_launch = control'
expect "control: the fault was injected" '^\[core\] warn: test_fail_launch = control: CR3-target count 5 in vmcs01 on purpose$'
expect "control: VMfailValid decoded with error 7 and its text" '^\[core\] error: CPU 0: VMLAUNCH failed: VMfailValid, VM-instruction error 7 \(VM entry with invalid control field\(s\)\)$'
expect "control: launch undone" '^\[core\] error: CPU 0: launch undone: this CPU goes on without the hypervisor$'
expect "control: the loader falls back" '^\[boot\] error: late launch failed on the BSP \(code 5\): the next stage runs without the hypervisor$'
expect "control: the next stage still runs" '^microhv-payload: marker: next stage started by the loader$'
expect_bochs_power_off "control: powered off by the payload, not killed or panicked" "$status" "$serial"

run_case bochs-launch-fail-guest 'test_fail_launch = guest-state'
expect "guest-state: the fault was injected" '^\[core\] warn: test_fail_launch = guest-state: clearing RFLAGS bit 1 in vmcs01 on purpose$'
expect "guest-state: VM-entry failure exit decoded" '^\[core\] error: CPU 0: VM entry failed: exit reason 33 \(VM-entry failure: invalid guest state\), qualification 0x0$'
expect "guest-state: guest state dumped (RFLAGS without bit 1)" '^\[core\] error:   GUEST_RFLAGS +0x[0-9a-f]*[014589cd]$'
expect "guest-state: launch undone" '^\[core\] error: CPU 0: launch undone: this CPU goes on without the hypervisor$'
expect "guest-state: the loader falls back" '^\[boot\] error: late launch failed on the BSP \(code 5\): the next stage runs without the hypervisor$'
expect "guest-state: firmware intact: the next stage still runs" '^microhv-payload: marker: next stage started by the loader$'
expect_bochs_power_off "guest-state: powered off by the payload, not killed or panicked" "$status" "$serial"

run_case bochs-launch-fail-iommu 'iommu = required'
expect "iommu required: no DMAR on Bochs, said plainly" '^\[core\] error: iommu = required in hv\.cfg, but no DMAR table: L0 does not launch; the next stage runs without the hypervisor$'
expect_no "iommu required: no VMLAUNCH tried" 'VMLAUNCH|launch undone'
expect "iommu required: the loader says the next stage runs unvirtualized" '^\[boot\] warn: late launch skipped \(see the core.s messages\): the next stage runs without the hypervisor$'
expect "iommu required: the next stage runs" '^microhv-payload: marker: next stage started by the loader$'
expect_bochs_power_off "iommu required: powered off by the payload, not killed or panicked" "$status" "$serial"
finish bochs-launch-fail
