/*
 * cpuid_sig.c - what a Linux guest sees of its hypervisor through CPUID.
 *
 * A freestanding static x86-64 Linux program (no libc: its own _start and
 * raw syscalls) for the microhv-linux initramfs.  Prints
 *   microhv-linux: cpuid 0x40000000: max leaf 0x%x signature "%s"
 *   microhv-linux: cpuid.1:ecx.hypervisor=%d
 * where the signature is the 12 bytes of EBX, ECX, EDX of leaf 0x40000000
 * with NUL bytes dropped (other unprintable bytes, '"' and '\' as \xNN),
 * and exits 0.
 *
 * Build: gcc -static -nostdlib -ffreestanding -fno-stack-protector -O2 \
 *            -o cpuid_sig cpuid_sig.c
 */
#include "linux_sys.h"

typedef unsigned int u32;
typedef unsigned long u64;



static void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

struct buf {
	char s[256];
	int n;
};

static void put_c(struct buf *b, char c)
{
	if (b->n < (int)sizeof(b->s))
		b->s[b->n++] = c;
}

static void put_s(struct buf *b, const char *s)
{
	while (*s)
		put_c(b, *s++);
}

static void put_hex(struct buf *b, u32 v)
{
	char t[8];
	int n = 0;
	do {
		t[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	while (n)
		put_c(b, t[--n]);
}

/* NUL bytes are dropped; other bytes outside printable ASCII (and '"', '\')
 * are written as \xNN, so a CPU without a hypervisor leaf (which answers
 * with the data of its highest basic leaf) still gives a clean line. */
static void put_reg(struct buf *b, u32 r)
{
	for (int i = 0; i < 4; i++, r >>= 8) {
		unsigned char c = (unsigned char)(r & 0xff);
		if (c == 0)
			continue;
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
			put_s(b, "\\x");
			put_c(b, "0123456789abcdef"[c >> 4]);
			put_c(b, "0123456789abcdef"[c & 0xf]);
		} else {
			put_c(b, (char)c);
		}
	}
}

static void emit(struct buf *b)
{
	put_c(b, '\n');
	long off = 0;
	while (off < b->n) {
		long w = sys3(SYS_write, 1, (long)(b->s + off), b->n - off);
		if (w <= 0)
			break;
		off += w;
	}
	b->n = 0;
}

void cpuid_sig_main(void)
{
	struct buf b;
	u32 a, bx, c, d;

	b.n = 0;

	cpuid(0x40000000, &a, &bx, &c, &d);
	put_s(&b, "microhv-linux: cpuid 0x40000000: max leaf 0x");
	put_hex(&b, a);
	put_s(&b, " signature \"");
	put_reg(&b, bx);
	put_reg(&b, c);
	put_reg(&b, d);
	put_s(&b, "\"");
	emit(&b);

	cpuid(1, &a, &bx, &c, &d);
	put_s(&b, "microhv-linux: cpuid.1:ecx.hypervisor=");
	put_c(&b, (c >> 31) & 1 ? '1' : '0');
	emit(&b);

	sys3(SYS_exit, 0, 0, 0);
	for (;;)
		;
}

/* The kernel enters with RSP 16-byte aligned; a call makes it ABI-correct. */
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call cpuid_sig_main\n"
	"	hlt\n");
