/*
 * linux_sys.h - raw Linux x86-64 system calls for the freestanding static
 * programs of the microhv-linux initramfs (no libc there).
 */
#ifndef MICROHV_LINUX_SYS_H
#define MICROHV_LINUX_SYS_H

#define SYS_write 1
#define SYS_ioctl 16
#define SYS_exit 60
#define SYS_iopl 172

static inline long sys3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

#endif
