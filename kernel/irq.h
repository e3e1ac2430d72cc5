/* SPDX-License-Identifier: MIT */
/*
 * Hardware interrupts as messages.  A driver attaches a port to an IRQ line
 * it is allowed (boot configuration: irq=N, or the line of a PCI function
 * it is bound to by device=, pci.h); each interrupt masks the line and
 * sends MSG_OP_IRQ from the kernel (sender 0) to that port; the driver
 * handles the device and calls sys_irq_ack, which unmasks the line.
 * Masking until the ack means one message per interrupt, never a storm.
 */
#ifndef IRQ_H
#define IRQ_H

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

#endif
