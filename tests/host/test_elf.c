// SPDX-License-Identifier: MIT
/* kernel/proc/elf.c: a good static executable parses; every flaw is refused with its reason. */
#include "htest.h"
#include "lib_string_shim.h"

#include <stdint.h>
#include <stdlib.h>

#include "../../kernel/proc/elf.c"

#define USER_MIN	0x1000ull
#define USER_TOP	0x800000000000ull
#define PH_OFF		64u
#define IMAGE_MAX	0x4000u

/* An image kept as structs, so each test can break exactly one field. */
struct image {
	struct elf64_ehdr eh;
	struct elf64_phdr ph[20];
	size_t size;		/* file size handed to elf_parse */
};

static _Alignas(8) uint8_t file_buf[IMAGE_MAX + 1];

static struct elf64_phdr load(uint64_t vaddr, uint64_t offset, uint64_t filesz,
			      uint64_t memsz, uint32_t flags)
{
	return (struct elf64_phdr){ .p_type = PT_LOAD, .p_flags = flags, .p_offset = offset,
				    .p_vaddr = vaddr, .p_paddr = vaddr, .p_filesz = filesz,
				    .p_memsz = memsz, .p_align = 0x1000 };
}

/* text R+X, rodata R, data RW with a .bss tail, each on its own pages. */
static void build_good(struct image *im)
{
	memset(im, 0, sizeof(*im));
	memcpy(im->eh.e_ident, "\x7f" "ELF", 4);
	im->eh.e_ident[EI_CLASS] = ELFCLASS64;
	im->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh.e_ident[EI_VERSION] = EV_CURRENT;
	im->eh.e_type = ET_EXEC;
	im->eh.e_machine = EM_X86_64;
	im->eh.e_version = EV_CURRENT;
	im->eh.e_entry = 0x401010;
	im->eh.e_phoff = PH_OFF;
	im->eh.e_ehsize = sizeof(struct elf64_ehdr);
	im->eh.e_phentsize = sizeof(struct elf64_phdr);
	im->eh.e_phnum = 3;
	im->ph[0] = load(0x401000, 0x1000, 0x100, 0x100, PF_R | PF_X);
	im->ph[1] = load(0x402000, 0x2000, 0x80, 0x80, PF_R);
	im->ph[2] = load(0x403000, 0x3000, 0x40, 0x2000, PF_R | PF_W);
	im->size = 0x3040;
}

/* Lays the image out at file_buf + shift; phdrs always go at PH_OFF. */
static const uint8_t *serialize(const struct image *im, size_t shift)
{
	uint8_t *p = file_buf + shift;
	size_t nph = im->eh.e_phnum < 20 ? im->eh.e_phnum : 20;

	memset(file_buf, 0xcc, sizeof(file_buf));
	memcpy(p, &im->eh, sizeof(im->eh));
	memcpy(p + PH_OFF, im->ph, nph * sizeof(im->ph[0]));
	return p;
}

static int parse(const struct image *im, struct elf_image *out, const char **why)
{
	return elf_parse(serialize(im, 0), im->size, USER_MIN, USER_TOP, out, why);
}

/* The reason an image is refused, after checking it is refused cleanly. */
static const char *refusal(const struct image *im)
{
	static const struct elf_image zero;
	struct elf_image out;
	const char *why = NULL;

	HCHECK_EQ(parse(im, &out, &why), ERR_NOEXEC);
	HCHECK(memcmp(&out, &zero, sizeof(out)) == 0);
	HCHECK(why != NULL);
	return why ? why : "(none)";
}

#define HCHECK_REFUSED(im, reason) HCHECK(strcmp(refusal(im), reason) == 0)

HTEST(good_image_parses)
{
	struct image im;
	struct elf_image out;
	const char *why = "unset";

	build_good(&im);
	HCHECK_EQ(parse(&im, &out, &why), 0);
	HCHECK(why == NULL);
	HCHECK_EQ(out.entry, 0x401010);
	HCHECK_EQ(out.nsegments, 3);
	HCHECK_EQ(out.seg[0].vaddr, 0x401000);
	HCHECK_EQ(out.seg[0].prot, PROT_READ | PROT_EXEC);
	HCHECK_EQ(out.seg[1].prot, PROT_READ);
	HCHECK_EQ(out.seg[1].offset, 0x2000);
	HCHECK_EQ(out.seg[2].prot, PROT_READ | PROT_WRITE);
	HCHECK_EQ(out.seg[2].filesz, 0x40);
	HCHECK_EQ(out.seg[2].memsz, 0x2000);
}

HTEST(unaligned_buffer_parses)
{
	struct image im;
	struct elf_image out;
	const char *why;

	build_good(&im);
	HCHECK_EQ(elf_parse(serialize(&im, 1), im.size, USER_MIN, USER_TOP, &out, &why), 0);
	HCHECK_EQ(out.nsegments, 3);
}

HTEST(ignored_headers_and_empty_loads)
{
	struct image im;
	struct elf_image out;
	const char *why;

	build_good(&im);
	im.ph[3] = (struct elf64_phdr){ .p_type = 0x6474e551 };	/* PT_GNU_STACK */
	im.ph[4] = load(0x900000, 0, 0, 0, PF_R | PF_W | PF_X);	/* empty: skipped */
	im.eh.e_phnum = 5;
	HCHECK_EQ(parse(&im, &out, &why), 0);
	HCHECK_EQ(out.nsegments, 3);
}

HTEST(segment_may_end_at_user_top)
{
	struct image im;
	struct elf_image out;
	const char *why;

	build_good(&im);
	im.ph[2] = load(USER_TOP - 0x2000, 0x3000, 0x40, 0x2000, PF_R | PF_W);
	HCHECK_EQ(parse(&im, &out, &why), 0);
	im.ph[2].p_memsz++;
	HCHECK_REFUSED(&im, "segment beyond user space");
}

HTEST(header_flaws)
{
	struct image im;

	build_good(&im);
	im.size = sizeof(struct elf64_ehdr) - 1;
	HCHECK_REFUSED(&im, "file smaller than ELF header");

	build_good(&im);
	im.eh.e_ident[1] = 'e';
	HCHECK_REFUSED(&im, "bad magic");

	build_good(&im);
	im.eh.e_ident[EI_CLASS] = 1;
	HCHECK_REFUSED(&im, "not 64-bit");

	build_good(&im);
	im.eh.e_ident[EI_DATA] = 2;
	HCHECK_REFUSED(&im, "not little-endian");

	build_good(&im);
	im.eh.e_ident[EI_VERSION] = 0;
	HCHECK_REFUSED(&im, "bad ELF version");

	build_good(&im);
	im.eh.e_version = 2;
	HCHECK_REFUSED(&im, "bad ELF version");

	build_good(&im);
	im.eh.e_type = ET_DYN;
	HCHECK_REFUSED(&im, "position-independent executable");

	build_good(&im);
	im.eh.e_type = 1;	/* ET_REL */
	HCHECK_REFUSED(&im, "not an executable");

	build_good(&im);
	im.eh.e_machine = 3;	/* EM_386 */
	HCHECK_REFUSED(&im, "not x86-64");

	build_good(&im);
	im.eh.e_phentsize = 32;
	HCHECK_REFUSED(&im, "bad program header size");
}

HTEST(program_header_table_bounds)
{
	struct image im;

	build_good(&im);
	im.eh.e_phnum = 0;
	HCHECK_REFUSED(&im, "bad program header count");

	build_good(&im);
	im.eh.e_phnum = 17;
	HCHECK_REFUSED(&im, "bad program header count");

	build_good(&im);
	im.eh.e_phoff = im.size;
	HCHECK_REFUSED(&im, "program headers outside file");

	build_good(&im);
	im.eh.e_phoff = im.size - 3 * sizeof(struct elf64_phdr) + 1;
	HCHECK_REFUSED(&im, "program headers outside file");

	build_good(&im);
	im.eh.e_phoff = UINT64_MAX - 8;	/* phoff + table wraps */
	HCHECK_REFUSED(&im, "program headers outside file");
}

HTEST(dynamic_linking_refused)
{
	struct image im;

	build_good(&im);
	im.ph[3] = (struct elf64_phdr){ .p_type = PT_INTERP, .p_offset = 0x200, .p_filesz = 28 };
	im.eh.e_phnum = 4;
	HCHECK_REFUSED(&im, "dynamically linked");

	build_good(&im);
	im.ph[3] = (struct elf64_phdr){ .p_type = PT_DYNAMIC };
	im.eh.e_phnum = 4;
	HCHECK_REFUSED(&im, "dynamically linked");
}

HTEST(segment_file_bounds)
{
	struct image im;

	build_good(&im);
	im.ph[2].p_filesz = 0x2001;
	HCHECK_REFUSED(&im, "file size larger than memory size");

	build_good(&im);
	im.ph[2].p_filesz = 0x41;
	HCHECK_REFUSED(&im, "segment data outside file");

	build_good(&im);
	im.ph[2].p_offset = UINT64_MAX - 0x1f;	/* offset + filesz wraps */
	im.ph[2].p_vaddr = 0x403fe0;
	HCHECK_REFUSED(&im, "segment data outside file");

	build_good(&im);
	im.ph[1].p_offset = 0x2010;
	HCHECK_REFUSED(&im, "segment address and offset misaligned");
}

HTEST(segment_address_bounds)
{
	struct image im;

	build_good(&im);
	im.ph[0].p_vaddr = 0;
	im.ph[0].p_offset = 0;
	HCHECK_REFUSED(&im, "segment below user space");

	build_good(&im);
	im.ph[0].p_vaddr = 0xffff800000001000ull;
	HCHECK_REFUSED(&im, "segment beyond user space");

	build_good(&im);
	im.ph[2].p_memsz = UINT64_MAX - 0x1000;	/* vaddr + memsz wraps */
	HCHECK_REFUSED(&im, "segment beyond user space");
}

HTEST(segment_address_wrap_with_top_of_space)
{
	struct image im;
	struct elf_image out;
	const char *why;

	build_good(&im);
	im.ph[2].p_vaddr = 0xfffffffffffff000ull;
	im.ph[2].p_memsz = 0x2000;
	HCHECK_EQ(elf_parse(serialize(&im, 0), im.size, USER_MIN, UINT64_MAX, &out, &why),
		  ERR_NOEXEC);
	HCHECK(strcmp(why, "segment beyond user space") == 0);
}

HTEST(write_xor_execute)
{
	struct image im;

	build_good(&im);
	im.ph[0].p_flags = PF_R | PF_W | PF_X;
	HCHECK_REFUSED(&im, "writable and executable segment");
}

HTEST(segment_count_and_overlap)
{
	struct image im;

	build_good(&im);
	for (int i = 3; i < ELF_MAX_SEGMENTS + 1; i++)
		im.ph[i] = load(0x500000 + 0x1000 * (uint64_t)i, 0, 0x10, 0x10, PF_R);
	im.eh.e_phnum = ELF_MAX_SEGMENTS + 1;
	HCHECK_REFUSED(&im, "too many loadable segments");

	/* Disjoint bytes, but the same 4 KiB page. */
	build_good(&im);
	im.ph[1].p_vaddr = 0x401800;
	im.ph[1].p_offset = 0x2800;
	HCHECK_REFUSED(&im, "overlapping segments");

	/* Data's .bss tail runs into the next segment's page. */
	build_good(&im);
	im.ph[2].p_vaddr = 0x400000;
	im.ph[2].p_memsz = 0x1001;
	HCHECK_REFUSED(&im, "overlapping segments");

	build_good(&im);
	im.ph[1].p_vaddr = im.ph[0].p_vaddr;
	HCHECK_REFUSED(&im, "overlapping segments");
}

HTEST(needs_a_loadable_segment)
{
	struct image im;

	build_good(&im);
	im.ph[0] = (struct elf64_phdr){ .p_type = 4 };	/* PT_NOTE */
	im.ph[1] = load(0x402000, 0x2000, 0, 0, PF_R | PF_X);
	im.eh.e_phnum = 2;
	HCHECK_REFUSED(&im, "no loadable segment");
}

HTEST(entry_point_checked)
{
	struct image im;
	struct elf_image out;
	const char *why;

	build_good(&im);
	im.eh.e_entry = 0x10;
	HCHECK_REFUSED(&im, "entry point outside executable segment");

	build_good(&im);
	im.eh.e_entry = 0x403000;	/* inside data, which is not executable */
	HCHECK_REFUSED(&im, "entry point outside executable segment");

	build_good(&im);
	im.eh.e_entry = 0x401100;	/* one past the end of text */
	HCHECK_REFUSED(&im, "entry point outside executable segment");

	build_good(&im);
	im.eh.e_entry = 0x4010ff;
	HCHECK_EQ(parse(&im, &out, &why), 0);
}

/* Every truncation of a good file is refused without reading past its end (ASan). */
HTEST(every_truncation_refused)
{
	struct image im;
	struct elf_image out;
	const char *why;
	static uint8_t copy[0x3040];

	build_good(&im);
	memcpy(copy, serialize(&im, 0), sizeof(copy));
	for (size_t n = 0; n < sizeof(copy); n++) {
		uint8_t *exact = malloc(n ? n : 1);

		memcpy(exact, copy, n);
		HCHECK_EQ(elf_parse(exact, n, USER_MIN, USER_TOP, &out, &why), ERR_NOEXEC);
		free(exact);
	}
	HCHECK_EQ(elf_parse(copy, sizeof(copy), USER_MIN, USER_TOP, &out, &why), 0);
}

/* A file read piece by piece (a program on disk): reads within the file; a failed read. */
struct reader {
	const uint8_t *file;
	uint64_t size;
	int reads, fail_at;	/* the fail_at-th read fails (0: none) */
};

static long read_piece(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct reader *r = ctx;

	HCHECK(off + len <= r->size);	/* never past the end of the file */
	if (++r->reads == r->fail_at)
		return ERR_IO;
	memcpy(buf, r->file + off, len);
	return 0;
}

HTEST(read_through_a_source)
{
	struct image im;
	struct elf_image out;
	const char *why;

	build_good(&im);
	for (int fail_at = 0; fail_at <= 1 + im.eh.e_phnum; fail_at++) {
		struct reader r = { serialize(&im, 0), im.size, 0, fail_at };
		struct elf_source src = { read_piece, &r, im.size };
		int err = elf_parse_from(&src, USER_MIN, USER_TOP, &out, &why);

		if (fail_at == 0) {
			HCHECK_EQ(err, 0);
			HCHECK_EQ(out.nsegments, 3);
			HCHECK_EQ(r.reads, 1 + im.eh.e_phnum);	/* the header, each program header */
		} else {
			HCHECK_EQ(err, ERR_IO);	/* the source's error, not ERR_NOEXEC */
			HCHECK(why && strcmp(why, "its headers could not be read") == 0);
			HCHECK_EQ(out.nsegments, 0);
		}
	}
	/* The same refusals as from memory: the file ends before the segments' data. */
	im.size = PH_OFF + 3 * sizeof(struct elf64_phdr);
	{
		struct reader r = { serialize(&im, 0), im.size, 0, 0 };
		struct elf_source src = { read_piece, &r, im.size };

		HCHECK_EQ(elf_parse_from(&src, USER_MIN, USER_TOP, &out, &why), ERR_NOEXEC);
		HCHECK(why && strcmp(why, "segment data outside file") == 0);
	}
}
