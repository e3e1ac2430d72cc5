// SPDX-License-Identifier: MIT
/*
 * The machine under ata's command engine: x86 port I/O (the kernel opens
 * only the ranges the boot configuration names, through the TSS bitmap;
 * anything else faults), IRQs as messages from the kernel on a private
 * port, the clock, and PCI configuration space through the kernel.
 *
 * IRQs: the kernel masks the line when it sends MSG_OP_IRQ and unmasks it
 * at sys_irq_ack.  The line is edge-triggered (PIC), and the drive holds
 * INTRQ until its status register is read, so acknowledging before that
 * read loses nothing: the next interrupt is a new edge.
 */
#include <ferry/costmark.h>
#include <ferry/sys.h>
#include <pci.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ata.h"

#define IRQ_QUEUE	8

/* PCI configuration space */
#define PCI_ID		0x00
#define PCI_COMMAND	0x04
#define PCI_CLASS	0x08	/* class << 24 | subclass << 16 | prog-if << 8 | revision */
#define PCI_BAR0	0x10
#define PCI_IRQ_LINE	0x3C
#define PCI_CMD_IO	0x0001
#define PCI_CMD_MASTER	0x0004
#define PCI_CLASS_IDE	0x0101

static long irq_port = -1;
static uint64_t clock_seen;	/* the last ata_now_ns(): ata_irq_wait's first wait */

uint8_t ata_inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %w1, %b0" : "=a"(v) : "Nd"(port));
	return v;
}

void ata_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %b0, %w1" : : "a"(v), "Nd"(port));
}

void ata_outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %w1" : : "a"(v), "Nd"(port));
}

void ata_dma_landed(const uint8_t *virt, uint32_t bytes)
{
	uintptr_t page = (uintptr_t)virt & ~(uintptr_t)(ATA_PAGE - 1);

	for (; page < (uintptr_t)virt + bytes; page += ATA_PAGE)
		cost_dma_written((const void *)page);
}

void ata_insw(uint16_t port, void *buf, size_t words)
{
	__asm__ volatile("rep insw" : "+D"(buf), "+c"(words) : "d"(port) : "memory");
}

void ata_outsw(uint16_t port, const void *buf, size_t words)
{
	__asm__ volatile("rep outsw" : "+S"(buf), "+c"(words) : "d"(port) : "memory");
}

uint64_t ata_now_ns(void)
{
	return clock_seen = (uint64_t)sys_clock_ns();
}

void ata_sleep_ns(uint64_t ns)
{
	sys_sleep((long)ns);
}

void ata_log(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("ata: %s\n", line);
}

long ata_hw_init(void)
{
	irq_port = sys_port_create(IRQ_QUEUE);
	return irq_port < 0 ? irq_port : 0;
}

long ata_hw_attach(int irq)
{
	return sys_irq_attach(irq, irq_port);
}

/* One message from the IRQ port; => the IRQ number, or an error.  Only the
 * kernel (sender 0) sends IRQs: anything else on this port is dropped. */
static long take_irq(long timeout_ns)
{
	struct msg m;
	long err;

	memset(&m, 0, sizeof(m));
	err = sys_recv(irq_port, &m, timeout_ns);
	if (err)
		return err;
	if (m.sender != 0 || m.op != MSG_OP_IRQ)
		return ERR_AGAIN;
	sys_irq_ack((long)m.arg[0]);
	return (long)m.arg[0];
}

/*
 * The first wait counts from the last clock read, which the command engine
 * made a few microseconds ago to set this deadline: the wait may end that
 * much after the deadline, which no 10 ms to 2 s deadline notices, and a
 * command makes one system call less.
 */
long ata_irq_wait(int irq, uint64_t deadline_ns)
{
	for (uint64_t now = clock_seen;; now = ata_now_ns()) {
		long got;

		if (now >= deadline_ns)
			return ERR_TIMEOUT;
		got = take_irq((long)(deadline_ns - now));
		if (got == irq)
			return 0;
		if (got == ERR_TIMEOUT)
			return ERR_TIMEOUT;
		if (got < 0 && got != ERR_AGAIN) {
			ata_log("irq port: %s", err_str(got));
			return ERR_TIMEOUT;
		}
		/* Another line's (stale) IRQ, or a forged message: wait on. */
	}
}

void ata_irq_drain(int irq)
{
	long got;

	(void)irq;
	if (irq_port < 0)
		return;
	do
		got = take_irq(0);
	while (got >= 0 || got == ERR_AGAIN);
}

/* --- PCI --- */

static void fill_pci(struct ata_pci *out, uint32_t bdf)
{
	uint32_t id = pci_config_read(bdf, PCI_ID, 4);
	uint16_t cmd;

	memset(out, 0, sizeof(*out));
	out->bdf = bdf;
	out->vendor = (uint16_t)id;
	out->device = (uint16_t)(id >> 16);
	out->progif = (uint8_t)(pci_config_read(bdf, PCI_CLASS, 4) >> 8);
	out->irq_line = (uint8_t)pci_config_read(bdf, PCI_IRQ_LINE, 1);
	for (int i = 0; i < 5; i++)
		out->bar[i] = pci_config_read(bdf, PCI_BAR0 + 4 * i, 4);
	cmd = (uint16_t)pci_config_read(bdf, PCI_COMMAND, 2);
	sys_pci_write(bdf, PCI_COMMAND, 2, cmd | PCI_CMD_IO | PCI_CMD_MASTER);
}

/* The controller by its class, wherever it sits (pci.h). */
long ata_pci_find(struct ata_pci *out)
{
	long bdf = pci_find_class(PCI_CLASS_IDE, 16);

	if (bdf < 0)
		return bdf;
	fill_pci(out, (uint32_t)bdf);
	return 0;
}

const struct allow_info *ata_allowance(uint64_t id)
{
	return blkserve_allowance(id);
}
