/*
 * kvm_linux.c - boot a Linux kernel as a KVM guest: the L2 Linux of the
 * microhv-kvm-linux image and of `kvm-demo linux` (issue 11, item 2).
 *
 *   kvm_linux BZIMAGE INITRD CMDLINE [MEM_MIB [SECONDS]]
 *
 * A minimal /dev/kvm loader, no QEMU: one VM with MEM_MIB (default 128)
 * of RAM at GPA 0, one vCPU with the CPUID KVM supports (so the guest
 * finds "KVMKVMKVM" at leaf 0x40000000), KVM's in-kernel PIC, IOAPIC and
 * local APIC (KVM_CREATE_IRQCHIP) and PIT (KVM_CREATE_PIT2); CPUID.1's
 * hypervisor bit is set (as QEMU does) and the MTRRs say write-back.  The
 * bzImage is loaded by the Linux x86 boot protocol's 64-bit entry
 * (Documentation/x86/boot.rst): its protected-mode part at 1 MiB, a zero
 * page (boot_params) with the setup header, an e820 map (640 KiB and
 * 1 MiB..MEM usable), the command line and the initrd (near the top of
 * RAM); the vCPU starts in 64-bit mode at load address + 0x200 with an
 * identity map of the first 4 GiB (2 MiB pages), CS = 0x10, DS = 0x18 and
 * RSI = the zero page.  The kernel decompresses itself.
 *
 * Devices, in this program, on I/O exits:
 *   COM1 (0x3f8..0x3ff, IRQ 4)  a 16550A: what the guest transmits goes
 *              to stdout, one line at a time, each prefixed "l2: " (CRs
 *              dropped); the line status always says "transmitter empty";
 *              the THR-empty interrupt is raised as a real 16550's is, so
 *              the 8250 driver's interrupt-driven output (user space on
 *              /dev/console) works too; loopback mode answers in MSR; no
 *              input.
 *   0x8900     Bochs's shutdown port: the string "Shutdown" ends the VM as
 *              a power-off (the L2 /init runs bochs_shutdown, as L1's does
 *              on bare Bochs).
 *   0x64       the keyboard controller's reset command 0xfe: a reboot.
 *   CMOS (0x70, 0x71) reads 0 (no update in progress); every other port
 *   reads all ones and ignores writes (nothing there).  MMIO outside RAM
 *   and the in-kernel devices reads all ones.
 * A triple fault (KVM_EXIT_SHUTDOWN) or KVM_EXIT_SYSTEM_EVENT ends the VM
 * too.
 *
 * Lines of its own start "kvm-linux: "; the last one is
 *   kvm-linux: L2 powered off (port 0x8900) after N s (N exits to user space)
 * or "kvm-linux: L2 rebooted (...)", or "kvm-linux: error: ..." with KVM's
 * exit details and the vCPU's registers.  SECONDS (default 3600, of L1's
 * time: SIGALRM sets kvm_run.immediate_exit) bounds the guest.  Exit
 * status: 0 after a power-off, 2 after a reboot, 1 on an error or timeout.
 *
 * Freestanding, static, no libc (linux_sys.h); the ioctls and structures
 * are the kernel's UAPI <linux/kvm.h>.  Build: see tests/linux/linux.mk.
 */
#include <linux/kvm.h>
#include "linux_sys.h"

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;

#define SYS_read 0
#define SYS_lseek 8
#define SYS_clock_gettime 228

#define O_RDONLY 0
#define O_RDWR 2
#define O_CLOEXEC 0x80000
#define PROT_RW 3
#define MAP_SHARED 1
#define MAP_PRIVATE 2
#define MAP_ANONYMOUS 0x20
#define MAP_NORESERVE 0x4000
#define SIGALRM 14
#define SA_RESTORER 0x04000000
#define EINTR 4
#define SEEK_END 2

/* Guest physical layout. */
#define GDT_GPA 0x1000ul
#define PML4_GPA 0x2000ul
#define PDPT_GPA 0x3000ul
#define PD_GPA 0x4000ul /* 4 pages: 4 GiB of 2 MiB pages */
#define ZERO_PAGE 0x10000ul
#define CMDLINE_GPA 0x20000ul
#define CMDLINE_MAX 2048ul
#define KERNEL_GPA 0x100000ul
#define TSS_ADDR 0xfffbd000ul

#define COM1 0x3f8
#define COM1_IRQ 4

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

static unsigned long slen(const char *s)
{
	unsigned long n = 0;
	while (s[n])
		n++;
	return n;
}

/* ---- output (linux_out.h) ---- */
#include "linux_out.h"

static void say(const char *s)
{
	put("kvm-linux: ");
	put(s);
	endline();
}

/* L2's serial output, one "l2: " line at a time. */
static char l2line[1024];
static int l2len;

static void l2_flush(void)
{
	if (!l2len)
		return;
	put("l2: ");
	for (int i = 0; i < l2len; i++)
		putc1(l2line[i]);
	endline();
	l2len = 0;
}

static void l2_char(u8 c)
{
	if (c == '\r')
		return;
	if (c == '\n') {
		if (!l2len)
			l2line[l2len++] = ' ';
		l2_flush();
		return;
	}
	if (c < 0x20 && c != '\t')
		return;
	l2line[l2len++] = (char)c;
	if (l2len == (int)sizeof(l2line))
		l2_flush();
}

/* ---- KVM ---- */
static int kvm = -1, vm = -1, vcpu = -1;
static struct kvm_run *volatile run;
static long run_size;
static u8 *mem;
static u64 mem_size;
static u64 exits;
static struct {
	struct kvm_cpuid2 h;
	struct kvm_cpuid_entry2 e[256];
} cpuid;

static long kvm_ioctl(int fd, unsigned long req, long arg)
{
	return sys3(SYS_ioctl, fd, (long)req, arg);
}

static u64 now_ms(void)
{
	struct {
		long s, ns;
	} t = {0, 0};
	sys3(SYS_clock_gettime, 1 /* CLOCK_MONOTONIC */, (long)&t, 0);
	return (u64)t.s * 1000 + (u64)t.ns / 1000000;
}
static u64 start_ms;

static void elapsed(void)
{
	u64 ms = now_ms() - start_ms;
	dec(ms / 1000);
	putc1('.');
	dec(ms / 100 % 10);
	put(" s");
}

static const char *exit_name(u32 r)
{
	static const char *const names[] = {
	    "UNKNOWN",
	    "EXCEPTION",
	    "IO",
	    "HYPERCALL",
	    "DEBUG",
	    "HLT",
	    "MMIO",
	    "IRQ_WINDOW_OPEN",
	    "SHUTDOWN",
	    "FAIL_ENTRY",
	    "INTR",
	    "SET_TPR",
	    "TPR_ACCESS",
	    "S390_SIEIC",
	    "S390_RESET",
	    "DCR",
	    "NMI",
	    "INTERNAL_ERROR",
	    "OSI",
	    "PAPR_HCALL",
	    "S390_UCONTROL",
	    "WATCHDOG",
	    "S390_TSCH",
	    "EPR",
	    "SYSTEM_EVENT",
	};
	return r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

/* An error: what, errno if any, KVM's exit and the vCPU's registers. */
static int error(const char *what, long err)
{
	l2_flush();
	put("kvm-linux: error: ");
	put(what);
	if (err) {
		put(": errno ");
		dec((u64)err);
	}
	if (run) {
		put("; exit reason ");
		dec(run->exit_reason);
		put(" (");
		put(exit_name(run->exit_reason));
		putc1(')');
		if (run->exit_reason == KVM_EXIT_FAIL_ENTRY) {
			put(" hardware entry failure reason ");
			hex(run->fail_entry.hardware_entry_failure_reason);
		} else if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
			put(" suberror ");
			dec(run->internal.suberror);
			for (u32 i = 0; i < run->internal.ndata && i < 8; i++) {
				putc1(' ');
				hex(run->internal.data[i]);
			}
		} else if (run->exit_reason == KVM_EXIT_UNKNOWN) {
			put(" hardware exit reason ");
			hex(run->hw.hardware_exit_reason);
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
			/* The code there, where it is identity-mapped RAM. */
			if (mem && r.rip + 16 <= mem_size) {
				put(" code");
				for (int i = 0; i < 16; i++) {
					putc1(' ');
					putc1("0123456789abcdef"[mem[r.rip + i] >> 4]);
					putc1("0123456789abcdef"[mem[r.rip + i] & 15]);
				}
			}
		}
		if (kvm_ioctl(vcpu, KVM_GET_SREGS, (long)&s) == 0) {
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
	put("; after ");
	elapsed();
	put(", ");
	dec(exits);
	put(" exits to user space");
	endline();
	return 1;
}

/* ---- files ---- */
/* Opens PATH; its size in *SIZE, or -1 after an error line. */
static long open_sized(const char *path, const char *what, long *size)
{
	long fd = sys3(SYS_open, (long)path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		put("kvm-linux: error: open ");
		put(what);
		putc1(' ');
		put(path);
		put(": errno ");
		dec((u64)-fd);
		endline();
		return -1;
	}
	*size = sys3(SYS_lseek, fd, 0, SEEK_END);
	if (*size <= 0) {
		put("kvm-linux: error: ");
		put(what);
		putc1(' ');
		put(path);
		put(" is empty");
		endline();
		sys3(SYS_close, fd, 0, 0);
		return -1;
	}
	return fd;
}

/* Reads N bytes at OFF of FD to DST; 0, or -1 after an error line. */
static int read_at(long fd, long off, u8 *dst, long n, const char *path)
{
	sys3(SYS_lseek, fd, off, 0);
	for (long got = 0; got < n;) {
		long r = sys3(SYS_read, fd, (long)(dst + got), n - got);
		if (r <= 0) {
			put("kvm-linux: error: read ");
			put(path);
			endline();
			return -1;
		}
		got += r;
	}
	return 0;
}

static u16 rd16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 rd32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static void wr32(u8 *p, u32 v)
{
	memcpy(p, &v, 4);
}

static void wr64(u8 *p, u64 v)
{
	memcpy(p, &v, 8);
}

/* ---- the 16550 at COM1 ---- */
static struct {
	u8 ier, lcr, mcr, scr, dll, dlm, fcr;
	int thri_pending; /* the THR-empty interrupt is due */
	int line;	  /* IRQ 4's level as last set */
} uart = {.dll = 1};

static void uart_irq(void)
{
	int level = (uart.ier & 2) && uart.thri_pending;
	if (level == uart.line)
		return;
	uart.line = level;
	struct kvm_irq_level l = {.irq = COM1_IRQ, .level = (u32)level};
	kvm_ioctl(vm, KVM_IRQ_LINE, (long)&l);
}

static u8 uart_in(u16 reg)
{
	u8 v = 0xff;
	switch (reg) {
	case 0:
		v = uart.lcr & 0x80 ? uart.dll : 0; /* no input */
		break;
	case 1:
		v = uart.lcr & 0x80 ? uart.dlm : uart.ier;
		break;
	case 2: /* IIR */
		v = uart.fcr & 1 ? 0xc0 : 0;
		if ((uart.ier & 2) && uart.thri_pending) {
			v |= 2;
			uart.thri_pending = 0; /* reading IIR clears THRE */
		} else {
			v |= 1;
		}
		break;
	case 3:
		v = uart.lcr;
		break;
	case 4:
		v = uart.mcr;
		break;
	case 5:
		v = 0x60; /* THRE | TEMT: sent at once */
		break;
	case 6: /* MSR */
		if (uart.mcr & 0x10)
			v = (u8)((uart.mcr & 1) << 5 | (uart.mcr & 2) << 3 | (uart.mcr & 4) << 4 |
				 (uart.mcr & 8) << 4);
		else
			v = 0xb0; /* DCD DSR CTS */
		break;
	case 7:
		v = uart.scr;
		break;
	}
	uart_irq();
	return v;
}

static void uart_out(u16 reg, u8 v)
{
	switch (reg) {
	case 0:
		if (uart.lcr & 0x80) {
			uart.dll = v;
		} else {
			if (!(uart.mcr & 0x10))
				l2_char(v);
			uart.thri_pending = 1;
		}
		break;
	case 1:
		if (uart.lcr & 0x80) {
			uart.dlm = v;
		} else {
			/* Enabling THRI with the THR empty raises it. */
			if ((v & 2) && !(uart.ier & 2))
				uart.thri_pending = 1;
			uart.ier = v & 0x0f;
		}
		break;
	case 2:
		uart.fcr = v;
		break;
	case 3:
		uart.lcr = v;
		break;
	case 4:
		uart.mcr = v & 0x1f;
		break;
	case 7:
		uart.scr = v;
		break;
	}
	uart_irq();
}

/* ---- the exits ---- */
enum { GO, POWER_OFF, REBOOT };
static const char *end_why = "";
static u8 cmos_index;
static int shutdown_match; /* how much of "Shutdown" came to 0x8900 */

static int io_exit(void)
{
	u8 *data = (u8 *)run + run->io.data_offset;
	u16 port = run->io.port;
	int size = run->io.size;
	int out = run->io.direction == KVM_EXIT_IO_OUT;

	for (u32 n = 0; n < run->io.count; n++, data += size) {
		u8 v = data[0];
		if (port >= COM1 && port < COM1 + 8 && size == 1) {
			if (out)
				uart_out(port - COM1, v);
			else
				data[0] = uart_in(port - COM1);
			continue;
		}
		if (!out) {
			memset(data, port == 0x71 ? 0 : 0xff, (unsigned long)size);
			continue;
		}
		if (port == 0x70) {
			cmos_index = v;
		} else if (port == 0x8900) {
			static const char s[] = "Shutdown";
			shutdown_match = v == (u8)s[shutdown_match] ? shutdown_match + 1 : v == 'S';
			if (shutdown_match == 8) {
				end_why = "powered off (\"Shutdown\" to port 0x8900)";
				return POWER_OFF;
			}
		} else if (port == 0x64 && v == 0xfe) {
			end_why = "rebooted (reset through the keyboard controller)";
			return REBOOT;
		}
	}
	(void)cmos_index;
	return GO;
}

static void on_alarm(int sig)
{
	(void)sig;
	if (run)
		run->immediate_exit = 1;
}
extern void kl_restorer(void);
__asm__(".text\n"
	"kl_restorer:\n"
	"	mov $15, %eax\n" /* rt_sigreturn */
	"	syscall\n"
	"	hlt\n");

static u64 parse_u(const char *s)
{
	u64 n = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		n = n * 10 + (u64)(*s - '0');
	}
	return n;
}

/* ---- setup ---- */
static int setup(const char *kpath, const char *ipath, const char *cmdline)
{
	long r;

	kvm = (int)sys3(SYS_open, (long)"/dev/kvm", O_RDWR | O_CLOEXEC, 0);
	if (kvm < 0)
		return error("open /dev/kvm", -kvm);
	if (kvm_ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return error("KVM_GET_API_VERSION is not 12", 0);
	run_size = kvm_ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		return error("KVM_GET_VCPU_MMAP_SIZE", -run_size);
	cpuid.h.nent = 256;
	r = kvm_ioctl(kvm, KVM_GET_SUPPORTED_CPUID, (long)&cpuid);
	if (r < 0)
		return error("KVM_GET_SUPPORTED_CPUID", -r);
	vm = (int)kvm_ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return error("KVM_CREATE_VM", -vm);
	r = kvm_ioctl(vm, KVM_SET_TSS_ADDR, (long)TSS_ADDR);
	if (r < 0)
		return error("KVM_SET_TSS_ADDR", -r);
	r = kvm_ioctl(vm, KVM_CREATE_IRQCHIP, 0);
	if (r < 0)
		return error("KVM_CREATE_IRQCHIP", -r);
	struct kvm_pit_config pit;
	memset(&pit, 0, sizeof(pit));
	r = kvm_ioctl(vm, KVM_CREATE_PIT2, (long)&pit);
	if (r < 0)
		return error("KVM_CREATE_PIT2", -r);
	r = sys6(SYS_mmap, 0, (long)mem_size, PROT_RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (r < 0 && r > -4096)
		return error("mmap of guest RAM", -r);
	mem = (u8 *)r;
	struct kvm_userspace_memory_region reg = {.slot = 0,
						  .flags = 0,
						  .guest_phys_addr = 0,
						  .memory_size = mem_size,
						  .userspace_addr = (u64)mem};
	r = kvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, (long)&reg);
	if (r < 0)
		return error("KVM_SET_USER_MEMORY_REGION", -r);
	vcpu = (int)kvm_ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return error("KVM_CREATE_VCPU", -vcpu);
	r = sys6(SYS_mmap, 0, run_size, PROT_RW, MAP_SHARED, vcpu, 0);
	if (r < 0 && r > -4096)
		return error("mmap of kvm_run", -r);
	run = (struct kvm_run *)r;
	/* CPUID.1:ECX.hypervisor, as QEMU sets it (KVM leaves it to user
	 * space): without it Linux does not look at leaf 0x40000000. */
	for (u32 i = 0; i < cpuid.h.nent; i++)
		if (cpuid.e[i].function == 1)
			cpuid.e[i].ecx |= 1u << 31;
	r = kvm_ioctl(vcpu, KVM_SET_CPUID2, (long)&cpuid);
	if (r < 0)
		return error("KVM_SET_CPUID2", -r);

	/* MTRRs on, everything write-back (firmware's job; a vCPU starts with
	 * them off, which is uncached where KVM honours them). */
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[1];
	} msrs = {.h = {.nmsrs = 1}, .e = {{.index = 0x2ff, .data = 0xc06}}};
	r = kvm_ioctl(vcpu, KVM_SET_MSRS, (long)&msrs);
	if (r != 1)
		return error("KVM_SET_MSRS (IA32_MTRR_DEF_TYPE)", r < 0 ? -r : 0);

	/* The kernel: its setup header, and the protected-mode part at 1 MiB. */
	static u8 kbuf[4096];
	long ksize, isize;
	long kfd = open_sized(kpath, "kernel", &ksize);
	if (kfd < 0)
		return 1;
	if (ksize < 0x1000 || read_at(kfd, 0, kbuf, sizeof(kbuf), kpath) ||
	    rd32(kbuf + 0x202) != 0x53726448 /* "HdrS" */) {
		say("error: the kernel is not a bzImage (no HdrS header)");
		return 1;
	}
	u16 version = rd16(kbuf + 0x206);
	u16 xloadflags = rd16(kbuf + 0x236);
	u32 setup_sects = kbuf[0x1f1] ? kbuf[0x1f1] : 4;
	long pm_off = (long)(setup_sects + 1) * 512;
	u32 init_size = rd32(kbuf + 0x260);
	u32 initrd_max = rd32(kbuf + 0x22c);
	if (version < 0x20c || !(xloadflags & 1)) {
		put("kvm-linux: error: the kernel has no 64-bit entry (boot protocol ");
		hex(version);
		put(", xloadflags ");
		hex(xloadflags);
		putc1(')');
		endline();
		return 1;
	}
	/* The decompressor runs from max(load address, 16 MiB) + init_size. */
	u64 kernel_end = 0x1000000ul + init_size;
	if (kernel_end + (4ul << 20) > mem_size || KERNEL_GPA + (u64)ksize > mem_size / 2) {
		put("kvm-linux: error: guest RAM too small for the kernel's init_size ");
		hex(init_size);
		endline();
		return 1;
	}
	u8 *zp = mem + ZERO_PAGE;
	memset(zp, 0, 4096);
	/* The setup header: from 0x1f1 to 0x202 + the byte at 0x201. */
	u64 hdr_end = 0x202ul + kbuf[0x201];
	memcpy(zp + 0x1f1, kbuf + 0x1f1, hdr_end - 0x1f1);
	if (read_at(kfd, pm_off, mem + KERNEL_GPA, ksize - pm_off, kpath))
		return 1;
	sys3(SYS_close, kfd, 0, 0);

	/* The initrd at the top of RAM (below initrd_addr_max), page-aligned. */
	u64 top = mem_size < (u64)initrd_max + 1 ? mem_size : (u64)initrd_max + 1;
	long ifd = open_sized(ipath, "initrd", &isize);
	if (ifd < 0)
		return 1;
	u64 initrd_gpa = (top - (u64)isize) & ~0xffful;
	if ((u64)isize > top || initrd_gpa < kernel_end) {
		say("error: guest RAM too small for the kernel and the initrd");
		return 1;
	}
	if (read_at(ifd, 0, mem + initrd_gpa, isize, ipath))
		return 1;
	sys3(SYS_close, ifd, 0, 0);

	unsigned long cl = slen(cmdline);
	if (cl >= CMDLINE_MAX) {
		say("error: command line too long");
		return 1;
	}
	memcpy(mem + CMDLINE_GPA, cmdline, cl + 1);

	zp[0x210] = 0xff;  /* type_of_loader: undefined */
	zp[0x211] |= 0x80; /* loadflags: CAN_USE_HEAP */
	zp[0x224] = 0x00;  /* heap_end_ptr 0xfe00 */
	zp[0x225] = 0xfe;
	wr32(zp + 0x228, CMDLINE_GPA); /* cmd_line_ptr */
	wr32(zp + 0x218, (u32)initrd_gpa);
	wr32(zp + 0x21c, (u32)isize);
	/* e820: 0..640 KiB RAM, 640 KiB..1 MiB reserved, 1 MiB..top RAM. */
	u8 *e = zp + 0x2d0;
	wr64(e + 0, 0);
	wr64(e + 8, 0xa0000);
	wr32(e + 16, 1);
	wr64(e + 20, 0xa0000);
	wr64(e + 28, 0x60000);
	wr32(e + 36, 2);
	wr64(e + 40, 0x100000);
	wr64(e + 48, mem_size - 0x100000);
	wr32(e + 56, 1);
	zp[0x1e8] = 3; /* e820_entries */

	/* GDT: 0x10 64-bit code, 0x18 data (__BOOT_CS, __BOOT_DS). */
	wr64(mem + GDT_GPA + 0x10, 0x00af9b000000ffffull);
	wr64(mem + GDT_GPA + 0x18, 0x00cf93000000ffffull);
	/* Identity map of 4 GiB with 2 MiB pages. */
	wr64(mem + PML4_GPA, PDPT_GPA | 3);
	for (u64 i = 0; i < 4; i++) {
		wr64(mem + PDPT_GPA + i * 8, (PD_GPA + i * 0x1000) | 3);
		for (u64 j = 0; j < 512; j++)
			wr64(mem + PD_GPA + i * 0x1000 + j * 8, ((i * 512 + j) << 21) | 0x83);
	}

	struct kvm_sregs s;
	r = kvm_ioctl(vcpu, KVM_GET_SREGS, (long)&s);
	if (r < 0)
		return error("KVM_GET_SREGS", -r);
	struct kvm_segment cs = {.base = 0,
				 .limit = 0xffffffff,
				 .selector = 0x10,
				 .type = 11,
				 .present = 1,
				 .dpl = 0,
				 .db = 0,
				 .s = 1,
				 .l = 1,
				 .g = 1};
	struct kvm_segment ds = {.base = 0,
				 .limit = 0xffffffff,
				 .selector = 0x18,
				 .type = 3,
				 .present = 1,
				 .dpl = 0,
				 .db = 1,
				 .s = 1,
				 .l = 0,
				 .g = 1};
	s.cs = cs;
	s.ds = s.es = s.fs = s.gs = s.ss = ds;
	s.gdt.base = GDT_GPA;
	s.gdt.limit = 0x1f;
	s.cr0 = 0x80050033; /* PG AM WP NE ET MP PE */
	s.cr3 = PML4_GPA;
	s.cr4 = 0x20;	/* PAE */
	s.efer = 0x500; /* LMA LME */
	r = kvm_ioctl(vcpu, KVM_SET_SREGS, (long)&s);
	if (r < 0)
		return error("KVM_SET_SREGS", -r);
	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = KERNEL_GPA + 0x200;
	regs.rsi = ZERO_PAGE;
	regs.rflags = 2;
	r = kvm_ioctl(vcpu, KVM_SET_REGS, (long)&regs);
	if (r < 0)
		return error("KVM_SET_REGS", -r);

	put("kvm-linux: L2 Linux: ");
	dec(mem_size >> 20);
	put(" MiB, 1 vCPU; bzImage ");
	dec((u64)ksize);
	put(" bytes (boot protocol ");
	dec(version >> 8);
	putc1('.');
	dec(version & 0xff);
	put(", init_size ");
	dec(init_size >> 20);
	put(" MiB) at ");
	hex(KERNEL_GPA);
	put(", initrd ");
	dec((u64)isize);
	put(" bytes at ");
	hex(initrd_gpa);
	endline();
	put("kvm-linux: L2 command line: ");
	put(cmdline);
	endline();
	return 0;
}

int kvm_linux_main(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	u64 mib = 128, secs = 3600;

	if (argc < 4 || argc > 6) {
		say("usage: kvm_linux BZIMAGE INITRD CMDLINE [MEM_MIB [SECONDS]]");
		return 1;
	}
	if (argc > 4)
		mib = parse_u(argv[4]);
	if (argc > 5)
		secs = parse_u(argv[5]);
	if (mib < 96 || mib > 3072 || !secs) {
		say("error: MEM_MIB must be 96..3072 and SECONDS above 0");
		return 1;
	}
	mem_size = mib << 20;
	start_ms = now_ms();
	if (setup(argv[1], argv[2], argv[3]))
		return 1;

	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		unsigned long mask;
	} sa = {(void *)on_alarm, SA_RESTORER, (void *)kl_restorer, 0};
	sys6(SYS_rt_sigaction, SIGALRM, (long)&sa, 0, 8, 0, 0);
	sys3(SYS_alarm, (long)secs, 0, 0);

	int how = GO;
	while (how == GO) {
		long r = kvm_ioctl(vcpu, KVM_RUN, 0);
		if (r < 0) {
			if (-r == EINTR && run->immediate_exit) {
				put("timed out after ");
				dec(secs);
				put(" s (SIGALRM)");
				char what[64];
				memcpy(what, line, (unsigned long)len);
				what[len] = 0;
				len = 0;
				return error(what, 0);
			}
			if (-r == EINTR)
				continue;
			return error("KVM_RUN failed", -r);
		}
		exits++;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			how = io_exit();
			break;
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_SHUTDOWN:
			end_why = "rebooted (triple fault: KVM_EXIT_SHUTDOWN)";
			how = REBOOT;
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			end_why = run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN
				      ? "powered off (system event)"
				      : "rebooted (system event)";
			how = run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN ? POWER_OFF
										  : REBOOT;
			break;
		case KVM_EXIT_HLT:
			return error("the vCPU halted with interrupts off (HLT exit)", 0);
		default:
			return error("unexpected exit", 0);
		}
	}
	sys3(SYS_alarm, 0, 0, 0);
	l2_flush();
	put("kvm-linux: L2 ");
	put(end_why);
	put(" after ");
	elapsed();
	put(" (");
	dec(exits);
	put(" exits to user space)");
	endline();
	return how == POWER_OFF ? 0 : 2;
}

__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call kvm_linux_main\n"
	"	mov %eax, %edi\n"
	"	mov $60, %eax\n"
	"	syscall\n"
	"	hlt\n");
