/* SPDX-License-Identifier: MIT */
/*
 * PCI functions and the drivers bound to them.
 *
 * At boot (pci_init) the kernel lists every PCI function once: bus 0 and
 * the buses behind bridges, each function's ids, class, interrupt line,
 * memory BARs (address and size, sized with decoding off) and where its
 * MSI and MSI-X capabilities are.  The table is the kernel's view of the
 * hardware; nothing in it changes afterwards.
 *
 * A driver is bound to functions by the device= items of its boot
 * configuration line (config.h): by class, never by address, so the same
 * line works on every machine.  Binding gives exactly two things:
 *   - pci_mmio_map (sys_mmio_map): one memory BAR of a bound function
 *     mapped into the driver, uncached.  The BAR's address is read again
 *     from config space and must still be the one found at boot; a BAR
 *     that names RAM or the interrupt controllers' range is refused; the
 *     pages holding the MSI-X table and pending bits stay unmapped (they
 *     say where interrupts go: the kernel's, MSI-X through arch code);
 *   - sys_irq_attach of the function's interrupt line, the one the
 *     firmware wrote to config 0x3C at boot.
 * What makes those checks hold is kept from every driver, bound or not:
 * sys_pci_write refuses the header from 0x10 on (BARs, bridge windows,
 * expansion ROM, interrupt line) and the MSI and MSI-X capabilities, so
 * what the firmware assigned stays assigned (pci_config_write_allowed).
 *
 * Each function has at most one driver, its owner: the first line of the
 * boot configuration that binds it.  Bus mastering, what lets a device
 * write memory on its own, is the kernel's to grant:
 *   1. at boot, every function that is no bridge and has no owner has bus
 *      mastering switched off;
 *   2. sys_pci_write may switch it on only for a function the caller's
 *      line owns (pci_bus_master_allowed());
 *   3. when the owner's process dies its functions' bus mastering goes off
 *      again (pci_owner_died()); its restarted successor switches it on.
 * With an IOMMU (kernel/iommu) the owner's functions are attached to the
 * owner's device domain and a function without one has no translation at
 * all; without one a driver that masters the bus can still write
 * anywhere by DMA: DMA rights remain trust (the `dma` right).
 *
 * Concurrency: the table is written once before the first process runs;
 * the lock for config space accesses is: one CPU, interrupts off.
 */
#ifndef PCI_H
#define PCI_H

#include <stdbool.h>
#include <stdint.h>

struct proc;

#define PCI_FUNCTIONS_MAX	64
#define PCI_BARS		6
#define PCI_MMIO_MAX		(16UL << 20)	/* largest BAR mapped whole */
#define PCI_BDF(bus, devfn)	((uint32_t)(bus) << 8 | (devfn))

struct program_config;

struct pci_bar {
	uint64_t base, size;	/* memory BARs; size 0: none (or an I/O BAR) */
	bool is64;		/* takes the next BAR's slot too */
};

struct pci_function {
	uint32_t bdf;		/* bus << 8 | device << 3 | function */
	uint16_t vendor, device;
	uint8_t class, subclass, progif;
	uint8_t header;		/* 0: device, 1: bridge */
	uint8_t irq_line;	/* config 0x3C at boot; 0xFF: none */
	struct pci_bar bar[PCI_BARS];
	uint8_t msi_cap, msix_cap;	/* capability offsets, 0: none */
	/* MSI-X table and pending bits: BAR index and byte range in it. */
	uint8_t msix_table_bar, msix_pba_bar;
	uint32_t msix_table_off, msix_table_len, msix_pba_off, msix_pba_len;
	const struct program_config *owner;	/* its driver's line; NULL: none */
};

void pci_init(void);
int pci_count(void);
const struct pci_function *pci_at(int index);
/* The function at bdf as found at boot, or NULL. */
const struct pci_function *pci_find(uint32_t bdf);
bool pci_bound(const struct proc *p, const struct pci_function *f);
/* Is irq the interrupt line of a function p is bound to? */
bool pci_irq_bound(const struct proc *p, unsigned irq);

/*
 * Maps memory BAR `bar` of the function at bdf into p (uncached, read and
 * write, pinned), holding back the MSI-X pages.  => 0 with *va and *len
 * set; ERR_PERM (p not bound to it), ERR_NOENT (no such function), ERR_INVAL
 * (not a memory BAR, smaller than a page or not page aligned, larger than
 * PCI_MMIO_MAX, moved since boot, or over RAM or the interrupt
 * controllers), ERR_NOMEM.  Every refusal is logged with its reason.
 */
long pci_mmio_map(struct proc *p, uint32_t bdf, unsigned bar, uint64_t *va, uint64_t *len);

/* kernel/msi.c: the MSI-X table's physical address, the table's BAR
 * checked as pci_mmio_map checks one (still where it was at boot, device
 * memory).  => NULL, or why not. */
const char *pci_msix_table_at(const struct pci_function *f, uint64_t *pa);
/* Memory decoding on (the MSI-X table answers), INTx off. */
void pci_msi_enable(const struct pci_function *f);
/* No message in use any more: INTx on again (for a successor using it). */
void pci_msi_disable(const struct pci_function *f);

/* May a driver write [offset, offset + size) of bdf's config space? => NULL, or why not. */
const char *pci_config_write_refused(uint32_t bdf, uint32_t offset, uint32_t size);
/* Does the write leave bus mastering off, or is p's line bdf's owner?
 * => false (logged) when it would switch on another's bus mastering. */
bool pci_bus_master_allowed(const struct proc *p, uint32_t bdf, uint32_t offset, uint32_t size,
			    uint32_t value);
/* The process of line c died: its functions stop mastering the bus. */
void pci_owner_died(const struct program_config *c);
/* "00:03.0" into buf (at least 8 bytes). */
const char *pci_bdf_str(uint32_t bdf, char *buf);

#endif
