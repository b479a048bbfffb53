/*
 * string.c - the four memory functions the compiler may call on its own
 * (for struct copies and initializers) even in a freestanding build
 * (GCC manual, "Standards": -ffreestanding still needs memcpy, memmove,
 * memset and memcmp).  The core has no libc, so it brings these.
 */
#include <stddef.h>
#include <stdint.h>

/*
 * memcpy and memset move 8 bytes per step of a string instruction, then
 * the rest bytewise: L0 copies whole pages on its exit paths (L1's MSR
 * bitmap at every entry to L2, vmcs12 at VMPTRLD), where a byte loop cost
 * four instructions a byte.  DF is 0 in L0 (every VM exit clears RFLAGS
 * but bit 1, SDM Vol. 3C 28.5.3; the boot path never sets it).
 */
void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	void *d = dst;
	size_t q = n / 8, r = n % 8;
	__asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(q) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(r) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	uint64_t v = 0x0101010101010101ull * (unsigned char)c;
	size_t q = n / 8, r = n % 8;
	__asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(v) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(r) : "a"(v) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}
