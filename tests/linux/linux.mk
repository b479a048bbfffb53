# linux.mk - a real Linux kernel as microhv's next stage (included by the
# top-level Makefile; see docs/linux.md).
#
#   make linux-image     build/linux/microhv-linux.img: hv.efi + hv.cfg +
#                        Debian's EFI-stub kernel + our initramfs
#   make run-linux       boot it in Bochs, serial on the terminal (CPUS=N)
#   make run-linux-qemu  boot it in QEMU (KVM+VMX where usable, else TCG)
#   make test-long       tests/system/bochs_linux.sh alone (Linux as L1
#                        in Bochs, about 90 s; also part of `make test`)
#
# The kernel and busybox come from Debian packages (tests/linux/fetch.sh,
# apt-get download); nothing else is downloaded.

LINUX_DIR := $(BUILD)/linux
LINUX_IMG := $(LINUX_DIR)/microhv-linux.img
LINUX_PROGS := $(LINUX_DIR)/bin/cpuid_sig $(LINUX_DIR)/bin/bochs_shutdown
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

.PHONY: linux-image run-linux run-linux-qemu test-long linux-fetch
linux-image: $(LINUX_IMG)

# fetch.sh is idempotent and leaves the files alone when they are current,
# so running it every time costs a few apt-cache queries and rebuilds nothing.
$(LINUX_DIR)/vmlinuz.efi $(LINUX_DIR)/busybox: linux-fetch
	@:
linux-fetch:
	@tests/linux/fetch.sh $(LINUX_DIR)

$(LINUX_DIR)/bin/%: tests/linux/%.c tests/linux/linux_sys.h tests/linux/linux.mk
	@mkdir -p $(dir $@)
	$(CC) -static -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie \
		-O2 $(WARN) -o $@ $<

$(LINUX_DIR)/initrd.img: tests/linux/init tests/linux/mkinitrd.sh tests/linux/mkcpio.py \
		$(LINUX_DIR)/busybox $(LINUX_PROGS)
	tests/linux/mkinitrd.sh $@ $(LINUX_DIR)/busybox tests/linux/init $(LINUX_PROGS)

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

# Bochs exits with status 1 when the guest powers it off (as for `run`).
run-linux: deps linux-image
	tools/bochs.sh $(LINUX_IMG) - $(or $(CPUS),1) $(LINUX_SECONDS) || [ $$? -eq 1 ]

run-linux-qemu: deps linux-image
	tools/qemu.sh $(LINUX_IMG) - $(LINUX_SECONDS)

# The Linux test alone; CPUS=N and the test's own variables (EXPECT_CPUS,
# LINUX_SECONDS, LINUX_TEST_IMG) pass through here, not in `make test`.
test-long: deps linux-image
	CPUS=$(or $(CPUS),1) tests/system/bochs_linux.sh
