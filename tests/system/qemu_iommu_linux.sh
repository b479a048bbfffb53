#!/usr/bin/env bash
# qemu_iommu_linux.sh - Linux boots on L0's DMA remapping, without its own
# IOMMU driver, and its devices work; a device it drives cannot write L0's
# memory (issue 14 item 2; docs/iommu.md "Linux on L0's DMA remapping").
#
# QEMU TCG has no VT-x, so L0 cannot launch; hv.cfg iommu_selftest = on
# has it program QEMU's intel-iommu exactly as at a launch, check edu's DMA
# (qemu_iommu.sh checks that part in full), and leave the machine as a
# launch leaves it: translation on, the DMAR hidden as XMAR.  The next
# stage is Debian's kernel (build/linux/microhv-iommu.img) with
# intel_iommu=on, so it would take any IOMMU it could find, and an
# initramfs whose /bin/iommu_test (tests/linux/iommu_test) reports what
# Linux made of the IOMMU, reads and writes an NVMe disk with the kernel's
# own driver, and has edu (tests/linux/edu_dma.c) DMA into a page of
# Linux's own and into L0's region.  Two boots:
#   protected  as above: no DMAR for Linux, no dmar0, the disk's data
#              right both ways, edu's DMA into Linux's page completed and
#              into L0's region without effect;
#   control    the same image with iommu_selftest off: L0 leaves the unit
#              alone, Linux finds the DMAR and takes the unit (passthrough),
#              and edu's DMA WRITES L0's region.  This shows that every
#              check of the first boot can fail.
. "$(dirname "$0")/lib.sh"

img="$top/build/linux/microhv-iommu.img"
[ -s "$img" ] || { fail "build/linux/microhv-iommu.img exists (make linux-iommu-image)"; finish qemu-iommu-linux; }

# boot NAME IMAGE: one boot with 6 GiB (4 of them above 4 GiB, where
# Linux's allocations mostly land, so DMA goes there too), intel-iommu,
# edu at 00:05.0 with 64-bit DMA and an NVMe disk whose first 4 MiB are
# random; sets $status, $serial, $disk, $sum.
boot() {
	serial="$out/qemu-iommu-linux-$1.serial.txt" disk="$out/qemu-iommu-linux-$1.nvme.raw"
	rm -f "$serial" "$disk"
	head -c 4M /dev/urandom >"$disk" && truncate -s 8M "$disk"
	sum=$(head -c 4M "$disk" | sha256sum | cut -d' ' -f1)
	# intel-iommu must come before the other PCI devices.
	MICROHV_QEMU_ACCEL=tcg "$top/tools/qemu.sh" "$2" "$serial" 150 -m 6G \
		-device intel-iommu,aw-bits=48 -device edu,addr=05.0,dma_mask=0xffffffffffffffff \
		-drive "file=$disk,if=none,id=nv,format=raw" -device nvme,drive=nv,serial=microhv
	status=$?
	[ -f "$serial" ] || : >"$serial"
	clean_log "$serial"
}

# Checks both boots share: the disk, edu's DMA into Linux's page, the end.
common() {
	local name=$1 l0=$2
	expect "$name: Linux reached /init" '^microhv-linux: init reached$'
	expect "$name: NVMe read by Linux's driver: the disk's first 4 MiB as written" "^iommu-test: nvme: first 4 MiB sha256 $sum\$"
	expect "$name: NVMe written by Linux: the copy flushed" '^iommu-test: nvme: first 4 MiB copied to the next 4 MiB$'
	if cmp -s <(head -c 4M "$disk") <(tail -c 4M "$disk"); then
		pass "$name: NVMe write landed: the disk's second 4 MiB equal its first"
	else
		fail "$name: NVMe write landed: the disk's second 4 MiB equal its first ($disk)"
	fi
	expect_no "$name: no NVMe or I/O error in dmesg" '^iommu-test: dmesg: .*(nvme.*(error|timeout|abort)|I/O error)'
	expect "$name: the range edu_dma takes for L0's is the loader's hypervisor region" \
		"^iommu-test: largest reserved range in RAM: $l0\$"
	expect "$name: edu found by Linux" '^edu-dma: edu at /sys/bus/pci/devices/0000:00:05\.0, id 0x10000ed$'
	expect "$name: edu's DMA into Linux's own page completed" '^edu-dma: DMA into L1.s page 0x[0-9a-f]+ completed: 2048 bytes as sent$'
	expect_no "$name: no error in the checks" '^(iommu-test|edu-dma): error:|iommu_test failed'
	expect "$name: the checks ran to the end" '^iommu-test: done$'
	expect_status "$name: QEMU powered off by Linux, not killed" "$status" 0
}

# The loader's "hypervisor region 0xA-0xB": l0_base, l0_end (hex digits), and
# l0 as /proc/iomem writes it ("a-b", at least 8 digits each).
l0_range() {
	l0_base=$(capture '^\[boot\] info: hypervisor region 0x([0-9a-f]+)-0x[0-9a-f]+ .*')
	l0_end=$(capture '^\[boot\] info: hypervisor region 0x[0-9a-f]+-0x([0-9a-f]+) .*')
	l0=none
	[ -n "$l0_base" ] && [ -n "$l0_end" ] && l0=$(printf '%08x-%08x' "$((0x$l0_base))" "$((0x$l0_end))")
}

# 1. protected: L0's remapping on, the DMAR hidden.
boot protected "$img"
name=protected
l0_range
expect "$name: no VT-x under TCG" '^\[core\] warn: VT-x not available: L1 runs without a hypervisor$'
expect "$name: L0's self-test passed and left remapping on" "^\\[core\\] info: iommu selftest: passed; DMA remapping stays on as after a launch, the boot goes on without a hypervisor\$"
expect "$name: the DMAR hidden from the next stage" '^\[core\] info: VT-d: the DMAR table at 0x[0-9a-f]+ hidden from L1 \(signature XMAR, checksum kept right\)$'
expect "$name: L0's tables leave its region out" "^\\[core\\] info: VT-d: 4-level tables: identity up to 0x[0-9a-f]+ without L0's 0x${l0_base:-none}-0x${l0_end:-none} "
expect "$name: Linux sees XMAR and no DMAR among the ACPI tables" '^iommu-test: ACPI tables: (.* )?XMAR( |$)'
expect_no "$name: ... no DMAR table listed" '^iommu-test: ACPI tables: (.* )?DMAR( |$)'
expect_no "$name: Linux's IOMMU driver found no unit (no DMAR table, DRHD or host address width)" \
	'^iommu-test: dmesg: .*(ACPI: DMAR|DMAR: DRHD|DMAR: Host address width|DMAR-IR:|dmar[0-9])'
expect "$name: no IOMMU registered in Linux" '^iommu-test: /sys/class/iommu: none$'
common "$name" "$l0"
expect "$name: NVMe's MSIs reached Linux, not remapped (L0 does no interrupt remapping)" '^iommu-test: nvme: interrupts: [1-9][0-9]* \(PCI-MSI\)$'
expect "$name: edu's DMA into L0's region had no effect" "^edu-dma: DMA write into 0x[0-9a-f]+ unchanged: all 4096 bytes as before\$"
expect_no "$name: no DMA landed where it must not" 'WRITTEN|NOT blocked|NOT as they must be|did NOT complete|iommu selftest: FAILED'
expect_no "$name: no error lines from loader or core" '^\[(boot|core)\] error:'

# 2. control: the same image, L0 leaves the unit alone.
ctl="$out/qemu-iommu-linux-control.img"
cfg="$out/qemu-iommu-linux-control.cfg"
cp "$img" "$ctl" &&
	mtype -i "$ctl@@1048576" ::/EFI/BOOT/hv.cfg | tr -d '\r' | grep -v '^iommu_selftest' >"$cfg" &&
	mcopy -o -i "$ctl@@1048576" "$cfg" ::/EFI/BOOT/hv.cfg ||
	{ fail "control: the image without iommu_selftest"; finish qemu-iommu-linux; }
boot control "$ctl"
name=control
l0_range
expect_no "$name: L0 did not program the unit" 'iommu selftest|VT-d'
expect "$name: Linux found the DMAR and its unit" '^iommu-test: dmesg: .*DMAR: DRHD base: 0x0*fed90000'
expect "$name: Linux registered the unit" '^iommu-test: /sys/class/iommu: dmar0 $'
common "$name" "$l0"
expect "$name: NVMe's MSIs reached Linux through its own interrupt remapping" '^iommu-test: nvme: interrupts: [1-9][0-9]* \(IR-PCI-MSI\)$'
expect "$name: edu's DMA WROTE L0's region: without L0's remapping a device can" \
	'^edu-dma: DMA write into 0x[0-9a-f]+ WRITTEN: [0-9]+ bytes changed$'
finish qemu-iommu-linux
