/* SPDX-License-Identifier: MIT */
/*
 * What the boot loader told us, checked and copied out of its own format
 * (multiboot2) into fixed-size tables, so nothing later trusts or even
 * touches the loader's memory.
 */
#ifndef BOOTINFO_H
#define BOOTINFO_H

#include <stddef.h>
#include <stdint.h>

#define MULTIBOOT2_BOOT_MAGIC	0x36D76289
#define BOOT_MAX_REGIONS	64
#define BOOT_MAX_MODULES	32
#define BOOT_NAME_MAX		64
#define BOOT_CMDLINE_MAX	512
#define BOOT_INFO_MAX_SIZE	(1u << 20)
#define BOOT_RSDP_MAX		36	/* an ACPI 2.0 RSDP */

enum boot_mem_type { BOOT_MEM_USABLE = 1, BOOT_MEM_RESERVED = 2, BOOT_MEM_ACPI = 3,
		     BOOT_MEM_NVS = 4, BOOT_MEM_BAD = 5 };

struct boot_region {
	uint64_t base, len;
	uint32_t type;
};

struct boot_module {
	uint64_t start, end;	/* physical, end exclusive */
	char name[BOOT_NAME_MAX];	/* first word of the module's command line */
	char args[BOOT_CMDLINE_MAX];	/* the whole module command line */
};

struct boot_info {
	char cmdline[BOOT_CMDLINE_MAX];
	char loader[BOOT_NAME_MAX];
	struct boot_region region[BOOT_MAX_REGIONS];
	int nregions;
	struct boot_module module[BOOT_MAX_MODULES];
	int nmodules;
	uint64_t info_start, info_end;	/* the loader's info block itself */
	/* The ACPI RSDP the loader found (multiboot2 tag 14 or 15, the newer
	 * preferred), copied as it was; unchecked here (kernel/acpi checks it). */
	uint8_t rsdp[BOOT_RSDP_MAX];
	uint32_t rsdp_len;
	int skipped;			/* regions or modules past the table sizes */
};

/*
 * Parses a multiboot2 information block of `avail` readable bytes at
 * `info` (physical address info_phys, recorded so it can be reserved).
 * Returns 0, or a negative ferry error with *why set to the reason.
 */
int multiboot2_parse(const void *info, size_t avail, uint64_t info_phys,
		     struct boot_info *out, const char **why);

/* The boot loader's information, as kmain checked and copied it. */
const struct boot_info *boot_info(void);
const struct boot_module *boot_find_module(const struct boot_info *bi, const char *name);
uint64_t boot_usable_bytes(const struct boot_info *bi);
uint64_t boot_ram_top(const struct boot_info *bi);

#endif
