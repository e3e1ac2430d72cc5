// SPDX-License-Identifier: MIT
/*
 * Which interrupt controller delivers, chosen once at boot:
 *
 *   - every CPU's local APIC plus the I/O APICs, when the MADT passed its
 *     checks (kernel/acpi), names an I/O APIC and lists the boot CPU: the
 *     tick is each CPU's APIC timer, device IRQs go to the boot CPU, and
 *     the other CPUs can be started (smp.c);
 *   - otherwise the 8259 pair and the PIT, exactly as before SMP, on one
 *     CPU, with the reason in the log (`acpi=off`, no MADT, a malformed
 *     one, no I/O APIC, ...).
 */
#include <fmt.h>

#include "../../acpi/acpi.h"
#include "../../clock.h"
#include "../../log.h"
#include "../arch.h"
#include "cpu.h"
#include "trap.h"

#define CPUID_APIC	(1u << 9)

static bool apic_mode;
static struct madt_info madt;
static char refusal[128];

bool intr_apic_mode(void)
{
	return apic_mode;
}

const struct madt_info *intr_madt(void)
{
	return apic_mode ? &madt : NULL;
}

static bool boot_cpu_listed(uint32_t id)
{
	for (int i = 0; i < madt.ncpus; i++)
		if (madt.cpu_apic_id[i] == id)
			return true;
	return false;
}

/* => NULL when the APICs can deliver, else why not. */
static const char *apic_refusal(void)
{
	const struct acpi_header *t;
	uint32_t a, b, c, d;

	if (!acpi_present())
		return "no ACPI tables";
	cpuid(1, &a, &b, &c, &d);
	if (!(d & CPUID_APIC))
		return "this CPU has no local APIC";
	t = acpi_table("APIC");
	if (!t)
		return "no usable MADT";
	if (acpi_madt_parse(t, t->length, &madt, refusal, sizeof(refusal))) {
		log_warn("acpi: MADT refused: %s", refusal);
		return "the MADT was refused";
	}
	if (!lapic_map(madt.lapic_address))
		return "cannot map the local APIC";
	if (!boot_cpu_listed(lapic_id())) {
		snprintf(refusal, sizeof(refusal), "the boot CPU's APIC id %u is not in the MADT",
			 lapic_id());
		return refusal;
	}
	return NULL;
}

static void log_routes(void)
{
	char line[160];
	size_t at = 0;
	uint32_t gsi;

	for (unsigned irq = 0; irq < NUM_IRQS; irq++)
		if (ioapic_routed(irq, &gsi) && gsi != irq)
			at += (size_t)snprintf(line + at, sizeof(line) - at, " IRQ %u -> input %u%s", irq,
					       gsi, madt.isa[irq].level ? " (level)" : "");
	line[at] = '\0';
	log_info("interrupts: local APIC (boot CPU APIC id %u, timer %u counts per tick) and %d "
		 "I/O APIC%s; %d CPU%s in the MADT%s; overrides:%s", lapic_id(), lapic_timer_count(),
		 madt.nioapics, madt.nioapics == 1 ? "" : "s", madt.ncpus, madt.ncpus == 1 ? "" : "s",
		 madt.cpus_disabled ? " (and disabled entries)" : "", at ? line : " none");
}

void arch_init_interrupts(void)
{
	const char *why, *io_why;

	pic_init();		/* remapped even when masked: no stray exception vectors */
	timer_calibrate_tsc();
	why = apic_refusal();
	if (!why && !ioapic_init(&madt, lapic_id(), &io_why))
		why = io_why;
	if (why) {
		log_info("interrupts: 8259 PIC and PIT tick, one CPU (%s)", why);
		clock_ticks_starting();
		timer_pit_start();
		return;
	}
	pic_mask_all();
	apic_mode = true;
	lapic_init_cpu();
	lapic_calibrate_timer();
	clock_ticks_starting();		/* the boot CPU's tick advances the clock's count */
	lapic_timer_start();
	log_routes();
}

void intr_eoi(unsigned irq)
{
	if (apic_mode)
		lapic_eoi();
	else
		pic_eoi(irq);
}

void arch_irq_mask(unsigned irq)
{
	if (apic_mode)
		ioapic_mask(irq);
	else
		pic_mask(irq);
}

void arch_irq_unmask(unsigned irq)
{
	if (apic_mode)
		ioapic_unmask(irq);
	else
		pic_unmask(irq);
}
