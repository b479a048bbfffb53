// SPDX-License-Identifier: GPL-2.0
/*
 * microhv_hc.c - a test module for `make bench`'s KVM part (not part of
 * microhv): microhv's read-only counters for L1 Linux's user space.
 *
 * microhv answers hypercalls only at CPL 0 (docs/hypercalls.md), so the
 * bench's /dev/kvm program (tests/linux/kvm_guests.c, `kvm_guests bench`)
 * cannot read L0's counters itself; this module, built against Debian's
 * linux-headers package for the kernel of the image
 * (tests/bench/kvm_fetch.sh, tests/bench/kvm_bench.mk), offers one ioctl on
 * /dev/microhv_hc, MICROHV_HC_SNAPSHOT (microhv_hc.h), which reads them with
 * VMCALLs: HC_CPU_INFO, HC_EXIT_COUNT per reason, HC_NESTED_STATS,
 * HC_NESTED_LAST_EXIT and HC_VMX_FIELD_TRAPS per field encoding.  Nothing else: no function that changes L0's state
 * is reachable through it.  It refuses to load unless CPUID leaf
 * 0x40000000 says "microhv" (on bare hardware VMCALL would be #UD).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/processor.h>

#include "microhv_hc.h"
#include "vmx/hypercall.h"

struct hc_regs {
	u64 a, b, c, d;
};

static long hc(struct microhv_hc_snapshot *s, u64 fn, u64 b, u64 c, struct hc_regs *out)
{
	u64 a = fn, d = 0;
	asm volatile("vmcall" : "+a"(a), "+b"(b), "+c"(c), "+d"(d) : : "memory");
	s->vmcalls++;
	out->a = a;
	out->b = b;
	out->c = c;
	out->d = d;
	return (long)a;
}

static void snapshot(struct microhv_hc_snapshot *s)
{
	struct hc_regs r;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	preempt_disable(); /* every call on one CPU: HC_ANY is "the caller" */
	if (hc(s, HC_CPU_INFO, 0, 0, &r) == HV_OK)
		s->cpu = r.b;
	if (hc(s, HC_EXIT_COUNT, HC_ANY, HC_ANY, &r) == HV_OK)
		s->exits_total = r.b;
	for (i = 0; i < MICROHV_HC_REASONS; i++)
		if (hc(s, HC_EXIT_COUNT, HC_ANY, i, &r) == HV_OK)
			s->exits[i] = r.b;
	if (hc(s, HC_NESTED_STATS, HC_ANY, 0, &r) == HV_OK) {
		s->nested_ok = 1;
		s->l2_entries = r.b;
		s->l2_exits = r.c;
		s->l2_reflected = r.d;
	}
	if (hc(s, HC_NESTED_LAST_EXIT, HC_ANY, 0, &r) == HV_OK) {
		s->last_sync_reads = r.b;
		s->last_vmreads = r.c;
		s->last_vmwrites = r.d;
	}
	/* SDM Vol. 3C 25.11.2: width in 14:13, type in 11:10, index in 9:1. */
	for (i = 0; i < 4 * 4 * 64; i++) {
		unsigned long long enc = ((i >> 8) << 13) | (((i >> 6) & 3) << 10) | ((i & 63) << 1);

		if (hc(s, HC_VMX_FIELD_TRAPS, HC_ANY, enc, &r) != HV_OK || (!r.b && !r.c) ||
		    s->nfields == MICROHV_HC_FIELDS)
			continue;
		s->field[s->nfields].encoding = enc;
		s->field[s->nfields].reads = r.b;
		s->field[s->nfields].writes = r.c;
		s->nfields++;
	}
	preempt_enable();
}

/* A snapshot is some 5 KB: one, static, under a mutex (not on the kernel stack). */
static DEFINE_MUTEX(hc_lock);
static struct microhv_hc_snapshot hc_snap;

static long hc_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	long ret = 0;

	if (cmd != MICROHV_HC_SNAPSHOT)
		return -ENOTTY;
	mutex_lock(&hc_lock);
	snapshot(&hc_snap);
	if (copy_to_user((void __user *)arg, &hc_snap, sizeof(hc_snap)))
		ret = -EFAULT;
	mutex_unlock(&hc_lock);
	return ret;
}

static const struct file_operations hc_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = hc_ioctl,
};

static struct miscdevice hc_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "microhv_hc",
	.fops = &hc_fops,
	.mode = 0400,
};

static int __init hc_init(void)
{
	unsigned int eax, sig[3];

	if (!boot_cpu_has(X86_FEATURE_HYPERVISOR)) {
		pr_info("microhv_hc: no hypervisor under this kernel\n");
		return -ENODEV;
	}
	cpuid(0x40000000, &eax, &sig[0], &sig[1], &sig[2]);
	if (memcmp(sig, "microhv\0\0\0\0\0", 12)) {
		pr_info("microhv_hc: the hypervisor is not microhv\n");
		return -ENODEV;
	}
	snapshot(&hc_snap);
	pr_info("microhv_hc: microhv on CPU %llu, %llu exits so far, nested %s\n", hc_snap.cpu,
		hc_snap.exits_total, hc_snap.nested_ok ? "on" : "off");
	return misc_register(&hc_dev);
}

static void __exit hc_exit(void)
{
	misc_deregister(&hc_dev);
}

module_init(hc_init);
module_exit(hc_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("microhv's counters for make bench (tests/bench/microhv_hc.c)");
