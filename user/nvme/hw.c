// SPDX-License-Identifier: MIT
/*
 * The machine under nvme's engine: the controller's registers, mapped by
 * the kernel from BAR0 (sys_mmio_map: uncached, only for a driver the boot
 * configuration binds to class 01:08:02, MSI-X pages held back), DMA
 * memory, PCI configuration space through the kernel, the interrupt as
 * messages on a private port, the clock.
 *
 * Registers are read and written 32 bits at a time (a 64-bit register is
 * two accesses, low half first), as the specification allows every
 * controller.
 *
 * Interrupts come as MSG_OP_IRQ messages on one private port, arg[0]
 * naming the IRQ.  With MSI-X (sys_msi_attach: the kernel writes the
 * table entry, aimed at the queue's CPU) each I/O queue has its own; a
 * message is an edge the kernel holds back until the previous one is
 * acknowledged.  INTx is level-triggered: the kernel masks the line when
 * it sends MSG_OP_IRQ and unmasks it at sys_irq_ack, which comes after the
 * completion doorbell has lowered the line (nvme_irq_done), so one
 * interrupt is one message either way.  A message for another queue's
 * IRQ than the one waited for (none is in flight there: one request at a
 * time) is acknowledged and dropped.
 */
#include <ferry/costmark.h>
#include <ferry/sys.h>
#include <pci.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nvme.h"

#define IRQ_QUEUE	8
#define PCI_ID		0x00
#define PCI_COMMAND	0x04
#define PCI_STATUS	0x06
#define PCI_STATUS_CAPS	0x0010
#define PCI_CAPS	0x34
#define PCI_CAP_MSIX	0x11
#define PCI_CLASS	0x08
#define PCI_IRQ_LINE	0x3C
#define PCI_CMD_MEMORY	0x0002
#define PCI_CMD_MASTER	0x0004
#define PCI_CLASS_NVME	0x010802	/* mass storage, NVM, NVM Express */
#define BAR_MIN		0x2000		/* registers and the first doorbells */

static volatile uint8_t *regs;
static long irq_port = -1;
static uint64_t irqs_mine[4];	/* the IRQ numbers attached (bit per number) */

uint32_t nvme_read32(uint32_t reg)
{
	return *(volatile uint32_t *)(regs + reg);
}

uint64_t nvme_read64(uint32_t reg)
{
	uint64_t lo = nvme_read32(reg);

	return lo | (uint64_t)nvme_read32(reg + 4) << 32;
}

void nvme_write32(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(regs + reg) = v;
}

void nvme_write64(uint32_t reg, uint64_t v)
{
	nvme_write32(reg, (uint32_t)v);
	nvme_write32(reg + 4, (uint32_t)(v >> 32));
}

uint64_t nvme_now_ns(void)
{
	return (uint64_t)sys_clock_ns();
}

void nvme_sleep_ns(uint64_t ns)
{
	sys_sleep((long)ns);
}

void nvme_log(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("nvme: %s\n", line);
}

void *nvme_dma_alloc(size_t len, uint64_t *dev)
{
	unsigned long addr;
	long va = sys_dma_alloc((long)len, &addr);

	if (va < 0)
		return NULL;
	*dev = addr;	/* the device's address for it, physical or not */
	return (void *)va;
}

static bool mine(long irq)
{
	return irq >= 0 && irq < 256 && (irqs_mine[irq / 64] >> (irq % 64)) & 1;
}

static long port(void)
{
	if (irq_port < 0)
		irq_port = sys_port_create(IRQ_QUEUE);
	return irq_port;
}

long nvme_hw_irq_attach(int irq)
{
	long err = port();

	if (err < 0)
		return err;
	err = sys_irq_attach(irq, irq_port);
	if (!err)
		irqs_mine[irq / 64] |= 1ULL << (irq % 64);
	return err;
}

long nvme_hw_msix_attach(uint32_t bdf, int entry, unsigned cpu)
{
	long irq = port();

	if (irq < 0)
		return irq;
	irq = sys_msi_attach(bdf, entry, cpu, irq_port);
	if (irq >= 0 && irq < 256)
		irqs_mine[irq / 64] |= 1ULL << (irq % 64);
	return irq;
}

void nvme_hw_irq_drain(void)
{
	struct msg m;

	while (irq_port >= 0 && sys_recv(irq_port, &m, 0) == 0)
		if (m.sender == 0 && m.op == MSG_OP_IRQ && mine((long)m.arg[0]))
			sys_irq_ack((long)m.arg[0]);
}

long nvme_irq_wait(int irq, uint64_t deadline_ns)
{
	for (;;) {
		uint64_t now = nvme_now_ns();
		struct msg m;
		long err;

		if (now >= deadline_ns)
			return ERR_TIMEOUT;
		memset(&m, 0, sizeof(m));
		err = sys_recv(irq_port, &m, (long)(deadline_ns - now));
		if (err == ERR_TIMEOUT)
			return ERR_TIMEOUT;
		if (err) {
			nvme_log("irq port: %s", err_str(err));
			return ERR_TIMEOUT;
		}
		/* Only the kernel sends interrupts: anything else is dropped. */
		if (m.sender != 0 || m.op != MSG_OP_IRQ || !mine((long)m.arg[0]))
			continue;
		if ((long)m.arg[0] == irq)
			return 0;
		sys_irq_ack((long)m.arg[0]);	/* another queue's: nothing waits there */
	}
}

void nvme_irq_done(int irq)
{
	sys_irq_ack(irq);
}

unsigned nvme_cpu(void)
{
	long cpu = sys_cpu_self();

	return cpu < 0 ? 0 : (unsigned)cpu;
}

/* --- PCI --- */

/* The MSI-X table's size from the capability list, 0 without one (only a
 * hint: the kernel checks the capability itself at sys_msi_attach). */
static uint16_t msix_entries(uint32_t bdf)
{
	uint8_t at;

	if (!(pci_config_read(bdf, PCI_STATUS, 2) & PCI_STATUS_CAPS))
		return 0;
	at = (uint8_t)pci_config_read(bdf, PCI_CAPS, 1) & 0xFC;
	for (int n = 0; at >= 0x40 && n < 48; n++) {
		if (pci_config_read(bdf, at, 1) == PCI_CAP_MSIX)
			return (uint16_t)((pci_config_read(bdf, at + 2, 2) & 0x7FF) + 1);
		at = (uint8_t)pci_config_read(bdf, at + 1, 1) & 0xFC;
	}
	return 0;
}

static long take(uint32_t bdf, struct nvme_pci *out)
{
	uint32_t id = pci_config_read(bdf, PCI_ID, 4);
	unsigned long len = 0;
	long va;

	*out = (struct nvme_pci){ .bdf = bdf, .vendor = (uint16_t)id, .device = (uint16_t)(id >> 16),
				  .irq_line = (uint8_t)pci_config_read(bdf, PCI_IRQ_LINE, 1),
				  .msix_entries = msix_entries(bdf) };
	va = sys_mmio_map(bdf, 0, &len);
	if (va < 0)
		return va;
	if (len < BAR_MIN)
		return ERR_NOSYS;
	regs = (volatile uint8_t *)va;
	sys_pci_write(bdf, PCI_COMMAND, 2,
		      pci_config_read(bdf, PCI_COMMAND, 2) | PCI_CMD_MEMORY | PCI_CMD_MASTER);
	return 0;
}

/* The controller by its class, wherever it sits (pci.h). */
long nvme_pci_find(struct nvme_pci *out)
{
	long bdf = pci_find_class(PCI_CLASS_NVME, 24);

	if (bdf < 0)
		return bdf;
	return take((uint32_t)bdf, out);
}

void nvme_dma_landed(const uint8_t *virt, uint32_t bytes)
{
	uintptr_t page = (uintptr_t)virt & ~(uintptr_t)(NVME_PAGE - 1);

	for (; page < (uintptr_t)virt + bytes; page += NVME_PAGE)
		cost_dma_written((const void *)page);
}

void nvme_quiet(void)
{
	sys_vm_ctl(VM_CTL_DMA_QUIET, 0, NULL);
}
