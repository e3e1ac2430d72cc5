// SPDX-License-Identifier: MIT
/*
 * The pure half of kernel/msi (model in msi.h): whether a function's
 * MSI-X or MSI capability, as read at boot, may be programmed, and the
 * pool of IRQ numbers for messages.  Built into the host test too.
 */
#include "msi.h"

#include <stddef.h>

#include "pci.h"

#define PAGE_BYTES	4096u

/* The table, and the pending bits, inside a memory BAR of f. */
static const char *msix_refused(const struct pci_function *f, unsigned entry)
{
	const struct pci_bar *tb, *pb;
	uint64_t table_end, pba_end;

	if (!f->msix_cap)
		return "no MSI-X capability";
	if (f->msix_table_bar >= PCI_BARS || f->msix_pba_bar >= PCI_BARS)
		return "MSI-X table or pending bits in a BAR that does not exist";
	tb = &f->bar[f->msix_table_bar];
	pb = &f->bar[f->msix_pba_bar];
	if (!tb->size || !pb->size)
		return "MSI-X table or pending bits in a BAR that is not memory";
	if (!f->msix_table_len || f->msix_table_len % MSIX_ENTRY_SIZE)
		return "MSI-X table of no entries";
	table_end = (uint64_t)f->msix_table_off + f->msix_table_len;
	pba_end = (uint64_t)f->msix_pba_off + f->msix_pba_len;
	if (table_end > tb->size || pba_end > pb->size)
		return "MSI-X table or pending bits past the end of their BAR";
	/* The kernel maps the table's pages for itself: they must be whole
	 * pages of device memory, not a piece of a smaller BAR. */
	if (tb->size < PAGE_BYTES || (tb->base & (PAGE_BYTES - 1)))
		return "MSI-X table in a BAR smaller than a page or not page aligned";
	if (entry >= f->msix_table_len / MSIX_ENTRY_SIZE)
		return "no such MSI-X table entry";
	return NULL;
}

const char *msi_refused(const struct pci_function *f, bool msix, unsigned entry)
{
	if (msix)
		return msix_refused(f, entry);
	if (!f->msi_cap)
		return "no MSI capability";
	if (f->msi_cap < 0x40 || f->msi_cap > 0xF0)
		return "MSI capability outside the capability area";
	if (entry != 0)
		return "plain MSI has one message, entry 0";
	return NULL;
}

int msi_pool_take(struct msi_pool *pool)
{
	uint64_t free = ~pool->used;
	int bit;

	_Static_assert(MSI_IRQS == 64, "the pool is one 64-bit word");
	if (!free)
		return -1;
	bit = __builtin_ctzll(free);
	pool->used |= 1ULL << bit;
	return IRQ_LINES_ISA + bit;
}

void msi_pool_give(struct msi_pool *pool, int irq)
{
	if (irq >= IRQ_LINES_ISA && irq < IRQ_MAX)
		pool->used &= ~(1ULL << (irq - IRQ_LINES_ISA));
}
