// SPDX-License-Identifier: MIT
/*
 * multiboot2 information parsing.  The block is a u32 total size, a u32
 * reserved word, then 8-byte-aligned tags {u32 type, u32 size, payload},
 * ending with a type-0 tag.  Every size is checked against the space that
 * really remains before it is used.
 */
#include <ferry/err.h>
#include <stdbool.h>
#include <string.h>

#include "bootinfo.h"

#define TAG_END		0
#define TAG_CMDLINE	1
#define TAG_LOADER	2
#define TAG_MODULE	3
#define TAG_MMAP	6
#define TAG_ACPI_OLD	14	/* a copy of the ACPI 1.0 RSDP */
#define TAG_ACPI_NEW	15	/* a copy of the ACPI 2.0+ RSDP */

struct mb2_tag {
	uint32_t type, size;
};

struct mb2_mmap_entry {
	uint64_t base, len;
	uint32_t type, reserved;
};

static uint32_t read_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Copies a NUL-terminated string that must end inside [s, s + len). */
static int copy_string(char *dst, size_t dst_size, const uint8_t *s, size_t len)
{
	const uint8_t *nul = memchr(s, '\0', len);

	if (!nul)
		return ERR_INVAL;
	strlcpy(dst, (const char *)s, dst_size);
	return 0;
}

static int parse_mmap(struct boot_info *bi, const uint8_t *p, uint32_t size)
{
	uint32_t entry_size, n;

	if (size < 16)
		return ERR_INVAL;
	entry_size = read_u32(p + 8);
	if (entry_size < sizeof(struct mb2_mmap_entry) || entry_size % 8)
		return ERR_INVAL;
	n = (size - 16) / entry_size;
	for (uint32_t i = 0; i < n; i++) {
		struct mb2_mmap_entry e;

		memcpy(&e, p + 16 + (size_t)i * entry_size, sizeof(e));
		if (e.len == 0 || e.base + e.len < e.base)
			continue;	/* empty or wrapping: ignore, never trust */
		if (bi->nregions == BOOT_MAX_REGIONS) {
			bi->skipped++;
			continue;
		}
		bi->region[bi->nregions++] = (struct boot_region){ e.base, e.len, e.type };
	}
	return 0;
}

static size_t word_length(const char *s)
{
	size_t n = 0;

	while (s[n] && s[n] != ' ')
		n++;
	return n;
}

static int parse_module(struct boot_info *bi, const uint8_t *p, uint32_t size)
{
	struct boot_module *m;
	size_t name_len;

	if (size < 17)
		return ERR_INVAL;
	if (bi->nmodules == BOOT_MAX_MODULES) {
		bi->skipped++;
		return 0;
	}
	m = &bi->module[bi->nmodules];
	m->start = read_u32(p + 8);
	m->end = read_u32(p + 12);
	if (m->end < m->start)
		return ERR_INVAL;
	if (copy_string(m->args, sizeof(m->args), p + 16, size - 16))
		return ERR_INVAL;
	name_len = word_length(m->args);
	if (name_len >= sizeof(m->name))
		name_len = sizeof(m->name) - 1;
	memcpy(m->name, m->args, name_len);
	m->name[name_len] = '\0';
	bi->nmodules++;
	return 0;
}

/* The RSDP copy: the ACPI 2.0 one wins over a 1.0 one, whatever the order. */
static int parse_rsdp(struct boot_info *bi, const uint8_t *p, uint32_t size, bool newer)
{
	uint32_t n = size - 8;

	if (n < 20)
		return ERR_INVAL;
	if (bi->rsdp_len && !newer)
		return 0;
	if (n > BOOT_RSDP_MAX)
		n = BOOT_RSDP_MAX;
	memcpy(bi->rsdp, p + 8, n);
	bi->rsdp_len = n;
	return 0;
}

static int parse_tag(struct boot_info *bi, const uint8_t *p, uint32_t type, uint32_t size)
{
	switch (type) {
	case TAG_CMDLINE:
		return copy_string(bi->cmdline, sizeof(bi->cmdline), p + 8, size - 8);
	case TAG_LOADER:
		return copy_string(bi->loader, sizeof(bi->loader), p + 8, size - 8);
	case TAG_MODULE:
		return parse_module(bi, p, size);
	case TAG_MMAP:
		return parse_mmap(bi, p, size);
	case TAG_ACPI_OLD:
	case TAG_ACPI_NEW:
		return parse_rsdp(bi, p, size, type == TAG_ACPI_NEW);
	default:
		return 0;	/* tags we do not use */
	}
}

int multiboot2_parse(const void *info, size_t avail, uint64_t info_phys,
		     struct boot_info *bi, const char **why)
{
	const uint8_t *base = info;
	uint32_t total;
	size_t off = 8;

	memset(bi, 0, sizeof(*bi));
	*why = "info block too small";
	if (avail < 16)
		return ERR_INVAL;
	total = read_u32(base);
	if (total < 16 || total > avail || total > BOOT_INFO_MAX_SIZE)
		return ERR_INVAL;
	bi->info_start = info_phys;
	bi->info_end = info_phys + total;
	while (off + 8 <= total) {
		uint32_t type = read_u32(base + off), size = read_u32(base + off + 4);

		*why = "tag size out of bounds";
		if (size < 8 || size > total - off)
			return ERR_INVAL;
		if (type == TAG_END) {
			*why = NULL;
			return 0;
		}
		*why = "malformed tag";
		if (parse_tag(bi, base + off, type, size))
			return ERR_INVAL;
		off += (size + 7) & ~7u;
	}
	*why = "no end tag";
	return ERR_INVAL;
}

const struct boot_module *boot_find_module(const struct boot_info *bi, const char *name)
{
	for (int i = 0; i < bi->nmodules; i++)
		if (strcmp(bi->module[i].name, name) == 0)
			return &bi->module[i];
	return NULL;
}

uint64_t boot_usable_bytes(const struct boot_info *bi)
{
	uint64_t sum = 0;

	for (int i = 0; i < bi->nregions; i++)
		if (bi->region[i].type == BOOT_MEM_USABLE)
			sum += bi->region[i].len;
	return sum;
}

uint64_t boot_ram_top(const struct boot_info *bi)
{
	uint64_t top = 0;

	for (int i = 0; i < bi->nregions; i++)
		if (bi->region[i].type == BOOT_MEM_USABLE &&
		    bi->region[i].base + bi->region[i].len > top)
			top = bi->region[i].base + bi->region[i].len;
	return top;
}
