/* SPDX-License-Identifier: MIT */
/*
 * ELF64 executable validation.  User programs arrive as boot modules or
 * files on a disk, so every byte of an image is untrusted.  elf_parse() checks the whole file
 * without side effects and boils it down to an elf_image: a short list of
 * page-disjoint, W^X segments that lie inside user space, plus an entry
 * point inside one of the executable ones.  The loader then maps exactly
 * that list and never looks at the ELF headers again.
 *
 * Only static, non-PIE x86-64 executables are accepted: there is no dynamic
 * linker and no relocation in Ferry.
 */
#ifndef PROC_ELF_H
#define PROC_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS	8

struct elf_segment {
	uint64_t vaddr, memsz;	/* [vaddr, vaddr + memsz) in user space */
	uint64_t offset, filesz;	/* bytes copied from the file; the rest is zero */
	uint32_t prot;		/* PROT_* from <ferry/abi.h> */
};

struct elf_image {
	uint64_t entry;
	int nsegments;
	struct elf_segment seg[ELF_MAX_SEGMENTS];	/* in program-header order */
};

/*
 * Validates an ELF file of `size` bytes at `file` (any alignment).  Every
 * user address must lie in [user_min, user_top).
 * => returns 0 with *out filled in and *why = NULL, or ERR_NOEXEC with
 *    *why set to a short reason ("bad magic", "not x86-64", ...) and *out
 *    zeroed.
 */
int elf_parse(const void *file, size_t size, uint64_t user_min, uint64_t user_top,
	      struct elf_image *out, const char **why);

/*
 * The same checks on a file read piece by piece (a program on disk, read
 * through its memory object): read() copies [off, off + len), always
 * inside [0, size), into buf, or fails with an error.
 */
struct elf_source {
	long (*read)(void *ctx, uint64_t off, void *buf, size_t len);
	void *ctx;
	uint64_t size;
};

/* => as elf_parse(), or read()'s error (with *why "its headers could not be read"). */
int elf_parse_from(const struct elf_source *src, uint64_t user_min, uint64_t user_top,
		   struct elf_image *out, const char **why);

#endif
