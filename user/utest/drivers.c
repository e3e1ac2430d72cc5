// SPDX-License-Identifier: MIT
/*
 * Driver system calls.  utest holds the pci right and none of irq, dma or
 * pin (iso/ferry.conf): the first must work, the others must be refused.
 */
#include <ferry/sys.h>

#include "utest.h"

#define HOST_BRIDGE		0	/* bus 0, device 0, function 0 */
#define IRQ_ATA_PRIMARY		14

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
