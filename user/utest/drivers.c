// SPDX-License-Identifier: MIT
/*
 * Driver system calls.  utest holds the pci right and none of irq, dma or
 * pin (iso/ferry.conf): the first must work, the others must be refused.
 */
#include <ferry/sys.h>

#include "utest.h"

#define HOST_BRIDGE		0	/* bus 0, device 0, function 0 */
#define PCI_COMMAND		0x04
#define PCI_CMD_MASTER		0x04
#define PCI_BAR4		0x20
#define PCI_IRQ_LINE		0x3C
#define IRQ_ATA_PRIMARY		14

/* The IDE controller's function on bus 0 (00:01.1 on pc, 00:03.0 on q35): ata's. */
static long ide_function(void)
{
	for (long bdf = 0; bdf < 256; bdf++)
		if (sys_pci_read((unsigned long)bdf, 0, 2) != 0xFFFF &&
		    sys_pci_read((unsigned long)bdf, 8, 4) >> 16 == 0x0101)
			return bdf;
	return ERR_NOENT;
}

/* QEMU's host bridge at 00:00.0: an Intel 440FX (pc) or Q35 MCH (q35). */
UTEST(pci_config)
{
	long id = sys_pci_read(HOST_BRIDGE, 0, 4);

	CHECK(id == 0x12378086 || id == 0x29c08086);
	CHECK_EQ(sys_pci_read(HOST_BRIDGE, 0, 2), 0x8086);
	CHECK_EQ(sys_pci_read(HOST_BRIDGE, 2, 2), id >> 16);
	/* Class 06 (bridge), subclass 00 (host), above the revision byte. */
	CHECK_EQ(sys_pci_read(HOST_BRIDGE, 8, 4) >> 8, 0x060000);
	return 0;
}

UTEST(no_rights)
{
	unsigned long phys = 0;
	long port;
	void *page;

	port = CHECK_OK(sys_port_create(4));
	CHECK_EQ(sys_irq_attach(IRQ_ATA_PRIMARY, port), ERR_PERM);
	CHECK_EQ(sys_irq_ack(IRQ_ATA_PRIMARY), ERR_PERM);
	CHECK_EQ(sys_dma_alloc(4096, &phys), ERR_PERM);
	CHECK_EQ(phys, 0);
	page = (void *)CHECK_OK(sys_mem_map(NULL, 4096, PROT_READ | PROT_WRITE));
	CHECK_EQ(sys_mem_pin(page, 4096), ERR_PERM);
	CHECK_OK(sys_mem_unmap(page, 4096));
	CHECK_OK(sys_port_destroy(port));
	return 0;
}

/*
 * The BARs and the interrupt line are the firmware's: a driver with the pci
 * right may not move a BAR (over RAM, say, and then map it) or claim
 * another line.  What it reads stays what the firmware wrote.
 */
UTEST(pci_write_guarded)
{
	long ide = CHECK_OK(ide_function());
	long bar4 = CHECK_OK(sys_pci_read(ide, PCI_BAR4, 4));
	long line = CHECK_OK(sys_pci_read(ide, PCI_IRQ_LINE, 1));

	CHECK_EQ(sys_pci_write(ide, PCI_BAR4, 4, 0x100000), ERR_PERM);
	CHECK_EQ(sys_pci_write(ide, PCI_BAR4 + 2, 2, 0x10), ERR_PERM);
	CHECK_EQ(sys_pci_write(ide, PCI_IRQ_LINE, 1, 4), ERR_PERM);
	CHECK_EQ(sys_pci_read(ide, PCI_BAR4, 4), bar4);
	CHECK_EQ(sys_pci_read(ide, PCI_IRQ_LINE, 1), line);
	return 0;
}

/* Device registers only for the functions a program is bound to (device=). */
UTEST(mmio_needs_binding)
{
	unsigned long len = 0;

	CHECK_EQ(sys_mmio_map((unsigned long)CHECK_OK(ide_function()), 4, &len), ERR_PERM);
	CHECK_EQ(sys_mmio_map(0xFF00, 0, &len), ERR_NOENT);	/* nothing on bus 255 */
	CHECK_EQ(sys_mmio_map(0x10000, 0, &len), ERR_NOENT);
	CHECK_EQ(len, 0);
	return 0;
}

/* Bus mastering, a device writing memory on its own, only for the driver
 * whose line drives the function (kernel/pci.h): utest, with the pci right
 * but driving nothing, may not switch it on for ata's controller. */
UTEST(bus_master_only_for_its_driver)
{
	long ide = CHECK_OK(ide_function());
	long cmd = CHECK_OK(sys_pci_read(ide, PCI_COMMAND, 2));

	CHECK_EQ(sys_pci_write(ide, PCI_COMMAND, 2, cmd | PCI_CMD_MASTER), ERR_PERM);
	CHECK_EQ(sys_pci_write(ide, PCI_COMMAND, 4, cmd | PCI_CMD_MASTER), ERR_PERM);
	CHECK_EQ(sys_pci_write(ide, PCI_COMMAND, 1, (cmd | PCI_CMD_MASTER) & 0xFF), ERR_PERM);
	CHECK_EQ(sys_pci_read(ide, PCI_COMMAND, 2), cmd);
	return 0;
}
