/* SPDX-License-Identifier: MIT */
/*
 * Hardware interrupts as messages.  A driver attaches a port to an IRQ line
 * it is allowed (boot configuration: irq=N, or the line of a PCI function
 * it is bound to by device=, pci.h); each interrupt masks the line and
 * sends MSG_OP_IRQ from the kernel (sender 0) to that port; the driver
 * handles the device and calls sys_irq_ack, which unmasks the line.
 * Masking until the ack means one message per interrupt, never a storm.
 *
 * Message-signalled interrupts (MSI-X, MSI: msi.h) are IRQ numbers past
 * the lines, IRQ_LINES..IRQ_MAX-1, delivered and acknowledged the same
 * way; being edges they are never masked: one that comes before the ack
 * is remembered and sent at the ack.
 */
#ifndef IRQ_H
#define IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct proc;

#define IRQ_LINES	16
#define IRQ_TIMER	0
#define IRQ_COM1	4

void irq_handle(unsigned irq);	/* from arch trap code, line already masked */
/* This CPU's timer tick (its local APIC timer, or the PIT's IRQ 0 with the
 * 8259s): the boot CPU's advances the clock; every CPU's the scheduler. */
void irq_tick(void);
long irq_attach(struct proc *p, long irq, uint64_t port);
long irq_ack(struct proc *p, long irq);
uint64_t irq_count(unsigned irq);
/* msi.c: message IRQ irq goes to p's port, or to kernel_fn (p NULL). */
void irq_route_message(unsigned irq, struct proc *p, uint64_t port, void (*kernel_fn)(void));

/* kdb: who has IRQ irq and how often it came.  => false when unused. */
struct irq_route_view {
	const struct proc *owner;
	uint64_t count;
	bool in_flight, pending, kernel;
};
bool irq_route_view(unsigned irq, struct irq_route_view *v);

#endif
