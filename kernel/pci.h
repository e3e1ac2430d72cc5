/* SPDX-License-Identifier: MIT */
/*
 * PCI functions and the drivers they are given to.
 *
 * The model
 * ---------
 * The kernel lists the machine's PCI functions once at boot (bus 0 and
 * every bus behind a bridge, through arch_pci_read) and gives each one to
 * at most one driver: the first line of the boot configuration whose
 * `device=` items match it (by vendor:device or class, config.h).  The
 * list never changes after boot, so it needs no lock.
 *
 * Bus mastering is what lets a device write memory on its own, so it is
 * the kernel's to grant:
 *   1. at boot, every function that is no bridge and was given to nobody
 *      has bus mastering switched off;
 *   2. a driver's sys_pci_write may switch it on only for a function it
 *      was given (pci_write_allowed()), whatever else its `pci` right lets
 *      it write;
 *   3. when the driver's process dies, its functions' bus mastering goes
 *      off again, so nothing it programmed keeps running for long; its
 *      restarted successor switches it back on.
 * With an IOMMU (kernel/iommu) a given function's DMA is translated by its
 * driver's domain, and a function given to nobody has no translation at
 * all: the two walls are independent.
 */
#ifndef PCI_H
#define PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_FUNCS_MAX		64
#define PCI_BDF(bus, devfn)	((uint32_t)(bus) << 8 | (devfn))

struct program_config;
struct proc;

struct pci_func {
	uint8_t bus, devfn;
	uint16_t vendor, device;
	uint8_t class_code, subclass, progif;
	bool bridge;
	const struct program_config *owner;	/* the driver given it; NULL: nobody */
};

/* Lists the functions, gives them to their drivers, switches bus mastering off on the rest. */
void pci_init(void);
int pci_count(void);
const struct pci_func *pci_func_at(int i);
const struct pci_func *pci_find(uint32_t bdf);
/* => 0, or ERR_PERM (logged) if the write would let p's driver switch on
 * bus mastering of a function it was not given. */
long pci_write_allowed(const struct proc *p, uint32_t bdf, uint32_t offset, uint32_t size,
		       uint32_t value);
/* The driver of this configuration died: its functions stop mastering the bus. */
void pci_owner_died(const struct program_config *c);
/* "00:03.0" into buf (at least 8 bytes). */
const char *pci_bdf_str(uint32_t bdf, char *buf);

#endif
