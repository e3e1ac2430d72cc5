// SPDX-License-Identifier: MIT
#include "irq.h"

#include <ferry/err.h>
#include <ferry/msg.h>

#include "arch/arch.h"
#include "clock.h"
#include "console.h"
#include "ipc/port.h"
#include "pci.h"
#include "proc/proc.h"

struct irq_route {
	struct proc *owner;
	uint64_t port;
	uint64_t count;
	bool in_flight;		/* message sent, ack not yet received */
};

static struct irq_route routes[IRQ_LINES];

uint64_t irq_count(unsigned irq)
{
	return irq < IRQ_LINES ? routes[irq].count : 0;
}

static void deliver_to_driver(unsigned irq)
{
	struct irq_route *r = &routes[irq];
	struct msg m = { .op = MSG_OP_IRQ, .arg = { irq } };

	if (!r->owner)
		return;		/* nobody attached: the line stays masked */
	if (ipc_kernel_send(r->port, &m) == 0)
		r->in_flight = true;
	/* On a full queue the line stays masked; the driver's next ack
	 * unmasks it and the device, still asserting, interrupts again. */
}

void irq_tick(void)
{
	this_cpu()->ticks++;
	if (this_cpu()->id == 0)
		clock_tick();
	sched_tick();
}

void irq_handle(unsigned irq)
{
	routes[irq].count++;
	switch (irq) {
	case IRQ_TIMER:		/* the PIT: only with the 8259s */
		irq_tick();
		arch_irq_unmask(irq);
		break;
	case IRQ_COM1:
		console_input_irq();
		arch_irq_unmask(irq);
		break;
	default:
		deliver_to_driver(irq);
	}
}

long irq_attach(struct proc *p, long irq, uint64_t port)
{
	if (irq < 0 || irq >= IRQ_LINES)
		return ERR_INVAL;
	if (!(p->config->irqs & (1u << irq)) && !pci_irq_bound(p, (unsigned)irq))
		return ERR_PERM;
	if (!port_owned_by(port, p))
		return ERR_BADHANDLE;
	if (routes[irq].owner && routes[irq].owner != p)
		return ERR_BUSY;
	routes[irq] = (struct irq_route){ .owner = p, .port = port };
	arch_irq_unmask((unsigned)irq);
	return 0;
}

long irq_ack(struct proc *p, long irq)
{
	if (irq < 0 || irq >= IRQ_LINES || routes[irq].owner != p)
		return ERR_PERM;
	routes[irq].in_flight = false;
	arch_irq_unmask((unsigned)irq);
	return 0;
}

void irq_release_all(struct proc *p)
{
	for (unsigned i = 0; i < IRQ_LINES; i++) {
		if (routes[i].owner == p) {
			arch_irq_mask(i);
			routes[i] = (struct irq_route){ 0 };
		}
	}
}
