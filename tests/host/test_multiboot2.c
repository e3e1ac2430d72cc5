/* SPDX-License-Identifier: MIT */
/* kernel/multiboot2.c: a well-formed block parses; every malformed one is refused. */
#include "htest.h"
#include "lib_string_shim.h"

#include <stdint.h>

#include "../../kernel/multiboot2.c"

struct builder {
	_Alignas(8) uint8_t buf[4096];
	size_t len;
};

static void put32(struct builder *b, size_t off, uint32_t v)
{
	memcpy(b->buf + off, &v, 4);
}

static void begin(struct builder *b)
{
	memset(b->buf, 0, sizeof(b->buf));
	b->len = 8;
}

static size_t tag(struct builder *b, uint32_t type, const void *payload, uint32_t n)
{
	size_t at = b->len;

	put32(b, at, type);
	put32(b, at + 4, 8 + n);
	memcpy(b->buf + at + 8, payload, n);
	b->len = (at + 8 + n + 7) & ~(size_t)7;
	return at;
}

static void finish(struct builder *b)
{
	tag(b, TAG_END, "", 0);
	put32(b, 0, (uint32_t)b->len);
}

/* mmap payload: entry_size, entry_version, then entries. */
static size_t add_mmap(struct builder *b, const struct mb2_mmap_entry *e, uint32_t n)
{
	uint8_t payload[8 + 16 * sizeof(*e)];
	uint32_t esize = sizeof(*e), version = 0;

	memcpy(payload, &esize, 4);
	memcpy(payload + 4, &version, 4);
	memcpy(payload + 8, e, n * sizeof(*e));
	return tag(b, TAG_MMAP, payload, 8 + n * (uint32_t)sizeof(*e));
}

static size_t add_module(struct builder *b, uint32_t start, uint32_t end, const char *args)
{
	uint8_t payload[256];
	size_t n = strlen(args) + 1;

	memcpy(payload, &start, 4);
	memcpy(payload + 4, &end, 4);
	memcpy(payload + 8, args, n);
	return tag(b, TAG_MODULE, payload, (uint32_t)(8 + n));
}

static void build_good(struct builder *b)
{
	struct mb2_mmap_entry mm[] = {
		{ 0, 0x9fc00, BOOT_MEM_USABLE, 0 },
		{ 0x100000, 0x3f00000, BOOT_MEM_USABLE, 0 },
		{ 0xfffc0000, 0x40000, BOOT_MEM_RESERVED, 0 },
	};

	begin(b);
	tag(b, TAG_CMDLINE, "loglevel=3 test=all", 20);
	tag(b, TAG_LOADER, "GRUB", 5);
	add_mmap(b, mm, 3);
	add_module(b, 0x200000, 0x201000, "symbols");
	add_module(b, 0x300000, 0x308000, "ata --pio");
	finish(b);
}

static int parse(struct builder *b, struct boot_info *bi, const char **why)
{
	return multiboot2_parse(b->buf, sizeof(b->buf), 0x10000, bi, why);
}

HTEST(good_block_parses)
{
	static struct builder b;
	static struct boot_info bi;
	const char *why;

	build_good(&b);
	HCHECK_EQ(parse(&b, &bi, &why), 0);
	HCHECK(strcmp(bi.cmdline, "loglevel=3 test=all") == 0);
	HCHECK(strcmp(bi.loader, "GRUB") == 0);
	HCHECK_EQ(bi.nregions, 3);
	HCHECK_EQ(bi.nmodules, 2);
	HCHECK(strcmp(bi.module[1].name, "ata") == 0);
	HCHECK(strcmp(bi.module[1].args, "ata --pio") == 0);
	HCHECK_EQ(bi.module[1].end - bi.module[1].start, 0x8000);
	HCHECK_EQ(boot_usable_bytes(&bi), 0x9fc00 + 0x3f00000);
	HCHECK_EQ(boot_ram_top(&bi), 0x4000000);
	HCHECK_EQ(bi.info_start, 0x10000);
	HCHECK_EQ(bi.info_end, 0x10000 + b.len);
	HCHECK(boot_find_module(&bi, "symbols") == &bi.module[0]);
	HCHECK(boot_find_module(&bi, "nope") == NULL);
}

HTEST(total_size_checked)
{
	static struct builder b;
	static struct boot_info bi;
	const char *why;

	build_good(&b);
	put32(&b, 0, 8);
	HCHECK(parse(&b, &bi, &why) < 0);
	put32(&b, 0, 1u << 30);
	HCHECK(parse(&b, &bi, &why) < 0);
	build_good(&b);
	HCHECK(multiboot2_parse(b.buf, b.len - 8, 0, &bi, &why) < 0);	/* larger than avail */
	HCHECK(multiboot2_parse(b.buf, 4, 0, &bi, &why) < 0);
}

HTEST(tag_overrunning_block_refused)
{
	static struct builder b;
	static struct boot_info bi;
	const char *why;

	begin(&b);
	size_t at = tag(&b, TAG_CMDLINE, "abc", 4);
	finish(&b);
	put32(&b, at + 4, 4000);
	HCHECK(parse(&b, &bi, &why) < 0);
	HCHECK(strcmp(why, "tag size out of bounds") == 0);
	put32(&b, at + 4, 4);	/* smaller than a tag header */
	HCHECK(parse(&b, &bi, &why) < 0);
}

HTEST(missing_end_tag_refused)
{
	static struct builder b;
	static struct boot_info bi;
	const char *why;

	begin(&b);
	tag(&b, TAG_LOADER, "GRUB", 5);
	put32(&b, 0, (uint32_t)b.len);
	HCHECK(parse(&b, &bi, &why) < 0);
	HCHECK(strcmp(why, "no end tag") == 0);
}

HTEST(unterminated_strings_refused)
{
	static struct builder b;
	static struct boot_info bi;
	const char *why;

	begin(&b);
	tag(&b, TAG_CMDLINE, "abcdefgh", 8);	/* no NUL inside the tag */
	finish(&b);
	HCHECK(parse(&b, &bi, &why) < 0);
	begin(&b);
	size_t at = add_module(&b, 0x1000, 0x2000, "x");
	b.buf[at + 16] = 'y';
	b.buf[at + 17] = 'y';	/* overwrite the NUL */
	finish(&b);
	HCHECK(parse(&b, &bi, &why) < 0);
}

HTEST(module_end_before_start_refused)
{
	static struct builder b;
	static struct boot_info bi;
	const char *why;

	begin(&b);
	add_module(&b, 0x5000, 0x4000, "bad");
	finish(&b);
	HCHECK(parse(&b, &bi, &why) < 0);
}

HTEST(bad_mmap_entry_size_refused_and_wrapping_ignored)
{
	static struct builder b;
	static struct boot_info bi;
	const char *why;
	struct mb2_mmap_entry mm[] = {
		{ 0xfffffffffffff000ULL, 0x2000, BOOT_MEM_USABLE, 0 },	/* wraps */
		{ 0x100000, 0, BOOT_MEM_USABLE, 0 },			/* empty */
		{ 0x100000, 0x1000, BOOT_MEM_USABLE, 0 },
	};
	size_t at;

	begin(&b);
	add_mmap(&b, mm, 3);
	finish(&b);
	HCHECK_EQ(parse(&b, &bi, &why), 0);
	HCHECK_EQ(bi.nregions, 1);
	begin(&b);
	at = add_mmap(&b, mm, 3);
	put32(&b, at + 8, 4);	/* entry size smaller than an entry */
	finish(&b);
	HCHECK(parse(&b, &bi, &why) < 0);
}

HTEST(too_many_modules_are_counted)
{
	static struct builder b;
	static struct boot_info bi;
	const char *why;

	begin(&b);
	for (int i = 0; i < BOOT_MAX_MODULES + 3; i++)
		add_module(&b, 0x1000, 0x2000, "m");
	finish(&b);
	HCHECK_EQ(parse(&b, &bi, &why), 0);
	HCHECK_EQ(bi.nmodules, BOOT_MAX_MODULES);
	HCHECK_EQ(bi.skipped, 3);
}

/* The loader's RSDP copies: a 2.0 one wins over a 1.0 one in either order;
 * one too short to be an RSDP refuses the block. */
HTEST(rsdp_tags_newer_wins)
{
	static struct builder b;
	static struct boot_info bi;
	const char *why;
	uint8_t old_rsdp[20], new_rsdp[36];

	memset(old_rsdp, 0x11, sizeof(old_rsdp));
	memset(new_rsdp, 0x22, sizeof(new_rsdp));
	begin(&b);
	tag(&b, TAG_ACPI_NEW, new_rsdp, sizeof(new_rsdp));
	tag(&b, TAG_ACPI_OLD, old_rsdp, sizeof(old_rsdp));
	finish(&b);
	HCHECK_EQ(parse(&b, &bi, &why), 0);
	HCHECK_EQ(bi.rsdp_len, 36);
	HCHECK_EQ(bi.rsdp[35], 0x22);
	begin(&b);
	tag(&b, TAG_ACPI_OLD, old_rsdp, sizeof(old_rsdp));
	tag(&b, TAG_ACPI_NEW, new_rsdp, sizeof(new_rsdp));
	finish(&b);
	HCHECK_EQ(parse(&b, &bi, &why), 0);
	HCHECK_EQ(bi.rsdp_len, 36);
	HCHECK_EQ(bi.rsdp[0], 0x22);
	begin(&b);
	tag(&b, TAG_ACPI_OLD, old_rsdp, 12);
	finish(&b);
	HCHECK(parse(&b, &bi, &why) < 0);
}
