/*
 * edu_dma.c - L1 Linux drives QEMU's edu device to DMA, as any driver of
 * a bus-master device could, for tests/system/qemu_iommu_linux.sh
 * (issue 14: an L1 device cannot write L0's memory; L1's own DMA works).
 *
 *   edu_dma PCI-SYSFS-DIR [PHYS]
 *
 * PCI-SYSFS-DIR is edu's /sys/bus/pci/devices/DDDD:BB:DD.F.  edu (QEMU
 * docs/specs/edu.rst) copies between its 4 KiB buffer at device address
 * 0x40000 and RAM: BAR0 0x80 source, 0x88 destination, 0x90 count, 0x98
 * command (bit 0 start/busy, bit 1 direction 1 = to RAM).  No driver owns
 * edu, so this program turns bus mastering on in its command register
 * (through sysfs "config"), maps BAR0 (sysfs "resource0") and gives it
 * physical addresses (from /proc/self/pagemap; root only).
 *
 *   1. A locked page of its own, a pattern in its first half: edu reads the
 *      half into its buffer, then writes it into the second half.  Prints
 *        edu-dma: DMA into L1's page 0x... completed: 2048 bytes as sent
 *      or "did NOT complete: N of 2048 bytes as sent".
 *   2. With PHYS (a page L0 keeps for itself, found by the caller): the
 *      page is read through /dev/mem (iomem=relaxed), edu writes the
 *      pattern over its first half, and the page is read again.  Prints
 *        edu-dma: DMA write into 0x... unchanged: ...
 *      or "edu-dma: DMA write into 0x... WRITTEN: N bytes changed".
 * The caller (the test) knows which outcome is right: with L0's DMA
 * remapping on, the write into L0's page must leave it unchanged; with
 * Linux's own IOMMU in passthrough and L0's off, it lands.  Any failing
 * step is an "edu-dma: error: ..." line and exit status 1.
 *
 * Build: gcc -static -nostdlib -ffreestanding -fno-stack-protector -O2
 */
#include "linux_sys.h"

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long u64;

#define SYS_pread64 17
#define SYS_pwrite64 18
#define SYS_nanosleep 35
#define SYS_mlock 149

#define O_RDONLY 0
#define O_RDWR 2
#define O_SYNC 04010000
#define PROT_RW 3
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_ANONYMOUS 0x20

#define PAGE 4096ul
#define HALF (PAGE / 2)
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_RUN 1ul
#define EDU_DMA_TO_RAM 2ul
#define EDU_BUF 0x40000ul
#define PCI_COMMAND 4
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4

#include "linux_out.h"

static int error(const char *what, const char *arg, long err)
{
	put("edu-dma: error: ");
	put(what);
	put(arg);
	if (err) {
		put(" (errno ");
		dec((u64)-err);
		put(")");
	}
	endline();
	return 1;
}

/* ---- helpers ---- */
static char path[256];

static const char *join(const char *dir, const char *name)
{
	int n = 0;
	for (const char *s = dir; *s && n < (int)sizeof(path) - 1; s++)
		path[n++] = *s;
	for (const char *s = name; *s && n < (int)sizeof(path) - 1; s++)
		path[n++] = *s;
	path[n] = 0;
	return path;
}

static int parse_hex(const char *s, u64 *out)
{
	u64 v = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return -1;
	for (; *s; s++) {
		int d = *s >= '0' && *s <= '9'	 ? *s - '0'
			: *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
			: *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
						 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | (u64)d;
	}
	*out = v;
	return 0;
}

static u8 pattern(u64 i)
{
	return (u8)(0x3c ^ (i * 13));
}

static volatile u64 *bar;

/* One DMA, waited for: 0, or -1 when edu is still busy after 5 s. */
static int edu_dma(u64 src, u64 dst, u64 count, int to_ram)
{
	bar[EDU_DMA_SRC / 8] = src;
	bar[EDU_DMA_DST / 8] = dst;
	bar[EDU_DMA_CNT / 8] = count;
	bar[EDU_DMA_CMD / 8] = EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0);
	struct {
		long s, ns;
	} ms = { 0, 1000000 };
	for (int i = 0; i < 5000; i++) {
		if (!(bar[EDU_DMA_CMD / 8] & EDU_DMA_RUN))
			return 0;
		sys3(SYS_nanosleep, (long)&ms, 0, 0);
	}
	put("edu-dma: error: edu's DMA ");
	hex(src);
	put(" -> ");
	hex(dst);
	put(" did not finish in 5 s");
	endline();
	return -1;
}

/* Reads PAGE bytes of physical memory at PA through /dev/mem. */
static int read_phys(u64 pa, u8 *dst)
{
	long fd = sys3(SYS_open, (long)"/dev/mem", O_RDONLY | O_SYNC, 0);
	if (fd < 0)
		return error("open /dev/mem", "", fd);
	long r = sys6(SYS_pread64, fd, (long)dst, (long)PAGE, (long)pa, 0, 0);
	sys3(SYS_close, fd, 0, 0);
	if (r != (long)PAGE)
		return error("read /dev/mem at the page given", "", r < 0 ? r : 0);
	return 0;
}

static u8 before[PAGE], after[PAGE];

int edu_dma_main(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	u64 l0 = 0;
	if (argc < 2 || argc > 3 || (argc == 3 && (parse_hex(argv[2], &l0) || (l0 & (PAGE - 1))))) {
		put("edu-dma: usage: edu_dma PCI-SYSFS-DIR [PAGE-ALIGNED-PHYS]");
		endline();
		return 1;
	}
	const char *dir = argv[1];

	/* Memory space and bus mastering on: no driver did it. */
	long cfg = sys3(SYS_open, (long)join(dir, "/config"), O_RDWR, 0);
	if (cfg < 0)
		return error("open ", path, cfg);
	u8 cmd[2];
	if (sys6(SYS_pread64, cfg, (long)cmd, 2, PCI_COMMAND, 0, 0) != 2)
		return error("read the command register of ", dir, 0);
	cmd[0] |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (sys6(SYS_pwrite64, cfg, (long)cmd, 2, PCI_COMMAND, 0, 0) != 2)
		return error("write the command register of ", dir, 0);
	sys3(SYS_close, cfg, 0, 0);

	long res = sys3(SYS_open, (long)join(dir, "/resource0"), O_RDWR | O_SYNC, 0);
	if (res < 0)
		return error("open ", path, res);
	long m = sys6(SYS_mmap, 0, (long)PAGE, PROT_RW, MAP_SHARED, res, 0);
	if (m < 0 && m > -4096)
		return error("mmap BAR0 of ", dir, m);
	bar = (volatile u64 *)m;
	put("edu-dma: edu at ");
	put(dir);
	put(", id ");
	hex(*(volatile u32 *)bar); /* below 0x80 edu answers 4-byte reads only */
	endline();

	/* 1. A page of its own: DMA both ways. */
	long b = sys6(SYS_mmap, 0, (long)PAGE, PROT_RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b < 0 && b > -4096)
		return error("mmap a page", "", b);
	u8 *page = (u8 *)b;
	for (u64 i = 0; i < PAGE; i++)
		page[i] = i < HALF ? pattern(i) : 0;
	long r = sys3(SYS_mlock, b, (long)PAGE, 0);
	if (r < 0)
		return error("mlock the page", "", r);
	long pm = sys3(SYS_open, (long)"/proc/self/pagemap", O_RDONLY, 0);
	if (pm < 0)
		return error("open /proc/self/pagemap", "", pm);
	u64 ent = 0;
	if (sys6(SYS_pread64, pm, (long)&ent, 8, (long)((u64)b / PAGE * 8), 0, 0) != 8)
		return error("read /proc/self/pagemap", "", 0);
	sys3(SYS_close, pm, 0, 0);
	u64 pfn = ent & ((1ul << 55) - 1);
	if (!(ent >> 63) || !pfn)
		return error("the page is not present in /proc/self/pagemap (not root?)", "", 0);
	u64 pa = pfn * PAGE;
	if (edu_dma(pa, EDU_BUF, HALF, 0) || edu_dma(EDU_BUF, pa + HALF, HALF, 1))
		return 1;
	u64 same = 0;
	for (u64 i = 0; i < HALF; i++)
		same += page[HALF + i] == pattern(i);
	put("edu-dma: DMA into L1's page ");
	hex(pa);
	put(same == HALF ? " completed: " : " did NOT complete: ");
	if (same != HALF) {
		dec(same);
		put(" of ");
	}
	dec(HALF);
	put(" bytes as sent");
	endline();

	/* 2. The page given: edu's buffer (the pattern) over its first half. */
	if (!l0)
		return 0;
	if (read_phys(l0, before))
		return 1;
	u64 already = 0;
	for (u64 i = 0; i < HALF; i++)
		already += before[i] == pattern(i);
	if (already == HALF)
		return error("the page given already holds the pattern: the test would prove nothing",
			     "", 0);
	if (edu_dma(EDU_BUF, l0, HALF, 1) || read_phys(l0, after))
		return 1;
	u64 changed = 0;
	for (u64 i = 0; i < PAGE; i++)
		changed += before[i] != after[i];
	put("edu-dma: DMA write into ");
	hex(l0);
	if (changed) {
		put(" WRITTEN: ");
		dec(changed);
		put(" bytes changed");
	} else {
		put(" unchanged: all ");
		dec(PAGE);
		put(" bytes as before");
	}
	endline();
	return 0;
}

__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call edu_dma_main\n"
	"	mov %eax, %edi\n"
	"	mov $60, %eax\n"
	"	syscall\n"
	"	hlt\n");
