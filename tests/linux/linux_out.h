/*
 * linux_out.h - line output for the freestanding static programs of the
 * microhv-linux initramfs (kvm_guests, kvm_linux, edu_dma): a line is built
 * with put/putc1/hex/dec and written to stdout, newline added, by endline.
 * Needs u64 and linux_sys.h; the line is cut at LINUX_OUT_LINE - 2 bytes.
 */
#ifndef MICROHV_LINUX_OUT_H
#define MICROHV_LINUX_OUT_H

#define LINUX_OUT_LINE 4096

static char line[LINUX_OUT_LINE];
static int len;

static void put(const char *s)
{
	while (*s && len < (int)sizeof(line) - 2)
		line[len++] = *s++;
}

static void putc1(char c)
{
	if (len < (int)sizeof(line) - 2)
		line[len++] = c;
}

static void hex(u64 v)
{
	char d[17];
	int n = 0;
	put("0x");
	do {
		d[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	while (n)
		putc1(d[--n]);
}

static void dec(u64 v)
{
	char d[21];
	int n = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		putc1(d[--n]);
}

static void endline(void)
{
	line[len++] = '\n';
	sys3(SYS_write, 1, (long)line, len);
	len = 0;
}

#endif
