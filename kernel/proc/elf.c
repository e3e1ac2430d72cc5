// SPDX-License-Identifier: MIT
/*
 * ELF64 executable validation; the contract is in elf.h.
 *
 * The checks run in the order a reader meets the file: the ELF header, the
 * program-header table, each PT_LOAD on its own, each against the ones
 * already accepted, then the entry point.  Every helper answers NULL or
 * the reason the file is refused, so elf_parse() has one failure path.
 *
 * Headers are copied into local structs through the source's read(): a
 * boot module only promises byte alignment, and a file's bytes come from
 * its memory object page by page (spawn.c).  The field layouts below are ELF's own; both the kernel
 * and the host tests run little-endian, which is also the only data
 * encoding accepted.
 */
#include <ferry/abi.h>
#include <ferry/err.h>
#include <stdbool.h>
#include <string.h>

#include "elf.h"

#define EI_NIDENT	16
#define EI_CLASS	4
#define EI_DATA		5
#define EI_VERSION	6
#define ELFCLASS64	2
#define ELFDATA2LSB	1
#define EV_CURRENT	1

#define ET_EXEC		2
#define ET_DYN		3
#define EM_X86_64	62

#define PT_LOAD		1
#define PT_DYNAMIC	2
#define PT_INTERP	3

#define PF_X		0x1
#define PF_W		0x2
#define PF_R		0x4

#define ELF_PAGE_SIZE	4096u
#define ELF_MAX_PHNUM	16

struct elf64_ehdr {
	uint8_t e_ident[EI_NIDENT];
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint64_t e_entry;
	uint64_t e_phoff;
	uint64_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type;
	uint32_t p_flags;
	uint64_t p_offset;
	uint64_t p_vaddr;
	uint64_t p_paddr;
	uint64_t p_filesz;
	uint64_t p_memsz;
	uint64_t p_align;
};

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 file header layout");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header layout");

/* What a segment is checked against. */
struct elf_bounds {
	uint64_t file_size;
	uint64_t user_min, user_top;
};

static const char *elf_check_ident(const struct elf64_ehdr *eh)
{
	static const uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };

	if (memcmp(eh->e_ident, magic, sizeof(magic)) != 0)
		return "bad magic";
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return "not 64-bit";
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return "not little-endian";
	if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return "bad ELF version";
	return NULL;
}

static const char *elf_check_header(const struct elf64_ehdr *eh, uint64_t file_size)
{
	const char *why = elf_check_ident(eh);
	uint64_t table_size;

	if (why)
		return why;
	/* PIE would need relocation, which Ferry's loader does not do. */
	if (eh->e_type == ET_DYN)
		return "position-independent executable";
	if (eh->e_type != ET_EXEC)
		return "not an executable";
	if (eh->e_machine != EM_X86_64)
		return "not x86-64";
	if (eh->e_phentsize != sizeof(struct elf64_phdr))
		return "bad program header size";
	if (eh->e_phnum < 1 || eh->e_phnum > ELF_MAX_PHNUM)
		return "bad program header count";
	/* At most 16 * 56 bytes, so only the offset can be absurd. */
	table_size = (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr);
	if (eh->e_phoff > file_size || table_size > file_size - eh->e_phoff)
		return "program headers outside file";
	return NULL;
}

static uint32_t elf_prot(uint32_t p_flags)
{
	uint32_t prot = 0;

	if (p_flags & PF_R)
		prot |= PROT_READ;
	if (p_flags & PF_W)
		prot |= PROT_WRITE;
	if (p_flags & PF_X)
		prot |= PROT_EXEC;
	return prot;
}

/* Checks one PT_LOAD with memsz > 0 on its own and converts it. */
static const char *elf_check_load(const struct elf64_phdr *ph, const struct elf_bounds *b,
				  struct elf_segment *seg)
{
	if (ph->p_filesz > ph->p_memsz)
		return "file size larger than memory size";
	if (ph->p_offset > b->file_size || ph->p_filesz > b->file_size - ph->p_offset)
		return "segment data outside file";
	/* The loader maps file pages straight to user pages. */
	if (ph->p_vaddr % ELF_PAGE_SIZE != ph->p_offset % ELF_PAGE_SIZE)
		return "segment address and offset misaligned";
	if (ph->p_vaddr < b->user_min)
		return "segment below user space";
	/* Written as a subtraction, this also refuses vaddr + memsz wrapping. */
	if (ph->p_vaddr >= b->user_top || ph->p_memsz > b->user_top - ph->p_vaddr)
		return "segment beyond user space";
	if ((ph->p_flags & PF_W) && (ph->p_flags & PF_X))
		return "writable and executable segment";
	*seg = (struct elf_segment){
		.vaddr = ph->p_vaddr,
		.memsz = ph->p_memsz,
		.offset = ph->p_offset,
		.filesz = ph->p_filesz,
		.prot = elf_prot(ph->p_flags),
	};
	return NULL;
}

/*
 * Page granularity because protections are per page: two segments sharing
 * a page would force one of them to take the other's rights.  The last
 * page is computed from end - 1 so a segment ending at the top of the
 * address space cannot wrap when rounded.
 */
static bool elf_pages_overlap(const struct elf_segment *a, const struct elf_segment *b)
{
	uint64_t mask = ~(uint64_t)(ELF_PAGE_SIZE - 1);
	uint64_t a_first = a->vaddr & mask, a_last = (a->vaddr + a->memsz - 1) & mask;
	uint64_t b_first = b->vaddr & mask, b_last = (b->vaddr + b->memsz - 1) & mask;

	return a_first <= b_last && b_first <= a_last;
}

static const char *elf_add_segment(struct elf_image *img, const struct elf_segment *seg)
{
	if (img->nsegments == ELF_MAX_SEGMENTS)
		return "too many loadable segments";
	for (int i = 0; i < img->nsegments; i++)
		if (elf_pages_overlap(&img->seg[i], seg))
			return "overlapping segments";
	img->seg[img->nsegments++] = *seg;
	return NULL;
}

static const char *elf_take_phdr(const struct elf64_phdr *ph, const struct elf_bounds *b,
				 struct elf_image *img)
{
	struct elf_segment seg;
	const char *why;

	switch (ph->p_type) {
	case PT_INTERP:
	case PT_DYNAMIC:
		return "dynamically linked";
	case PT_LOAD:
		if (ph->p_memsz == 0)
			return NULL;	/* occupies nothing; linkers do emit these */
		why = elf_check_load(ph, b, &seg);
		return why ? why : elf_add_segment(img, &seg);
	default:
		return NULL;	/* notes, GNU_STACK and the like need no loading */
	}
}

static const char *elf_check_entry(const struct elf_image *img, uint64_t entry)
{
	for (int i = 0; i < img->nsegments; i++) {
		const struct elf_segment *s = &img->seg[i];

		if ((s->prot & PROT_EXEC) && entry >= s->vaddr && entry - s->vaddr < s->memsz)
			return NULL;
	}
	return "entry point outside executable segment";
}

/* A read that failed: the reason is the source's error, kept in *err. */
static const char *elf_read(const struct elf_source *src, uint64_t off, void *buf, size_t len,
			    long *err)
{
	*err = src->read(src->ctx, off, buf, len);
	return *err ? "its headers could not be read" : NULL;
}

static const char *elf_check(const struct elf_source *src, const struct elf_bounds *b,
			     struct elf_image *img, long *err)
{
	struct elf64_ehdr eh;
	const char *why;

	if (b->file_size < sizeof(eh))
		return "file smaller than ELF header";
	why = elf_read(src, 0, &eh, sizeof(eh), err);
	if (!why)
		why = elf_check_header(&eh, b->file_size);
	if (why)
		return why;
	for (int i = 0; i < eh.e_phnum; i++) {
		struct elf64_phdr ph;

		why = elf_read(src, eh.e_phoff + (uint64_t)i * sizeof(ph), &ph, sizeof(ph), err);
		if (!why)
			why = elf_take_phdr(&ph, b, img);
		if (why)
			return why;
	}
	if (img->nsegments == 0)
		return "no loadable segment";
	img->entry = eh.e_entry;
	return elf_check_entry(img, eh.e_entry);
}

int elf_parse_from(const struct elf_source *src, uint64_t user_min, uint64_t user_top,
		   struct elf_image *out, const char **why)
{
	const struct elf_bounds b = { src->size, user_min, user_top };
	long err = 0;

	memset(out, 0, sizeof(*out));
	*why = elf_check(src, &b, out, &err);
	if (*why) {
		/* No half-checked segment list survives a refusal. */
		memset(out, 0, sizeof(*out));
		return err ? (int)err : ERR_NOEXEC;
	}
	return 0;
}

/* Bytes in memory: every offset elf_check asks for is inside the file. */
static long read_memory(void *ctx, uint64_t off, void *buf, size_t len)
{
	memcpy(buf, (const uint8_t *)ctx + off, len);
	return 0;
}

int elf_parse(const void *file, size_t size, uint64_t user_min, uint64_t user_top,
	      struct elf_image *out, const char **why)
{
	const struct elf_source src = { read_memory, (void *)file, size };

	return elf_parse_from(&src, user_min, user_top, out, why);
}
