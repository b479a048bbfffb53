# linux.mk - a real Linux kernel as microhv's next stage (included by the
# top-level Makefile; see docs/linux.md).
#
#   make linux-image     build/linux/microhv-linux.img: hv.efi + hv.cfg +
#                        Debian's EFI-stub kernel + our initramfs, and
#                        build/linux/microhv-kvm.img (linux-kvm-image)
#   make linux-kvm-image build/linux/microhv-kvm.img: the same with the
#                        microhv-kvm initramfs (KVM modules + kvm_guests)
#   make linux-shell-image build/linux/microhv-shell.img, what `make run`
#                        boots: KVM loaded and a shell on the serial console
#   make run-linux       boot it in Bochs, serial on the terminal (CPUS=N)
#   make run-linux-qemu  boot it in QEMU (KVM+VMX where usable, else TCG)
#   make test-long       tests/system/bochs_linux.sh alone (Linux as L1
#                        in Bochs, about 90 s; also part of `make test`)
#   make test-kvm        tests/system/bochs_kvm.sh alone (KVM in L1 Linux
#                        runs L2 guests, under microhv and on bare Bochs;
#                        also part of `make test`)
#
# The kernel and busybox come from Debian packages (tests/linux/fetch.sh,
# apt-get download); nothing else is downloaded.

LINUX_DIR := $(BUILD)/linux
LINUX_IMG := $(LINUX_DIR)/microhv-linux.img
LINUX_PROGS := $(LINUX_DIR)/bin/cpuid_sig $(LINUX_DIR)/bin/bochs_shutdown
# The microhv-kvm image: the same kernel and hv.cfg, an initramfs that also
# holds the kernel's own KVM modules (fetch.sh takes them from the same
# package), kvm_guests and the script /init runs when it finds it.
LINUX_KVM_IMG := $(LINUX_DIR)/microhv-kvm.img
LINUX_KVM_MODS := $(LINUX_DIR)/modules/irqbypass.ko $(LINUX_DIR)/modules/kvm.ko \
	$(LINUX_DIR)/modules/kvm-intel.ko
# Kernel command line (next_args, at most 255 characters):
#   quiet                  the kernel's console shows errors only, so the log
#                          is the EFI stub, the init lines and the power-off
#   panic=-1               reboot at once on a panic rather than hang
#   mitigations=off        less work that only slows an emulated boot
#   nokaslr                the kernel at its link address (gdb, logs)
#   clearcpuid=xsavec,xsaves  Bochs 2.7 reports the standard-format size in
#                          CPUID.(0xD,1).EBX where the compacted size is due;
#                          Linux 6.1 then finds an "XSAVE consistency
#                          problem" and turns XSAVE off.  Without XSAVEC and
#                          XSAVES it uses the standard format and keeps XSAVE
#                          (and AVX) on.  docs/linux.md has the details.
LINUX_ARGS ?= console=ttyS0,115200 initrd=\EFI\linux\initrd.img panic=-1 quiet mitigations=off \
	nokaslr clearcpuid=xsavec,xsaves
# Bound on the run targets' emulator (SIGKILL), seconds; a boot to the
# power-off takes about 90 s in Bochs and 11 s in QEMU TCG (docs/linux.md).
LINUX_SECONDS ?= 600

.PHONY: linux-image linux-kvm-image run-linux run-linux-qemu test-long test-kvm linux-fetch
linux-image: $(LINUX_IMG) $(LINUX_KVM_IMG)
linux-kvm-image: $(LINUX_KVM_IMG)

# fetch.sh is idempotent and leaves the files alone when they are current,
# so running it every time costs a few apt-cache queries and rebuilds nothing.
$(LINUX_DIR)/vmlinuz.efi $(LINUX_DIR)/busybox $(LINUX_KVM_MODS): linux-fetch
	@:
linux-fetch:
	@tests/linux/fetch.sh $(LINUX_DIR)

$(LINUX_DIR)/bin/%: tests/linux/%.c tests/linux/linux_sys.h tests/linux/linux_out.h tests/linux/linux.mk
	@mkdir -p $(dir $@)
	$(CC) -static -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie \
		-O2 $(WARN) -o $@ $<

# kvm_guests includes the kernel's UAPI <linux/kvm.h> (linux-libc-dev, which
# gcc's libc6-dev brings).
$(LINUX_DIR)/bin/kvm_guests: tests/linux/kvm_guests.c tests/linux/linux_sys.h tests/linux/linux.mk

$(LINUX_DIR)/initrd.img: tests/linux/init tests/linux/mkinitrd.sh tests/linux/mkcpio.py \
		$(LINUX_DIR)/busybox $(LINUX_PROGS)
	tests/linux/mkinitrd.sh $@ $(LINUX_DIR)/busybox tests/linux/init $(LINUX_PROGS)

$(LINUX_DIR)/initrd-kvm.img: tests/linux/init tests/linux/kvm_test tests/linux/mkinitrd.sh \
		tests/linux/mkcpio.py $(LINUX_DIR)/busybox $(LINUX_PROGS) $(LINUX_DIR)/bin/kvm_guests \
		$(LINUX_KVM_MODS)
	tests/linux/mkinitrd.sh $@ $(LINUX_DIR)/busybox tests/linux/init $(LINUX_PROGS) \
		$(LINUX_DIR)/bin/kvm_guests tests/linux/kvm_test \
		$(foreach m,$(LINUX_KVM_MODS),/lib/modules/kvm/$(notdir $(m))=$(m))

# hv.cfg is rewritten only when its text changes (LINUX_ARGS on the command
# line changes it), like version.h.  printf, not echo: dash's echo would
# turn the \v of \vmlinuz into a vertical tab.
$(LINUX_DIR)/hv.cfg: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '# hv.cfg for the microhv-linux image (tests/linux/linux.mk)' \
		'serial = com1' 'loglevel = info' 'next = \EFI\linux\vmlinuz.efi' \
		'next_args = $(strip $(LINUX_ARGS))' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(LINUX_IMG): $(BUILD)/hv.efi $(LINUX_DIR)/hv.cfg $(LINUX_DIR)/vmlinuz.efi $(LINUX_DIR)/initrd.img \
		tools/mkimage.sh | deps
	tools/mkimage.sh $@.part $(BUILD)/hv.efi $(LINUX_DIR)/hv.cfg $(LINUX_DIR)/vmlinuz.efi \
		'\EFI\linux\vmlinuz.efi'
	mcopy -i $@.part@@1048576 $(LINUX_DIR)/initrd.img ::/EFI/linux/initrd.img
	mv $@.part $@

# The same image with the microhv-kvm initramfs, under the same name in the
# image (hv.cfg's initrd= is the same); bochs_kvm.sh boots it under microhv
# and, with BOOTX64.EFI swapped for a startup.nsh, on bare Bochs.
$(LINUX_KVM_IMG): $(BUILD)/hv.efi $(LINUX_DIR)/hv.cfg $(LINUX_DIR)/vmlinuz.efi \
		$(LINUX_DIR)/initrd-kvm.img tools/mkimage.sh | deps
	tools/mkimage.sh $@.part $(BUILD)/hv.efi $(LINUX_DIR)/hv.cfg $(LINUX_DIR)/vmlinuz.efi \
		'\EFI\linux\vmlinuz.efi'
	mcopy -i $@.part@@1048576 $(LINUX_DIR)/initrd-kvm.img ::/EFI/linux/initrd.img
	mv $@.part $@

# make run's image (the top-level Makefile's `run`): the microhv-kvm
# initramfs plus /bin/kvm-demo (tests/linux/kvm-demo), booted with
# microhv.shell on the kernel command line: /init then loads KVM, prints
# what to type and starts a busybox shell on the console (ttyS0) instead
# of the tests.  Its own hv.cfg; the same name for the initramfs.
LINUX_SHELL_IMG := $(LINUX_DIR)/microhv-shell.img
LINUX_SHELL_ARGS = $(strip $(LINUX_ARGS)) microhv.shell

.PHONY: linux-shell-image
linux-shell-image: $(LINUX_SHELL_IMG)
# make test boots it too (tests/suites.txt: bochs-shell).
test: linux-shell-image

$(LINUX_DIR)/initrd-shell.img: tests/linux/init tests/linux/kvm-demo tests/linux/mkinitrd.sh \
		tests/linux/mkcpio.py $(LINUX_DIR)/busybox $(LINUX_PROGS) $(LINUX_DIR)/bin/kvm_guests \
		$(LINUX_KVM_MODS)
	tests/linux/mkinitrd.sh $@ $(LINUX_DIR)/busybox tests/linux/init $(LINUX_PROGS) \
		$(LINUX_DIR)/bin/kvm_guests tests/linux/kvm-demo \
		$(foreach m,$(LINUX_KVM_MODS),/lib/modules/kvm/$(notdir $(m))=$(m)) \
		$(filter-out tests/linux/kvm-demo,$(L2_IN_L1))

$(LINUX_DIR)/hv-shell.cfg: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '# hv.cfg for the microhv-shell image (make run; tests/linux/linux.mk)' \
		'serial = com1' 'loglevel = info' 'next = \EFI\linux\vmlinuz.efi' \
		'next_args = $(LINUX_SHELL_ARGS)' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(LINUX_SHELL_IMG): $(BUILD)/hv.efi $(LINUX_DIR)/hv-shell.cfg $(LINUX_DIR)/vmlinuz.efi \
		$(LINUX_DIR)/initrd-shell.img tools/mkimage.sh | deps
	tools/mkimage.sh $@.part $(BUILD)/hv.efi $(LINUX_DIR)/hv-shell.cfg $(LINUX_DIR)/vmlinuz.efi \
		'\EFI\linux\vmlinuz.efi'
	mcopy -i $@.part@@1048576 $(LINUX_DIR)/initrd-shell.img ::/EFI/linux/initrd.img
	mv $@.part $@

# The shell test alone (tests/system/bochs_shell.sh: types kvm-demo and
# poweroff into make run's image).
.PHONY: test-shell
test-shell: deps linux-shell-image
	tests/system/bochs_shell.sh

# Bochs exits with status 1 when the guest powers it off (as for `run`).
run-linux: deps linux-image
	tools/bochs.sh $(LINUX_IMG) - $(or $(CPUS),1) $(LINUX_SECONDS) || [ $$? -eq 1 ]

run-linux-qemu: deps linux-image
	tools/qemu.sh $(LINUX_IMG) - $(LINUX_SECONDS)

# The Linux test alone; CPUS=N and the test's own variables (EXPECT_CPUS,
# LINUX_SECONDS, LINUX_TEST_IMG) pass through here, not in `make test`.
test-long: deps linux-image
	CPUS=$(or $(CPUS),1) tests/system/bochs_linux.sh

# The KVM test alone (about 4 minutes: two Linux boots at once).
test-kvm: deps linux-kvm-image
	tests/system/bochs_kvm.sh

# ---- Linux on L0's DMA remapping (issue 14; docs/iommu.md) ----
# QEMU TCG has no VT-x, so L0 does not launch there; hv.cfg iommu_selftest
# = on has it program QEMU's intel-iommu as at a launch, check edu's DMA,
# and leave remapping on and the DMAR hidden for the next stage: this
# Linux, with intel_iommu=on (it would take any IOMMU it found),
# iommu.passthrough=1 and iomem=relaxed (tests/linux/iommu_test says why),
# and an initramfs with the kernel's NVMe driver, edu_dma and iommu_test.
#   make linux-iommu-image  build/linux/microhv-iommu.img
# tests/system/qemu_iommu_linux.sh boots it (suite qemu-iommu-linux).
LINUX_IOMMU_IMG := $(LINUX_DIR)/microhv-iommu.img
LINUX_IOMMU_ARGS = $(strip $(LINUX_ARGS)) intel_iommu=on iommu.passthrough=1 iomem=relaxed
LINUX_NVME_MODS := $(foreach m,crc64 crc64-rocksoft crct10dif_common crc-t10dif t10-pi \
	nvme-core nvme,$(LINUX_DIR)/modules/$(m).ko)
$(LINUX_NVME_MODS): linux-fetch
	@:

.PHONY: linux-iommu-image
linux-iommu-image: $(LINUX_IOMMU_IMG)
test: linux-iommu-image

$(LINUX_DIR)/bin/edu_dma: tests/linux/edu_dma.c tests/linux/linux_sys.h tests/linux/linux.mk

$(LINUX_DIR)/initrd-iommu.img: tests/linux/init tests/linux/iommu_test tests/linux/mkinitrd.sh \
		tests/linux/mkcpio.py $(LINUX_DIR)/busybox $(LINUX_PROGS) $(LINUX_DIR)/bin/edu_dma \
		$(LINUX_NVME_MODS)
	tests/linux/mkinitrd.sh $@ $(LINUX_DIR)/busybox tests/linux/init $(LINUX_PROGS) \
		$(LINUX_DIR)/bin/edu_dma tests/linux/iommu_test \
		$(foreach m,$(LINUX_NVME_MODS),/lib/modules/nvme/$(notdir $(m))=$(m))

$(LINUX_DIR)/hv-iommu.cfg: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '# hv.cfg for the microhv-iommu image (tests/linux/linux.mk)' \
		'serial = com1' 'loglevel = info' 'iommu_selftest = on' \
		'next = \EFI\linux\vmlinuz.efi' 'next_args = $(LINUX_IOMMU_ARGS)' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(LINUX_IOMMU_IMG): $(BUILD)/hv.efi $(LINUX_DIR)/hv-iommu.cfg $(LINUX_DIR)/vmlinuz.efi \
		$(LINUX_DIR)/initrd-iommu.img tools/mkimage.sh | deps
	tools/mkimage.sh $@.part $(BUILD)/hv.efi $(LINUX_DIR)/hv-iommu.cfg $(LINUX_DIR)/vmlinuz.efi \
		'\EFI\linux\vmlinuz.efi'
	mcopy -i $@.part@@1048576 $(LINUX_DIR)/initrd-iommu.img ::/EFI/linux/initrd.img
	mv $@.part $@

# ---- The L2 Linux (issue 11, item 2; docs/linux.md "An L2 Linux") ----
# L1's KVM boots a second Linux, the same Debian kernel, with its own small
# initramfs (tests/linux/l2-init), through our /dev/kvm loader
# (tests/linux/kvm_linux.c, started by tests/linux/kvm-demo-linux).
#   make linux-l2-image   build/linux/microhv-kvm-linux.img: the microhv-kvm
#                         image whose /bin/kvm_test boots the L2 Linux
#   make test-kvm-linux   tests/system/bochs_kvm_linux.sh: that image under
#                         microhv and on bare Bochs (a suite of make test)
# L2_VERBOSE=1 builds the image with the L2 kernel's whole boot log on
# (no quiet, earlyprintk); L2_MEM (MiB) and L2_SECONDS (bound, L1's time)
# go to the loader.
L2_DIR := $(LINUX_DIR)/l2
L2_VERBOSE ?= 0
L2_MEM ?= 128
L2_SECONDS ?= 3600
LINUX_L2_IMG := $(LINUX_DIR)/microhv-kvm-linux.img
# What an L1 initramfs holds to boot the L2 Linux (the shell's and the test's).
L2_IN_L1 = $(LINUX_DIR)/bin/kvm_linux tests/linux/kvm-demo tests/linux/kvm-demo-linux \
	/boot/l2/vmlinuz=$(LINUX_DIR)/vmlinuz.efi /boot/l2/initrd.img=$(L2_DIR)/initrd.img
L2_IN_L1_DEPS = $(LINUX_DIR)/bin/kvm_linux tests/linux/kvm-demo tests/linux/kvm-demo-linux \
	$(LINUX_DIR)/vmlinuz.efi $(L2_DIR)/initrd.img

.PHONY: linux-l2-image test-kvm-linux
linux-l2-image: $(LINUX_L2_IMG)

# make run's shell image holds the L2 Linux too (`kvm-demo linux`).
$(LINUX_DIR)/initrd-shell.img: $(L2_IN_L1_DEPS)

$(LINUX_DIR)/bin/kvm_linux: tests/linux/kvm_linux.c tests/linux/linux_sys.h tests/linux/linux.mk

# L2's initramfs: busybox, l2-init as /init, cpuid_sig, bochs_shutdown.
$(L2_DIR)/initrd.img: tests/linux/l2-init tests/linux/mkinitrd.sh tests/linux/mkcpio.py \
		$(LINUX_DIR)/busybox $(LINUX_PROGS)
	@mkdir -p $(dir $@)
	tests/linux/mkinitrd.sh $@ $(LINUX_DIR)/busybox tests/linux/l2-init $(LINUX_PROGS)

# The test's /bin/kvm_test (a copy under that name) and the loader's
# settings, rewritten only when they change.
$(L2_DIR)/kvm_test: tests/linux/kvm_linux_test
	@mkdir -p $(dir $@)
	cp $< $@
$(L2_DIR)/kvm-linux.conf: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '# /etc/kvm-linux.conf (tests/linux/linux.mk), read by kvm-demo-linux' \
		'L2_VERBOSE=$(L2_VERBOSE)' 'L2_MEM=$(L2_MEM)' 'L2_SECONDS=$(L2_SECONDS)' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(L2_DIR)/initrd-l1.img: tests/linux/init tests/linux/mkinitrd.sh tests/linux/mkcpio.py \
		$(LINUX_DIR)/busybox $(LINUX_PROGS) $(LINUX_KVM_MODS) $(L2_IN_L1_DEPS) \
		$(L2_DIR)/kvm_test $(L2_DIR)/kvm-linux.conf
	tests/linux/mkinitrd.sh $@ $(LINUX_DIR)/busybox tests/linux/init $(LINUX_PROGS) \
		$(L2_DIR)/kvm_test $(L2_IN_L1) /etc/kvm-linux.conf=$(L2_DIR)/kvm-linux.conf \
		$(foreach m,$(LINUX_KVM_MODS),/lib/modules/kvm/$(notdir $(m))=$(m))

$(LINUX_L2_IMG): $(BUILD)/hv.efi $(LINUX_DIR)/hv.cfg $(LINUX_DIR)/vmlinuz.efi \
		$(L2_DIR)/initrd-l1.img tools/mkimage.sh | deps
	tools/mkimage.sh $@.part $(BUILD)/hv.efi $(LINUX_DIR)/hv.cfg $(LINUX_DIR)/vmlinuz.efi \
		'\EFI\linux\vmlinuz.efi'
	mcopy -i $@.part@@1048576 $(L2_DIR)/initrd-l1.img ::/EFI/linux/initrd.img
	mv $@.part $@

# The L2 Linux test alone (8 to 15 minutes: two Bochs at once, see
# docs/linux.md); also a suite of make test (bochs-kvm-linux).
test-kvm-linux: deps linux-l2-image
	tests/system/bochs_kvm_linux.sh
test: linux-l2-image
