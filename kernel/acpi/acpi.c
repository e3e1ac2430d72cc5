// SPDX-License-Identifier: MIT
/*
 * Finding the ACPI tables at boot and keeping the list (the model is in
 * acpi.h).  Every table is mapped through arch_map_phys(): the direct map
 * when it covers the table, a permanent kernel mapping otherwise (QEMU
 * puts its tables just above the usable RAM).
 */
#include "acpi.h"

#include <fmt.h>
#include <string.h>

#include "../arch/arch.h"
#include "../bootinfo.h"
#include "../cmdline.h"
#include "../log.h"

#define BIOS_EBDA_SEGMENT_PTR	0x40E
#define BIOS_AREA_START		0xE0000
#define BIOS_AREA_END		0x100000

struct table {
	char signature[5];
	uint64_t address;
	uint32_t length;
	const struct acpi_header *mapped;	/* NULL when it failed */
	const char *problem;
	bool reported;
};

static struct table tables[ACPI_TABLES_MAX];
static int ntables;
static bool root_ok;

bool acpi_present(void)
{
	return root_ok;
}

/* The RSDP in the firmware's areas: on a 16-byte boundary in the first KiB
 * of the EBDA, or between 0xE0000 and 0xFFFFF (ACPI 5.2.5.1). */
static const void *scan_for_rsdp(uint64_t from, uint64_t to)
{
	const uint8_t *p = arch_map_phys(from, to - from, VM_READ);

	for (uint64_t off = 0; p && off + 20 <= to - from; off += 16) {
		struct acpi_root root;
		const char *why;

		if (acpi_rsdp_check(p + off, to - from - off, &root, &why) == 0)
			return p + off;
	}
	return NULL;
}

static int find_rsdp(const struct boot_info *bi, struct acpi_root *root, const char **why)
{
	const uint16_t *ebda_ptr;
	const void *found;

	if (bi->rsdp_len)
		return acpi_rsdp_check(bi->rsdp, bi->rsdp_len, root, why);
	ebda_ptr = arch_map_phys(BIOS_EBDA_SEGMENT_PTR, 2, VM_READ);
	found = NULL;
	if (ebda_ptr && *ebda_ptr) {
		uint64_t ebda = (uint64_t)*ebda_ptr << 4;

		if (ebda >= 0x80000 && ebda < 0xA0000)
			found = scan_for_rsdp(ebda, ebda + 1024);
	}
	if (!found)
		found = scan_for_rsdp(BIOS_AREA_START, BIOS_AREA_END);
	*why = "no RSDP from the boot loader or in the BIOS areas";
	if (!found)
		return -1;
	return acpi_rsdp_check(found, sizeof(struct acpi_rsdp), root, why);
}

/* Maps a table: its header first, for the length, then all of it. */
static const struct acpi_header *map_table(uint64_t pa, const char *sig, const char **why)
{
	const struct acpi_header *h = arch_map_phys(pa, sizeof(*h), VM_READ);
	uint32_t len;

	*why = "cannot be mapped";
	if (!h)
		return NULL;
	len = h->length;
	*why = "length out of bounds";
	if (len < sizeof(*h) || len > ACPI_TABLE_LEN_MAX)
		return NULL;
	h = arch_map_phys(pa, len, VM_READ);
	*why = "cannot be mapped";
	if (!h)
		return NULL;
	return acpi_table_check(h, len, sig, why) == 0 ? h : NULL;
}

static void add_table(uint64_t pa)
{
	struct table *t;
	const struct acpi_header *h;

	if (ntables == ACPI_TABLES_MAX) {
		log_warn("acpi: more than %d tables; the one at %#lx is ignored", ACPI_TABLES_MAX,
			 (unsigned long)pa);
		return;
	}
	t = &tables[ntables++];
	t->address = pa;
	h = arch_map_phys(pa, sizeof(*h), VM_READ);
	if (h) {
		memcpy(t->signature, h->signature, 4);
		t->length = h->length;
	}
	t->mapped = map_table(pa, NULL, &t->problem);
}

static uint64_t root_entry(const struct acpi_header *h, unsigned size, int i)
{
	const uint8_t *e = (const uint8_t *)(h + 1) + (size_t)i * size;
	uint64_t v = 0;

	memcpy(&v, e, size);	/* entries are unaligned in the RSDT and XSDT */
	return v;
}

static void log_table_list(const struct acpi_header *rt, uint64_t address)
{
	char names[ACPI_TABLES_MAX * 5 + 1] = "";
	size_t at = 0;

	for (int i = 0; i < ntables; i++)
		at += (size_t)snprintf(names + at, sizeof(names) - at, " %s",
				       tables[i].signature[0] ? tables[i].signature : "????");
	log_info("acpi: %.4s at %#lx, %d tables:%s", rt->signature, (unsigned long)address, ntables,
		 names);
}

void acpi_init(const struct boot_info *bi)
{
	struct acpi_root root;
	const struct acpi_header *rt;
	const char *why, *off = cmdline_get("acpi");
	int n;

	if (off && strcmp(off, "off") == 0) {
		log_info("acpi: off (acpi=off): one CPU, legacy interrupts, no IOMMU");
		return;
	}
	if (find_rsdp(bi, &root, &why)) {
		log_warn("acpi: %s: running without ACPI tables (one CPU, no IOMMU)", why);
		return;
	}
	rt = map_table(root.address, root.entry_size == 8 ? "XSDT" : "RSDT", &why);
	if (!rt) {
		log_warn("acpi: %s at %#lx: %s: running without ACPI tables (one CPU, no IOMMU)",
			 root.entry_size == 8 ? "XSDT" : "RSDT", (unsigned long)root.address, why);
		return;
	}
	root_ok = true;
	n = (int)((rt->length - sizeof(*rt)) / root.entry_size);
	for (int i = 0; i < n; i++)
		add_table(root_entry(rt, root.entry_size, i));
	log_table_list(rt, root.address);
	for (int i = 0; i < ntables; i++)
		if (tables[i].problem)
			log_warn("acpi: table %d (%.4s at %#lx) is malformed: %s", i,
				 tables[i].signature, (unsigned long)tables[i].address,
				 tables[i].problem);
}

const struct acpi_header *acpi_table(const char *sig)
{
	struct table *bad = NULL;

	for (int i = 0; i < ntables; i++) {
		if (memcmp(tables[i].signature, sig, 4) != 0)
			continue;
		if (tables[i].mapped)
			return tables[i].mapped;
		bad = bad ? bad : &tables[i];
	}
	if (bad && !bad->reported) {
		bad->reported = true;
		log_warn("acpi: %.4s refused: %s", sig, bad->problem);
	}
	return NULL;
}

bool acpi_table_view(int i, struct acpi_table_view *v)
{
	if (i < 0 || i >= ntables)
		return false;
	memcpy(v->signature, tables[i].signature, 5);
	v->address = tables[i].address;
	v->length = tables[i].length;
	v->problem = tables[i].problem;
	return true;
}
