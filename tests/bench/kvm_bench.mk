# kvm_bench.mk - `make bench`'s KVM part (included by the top-level
# Makefile after tests/linux/linux.mk, whose variables it uses; see
# docs/linux.md, "make bench: one L2 exit through KVM").
#
#   make kvm-bench-image  build/bench/kvm/microhv-kvm-bench.img: the
#                         microhv-kvm image with an initramfs whose
#                         /bin/kvm_test is tests/bench/kvm_bench_l1, plus our
#                         test module microhv_hc.ko (tests/bench/microhv_hc.c)
#   make bench            also runs it (tests/bench/kvm_bench.sh): under
#                         microhv and on bare Bochs, side by side
#
# microhv_hc.ko is built against Debian's linux-headers package for the
# image's kernel (tests/bench/kvm_fetch.sh, apt-get download of the
# headers, their -common part and linux-kbuild, at the kernel's version),
# with the compiler the kernel was built with (gcc-12 on Debian 12).

KVM_BENCH_DIR := $(BUILD)/bench/kvm
KVM_BENCH_IMG := $(KVM_BENCH_DIR)/microhv-kvm-bench.img

.PHONY: kvm-bench-image kvm-bench-fetch
kvm-bench-image: $(KVM_BENCH_IMG)
bench: $(KVM_BENCH_IMG)

# kvm_fetch.sh leaves its files alone when they are current (like fetch.sh).
$(KVM_BENCH_DIR)/headers/versions.txt: kvm-bench-fetch
	@:
kvm-bench-fetch: $(LINUX_DIR)/vmlinuz.efi
	@tests/bench/kvm_fetch.sh $(KVM_BENCH_DIR)/headers $(LINUX_DIR)

# Kbuild writes beside the sources: a copy in build/. MAKEFLAGS is not
# passed on (the kernel's Makefile has variables of its own).
$(KVM_BENCH_DIR)/microhv_hc.ko: tests/bench/microhv_hc.c tests/bench/microhv_hc.h vmx/hypercall.h \
		$(KVM_BENCH_DIR)/headers/versions.txt tests/bench/kvm_bench.mk
	@rm -rf $(KVM_BENCH_DIR)/mod && mkdir -p $(KVM_BENCH_DIR)/mod
	cp tests/bench/microhv_hc.c tests/bench/microhv_hc.h $(KVM_BENCH_DIR)/mod/
	printf 'obj-m := microhv_hc.o\nccflags-y := -I%s\n' '$(CURDIR)' >$(KVM_BENCH_DIR)/mod/Kbuild
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$$(cat $(KVM_BENCH_DIR)/headers/kdir)" \
		M='$(abspath $(KVM_BENCH_DIR)/mod)' modules
	strip --strip-debug -o $@ $(KVM_BENCH_DIR)/mod/microhv_hc.ko

# kvm_guests's bench mode includes these (its rule is linux.mk's).
$(LINUX_DIR)/bin/kvm_guests: tests/bench/microhv_hc.h vmx/hypercall.h

# /init runs /bin/kvm_test when it finds it: here, the bench script.
$(KVM_BENCH_DIR)/kvm_test: tests/bench/kvm_bench_l1
	@mkdir -p $(dir $@)
	cp $< $@
	chmod 755 $@

$(KVM_BENCH_DIR)/initrd.img: tests/linux/init tests/linux/mkinitrd.sh tests/linux/mkcpio.py \
		$(LINUX_DIR)/busybox $(LINUX_PROGS) $(LINUX_DIR)/bin/kvm_guests $(LINUX_KVM_MODS) \
		$(KVM_BENCH_DIR)/kvm_test $(KVM_BENCH_DIR)/microhv_hc.ko
	tests/linux/mkinitrd.sh $@ $(LINUX_DIR)/busybox tests/linux/init $(LINUX_PROGS) \
		$(LINUX_DIR)/bin/kvm_guests $(KVM_BENCH_DIR)/kvm_test \
		$(foreach m,$(LINUX_KVM_MODS) $(KVM_BENCH_DIR)/microhv_hc.ko,/lib/modules/kvm/$(notdir $(m))=$(m))

# As linux.mk's microhv-kvm image, with this initramfs.
$(KVM_BENCH_IMG): $(BUILD)/hv.efi $(LINUX_DIR)/hv.cfg $(LINUX_DIR)/vmlinuz.efi \
		$(KVM_BENCH_DIR)/initrd.img tools/mkimage.sh | deps
	tools/mkimage.sh $@.part $(BUILD)/hv.efi $(LINUX_DIR)/hv.cfg $(LINUX_DIR)/vmlinuz.efi \
		'\EFI\linux\vmlinuz.efi'
	mcopy -i $@.part@@1048576 $(KVM_BENCH_DIR)/initrd.img ::/EFI/linux/initrd.img
	mv $@.part $@
