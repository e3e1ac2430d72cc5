/* SPDX-License-Identifier: MIT */
/* kernel/acpi/madt.c: QEMU-like MADTs parse; every broken one is refused with its reason. */
#include "htest.h"
#include "lib_string_shim.h"

#include <stdint.h>

#include "../../kernel/acpi/madt.c"

struct table {
	uint8_t b[512];
	size_t len;
};

static void begin(struct table *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, "APIC", 4);
	t->len = 44;
	uint32_t lapic = 0xFEE00000, flags = 1;
	memcpy(t->b + 36, &lapic, 4);
	memcpy(t->b + 40, &flags, 4);
}

static uint8_t *entry(struct table *t, uint8_t type, uint8_t len)
{
	uint8_t *e = t->b + t->len;

	e[0] = type;
	e[1] = len;
	t->len += len;
	return e;
}

static void lapic(struct table *t, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	uint8_t *e = entry(t, 0, 8);

	e[2] = uid;
	e[3] = apic_id;
	memcpy(e + 4, &flags, 4);
}

static void ioapic(struct table *t, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
	uint8_t *e = entry(t, 1, 12);

	e[2] = id;
	memcpy(e + 4, &addr, 4);
	memcpy(e + 8, &gsi_base, 4);
}

static void override(struct table *t, uint8_t bus, uint8_t source, uint32_t gsi, uint16_t flags)
{
	uint8_t *e = entry(t, 2, 10);

	e[2] = bus;
	e[3] = source;
	memcpy(e + 4, &gsi, 4);
	memcpy(e + 8, &flags, 2);
}

/* What QEMU's pc machine builds for -smp 2. */
static void qemu_pc(struct table *t, int ncpus)
{
	begin(t);
	for (int i = 0; i < ncpus; i++)
		lapic(t, (uint8_t)i, (uint8_t)i, 1);
	ioapic(t, 0, 0xFEC00000, 0);
	override(t, 0, 0, 2, 0);
	override(t, 0, 5, 5, 0xd);
	override(t, 0, 9, 9, 0xd);
	override(t, 0, 10, 10, 0xd);
	override(t, 0, 11, 11, 0xd);
	entry(t, 4, 6)[2] = 0xff;	/* local APIC NMI: ignored */
}

static int parse(struct table *t, struct madt_info *m, char *why)
{
	return acpi_madt_parse(t->b, t->len, m, why, 128);
}

HTEST(qemu_pc_table)
{
	struct table t;
	struct madt_info m;
	char why[128];

	qemu_pc(&t, 2);
	HCHECK_EQ(parse(&t, &m, why), 0);
	HCHECK_EQ(m.ncpus, 2);
	HCHECK_EQ(m.cpu_apic_id[0], 0);
	HCHECK_EQ(m.cpu_apic_id[1], 1);
	HCHECK_EQ(m.lapic_address, 0xFEE00000);
	HCHECK(m.pcat_compat);
	HCHECK_EQ(m.nioapics, 1);
	HCHECK_EQ(m.ioapic[0].address, 0xFEC00000);
	HCHECK_EQ(m.isa[0].gsi, 2);		/* the PIT's IRQ 0 arrives on input 2 */
	HCHECK_EQ(m.isa[2].gsi, MADT_NO_GSI);	/* ... which IRQ 2 therefore lost */
	HCHECK(!m.isa[0].level && !m.isa[0].active_low);
	HCHECK_EQ(m.isa[9].gsi, 9);
	HCHECK(m.isa[9].level && !m.isa[9].active_low);
	HCHECK_EQ(m.isa[14].gsi, 14);		/* not overridden: identity, edge */
	HCHECK(!m.isa[14].level && !m.isa[14].overridden);
}

HTEST(disabled_and_surplus_cpus_skipped)
{
	struct table t;
	struct madt_info m;
	char why[128];

	begin(&t);
	lapic(&t, 0, 0, 1);
	lapic(&t, 1, 1, 0);	/* a hot-plug slot */
	lapic(&t, 2, 1, 2);	/* online-capable, not enabled: the same id is no duplicate */
	for (int i = 2; i < 12; i++)
		lapic(&t, (uint8_t)i, (uint8_t)(i * 2), 1);
	ioapic(&t, 0, 0xFEC00000, 0);
	HCHECK_EQ(parse(&t, &m, why), 0);
	HCHECK_EQ(m.ncpus, MADT_CPUS_MAX);
	HCHECK_EQ(m.cpus_disabled, 2);
	HCHECK_EQ(m.cpus_beyond_max, 11 - MADT_CPUS_MAX);
	HCHECK_EQ(m.cpu_apic_id[1], 4);
}

HTEST(apic_id_out_of_range_refused)
{
	struct table t;
	struct madt_info m;
	char why[128];
	uint8_t *e;
	uint32_t id = 300, flags = 1;

	qemu_pc(&t, 1);
	lapic(&t, 1, 0xff, 1);
	HCHECK(parse(&t, &m, why) < 0);
	HCHECK(strstr(why, "APIC id 255 out of range") != NULL);
	HCHECK(strstr(why, "entry 8") != NULL);
	qemu_pc(&t, 1);
	e = entry(&t, 9, 16);
	memcpy(e + 4, &id, 4);
	memcpy(e + 8, &flags, 4);
	HCHECK(parse(&t, &m, why) < 0);
	HCHECK(strstr(why, "x2APIC APIC id 300") != NULL);
}

HTEST(duplicate_apic_id_refused)
{
	struct table t;
	struct madt_info m;
	char why[128];

	qemu_pc(&t, 2);
	lapic(&t, 7, 1, 1);
	HCHECK(parse(&t, &m, why) < 0);
	HCHECK(strstr(why, "APIC id 1 listed twice") != NULL);
}

HTEST(bad_lengths_refused)
{
	struct table t;
	struct madt_info m;
	char why[128];

	qemu_pc(&t, 2);
	HCHECK(acpi_madt_parse(t.b, 40, &m, why, sizeof(why)) < 0);
	HCHECK(strstr(why, "shorter than the MADT's fixed fields") != NULL);
	qemu_pc(&t, 2);
	t.b[t.len - 6 + 1] = 60;	/* the last entry claims more than there is */
	HCHECK(parse(&t, &m, why) < 0);
	HCHECK(strstr(why, "runs past the table's end") != NULL);
	qemu_pc(&t, 2);
	t.b[44 + 1] = 0;		/* a zero-length entry would loop forever */
	HCHECK(parse(&t, &m, why) < 0);
	qemu_pc(&t, 2);
	entry(&t, 1, 8);		/* an I/O APIC entry of 8 bytes */
	HCHECK(parse(&t, &m, why) < 0);
	HCHECK(strstr(why, "shorter than its 12 bytes") != NULL);
	qemu_pc(&t, 2);
	t.len++;			/* one stray byte at the end */
	HCHECK(parse(&t, &m, why) < 0);
	HCHECK(strstr(why, "partial entry") != NULL);
}

HTEST(bad_routes_refused)
{
	struct table t;
	struct madt_info m;
	char why[128];

	qemu_pc(&t, 1);
	override(&t, 1, 3, 3, 0);
	HCHECK(parse(&t, &m, why) < 0);
	HCHECK(strstr(why, "bus 1") != NULL);
	qemu_pc(&t, 1);
	override(&t, 0, 16, 16, 0);
	HCHECK(parse(&t, &m, why) < 0);
	qemu_pc(&t, 1);
	override(&t, 0, 3, 3, 0x2);	/* reserved polarity */
	HCHECK(parse(&t, &m, why) < 0);
	HCHECK(strstr(why, "reserved flags") != NULL);
	qemu_pc(&t, 1);
	override(&t, 0, 0, 2, 0);	/* IRQ 0 again */
	HCHECK(parse(&t, &m, why) < 0);
	HCHECK(strstr(why, "overridden twice") != NULL);
	qemu_pc(&t, 1);
	ioapic(&t, 1, 0xFEC00008, 24);
	HCHECK(parse(&t, &m, why) < 0);
	HCHECK(strstr(why, "misaligned") != NULL);
	qemu_pc(&t, 1);
	ioapic(&t, 1, 0xFEC00000, 24);
	HCHECK(parse(&t, &m, why) < 0);
	HCHECK(strstr(why, "overlaps") != NULL);
}

HTEST(no_enabled_cpu_refused)
{
	struct table t;
	struct madt_info m;
	char why[128];

	begin(&t);
	lapic(&t, 0, 0, 0);
	ioapic(&t, 0, 0xFEC00000, 0);
	HCHECK(parse(&t, &m, why) < 0);
	HCHECK(strstr(why, "no enabled CPU") != NULL);
}

HTEST(lapic_address_override)
{
	struct table t;
	struct madt_info m;
	char why[128];
	uint8_t *e;
	uint64_t a = 0xFED00000;

	qemu_pc(&t, 1);
	e = entry(&t, 5, 12);
	memcpy(e + 4, &a, 8);
	HCHECK_EQ(parse(&t, &m, why), 0);
	HCHECK_EQ(m.lapic_address, 0xFED00000);
}
