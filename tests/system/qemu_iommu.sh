#!/usr/bin/env bash
# qemu_iommu.sh - L0's VT-d DMA protection against a real (emulated) VT-d
# unit and a real DMA-capable device (issue 14, docs/iommu.md "The
# self-test").
#
# QEMU TCG has no VT-x, so no hypervisor runs; hv.cfg iommu_selftest = on
# makes the core program the VT-d unit of QEMU's intel-iommu exactly as at
# launch (DMAR parsed, second-level tables without L0's memory, root and
# context tables, queued invalidation, translation on), and then has QEMU's
# edu device DMA into a page of L0's (blocked: the fault logged with edu's
# requester ID 00:05.0, the page unchanged) and into a page of L1's
# (completed), leaves translation on and the DMAR hidden as a launch does,
# and boots on without a hypervisor: the firmware then loads the marker
# payload from the disk by DMA through L0's tables.  The test fails if
# either DMA does what it must not.  (qemu_iommu_linux.sh boots Linux so.)  Two boots: QEMU 7.2's
# default unit (39-bit: 3-level tables) and a 48-bit one in caching mode
# (4-level tables, CAP.CM), then that again with iommu_qi = off
# (register-based invalidation; QEMU's unit always offers QI), and a
# 39-bit one with iommu = off, after which the units are left alone.
# edu's dma_mask is set to 32 bits (its default is 28): both pages lie
# below 4 GiB in 512 MiB.
. "$(dirname "$0")/lib.sh"

# image NAME [HV.CFG LINE...]: $out/qemu-iommu[-NAME].img, the marker payload
# as the next stage and an hv.cfg with iommu_selftest = on and the lines
# given; prints the image's path.
image() {
	local name=$1 img cfg
	shift
	img="$out/qemu-iommu${name:+-$name}.img" cfg="$out/qemu-iommu${name:+-$name}.cfg"
	printf '%s\n' "# the VT-d self-test${name:+ ($name)} (tests/system/qemu_iommu.sh)" \
		'iommu_selftest = on' "$@" >"$cfg"
	"$top/tools/mkimage.sh" "$img" "$top/build/hv.efi" "$cfg" "$top/build/payload/marker.efi" \
		>&2 && echo "$img"
}
img=$(image "") || { fail "build the image"; finish qemu-iommu; }
# Register-based invalidation (QEMU's unit always offers QI).
img_reg=$(image register 'iommu_qi = off') || { fail "build the image with iommu_qi = off"; finish qemu-iommu; }
# iommu = off: the self-test runs, then leaves the units alone as a launch
# with iommu = off would.
img_off=$(image off 'iommu = off') || { fail "build the image with iommu = off"; finish qemu-iommu; }

# boot NAME LEVELS WIDTH INTEL-IOMMU-OPTIONS IMAGE INVALIDATION AFTER: one
# boot and its checks, each named "NAME: ..."; AFTER is "kept" (remapping
# left on, the DMAR hidden) or "off" (iommu = off: both undone).
boot() {
	local name=$1 levels=$2 width=$3 opts=$4 image=$5 inval=$6 after=$7 serial="$out/qemu-iommu-$1.serial.txt" status l0page
	rm -f "$serial"
	# intel-iommu must come before the other PCI devices.
	MICROHV_QEMU_ACCEL=tcg "$top/tools/qemu.sh" "$image" "$serial" 150 \
		-device "intel-iommu,$opts" -device edu,addr=05.0,dma_mask=0xffffffff
	status=$?
	[ -f "$serial" ] || : >"$serial"
	clean_log "$serial"

	expect "$name: no VT-x under TCG" '^\[boot\] warn: VT-x not available: CPUID\.1:ECX\.VMX\[bit 5\] is 0'
	expect "$name: the DMAR found and parsed: one unit, its device scopes" "^\\[core\\] info: VT-d: DMAR at 0x[0-9a-f]+: 1 remapping unit\\(s\\) \\([01] for all other PCI devices\\), [0-9]+ device scope\\(s\\), 0 reserved memory region\\(s\\), host address width $width\$"
	expect "$name: the unit probed: $levels-level tables, large pages, $inval invalidation" "^\\[core\\] info: VT-d unit at 0xfed90000 \\(segment 0\\): version [0-9]+\\.[0-9]+, CAP 0x[0-9a-f]+ ECAP 0x[0-9a-f]+: $levels-level tables \\($width-bit\\), pages 4K 2M 1G, $inval invalidation"
	expect "$name: second-level tables without L0's memory" "^\\[core\\] info: VT-d: $levels-level tables: identity up to 0x[0-9a-f]+ without L0's 0x[0-9a-f]+-0x[0-9a-f]+ and the units' registers, 0 RMRR\\(s\\) mapped; leaves 1G [0-9]+ 2M [0-9]+ 4K [0-9]+, [0-9]+ table pages\$"
	expect "$name: edu found, its BAR0 assigned" '^\[core\] info: iommu selftest: edu at 00:05\.0, BAR0 0x[0-9a-f]+, id 0x10000ed$'
	expect "$name: remapping on as at launch" "^\\[core\\] info: iommu selftest: DMA remapping on as at launch; edu DMAs into L0's page 0x[0-9a-f]+ and L1's page 0x[0-9a-f]+\$"
	l0page=$(capture "^\\[core\\] info: iommu selftest: DMA remapping on as at launch; edu DMAs into L0's page (0x[0-9a-f]+) and .*")
	expect "$name: the unit blocked edu's write into L0's page and L0 logged the fault" \
		"^\\[core\\] warn: VT-d unit at 0xfed90000: DMA fault: source 00:05\\.0 write at ${l0page:-none} blocked, reason 0x5 \\(write to a page not mapped for write\\)\$"
	expect "$name: L0's page unchanged, each of 4 faults recorded and cleared" "^\\[core\\] info: iommu selftest: DMA write into L0's page ${l0page:-none} blocked 4 times: page unchanged, each fault recorded and cleared\$"
	n=$(grep -a -c -E "^\\[core\\] warn: VT-d unit at 0xfed90000: DMA fault: source 00:05\\.0 write at ${l0page:-none} blocked, reason 0x5 " "$log")
	expect_status "$name: L0 logged each of the 4 faults once" "$n" 4
	expect "$name: the DMA into L1's page completed" "^\\[core\\] info: iommu selftest: DMA write into L1's page 0x[0-9a-f]+ completed: 2048 bytes as sent\$"
	if [ "$after" = kept ]; then
		expect "$name: self-test passed, translation left on as after a launch" "^\\[core\\] info: iommu selftest: passed; DMA remapping stays on as after a launch, the boot goes on without a hypervisor\$"
		expect "$name: the DMAR hidden from the next stage, as at a launch" "^\\[core\\] info: VT-d: the DMAR table at 0x[0-9a-f]+ hidden from L1 \\(signature XMAR, checksum kept right\\)\$"
		expect_no "$name: translation not turned off again" 'DMA remapping off again'
	else
		expect "$name: self-test passed, then translation off and the DMAR left (iommu = off)" "^\\[core\\] info: iommu selftest: passed; iommu = off in hv.cfg: DMA remapping off again, the DMAR left for the next stage\$"
		expect_no "$name: the DMAR not hidden" 'hidden from L1'
		expect_no "$name: translation not left on" 'DMA remapping stays on'
	fi
	expect_no "$name: no DMA did what it must not" 'NOT blocked|NOT as they must be|did NOT complete|iommu selftest: FAILED'
	expect "$name: no launch without VT-x, said plainly" '^\[core\] warn: VT-x not available: L1 runs without a hypervisor$'
	expect "$name: core returned to the loader" '^\[boot\] info: core returned OK$'
	expect "$name: the machine boots on: next stage chain-loaded" '^\[boot\] info: chain-loading next stage \\EFI\\microhv\\next\.efi$'
	expect "$name: payload marker" '^microhv-payload: marker: next stage started by the loader$'
	expect_no "$name: no error lines from loader or core" '^\[(boot|core)\] error:'
	expect_status "$name: QEMU powered off by the payload, not killed" "$status" 0
}

# QEMU 7.2's defaults: 39-bit (3-level tables); then 48-bit with caching mode (CAP.CM).
boot aw39 3 39 aw-bits=39 "$img" queued kept
boot aw48-cm 4 48 aw-bits=48,caching-mode=on "$img" queued kept
# iommu_qi = off: the context cache and IOTLB invalidated through CCMD and
# the IOTLB registers (VT-d 6.5.1), as on a unit without QI.
boot aw48-register 4 48 aw-bits=48,caching-mode=on "$img_reg" register-based kept
# iommu = off: the self-test still runs, and then the units are L1's.
boot aw39-iommu-off 3 39 aw-bits=39 "$img_off" queued off
finish qemu-iommu
