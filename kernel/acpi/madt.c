// SPDX-License-Identifier: MIT
/*
 * The MADT parser (the rules are in acpi.h): pure code over the table's
 * bytes, so tests/host/test_madt.c can hand it every kind of broken table.
 * Entries are read with memcpy: the MADT packs them without alignment.
 */
#include <fmt.h>
#include <string.h>

#include "acpi.h"

#define MADT_FIXED_LEN		44	/* header, local APIC address, flags */
#define MADT_PCAT_COMPAT	0x1

enum madt_type {
	MADT_LAPIC = 0,
	MADT_IOAPIC = 1,
	MADT_OVERRIDE = 2,
	MADT_LAPIC_ADDRESS = 5,
	MADT_X2APIC = 9,
};

#define LAPIC_ENABLED		0x1
#define POLARITY(f)		((f) & 3)	/* 0 bus default, 1 high, 3 low */
#define TRIGGER(f)		(((f) >> 2) & 3)	/* 0 bus default, 1 edge, 3 level */
#define FLAG_RESERVED		2

static const uint8_t min_len[] = {
	[MADT_LAPIC] = 8, [MADT_IOAPIC] = 12, [MADT_OVERRIDE] = 10,
	[MADT_LAPIC_ADDRESS] = 12, [MADT_X2APIC] = 16,
};

struct parse {
	struct madt_info *out;
	char *why;
	size_t whylen;
	int entry;			/* index of the entry being read */
};

__attribute__((format(printf, 2, 3))) static int refuse(struct parse *ps, const char *fmt, ...)
{
	va_list ap;
	int n = ps->entry < 0 ? 0 : snprintf(ps->why, ps->whylen, "entry %d: ", ps->entry);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < ps->whylen)
		vsnprintf(ps->why + n, ps->whylen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static int add_cpu(struct parse *ps, uint32_t apic_id, uint32_t flags, const char *kind)
{
	struct madt_info *o = ps->out;

	if (!(flags & LAPIC_ENABLED)) {
		o->cpus_disabled++;
		return 0;
	}
	if (apic_id > MADT_APIC_ID_MAX)
		return refuse(ps, "%s APIC id %u out of range (xAPIC ids are 0..%d)", kind, apic_id,
			      MADT_APIC_ID_MAX);
	for (int i = 0; i < o->ncpus; i++)
		if (o->cpu_apic_id[i] == apic_id)
			return refuse(ps, "APIC id %u listed twice", apic_id);
	if (o->ncpus == MADT_CPUS_MAX) {
		o->cpus_beyond_max++;
		return 0;
	}
	o->cpu_apic_id[o->ncpus++] = (uint8_t)apic_id;
	return 0;
}

static int add_ioapic(struct parse *ps, const uint8_t *e)
{
	struct madt_info *o = ps->out;
	struct madt_ioapic io = { .id = e[2], .address = le32(e + 4), .gsi_base = le32(e + 8) };

	if (io.address == 0 || (io.address & 0xF))
		return refuse(ps, "I/O APIC %u at misaligned address %#x", io.id, io.address);
	if (o->nioapics == MADT_IOAPICS_MAX)
		return refuse(ps, "more than %d I/O APICs", MADT_IOAPICS_MAX);
	for (int i = 0; i < o->nioapics; i++)
		if (o->ioapic[i].address == io.address || o->ioapic[i].gsi_base == io.gsi_base)
			return refuse(ps, "I/O APIC %u overlaps I/O APIC %u", io.id, o->ioapic[i].id);
	o->ioapic[o->nioapics++] = io;
	return 0;
}

static int add_override(struct parse *ps, const uint8_t *e)
{
	struct madt_irq_route *r;
	uint8_t bus = e[2], source = e[3];
	uint16_t flags = (uint16_t)(e[8] | e[9] << 8);

	if (bus != 0)
		return refuse(ps, "override for bus %u (only ISA, bus 0, has overrides)", bus);
	if (source >= MADT_ISA_IRQS)
		return refuse(ps, "override of ISA IRQ %u (there are %d)", source, MADT_ISA_IRQS);
	if (POLARITY(flags) == FLAG_RESERVED || TRIGGER(flags) == FLAG_RESERVED)
		return refuse(ps, "override of IRQ %u with reserved flags %#x", source, flags);
	r = &ps->out->isa[source];
	if (r->overridden)
		return refuse(ps, "ISA IRQ %u overridden twice", source);
	*r = (struct madt_irq_route){ .gsi = le32(e + 4), .active_low = POLARITY(flags) == 3,
				      .level = TRIGGER(flags) == 3, .overridden = true };
	return 0;
}

static int parse_entry(struct parse *ps, const uint8_t *e, uint8_t type)
{
	uint64_t addr;

	switch (type) {
	case MADT_LAPIC:
		return add_cpu(ps, e[3], le32(e + 4), "local");
	case MADT_X2APIC:
		return add_cpu(ps, le32(e + 4), le32(e + 8), "x2APIC");
	case MADT_IOAPIC:
		return add_ioapic(ps, e);
	case MADT_OVERRIDE:
		return add_override(ps, e);
	case MADT_LAPIC_ADDRESS:
		memcpy(&addr, e + 4, 8);
		ps->out->lapic_address = addr;
		return 0;
	default:
		return 0;	/* NMI sources and the rest: nothing Ferry uses */
	}
}

/* An override moves IRQ s to input g: ISA IRQ g (not overridden itself)
 * no longer has input g, e.g. IRQ 2, the cascade, once IRQ 0 is on input 2. */
static void unclaim_taken_inputs(struct madt_info *o)
{
	for (int i = 0; i < MADT_ISA_IRQS; i++) {
		if (o->isa[i].overridden)
			continue;
		for (int j = 0; j < MADT_ISA_IRQS; j++)
			if (j != i && o->isa[j].overridden && o->isa[j].gsi == (uint32_t)i)
				o->isa[i].gsi = MADT_NO_GSI;
	}
}

static void defaults(struct madt_info *o, const uint8_t *t)
{
	memset(o, 0, sizeof(*o));
	o->lapic_address = le32(t + 36);
	o->pcat_compat = le32(t + 40) & MADT_PCAT_COMPAT;
	for (int i = 0; i < MADT_ISA_IRQS; i++)
		o->isa[i].gsi = (uint32_t)i;
}

int acpi_madt_parse(const void *p, size_t len, struct madt_info *out, char *why, size_t whylen)
{
	const uint8_t *t = p;
	struct parse ps = { .out = out, .why = why, .whylen = whylen, .entry = -1 };
	size_t off;

	if (len < MADT_FIXED_LEN)
		return refuse(&ps, "table of %zu bytes, shorter than the MADT's fixed fields", len);
	defaults(out, t);
	for (off = MADT_FIXED_LEN, ps.entry = 0; off < len; ps.entry++) {
		uint8_t type, elen;

		if (len - off < 2)
			return refuse(&ps, "a partial entry in the table's last byte");
		type = t[off];
		elen = t[off + 1];
		if (elen < 2 || elen > len - off)
			return refuse(&ps, "type %u, length %u runs past the table's end or is too short",
				      type, elen);
		if (type < sizeof(min_len) && elen < min_len[type])
			return refuse(&ps, "type %u, length %u, shorter than its %u bytes", type, elen,
				      min_len[type]);
		if (parse_entry(&ps, t + off, type))
			return -1;
		off += elen;
	}
	ps.entry = -1;
	unclaim_taken_inputs(out);
	if (out->ncpus == 0)
		return refuse(&ps, "no enabled CPU");
	if (out->lapic_address == 0 || (out->lapic_address & 0xFFF))
		return refuse(&ps, "local APIC address %#lx misaligned", (unsigned long)out->lapic_address);
	snprintf(why, whylen, "ok");
	return 0;
}
