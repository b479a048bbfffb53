/*
 * test_core_load.c - boot/core_load.c: core_image_check and
 * core_image_place on synthetic images (format in
 * include/microhv/core_image.h).  A good image is copied, its .bss zeroed
 * and its R_X86_64_RELATIVE relocations applied at the destination; each
 * malformed one is refused with its exact reason and nothing written.
 */
#define _POSIX_C_SOURCE 200809L /* fork, waitpid */

#include "test.h"

#include "boot/core_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * The synthetic image:
 *   [0, 56)     header
 *   [64, 128)   "code" (entry at 64), a byte pattern
 *   [128, 160)  data holding relocation targets (garbage until relocated)
 *   [160, 256)  four Elf64_Rela entries
 *   [256, 512)  .bss (mem_size 512), one relocation target at 300
 */
#define FILE_SIZE 256
#define MEM_SIZE 512
#define ENTRY 64
#define RELA_START 160
#define RELA_END 256
#define HDR_SIZE 56

union image {
	struct core_image_header h;
	unsigned char b[FILE_SIZE];
};

static struct core_rela *rela(union image *img, int i)
{
	return (struct core_rela *)(img->b + RELA_START) + i;
}

static void build(union image *img)
{
	memset(img, 0, sizeof(*img));
	for (int i = HDR_SIZE; i < FILE_SIZE; i++)
		img->b[i] = (unsigned char)(i * 7 + 3);
	img->h.magic = CORE_IMAGE_MAGIC;
	img->h.version = CORE_IMAGE_VERSION;
	img->h.entry = ENTRY;
	img->h.file_size = FILE_SIZE;
	img->h.mem_size = MEM_SIZE;
	img->h.rela_start = RELA_START;
	img->h.rela_end = RELA_END;
	/* A pointer to the entry, aligned. */
	*rela(img, 0) = (struct core_rela){128, R_X86_64_RELATIVE, ENTRY};
	/* An unaligned target; a symbol index in the high half of info is ignored. */
	*rela(img, 1) = (struct core_rela){137, (7ull << 32) | R_X86_64_RELATIVE, 0x100};
	/* R_X86_64_NONE is skipped, whatever its other fields say. */
	*rela(img, 2) = (struct core_rela){0xffffffff, R_X86_64_NONE, -5};
	/* A target in .bss, pointing one past the end (like _end). */
	*rela(img, 3) = (struct core_rela){300, R_X86_64_RELATIVE, MEM_SIZE};
}

static uint64_t quad_at(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static bool all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

TEST(core_load_constants)
{
	CHECK_EQ(sizeof(struct core_image_header), HDR_SIZE);
	CHECK_EQ(sizeof(struct core_rela), 24);
	CHECK(memcmp(&(uint64_t){CORE_IMAGE_MAGIC}, "MMHVCORE", 8) == 0);
}

TEST(core_load_good_image_checks)
{
	static union image img;
	build(&img);
	CHECK(core_image_check(&img, FILE_SIZE) == NULL);
}

TEST(core_load_place_copies_zeroes_relocates)
{
	static union image img;
	build(&img);
	unsigned char *dst = aligned_alloc(4096, 4096);
	memset(dst, 0xcc, 4096);
	uint64_t base = (uint64_t)(uintptr_t)dst;

	CHECK(core_image_place(&img, FILE_SIZE, dst) == NULL);
	/* File bytes copied, except the relocated quadwords. */
	CHECK(memcmp(dst, img.b, 128) == 0);
	CHECK(memcmp(dst + 136, img.b + 136, 1) == 0);
	CHECK(memcmp(dst + 145, img.b + 145, FILE_SIZE - 145) == 0);
	/* Relocated: dst + addend. */
	CHECK_EQ(quad_at(dst + 128), base + ENTRY);
	CHECK_EQ(quad_at(dst + 137), base + 0x100);
	CHECK_EQ(quad_at(dst + 300), base + MEM_SIZE);
	/* .bss zeroed around the relocation in it. */
	CHECK(all_bytes(dst + FILE_SIZE, 300 - FILE_SIZE, 0));
	CHECK(all_bytes(dst + 308, MEM_SIZE - 308, 0));
	/* Nothing past mem_size touched. */
	CHECK(all_bytes(dst + MEM_SIZE, 4096 - MEM_SIZE, 0xcc));
	/* The blob itself is not modified. */
	CHECK_EQ(img.h.magic, CORE_IMAGE_MAGIC);
	CHECK_EQ(rela(&img, 0)->offset, 128);
	CHECK_EQ(img.b[128], (unsigned char)(128 * 7 + 3));
	free(dst);
}

TEST(core_load_place_at_two_addresses)
{
	static union image img;
	build(&img);
	unsigned char *d1 = aligned_alloc(4096, 4096);
	unsigned char *d2 = aligned_alloc(4096, 4096);
	CHECK(core_image_place(&img, FILE_SIZE, d1) == NULL);
	CHECK(core_image_place(&img, FILE_SIZE, d2) == NULL);
	CHECK_EQ(quad_at(d1 + 128), (uint64_t)(uintptr_t)d1 + ENTRY);
	CHECK_EQ(quad_at(d2 + 128), (uint64_t)(uintptr_t)d2 + ENTRY);
	free(d1);
	free(d2);
}

TEST(core_load_boundaries_accepted)
{
	static union image img;

	/* No relocations at all. */
	build(&img);
	img.h.rela_start = img.h.rela_end = RELA_END;
	CHECK(core_image_check(&img, FILE_SIZE) == NULL);
	img.h.rela_start = img.h.rela_end = 0;
	CHECK(core_image_check(&img, FILE_SIZE) == NULL);

	/* Entry right after the header and at the last byte. */
	build(&img);
	img.h.entry = HDR_SIZE;
	CHECK(core_image_check(&img, FILE_SIZE) == NULL);
	img.h.entry = FILE_SIZE - 1;
	CHECK(core_image_check(&img, FILE_SIZE) == NULL);

	/* No .bss; a target in the last 8 bytes; addend 0 and mem_size. */
	build(&img);
	img.h.mem_size = FILE_SIZE;
	rela(&img, 3)->offset = FILE_SIZE - 8;
	rela(&img, 3)->addend = FILE_SIZE;
	CHECK(core_image_check(&img, FILE_SIZE) == NULL);
	rela(&img, 3)->addend = 0;
	CHECK(core_image_check(&img, FILE_SIZE) == NULL);

	unsigned char *dst = aligned_alloc(4096, 4096);
	memset(dst, 0xcc, 4096);
	CHECK(core_image_place(&img, FILE_SIZE, dst) == NULL);
	CHECK_EQ(quad_at(dst + FILE_SIZE - 8), (uint64_t)(uintptr_t)dst);
	CHECK(all_bytes(dst + FILE_SIZE, 4096 - FILE_SIZE, 0xcc));
	free(dst);
}

/* Expects the reason from both check and place, and dst left untouched. */
static void expect_refused(union image *img, size_t size, const char *why, int line)
{
	static unsigned char dst[1024];
	memset(dst, 0xcc, sizeof(dst));
	test_check_str(core_image_check(img, size), why, "core_image_check", "reason", __FILE__,
		       line);
	test_check_str(core_image_place(img, size, dst), why, "core_image_place", "reason",
		       __FILE__, line);
	test_check(all_bytes(dst, sizeof(dst), 0xcc), "dst untouched", __FILE__, line);
}

#define REFUSED(img, size, why) expect_refused((img), (size), (why), __LINE__)

TEST(core_load_too_small)
{
	static union image img;
	build(&img);
	REFUSED(&img, 0, "image smaller than its header");
	REFUSED(&img, HDR_SIZE - 1, "image smaller than its header");
	/* The header alone passes the size test and fails on its contents. */
	REFUSED(&img, HDR_SIZE, "image size does not match its header (truncated?)");
}

TEST(core_load_bad_magic_version)
{
	static union image img;
	build(&img);
	img.h.magic ^= 1;
	REFUSED(&img, FILE_SIZE, "bad magic (not a microhv core image)");
	build(&img);
	img.h.magic = 0;
	REFUSED(&img, FILE_SIZE, "bad magic (not a microhv core image)");
	build(&img);
	img.h.version = 2;
	REFUSED(&img, FILE_SIZE, "unsupported image version");
	img.h.version = 0;
	REFUSED(&img, FILE_SIZE, "unsupported image version");
}

TEST(core_load_file_size_mismatch)
{
	static union image img;
	build(&img);
	REFUSED(&img, FILE_SIZE - 1, "image size does not match its header (truncated?)");
	build(&img);
	img.h.file_size = FILE_SIZE + 8;
	REFUSED(&img, FILE_SIZE, "image size does not match its header (truncated?)");
}

TEST(core_load_mem_size_too_small)
{
	static union image img;
	build(&img);
	img.h.mem_size = FILE_SIZE - 1;
	REFUSED(&img, FILE_SIZE, "memory size smaller than file size");
	img.h.mem_size = 0;
	REFUSED(&img, FILE_SIZE, "memory size smaller than file size");
}

TEST(core_load_entry_outside)
{
	static union image img;
	uint64_t bad[] = {0, HDR_SIZE - 1, FILE_SIZE, FILE_SIZE + 1, MEM_SIZE - 1, UINT64_MAX};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build(&img);
		img.h.entry = bad[i];
		REFUSED(&img, FILE_SIZE, "entry point outside the image");
	}
}

TEST(core_load_rela_outside)
{
	static union image img;
	const char *why = "relocation table outside the image";
	build(&img);
	img.h.rela_end = FILE_SIZE + 24;
	REFUSED(&img, FILE_SIZE, why);
	build(&img);
	img.h.rela_start = RELA_END + 24;
	REFUSED(&img, FILE_SIZE, why); /* start after end */
	build(&img);
	img.h.rela_start = UINT64_MAX - 23;
	img.h.rela_end = UINT64_MAX;
	REFUSED(&img, FILE_SIZE, why);
}

TEST(core_load_rela_size_not_multiple)
{
	static union image img;
	const char *why = "relocation table size not a multiple of an entry";
	build(&img);
	img.h.rela_end = RELA_END - 8;
	REFUSED(&img, FILE_SIZE, why);
	build(&img);
	img.h.rela_end = RELA_START + 1;
	REFUSED(&img, FILE_SIZE, why);
	build(&img);
	img.h.rela_start = RELA_START + 48;
	img.h.rela_end = RELA_START + 48 + 23;
	REFUSED(&img, FILE_SIZE, why);
}

TEST(core_load_unsupported_relocation)
{
	static union image img;
	const char *why = "unsupported relocation type (only R_X86_64_RELATIVE)";
	/* R_X86_64_64, GLOB_DAT, JUMP_SLOT, a symbol with type 9, type 0x108. */
	uint64_t types[] = {1, 6, 7, (5ull << 32) | 9, 0x108};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		build(&img);
		rela(&img, 3)->info = types[i];
		REFUSED(&img, FILE_SIZE, why);
	}
}

TEST(core_load_relocation_target_outside)
{
	static union image img;
	const char *why = "relocation target outside the image";
	uint64_t bad[] = {MEM_SIZE - 7, MEM_SIZE, MEM_SIZE + 100, UINT64_MAX - 3, UINT64_MAX};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build(&img);
		rela(&img, 1)->offset = bad[i];
		REFUSED(&img, FILE_SIZE, why);
	}
	/* The last quadword of mem_size is inside. */
	build(&img);
	rela(&img, 1)->offset = MEM_SIZE - 8;
	CHECK(core_image_check(&img, FILE_SIZE) == NULL);
}

TEST(core_load_relocation_addend_outside)
{
	static union image img;
	const char *why = "relocation addend outside the image";
	int64_t bad[] = {-1, -8, INT64_MIN, MEM_SIZE + 1, INT64_MAX};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build(&img);
		rela(&img, 0)->addend = bad[i];
		REFUSED(&img, FILE_SIZE, why);
	}
}

TEST(core_load_bad_relocation_after_good_ones)
{
	/* One bad entry at the end fails the whole image before anything is placed. */
	static union image img;
	build(&img);
	rela(&img, 3)->addend = -1;
	REFUSED(&img, FILE_SIZE, "relocation addend outside the image");
}

/*
 * A relocation table at an offset that is not 8-byte aligned (a corrupted
 * image): the loader must either refuse it or apply it correctly, without
 * reading struct core_rela through a misaligned pointer, which is
 * undefined behaviour (UBSan aborts).  Run in a child process so that an
 * abort fails this test only.
 */
TEST(core_load_misaligned_rela_table)
{
	static union image img;
	build(&img);
	/* One relocation, stored at offset 161. */
	struct core_rela one = {128, R_X86_64_RELATIVE, ENTRY};
	memset(img.b + RELA_START, 0, RELA_END - RELA_START);
	memcpy(img.b + 161, &one, sizeof(one));
	img.h.rela_start = 161;
	img.h.rela_end = 161 + sizeof(one);

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		static unsigned char dst[MEM_SIZE];
		const char *why = core_image_check(&img, FILE_SIZE);
		if (why)
			_exit(0); /* refused: fine */
		if (core_image_place(&img, FILE_SIZE, dst))
			_exit(2);
		_exit(quad_at(dst + 128) == (uint64_t)(uintptr_t)dst + ENTRY ? 0 : 3);
	}
	int status = 0;
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}
