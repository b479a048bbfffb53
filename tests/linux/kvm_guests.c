/*
 * kvm_guests.c - L2 guests run through Linux's KVM (/dev/kvm) in the
 * microhv-kvm initramfs: KVM is L1's hypervisor, these guests are L2.
 *
 *   kvm_guests CONFIG GUEST...     GUEST: real-mode, long-mode, interrupts
 *
 * Each guest gets a VM of its own (2 MiB of RAM at GPA 0, one vCPU, the
 * CPUID KVM supports) and checks what it does; the result is one line
 *   kvm-guest: GUEST/CONFIG: PASS (what was checked)
 *   kvm-guest: GUEST/CONFIG: FAIL (why; KVM_RUN errno; KVM exit reason
 *       with the hardware entry-failure reason, internal-error data or I/O
 *       details; the vCPU's registers)
 * CONFIG is only a label (tests/linux/kvm_test passes "defaults" or
 * "features-off", the kvm-intel parameters it loaded).  A PASS line's text
 * holds only what must be the same on every run and every machine, so the
 * test can compare the lines of microhv and bare Bochs as they are.
 *
 *   real-mode   16-bit real mode from GPA 0x1000 (KVM without unrestricted
 *               guest runs it in vm86 mode or emulates it): OUT, IN (the
 *               value comes from here and goes back out changed), a LOOP of
 *               10 OUTs, PUSH/POP and a 16-bit OUT, a memory write through
 *               DS, then HLT.  Every exit is checked in order.
 *   long-mode   64-bit mode with its own 4-level page tables (4 KiB pages):
 *               sums 256 KiB this program filled, writes 256 KiB of a
 *               pattern, reads one virtual page under two CR3s (MOV CR3),
 *               repoints its own PTE and INVLPGs it, runs CPUID 0 and
 *               0x40000000 (vendor, "KVMKVMKVM"), then 1000 OUTs and 1000
 *               INs (2000 I/O exits, each checked) and HLT.
 *   interrupts  64-bit mode with an IDT and KVM's in-kernel PIC and PIT
 *               (KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2): programs the PIC and
 *               the PIT (100 Hz), says "ready" by an OUT; then this program
 *               raises IRQ 1 (KVM_IRQ_LINE) and an NMI (KVM_NMI), and the
 *               guest HLTs until its handlers have counted 5 timer ticks,
 *               one IRQ 1 and one NMI (each handler IRETQs; the IRQ handlers
 *               EOI the PIC).  Any other vector is a failure.
 *
 * A guest that does not finish in 10 s (of L1's time: SIGALRM sets
 * kvm_run.immediate_exit, so KVM_RUN returns EINTR) fails with its state.
 * Exit status: the number of guests that failed.
 *
 *   kvm_guests bench LABEL [N]     `make bench`'s KVM part (tests/bench/kvm_bench_l1)
 *
 * A 64-bit guest (the long-mode setup above) times, with its own RDTSC
 * (Bochs's TSC counts instructions), N rounds (default 1000) of an RDTSC
 * pair alone and then N rounds of one OUT that KVM hands to this program,
 * which checks it and calls KVM_RUN again: one L2 exit's round trip
 * through KVM and its user space.  Where /dev/microhv_hc exists (the test
 * module tests/bench/microhv_hc.c, under microhv) a snapshot of microhv's
 * counters is taken just before the OUT loop and just after it, and their
 * difference is printed per L2 exit: L0 exits by reason (L1's, that is
 * KVM's, with VMREAD, VMWRITE and VMRESUME among them, and L2's own),
 * and L0's VMREADs/VMWRITEs for the last exit it reflected.  Every line
 * starts "bench: kvm LABEL: "; a failure is a "bench: error: kvm LABEL:
 * FAIL (...)" line as above.  Exit status: 0, or 1 after a failure.
 *
 * Freestanding, static, no libc (linux_sys.h); the ioctls and structures are
 * the kernel's UAPI <linux/kvm.h>.  Build: see tests/linux/linux.mk.
 */
#include <linux/kvm.h>
#include "linux_sys.h"
#include "../bench/microhv_hc.h"
#include "../../vmx/hypercall.h"

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;

#define MEM_SIZE 0x200000ul /* guest RAM at GPA 0 */
#define CODE 0x1000ul	    /* where a guest's code is copied */
#define GDT 0x5000ul
#define IDT 0x6000ul
#define RESULTS 0x8000ul /* what the long-mode guest leaves for us */
#define STACK_TOP 0x1f000ul
#define PML4_A 0x20000ul
#define PDPT_A 0x21000ul
#define PD_A 0x22000ul
#define PT_LOW 0x23000ul /* identity map of 0..2 MiB, in both sets */
#define PT_A 0x24000ul	 /* VA 0x400000.. under CR3 A */
#define PML4_B 0x25000ul
#define PDPT_B 0x26000ul
#define PD_B 0x27000ul
#define PT_B 0x28000ul
#define PAGE_X 0x30000ul
#define PAGE_Y 0x31000ul
#define SUM_BUF 0x40000ul /* 256 KiB we fill, the guest sums */
#define PAT_BUF 0x80000ul /* 256 KiB the guest fills */
#define BUF_QWORDS 32768ul
#define VA_TEST 0x400000ul
#define VAL_X 0x1111111111111111ul
#define VAL_Y 0x2222222222222222ul
#define PAT_STEP 0x9e3779b97f4a7c15ul
#define IO_LOOPS 1000ul
#define TIMEOUT_S 10
#define TSS_ADDR 0xfffbd000ul /* KVM's real-mode TSS, outside RAM (as QEMU) */

#define O_RDWR 2
#define O_CLOEXEC 0x80000
#define PROT_RW 3
#define MAP_SHARED 1
#define MAP_PRIVATE 2
#define MAP_ANONYMOUS 0x20
#define MAP_NORESERVE 0x4000
#define BENCH_ROUNDS 1000ul
#define BENCH_TIMEOUT_S 120
#define SIGALRM 14
#define SA_RESTORER 0x04000000
#define EINTR 4

/* gcc may emit calls to these even with -ffreestanding. */
void *memset(void *d, int c, unsigned long n)
{
	void *r = d;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return r;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
	void *r = d;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return r;
}

static int memcmp_(const void *a, const void *b, unsigned long n)
{
	const u8 *x = a, *y = b;
	for (unsigned long i = 0; i < n; i++)
		if (x[i] != y[i])
			return 1;
	return 0;
}

/* ---- The guests' code: copied to GPA CODE, position-independent. ---- */
extern const u8 rm_start[], rm_end[];
extern const u8 lm_start[], lm_end[];
extern const u8 ir_start[], ir_end[], ir_timer[], ir_irq1[], ir_nmi[], ir_stubs[];
extern const u8 ir_ticks[], ir_irq1_count[], ir_nmi_count[];
extern const u8 bm_start[], bm_end[];

__asm__(".pushsection .rodata.guests, \"a\"\n"
	/* real-mode */
	".code16\n"
	".global rm_start, rm_end\n"
	"rm_start:\n"
	"	mov $0x100, %ax\n"
	"	mov %ax, %ds\n"
	"	movw $0x1234, 0x1000\n" /* DS:0x1000 = GPA 0x2000 */
	"	xor %ax, %ax\n"
	"	mov %ax, %ss\n"
	"	mov $0x8000, %sp\n"
	"	mov $0x55, %al\n"
	"	out %al, $0x10\n"
	"	in $0x11, %al\n"
	"	inc %al\n"
	"	out %al, $0x10\n"
	"	mov $10, %cx\n"
	"1:	mov %cl, %al\n"
	"	out %al, $0x12\n"
	"	loop 1b\n"
	"	pushw $0xbeef\n"
	"	pop %bx\n"
	"	mov %bx, %ax\n"
	"	out %ax, $0x13\n"
	"	hlt\n"
	"	jmp .\n"
	"rm_end:\n"
	".code64\n"
	/* long-mode: CR3 = PML4_A, R8 = PML4_B */
	".global lm_start, lm_end\n"
	"lm_start:\n"
	"	mov $0x40000, %esi\n"
	"	xor %eax, %eax\n"
	"	mov $32768, %ecx\n"
	"1:	add (%rsi), %rax\n"
	"	add $8, %rsi\n"
	"	dec %ecx\n"
	"	jnz 1b\n"
	"	mov %rax, 0x8000\n"
	"	mov $0x80000, %edi\n"
	"	xor %ecx, %ecx\n"
	"	movabs $0x9e3779b97f4a7c15, %rbx\n"
	"	xor %eax, %eax\n"
	"2:	mov %rax, (%rdi)\n"
	"	add %rbx, %rax\n"
	"	add $8, %rdi\n"
	"	inc %ecx\n"
	"	cmp $32768, %ecx\n"
	"	jne 2b\n"
	"	mov 0x400000, %rax\n" /* X under CR3 A */
	"	mov %rax, 0x8008\n"
	"	mov %cr3, %r9\n"
	"	mov %r8, %cr3\n"
	"	mov 0x400000, %rax\n" /* Y under CR3 B */
	"	mov %rax, 0x8010\n"
	"	mov %r9, %cr3\n"
	"	mov 0x400000, %rax\n" /* X again, now in the TLB */
	"	mov %rax, 0x8018\n"
	"	movq $0x31003, 0x24000\n" /* PT_A[0] = PAGE_Y | RW | P */
	"	invlpg 0x400000\n"
	"	mov 0x400000, %rax\n" /* Y */
	"	mov %rax, 0x8020\n"
	"	xor %eax, %eax\n"
	"	xor %ecx, %ecx\n"
	"	cpuid\n"
	"	mov %ebx, 0x8028\n"
	"	mov %edx, 0x802c\n"
	"	mov %ecx, 0x8030\n"
	"	mov $0x40000000, %eax\n"
	"	xor %ecx, %ecx\n"
	"	cpuid\n"
	"	mov %eax, 0x8034\n"
	"	mov %ebx, 0x8038\n"
	"	mov %ecx, 0x803c\n"
	"	mov %edx, 0x8040\n"
	"	xor %ecx, %ecx\n"
	"	xor %r10d, %r10d\n"
	"3:	mov %ecx, %eax\n"
	"	out %eax, $0x10\n"
	"	in $0x11, %eax\n"
	"	add %rax, %r10\n"
	"	inc %ecx\n"
	"	cmp $1000, %ecx\n"
	"	jne 3b\n"
	"	mov %r10, 0x8048\n"
	"	hlt\n"
	"	jmp .\n"
	"lm_end:\n"
	/* interrupts: the IDT (at IDT) is filled by this program */
	".global ir_start, ir_end, ir_timer, ir_irq1, ir_nmi, ir_stubs\n"
	".global ir_ticks, ir_irq1_count, ir_nmi_count\n"
	"ir_start:\n"
	"	mov $0x11, %al\n" /* PIC ICW1: edge, cascade, ICW4 */
	"	out %al, $0x20\n"
	"	out %al, $0xa0\n"
	"	mov $0x20, %al\n" /* ICW2: master at vector 0x20 */
	"	out %al, $0x21\n"
	"	mov $0x28, %al\n" /* slave at 0x28 */
	"	out %al, $0xa1\n"
	"	mov $4, %al\n"
	"	out %al, $0x21\n"
	"	mov $2, %al\n"
	"	out %al, $0xa1\n"
	"	mov $1, %al\n" /* ICW4: 8086 mode, normal EOI */
	"	out %al, $0x21\n"
	"	out %al, $0xa1\n"
	"	mov $0xfc, %al\n" /* unmask IRQ 0 (PIT) and IRQ 1 */
	"	out %al, $0x21\n"
	"	mov $0xff, %al\n"
	"	out %al, $0xa1\n"
	"	mov $0x34, %al\n" /* PIT channel 0, lo/hi, mode 2 */
	"	out %al, $0x43\n"
	"	mov $0x9c, %al\n" /* divisor 11932: 100 Hz */
	"	out %al, $0x40\n"
	"	mov $0x2e, %al\n"
	"	out %al, $0x40\n"
	"	out %al, $0x30\n" /* ready: user space raises IRQ 1 and an NMI */
	"	sti\n"
	"1:	hlt\n"
	"	cmpl $5, ir_ticks(%rip)\n"
	"	jb 1b\n"
	"	cmpl $0, ir_irq1_count(%rip)\n"
	"	je 1b\n"
	"	cmpl $0, ir_nmi_count(%rip)\n"
	"	je 1b\n"
	"	cli\n"
	"	out %al, $0x3f\n" /* done */
	"	jmp .\n"
	"ir_timer:\n"
	"	push %rax\n"
	"	lock incl ir_ticks(%rip)\n"
	"	mov $0x20, %al\n"
	"	out %al, $0x20\n"
	"	pop %rax\n"
	"	iretq\n"
	"ir_irq1:\n"
	"	push %rax\n"
	"	lock incl ir_irq1_count(%rip)\n"
	"	mov $0x20, %al\n"
	"	out %al, $0x20\n"
	"	pop %rax\n"
	"	iretq\n"
	"ir_nmi:\n"
	"	lock incl ir_nmi_count(%rip)\n"
	"	iretq\n"
	/* Any other vector: 10-byte stub "mov $vector, %eax; jmp ir_other". */
	"	.balign 16\n"
	"ir_stubs:\n"
	"	.set vec, 0\n"
	"	.rept 256\n"
	"	.byte 0xb8\n"
	"	.long vec\n"
	"	.byte 0xe9\n"
	"	.long ir_other - . - 4\n"
	"	.set vec, vec + 1\n"
	"	.endr\n"
	"ir_other:\n"
	"	out %eax, $0x3e\n"
	"	jmp ir_other\n"
	"	.balign 8\n"
	"ir_ticks: .long 0\n"
	"ir_irq1_count: .long 0\n"
	"ir_nmi_count: .long 0\n"
	"ir_end:\n"
	/* bench: N = 0x8000; RDTSC pair alone, then OUTs (kvm_guests bench) */
	".global bm_start, bm_end\n"
	"bm_start:\n"
	"	mov 0x8000, %r15\n"
	"	mov %r15, %rcx\n"
	"	mov $-1, %r13\n"
	"	xor %r14d, %r14d\n"
	"1:	lfence\n"
	"	rdtsc\n"
	"	lfence\n"
	"	shl $32, %rdx\n"
	"	or %rdx, %rax\n"
	"	mov %rax, %rbx\n"
	"	lfence\n"
	"	rdtsc\n"
	"	lfence\n"
	"	shl $32, %rdx\n"
	"	or %rdx, %rax\n"
	"	sub %rbx, %rax\n"
	"	add %rax, %r14\n"
	"	cmp %r13, %rax\n"
	"	cmovb %rax, %r13\n"
	"	dec %rcx\n"
	"	jnz 1b\n"
	"	mov %r13, 0x8008\n"
	"	mov %r14, 0x8010\n"
	"	out %al, $0x51\n" /* start: the first snapshot */
	"	mov %r15, %rcx\n"
	"	mov $-1, %r13\n"
	"	xor %r14d, %r14d\n"
	"2:	lfence\n"
	"	rdtsc\n"
	"	lfence\n"
	"	shl $32, %rdx\n"
	"	or %rdx, %rax\n"
	"	mov %rax, %rbx\n"
	"	out %al, $0x50\n" /* the exit timed */
	"	lfence\n"
	"	rdtsc\n"
	"	lfence\n"
	"	shl $32, %rdx\n"
	"	or %rdx, %rax\n"
	"	sub %rbx, %rax\n"
	"	add %rax, %r14\n"
	"	cmp %r13, %rax\n"
	"	cmovb %rax, %r13\n"
	"	dec %rcx\n"
	"	jnz 2b\n"
	"	mov %r13, 0x8018\n"
	"	mov %r14, 0x8020\n"
	"	out %al, $0x52\n" /* end: the second snapshot */
	"	hlt\n"
	"	jmp .\n"
	"bm_end:\n"
	".popsection\n");

/* ---- Output: one line at a time on stdout (linux_out.h). ---- */
#include "linux_out.h"

/* 12 bytes of a CPUID vendor-like string, NULs dropped, others escaped. */
static void sig12(const u8 *b)
{
	putc1('"');
	for (int i = 0; i < 12; i++) {
		if (!b[i])
			continue;
		if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '"' && b[i] != '\\') {
			putc1((char)b[i]);
		} else {
			put("\\x");
			putc1("0123456789abcdef"[b[i] >> 4]);
			putc1("0123456789abcdef"[b[i] & 15]);
		}
	}
	putc1('"');
}

static const char *errno_name(long e)
{
	switch (e) {
	case 1: return "EPERM";
	case 2: return "ENOENT";
	case 4: return "EINTR";
	case 5: return "EIO";
	case 6: return "ENXIO";
	case 7: return "E2BIG";
	case 9: return "EBADF";
	case 11: return "EAGAIN";
	case 12: return "ENOMEM";
	case 14: return "EFAULT";
	case 16: return "EBUSY";
	case 17: return "EEXIST";
	case 19: return "ENODEV";
	case 22: return "EINVAL";
	case 25: return "ENOTTY";
	case 28: return "ENOSPC";
	case 95: return "EOPNOTSUPP";
	}
	return "?";
}

static const char *exit_name(u32 r)
{
	static const char *const names[] = {
		"UNKNOWN",     "EXCEPTION",    "IO",	     "HYPERCALL",  "DEBUG",
		"HLT",	       "MMIO",	       "IRQ_WINDOW_OPEN", "SHUTDOWN", "FAIL_ENTRY",
		"INTR",	       "SET_TPR",      "TPR_ACCESS", "S390_SIEIC", "S390_RESET",
		"DCR",	       "NMI",	       "INTERNAL_ERROR", "OSI",	   "PAPR_HCALL",
		"S390_UCONTROL", "WATCHDOG",   "S390_TSCH",  "EPR",	   "SYSTEM_EVENT",
		"S390_STSI",   "IOAPIC_EOI",   "HYPERV",     "ARM_NISV",   "X86_RDMSR",
		"X86_WRMSR",
	};
	return r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

/* ---- KVM state of the guest being run. ---- */
static int kvm = -1, vm = -1, vcpu = -1;
static struct kvm_run *volatile run;
static long run_size;
static u8 *mem;
static const char *config, *gname;
static long run_errno; /* of the last KVM_RUN, 0 if it succeeded */
static int ran;	       /* KVM_RUN was called for this guest */
static int failures;
static int bench_mode; /* kvm_guests bench: lines start "bench: " */
static struct {
	struct kvm_cpuid2 h;
	struct kvm_cpuid_entry2 e[256];
} cpuid;

static long kvm_ioctl(int fd, unsigned long req, long arg)
{
	return sys3(SYS_ioctl, fd, (long)req, arg);
}

static void begin(void)
{
	if (bench_mode) {
		put("bench: error: kvm ");
		put(config);
		put(": ");
		return;
	}
	put("kvm-guest: ");
	put(gname);
	putc1('/');
	put(config);
	put(": ");
}

static void errno_text(long e)
{
	put("errno ");
	dec((u64)e);
	put(" (");
	put(errno_name(e));
	putc1(')');
}

/* A failed KVM call while setting the VM up. */
static int setup_fail(const char *what, long r)
{
	begin();
	put("FAIL (");
	put(what);
	put(" failed: ");
	errno_text(-r);
	putc1(')');
	endline();
	failures++;
	return 1;
}

/* A guest that did not do what it should: why, then everything KVM says. */
static int fail(const char *why, u64 a, u64 b)
{
	begin();
	put("FAIL (");
	put(why);
	if (a || b) {
		put(" [");
		hex(a);
		putc1(' ');
		hex(b);
		putc1(']');
	}
	if (ran && run) {
		put("; KVM_RUN ");
		if (run_errno)
			errno_text(run_errno);
		else
			put("returned 0");
		if (run_errno == EINTR) {
			put(" after the ");
			dec(TIMEOUT_S);
			put(" s alarm");
		}
		put("; exit reason ");
		dec(run->exit_reason);
		put(" (");
		put(exit_name(run->exit_reason));
		putc1(')');
		switch (run->exit_reason) {
		case KVM_EXIT_FAIL_ENTRY:
			put(", hardware entry failure reason ");
			hex(run->fail_entry.hardware_entry_failure_reason);
			put(" on cpu ");
			dec(run->fail_entry.cpu);
			break;
		case KVM_EXIT_UNKNOWN:
			put(", hardware exit reason ");
			hex(run->hw.hardware_exit_reason);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			put(", suberror ");
			dec(run->internal.suberror);
			put(" data");
			for (u32 i = 0; i < run->internal.ndata && i < 16; i++) {
				putc1(' ');
				hex(run->internal.data[i]);
			}
			break;
		case KVM_EXIT_EXCEPTION:
			put(", exception ");
			dec(run->ex.exception);
			put(" error code ");
			hex(run->ex.error_code);
			break;
		case KVM_EXIT_IO: {
			u64 v = 0;
			memcpy(&v, (u8 *)run + run->io.data_offset, run->io.size <= 8 ? run->io.size : 8);
			put(run->io.direction == KVM_EXIT_IO_OUT ? ", out port " : ", in port ");
			hex(run->io.port);
			put(" size ");
			dec(run->io.size);
			put(" count ");
			dec(run->io.count);
			if (run->io.direction == KVM_EXIT_IO_OUT) {
				put(" value ");
				hex(v);
			}
			break;
		}
		case KVM_EXIT_MMIO:
			put(", mmio ");
			hex(run->mmio.phys_addr);
			put(run->mmio.is_write ? " write" : " read");
			break;
		}
	}
	if (vcpu >= 0) {
		struct kvm_regs r;
		struct kvm_sregs s;
		if (kvm_ioctl(vcpu, KVM_GET_REGS, (long)&r) == 0) {
			put("; rip ");
			hex(r.rip);
			put(" rsp ");
			hex(r.rsp);
			put(" rflags ");
			hex(r.rflags);
			put(" rax ");
			hex(r.rax);
			put(" rbx ");
			hex(r.rbx);
			put(" rcx ");
			hex(r.rcx);
			put(" rdx ");
			hex(r.rdx);
		}
		if (kvm_ioctl(vcpu, KVM_GET_SREGS, (long)&s) == 0) {
			put(" cs ");
			hex(s.cs.selector);
			put(" cs.base ");
			hex(s.cs.base);
			put(" cr0 ");
			hex(s.cr0);
			put(" cr3 ");
			hex(s.cr3);
			put(" cr4 ");
			hex(s.cr4);
			put(" efer ");
			hex(s.efer);
		}
	}
	putc1(')');
	endline();
	failures++;
	return 1;
}

static void pass(const char *what)
{
	begin();
	put("PASS (");
	put(what);
	putc1(')');
	endline();
}

/* ---- VM life cycle. ---- */
static void on_alarm(int sig)
{
	(void)sig;
	if (run)
		run->immediate_exit = 1;
}
extern void kg_restorer(void);
__asm__(".text\n"
	"kg_restorer:\n"
	"	mov $15, %eax\n" /* rt_sigreturn */
	"	syscall\n"
	"	hlt\n");

static void vm_destroy(void)
{
	sys3(SYS_alarm, 0, 0, 0);
	if (run)
		sys3(SYS_munmap, (long)run, run_size, 0);
	run = 0;
	if (vcpu >= 0)
		sys3(SYS_close, vcpu, 0, 0);
	vcpu = -1;
	if (mem)
		sys3(SYS_munmap, (long)mem, MEM_SIZE, 0);
	mem = 0;
	if (vm >= 0)
		sys3(SYS_close, vm, 0, 0);
	vm = -1;
}

/* A VM with RAM at 0, one vCPU and the CPUID KVM supports. */
static int vm_create(int irqchip)
{
	long r;
	ran = 0;
	run_errno = 0;
	vm = (int)kvm_ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return setup_fail("KVM_CREATE_VM", vm);
	r = kvm_ioctl(vm, KVM_SET_TSS_ADDR, (long)TSS_ADDR);
	if (r < 0)
		return setup_fail("KVM_SET_TSS_ADDR", r);
	if (irqchip) {
		struct kvm_pit_config pit;
		memset(&pit, 0, sizeof(pit));
		r = kvm_ioctl(vm, KVM_CREATE_IRQCHIP, 0);
		if (r < 0)
			return setup_fail("KVM_CREATE_IRQCHIP", r);
		r = kvm_ioctl(vm, KVM_CREATE_PIT2, (long)&pit);
		if (r < 0)
			return setup_fail("KVM_CREATE_PIT2", r);
	}
	r = sys6(SYS_mmap, 0, MEM_SIZE, PROT_RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r < 0 && r > -4096)
		return setup_fail("mmap of guest RAM", r);
	mem = (u8 *)r;
	struct kvm_userspace_memory_region reg = {
		.slot = 0, .flags = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (u64)mem
	};
	r = kvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, (long)&reg);
	if (r < 0)
		return setup_fail("KVM_SET_USER_MEMORY_REGION", r);
	vcpu = (int)kvm_ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return setup_fail("KVM_CREATE_VCPU", vcpu);
	r = sys6(SYS_mmap, 0, run_size, PROT_RW, MAP_SHARED, vcpu, 0);
	if (r < 0 && r > -4096)
		return setup_fail("mmap of kvm_run", r);
	run = (struct kvm_run *)r;
	r = kvm_ioctl(vcpu, KVM_SET_CPUID2, (long)&cpuid);
	if (r < 0)
		return setup_fail("KVM_SET_CPUID2", r);
	sys3(SYS_alarm, TIMEOUT_S, 0, 0);
	return 0;
}

static int vrun(void)
{
	long r = kvm_ioctl(vcpu, KVM_RUN, 0);
	ran = 1;
	run_errno = r < 0 ? -r : 0;
	return r < 0 ? -1 : 0;
}

static int is_io(int dir, u16 port, u8 size)
{
	return run->exit_reason == KVM_EXIT_IO && run->io.direction == dir && run->io.port == port &&
	       run->io.size == size && run->io.count == 1;
}

static u64 io_out_value(void)
{
	u64 v = 0;
	memcpy(&v, (u8 *)run + run->io.data_offset, run->io.size);
	return v;
}

static void io_in_value(u64 v)
{
	memcpy((u8 *)run + run->io.data_offset, &v, run->io.size);
}

/* ---- real-mode ---- */
static int guest_real_mode(void)
{
	static const struct {
		char kind; /* 'o' out, 'i' in (value returned), 'h' HLT */
		u16 port;
		u8 size;
		u16 value;
	} ev[] = {
		{ 'o', 0x10, 1, 0x55 }, { 'i', 0x11, 1, 0xa0 }, { 'o', 0x10, 1, 0xa1 }, { 'o', 0x12, 1, 10 },
		{ 'o', 0x12, 1, 9 },	{ 'o', 0x12, 1, 8 },	{ 'o', 0x12, 1, 7 },	{ 'o', 0x12, 1, 6 },
		{ 'o', 0x12, 1, 5 },	{ 'o', 0x12, 1, 4 },	{ 'o', 0x12, 1, 3 },	{ 'o', 0x12, 1, 2 },
		{ 'o', 0x12, 1, 1 },	{ 'o', 0x13, 2, 0xbeef }, { 'h', 0, 0, 0 },
	};
	struct kvm_sregs s;
	struct kvm_regs r;
	long e;

	if (vm_create(0))
		return 1;
	memcpy(mem + CODE, rm_start, (unsigned long)(rm_end - rm_start));
	e = kvm_ioctl(vcpu, KVM_GET_SREGS, (long)&s);
	if (e < 0)
		return setup_fail("KVM_GET_SREGS", e);
	s.cs.selector = 0;
	s.cs.base = 0;
	e = kvm_ioctl(vcpu, KVM_SET_SREGS, (long)&s);
	if (e < 0)
		return setup_fail("KVM_SET_SREGS", e);
	memset(&r, 0, sizeof(r));
	r.rip = CODE;
	r.rflags = 2;
	r.rsp = 0x8000;
	e = kvm_ioctl(vcpu, KVM_SET_REGS, (long)&r);
	if (e < 0)
		return setup_fail("KVM_SET_REGS", e);

	for (u32 i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
		if (vrun())
			return fail("KVM_RUN failed at exit number", i, 0);
		if (ev[i].kind == 'h') {
			if (run->exit_reason != KVM_EXIT_HLT)
				return fail("wanted the HLT exit, at exit number", i, 0);
		} else if (ev[i].kind == 'o') {
			if (!is_io(KVM_EXIT_IO_OUT, ev[i].port, ev[i].size) || io_out_value() != ev[i].value)
				return fail("wrong exit: [exit number, wanted OUT port<<16|value]", i,
					    (u64)ev[i].port << 16 | ev[i].value);
		} else {
			if (!is_io(KVM_EXIT_IO_IN, ev[i].port, ev[i].size))
				return fail("wrong exit: [exit number, wanted IN port]", i, ev[i].port);
			io_in_value(ev[i].value);
		}
	}
	u16 w;
	memcpy(&w, mem + 0x2000, 2);
	if (w != 0x1234)
		return fail("word at GPA 0x2000 (written through DS) is not 0x1234", w, 0);
	pass("14 port I/O exits in order with their values, IN answered, LOOP, PUSH/POP, "
	     "write through DS, HLT exit");
	return 0;
}

/* ---- 64-bit guests: page tables, GDT, segments ---- */
static u64 *q(u64 gpa)
{
	return (u64 *)(mem + gpa);
}

static int long_mode_setup(u64 rip, int with_idt)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	long e;

	for (u64 i = 0; i < 512; i++)
		q(PT_LOW)[i] = i * 0x1000 | 3;
	q(PML4_A)[0] = PDPT_A | 3;
	q(PDPT_A)[0] = PD_A | 3;
	q(PD_A)[0] = PT_LOW | 3;
	q(PD_A)[2] = PT_A | 3;
	q(PT_A)[0] = PAGE_X | 3;
	q(PML4_B)[0] = PDPT_B | 3;
	q(PDPT_B)[0] = PD_B | 3;
	q(PD_B)[0] = PT_LOW | 3;
	q(PD_B)[2] = PT_B | 3;
	q(PT_B)[0] = PAGE_Y | 3;
	*q(PAGE_X) = VAL_X;
	*q(PAGE_Y) = VAL_Y;
	q(GDT)[0] = 0;
	q(GDT)[1] = 0x00af9b000000ffffull; /* 0x08: 64-bit code */
	q(GDT)[2] = 0x00cf93000000ffffull; /* 0x10: data */

	e = kvm_ioctl(vcpu, KVM_GET_SREGS, (long)&s);
	if (e < 0)
		return setup_fail("KVM_GET_SREGS", e);
	struct kvm_segment cs = { .base = 0, .limit = 0xffffffff, .selector = 8, .type = 11,
				  .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment ds = { .base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 3,
				  .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1 };
	s.cs = cs;
	s.ds = s.es = s.fs = s.gs = s.ss = ds;
	s.gdt.base = GDT;
	s.gdt.limit = 23;
	s.idt.base = IDT;
	s.idt.limit = with_idt ? 256 * 16 - 1 : 0;
	s.cr0 = 0x80050033; /* PG AM WP NE ET MP PE */
	s.cr3 = PML4_A;
	s.cr4 = 0x20; /* PAE */
	s.efer = 0x500; /* LMA LME */
	e = kvm_ioctl(vcpu, KVM_SET_SREGS, (long)&s);
	if (e < 0)
		return setup_fail("KVM_SET_SREGS (long mode)", e);
	memset(&r, 0, sizeof(r));
	r.rip = rip;
	r.rsp = STACK_TOP;
	r.rflags = 2;
	r.r8 = PML4_B;
	e = kvm_ioctl(vcpu, KVM_SET_REGS, (long)&r);
	if (e < 0)
		return setup_fail("KVM_SET_REGS", e);
	return 0;
}

/* ---- long-mode ---- */
static int guest_long_mode(void)
{
	u64 sum = 0, insum = 0, v;
	u32 vendor[3], a, b, c, d;

	if (vm_create(0))
		return 1;
	memcpy(mem + CODE, lm_start, (unsigned long)(lm_end - lm_start));
	for (u64 i = 0; i < BUF_QWORDS; i++) {
		v = i * 0x0123456789abcdefull ^ (i << 40);
		q(SUM_BUF)[i] = v;
		sum += v;
	}
	if (long_mode_setup(CODE, 0))
		return 1;

	for (u64 i = 0; i < IO_LOOPS; i++) {
		if (vrun())
			return fail("KVM_RUN failed in the I/O loop [iteration, 0]", i, 0);
		if (!is_io(KVM_EXIT_IO_OUT, 0x10, 4) || io_out_value() != i)
			return fail("wrong exit in the I/O loop, wanted OUT 0x10 [iteration, 0]", i, 0);
		if (vrun())
			return fail("KVM_RUN failed in the I/O loop [iteration, 1]", i, 1);
		if (!is_io(KVM_EXIT_IO_IN, 0x11, 4))
			return fail("wrong exit in the I/O loop, wanted IN 0x11 [iteration, 1]", i, 1);
		io_in_value(i * 7 + 3);
		insum += i * 7 + 3;
	}
	if (vrun())
		return fail("KVM_RUN failed before the HLT", 0, 0);
	if (run->exit_reason != KVM_EXIT_HLT)
		return fail("wanted the HLT exit after the I/O loop", 0, 0);

	if (*q(RESULTS) != sum)
		return fail("memory sum [guest, wanted]", *q(RESULTS), sum);
	v = 0;
	for (u64 i = 0; i < BUF_QWORDS; i++, v += PAT_STEP)
		if (q(PAT_BUF)[i] != v)
			return fail("pattern the guest wrote [index, value]", i, q(PAT_BUF)[i]);
	if (*q(RESULTS + 0x08) != VAL_X)
		return fail("VA 0x400000 under CR3 A is not page X", *q(RESULTS + 0x08), 0);
	if (*q(RESULTS + 0x10) != VAL_Y)
		return fail("VA 0x400000 after MOV CR3 to B is not page Y", *q(RESULTS + 0x10), 0);
	if (*q(RESULTS + 0x18) != VAL_X)
		return fail("VA 0x400000 after MOV CR3 back to A is not page X", *q(RESULTS + 0x18), 0);
	if (*q(RESULTS + 0x20) != VAL_Y)
		return fail("VA 0x400000 after the PTE change and INVLPG is not page Y", *q(RESULTS + 0x20),
			    0);
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
	vendor[0] = b;
	vendor[1] = d;
	vendor[2] = c;
	if (memcmp_(mem + RESULTS + 0x28, vendor, 12))
		return fail("CPUID 0 vendor differs from L1's own", *q(RESULTS + 0x28), vendor[0]);
	if (memcmp_(mem + RESULTS + 0x38, "KVMKVMKVM\0\0\0", 12))
		return fail("CPUID 0x40000000 signature is not KVMKVMKVM", *q(RESULTS + 0x38), 0);
	if (*q(RESULTS + 0x48) != insum)
		return fail("sum of the INs [guest, wanted]", *q(RESULTS + 0x48), insum);

	put("sum of 256 KiB, 256 KiB written, MOV CR3, PTE change + INVLPG, CPUID 0 ");
	sig12(mem + RESULTS + 0x28);
	put(" and 0x40000000 ");
	sig12(mem + RESULTS + 0x38);
	put(", 2000 port I/O exits (1000 OUT, 1000 IN) in order, HLT exit");
	char what[512];
	memcpy(what, line, (unsigned long)len);
	what[len] = 0;
	len = 0;
	pass(what);
	return 0;
}

/* ---- interrupts ---- */
static u32 ir_counter(const u8 *sym)
{
	u32 v;
	memcpy(&v, mem + CODE + (sym - ir_start), 4);
	return v;
}

static void idt_gate(int vec, u64 handler)
{
	u64 *g = q(IDT + (u64)vec * 16);
	g[0] = (handler & 0xffff) | 8ul << 16 | 0x8e00ul << 32 | (handler >> 16 & 0xffff) << 48;
	g[1] = handler >> 32;
}

static u64 ir_gpa(const u8 *sym)
{
	return CODE + (u64)(sym - ir_start);
}

static int guest_interrupts(void)
{
	int ready = 0;
	long e;

	if (vm_create(1))
		return 1;
	memcpy(mem + CODE, ir_start, (unsigned long)(ir_end - ir_start));
	for (int v = 0; v < 256; v++)
		idt_gate(v, ir_gpa(ir_stubs) + 10 * (u64)v);
	idt_gate(2, ir_gpa(ir_nmi));
	idt_gate(0x20, ir_gpa(ir_timer));
	idt_gate(0x21, ir_gpa(ir_irq1));
	if (long_mode_setup(CODE, 1))
		return 1;

	for (int n = 0;; n++) {
		if (n > 100)
			return fail("more than 100 exits to user space", 0, 0);
		if (vrun()) {
			if (run_errno == EINTR)
				return fail("timed out: no 5 PIT ticks, IRQ 1 and NMI "
					    "[PIT ticks, IRQ 1 << 32 | NMI]",
					    ir_counter(ir_ticks),
					    (u64)ir_counter(ir_irq1_count) << 32 | ir_counter(ir_nmi_count));
			return fail("KVM_RUN failed [exits so far, ready]", (u64)n, (u64)ready);
		}
		if (is_io(KVM_EXIT_IO_OUT, 0x30, 1) && !ready) {
			struct kvm_irq_level l = { .irq = 1, .level = 1 };
			ready = 1;
			e = kvm_ioctl(vm, KVM_IRQ_LINE, (long)&l);
			if (e < 0)
				return setup_fail("KVM_IRQ_LINE 1 high", e);
			l.level = 0;
			e = kvm_ioctl(vm, KVM_IRQ_LINE, (long)&l);
			if (e < 0)
				return setup_fail("KVM_IRQ_LINE 1 low", e);
			e = kvm_ioctl(vcpu, KVM_NMI, 0);
			if (e < 0)
				return setup_fail("KVM_NMI", e);
			continue;
		}
		if (is_io(KVM_EXIT_IO_OUT, 0x3f, 1) && ready)
			break;
		if (is_io(KVM_EXIT_IO_OUT, 0x3e, 4)) {
			struct kvm_regs r;
			u64 frame[3] = { 0, 0, 0 };
			if (kvm_ioctl(vcpu, KVM_GET_REGS, (long)&r) == 0 && r.rsp < MEM_SIZE - 24)
				memcpy(frame, mem + r.rsp, sizeof(frame));
			return fail("unexpected vector [vector, interrupted RIP or error code]", io_out_value(),
				    frame[0]);
		}
		return fail("unexpected exit [exits so far, ready]", (u64)n, (u64)ready);
	}
	u32 t = ir_counter(ir_ticks), i1 = ir_counter(ir_irq1_count), nmi = ir_counter(ir_nmi_count);
	if (t < 5 || i1 != 1 || nmi != 1)
		return fail("counts: [IRQ1 << 32 | NMI, PIT ticks]", (u64)i1 << 32 | nmi, t);
	pass("in-kernel PIC and PIT: 5+ PIT ticks at vector 0x20, IRQ 1 from KVM_IRQ_LINE at vector 0x21 "
	     "once, NMI from KVM_NMI once, each handler's IRETQ back to HLT");
	return 0;
}

/* ---- bench (make bench) ---- */
/* The SDM's basic exit reasons (Vol. 3C Appendix C), as vmx/vmx_names.c names them. */
#define EXIT_REASON_VMCALL 18
#define EXIT_REASON_VMREAD 23
#define EXIT_REASON_VMRESUME 24
#define EXIT_REASON_VMWRITE 25
static const char *const exit_reasons[MICROHV_HC_REASONS] = {
	[0] = "exception or NMI",
	[1] = "external interrupt",
	[2] = "triple fault",
	[3] = "INIT signal",
	[4] = "SIPI",
	[5] = "I/O SMI",
	[6] = "other SMI",
	[7] = "interrupt window",
	[8] = "NMI window",
	[9] = "task switch",
	[10] = "CPUID",
	[11] = "GETSEC",
	[12] = "HLT",
	[13] = "INVD",
	[14] = "INVLPG",
	[15] = "RDPMC",
	[16] = "RDTSC",
	[17] = "RSM",
	[18] = "VMCALL",
	[19] = "VMCLEAR",
	[20] = "VMLAUNCH",
	[21] = "VMPTRLD",
	[22] = "VMPTRST",
	[23] = "VMREAD",
	[24] = "VMRESUME",
	[25] = "VMWRITE",
	[26] = "VMXOFF",
	[27] = "VMXON",
	[28] = "control-register access",
	[29] = "MOV DR",
	[30] = "I/O instruction",
	[31] = "RDMSR",
	[32] = "WRMSR",
	[33] = "VM-entry failure: invalid guest state",
	[34] = "VM-entry failure: MSR loading",
	[36] = "MWAIT",
	[37] = "monitor trap flag",
	[39] = "MONITOR",
	[40] = "PAUSE",
	[41] = "VM-entry failure: machine-check event",
	[43] = "TPR below threshold",
	[44] = "APIC access",
	[45] = "virtualized EOI",
	[46] = "access to GDTR or IDTR",
	[47] = "access to LDTR or TR",
	[48] = "EPT violation",
	[49] = "EPT misconfiguration",
	[50] = "INVEPT",
	[51] = "RDTSCP",
	[52] = "VMX-preemption timer expired",
	[53] = "INVVPID",
	[54] = "WBINVD",
	[55] = "XSETBV",
	[56] = "APIC write",
	[57] = "RDRAND",
	[58] = "INVPCID",
	[59] = "VMFUNC",
	[60] = "ENCLS",
	[61] = "RDSEED",
	[62] = "page-modification log full",
	[63] = "XSAVES",
	[64] = "XRSTORS",
	[67] = "UMWAIT",
	[68] = "TPAUSE",
};

static const char *vmx_exit_reason_name(u32 r)
{
	return r < MICROHV_HC_REASONS && exit_reasons[r] ? exit_reasons[r] : "unknown";
}

/* "bench: kvm LABEL: " */
static void bench_begin(void)
{
	put("bench: kvm ");
	put(config);
	put(": ");
}

/* v / d with two decimals, rounded. */
static void per(u64 v, u64 d)
{
	u64 x = d ? (v * 100 + d / 2) / d : 0;
	dec(x / 100);
	putc1('.');
	putc1((char)('0' + x / 10 % 10));
	putc1((char)('0' + x % 10));
}

static int hc_snapshot(int fd, struct microhv_hc_snapshot *s)
{
	long r = kvm_ioctl(fd, MICROHV_HC_SNAPSHOT, (long)s);
	if (r < 0)
		return setup_fail("the MICROHV_HC_SNAPSHOT ioctl", r);
	return 0;
}

/* The counters' difference over the OUT loop, per L2 exit. */
static int bench_counters(const struct microhv_hc_snapshot *a, const struct microhv_hc_snapshot *b,
			  u64 round_trips)
{
	if (a->cpu != b->cpu)
		return fail("the two snapshots were read on different CPUs [first, second]", a->cpu, b->cpu);
	if (!a->nested_ok || !b->nested_ok)
		return fail("HC_NESTED_STATS refused (nested off in hv.cfg?)", 0, 0);
	/*
	 * Each reason's count grew by the L1 exits between its two reads: the
	 * same window for every reason, and in it exactly one snapshot's worth
	 * of the module's own VMCALLs (microhv_hc.h).
	 */
	u64 d[MICROHV_HC_REASONS], l1 = b->exits_total - a->exits_total - a->vmcalls;
	for (u32 i = 0; i < MICROHV_HC_REASONS; i++)
		d[i] = b->exits[i] - a->exits[i];
	d[EXIT_REASON_VMCALL] -= a->vmcalls;
	u64 l2 = b->l2_exits - a->l2_exits, refl = b->l2_reflected - a->l2_reflected;
	if (!l2)
		return fail("no exit from L2 counted by microhv in the loop", 0, 0);

	bench_begin();
	put("exits from L2 in the loop: ");
	dec(l2);
	put(" (");
	dec(round_trips);
	put(" port I/O exits to user space), ");
	dec(refl);
	put(" reflected to L1 (KVM); L1 entries to L2: ");
	dec(b->l2_entries - a->l2_entries);
	endline();

	bench_begin();
	put("L0 exits per L2 exit: ");
	per(l1 + l2, l2);
	put(" (the L2 exit itself 1.00, L1's exits ");
	per(l1, l2);
	put("; ");
	dec(l1 + l2);
	put(" in all)");
	endline();
	for (u32 i = 0; i < MICROHV_HC_REASONS; i++) {
		if (!d[i])
			continue;
		bench_begin();
		put("  L1 exit reason ");
		dec(i);
		put(" (");
		put(vmx_exit_reason_name(i));
		put("): ");
		per(d[i], l2);
		put(" per L2 exit (");
		dec(d[i]);
		putc1(')');
		endline();
	}
	bench_begin();
	put("trapped per L2 exit: VMREAD ");
	per(d[EXIT_REASON_VMREAD], l2);
	put(", VMWRITE ");
	per(d[EXIT_REASON_VMWRITE], l2);
	put(", VMRESUME ");
	per(d[EXIT_REASON_VMRESUME], l2);
	endline();
	/* By field: a field's count at the first snapshot is 0 where it is not listed there. */
	for (u64 j = 0; j < b->nfields; j++) {
		const struct microhv_hc_field *fb = &b->field[j];
		u64 r0 = 0, w0 = 0;
		for (u64 k = 0; k < a->nfields; k++) {
			if (a->field[k].encoding == fb->encoding) {
				r0 = a->field[k].reads;
				w0 = a->field[k].writes;
			}
		}
		if (fb->reads == r0 && fb->writes == w0)
			continue;
		bench_begin();
		put("  L1's trapped accesses of VMCS field ");
		hex(fb->encoding);
		put(": VMREAD ");
		per(fb->reads - r0, l2);
		put(", VMWRITE ");
		per(fb->writes - w0, l2);
		put(" per L2 exit");
		endline();
	}
	bench_begin();
	put("the last exit reflected to L1: L0 read ");
	dec(b->last_sync_reads);
	put(" vmcs02 fields for vmcs12; L0's own VMREADs ");
	dec(b->last_vmreads);
	put(", VMWRITEs ");
	dec(b->last_vmwrites);
	put(" from L2's exit to L1's resumption");
	endline();
	return 0;
}

static int bench_run(u64 n)
{
	struct microhv_hc_snapshot s0, s1;
	int hc = (int)sys3(SYS_open, (long)MICROHV_HC_DEVICE, O_RDWR | O_CLOEXEC, 0);

	if (vm_create(0))
		return 1;
	sys3(SYS_alarm, BENCH_TIMEOUT_S, 0, 0);
	memcpy(mem + CODE, bm_start, (unsigned long)(bm_end - bm_start));
	*q(RESULTS) = n;
	if (long_mode_setup(CODE, 0))
		return 1;
	if (vrun())
		return fail("KVM_RUN failed before the OUT loop", 0, 0);
	if (!is_io(KVM_EXIT_IO_OUT, 0x51, 1))
		return fail("wanted OUT 0x51 after the RDTSC loop", 0, 0);
	if (hc >= 0 && hc_snapshot(hc, &s0))
		return 1;
	for (u64 i = 0; i < n; i++) {
		if (vrun())
			return fail("KVM_RUN failed in the OUT loop [round]", i, 0);
		if (!is_io(KVM_EXIT_IO_OUT, 0x50, 1))
			return fail("wrong exit in the OUT loop, wanted OUT 0x50 [round]", i, 0);
	}
	if (vrun())
		return fail("KVM_RUN failed after the OUT loop", 0, 0);
	if (!is_io(KVM_EXIT_IO_OUT, 0x52, 1))
		return fail("wanted OUT 0x52 after the OUT loop", 0, 0);
	if (hc >= 0 && hc_snapshot(hc, &s1))
		return 1;
	if (vrun())
		return fail("KVM_RUN failed before the HLT", 0, 0);
	if (run->exit_reason != KVM_EXIT_HLT)
		return fail("wanted the HLT exit after the OUT loop", 0, 0);

	bench_begin();
	put("RDTSC pair alone in L2 (no exit): min ");
	dec(*q(RESULTS + 0x08));
	put(", mean ");
	dec(*q(RESULTS + 0x10) / n);
	put(" TSC cycles over ");
	dec(n);
	put(" rounds");
	endline();
	bench_begin();
	put("L2 port-I/O exit round trip through KVM and its user space: min ");
	dec(*q(RESULTS + 0x18));
	put(", mean ");
	dec(*q(RESULTS + 0x20) / n);
	put(" TSC cycles over ");
	dec(n);
	put(" rounds");
	endline();
	if (hc < 0) {
		bench_begin();
		put("microhv's counters: none (open " MICROHV_HC_DEVICE ": ");
		errno_text(-hc);
		putc1(')');
		endline();
		return 0;
	}
	/* The snapshots bracket n + 1 exits: the n OUTs and the closing one. */
	return bench_counters(&s0, &s1, n + 1);
}

/* ---- main ---- */
static const struct {
	const char *name;
	int (*run)(void);
} guests[] = {
	{ "real-mode", guest_real_mode },
	{ "long-mode", guest_long_mode },
	{ "interrupts", guest_interrupts },
};

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static void fail_all(int argc, char **argv, const char *what, long r)
{
	for (int i = 2; i < argc; i++) {
		gname = argv[i];
		setup_fail(what, r);
	}
}

/* /dev/kvm, its API version, kvm_run's size, the CPUID KVM supports, SIGALRM. */
static long kvm_open(const char **what)
{
	long r;
	kvm = (int)sys3(SYS_open, (long)"/dev/kvm", O_RDWR | O_CLOEXEC, 0);
	if (kvm < 0) {
		*what = "open /dev/kvm";
		return kvm;
	}
	r = kvm_ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		*what = "KVM_GET_API_VERSION is not 12";
		return r < 0 ? r : -r;
	}
	run_size = kvm_ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0) {
		*what = "KVM_GET_VCPU_MMAP_SIZE";
		return run_size ? run_size : -EINTR;
	}
	cpuid.h.nent = 256;
	r = kvm_ioctl(kvm, KVM_GET_SUPPORTED_CPUID, (long)&cpuid);
	if (r < 0) {
		*what = "KVM_GET_SUPPORTED_CPUID";
		return r;
	}
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		unsigned long mask;
	} sa = { (void *)on_alarm, SA_RESTORER, (void *)kg_restorer, 0 };
	sys6(SYS_rt_sigaction, SIGALRM, (long)&sa, 0, 8, 0, 0);
	return 0;
}

/* kvm_guests bench LABEL [N] */
static int bench_main(int argc, char **argv)
{
	const char *what = "";
	u64 n = BENCH_ROUNDS;
	long r;

	bench_mode = 1;
	config = argc > 2 ? argv[2] : "?";
	gname = "bench";
	if (argc > 3) {
		n = 0;
		for (const char *p = argv[3]; *p; p++)
			n = *p >= '0' && *p <= '9' ? n * 10 + (u64)(*p - '0') : 0;
	}
	if (argc < 3 || argc > 4 || !n) {
		put("bench: error: usage: kvm_guests bench LABEL [ROUNDS > 0]");
		endline();
		return 1;
	}
	r = kvm_open(&what);
	if (r < 0)
		return setup_fail(what, r);
	bench_run(n);
	vm_destroy();
	return failures ? 1 : 0;
}

int kvm_guests_main(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	const char *what = "";
	long r;

	if (argc >= 2 && streq(argv[1], "bench"))
		return bench_main(argc, argv);
	if (argc < 3) {
		put("usage: kvm_guests CONFIG GUEST... (real-mode long-mode interrupts) | "
		    "kvm_guests bench LABEL [ROUNDS]");
		endline();
		return 100;
	}
	config = argv[1];
	r = kvm_open(&what);
	if (r < 0) {
		fail_all(argc, argv, what, r);
		return failures;
	}

	for (int i = 2; i < argc; i++) {
		int found = 0;
		gname = argv[i];
		for (unsigned j = 0; j < sizeof(guests) / sizeof(guests[0]); j++) {
			if (streq(argv[i], guests[j].name)) {
				found = 1;
				guests[j].run();
				vm_destroy();
			}
		}
		if (!found) {
			begin();
			put("FAIL (no such guest)");
			endline();
			failures++;
		}
	}
	return failures;
}

__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call kvm_guests_main\n"
	"	mov %eax, %edi\n"
	"	mov $60, %eax\n"
	"	syscall\n"
	"	hlt\n");
