# smp.mk - the SMP Linux image: Linux as L1 with every CPU (included by the
# top-level Makefile after linux.mk; see docs/linux.md, "Linux with 2 CPUs").
#
#   make linux-smp-image  build/linux/microhv-linux-smp.img: the loader
#                         chain-loads tests/linux/smp_stage.c (ACPI tables
#                         with an MADT from the MP services' processors),
#                         which starts Debian's kernel with our initramfs
#   make run-linux-smp    boot it in Bochs, serial on the terminal (CPUS=2)
#   make test-linux-smp   tests/system/bochs_linux_smp.sh: 2 CPUs online
#                         under microhv and on bare Bochs, KVM's L2 guests
#                         passing on each
#
# The kernel and initramfs are linux.mk's ($(LINUX_DIR)/vmlinuz.efi,
# $(LINUX_DIR)/initrd-kvm.img); only the stage and hv.cfg are this file's.

LINUX_SMP_IMG := $(LINUX_DIR)/microhv-linux-smp.img
# The initramfs: the KVM one, whose kvm_test runs the L2 guests on each
# CPU too (issue 11, item 5); LINUX_SMP_INITRD=$(LINUX_DIR)/initrd.img
# gives the plain one (2 CPUs online, no KVM) for a quicker hand run.
LINUX_SMP_INITRD ?= $(LINUX_DIR)/initrd-kvm.img
LINUX_SMP_STAGE := $(LINUX_DIR)/smp_stage.efi
# The stage's LoadOptions: "KERNEL-PATH -- KERNEL-COMMAND-LINE".
LINUX_SMP_ARGS = \EFI\linux\vmlinuz.efi -- $(strip $(LINUX_ARGS))

.PHONY: linux-smp-image run-linux-smp test-linux-smp
linux-smp-image: $(LINUX_SMP_IMG)
# make test boots this image too (tests/suites.txt: bochs-linux-smp).
test: linux-smp-image

$(LINUX_DIR)/smp_stage.so: $(BUILD)/boot/tests/linux/smp_stage.o \
		$(PAYLOAD_SHARED:%.c=$(BUILD)/boot/%.o)
	@mkdir -p $(dir $@)
	$(LD) $(EFI_LDFLAGS) $(EFI_CRT0) $^ -o $@ $(EFI_LIBS)

$(LINUX_SMP_STAGE): $(LINUX_DIR)/smp_stage.so
	$(OBJCOPY) $(EFI_SECTIONS) --target efi-app-x86_64 --subsystem=10 $< $@

# Rewritten only when its text changes (as linux.mk's hv.cfg).
$(LINUX_DIR)/hv-smp.cfg: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '# hv.cfg for the microhv-linux-smp image (tests/linux/smp.mk)' \
		'serial = com1' 'loglevel = info' 'next = \EFI\linux\smp_stage.efi' \
		'next_args = $(LINUX_SMP_ARGS)' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(LINUX_SMP_IMG): $(BUILD)/hv.efi $(LINUX_DIR)/hv-smp.cfg $(LINUX_SMP_STAGE) \
		$(LINUX_DIR)/vmlinuz.efi $(LINUX_SMP_INITRD) tools/mkimage.sh | deps
	tools/mkimage.sh $@.part $(BUILD)/hv.efi $(LINUX_DIR)/hv-smp.cfg $(LINUX_SMP_STAGE) \
		'\EFI\linux\smp_stage.efi'
	mcopy -i $@.part@@1048576 $(LINUX_DIR)/vmlinuz.efi ::/EFI/linux/vmlinuz.efi
	mcopy -i $@.part@@1048576 $(LINUX_SMP_INITRD) ::/EFI/linux/initrd.img
	mv $@.part $@

run-linux-smp: deps linux-smp-image
	tools/bochs.sh $(LINUX_SMP_IMG) - $(or $(CPUS),2) $(LINUX_SECONDS) || [ $$? -eq 1 ]

test-linux-smp: deps linux-smp-image
	CPUS=$(or $(CPUS),2) tests/system/bochs_linux_smp.sh
