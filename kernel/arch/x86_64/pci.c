// SPDX-License-Identifier: MIT
/*
 * PCI configuration space through the legacy 0xCF8/0xCFC mechanism, done
 * by the kernel on behalf of drivers the boot configuration allows (those
 * ports are never opened to user mode: one driver could reach every device).
 */
#include "../arch.h"
#include "cpu.h"

#define PCI_CONFIG_ADDRESS	0xCF8
#define PCI_CONFIG_DATA		0xCFC
#define PCI_ENABLE		0x80000000u

static int check(uint32_t bdf, uint32_t offset, uint32_t size)
{
	if (bdf > 0xFFFF || offset >= 256 || (size != 1 && size != 2 && size != 4) ||
	    offset % size)
		return -1;
	outl(PCI_CONFIG_ADDRESS, PCI_ENABLE | (bdf << 8) | (offset & 0xFC));
	return 0;
}

int arch_pci_read(uint32_t bdf, uint32_t offset, uint32_t size, uint32_t *value)
{
	uint32_t v;

	if (check(bdf, offset, size))
		return -1;
	v = inl(PCI_CONFIG_DATA) >> ((offset & 3) * 8);
	*value = size == 4 ? v : v & ((1u << (size * 8)) - 1);
	return 0;
}

int arch_pci_write(uint32_t bdf, uint32_t offset, uint32_t size, uint32_t value)
{
	if (check(bdf, offset, size))
		return -1;
	/* Narrow writes must stay narrow: a read-modify-write of the dword
	 * would write back the status register's write-1-to-clear bits. */
	if (size == 4)
		outl(PCI_CONFIG_DATA, value);
	else if (size == 2)
		outw(PCI_CONFIG_DATA + (offset & 2), (uint16_t)value);
	else
		outb(PCI_CONFIG_DATA + (offset & 3), (uint8_t)value);
	return 0;
}

/*
 * 0xFEC00000-0xFEFFFFFF: the I/O APICs, the HPET, VT-d remapping units and
 * the local APIC / MSI window.  A write there reprograms interrupts or
 * DMA remapping for the whole machine.
 */
#define IRQ_HW_START	0xFEC00000UL
#define IRQ_HW_END	0xFF000000UL

bool arch_mmio_reserved(paddr_t pa, uint64_t len)
{
	return pa < IRQ_HW_END && pa + len > IRQ_HW_START;
}
