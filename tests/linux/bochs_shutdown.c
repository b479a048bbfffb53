/*
 * bochs_shutdown.c - power Bochs off from Linux user space.
 *
 * Writes "Shutdown" byte by byte to Bochs's shutdown port 0x8900 (the same
 * thing tests/payload/marker.c does from UEFI); Bochs then exits with
 * status 1 and logs "Shutdown port: shutdown requested".  Needed because
 * OVMF on Bochs gets no ACPI tables (they come from QEMU's fw_cfg), so Linux
 * has no ACPI power-off there and `poweroff -f` only halts.  /init runs it
 * only when Linux has no ACPI; it first waits for the console output to
 * drain (tcdrain on stdout).  Needs iopl(3) (root).
 * Freestanding, static, no libc; exits 0 if the writes were made.
 *
 * Build: gcc -static -nostdlib -ffreestanding -fno-stack-protector -O2 \
 *            -o bochs_shutdown bochs_shutdown.c
 */
#include "linux_sys.h"

#define TCSBRK 0x5409


static void say(const char *s)
{
	long n = 0;
	while (s[n])
		n++;
	sys3(SYS_write, 2, (long)s, n);
}

void bochs_shutdown_main(void)
{
	/* tcdrain(stdout): Bochs exits on the last byte, so the console's
	 * output must be on the (emulated) wire before that. */
	sys3(SYS_ioctl, 1, TCSBRK, 1);
	if (sys3(SYS_iopl, 3, 0, 0) != 0) {
		say("bochs_shutdown: iopl(3) failed\n");
		sys3(SYS_exit, 1, 0, 0);
	}
	for (const char *c = "Shutdown"; *c; c++)
		__asm__ volatile("outb %0, %1" : : "a"(*c), "Nd"((unsigned short)0x8900));
	sys3(SYS_exit, 0, 0, 0);
	for (;;)
		;
}

__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call bochs_shutdown_main\n"
	"	hlt\n");
