/* SPDX-License-Identifier: MIT */
/*
 * kernel/acpi: the firmware's ACPI tables, found, checked and listed once
 * at boot, for the subsystems that read one of them (the MADT for CPUs and
 * interrupt controllers, the DMAR for the IOMMU).
 *
 * The model
 * ---------
 *   1. The RSDP: the boot loader's copy (multiboot2 tags 14/15) or, without
 *      one, the firmware's in the EBDA or at 0xE0000-0xFFFFF.  Its
 *      checksum (and the 2.0 extended checksum) must hold.
 *   2. The root table: the XSDT (64-bit entries) when the RSDP is 2.0 and
 *      names one, else the RSDT; signature, length and checksum checked.
 *   3. Every table it names is mapped and checked once (signature bytes,
 *      length within bounds, checksum) and kept in a list, with the reason
 *      when it failed.  acpi_table() hands out only tables that passed;
 *      asking for one that failed logs why, so a malformed MADT or DMAR is
 *      a log line and a fallback (one CPU, no IOMMU), never a fault.
 *
 * Firmware memory is untrusted input like any other: every length is
 * checked against what was mapped before a byte past the header is read.
 * Tables never change after boot, so the list needs no lock.
 */
#ifndef ACPI_H
#define ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_TABLES_MAX		32
#define ACPI_TABLE_LEN_MAX	(256u * 1024)	/* larger is taken as corrupt */

struct acpi_header {
	char signature[4];
	uint32_t length;		/* of the whole table, header included */
	uint8_t revision;
	uint8_t checksum;		/* all bytes of the table sum to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_header) == 36, "ACPI SDT header");

/* The RSDP, 1.0 part then the 2.0 extension. */
struct acpi_rsdp {
	char signature[8];		/* "RSD PTR " */
	uint8_t checksum;		/* first 20 bytes */
	char oem_id[6];
	uint8_t revision;		/* 0: ACPI 1.0, 2: 2.0 and later */
	uint32_t rsdt_address;
	uint32_t length;		/* 2.0: of the whole RSDP */
	uint64_t xsdt_address;
	uint8_t extended_checksum;	/* 2.0: all `length` bytes */
	uint8_t reserved[3];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_rsdp) == 36, "ACPI 2.0 RSDP");

/* Where the root table is and how wide its entries are. */
struct acpi_root {
	uint64_t address;
	unsigned entry_size;		/* 4: RSDT, 8: XSDT */
};

/* --- pure checks (host-tested) --- */
/* => 0 with *root set, or -1 with *why: the RSDP at p, `avail` bytes readable. */
int acpi_rsdp_check(const void *p, size_t avail, struct acpi_root *root, const char **why);
/* => 0, or -1 with *why: a table of `avail` readable bytes with signature
 * sig (NULL: any) whose length fits and whose checksum holds. */
int acpi_table_check(const void *p, size_t avail, const char *sig, const char **why);
uint8_t acpi_sum(const void *p, size_t n);

/*
 * The MADT (signature "APIC"): the CPUs' local APICs and the I/O APICs,
 * and how the 16 ISA interrupts reach the I/O APICs' inputs (GSIs).  The
 * parser (madt.c, host-tested) reads a table that passed
 * acpi_table_check() and refuses, with the reason, anything that would
 * make Ferry start a CPU that is not there or route an interrupt wrongly:
 * an entry running past the table or shorter than its type, an enabled
 * CPU with an APIC id out of xAPIC range (255 is the broadcast id;
 * x2APIC-only ids cannot be addressed in xAPIC mode) or listed twice, an
 * I/O APIC at a misaligned address, an override of a non-ISA source or
 * with a reserved polarity or trigger.  Disabled CPU entries (hot-plug
 * slots) are counted and skipped; enabled CPUs past MADT_CPUS_MAX too.
 */
#define MADT_CPUS_MAX		8
#define MADT_IOAPICS_MAX	4
#define MADT_ISA_IRQS		16
#define MADT_APIC_ID_MAX	254
#define MADT_NO_GSI		0xFFFFFFFFu	/* an ISA IRQ whose input another took */

struct madt_irq_route {
	uint32_t gsi;			/* the I/O APIC input it arrives on */
	bool active_low, level;		/* ISA default: active high, edge */
	bool overridden;
};

struct madt_ioapic {
	uint8_t id;
	uint32_t address;
	uint32_t gsi_base;
};

struct madt_info {
	uint64_t lapic_address;
	bool pcat_compat;		/* 8259 PICs present too: mask them */
	int ncpus;			/* enabled CPUs, in table order */
	uint8_t cpu_apic_id[MADT_CPUS_MAX];
	int cpus_disabled;		/* entries not enabled (not started) */
	int cpus_beyond_max;		/* enabled, but past MADT_CPUS_MAX */
	int nioapics;
	struct madt_ioapic ioapic[MADT_IOAPICS_MAX];
	struct madt_irq_route isa[MADT_ISA_IRQS];	/* identity unless overridden */
};

/* => 0 with *out filled, or -1 with the reason (naming the entry) in
 * why[whylen]: the MADT at p, `len` bytes (its checked length). */
int acpi_madt_parse(const void *p, size_t len, struct madt_info *out, char *why, size_t whylen);
/* --- the DMAR table (Intel VT-d), parsed: pure, host-tested (dmar.c) --- */
#define DMAR_UNITS_MAX		4
#define DMAR_RMRR_MAX		4
/* QEMU's q35 lists every PCI function of the bus as a scope of its one
 * unit (no catch-all flag): 8 already with the default devices and the
 * IOAPIC, one more for each -device (an NVMe controller, a second disk). */
#define DMAR_SCOPES_MAX		64
#define DMAR_PATH_MAX		4	/* bridges between the start bus and the device */

enum dmar_scope_type {
	DMAR_SCOPE_ENDPOINT = 1,	/* one PCI function */
	DMAR_SCOPE_BRIDGE = 2,		/* a bridge and everything below it */
	DMAR_SCOPE_IOAPIC = 3,
	DMAR_SCOPE_HPET = 4,
	DMAR_SCOPE_NAMESPACE = 5,
};

struct dmar_scope {
	uint8_t type;			/* enum dmar_scope_type */
	uint8_t enum_id;		/* IOAPIC or HPET id */
	uint8_t start_bus;
	uint8_t npath;
	struct {
		uint8_t device, function;
	} path[DMAR_PATH_MAX];
};

/* One DMA remapping unit (DRHD). */
struct dmar_unit {
	uint64_t base;			/* its register page */
	uint16_t segment;
	bool include_all;		/* every device of the segment no other unit names */
	int nscopes;
	struct dmar_scope scope[DMAR_SCOPES_MAX];
};

/* Memory the firmware says some device keeps using (RMRR). */
struct dmar_rmrr {
	uint16_t segment;
	uint64_t base, limit;		/* limit: the last byte */
	int nscopes;
	struct dmar_scope scope[DMAR_SCOPES_MAX];
};

struct dmar_info {
	uint8_t host_address_width;	/* bits of DMA address the platform has */
	uint8_t flags;			/* bit 0: interrupt remapping, bit 1: x2APIC opt-out */
	int nunits;
	struct dmar_unit unit[DMAR_UNITS_MAX];
	int nrmrr;
	struct dmar_rmrr rmrr[DMAR_RMRR_MAX];
	int nother;			/* ATSR, RHSA, ANDD, SATC: skipped */
};

/* => 0 with *out filled, or -1 with *why: the DMAR at table, `avail` bytes
 * readable (its header already checked by acpi_table_check). */
int acpi_dmar_parse(const void *table, size_t avail, struct dmar_info *out, const char **why);

/* How a scope's path is followed through bridges: => 0 with the bridge at
 * bus:devfn's secondary and subordinate bus numbers, -1 if it is no bridge. */
struct dmar_pci_ops {
	int (*bridge_buses)(void *ctx, uint8_t bus, uint8_t devfn, uint8_t *secondary,
			    uint8_t *subordinate);
	void *ctx;
};

/* The unit that translates the PCI function segment:bus:devfn: the one
 * whose scope names it (or a bridge above it), else its segment's
 * catch-all unit.  => the unit's index, or -1 if no unit covers it. */
int acpi_dmar_unit_for(const struct dmar_info *d, uint16_t segment, uint8_t bus, uint8_t devfn,
		       const struct dmar_pci_ops *pci);

/* --- the boot's tables --- */
struct boot_info;
void acpi_init(const struct boot_info *bi);
/* Was a root table found and checked?  (`acpi=off` on the command line: no.) */
bool acpi_present(void);
/* The first table with this signature that passed its checks; NULL if
 * there is none or it failed (the reason logged, once per signature). */
const struct acpi_header *acpi_table(const char *sig);

/* For the debug console: table i of the list. */
struct acpi_table_view {
	char signature[5];
	uint64_t address;
	uint32_t length;
	const char *problem;		/* NULL if it passed */
};
bool acpi_table_view(int i, struct acpi_table_view *v);

#endif
