// SPDX-License-Identifier: MIT
#include "irq.h"

#include <ferry/err.h>
#include <ferry/msg.h>

#include "arch/arch.h"
#include "clock.h"
#include "console.h"
#include "ipc/port.h"
#include "msi.h"
#include "panic.h"
#include "pci.h"
#include "proc/proc.h"

_Static_assert(IRQ_LINES == IRQ_LINES_ISA, "msi.h counts message IRQs past the ISA lines");

struct irq_route {
	struct proc *owner;
	uint64_t port;
	void (*kernel_fn)(void);	/* a message IRQ the kernel handles itself */
	uint64_t count;
	bool in_flight;		/* message sent, ack not yet received */
	bool pending;		/* a message IRQ came while in flight */
};

static struct irq_route routes[IRQ_MAX];

static bool is_message(unsigned irq)
{
	return irq >= IRQ_LINES && irq < IRQ_MAX;
}

uint64_t irq_count(unsigned irq)
{
	return irq < IRQ_MAX ? routes[irq].count : 0;
}

bool irq_route_view(unsigned irq, struct irq_route_view *v)
{
	const struct irq_route *r;

	if (irq >= IRQ_MAX)
		return false;
	r = &routes[irq];
	*v = (struct irq_route_view){ .owner = r->owner, .count = r->count,
				      .in_flight = r->in_flight, .pending = r->pending,
				      .kernel = r->kernel_fn != NULL };
	return r->owner || r->kernel_fn || r->count;
}

static void deliver_to_driver(unsigned irq)
{
	struct irq_route *r = &routes[irq];
	struct msg m = { .op = MSG_OP_IRQ, .arg = { irq } };

	if (!r->owner)
		return;		/* nobody attached: the line stays masked */
	if (r->in_flight && is_message(irq)) {
		r->pending = true;	/* an edge: sent at the ack */
		return;
	}
	if (ipc_kernel_send(r->port, &m) == 0) {
		r->in_flight = true;
		r->pending = false;
	} else if (is_message(irq)) {
		r->pending = true;	/* nothing re-raises an edge: retried at the ack */
	}
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
	if (irq >= IRQ_MAX)
		return;
	routes[irq].count++;
	if (routes[irq].kernel_fn) {
		this_cpu()->irqs_message_kernel++;
		routes[irq].kernel_fn();
		return;
	}
	if (is_message(irq))
		this_cpu()->irqs_message++;
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
	routes[irq] = (struct irq_route){ .owner = p, .port = port, .count = routes[irq].count };
	arch_irq_unmask((unsigned)irq);
	return 0;
}

void irq_route_message(unsigned irq, struct proc *p, uint64_t port, void (*kernel_fn)(void))
{
	KASSERT(is_message(irq));
	routes[irq] = (struct irq_route){ .owner = p, .port = port, .kernel_fn = kernel_fn };
}

long irq_ack(struct proc *p, long irq)
{
	struct irq_route *r;

	if (irq < 0 || irq >= IRQ_MAX || routes[irq].owner != p)
		return ERR_PERM;
	r = &routes[irq];
	r->in_flight = false;
	if (!is_message((unsigned)irq))
		arch_irq_unmask((unsigned)irq);
	else if (r->pending)
		deliver_to_driver((unsigned)irq);
	return 0;
}

void irq_release_all(struct proc *p)
{
	for (unsigned i = 0; i < IRQ_MAX; i++) {
		if (routes[i].owner != p)
			continue;
		if (is_message(i))
			msi_release((int)i);
		else
			arch_irq_mask(i);
		routes[i] = (struct irq_route){ .count = routes[i].count };
	}
}
