// SPDX-License-Identifier: MIT
/*
 * The two cascaded 8259 PICs of the PC.  Remapped so IRQ 0-15 arrive at
 * vectors 32-47, clear of the CPU's exceptions.  Everything starts masked;
 * a line is unmasked only when someone (the timer, a driver's IRQ port)
 * wants it.  With a usable MADT the local and I/O APICs deliver instead
 * (intr.c) and the 8259s stay remapped and fully masked, so a stray
 * interrupt from them can never look like a CPU exception.
 */
#include "cpu.h"
#include "trap.h"

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xA0
#define PIC2_DATA	0xA1
#define PIC_EOI		0x20
#define ICW1_INIT_ICW4	0x11
#define ICW4_8086	0x01
#define CASCADE_IRQ	2

static uint16_t irq_mask = 0xFFFF;

static void pic_write_mask(void)
{
	outb(PIC1_DATA, irq_mask & 0xFF);
	outb(PIC2_DATA, irq_mask >> 8);
}

void pic_init(void)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, VEC_IRQ_BASE);
	outb(PIC2_DATA, VEC_IRQ_BASE + 8);
	outb(PIC1_DATA, 1 << CASCADE_IRQ);	/* slave on IRQ 2 */
	outb(PIC2_DATA, CASCADE_IRQ);
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	irq_mask = 0xFFFF & ~(1u << CASCADE_IRQ);
	pic_write_mask();
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, PIC_EOI);
	outb(PIC1_CMD, PIC_EOI);
}

void pic_mask(unsigned irq)
{
	irq_mask |= 1u << irq;
	pic_write_mask();
}

void pic_unmask(unsigned irq)
{
	irq_mask &= ~(1u << irq);
	pic_write_mask();
}

void pic_mask_all(void)
{
	irq_mask = 0xFFFF;
	pic_write_mask();
}

/* An IRQ 7 or 15 that the PIC's in-service register does not show is spurious. */
bool pic_spurious(unsigned irq)
{
	uint8_t isr;

	if (irq != 7 && irq != 15)
		return false;
	outb(irq == 7 ? PIC1_CMD : PIC2_CMD, 0x0B);	/* OCW3: read ISR */
	isr = inb(irq == 7 ? PIC1_CMD : PIC2_CMD);
	if (isr & 0x80)
		return false;
	if (irq == 15)
		pic_eoi(7);	/* the master did see the cascade */
	return true;
}
