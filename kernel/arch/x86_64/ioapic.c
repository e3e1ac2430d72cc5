// SPDX-License-Identifier: MIT
/*
 * The I/O APICs: each has a window of two registers (select, data) and a
 * redirection entry per input.  Ferry routes the 16 ISA IRQs, each to the
 * input the MADT's overrides name (ISA IRQ 0, the PIT, is input 2 on
 * QEMU) with the override's polarity and trigger, as vector
 * VEC_IRQ_BASE + IRQ, fixed delivery to the boot CPU's APIC id.  Every
 * input starts masked; arch_irq_unmask() opens one line at a time, as the
 * 8259 code does, so the generic mask-until-ack model (irq.h) holds.
 * Inputs no ISA IRQ uses stay masked.
 */
#include "../../acpi/acpi.h"
#include "../../log.h"
#include "../arch.h"
#include "trap.h"

#define IOREGSEL		0x00
#define IOWIN			0x10
#define REG_VERSION		0x01
#define REG_RTE(n)		(0x10 + 2 * (n))

#define RTE_ACTIVE_LOW		(1u << 13)
#define RTE_LEVEL		(1u << 15)
#define RTE_MASKED		(1u << 16)

struct ioapic {
	volatile uint32_t *regs;
	uint32_t gsi_base, inputs;
};

static struct ioapic ioapics[MADT_IOAPICS_MAX];
static int nioapics;

struct line {
	struct ioapic *chip;		/* NULL: this ISA IRQ cannot be routed */
	uint32_t pin, gsi, low;		/* low: the entry's bits 0-31 but the mask */
};

static struct line lines[NUM_IRQS];

static uint32_t rd(struct ioapic *io, uint32_t reg)
{
	io->regs[IOREGSEL / 4] = reg;
	return io->regs[IOWIN / 4];
}

static void wr(struct ioapic *io, uint32_t reg, uint32_t v)
{
	io->regs[IOREGSEL / 4] = reg;
	io->regs[IOWIN / 4] = v;
}

static struct ioapic *chip_for(uint32_t gsi)
{
	for (int i = 0; i < nioapics; i++)
		if (gsi >= ioapics[i].gsi_base && gsi < ioapics[i].gsi_base + ioapics[i].inputs)
			return &ioapics[i];
	return NULL;
}

static bool map_chips(const struct madt_info *m, const char **why)
{
	for (int i = 0; i < m->nioapics; i++) {
		struct ioapic *io = &ioapics[i];

		io->regs = arch_map_phys(m->ioapic[i].address, PAGE_SIZE,
					 VM_READ | VM_WRITE | VM_UNCACHED);
		*why = "cannot map an I/O APIC's registers";
		if (!io->regs)
			return false;
		io->gsi_base = m->ioapic[i].gsi_base;
		io->inputs = ((rd(io, REG_VERSION) >> 16) & 0xFF) + 1;
		for (uint32_t pin = 0; pin < io->inputs; pin++)
			wr(io, REG_RTE(pin), RTE_MASKED);
		nioapics++;
	}
	*why = "the MADT lists no I/O APIC";
	return nioapics > 0;
}

/* => false (with *why) when no line can be routed: then the PIC stays. */
bool ioapic_init(const struct madt_info *m, uint32_t dest_apic_id, const char **why)
{
	if (!map_chips(m, why))
		return false;
	for (unsigned irq = 0; irq < NUM_IRQS; irq++) {
		const struct madt_irq_route *r = &m->isa[irq];
		struct line *l = &lines[irq];

		if (r->gsi == MADT_NO_GSI)
			continue;	/* its input serves another IRQ */
		l->chip = chip_for(r->gsi);
		if (!l->chip) {
			log_warn("ioapic: ISA IRQ %u (input %u) is on no I/O APIC: it stays off", irq,
				 r->gsi);
			continue;
		}
		l->gsi = r->gsi;
		l->pin = r->gsi - l->chip->gsi_base;
		l->low = (VEC_IRQ_BASE + irq) | (r->active_low ? RTE_ACTIVE_LOW : 0) |
			 (r->level ? RTE_LEVEL : 0);
		wr(l->chip, REG_RTE(l->pin) + 1, dest_apic_id << 24);
		wr(l->chip, REG_RTE(l->pin), l->low | RTE_MASKED);
	}
	return true;
}

void ioapic_mask(unsigned irq)
{
	struct line *l = &lines[irq];

	if (irq < NUM_IRQS && l->chip)
		wr(l->chip, REG_RTE(l->pin), l->low | RTE_MASKED);
}

void ioapic_unmask(unsigned irq)
{
	struct line *l = &lines[irq];

	if (irq < NUM_IRQS && l->chip)
		wr(l->chip, REG_RTE(l->pin), l->low);
}

bool ioapic_routed(unsigned irq, uint32_t *gsi)
{
	if (irq >= NUM_IRQS || !lines[irq].chip)
		return false;
	*gsi = lines[irq].gsi;
	return true;
}
