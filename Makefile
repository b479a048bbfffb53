# microhv - top-level build.
#
#   make            build/hv.efi (the UEFI loader carrying the core)
#   make image      build/microhv.img (GPT disk with an EFI system partition)
#   make run        Linux as L1 on microhv in Bochs (emulated VT-x), KVM loaded, a
#                   shell on the serial console = this terminal (kvm-demo: L2 guests)
#   make run-marker boot build/microhv.img in Bochs (NEXT: the marker payload)
#   make run-qemu   boot build/microhv.img in QEMU (KVM + -cpu host,+vmx on an Intel host, else TCG)
#   make debug      QEMU + gdb with the core's symbols (docs/debugging.md)
#   make test       unit tests + Bochs and QEMU system tests, ending "N passed, N failed"
#   make mutate     mutation testing of the unit tests (tests/mutants.txt); not in make test
#   make deps       install the Debian packages the above need (run by them as needed)

VERSION := 0.1.0
GIT_REV := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

BUILD := build
CC := gcc
NASM := nasm
LD := ld
OBJCOPY := objcopy

WARN := -Wall -Wextra -Werror
COMMON_CFLAGS := -O2 -g $(WARN) -ffreestanding -fno-stack-protector -mno-red-zone \
	-fno-asynchronous-unwind-tables -I. -I$(BUILD)/gen

# The core: freestanding C11 + nasm, no libc, no gnu-efi, no SSE.
CORE_CFLAGS := -std=c11 $(COMMON_CFLAGS) -fpie -fvisibility=hidden -mgeneral-regs-only -fno-builtin \
	-DMICROHV_CORE
CORE_C := core/main.c core/selftest.c core/string.c \
	arch/x86/gdt.c arch/x86/idt.c arch/x86/paging.c arch/x86/decode_store.c \
	drivers/serial/format.c drivers/serial/log.c drivers/serial/uart16550.c \
	mm/page_alloc.c mm/memmap.c mm/mtrr.c mm/idmap.c mm/ept.c \
	vmx/caps.c vmx/controls.c vmx/segment.c vmx/cpuid_policy.c vmx/msr_policy.c \
	vmx/msr_rows.c vmx/msr_apic.c vmx/msr_mtrr.c vmx/ept01.c \
	vmx/vmcs_fields.c vmx/vmx_names.c vmx/vmcs_hw.c vmx/vmcs_dump.c vmx/hw_ops.c \
	vmx/vmcs01.c vmx/launch.c vmx/exit.c vmx/exit_insn.c vmx/exit_event.c vmx/hypercall.c \
	vmx/console.c vmx/ap_start.c vmx/apic_access.c vmx/mmio_absent.c vmx/l1_memory.c vmx/l1_paging.c \
	vmx/task_switch.c mm/guest_walk.c mm/ept_walk.c nested/vmx_msrs.c nested/vmcs12.c nested/operand.c nested/insn_emul.c \
	nested/entry_checks.c nested/entry_checks_guest.c nested/reflect.c nested/tpr_shadow.c nested/apic_virt.c nested/sync12.c \
	nested/prepare02.c nested/load_host.c nested/msr_merge.c nested/shadow12.c nested/shadow_vmcs.c nested/msr_lists.c \
	nested/vmentry.c nested/vmexit.c nested/init_exit.c nested/wait_sipi.c nested/timer.c vmx/init_signal.c nested/ept02.c nested/ept_exit.c nested/ept12.c \
	nested/vpid.c nested/invvpid.c nested/invept.c nested/vmfunc.c \
	drivers/vtd/dmar.c drivers/vtd/acpi.c drivers/vtd/slpt.c
# VT-d DMA protection (issue 14, docs/iommu.md).
CORE_C += core/iommu.c core/iommu_selftest.c drivers/vtd/vtd_unit.c drivers/vtd/vtd_fault.c \
	drivers/vtd/vtd_mmio.c
CORE_ASM := arch/x86/isr.asm arch/x86/tables.asm arch/x86/vmx_entry.asm arch/x86/safe_insn.asm
CORE_OBJS := $(CORE_C:%.c=$(BUILD)/core/%.o) $(CORE_ASM:%.asm=$(BUILD)/core/%.o)

# The loader: a gnu-efi application; shares the freestanding pure code.
EFI_INC := -I/usr/include/efi -I/usr/include/efi/x86_64
EFI_CFLAGS := -std=gnu11 $(COMMON_CFLAGS) $(EFI_INC) -fpic -fshort-wchar -maccumulate-outgoing-args \
	-DGNU_EFI_USE_MS_ABI
EFI_LDFLAGS := -nostdlib -znocombreloc -T /usr/lib/elf_x86_64_efi.lds -shared -Bsymbolic -L/usr/lib
EFI_CRT0 := /usr/lib/crt0-efi-x86_64.o
EFI_LIBS := -lefi -lgnuefi
EFI_SECTIONS := -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
	-j .rel.* -j .rela.* -j .reloc

LOADER_C := boot/main.c boot/efi_console.c boot/efi_file.c boot/efi_platform.c boot/late_launch.c \
	boot/config.c boot/core_load.c \
	drivers/serial/format.c drivers/serial/log.c drivers/serial/uart16550.c \
	mm/memmap.c vmx/caps.c
LOADER_OBJS := $(LOADER_C:%.c=$(BUILD)/boot/%.o) $(BUILD)/boot/core_blob.o $(BUILD)/boot/launch.o

.PHONY: all
all: $(BUILD)/hv.efi

.PHONY: deps
deps:
	@tools/setup.sh

# version.h is rewritten only when the version or git revision changes, so
# the banner is never stale and nothing else rebuilds needlessly.
$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define MICROHV_VERSION "%s"\n#define MICROHV_GIT_REV "%s"\n#define MICROHV_VERSION_CODE 0x%02x%02x%02x\n' \
		'$(VERSION)' '$(GIT_REV)' $(subst ., ,$(VERSION)) >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/boot/boot/main.o $(BUILD)/core/vmx/launch.o: $(BUILD)/gen/version.h
.PHONY: FORCE
FORCE:

$(BUILD)/core/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/core/%.o: %.asm | deps
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -g -o $@ $<

$(BUILD)/core.elf: $(CORE_OBJS) linker.ld
	$(LD) -nostdlib -pie --no-dynamic-linker -z text -z norelro -z max-page-size=4096 \
		--no-warn-rwx-segments \
		-T linker.ld -o $@ $(CORE_OBJS)

$(BUILD)/core.bin: $(BUILD)/core.elf
	$(OBJCOPY) -O binary $< $@

$(BUILD)/boot/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(EFI_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/boot/launch.o: boot/launch.asm | deps
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -o $@ $<

$(BUILD)/boot/core_blob.o: boot/core_blob.asm $(BUILD)/core.bin
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -DCORE_BIN='"$(BUILD)/core.bin"' -o $@ $<

$(BUILD)/hv.so: $(LOADER_OBJS)
	$(LD) $(EFI_LDFLAGS) $(EFI_CRT0) $(LOADER_OBJS) -o $@ $(EFI_LIBS)

$(BUILD)/hv.efi: $(BUILD)/hv.so
	$(OBJCOPY) $(EFI_SECTIONS) --target efi-app-x86_64 --subsystem=10 $< $@

# Test payloads: gnu-efi applications run as the next stage.
PAYLOAD_SHARED := tests/payload/payload.c drivers/serial/uart16550.c drivers/serial/format.c
$(BUILD)/payload/l1_test.so: $(BUILD)/boot/tests/payload/l1_probe.o
$(BUILD)/payload/nested_test.so: $(addprefix $(BUILD)/boot/tests/payload/,nested_env.o \
	nested_insn.o nested_vpid.o nested_shadow.o nested_entry.o nested_exits.o nested_ctl.o nested_events.o nested_timer.o nested_ug.o \
	nested_ept.o nested_ept_paging.o nested_vmfunc.o nested_apicv.o nested_vmx.o nested_l2.o)
$(BUILD)/payload/nested_smp.so: $(addprefix $(BUILD)/boot/tests/payload/,nested_env.o \
	nested_vmx.o nested_l2.o)
$(BUILD)/payload/hostile.so: $(addprefix $(BUILD)/boot/tests/payload/,hostile_l2.o \
	hostile_asm.o nested_env.o nested_exits.o nested_vmx.o nested_l2.o)

$(BUILD)/boot/tests/payload/%.o: tests/payload/%.asm | deps
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -o $@ $<

$(BUILD)/payload/%.so: $(BUILD)/boot/tests/payload/%.o $(PAYLOAD_SHARED:%.c=$(BUILD)/boot/%.o)
	@mkdir -p $(dir $@)
	$(LD) $(EFI_LDFLAGS) $(EFI_CRT0) $^ -o $@ $(EFI_LIBS)
PAYLOADS := $(BUILD)/payload/marker.efi $(BUILD)/payload/l1_test.efi $(BUILD)/payload/idle.efi \
	$(BUILD)/payload/nested_test.efi $(BUILD)/payload/hostile.efi $(BUILD)/payload/nested_smp.efi

# Benchmarks (never part of make test): tests/bench.
$(BUILD)/bench/%.so: $(BUILD)/boot/tests/bench/%.o $(BUILD)/boot/tests/bench/bench_util.o \
		$(BUILD)/boot/tests/payload/l1_probe.o \
		$(PAYLOAD_SHARED:%.c=$(BUILD)/boot/%.o) $(BUILD)/boot/vmx/vmx_names.o
	@mkdir -p $(dir $@)
	$(LD) $(EFI_LDFLAGS) $(EFI_CRT0) $^ -o $@ $(EFI_LIBS)

$(BUILD)/bench/%.efi: $(BUILD)/bench/%.so
	$(OBJCOPY) $(EFI_SECTIONS) --target efi-app-x86_64 --subsystem=10 $< $@

.PHONY: bench
bench: deps $(BUILD)/hv.efi $(BUILD)/bench/cpuid_bench.efi $(BUILD)/bench/nested_bench.efi
	tests/bench/run.sh

$(BUILD)/payload/%.efi: $(BUILD)/payload/%.so
	$(OBJCOPY) $(EFI_SECTIONS) --target efi-app-x86_64 --subsystem=10 $< $@

.SECONDARY:

# The disk image: NEXT is the next stage, CFG the hv.cfg put beside hv.efi.
CFG ?= boot/hv.cfg
NEXT ?= $(BUILD)/payload/marker.efi
.PHONY: image
image: $(BUILD)/microhv.img
$(BUILD)/microhv.img: $(BUILD)/hv.efi $(NEXT) $(CFG) tools/mkimage.sh | deps
	tools/mkimage.sh $@ $(BUILD)/hv.efi $(CFG) $(NEXT)

# Host unit tests of the pure logic, with the sanitizers on.
UNIT_CFLAGS := -std=c11 -O1 -g $(WARN) -I. -fsanitize=address,undefined -fno-sanitize-recover=all
UNIT_SRC := $(sort $(wildcard tests/unit/*.c)) \
	drivers/serial/format.c drivers/serial/log.c drivers/serial/uart16550.c \
	arch/x86/decode_store.c boot/config.c boot/core_load.c mm/memmap.c mm/page_alloc.c mm/mtrr.c mm/idmap.c mm/ept.c \
	mm/guest_walk.c mm/ept_walk.c nested/operand.c nested/entry_checks.c nested/entry_checks_guest.c \
	vmx/caps.c vmx/controls.c vmx/segment.c vmx/cpuid_policy.c vmx/msr_policy.c \
	vmx/msr_rows.c vmx/msr_apic.c vmx/msr_mtrr.c vmx/ept01.c \
	vmx/vmcs_fields.c vmx/vmx_names.c nested/vmx_msrs.c nested/vmcs12.c nested/insn_emul.c nested/reflect.c nested/tpr_shadow.c nested/apic_virt.c nested/sync12.c nested/prepare02.c nested/load_host.c nested/msr_merge.c nested/shadow12.c nested/shadow_vmcs.c nested/msr_lists.c nested/vmentry.c nested/vmexit.c nested/timer.c \
	vmx/exit.c vmx/exit_insn.c vmx/exit_event.c vmx/hypercall.c vmx/vmcs_dump.c vmx/console.c \
	vmx/ap_start.c vmx/apic_access.c vmx/mmio_absent.c vmx/l1_memory.c vmx/l1_paging.c vmx/task_switch.c \
	vmx/init_signal.c nested/init_exit.c nested/wait_sipi.c nested/ept02.c nested/ept_exit.c nested/ept12.c nested/vpid.c nested/invvpid.c nested/invept.c \
	nested/vmfunc.c drivers/vtd/dmar.c drivers/vtd/acpi.c drivers/vtd/slpt.c
UNIT_SRC += drivers/vtd/vtd_unit.c drivers/vtd/vtd_fault.c core/iommu.c
$(BUILD)/unit/run-tests: $(UNIT_SRC) $(wildcard tests/unit/*.h) $(shell find . -path ./build -prune -o -name '*.h' -print)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(UNIT_SRC) -o $@

.PHONY: unit
unit: $(BUILD)/unit/run-tests
	$(BUILD)/unit/run-tests

# libFuzzer harnesses over the same pure logic and fakes as the unit tests
# (tests/fuzz/, docs/testing.md), built with clang into build/fuzz/: make fuzz
# runs each for FUZZ_SECONDS (default: 600 s in all) on a copy of its
# committed seed corpus, make fuzz-smoke for 10 s each.
FUZZ_CC := clang
FUZZ_DIR := build/fuzz
FUZZ_NAMES := $(basename $(notdir $(sort $(wildcard tests/fuzz/fuzz_*.c))))
FUZZ_CFLAGS := -std=c11 -O1 -g $(WARN) -I. -Itests/unit -fno-sanitize-recover=all
FUZZ_LIB_SRC := $(filter-out tests/unit/test_% tests/unit/runner.c,$(UNIT_SRC)) tests/fuzz/common.c
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIB_SRC))
FUZZ_BINS := $(addprefix $(FUZZ_DIR)/,$(FUZZ_NAMES))
FUZZ_SECONDS ?= $(shell expr 600 / $(words $(FUZZ_NAMES)))

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJ)
	@echo "  FUZZ-LD $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined $^ -o $@

.PHONY: fuzz-build fuzz fuzz-smoke
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-smoke: fuzz-build
	tests/fuzz/smoke.sh

# Mutation testing, never part of make test (docs/testing.md): each mutant of
# tests/mutants.txt applied to a copy of the tree, the unit tests rebuilt and
# run there; the working tree and $(BUILD) are not touched.
.PHONY: mutate
mutate:
	tests/mutate.sh

# Everything the system tests boot, then the whole suite.
.PHONY: test
test: deps
	$(MAKE) $(BUILD)/hv.efi $(PAYLOADS) $(BUILD)/unit/run-tests linux-image fuzz-build
	tests/run.sh

# Run targets (tools/*.sh bound every emulator run with SIGKILL).
RUN_SECONDS ?= 600
.PHONY: run run-marker run-qemu debug
# make run: Linux as L1 on microhv in Bochs, KVM loaded, a busybox shell on
# the serial console, which is this terminal both ways (tools/bochs.sh
# "tty"; the image: linux-shell-image in tests/linux/linux.mk).  Bounded by
# RUN_SHELL_SECONDS.  Bochs exits with status 1 when the guest powers off
# through port 0x8900; bochs.sh gives 0 when left with Ctrl-].
RUN_SHELL_SECONDS ?= 7200
run: deps linux-shell-image
	@echo "make run: microhv (L0) late-launches Linux as L1 in Bochs; Linux loads KVM and"
	@echo "  starts a shell here, on the serial console, after about 2 minutes (the kernel"
	@echo "  is silent while it decompresses).  In the shell: kvm-demo runs L2 guests under"
	@echo "  KVM; poweroff (or exit) powers Bochs off; Ctrl-] kills Bochs at any time."
	@echo "  Without a terminal (stdin piped or /dev/null) it types kvm-demo; poweroff itself."
	SERIAL_TERM_AT_EOF='kvm-demo; poweroff' SERIAL_TERM_PROMPT='L1 linux:' \
		tools/bochs.sh $(LINUX_SHELL_IMG) tty $(or $(CPUS),1) $(RUN_SHELL_SECONDS) || [ $$? -eq 1 ]

# The old make run: the image of make image (NEXT, the marker payload by
# default, prints one line and powers off), serial log on the terminal.
run-marker: deps image
	tools/bochs.sh $(BUILD)/microhv.img - $(or $(CPUS),1) $(RUN_SECONDS) || [ $$? -eq 1 ]

run-qemu: deps image
	tools/qemu.sh $(BUILD)/microhv.img - $(RUN_SECONDS)

debug: deps $(BUILD)/hv.efi $(BUILD)/core.elf $(BUILD)/payload/marker.efi
	tools/debug.sh

# Linux as L1 (make run-linux and its test): tests/linux/linux.mk.
-include tests/linux/linux.mk
-include tests/linux/smp.mk
# make bench's KVM part (after linux.mk: it uses its variables).
-include tests/bench/kvm_bench.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

.PHONY: clean
clean:
	rm -rf $(BUILD)
