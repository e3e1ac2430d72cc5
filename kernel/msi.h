/* SPDX-License-Identifier: MIT */
/*
 * Message-signalled interrupts: MSI-X (and plain MSI) as Ferry IRQs.
 *
 * The model
 * ---------
 * A message-signalled interrupt is a memory write the device makes to an
 * address that names a CPU (x86: its local APIC id) with data that names
 * a vector.  Whoever writes the address and data decides where interrupts
 * go, so only the kernel does: the MSI-X table pages are held back from
 * every driver mapping (pci.c) and the capabilities refused to
 * sys_pci_write.  A driver asks, as a right of its boot configuration
 * (device=, the function must be bound to it):
 *
 *   sys_msi_attach(bdf, entry, cpu, port) => a Ferry IRQ number
 *
 * and the kernel
 *   1. checks the function's capability as found at boot (msi_refused():
 *      an MSI-X table that lies outside its BAR, a BAR that is not memory,
 *      an entry past the table; plain MSI has one entry, 0) and the CPU
 *      (online);
 *   2. takes an IRQ number past the ISA lines (IRQ_LINES..IRQ_MAX-1), each
 *      with its own vector (arch: VEC_MSI_FIRST + irq - IRQ_LINES);
 *      when all are taken: ERR_FULL, never a panic;
 *   3. writes the entry's address (that CPU) and data (that vector),
 *      unmasks it and enables MSI-X (which turns INTx off).
 * From there the IRQ is delivered as every IRQ is (irq.h): MSG_OP_IRQ on
 * the port, sys_irq_ack when handled.  A message is an edge, not a level:
 * nothing is masked at the device; one that comes while the previous one
 * is not yet acknowledged is remembered (pending) and sent at the ack,
 * so the driver still sees one message at a time and loses none.
 *
 * The kernel's own devices (the IOMMU's fault event) take an IRQ number
 * with msi_alloc_kernel() and get a kernel function called instead of a
 * message; they program their device's registers themselves.
 *
 * When the driver dies (irq_release_all) its entries are masked, MSI-X is
 * disabled once no entry of the function is in use, and the IRQ numbers
 * are free again; its successor attaches anew.
 *
 * Concurrency: under the kernel lock, as irq.c.
 */
#ifndef MSI_H
#define MSI_H

#include <stdbool.h>
#include <stdint.h>

struct proc;
struct pci_function;

#define MSI_IRQS	64		/* IRQ numbers for messages */
#define IRQ_MAX		(IRQ_LINES_ISA + MSI_IRQS)
#define IRQ_LINES_ISA	16		/* irq.h's IRQ_LINES */
#define MSIX_ENTRY_SIZE	16

/* --- pure: the checks and the allocator (host-tested, kernel/msi_check.c) --- */

/* Why entry `entry` of f may not be used, or NULL.  Uses the capability
 * and BARs recorded at boot; msix says which capability is meant. */
const char *msi_refused(const struct pci_function *f, bool msix, unsigned entry);
/* The IRQ numbers in use, one bit each (bit i: IRQ IRQ_LINES_ISA + i). */
struct msi_pool {
	uint64_t used;
};
/* => a free IRQ number (>= IRQ_LINES_ISA), or -1 when all are taken. */
int msi_pool_take(struct msi_pool *pool);
void msi_pool_give(struct msi_pool *pool, int irq);

/* --- the kernel side (kernel/msi.c) --- */

/* => the IRQ number, ERR_PERM (not bound / not MSI-capable device of p),
 * ERR_NOENT (no such function), ERR_NOSYS (no MSI or MSI-X capability),
 * ERR_INVAL (entry, table, CPU), ERR_FULL (no IRQ number left), ERR_BUSY
 * (the entry is another's).  Every refusal but ERR_NOENT is logged with
 * its reason. */
long msi_attach(struct proc *p, uint32_t bdf, long entry, long cpu, uint64_t port);
/* A kernel-handled message interrupt: => its IRQ number, or -1 (none
 * left, or no local APIC); *addr and *data are what the device writes. */
int msi_alloc_kernel(const char *name, void (*fn)(void), unsigned cpu, uint64_t *addr,
		     uint32_t *data);
/* irq.c: p's routes are going: mask its entries, free their numbers. */
void msi_release(int irq);

/* kdb: what message IRQ irq is (device and entry, or the kernel's name)
 * and the CPU it targets.  => false when irq is not a message IRQ in use. */
bool msi_describe(int irq, char *buf, unsigned size, unsigned *cpu);

#endif
